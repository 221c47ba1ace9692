#include "common/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strnum.h"
#include "common/banned.h"

/* Headers of one response are bounded too: a server cannot grow them without limit. */
#define MAX_HEADERS      256
#define MAX_HEADER_VALUE 8192
/* An answer that sends less than a byte a second for this long is cut (when the timeout is
 * longer): a slow-loris server gets STALL_S per attempt, not the whole timeout. */
#define STALL_S 10

struct unreachable {
	char *origin; /* scheme://host:port */
	char *msg;
};

struct http_client {
	struct http_opts opts;
	CURLSH *share;
	/* One lock per kind of shared data, as libcurl asks; the client may serve several threads.
	 */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock; /* stats and the jitter state */
	struct http_stats stats;
	uint64_t rng;
	/* servers that could not be reached: later requests fail at once */
	struct unreachable *unreachable;
	size_t nr_unreachable, alloc_unreachable;
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
	struct http_client *c = userp;
	(void)h;
	(void)access;
	pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
	struct http_client *c = userp;
	(void)h;
	pthread_mutex_unlock(&c->share_locks[data]);
}

int http_client_new(struct http_client **out, const struct http_opts *opts, struct db_err *err)
{
	struct http_client *c = xcalloc(1, sizeof(*c));
	struct timespec ts;
	int i;

	if (opts)
		c->opts = *opts;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = 10000;
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = 30000;
	if (c->opts.retries < 0)
		c->opts.retries = 0;
	else if (!opts || !opts->retries)
		c->opts.retries = 5;
	if (c->opts.retry_base_ms <= 0)
		c->opts.retry_base_ms = 500;
	if (c->opts.retry_cap_ms <= 0)
		c->opts.retry_cap_ms = 60000;
	if (c->opts.retry_budget_ms <= 0)
		c->opts.retry_budget_ms = 300000;
	if (!c->opts.max_body)
		c->opts.max_body = 16u << 20;
	if (c->opts.max_redirects <= 0)
		c->opts.max_redirects = 5;
	if (!c->opts.user_agent)
		c->opts.user_agent = "dockerbump/" DOCKERBUMP_VERSION;

	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	pthread_mutex_init(&c->lock, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	c->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	if (!c->rng)
		c->rng = 0x9e3779b97f4a7c15ULL;

	c->share = curl_share_init();
	if (!c->share) {
		http_client_free(c);
		return db_err_set(err, DB_ERROR, "cannot create the HTTP connection pool");
	}
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	size_t j;
	int i;

	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	for (j = 0; j < c->nr_unreachable; j++) {
		free(c->unreachable[j].origin);
		free(c->unreachable[j].msg);
	}
	free(c->unreachable);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void http_client_stats(const struct http_client *c, struct http_stats *out)
{
	pthread_mutex_lock((pthread_mutex_t *)&c->lock);
	*out = c->stats;
	pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
}

char *http_redact_url(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = NULL, *p, *path_end;
	struct buf b = BUF_INIT;

	for (p = host; p < end; p++)
		if (*p == '@')
			at = p;
	buf_add(&b, url, (size_t)(host - url));
	buf_adds(&b, at ? at + 1 : host);
	/* keep the path, drop the query and fragment: they may carry tokens */
	path_end = strpbrk(b.ptr + (size_t)(host - url), "?#");
	if (path_end)
		buf_setlen(&b, (size_t)(path_end - b.ptr));
	return buf_detach(&b, NULL);
}

char *http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf_addch(&b, ch);
		} else {
			buf_addch(&b, '%');
			buf_addch(&b, hex[ch >> 4]);
			buf_addch(&b, hex[ch & 15]);
		}
	}
	return buf_detach(&b, NULL);
}

char *http_url(const char *base, const char *path, const char *const *params)
{
	CURLU *u = curl_url();
	char *old_path = NULL, *joined = NULL, *out = NULL;
	int ok;

	if (!u)
		return NULL;
	ok = (!strncasecmp(base, "http://", 7) || !strncasecmp(base, "https://", 8)) &&
	     curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_PATH, &old_path, 0) == CURLUE_OK;
	if (ok && path && *path) {
		size_t len = strlen(old_path);
		char *p;
		while (len && old_path[len - 1] == '/')
			len--;
		while (*path == '/')
			path++;
		/* the base's path is already encoded: only the new part is encoded here */
		p = xasprintf("/%s", path);
		ok = curl_url_set(u, CURLUPART_PATH, p, CURLU_URLENCODE) == CURLUE_OK &&
		     curl_url_get(u, CURLUPART_PATH, &joined, 0) == CURLUE_OK;
		free(p);
		if (ok) {
			p = xasprintf("%.*s%s", (int)len, old_path, joined);
			ok = curl_url_set(u, CURLUPART_PATH, p, 0) == CURLUE_OK;
			free(p);
		}
		curl_free(joined);
		joined = NULL;
	}
	for (; ok && params && params[0] && params[1]; params += 2) {
		char *pair = xasprintf("%s=%s", params[0], params[1]);
		ok = curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) ==
		     CURLUE_OK;
		free(pair);
	}
	if (ok && curl_url_get(u, CURLUPART_URL, &joined, 0) == CURLUE_OK)
		out = xstrdup(joined);
	curl_free(joined);
	curl_free(old_path);
	curl_url_cleanup(u);
	return out;
}

char *http_resolve_url(const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *joined = NULL, *out = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &joined, 0) == CURLUE_OK)
		out = xstrdup(joined);
	curl_free(joined);
	curl_url_cleanup(u);
	return out;
}

/* scheme://host:port, lower-cased, with the default port made explicit. */
static char *url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		char *p;
		out = xasprintf("%s://%s:%s", scheme, host, port);
		for (p = out; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

int http_same_origin(const char *a, const char *b)
{
	char *oa = url_origin(a), *ob = url_origin(b);
	int same = oa && ob && !strcmp(oa, ob);

	free(oa);
	free(ob);
	return same;
}

/* --- one attempt --- */

struct sink {
	struct http_response *res;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *a = userp;
	size_t n = size * nmemb;

	if (buf_add_capped(&a->res->body, data, n) < 0) {
		a->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static void headers_clear(struct http_response *res)
{
	size_t i;

	for (i = 0; i < res->nr_headers; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	res->nr_headers = 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *a = userp;
	struct http_response *res = a->res;
	size_t n = size * nmemb, len = n, i, vlen;
	const char *colon, *v;
	struct http_header *h;

	/* A status line starts a new response (a redirect, 100-continue or an auth round): only
	 * the headers of the final response are kept. */
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		headers_clear(res);
		return n;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	colon = memchr(data, ':', len);
	if (!colon || colon == data || res->nr_headers >= MAX_HEADERS)
		return n;
	v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(data + len - v);
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (vlen > MAX_HEADER_VALUE)
		return n;
	ALLOC_GROW(res->headers, res->nr_headers + 1, res->alloc_headers);
	h = &res->headers[res->nr_headers++];
	h->name = xstrndup(data, (size_t)(colon - data));
	for (i = 0; h->name[i]; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	h->value = xstrndup(v, vlen);
	return n;
}

const char *http_response_header(const struct http_response *res, const char *name)
{
	size_t i = res->nr_headers;

	while (i--)
		if (!strcasecmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

void http_response_release(struct http_response *res)
{
	headers_clear(res);
	free(res->headers);
	buf_release(&res->body);
	free(res->effective_url);
	memset(res, 0, sizeof(*res));
	buf_init(&res->body, 0);
}

static void response_reset(struct http_response *res)
{
	headers_clear(res);
	buf_reset(&res->body);
	free(res->effective_url);
	res->effective_url = NULL;
	res->status = 0;
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_BAD_CONTENT_ENCODING:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501);
}

/* The wait a server asked for, in ms, or -1: `Retry-After` (delta seconds or an HTTP date),
 * else `X-Retry-After` (epoch seconds, Docker Hub's rate limiter). */
static long server_wait_ms(const struct http_response *res)
{
	const char *v = http_response_header(res, "retry-after");
	time_t now = time(NULL), when;
	long secs;

	if (v) {
		if (!parse_long(&secs, v, 0, 86400L * 365))
			return secs * 1000;
		when = curl_getdate(v, NULL);
		if (when != -1)
			return when > now ? (long)(when - now) * 1000 : 0;
	}
	v = http_response_header(res, "x-retry-after");
	if (v && !parse_long(&secs, v, 0, 4102444800L))
		return (time_t)secs > now ? (long)((time_t)secs - now) * 1000 : 0;
	return -1;
}

static uint64_t next_random(struct http_client *c)
{
	uint64_t x;

	pthread_mutex_lock(&c->lock);
	x = c->rng; /* xorshift64: jitter needs spread, not secrecy */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	pthread_mutex_unlock(&c->lock);
	return x;
}

/* Full jitter (a uniform wait between 0 and the exponential bound) spreads the retries of
 * many clients; a server's own hint wins over it. Every wait is capped. */
static long backoff_ms(struct http_client *c, int attempt, long server_ms)
{
	long bound = c->opts.retry_base_ms;
	int i;

	if (server_ms >= 0)
		return server_ms < c->opts.retry_cap_ms ? server_ms : c->opts.retry_cap_ms;
	for (i = 0; i < attempt && bound < c->opts.retry_cap_ms; i++)
		bound *= 2;
	if (bound > c->opts.retry_cap_ms)
		bound = c->opts.retry_cap_ms;
	return (long)(next_random(c) % (uint64_t)(bound + 1));
}

static void log_rate_limits(const struct http_response *res, const char *shown)
{
	size_t i;

	if (!log_enabled(LOG_DEBUG))
		return;
	for (i = 0; i < res->nr_headers; i++) {
		const char *n = res->headers[i].name;
		if (!strncmp(n, "x-ratelimit-", 12) || !strncmp(n, "ratelimit", 9) ||
		    !strcmp(n, "retry-after") || !strcmp(n, "x-retry-after"))
			log_debug("'%s': %s: %s", shown, n, res->headers[i].value);
	}
}

static const char *method_name(const struct http_request *req)
{
	if (req->no_body)
		return "HEAD";
	if (req->method)
		return req->method;
	return req->body ? "POST" : "GET";
}

static int is_auth_header(const char *h)
{
	return !strncasecmp(h, "authorization:", 14);
}

/* The request's headers, without Authorization once credentials are withheld. */
static struct curl_slist *build_headers(const struct http_request *req, int with_credentials)
{
	struct curl_slist *list = NULL, *next;
	const char *const *h;

	for (h = req->headers; h && *h; h++) {
		if (!with_credentials && is_auth_header(*h))
			continue;
		next = curl_slist_append(list, *h);
		if (!next)
			abort(); /* allocation failure: the same policy as xmalloc */
		list = next;
	}
	return list;
}

static int carries_credentials(const struct http_request *req)
{
	const char *const *h;

	if (req->userpwd || (req->secret_body && req->body))
		return 1;
	for (h = req->headers; h && *h; h++)
		if (is_auth_header(*h))
			return 1;
	return 0;
}

int http_url_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int yes = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		struct in_addr a4;
		if (!strcasecmp(host, "localhost") || !strcmp(host, "[::1]"))
			yes = 1;
		else if (inet_pton(AF_INET, host, &a4) == 1)
			yes = (ntohl(a4.s_addr) >> 24) == 127;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

int http_credentials_allowed(const char *url)
{
	if (!strncasecmp(url, "https://", 8))
		return 1;
	return !strncasecmp(url, "http://", 7) && http_url_loopback(url);
}

/* --- the time budget --- */

static int64_t now_ms(void)
{
	return (int64_t)clock_now_ms();
}

int64_t http_deadline_in(long ms)
{
	return now_ms() + ms;
}

/* --- unreachable servers --- */

static int unreachable_curl(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* The message a server that could not be reached left, or NULL; the caller frees it. */
static char *unreachable_lookup(struct http_client *c, const char *origin)
{
	char *msg = NULL;
	size_t i;

	if (!origin)
		return NULL;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_unreachable && !msg; i++)
		if (!strcmp(c->unreachable[i].origin, origin))
			msg = xstrdup(c->unreachable[i].msg);
	pthread_mutex_unlock(&c->lock);
	return msg;
}

static void unreachable_remember(struct http_client *c, const char *origin, const char *msg)
{
	if (!origin)
		return;
	pthread_mutex_lock(&c->lock);
	ALLOC_GROW(c->unreachable, c->nr_unreachable + 1, c->alloc_unreachable);
	c->unreachable[c->nr_unreachable].origin = xstrdup(origin);
	c->unreachable[c->nr_unreachable].msg = xstrdup(msg);
	c->nr_unreachable++;
	pthread_mutex_unlock(&c->lock);
}

/* --- one transfer, one attempt --- */

struct transfer {
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE];
	int too_big;
};

static const char *transfer_error(const struct transfer *t)
{
	return t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->rc);
}

struct hop {
	const char *url;
	const char *method; /* "GET", "HEAD", "POST" or another verb */
	const char *body;
	size_t body_len;
	int credentials; /* send userpwd and Authorization */
	long timeout_ms;
};

/* One HTTP exchange, no redirect followed; `*location` gets a redirect's target or NULL. */
static void perform(struct http_client *c, const struct http_request *req, const struct hop *hop,
                    struct http_response *res, struct transfer *t, char **location)
{
	struct sink a = {res, 0};
	struct curl_slist *headers = build_headers(req, hop->credentials);
	CURL *h = curl_easy_init();
	curl_off_t total_us = 0;
	char *eff = NULL, *loc = NULL;

	*location = NULL;
	response_reset(res);
	t->errbuf[0] = '\0';
	if (!h)
		abort(); /* libcurl's own allocation failed: the same policy as xmalloc */
	curl_easy_setopt(h, CURLOPT_URL, hop->url);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Redirects are followed by http_request(), which decides what may go along. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 hop->timeout_ms < c->opts.connect_timeout_ms ? hop->timeout_ms
	                                                              : c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, hop->timeout_ms);
	if (hop->timeout_ms > STALL_S * 1000L) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_S);
	}
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->opts.user_agent);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->opts.max_body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (req->userpwd && hop->credentials) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
	}
	if (!strcmp(hop->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (hop->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)hop->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, hop->body);
	}
	if (strcmp(hop->method, "GET") && strcmp(hop->method, "HEAD") &&
	    strcmp(hop->method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, hop->method);

	t->rc = curl_easy_perform(h);
	t->too_big = a.too_big;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		res->effective_url = xstrdup(eff);
	if (t->rc == CURLE_OK && res->status >= 300 && res->status < 400 &&
	    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		*location = xstrdup(loc);

	pthread_mutex_lock(&c->lock);
	c->stats.requests++;
	c->stats.seconds += (double)total_us / 1e6;
	pthread_mutex_unlock(&c->lock);
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/*
 * One attempt: the request and the redirects it leads to, within `timeout_ms` in all.
 * Credentials (userpwd, an Authorization header, a secret body) go only over https or to
 * loopback, and never to another origin than the request's: a redirect elsewhere is followed
 * without them, or refused when the body itself is the secret. Returns 0 (the outcome is in
 * `t` and `res`) or a final error.
 */
static int attempt_once(struct http_client *c, const struct http_request *req, long timeout_ms,
                        struct http_response *res, struct transfer *t, const char *shown,
                        struct db_err *err)
{
	struct hop hop = {req->url,      method_name(req),         req->no_body ? NULL : req->body,
	                  req->body_len, carries_credentials(req), timeout_ms};
	int64_t end = now_ms() + timeout_ms;
	char *url = NULL, *location = NULL;
	int redirects = 0, ret = 0;

	for (;;) {
		if (hop.credentials && !http_credentials_allowed(hop.url)) {
			/* the first hop, or a same-origin redirect (which keeps the scheme) */
			ret =
			    db_err_set(err, DB_EAUTH,
			               "'%s': credentials are sent only over https, or over plain "
			               "http to this machine (loopback)",
			               shown);
			break;
		}
		perform(c, req, &hop, res, t, &location);
		if (!location || !is_redirect(res->status))
			break;
		if (++redirects > c->opts.max_redirects) {
			ret = db_err_set(err, DB_ENET, "'%s': more than %d redirects", shown,
			                 c->opts.max_redirects);
			break;
		}
		if (strncasecmp(location, "http://", 7) && strncasecmp(location, "https://", 8)) {
			char *where = http_redact_url(location);
			ret = db_err_set(err, DB_ENET,
			                 "'%s': redirected to '%s', which is not http(s)", shown,
			                 where);
			free(where);
			break;
		}
		if (hop.credentials && !http_same_origin(location, req->url)) {
			char *where = http_redact_url(location);
			if (req->secret_body && hop.body) {
				ret = db_err_set(err, DB_ENET,
				                 "'%s': redirected to '%s' on another server; the "
				                 "credentials are not sent there",
				                 shown, where);
				free(where);
				break;
			}
			log_debug("'%s': redirected to '%s' on another server, without the "
			          "credentials",
			          shown, where);
			free(where);
			hop.credentials = 0;
		}
		/* 303, and 301/302 after a POST, turn into a GET without the body (as browsers
		 * and libcurl do); 307 and 308 repeat the request as it was. */
		if ((res->status == 303 && strcmp(hop.method, "HEAD")) ||
		    ((res->status == 301 || res->status == 302) && !strcmp(hop.method, "POST"))) {
			hop.method = "GET";
			hop.body = NULL;
			hop.body_len = 0;
		}
		free(url);
		url = location;
		location = NULL;
		hop.url = url;
		hop.timeout_ms = (long)(end - now_ms());
		if (hop.timeout_ms <= 0) {
			t->rc = CURLE_OPERATION_TIMEDOUT;
			snprintf(t->errbuf, sizeof(t->errbuf), "no answer within %ld ms",
			         timeout_ms);
			break;
		}
	}
	free(location);
	free(url);
	return ret;
}

int http_request(struct http_client *c, struct http_response *out, const struct http_request *req,
                 struct db_err *err)
{
	char *shown = http_redact_url(req->url), *origin = url_origin(req->url), *gone;
	struct transfer t = {CURLE_OK, "", 0};
	int64_t start = now_ms(), deadline = start + c->opts.retry_budget_ms;
	int attempt_nr, max_attempts = req->no_retry ? 1 : 1 + c->opts.retries, ret = 0;
	int out_of_time = 0;

	if (req->deadline_ms && req->deadline_ms < deadline)
		deadline = req->deadline_ms;
	buf_set_cap(&out->body, c->opts.max_body);
	gone = unreachable_lookup(c, origin);
	if (gone) {
		ret = db_err_set(err, DB_ENET, "'%s': %s (unreachable earlier in this run)", shown,
		                 gone);
		free(gone);
		goto out;
	}
	for (attempt_nr = 0;; attempt_nr++) {
		long left = (long)(deadline - now_ms()), server_ms, wait;

		if (left <= 0) {
			out_of_time = 1;
			break;
		}
		ret = attempt_once(c, req, left < c->opts.timeout_ms ? left : c->opts.timeout_ms,
		                   out, &t, shown, err);
		out->attempts = attempt_nr + 1;
		if (ret < 0)
			goto out;
		if (t.too_big || t.rc == CURLE_FILESIZE_EXCEEDED) {
			ret = db_err_set(err, DB_ETOOBIG, "'%s': response larger than %zu bytes",
			                 shown, c->opts.max_body);
			goto out;
		}
		if (t.rc == CURLE_OK) {
			log_debug("%s '%s': HTTP %ld, %zu bytes", method_name(req), shown,
			          out->status, out->body.len);
			log_rate_limits(out, shown);
			if (!retryable_status(out->status))
				goto out;
		} else if (!retryable_curl(t.rc)) {
			ret = db_err_set(err, DB_ENET, "'%s': %s", shown, transfer_error(&t));
			goto out;
		} else {
			log_debug("'%s': %s", shown, transfer_error(&t));
		}

		/* a server that refuses connections or a name that does not resolve gets one
		 * more try, not the whole retry budget: it is a setting to fix, not a glitch */
		if (attempt_nr + 1 >= max_attempts || (unreachable_curl(t.rc) && attempt_nr >= 1))
			break;
		server_ms = t.rc == CURLE_OK ? server_wait_ms(out) : -1;
		wait = backoff_ms(c, attempt_nr, server_ms);
		if (now_ms() + wait >= deadline) {
			out_of_time = 1;
			break;
		}
		if (t.rc == CURLE_OK)
			log_info("'%s': HTTP %ld, retrying in %.1f s", shown, out->status,
			         (double)wait / 1000);
		else
			log_info("'%s': %s, retrying in %.1f s", shown, transfer_error(&t),
			         (double)wait / 1000);
		clock_sleep_ms(wait);
	}

	if (out_of_time && !out->attempts)
		ret = db_err_set(err, DB_ENET, "'%s': the time budget was spent before a request",
		                 shown);
	else if (out_of_time) {
		char status[32];
		snprintf(status, sizeof(status), "HTTP %ld", out->status);
		ret = db_err_set(err, DB_ENET,
		                 "'%s': %s (after %d attempts in %.1f s: the time budget is spent)",
		                 shown, t.rc == CURLE_OK ? status : transfer_error(&t),
		                 out->attempts, (double)(now_ms() - start) / 1000);
	} else if (t.rc == CURLE_OK)
		ret = db_err_set(err, DB_ENET, "'%s': HTTP %ld after %d attempts", shown,
		                 out->status, out->attempts);
	else if (unreachable_curl(t.rc)) {
		char *msg = xasprintf("%s (after %d attempts)%s%s", transfer_error(&t),
		                      out->attempts, c->opts.unreachable_hint ? "; " : "",
		                      c->opts.unreachable_hint ? c->opts.unreachable_hint : "");
		ret = db_err_set(err, DB_ENET, "'%s': %s", shown, msg);
		unreachable_remember(c, origin, msg);
		free(msg);
	} else
		ret = db_err_set(err, DB_ENET, "'%s': %s (after %d attempts)", shown,
		                 transfer_error(&t), out->attempts);
out:
	buf_set_cap(&out->body, 0);
	free(origin);
	free(shown);
	return ret;
}

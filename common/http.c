#include "common/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strnum.h"
#include "common/banned.h"

/* Headers of one response are bounded too: a server cannot grow them without limit. */
#define MAX_HEADERS      256
#define MAX_HEADER_VALUE 8192

struct http_client {
	struct http_opts opts;
	CURLSH *share;
	/* One lock per kind of shared data, as libcurl asks; the client may serve several threads.
	 */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock; /* stats and the jitter state */
	struct http_stats stats;
	uint64_t rng;
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
	int i;

	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
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

struct attempt {
	struct http_response *res;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct attempt *a = userp;
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
	struct attempt *a = userp;
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

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

static struct curl_slist *build_headers(const struct http_request *req)
{
	struct curl_slist *list = NULL, *next;
	const char *const *h;

	for (h = req->headers; h && *h; h++) {
		next = curl_slist_append(list, *h);
		if (!next)
			abort(); /* allocation failure: the same policy as xmalloc */
		list = next;
	}
	return list;
}

static CURLcode perform(struct http_client *c, CURL *h, const struct http_request *req,
                        struct curl_slist *headers, struct attempt *a, char *errbuf)
{
	CURLcode rc;
	curl_off_t total_us = 0;
	char *eff = NULL;

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)c->opts.max_redirects);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->opts.user_agent);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->opts.max_body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	/* libcurl keeps both the basic-auth credentials and a custom Authorization header to the
	 * original host on redirects (CURLOPT_UNRESTRICTED_AUTH stays off). */
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (req->userpwd) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
	}
	if (req->no_body || (req->method && !strcmp(req->method, "HEAD"))) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
	}
	if (req->method && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
	    strcmp(req->method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->res->status);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		a->res->effective_url = xstrdup(eff);

	pthread_mutex_lock(&c->lock);
	c->stats.requests++;
	c->stats.seconds += (double)total_us / 1e6;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int http_request(struct http_client *c, struct http_response *out, const struct http_request *req,
                 struct db_err *err)
{
	char *shown = http_redact_url(req->url);
	struct curl_slist *headers = build_headers(req);
	char errbuf[CURL_ERROR_SIZE];
	long waited = 0;
	int attempt, max_attempts = req->no_retry ? 1 : 1 + c->opts.retries, ret = 0;
	CURLcode rc = CURLE_OK;

	buf_set_cap(&out->body, c->opts.max_body);
	for (attempt = 0;; attempt++) {
		struct attempt a = {out, 0};
		CURL *h = curl_easy_init();
		long server_ms, wait;

		if (!h) {
			ret =
			    db_err_set(err, DB_ERROR, "'%s': cannot create an HTTP handle", shown);
			goto out;
		}
		response_reset(out);
		errbuf[0] = '\0';
		rc = perform(c, h, req, headers, &a, errbuf);
		curl_easy_cleanup(h);
		out->attempts = attempt + 1;

		if (a.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			ret = db_err_set(err, DB_ETOOBIG, "'%s': response larger than %zu bytes",
			                 shown, c->opts.max_body);
			goto out;
		}
		if (rc == CURLE_OK) {
			log_debug("%s '%s': HTTP %ld, %zu bytes", method_name(req), shown,
			          out->status, out->body.len);
			log_rate_limits(out, shown);
			if (!retryable_status(out->status))
				goto out;
		} else if (!retryable_curl(rc)) {
			ret = db_err_set(err, DB_ENET, "'%s': %s", shown,
			                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
			goto out;
		} else {
			log_debug("'%s': %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		}

		if (attempt + 1 >= max_attempts)
			break;
		server_ms = rc == CURLE_OK ? server_wait_ms(out) : -1;
		wait = backoff_ms(c, attempt, server_ms);
		if (waited + wait > c->opts.retry_budget_ms) {
			log_debug("'%s': the retry budget of %ld ms is spent", shown,
			          c->opts.retry_budget_ms);
			break;
		}
		if (rc == CURLE_OK)
			log_info("'%s': HTTP %ld, retrying in %.1f s", shown, out->status,
			         (double)wait / 1000);
		else
			log_info("'%s': %s, retrying in %.1f s", shown,
			         errbuf[0] ? errbuf : curl_easy_strerror(rc), (double)wait / 1000);
		sleep_ms(wait);
		waited += wait;
	}

	if (rc == CURLE_OK)
		ret = db_err_set(err, DB_ENET, "'%s': HTTP %ld after %d attempts", shown,
		                 out->status, out->attempts);
	else
		ret = db_err_set(err, DB_ENET, "'%s': %s (after %d attempts)", shown,
		                 errbuf[0] ? errbuf : curl_easy_strerror(rc), out->attempts);
out:
	buf_set_cap(&out->body, 0);
	curl_slist_free_all(headers);
	free(shown);
	return ret;
}

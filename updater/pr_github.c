#include "updater/pr_github.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/strnum.h"
#include "common/banned.h"

#define AUTH_PREFIX "Authorization: Bearer "
/* GitHub's own messages go into ours; a hostile server gets this many bytes of say. */
#define SERVER_MSG_MAX 300

struct pr_github {
	struct http_client *http;
	char *api_url;   /* no trailing '/' */
	char *host;      /* host[:port], for messages */
	char *token_env; /* the variable's name, for messages */
	/* The only copy of the token, wiped on free. */
	char *auth_header;
	int rate_retries;
	long rate_wait_cap_ms, rate_wait_budget_ms, write_gap_ms;
	struct timespec last_write;
	int wrote;
	pthread_mutex_t lock; /* one submit at a time: writes never overlap */
};

/* One API call's answer, parsed. */
struct gh_reply {
	struct http_response http;
	json_t *json; /* NULL when the body was empty */
};

#define GH_REPLY_INIT                                                                              \
	{                                                                                          \
		HTTP_RESPONSE_INIT, NULL                                                           \
	}

static void gh_reply_release(struct gh_reply *r)
{
	http_response_release(&r->http);
	json_decref(r->json);
	r->json = NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long ms_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

/* --- the token never leaves this file ------------------------------------------------- */

static const char *token(const struct pr_github *gh)
{
	return gh->auth_header + strlen(AUTH_PREFIX);
}

/* Overwrites every copy of the token in `s` with '*'. A last line of defence: no message is
 * built from the token, but one may quote a server that echoed it. */
static void scrub(const struct pr_github *gh, char *s)
{
	const char *t = token(gh);
	size_t n = strlen(t);

	while (s && (s = strstr(s, t))) {
		memset(s, '*', n);
		s += n;
	}
}

/* --- URLs ------------------------------------------------------------------------------ */

/*
 * Checks that api_url is an http(s) URL without a user name or password (credentials belong
 * in the token, not in the URL) and puts its "host[:port]" into `host`, for messages.
 */
static int api_host(struct buf *host, const char *url)
{
	const char *auth, *end;

	if (!strncasecmp(url, "https://", 8))
		auth = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		auth = url + 7;
	else
		return -1;
	end = auth + strcspn(auth, "/?#");
	if (end == auth || memchr(auth, '@', (size_t)(end - auth)))
		return -1;
	buf_add(host, auth, (size_t)(end - auth));
	return 0;
}

/* --- the client ------------------------------------------------------------------------ */

int pr_github_new(struct pr_github **out, const struct pr_github_opts *opts, struct db_err *err)
{
	static const struct pr_github_opts defaults;
	struct pr_github *gh = xcalloc(1, sizeof(*gh));
	struct buf host = BUF_INIT;
	const char *api_url, *env, *tok, *p;
	size_t len;
	int ret = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	api_url = opts->api_url ? opts->api_url : "https://api.github.com";
	env = opts->token_env ? opts->token_env : "GITHUB_TOKEN";
	tok = getenv(env);
	pthread_mutex_init(&gh->lock, NULL);
	gh->token_env = xstrdup(env);
	if (api_host(&host, api_url) < 0) {
		ret = db_err_set(
		    err, DB_EUSAGE,
		    "pull_request.api_url '%s' is not an http(s) URL without credentials",
		    strchr(api_url, '@') ? "(hidden: it has credentials)" : api_url);
		goto out;
	}
	if (!tok || !*tok) {
		ret = db_err_set(
		    err, DB_EAUTH,
		    "the environment variable '%s' is unset or empty; --pr github needs a "
		    "token that may write pull requests and issues",
		    env);
		goto out;
	}
	for (p = tok; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			ret = db_err_set(
			    err, DB_EAUTH,
			    "the token in '%s' has a character that cannot go into an HTTP header",
			    env);
			goto out;
		}
	len = strlen(api_url);
	while (len && api_url[len - 1] == '/')
		len--;
	gh->api_url = xstrndup(api_url, len);
	gh->host = buf_detach(&host, NULL);
	gh->auth_header = xasprintf(AUTH_PREFIX "%s", tok);
	gh->rate_retries = opts->rate_retries > 0 ? opts->rate_retries : 4;
	gh->rate_wait_cap_ms = opts->rate_wait_cap_ms > 0 ? opts->rate_wait_cap_ms : 120000;
	gh->rate_wait_budget_ms =
	    opts->rate_wait_budget_ms > 0 ? opts->rate_wait_budget_ms : 600000;
	gh->write_gap_ms = opts->write_gap_ms ? opts->write_gap_ms : 1000;
	ret = http_client_new(&gh->http, &opts->http, err);
out:
	buf_release(&host);
	if (ret < 0)
		pr_github_free(gh);
	else
		*out = gh;
	return ret;
}

void pr_github_free(struct pr_github *gh)
{
	if (!gh)
		return;
	http_client_free(gh->http);
	if (gh->auth_header) {
		/* The token should not outlive the client in freed memory. */
		volatile char *p = gh->auth_header;
		while (*p)
			*p++ = '\0';
		free(gh->auth_header);
	}
	free(gh->api_url);
	free(gh->host);
	free(gh->token_env);
	pthread_mutex_destroy(&gh->lock);
	free(gh);
}

/* --- one call --------------------------------------------------------------------------- */

/* GitHub's "message", and the messages of its "errors" list, as printable text. */
static void add_server_message(struct buf *out, const json_t *json)
{
	const json_t *errors = json_object_get(json, "errors"), *e;
	size_t start = out->len, i;
	const char *s;

	if ((s = json_string_value(json_object_get(json, "message"))))
		buf_adds(out, s);
	json_array_foreach(errors, i, e)
	{
		s = json_string_value(json_object_get(e, "message"));
		if (!s)
			s = json_string_value(json_object_get(e, "code"));
		if (s)
			buf_addf(out, "%s%s", out->len > start ? "; " : "", s);
	}
	if (out->len == start)
		buf_adds(out, "no message");
	if (out->len - start > SERVER_MSG_MAX) {
		buf_setlen(out, start + SERVER_MSG_MAX);
		buf_adds(out, "...");
	}
	for (i = start; i < out->len; i++)
		if ((unsigned char)out->ptr[i] < 0x20 || out->ptr[i] == 0x7f)
			out->ptr[i] = '?';
}

static int mentions(const json_t *json, const char *what)
{
	struct buf msg = BUF_INIT;
	size_t i;
	int found;

	add_server_message(&msg, json);
	for (i = 0; i < msg.len; i++)
		msg.ptr[i] = (char)tolower((unsigned char)msg.ptr[i]);
	found = strstr(msg.ptr, what) != NULL;
	buf_release(&msg);
	return found;
}

/*
 * Is this answer a rate limit (GitHub's "exceeding the rate limit": 403 or 429 with
 * retry-after, or x-ratelimit-remaining 0, or a message saying so) rather than a refusal?
 */
static int rate_limited(const struct gh_reply *r)
{
	const char *remaining = http_response_header(&r->http, "x-ratelimit-remaining");

	if (r->http.status != 403 && r->http.status != 429)
		return 0;
	return http_response_header(&r->http, "retry-after") ||
	       (remaining && !strcmp(remaining, "0")) || mentions(r->json, "rate limit");
}

/* How long the server asks us to wait before try `attempt` (0-based), in ms. */
static long rate_wait_ms(const struct gh_reply *r, int attempt)
{
	const char *after = http_response_header(&r->http, "retry-after");
	const char *remaining = http_response_header(&r->http, "x-ratelimit-remaining");
	const char *reset = http_response_header(&r->http, "x-ratelimit-reset");
	long secs;

	if (after && !parse_long(&secs, after, 0, 86400))
		return secs * 1000;
	if (remaining && !strcmp(remaining, "0") && reset &&
	    !parse_long(&secs, reset, 0, 4102444800L)) {
		time_t now = time(NULL);
		/* The reset time has a one-second grain: wait a second more. */
		return (time_t)secs >= now ? (long)((time_t)secs - now + 1) * 1000 : 1000;
	}
	/* A secondary limit that names no time: a minute, doubling (GitHub's advice). */
	return 60000L << (attempt < 5 ? attempt : 5);
}

static int parse_reply(struct pr_github *gh, struct gh_reply *r, const char *method,
                       const char *shown, struct db_err *err)
{
	json_error_t jerr;

	if (!r->http.body.len)
		return 0;
	r->json = json_loadb(r->http.body.ptr, r->http.body.len, 0, &jerr);
	if (!r->json && r->http.status >= 200 && r->http.status < 300)
		return db_err_set(err, DB_EPARSE,
		                  "github at '%s': %s '%s' answered HTTP %ld with invalid JSON "
		                  "(line %d: %s)",
		                  gh->host, method, shown, r->http.status, jerr.line, jerr.text);
	return 0; /* an error page that is not JSON says what it has to say by its status */
}

/*
 * Sends one request to `path` (below api_url) with an optional `query` and JSON `body`, and
 * parses the answer. Rate limits are waited out here; any other status is for the caller.
 * `shown` is the URL without its query, for messages.
 */
static int gh_call(struct pr_github *gh, struct gh_reply *r, const char *method, const char *path,
                   const char *query, const char *body, struct db_err *err)
{
	const char *headers[] = {"Accept: application/vnd.github+json",
	                         "X-GitHub-Api-Version: 2022-11-28", gh->auth_header,
	                         body ? "Content-Type: application/json" : NULL, NULL};
	struct http_request req = {0};
	struct buf url = BUF_INIT;
	char *shown = xasprintf("%s%s", gh->api_url, path);
	long waited = 0, wait;
	int attempt, ret = 0;

	buf_addf(&url, "%s%s", gh->api_url, path);
	if (query)
		buf_addf(&url, "?%s", query);
	req.method = method;
	req.url = url.ptr;
	req.headers = headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;

	for (attempt = 0;; attempt++) {
		struct db_err http_err = DB_ERR_INIT;
		int is_write = strcmp(method, "GET") != 0;

		if (is_write && gh->wrote && gh->write_gap_ms > 0)
			sleep_ms(gh->write_gap_ms - ms_since(&gh->last_write));
		gh_reply_release(r);
		ret = http_request(gh->http, &r->http, &req, &http_err);
		if (is_write) {
			clock_gettime(CLOCK_MONOTONIC, &gh->last_write);
			gh->wrote = 1;
		}
		/* http.c gives up on a 429 it retried to the end: that may still be a limit we
		 * know how to wait out. Every other transport error is final. */
		if (ret < 0 && !(ret == DB_ENET && r->http.status == 429)) {
			db_err_set(err, ret, "github at '%s': %s", gh->host, http_err.msg);
			goto out;
		}
		ret = 0;
		/* libcurl withholds the Authorization header from another host; an answer from
		 * there is not GitHub's answer either. */
		if (r->http.effective_url &&
		    !http_same_origin(r->http.effective_url, gh->api_url)) {
			ret = db_err_set(
			    err, DB_ENET,
			    "github at '%s': %s '%s' was redirected to another host; the "
			    "answer is ignored (is pull_request.api_url right?)",
			    gh->host, method, shown);
			goto out;
		}
		if ((ret = parse_reply(gh, r, method, shown, err)) < 0)
			goto out;
		if (!rate_limited(r))
			goto out;

		wait = rate_wait_ms(r, attempt);
		if (attempt >= gh->rate_retries || waited + wait > gh->rate_wait_budget_ms) {
			ret = db_err_set(err, DB_ENET,
			                 "github at '%s' keeps rate-limiting %s '%s' (HTTP %ld, %d "
			                 "tries; next wait %ld s); try again later",
			                 gh->host, method, shown, r->http.status, attempt + 1,
			                 wait / 1000);
			goto out;
		}
		if (wait > gh->rate_wait_cap_ms)
			wait = gh->rate_wait_cap_ms;
		log_info("github at '%s' rate-limits %s '%s' (HTTP %ld); waiting %.1f s", gh->host,
		         method, shown, r->http.status, (double)wait / 1000);
		sleep_ms(wait);
		waited += wait;
	}
out:
	buf_release(&url);
	free(shown);
	return ret;
}

/*
 * Turns a status the caller did not expect into the error for it. `repo` is "owner/name",
 * named when the repository is not found.
 */
static int status_error(struct pr_github *gh, const struct gh_reply *r, const char *method,
                        const char *path, const char *repo, struct db_err *err)
{
	struct buf msg = BUF_INIT;
	long status = r->http.status;
	int ret;

	add_server_message(&msg, r->json);
	if (status == 401)
		ret =
		    db_err_set(err, DB_EAUTH, "github at '%s' refused the token (401); check '%s'",
		               gh->host, gh->token_env);
	else if (status == 403)
		ret =
		    db_err_set(err, DB_EAUTH,
		               "github at '%s' denied %s '%s%s' (403: %s); the token in '%s' needs "
		               "write access to pull requests and issues of '%s'",
		               gh->host, method, gh->api_url, path, msg.ptr, gh->token_env, repo);
	else if (status == 404)
		ret = db_err_set(
		    err, DB_ENOTFOUND,
		    "github at '%s': repository '%s' not found (404 on %s '%s%s'); check "
		    "pull_request.repo and that the token in '%s' can see it",
		    gh->host, repo, method, gh->api_url, path, gh->token_env);
	else if (status == 422)
		ret = db_err_set(err, DB_ECONFLICT, "github at '%s' rejected %s '%s%s' (422: %s)",
		                 gh->host, method, gh->api_url, path, msg.ptr);
	else
		ret = db_err_set(err, status >= 500 || status == 429 ? DB_ENET : DB_ERROR,
		                 "github at '%s': %s '%s%s' answered HTTP %ld (%s)", gh->host,
		                 method, gh->api_url, path, status, msg.ptr);
	buf_release(&msg);
	return ret;
}

static int is_2xx(const struct gh_reply *r)
{
	return r->http.status >= 200 && r->http.status < 300;
}

/* --- the pull request flow ------------------------------------------------------------- */

static const char *pr_string(const json_t *pr, const char *key, const char *sub)
{
	const json_t *v = json_object_get(pr, key);
	return json_string_value(sub ? json_object_get(v, sub) : v);
}

/* Is this array element a pull request of ours we can work with? */
static int usable_pr(const json_t *pr, const char *head)
{
	const char *ref = pr_string(pr, "head", "ref");
	json_int_t number = json_integer_value(json_object_get(pr, "number"));

	return json_is_object(pr) && ref && !strcmp(ref, head) && number > 0 &&
	       pr_string(pr, "html_url", NULL) && pr_string(pr, "state", NULL) &&
	       !strcmp(pr_string(pr, "state", NULL), "open");
}

/*
 * The open pull request from `head` into `repo`, or NULL in `*found`. Several (into other
 * bases) are possible: the one into `base` wins. `*found` is a new reference.
 */
static int find_open(struct pr_github *gh, json_t **found, const struct pr_repo *repo,
                     const struct pr_request *req, struct db_err *err)
{
	struct gh_reply r = GH_REPLY_INIT;
	struct buf path = BUF_INIT, query = BUF_INIT, head = BUF_INIT;
	json_t *pr, *best = NULL;
	char *escaped;
	size_t i;
	int ret;

	*found = NULL;
	buf_addf(&path, "/repos/%s/%s/pulls", repo->owner, repo->name);
	buf_addf(&head, "%s:%s", repo->owner, req->head);
	escaped = http_escape(head.ptr);
	buf_addf(&query, "head=%s&state=open&per_page=100", escaped);
	free(escaped);
	if ((ret = gh_call(gh, &r, "GET", path.ptr, query.ptr, NULL, err)) < 0)
		goto out;
	if (!is_2xx(&r)) {
		ret = status_error(gh, &r, "GET", path.ptr, repo->full, err);
		goto out;
	}
	if (!json_is_array(r.json)) {
		ret = db_err_set(err, DB_EPARSE, "github at '%s': GET '%s%s' did not answer a list",
		                 gh->host, gh->api_url, path.ptr);
		goto out;
	}
	json_array_foreach(r.json, i, pr)
	{
		const char *base = pr_string(pr, "base", "ref");
		if (!usable_pr(pr, req->head))
			continue;
		if (!best || (base && !strcmp(base, req->base)))
			best = pr;
		if (base && !strcmp(base, req->base))
			break;
	}
	if (best)
		*found = json_incref(best);
out:
	gh_reply_release(&r);
	buf_release(&path);
	buf_release(&query);
	buf_release(&head);
	return ret;
}

/* Dumps `obj` (stolen) as compact JSON; NULL when a string in it was not valid UTF-8. */
static char *dump(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	return s;
}

static int new_string(json_t *obj, const char *key, const char *value)
{
	json_t *s = json_string(value);
	return s ? json_object_set_new(obj, key, s) : -1;
}

/* POSTs a new pull request; a 422 "already exists" leaves `*created` NULL and returns 0, for
 * the caller to find the one that exists. */
static int create(struct pr_github *gh, json_t **created, const struct pr_repo *repo,
                  const struct pr_request *req, const char *title, const char *body,
                  struct db_err *err)
{
	struct gh_reply r = GH_REPLY_INIT;
	struct buf path = BUF_INIT;
	json_t *obj = json_object();
	char *json;
	int ret = 0;

	*created = NULL;
	buf_addf(&path, "/repos/%s/%s/pulls", repo->owner, repo->name);
	if (new_string(obj, "title", title) || new_string(obj, "head", req->head) ||
	    new_string(obj, "base", req->base) || new_string(obj, "body", body) ||
	    json_object_set_new(obj, "draft", json_boolean(req->draft))) {
		json_decref(obj);
		ret = db_err_set(err, DB_EPARSE, "branch '%s' or '%s' is not valid UTF-8",
		                 req->head, req->base);
		goto out;
	}
	json = dump(obj);
	ret = gh_call(gh, &r, "POST", path.ptr, NULL, json, err);
	free(json);
	if (ret < 0)
		goto out;
	if (r.http.status == 422 && mentions(r.json, "already exists")) {
		log_debug("github: a pull request for '%s' already exists", req->head);
		goto out;
	}
	if (!is_2xx(&r)) {
		ret = status_error(gh, &r, "POST", path.ptr, repo->full, err);
		goto out;
	}
	if (!usable_pr(r.json, req->head)) {
		ret =
		    db_err_set(err, DB_EPARSE,
		               "github at '%s': POST '%s%s' did not answer a pull request of '%s'",
		               gh->host, gh->api_url, path.ptr, req->head);
		goto out;
	}
	*created = json_incref(r.json);
out:
	gh_reply_release(&r);
	buf_release(&path);
	return ret;
}

/* GitHub may hand a body back with CRLF line ends; compare as if it had not. */
static int same_text(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	while (*a || *b) {
		if (*a == '\r' && a[1] == '\n')
			a++;
		if (*b == '\r' && b[1] == '\n')
			b++;
		if (*a != *b)
			return 0;
		if (*a)
			a++, b++;
	}
	return 1;
}

/* PATCHes what differs (title, body, base) into `*pr`; `*changed` says whether it wrote. */
static int update(struct pr_github *gh, json_t **pr, int *changed, const struct pr_repo *repo,
                  const struct pr_request *req, const char *title, const char *body,
                  struct db_err *err)
{
	struct gh_reply r = GH_REPLY_INIT;
	struct buf path = BUF_INIT;
	json_t *obj = json_object();
	const char *base = pr_string(*pr, "base", "ref");
	char *json = NULL;
	int ret = 0;

	*changed = 0;
	if (!same_text(pr_string(*pr, "title", NULL), title))
		new_string(obj, "title", title);
	if (!same_text(pr_string(*pr, "body", NULL), body))
		new_string(obj, "body", body);
	if (!base || strcmp(base, req->base)) {
		if (new_string(obj, "base", req->base)) {
			ret =
			    db_err_set(err, DB_EPARSE, "branch '%s' is not valid UTF-8", req->base);
			goto out;
		}
	}
	if (!json_object_size(obj))
		goto out;
	buf_addf(&path, "/repos/%s/%s/pulls/%" JSON_INTEGER_FORMAT, repo->owner, repo->name,
	         json_integer_value(json_object_get(*pr, "number")));
	json = dump(json_incref(obj));
	if ((ret = gh_call(gh, &r, "PATCH", path.ptr, NULL, json, err)) < 0)
		goto out;
	if (!is_2xx(&r)) {
		ret = status_error(gh, &r, "PATCH", path.ptr, repo->full, err);
		goto out;
	}
	*changed = 1;
	if (usable_pr(r.json, req->head)) {
		json_decref(*pr);
		*pr = json_incref(r.json);
	}
out:
	free(json);
	json_decref(obj);
	gh_reply_release(&r);
	buf_release(&path);
	return ret;
}

/* Adds the configured labels the pull request lacks (GitHub compares names without case). */
static int add_labels(struct pr_github *gh, const json_t *pr, int *changed,
                      const struct pr_repo *repo, const struct pr_request *req, struct db_err *err)
{
	const json_t *have = json_object_get(pr, "labels"), *label;
	struct gh_reply r = GH_REPLY_INIT;
	struct buf path = BUF_INIT;
	json_t *missing = json_array();
	char *json = NULL;
	size_t i, j;
	int ret = 0;

	for (i = 0; req->labels && i < req->labels->nr; i++) {
		const char *want = req->labels->v[i];
		int present = 0;
		json_array_foreach(have, j, label)
		{
			const char *name = json_string_value(json_object_get(label, "name"));
			if (name && !strcasecmp(name, want))
				present = 1;
		}
		if (!present && json_array_append_new(missing, json_string(want)) < 0) {
			ret = db_err_set(err, DB_EPARSE, "label '%s' is not valid UTF-8", want);
			goto out;
		}
	}
	/* Never send an empty list: GitHub reads it as "remove every label". */
	if (!json_array_size(missing))
		goto out;
	buf_addf(&path, "/repos/%s/%s/issues/%" JSON_INTEGER_FORMAT "/labels", repo->owner,
	         repo->name, json_integer_value(json_object_get(pr, "number")));
	json = dump(json_pack("{sO}", "labels", missing));
	if ((ret = gh_call(gh, &r, "POST", path.ptr, NULL, json, err)) < 0)
		goto out;
	if (!is_2xx(&r)) {
		ret = status_error(gh, &r, "POST", path.ptr, repo->full, err);
		goto out;
	}
	*changed = 1;
out:
	free(json);
	json_decref(missing);
	gh_reply_release(&r);
	buf_release(&path);
	return ret;
}

static int submit_locked(struct pr_github *gh, struct pr_result *out, const struct pr_request *req,
                         struct db_err *err)
{
	struct pr_repo repo = PR_REPO_INIT;
	struct buf title = BUF_INIT, body = BUF_INIT;
	json_t *pr = NULL;
	int ret, changed = 0, labelled = 0;
	enum pr_outcome outcome = PR_UPDATED;

	if ((ret = pr_repo_parse(&repo, req->repo, err)) < 0)
		goto out;
	if (!req->head || !*req->head || !req->base || !*req->base) {
		ret = db_err_set(err, DB_EUSAGE, "a pull request for '%s' needs a head and a base",
		                 repo.full);
		goto out;
	}
	pr_format_title(&title, req);
	pr_format_body(&body, req);

	if ((ret = find_open(gh, &pr, &repo, req, err)) < 0)
		goto out;
	if (!pr) {
		if ((ret = create(gh, &pr, &repo, req, title.ptr, body.ptr, err)) < 0)
			goto out;
		if (pr)
			outcome = PR_CREATED;
		/* Lost a race with another run: the pull request exists, so update that one. */
		else if ((ret = find_open(gh, &pr, &repo, req, err)) < 0)
			goto out;
		if (!pr) {
			ret = db_err_set(
			    err, DB_ECONFLICT,
			    "github at '%s' says a pull request for '%s' already exists in "
			    "'%s' but does not list it as open",
			    gh->host, req->head, repo.full);
			goto out;
		}
	}
	if (outcome != PR_CREATED &&
	    (ret = update(gh, &pr, &changed, &repo, req, title.ptr, body.ptr, err)) < 0)
		goto out;
	if ((ret = add_labels(gh, pr, &labelled, &repo, req, err)) < 0)
		goto out;
	if (outcome != PR_CREATED && !changed && !labelled)
		outcome = PR_UNCHANGED;

	out->number = (long)json_integer_value(json_object_get(pr, "number"));
	out->url = xstrdup(pr_string(pr, "html_url", NULL));
	out->outcome = outcome;
	scrub(gh, out->url);
	log_info("pull request #%ld for '%s' %s: %s", out->number, req->head,
	         pr_outcome_name(outcome), out->url);
out:
	json_decref(pr);
	buf_release(&title);
	buf_release(&body);
	pr_repo_release(&repo);
	return ret;
}

int pr_github_submit(struct pr_github *gh, struct pr_result *out, const struct pr_request *req,
                     struct db_err *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&gh->lock);
	ret = submit_locked(gh, out, req, err);
	pthread_mutex_unlock(&gh->lock);
	if (ret < 0) {
		scrub(gh, err->msg);
		pr_result_release(out);
	}
	return ret;
}

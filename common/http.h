/*
 * HTTP client over libcurl: bounded, retried, and safe with untrusted servers.
 *
 * One `struct http_client` per run holds a libcurl share/connection pool, so every request to
 * the same host reuses connections (HTTP/2 where the server offers it). Each request:
 *   - has a connect timeout and a total timeout per attempt, and a time budget for all its
 *     attempts and waits together (`retry_budget_ms`, or the caller's `deadline_ms` when that
 *     comes first): a slow server cannot hold a request longer than that, however it answers;
 *   - caps the response body (`max_body`, default 16 MiB) in the write callback: a larger
 *     body is DB_ETOOBIG naming the URL, never an unbounded allocation;
 *   - follows at most `max_redirects` redirects, http and https only;
 *   - takes proxies from the usual environment variables (libcurl's behaviour);
 *   - is retried on connection errors, 429 and 5xx with exponential backoff and jitter,
 *     honouring `Retry-After` (seconds or HTTP date) and `X-Retry-After` (epoch seconds),
 *     each wait capped at `retry_cap_ms`;
 *   - is tried twice at most when the server refuses the connection or its name does not
 *     resolve (a setting to fix, not a glitch: the message ends with `unreachable_hint`), and
 *     later requests to that server in the same run fail at once with the same message;
 *   - logs rate-limit headers (`X-RateLimit-*`, `RateLimit-*`) at debug level.
 *
 * Credentials are a request's `userpwd`, its Authorization header, and its body when
 * `secret_body` is set. They are sent only over https, or over plain http to loopback
 * (localhost, 127.0.0.0/8, [::1]); anything else is DB_EAUTH before a byte is sent. They never
 * follow a redirect to another origin (scheme, host, port): such a redirect is followed
 * without them, or refused (DB_ENET) when the body is the secret. Credentials are never
 * logged; URLs are logged without their userinfo and query string.
 *
 *	struct http_client *c;
 *	struct http_response res = HTTP_RESPONSE_INIT;
 *	http_client_new(&c, &opts, &err);
 *	http_request(c, &res, &(struct http_request){ .url = url, .headers = hdrs }, &err);
 *	use(res.status, res.body.ptr, http_response_header(&res, "etag"));
 *	http_response_release(&res);
 *	http_client_free(c);
 *
 * A non-2xx final status is not an error of http_request(): the caller decides (404 means
 * different things to different callers). Errors are transport failures, caps, refused
 * credentials and retries exhausted (DB_ENET), always naming the (redacted) URL.
 */
#ifndef DOCKERBUMP_COMMON_HTTP_H
#define DOCKERBUMP_COMMON_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct http_opts {
	long connect_timeout_ms; /* default 10000 */
	long timeout_ms;         /* total per attempt; default 30000 */
	int retries;             /* attempts after the first; 0: default 5; negative: none */
	long retry_base_ms;      /* first backoff; default 500 */
	long retry_cap_ms;       /* one wait at most; default 60000 */
	long retry_budget_ms;    /* all attempts and waits of one request; default 300000 */
	size_t max_body;         /* default 16 MiB */
	int max_redirects;       /* default 5 */
	const char *user_agent;  /* default "dockerbump/<version>" */
	/* appended to the message when a server cannot be reached, e.g. which setting to check;
	 * borrowed for the client's lifetime; may be NULL */
	const char *unreachable_hint;
};

struct http_client;

/* `*out` belongs to the caller; free it with http_client_free(). Zero fields take defaults. */
int http_client_new(struct http_client **out, const struct http_opts *opts, struct db_err *err);
void http_client_free(struct http_client *c);

struct http_request {
	const char *method; /* NULL: GET, or POST when body is set */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, may be NULL */
	const char *body;
	size_t body_len;
	const char *userpwd; /* "user:password" for basic auth, or NULL */
	int no_retry;        /* for non-idempotent writes */
	int no_body;         /* HEAD */
	int secret_body;     /* the body holds credentials (a login) */
	int64_t
	    deadline_ms; /* 0, or when every attempt and wait must be over: http_deadline_in() */
};

struct http_header {
	char *name; /* lower-cased */
	char *value;
};

struct http_response {
	long status;
	struct buf body;
	struct http_header *headers; /* of the final response only */
	size_t nr_headers, alloc_headers;
	char *effective_url; /* after redirects */
	int attempts;        /* how many tries it took */
};

#define HTTP_RESPONSE_INIT                                                                         \
	{                                                                                          \
		0, BUF_INIT, NULL, 0, 0, NULL, 0                                                   \
	}

int http_request(struct http_client *c, struct http_response *out, const struct http_request *req,
                 struct db_err *err);
/* Case-insensitive lookup; the last value when the header repeats; NULL when absent. */
const char *http_response_header(const struct http_response *res, const char *name);
void http_response_release(struct http_response *res);

/* Counters for benchmarks and tests: requests sent (attempts) and time spent in them. */
struct http_stats {
	unsigned long requests;
	double seconds;
};
void http_client_stats(const struct http_client *c, struct http_stats *out);

/* A URL with userinfo and query removed, for messages; the caller frees it. */
char *http_redact_url(const char *url);

/* Percent-encodes everything but RFC 3986 unreserved characters; the caller frees it. Kept
 * for callers that build a query by hand; new code builds URLs with http_url(). */
char *http_escape(const char *s);
/*
 * A URL built by libcurl's URL API: `base` (an absolute http(s) URL), with `path` appended to
 * its path ("v2/demisto/python3/tags/list": '/' separates segments, everything else is
 * percent-encoded as needed; it must hold no "." or ".." segment) and each `params` pair
 * ("name", "value", ..., NULL; values percent-encoded) appended to its query. NULL when `base`
 * is not an http(s) URL. The caller frees it.
 */
char *http_url(const char *base, const char *path, const char *const *params);
/* Resolves `ref` (absolute, or relative such as "/v2/x?last=y") against `base`; NULL when
 * either is not a valid URL. The caller frees it. */
char *http_resolve_url(const char *base, const char *ref);
/* 1 when both URLs have the same scheme, host and port (default ports made explicit): used
 * before a server-supplied link is followed with credentials. */
int http_same_origin(const char *a, const char *b);
/* 1 when the URL's host is loopback: "localhost", 127.0.0.0/8 or [::1]. */
int http_url_loopback(const char *url);
/* 1 when credentials may travel to `url`: https, or plain http to loopback. */
int http_credentials_allowed(const char *url);
/* The `deadline_ms` of a request that must be over `ms` milliseconds from now. */
int64_t http_deadline_in(long ms);

#endif

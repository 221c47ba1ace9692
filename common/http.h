/*
 * HTTP client over libcurl: bounded, retried, and safe with untrusted servers.
 *
 * One `struct http_client` per run holds a libcurl share/connection pool, so every request to
 * the same host reuses connections (HTTP/2 where the server offers it). Each request:
 *   - has a connect timeout and a total timeout;
 *   - caps the response body (`max_body`, default 16 MiB) in the write callback: a larger
 *     body is DB_ETOOBIG naming the URL, never an unbounded allocation;
 *   - follows at most `max_redirects` redirects, http and https only;
 *   - takes proxies from the usual environment variables (libcurl's behaviour);
 *   - is retried on connection errors, 429 and 5xx with exponential backoff and jitter,
 *     honouring `Retry-After` (seconds or HTTP date) and `X-Retry-After` (epoch seconds),
 *     each wait capped at `retry_cap_ms`, all waits of one request together at
 *     `retry_budget_ms`;
 *   - logs rate-limit headers (`X-RateLimit-*`, `RateLimit-*`) at debug level.
 * Credentials (`userpwd`, Authorization headers) are never logged; URLs are logged without
 * their userinfo and query string.
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
 * different things to different callers). Errors are transport failures, caps, and retries
 * exhausted (DB_ENET), always naming the URL.
 */
#ifndef DOCKERBUMP_COMMON_HTTP_H
#define DOCKERBUMP_COMMON_HTTP_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

struct http_opts {
	long connect_timeout_ms; /* default 10000 */
	long timeout_ms;         /* total per attempt; default 30000 */
	int retries;             /* attempts after the first; 0: default 5; negative: none */
	long retry_base_ms;      /* first backoff; default 500 */
	long retry_cap_ms;       /* one wait at most; default 60000 */
	long retry_budget_ms;    /* all waits of one request; default 300000 */
	size_t max_body;         /* default 16 MiB */
	int max_redirects;       /* default 5 */
	const char *user_agent;  /* default "dockerbump/<version>" */
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

/* Percent-encodes everything but RFC 3986 unreserved characters; the caller frees it. */
char *http_escape(const char *s);
/* Resolves `ref` (absolute, or relative such as "/v2/x?last=y") against `base`; NULL when
 * either is not a valid URL. The caller frees it. */
char *http_resolve_url(const char *base, const char *ref);
/* 1 when both URLs have the same scheme, host and port (default ports made explicit): used
 * before a server-supplied link is followed with credentials. */
int http_same_origin(const char *a, const char *b);

#endif

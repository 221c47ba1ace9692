/*
 * The HTTP layer against a scripted server on a loopback thread: each accepted connection gets
 * the next canned response (then the connection closes), so retries, Retry-After, caps,
 * redirects and timeouts are exercised without any outside service.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/http.h"

#define MAX_SCRIPT 8

struct server {
	int fd;
	int port;
	pthread_t thread;
	/* raw responses; "HANG" holds the connection silently; "TRICKLE" sends headers and then
	 * one body byte every 100 ms (a slow-loris server); "BIG" a chunked body of `big_body` */
	const char *script[MAX_SCRIPT];
	size_t big_body;
	int nr, served;
	char first_request[2048];
	char requests[MAX_SCRIPT][2048]; /* what each connection sent */
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void read_request(int fd, char *out, size_t cap)
{
	size_t len = 0;
	ssize_t r;

	const char *end = NULL, *cl;
	size_t want = 0;

	/* the headers, then as much body as Content-Length announces */
	while (len + 1 < cap && (r = read(fd, out + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		out[len] = '\0';
		if (!end && (end = strstr(out, "\r\n\r\n")) != NULL) {
			cl = strcasestr(out, "\r\nContent-Length: ");
			want = (size_t)(end + 4 - out) +
			       (cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0);
		}
		if (end && len >= want)
			break;
	}
	out[len] = '\0';
}

static void *serve(void *arg)
{
	struct server *s = arg;
	char req[2048];
	int i;

	for (i = 0; i < s->nr; i++) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		read_request(c, req, sizeof(req));
		if (i == 0)
			memcpy(s->first_request, req, sizeof(req));
		memcpy(s->requests[i], req, sizeof(req));
		s->served++;
		if (!strcmp(s->script[i], "HANG")) {
			sleep(1);
		} else if (!strcmp(s->script[i], "TRICKLE")) {
			const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
			int k;
			write_all(c, head, strlen(head));
			for (k = 0; k < 30 && send(c, "x", 1, MSG_NOSIGNAL) == 1; k++)
				usleep(100000);
		} else if (!strcmp(s->script[i], "BIG")) {
			static char chunk[65536];
			const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
			char line[32];
			size_t sent = 0;
			memset(chunk, 'a', sizeof(chunk));
			write_all(c, head, strlen(head));
			while (sent < s->big_body) {
				snprintf(line, sizeof(line), "%zx\r\n", sizeof(chunk));
				write_all(c, line, strlen(line));
				write_all(c, chunk, sizeof(chunk));
				write_all(c, "\r\n", 2);
				sent += sizeof(chunk);
			}
		} else {
			write_all(c, s->script[i], strlen(s->script[i]));
		}
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static char *url_of(const struct server *s, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", s->port, path);
}

static const struct http_opts fast = {
    .connect_timeout_ms = 2000,
    .timeout_ms = 2000,
    .retries = 3,
    .retry_base_ms = 5,
    .retry_cap_ms = 2000,
    .retry_budget_ms = 10000,
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts `s`, requests `path` once through a fresh client, stops `s`; the caller checks. */
static int fetch(struct server *s, const struct http_opts *o, const char *path,
                 const char *const *hdrs, struct http_response *res, struct db_err *err)
{
	struct http_client *c;
	char *url;
	int ret;

	server_start(s);
	url = url_of(s, path);
	assert_int_equal(http_client_new(&c, o, err), 0);
	ret = http_request(c, res, &(struct http_request){.url = url, .headers = hdrs}, err);
	http_client_free(c);
	server_stop(s);
	free(url);
	return ret;
}

static void test_ok_and_headers(void **state)
{
	struct server s = {.script = {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"a\"\r\n"
	                              "X-Thing: one\r\nx-thing: two\r\n\r\nhello"},
	                   .nr = 1};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	const char *hdrs[] = {"Accept: application/json", NULL};

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/v2/x", hdrs, &res, &err), 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.ptr, "hello");
	assert_string_equal(http_response_header(&res, "etag"), "\"a\"");
	assert_string_equal(http_response_header(&res, "X-THING"), "two");
	assert_null(http_response_header(&res, "missing"));
	assert_int_equal(res.attempts, 1);
	assert_non_null(strstr(s.first_request, "Accept: application/json"));
	assert_non_null(strstr(s.first_request, "User-Agent: dockerbump/"));
	http_response_release(&res);
}

static void test_stats(void **state)
{
	struct server s = {.script = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	                              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	                   .nr = 2};
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	struct http_stats st;
	char *url;

	(void)state;
	server_start(&s);
	url = url_of(&s, "/");
	assert_int_equal(http_client_new(&c, &fast, &err), 0);
	assert_int_equal(http_request(c, &res, &(struct http_request){.url = url}, &err), 0);
	assert_int_equal(http_request(c, &res, &(struct http_request){.url = url}, &err), 0);
	http_client_stats(c, &st);
	assert_int_equal(st.requests, 2);
	assert_true(st.seconds >= 0);
	http_response_release(&res);
	http_client_free(c);
	server_stop(&s);
	free(url);
}

static void test_retry_then_ok(void **state)
{
	struct server s = {.script = {"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
	                              "HTTP/1.1 502 Bad\r\nContent-Length: 0\r\n\r\n",
	                              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	                   .nr = 3};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/", NULL, &res, &err), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 3);
	http_response_release(&res);
}

static void test_retry_after_honoured(void **state)
{
	struct server s = {
	    .script = {"HTTP/1.1 429 Slow down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
	               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	    .nr = 2};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	double t0 = now_s();

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/", NULL, &res, &err), 0);
	assert_true(now_s() - t0 >= 0.9);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 2);
	http_response_release(&res);
}

static void test_retry_after_capped(void **state)
{
	/* An hour-long Retry-After, an HTTP-date one and an X-Retry-After epoch far ahead are
	 * all cut to the 200 ms cap. */
	struct server s = {
	    .script = {"HTTP/1.1 429 Slow down\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n",
	               "HTTP/1.1 429 Slow down\r\nRetry-After: Wed, 21 Oct 2065 07:28:00 GMT\r\n"
	               "Content-Length: 0\r\n\r\n",
	               "HTTP/1.1 429 Slow down\r\nX-Retry-After: 4000000000\r\n"
	               "Content-Length: 0\r\n\r\n",
	               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	    .nr = 4};
	struct http_opts o = fast;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	double t0 = now_s(), dt;

	(void)state;
	o.retry_cap_ms = 200;
	assert_int_equal(fetch(&s, &o, "/", NULL, &res, &err), 0);
	dt = now_s() - t0;
	assert_true(dt >= 0.55 && dt < 3);
	assert_int_equal(res.attempts, 4);
	http_response_release(&res);
}

static void test_retries_exhausted(void **state)
{
	const char *r500 = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
	struct server s = {.script = {r500, r500, r500, r500}, .nr = 4};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/v2/namespaces/demisto/repositories/python3/tags?page=1",
	                       NULL, &res, &err),
	                 DB_ENET);
	assert_int_equal(s.served, 4);
	assert_non_null(strstr(err.msg, "/v2/namespaces/demisto/repositories/python3/tags"));
	assert_non_null(strstr(err.msg, "HTTP 500"));
	assert_null(strstr(err.msg, "page=1")); /* the query is redacted */
	http_response_release(&res);
}

static void test_retry_budget(void **state)
{
	const char *r503 = "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
	struct server s = {.script = {r503, r503, r503, r503}, .nr = 4};
	struct http_opts o = fast;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	o.retry_budget_ms = 1500; /* room for one 1 s wait, not two */
	assert_int_equal(fetch(&s, &o, "/", NULL, &res, &err), DB_ENET);
	assert_int_equal(res.attempts, 2);
	http_response_release(&res);
}

static void test_no_retry_on_404(void **state)
{
	struct server s = {.script = {"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n"}, .nr = 1};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/", NULL, &res, &err), 0);
	assert_int_equal(res.status, 404);
	assert_int_equal(res.attempts, 1);
	http_response_release(&res);
}

static void body_cap_case(const char *script, size_t big)
{
	struct server s = {.script = {script}, .nr = 1, .big_body = big};
	struct http_opts o = fast;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	o.max_body = 100000;
	assert_int_equal(fetch(&s, &o, "/big", NULL, &res, &err), DB_ETOOBIG);
	assert_non_null(strstr(err.msg, "/big"));
	assert_true(res.body.len <= 100000);
	assert_int_equal(s.served, 1); /* a cap is not retried */
	http_response_release(&res);
}

static void test_body_cap(void **state)
{
	(void)state;
	body_cap_case("BIG", 4u << 20);                                            /* chunked */
	body_cap_case("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nx", 0); /* announced */
}

static void test_redirect_protocols(void **state)
{
	struct server s = {.script = {"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
	                              "Content-Length: 0\r\n\r\n"},
	                   .nr = 1};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	assert_int_equal(fetch(&s, &fast, "/r", NULL, &res, &err), DB_ENET);
	assert_non_null(strstr(err.msg, "/r"));
	assert_int_equal(res.body.len, 0);
	http_response_release(&res);
}

static void test_timeout(void **state)
{
	struct server s = {.script = {"HANG", "HANG"}, .nr = 2};
	struct http_opts o = fast;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	double t0 = now_s();

	(void)state;
	o.timeout_ms = 300;
	o.retries = 1;
	assert_int_equal(fetch(&s, &o, "/slow", NULL, &res, &err), DB_ENET);
	assert_true(now_s() - t0 < 4);
	assert_non_null(strstr(err.msg, "/slow"));
	assert_non_null(strstr(err.msg, "after 2 attempts"));
	http_response_release(&res);
}

static void test_connection_refused(void **state)
{
	struct server s = {.nr = 0};
	struct http_opts o = fast;
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT, again = DB_ERR_INIT;
	char *url, *other;

	(void)state;
	server_start(&s); /* takes a free port, then gives it back */
	server_stop(&s);
	o.retries = 5;
	o.unreachable_hint = "check registry.url";
	url = url_of(&s, "/gone");
	other = url_of(&s, "/v2/other");
	assert_int_equal(http_client_new(&c, &o, &err), 0);
	assert_int_equal(http_request(c, &res, &(struct http_request){.url = url}, &err), DB_ENET);
	/* refused: two tries, not six, and the hint */
	assert_int_equal(res.attempts, 2);
	assert_non_null(strstr(err.msg, "/gone"));
	if (!strstr(err.msg, "after 2 attempts); check registry.url"))
		fail_msg("%s", err.msg);
	/* the same server later in the run: no new try at all */
	http_response_release(&res);
	assert_int_equal(http_request(c, &res, &(struct http_request){.url = other}, &again),
	                 DB_ENET);
	assert_int_equal(res.attempts, 0);
	assert_non_null(strstr(again.msg, "/v2/other"));
	assert_non_null(strstr(again.msg, "unreachable earlier in this run"));
	http_response_release(&res);
	http_client_free(c);
	free(url);
	free(other);
}

static void test_unresolvable(void **state)
{
	struct http_opts o = fast;
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	o.retries = 5;
	o.unreachable_hint = "check registry.url";
	assert_int_equal(http_client_new(&c, &o, &err), 0);
	/* .invalid never resolves (RFC 2606) */
	assert_int_equal(http_request(c, &res,
	                              &(struct http_request){.url = "http://registry.invalid/v2/"},
	                              &err),
	                 DB_ENET);
	assert_true(res.attempts >= 1 && res.attempts <= 2);
	assert_non_null(strstr(err.msg, "'http://registry.invalid/v2/'"));
	assert_non_null(strstr(err.msg, "check registry.url"));
	http_response_release(&res);
	http_client_free(c);
}

/* A slow-loris server (a byte every 100 ms) and a silent one: the time budget covers every
 * attempt and every wait, whether it comes from retry_budget_ms or the caller's deadline. */
static void test_time_budget(void **state)
{
	struct server s = {.script = {"TRICKLE", "TRICKLE", "TRICKLE", "TRICKLE", "TRICKLE",
	                              "TRICKLE", "TRICKLE", "TRICKLE"},
	                   .nr = 8};
	struct server h = {
	    .script = {"HANG", "HANG", "HANG", "HANG", "HANG", "HANG", "HANG", "HANG"}, .nr = 8};
	struct http_opts o = fast;
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	char *url;
	double t0;

	(void)state;
	o.timeout_ms = 400; /* per attempt */
	o.retries = 7;      /* 8 attempts would take 3.2 s and more */
	o.retry_budget_ms = 1000;
	t0 = now_s();
	assert_int_equal(fetch(&s, &o, "/loris", NULL, &res, &err), DB_ENET);
	assert_true(now_s() - t0 < 2.5);
	assert_true(res.attempts >= 2 && res.attempts <= 4);
	assert_non_null(strstr(err.msg, "/loris"));
	assert_non_null(strstr(err.msg, "the time budget is spent"));
	http_response_release(&res);

	/* the caller's deadline, shorter than the client's budget */
	o.retry_budget_ms = 60000;
	server_start(&h);
	url = url_of(&h, "/slow");
	assert_int_equal(http_client_new(&c, &o, &err), 0);
	db_err_clear(&err);
	t0 = now_s();
	assert_int_equal(
	    http_request(c, &res,
	                 &(struct http_request){.url = url, .deadline_ms = http_deadline_in(700)},
	                 &err),
	    DB_ENET);
	assert_true(now_s() - t0 < 2);
	assert_true(res.attempts <= 2);
	assert_non_null(strstr(err.msg, "the time budget is spent"));
	http_client_free(c);
	server_stop(&h);
	http_response_release(&res);
	free(url);
}

/* Starts two servers: `a` on 127.0.0.1 whose first answer redirects to `b` on "localhost" (the
 * same machine under another host name: another origin). */
static void redirect_pair(struct server *a, struct server *b, const char *status, char **script0)
{
	server_start(b);
	*script0 = xasprintf("HTTP/1.1 %s\r\nLocation: http://localhost:%d/elsewhere\r\n"
	                     "Content-Length: 0\r\n\r\n",
	                     status, b->port);
	a->script[0] = *script0;
	server_start(a);
}

static void test_login_not_reposted_elsewhere(void **state)
{
	struct server a = {.nr = 1}, b = {.nr = 1};
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	const char *body = "{\"identifier\":\"bot\",\"secret\":\"s3cret\"}";
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	char *script0, *url;

	(void)state;
	redirect_pair(&a, &b, "307 Temporary Redirect", &script0);
	url = url_of(&a, "/v2/auth/token");
	assert_int_equal(http_client_new(&c, &fast, &err), 0);
	assert_int_equal(http_request(c, &res,
	                              &(struct http_request){.url = url,
	                                                     .headers = hdrs,
	                                                     .body = body,
	                                                     .body_len = strlen(body),
	                                                     .secret_body = 1},
	                              &err),
	                 DB_ENET);
	assert_non_null(strstr(err.msg, "/v2/auth/token"));
	assert_non_null(strstr(err.msg, "the credentials are not sent there"));
	assert_non_null(strstr(a.first_request, "s3cret")); /* the origin got it */
	http_client_free(c);
	server_stop(&a);
	server_stop(&b);
	assert_int_equal(b.served, 0); /* the other host got nothing at all */
	http_response_release(&res);
	free(script0);
	free(url);
}

static void test_auth_dropped_across_origins(void **state)
{
	struct server a = {.nr = 1},
	              b = {.script = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, .nr = 1};
	const char *hdrs[] = {"Authorization: Bearer tok-123", NULL};
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	char *script0, *url;

	(void)state;
	redirect_pair(&a, &b, "302 Found", &script0);
	url = url_of(&a, "/v2/x");
	assert_int_equal(http_client_new(&c, &fast, &err), 0);
	assert_int_equal(http_request(c, &res,
	                              &(struct http_request){
	                                  .url = url, .headers = hdrs, .userpwd = "bot:pass-456"},
	                              &err),
	                 0);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.effective_url, "localhost"));
	assert_non_null(strstr(a.first_request, "Bearer tok-123"));
	http_client_free(c);
	server_stop(&a);
	server_stop(&b);
	assert_int_equal(b.served, 1);
	assert_null(strcasestr(b.first_request, "authorization"));
	http_response_release(&res);
	free(script0);
	free(url);
}

static void test_same_origin_redirect_keeps_request(void **state)
{
	struct server a = {.nr = 3};
	const char *body = "{\"identifier\":\"bot\",\"secret\":\"s3cret\"}";
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	char *r307, *r303, *url;

	(void)state;
	server_start(&a);
	r307 = xasprintf("HTTP/1.1 307 Moved\r\nLocation: http://127.0.0.1:%d/login2\r\n"
	                 "Content-Length: 0\r\n\r\n",
	                 a.port);
	r303 = xasprintf("HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n");
	a.script[0] = r307;
	a.script[1] = r303;
	a.script[2] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	url = url_of(&a, "/login");
	assert_int_equal(http_client_new(&c, &fast, &err), 0);
	assert_int_equal(
	    http_request(c, &res,
	                 &(struct http_request){
	                     .url = url, .body = body, .body_len = strlen(body), .secret_body = 1},
	                 &err),
	    0);
	assert_int_equal(res.status, 200);
	http_client_free(c);
	server_stop(&a);
	/* 307 repeats the POST with its body at the same origin; 303 turns it into a GET */
	assert_non_null(strstr(a.requests[1], "POST /login2 "));
	assert_non_null(strstr(a.requests[1], "s3cret"));
	assert_non_null(strstr(a.requests[2], "GET /done "));
	assert_null(strstr(a.requests[2], "s3cret"));
	http_response_release(&res);
	free(r307);
	free(r303);
	free(url);
}

static void test_redirect_limit(void **state)
{
	struct server a = {.nr = 3};
	struct http_opts o = fast;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	const char *loop = "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	a.script[0] = a.script[1] = a.script[2] = loop;
	o.max_redirects = 2;
	assert_int_equal(fetch(&a, &o, "/start", NULL, &res, &err), DB_ENET);
	assert_non_null(strstr(err.msg, "more than 2 redirects"));
	assert_int_equal(a.served, 3);
	http_response_release(&res);
}

/* Credentials over plain http go nowhere but loopback: refused before any connection (the
 * TEST-NET address would not answer). */
static void test_credentials_need_https(void **state)
{
	static const struct {
		const char *url;
		int ok;
	} cases[] = {
	    {"https://hub.docker.com/v2/", 1},
	    {"http://127.0.0.1:5000/v2/", 1},
	    {"http://127.1.2.3/", 1},
	    {"http://localhost:8080/", 1},
	    {"http://[::1]:5000/", 1},
	    {"HTTPS://Registry.Example.com/", 1},
	    {"http://192.0.2.1/v2/", 0},
	    {"http://registry.example.com/", 0},
	    {"http://127.0.0.1.example.com/", 0},
	    {"http://localhost.example.com/", 0},
	    {"ftp://127.0.0.1/", 0},
	    {"not a url", 0},
	};
	const char *auth[] = {"Authorization: Bearer tok", NULL};
	struct http_client *c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	const char *body = "{\"secret\":\"x\"}";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_credentials_allowed(cases[i].url) != cases[i].ok)
			fail_msg("http_credentials_allowed(\"%s\") != %d", cases[i].url,
			         cases[i].ok);
	assert_int_equal(http_client_new(&c, &fast, &err), 0);
	assert_int_equal(http_request(c, &res,
	                              &(struct http_request){.url = "http://192.0.2.1/v2/x?t=1",
	                                                     .userpwd = "bot:pw"},
	                              &err),
	                 DB_EAUTH);
	assert_non_null(strstr(err.msg, "'http://192.0.2.1/v2/x'"));
	assert_non_null(strstr(err.msg, "only over https"));
	db_err_clear(&err);
	assert_int_equal(
	    http_request(c, &res,
	                 &(struct http_request){.url = "http://192.0.2.1/", .headers = auth}, &err),
	    DB_EAUTH);
	db_err_clear(&err);
	assert_int_equal(http_request(c, &res,
	                              &(struct http_request){.url = "http://192.0.2.1/",
	                                                     .body = body,
	                                                     .body_len = strlen(body),
	                                                     .secret_body = 1},
	                              &err),
	                 DB_EAUTH);
	http_client_free(c);
	http_response_release(&res);
}

static void test_url_builder(void **state)
{
	static const struct {
		const char *base, *path;
		const char *params[7];
		const char *want;
	} cases[] = {
	    {"https://hub.docker.com",
	     "v2/namespaces/demisto/repositories/python3/tags",
	     {"page_size", "100", "ordering", "last_updated", NULL},
	     "https://hub.docker.com/v2/namespaces/demisto/repositories/python3/tags"
	     "?page_size=100&ordering=last_updated"},
	    {"http://127.0.0.1:5000/",
	     "/v2/demisto/python3/tags/list",
	     {"n", "1000", NULL},
	     "http://127.0.0.1:5000/v2/demisto/python3/tags/list?n=1000"},
	    {"http://h/mirror%20a/", "v2/a b/x%y", {NULL}, "http://h/mirror%20a/v2/a%20b/x%25y"},
	    {"https://auth.example.com/token?account=bot",
	     NULL,
	     {"service", "registry.example.com", "scope", "repository:demisto/python3:pull", NULL},
	     "https://auth.example.com/token?account=bot&service=registry.example.com"
	     "&scope=repository%3ademisto%2fpython3%3apull"},
	    {"http://h", NULL, {"q", "a&b=c d", NULL}, "http://h/?q=a%26b%3dc+d"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = http_url(cases[i].base, cases[i].path, cases[i].params);
		if (!got || strcasecmp(got, cases[i].want))
			fail_msg("http_url #%zu: got %s, want %s", i, got ? got : "NULL",
			         cases[i].want);
		free(got);
	}
	assert_null(http_url("ftp://h/", "x", NULL));
	assert_null(http_url("not a url", "x", NULL));
}

static void test_url_helpers(void **state)
{
	char *s;

	(void)state;
	s = http_redact_url("https://user:secret@hub.example:8443/v2/x/tags?token=abc#frag");
	assert_string_equal(s, "https://hub.example:8443/v2/x/tags");
	free(s);
	s = http_redact_url("http://127.0.0.1:5000/v2/");
	assert_string_equal(s, "http://127.0.0.1:5000/v2/");
	free(s);
	s = http_resolve_url("http://127.0.0.1:5000/v2/a/tags/list?n=2",
	                     "/v2/a/tags/list?last=b&n=2");
	assert_string_equal(s, "http://127.0.0.1:5000/v2/a/tags/list?last=b&n=2");
	free(s);
	s = http_resolve_url("http://h/v2/a/tags/list", "https://other/x");
	assert_string_equal(s, "https://other/x");
	free(s);
	s = http_escape("repository:demisto/python3:pull");
	assert_string_equal(s, "repository%3Ademisto%2Fpython3%3Apull");
	free(s);
	assert_true(
	    http_same_origin("https://hub.docker.com/v2/x", "https://HUB.docker.com:443/y"));
	assert_false(http_same_origin("https://hub.docker.com/v2/x", "http://hub.docker.com/v2/x"));
	assert_false(http_same_origin("http://127.0.0.1:5000/", "http://127.0.0.1:5001/"));
	assert_false(http_same_origin("http://127.0.0.1:5000/", "not a url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_and_headers),
	    cmocka_unit_test(test_retry_then_ok),
	    cmocka_unit_test(test_retry_after_honoured),
	    cmocka_unit_test(test_retry_after_capped),
	    cmocka_unit_test(test_retries_exhausted),
	    cmocka_unit_test(test_no_retry_on_404),
	    cmocka_unit_test(test_body_cap),
	    cmocka_unit_test(test_redirect_protocols),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_unresolvable),
	    cmocka_unit_test(test_time_budget),
	    cmocka_unit_test(test_login_not_reposted_elsewhere),
	    cmocka_unit_test(test_auth_dropped_across_origins),
	    cmocka_unit_test(test_same_origin_redirect_keeps_request),
	    cmocka_unit_test(test_redirect_limit),
	    cmocka_unit_test(test_credentials_need_https),
	    cmocka_unit_test(test_url_builder),
	    cmocka_unit_test(test_url_helpers),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_retry_budget),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}

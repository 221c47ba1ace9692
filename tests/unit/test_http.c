/*
 * The HTTP layer against a scripted server on a loopback thread: each accepted connection gets
 * the next canned response (then the connection closes), so retries, Retry-After, caps,
 * redirects and timeouts are exercised without any outside service.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	const char *script[MAX_SCRIPT]; /* raw responses; "HANG" holds the connection silently */
	size_t big_body;                /* > 0: the response is a chunked body of this many bytes */
	int nr, served;
	char first_request[2048];
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

	while (len + 1 < cap && (r = read(fd, out + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		out[len] = '\0';
		if (strstr(out, "\r\n\r\n"))
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
		s->served++;
		if (!strcmp(s->script[i], "HANG")) {
			sleep(1);
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
	struct db_err err = DB_ERR_INIT;
	char *url;

	(void)state;
	server_start(&s); /* takes a free port, then gives it back */
	server_stop(&s);
	o.retries = 2;
	url = url_of(&s, "/gone");
	assert_int_equal(http_client_new(&c, &o, &err), 0);
	assert_int_equal(http_request(c, &res, &(struct http_request){.url = url}, &err), DB_ENET);
	assert_int_equal(res.attempts, 3);
	assert_non_null(strstr(err.msg, "/gone"));
	http_response_release(&res);
	http_client_free(c);
	free(url);
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

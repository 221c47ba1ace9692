/*
 * What the registry backends read from the network, without a network: hub tag pages and the
 * stop-early rule, v2 tags/list pages and Link headers, WWW-Authenticate challenges, token
 * answers, and the page bookkeeping (loops, the cap, another server). Hostile input is the
 * point: invalid and NUL-holding names cost only themselves, never the page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/http.h"
#include "updater/registry_int.h"

#define BASE  "http://127.0.0.1:5000"
#define SHOWN BASE "/v2/namespaces/demisto/repositories/python3/tags"

static struct buf body_of(const char *text)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, text);
	return b;
}

/* hub_parse_page() on `text` into a fresh list; the caller releases `f`. */
static int hub_page(struct registry_fetch *f, const char *text, char **next, int *settled,
                    struct db_err *err)
{
	struct buf b = body_of(text);
	int ret;

	f->out = taglist_new();
	ret = hub_parse_page(f, &b, BASE, SHOWN, next, settled, err);
	buf_release(&b);
	return ret;
}

static void test_hub_page(void **state)
{
	static const char page[] =
	    "{\"count\": 9, \"next\": \"/v2/namespaces/demisto/repositories/python3/tags?page=2\","
	    " \"results\": ["
	    "{\"name\": \"3.11.10.113941\", \"last_updated\": \"2024-05-01T10:20:30.123456Z\","
	    "  \"digest\": \"sha256:aa\"},"
	    "{\"name\": \"3.10.\\u0000.1\", \"last_updated\": \"2024-05-01T10:20:30Z\"},"
	    "{\"name\": \"../../x\"},"
	    "{\"name\": 42},"
	    "\"not an object\","
	    "{\"name\": \"latest\", \"last_updated\": null,"
	    "  \"tag_last_pushed\": \"2024-04-30T00:00:00Z\", \"digest\": \"not a digest\"},"
	    "{\"name\": \"3.10.13.83255\", \"last_updated\": \"yesterday\","
	    "  \"digest\": \"sha256:b\\u0000b\"},"
	    "{\"name\": \"1.0\", \"last_updated\": \"2024-01-01T00:00:00\\u0000Z\"}"
	    "]}";
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	const struct tag_entry *e;
	char *next = NULL;
	int settled = -1;

	(void)state;
	assert_int_equal(hub_page(&f, page, &next, &settled, &err), 0);
	assert_int_equal(f.out->nr, 4); /* the NUL one, "../../x" and the nameless are skipped */
	e = taglist_find(f.out, "3.11.10.113941");
	assert_non_null(e);
	assert_true(e->has_time && e->updated.tv_nsec == 123456000);
	assert_string_equal(e->digest, "sha256:aa");
	e = taglist_find(f.out, "latest");
	assert_true(e->has_time && !e->digest); /* tag_last_pushed; an invalid digest dropped */
	e = taglist_find(f.out, "3.10.13.83255");
	assert_true(!e->has_time && !e->digest); /* unreadable time; a NUL in the digest */
	assert_false(taglist_find(f.out, "1.0")->has_time);
	assert_string_equal(next, BASE "/v2/namespaces/demisto/repositories/python3/tags?page=2");
	assert_int_equal(settled, 0);
	free(next);
	registry_fetch_release(&f);
}

static void test_hub_page_refused(void **state)
{
	static const struct {
		const char *body;
		const char *what;
	} cases[] = {
	    {"{\"next\": null}", "no 'results' list"},
	    {"{\"results\": {}}", "no 'results' list"},
	    {"[1, 2]", "no 'results' list"},
	    {"{\"results\": [], \"next\": 7}", "'next' is not a URL"},
	    {"{\"results\": [], \"next\": \"http://h/\\u0000x\"}", "unusable 'next' link"},
	    {"{\"results\": [], \"next\": \"ftp://h/x\"}", "unusable 'next' link"},
	    {"{\"results\": [], \"next\": \"http://[bad\"}", "unusable 'next' link"},
	    {"{\"results\": [", "malformed JSON"},
	    {"<html>maintenance</html>", "malformed JSON"},
	    {"", "malformed JSON"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_fetch f = {0};
		struct db_err err = DB_ERR_INIT;
		char *next = (char *)"unset";
		int settled;

		if (hub_page(&f, cases[i].body, &next, &settled, &err) != DB_EPARSE ||
		    !strstr(err.msg, cases[i].what) || !strstr(err.msg, SHOWN) || next)
			fail_msg("case %zu: '%s' (next %s)", i, err.msg, next ? next : "NULL");
		registry_fetch_release(&f);
	}
}

/* Invalid UTF-8 in one name: the page is read with the bytes replaced, that name skipped. */
static void test_hub_page_bad_utf8(void **state)
{
	static const char page[] = "{\"results\": [{\"name\": \"3.10.\xff\xfe.1\"},"
	                           " {\"name\": \"3.11.1.5\"}], \"next\": null}";
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	char *next = NULL;
	int settled;

	(void)state;
	assert_int_equal(hub_page(&f, page, &next, &settled, &err), 0);
	assert_int_equal(f.out->nr, 1);
	assert_non_null(taglist_find(f.out, "3.11.1.5"));
	assert_null(next);
	registry_fetch_release(&f);
}

static void add_at(struct taglist *l, const char *name, long sec)
{
	struct timespec t = {sec, 0};
	assert_non_null(taglist_add(l, name, &t, NULL));
}

/* The stop-early rule: a page whose oldest entry is known, with the same time, settles the
 * listing; the cached tags the page did not mention are merged in with their data. */
static void test_hub_stop_early(void **state)
{
	static const char page[] =
	    "{\"next\": \"" BASE "/v2/x?page=2\", \"results\": ["
	    "{\"name\": \"3.12.1.300\", \"last_updated\": \"2023-11-14T22:18:20Z\"},"
	    "{\"name\": \"3.12.1.200\", \"last_updated\": \"2023-11-14T22:15:00Z\"}]}";
	static const char moved[] =
	    "{\"next\": null, \"results\": ["
	    "{\"name\": \"3.12.1.200\", \"last_updated\": \"2023-11-14T22:15:01Z\"}]}";
	struct taglist *cached = taglist_new();
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	char *next = NULL;
	int settled = 0;

	(void)state;
	add_at(cached, "3.12.1.200", 1700000100); /* 2023-11-14T22:15:00Z */
	add_at(cached, "3.12.1.100", 1700000000);
	assert_non_null(taglist_add(cached, "latest", NULL, "sha256:cc"));
	f.cached = cached;
	assert_int_equal(hub_page(&f, page, &next, &settled, &err), 0);
	assert_int_equal(settled, 1);
	hub_merge_cached(&f);
	assert_int_equal(f.out->nr, 4);
	assert_int_equal(taglist_find(f.out, "3.12.1.100")->updated.tv_sec, 1700000000);
	assert_string_equal(taglist_find(f.out, "latest")->digest, "sha256:cc");
	free(next);
	registry_fetch_release(&f);

	/* the same name with another time: re-pushed, not settled */
	memset(&f, 0, sizeof(f));
	f.cached = cached;
	assert_int_equal(hub_page(&f, moved, &next, &settled, &err), 0);
	assert_int_equal(settled, 0);
	registry_fetch_release(&f);

	/* no cache: never settled */
	memset(&f, 0, sizeof(f));
	assert_int_equal(hub_page(&f, page, &next, &settled, &err), 0);
	assert_int_equal(settled, 0);
	free(next);
	registry_fetch_release(&f);
	taglist_free(cached);
}

static void test_v2_page(void **state)
{
	static const char page[] =
	    "{\"name\": \"demisto/python3\", \"tags\": [\"3.11.10.113941\", \"3.10.\\u0000.1\","
	    " \"..\", 7, null, \"latest\", \""
	    "3.11.10.113941"
	    "\"]}";
	static const struct {
		const char *link;
		const char *want; /* NULL: no next page */
	} links[] = {
	    {NULL, NULL},
	    {"</v2/demisto/python3/tags/list?last=b&n=2>; rel=\"next\"",
	     BASE "/v2/demisto/python3/tags/list?last=b&n=2"},
	    {"<http://other:1/v2/x?last=b>; rel=next", "http://other:1/v2/x?last=b"},
	    {"</a>; rel=\"prev\", </b>; rel=\"next\"", BASE "/b"},
	    {"</a>; rel=\"prev\"", NULL},
	    {"<ftp://h/x>; rel=\"next\"", NULL},
	    {"no brackets; rel=\"next\"", NULL},
	    {"<unterminated; rel=\"next\"", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct registry_fetch f = {0};
		struct db_err err = DB_ERR_INIT;
		struct buf b = body_of(page);
		char *next = NULL;

		f.out = taglist_new();
		assert_int_equal(v2_parse_page(&f, &b, links[i].link,
		                               BASE "/v2/demisto/python3/tags/list?n=2", SHOWN,
		                               &next, &err),
		                 0);
		assert_int_equal(f.out->nr, 2); /* a repeat counts once */
		assert_non_null(taglist_find(f.out, "latest"));
		if (links[i].want ? !next || strcmp(next, links[i].want) : next != NULL)
			fail_msg("link %zu: next %s, want %s", i, next ? next : "NULL",
			         links[i].want ? links[i].want : "NULL");
		free(next);
		buf_release(&b);
		registry_fetch_release(&f);
	}
}

static void test_v2_page_shapes(void **state)
{
	static const struct {
		const char *body;
		int ret;
		size_t nr;
	} cases[] = {
	    {"{\"name\": \"x\", \"tags\": null}", 0, 0}, /* a repository without tags */
	    {"{\"name\": \"x\", \"tags\": []}", 0, 0},   {"{\"name\": \"x\"}", DB_EPARSE, 0},
	    {"{\"tags\": \"3.1\"}", DB_EPARSE, 0},       {"[\"3.1\"]", DB_EPARSE, 0},
	    {"{\"tags\": [\"3.1\"", DB_EPARSE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_fetch f = {0};
		struct db_err err = DB_ERR_INIT;
		struct buf b = body_of(cases[i].body);
		char *next = NULL;

		f.out = taglist_new();
		if (v2_parse_page(&f, &b, "</n>; rel=\"next\"", BASE "/", SHOWN, &next, &err) !=
		        cases[i].ret ||
		    f.out->nr != cases[i].nr || (cases[i].ret && next))
			fail_msg("case %zu: %s", i, err.msg);
		free(next);
		buf_release(&b);
		registry_fetch_release(&f);
	}
}

static void test_challenge(void **state)
{
	static const struct {
		const char *header;
		int bearer, basic;
		const char *realm, *service, *scope;
	} cases[] = {
	    {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	     "scope=\"repository:demisto/python3:pull\"",
	     1, 0, "https://auth.docker.io/token", "registry.docker.io",
	     "repository:demisto/python3:pull"},
	    {"bearer realm=https://a/t, service=s", 1, 0, "https://a/t", "s", NULL},
	    {"Bearer realm=\"a\\\"b\",realm=\"second\"", 1, 0, "a\"b", NULL, NULL},
	    {"Bearer realm=\"unterminated", 1, 0, "unterminated", NULL, NULL},
	    {"Bearer noequals", 1, 0, NULL, NULL, NULL},
	    {"Bearer ", 1, 0, NULL, NULL, NULL},
	    {"Basic realm=\"Registry\"", 0, 1, "Registry", NULL, NULL},
	    {"Basic", 0, 1, NULL, NULL, NULL},
	    {"Basically", 0, 0, NULL, NULL, NULL},
	    {"Digest realm=\"x\"", 0, 0, NULL, NULL, NULL},
	    {"", 0, 0, NULL, NULL, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct v2_challenge c;
		v2_challenge_parse(&c, cases[i].header);
		if (c.bearer != cases[i].bearer || c.basic != cases[i].basic ||
		    (cases[i].realm ? !c.realm || strcmp(c.realm, cases[i].realm) : !!c.realm) ||
		    (cases[i].service ? !c.service || strcmp(c.service, cases[i].service)
		                      : !!c.service) ||
		    (cases[i].scope ? !c.scope || strcmp(c.scope, cases[i].scope) : !!c.scope))
			fail_msg("challenge %zu: '%s'", i, cases[i].header);
		v2_challenge_release(&c);
	}
}

static void test_token_answer(void **state)
{
	static const char *const keys[] = {"token", "access_token", NULL};
	static const struct {
		long status;
		const char *body;
		int ret;
		const char *token;
		long expires_in;
	} cases[] = {
	    {200, "{\"token\": \"abc\", \"expires_in\": 300}", 0, "abc", 300},
	    {200, "{\"access_token\": \"xyz\"}", 0, "xyz", 0},
	    {200, "{\"token\": \"\", \"access_token\": \"xyz\"}", DB_EPARSE, NULL, 0},
	    {200, "{\"token\": \"a\\u0000b\"}", DB_EPARSE, NULL, 0},
	    {200, "{\"token\": \"a\\nb\"}", DB_EPARSE, NULL, 0}, /* would split a header */
	    {200, "{\"token\": 5}", DB_EPARSE, NULL, 0},
	    {200, "{\"token\": \"t\", \"expires_in\": 99999999}", 0, "t", 0},
	    {200, "{\"token\": \"t\", \"expires_in\": -5}", 0, "t", 0},
	    {200, "not json", DB_EPARSE, NULL, 0},
	    {401, "{\"token\": \"abc\"}", DB_EAUTH, NULL, 0},
	    {403, "", DB_EAUTH, NULL, 0},
	    {500, "", DB_ENET, NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_response res = HTTP_RESPONSE_INIT;
		struct db_err err = DB_ERR_INIT;
		char *token = NULL;
		long expires_in = -1;
		int ret;

		res.status = cases[i].status;
		buf_adds(&res.body, cases[i].body);
		ret = registry_token_answer(&res, "https://auth/token", keys, "anonymous access",
		                            &token, &expires_in, &err);
		if (ret != cases[i].ret ||
		    (cases[i].token ? !token || strcmp(token, cases[i].token) : token != NULL) ||
		    (!ret && expires_in != cases[i].expires_in) ||
		    (ret && !strstr(err.msg, "https://auth/token")))
			fail_msg("case %zu: ret %d, token %s, '%s'", i, ret, token ? token : "NULL",
			         err.msg);
		free(token);
		http_response_release(&res);
	}
}

/* registry_next_page() on a copy of `next` */
static int next_page(const struct registry_conn *c, struct registry_pages *p, char **url,
                     const char *next, struct db_err *err)
{
	char *n = xstrdup(next);
	int ret = registry_next_page(c, p, url, &n, SHOWN, err);

	assert_null(n);
	assert_string_equal(*url, next);
	return ret;
}

static void test_pages(void **state)
{
	struct registry_conn c = {.url = (char *)BASE, .max_pages = 3};
	struct registry_pages p;
	struct db_err err = DB_ERR_INIT;
	char *url = xstrdup(BASE "/v2/x?page=1");

	(void)state;
	registry_pages_init(&p, url);
	assert_int_equal(next_page(&c, &p, &url, BASE "/v2/x?page=2", &err), 0);
	assert_int_equal(next_page(&c, &p, &url, BASE "/v2/x?page=1", &err), DB_ENET);
	assert_non_null(strstr(err.msg, "loop"));
	db_err_clear(&err);
	assert_int_equal(next_page(&c, &p, &url, "http://other:5000/v2/x?page=3", &err), DB_ENET);
	assert_non_null(strstr(err.msg, "another server"));
	db_err_clear(&err);
	assert_int_equal(next_page(&c, &p, &url, BASE "/v2/x?page=3", &err), 0);
	assert_int_equal(next_page(&c, &p, &url, BASE "/v2/x?page=4", &err), DB_ENET);
	assert_non_null(strstr(err.msg, "more than 3 pages"));
	registry_pages_release(&p);

	/* many pages: every one remembered (the set grows) */
	c.max_pages = 100000;
	registry_pages_init(&p, BASE "/0");
	for (int i = 1; i < 5000; i++) {
		char next[64];
		snprintf(next, sizeof(next), BASE "/%d", i);
		assert_int_equal(next_page(&c, &p, &url, next, &err), 0);
	}
	assert_int_equal(next_page(&c, &p, &url, BASE "/1234", &err), DB_ENET);
	registry_pages_release(&p);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hub_page),
	    cmocka_unit_test(test_hub_page_refused),
	    cmocka_unit_test(test_hub_page_bad_utf8),
	    cmocka_unit_test(test_hub_stop_early),
	    cmocka_unit_test(test_v2_page),
	    cmocka_unit_test(test_v2_page_shapes),
	    cmocka_unit_test(test_challenge),
	    cmocka_unit_test(test_token_answer),
	    cmocka_unit_test(test_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tag lists at the scale a hostile (or just huge) registry can send: one hub page of 80,000
 * tags, a listing of 400,000 over five pages (hub and v2), the stop-early merge of a page into
 * 400,000 cached tags, repeats, sorting, picking, and the cache file's round trip.
 *
 * Every cost must be linear in the input (plus one sort). The proof is this program's ctest
 * TIMEOUT (120 s, as every unit test: tests/CMakeLists.txt), not a timed assert: with a
 * lookup linear per tag, the 80k page took 9 s and the 400k listing over ten minutes; now the
 * whole program takes about 5 s (15 s with ASan). The times are printed for reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "updater/registry_int.h"
#include "updater/tagcache.h"
#include "scratch.h"

#define BASE  "http://127.0.0.1:5000"
#define SHOWN BASE "/v2/namespaces/demisto/repositories/python3/tags"
#define T0    1700000000L

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tag number i: a 3.x Python line and a build that grows with i; newer i, newer time. */
static void tag_name(char *out, size_t n, long i)
{
	snprintf(out, n, "3.%ld.%ld.%ld", 8 + i % 5, 1 + i / 5 % 17, 100000 + i);
}

/* A hub page of tags [from, to), newest first, as the hub sends it. */
static void hub_body(struct buf *b, long from, long to, int with_next)
{
	char name[64], when[40];
	long i;

	buf_reset(b);
	buf_addf(b, "{\"count\": %ld, \"next\": %s, \"results\": [", to - from,
	         with_next ? "\"" BASE "/v2/more?page=2\"" : "null");
	for (i = to - 1; i >= from; i--) {
		struct timespec t = {T0 + i, 0};
		tag_name(name, sizeof(name), i);
		tagtime_format(when, sizeof(when), &t);
		buf_addf(b,
		         "%s{\"name\": \"%s\", \"last_updated\": \"%s\", \"digest\": "
		         "\"sha256:%064lx\"}",
		         i == to - 1 ? "" : ",", name, when, i);
	}
	buf_adds(b, "]}");
}

/* A v2 page of tags [from, to) (in name order is not needed: a registry may send any). */
static void v2_body(struct buf *b, long from, long to)
{
	char name[64];
	long i;

	buf_reset(b);
	buf_adds(b, "{\"name\": \"demisto/python3\", \"tags\": [");
	for (i = from; i < to; i++) {
		tag_name(name, sizeof(name), i);
		buf_addf(b, "%s\"%s\"", i == from ? "" : ",", name);
	}
	buf_adds(b, "]}");
}

static void check_all(const struct taglist *l, long from, long to)
{
	char name[64];
	long i;

	for (i = from; i < to; i++) {
		tag_name(name, sizeof(name), i);
		if (!taglist_find(l, name))
			fail_msg("'%s' is missing", name);
	}
}

static void test_hub_page_80k(void **state)
{
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	struct tagver_policy p = {STRATEGY_LATEST_BUILD, 0, 0, NULL, T0};
	struct buf b = BUF_INIT;
	const struct tag_entry *pick;
	char *next = NULL, name[64];
	int settled;
	double t;

	(void)state;
	hub_body(&b, 0, 80000, 0);
	f.out = taglist_new();
	t = now_s();
	assert_int_equal(hub_parse_page(&f, &b, BASE, SHOWN, &next, &settled, &err), 0);
	taglist_sort(f.out);
	pick = tagver_pick(f.out, "demisto/python3", NULL, &p);
	printf("one hub page of 80,000 tags (%zu bytes): parsed, sorted, picked in %.3f s\n", b.len,
	       now_s() - t);
	assert_int_equal(f.out->nr, 80000);
	check_all(f.out, 0, 80000);
	tag_name(name, sizeof(name), 79999);
	assert_string_equal(pick->name, name);
	assert_null(next);
	buf_release(&b);
	registry_fetch_release(&f);
}

/* 400k over five hub pages, then a warm listing: one page of 100 new tags whose oldest is
 * known settles it, and the 400k cached tags are merged in. Then the cache file's round trip
 * and the same 400k over v2. */
static void test_listing_400k(void **state)
{
	struct registry_fetch f = {0}, warm = {0}, v2 = {0};
	struct tagcache_entry e = TAGCACHE_ENTRY_INIT, back = TAGCACHE_ENTRY_INIT;
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	char *dir = scratch_new("tagscale"), *path, *next = NULL;
	int page, settled;
	double t;

	(void)state;
	f.out = taglist_new();
	t = now_s();
	for (page = 4; page >= 0; page--) { /* newest first */
		hub_body(&b, page * 80000L, (page + 1) * 80000L, page > 0);
		assert_int_equal(hub_parse_page(&f, &b, BASE, SHOWN, &next, &settled, &err), 0);
		free(next);
		next = NULL;
	}
	taglist_sort(f.out);
	printf("400,000 tags over five hub pages: parsed and sorted in %.3f s\n", now_s() - t);
	assert_int_equal(f.out->nr, 400000);

	/* the warm listing: 100 new tags, the page's oldest the newest cached */
	warm.cached = f.out;
	warm.out = taglist_new();
	hub_body(&b, 399999, 400100, 1);
	t = now_s();
	assert_int_equal(hub_parse_page(&warm, &b, BASE, SHOWN, &next, &settled, &err), 0);
	assert_int_equal(settled, 1);
	hub_merge_cached(&warm);
	taglist_sort(warm.out);
	printf("one page of 101 merged into 400,000 cached tags in %.3f s\n", now_s() - t);
	assert_int_equal(warm.out->nr, 400100);
	check_all(warm.out, 0, 400100);
	free(next);
	registry_fetch_release(&f);

	/* the cache file of 400k tags, written and read back */
	path = tagcache_path(dir, BASE, "hub", "demisto/python3");
	e.tags = warm.out;
	e.fetched_at = e.full_at = time(NULL);
	t = now_s();
	assert_int_equal(tagcache_store(path, &e, BASE, "hub", "demisto/python3", &err), 0);
	assert_int_equal(tagcache_load(&back, path, BASE, "hub", "demisto/python3"), 0);
	printf("the cache file of 400,100 tags written and read in %.3f s\n", now_s() - t);
	assert_int_equal(back.tags->nr, 400100);
	e.tags = NULL;
	tagcache_entry_release(&back);
	registry_fetch_release(&warm);

	/* the same 400k from a v2 registry: names only, in pages of 100k */
	v2.out = taglist_new();
	t = now_s();
	for (page = 0; page < 4; page++) {
		v2_body(&b, page * 100000L, (page + 1) * 100000L);
		assert_int_equal(v2_parse_page(&v2, &b, NULL, BASE "/", SHOWN, &next, &err), 0);
	}
	taglist_sort(v2.out);
	printf("400,000 tags over four v2 pages: parsed and sorted in %.3f s\n", now_s() - t);
	assert_int_equal(v2.out->nr, 400000);
	check_all(v2.out, 0, 400000);

	registry_fetch_release(&v2);
	buf_release(&b);
	free(path);
	scratch_remove(dir);
}

/* Every name twice (a registry repeating itself) and a page of names that differ only at the
 * end: still one entry per name, at the same cost. */
static void test_repeats(void **state)
{
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	char *next = NULL;
	long i;

	(void)state;
	buf_adds(&b, "{\"name\": \"x\", \"tags\": [");
	for (i = 0; i < 200000; i++)
		buf_addf(&b, "%s\"%0100ld\"", i ? "," : "", i % 100000);
	buf_adds(&b, "]}");
	f.out = taglist_new();
	assert_int_equal(v2_parse_page(&f, &b, NULL, BASE "/", SHOWN, &next, &err), 0);
	assert_int_equal(f.out->nr, 100000);
	buf_release(&b);
	registry_fetch_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hub_page_80k),
	    cmocka_unit_test(test_listing_400k),
	    cmocka_unit_test(test_repeats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tag versions, table-driven: what is a candidate, how tags order, what each strategy picks,
 * the age limit, the deny list, and the never-downgrade rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "updater/tagver.h"

#define DAY 86400L
#define NOW 1700000000L

static void test_names(void **state)
{
	static const struct {
		const char *name;
		size_t len; /* 0: strlen */
		int valid;
	} cases[] = {
	    {"3.11.10.113941", 0, 1}, {"latest", 0, 1},   {"_under", 0, 1},
	    {"1.3-alpine", 0, 1},     {"a", 0, 1},        {"../../x", 0, 0},
	    {".hidden", 0, 0},        {"-dash", 0, 0},    {"3.10\n", 0, 0},
	    {"3.10 ", 0, 0},          {"a/b", 0, 0},      {"a:b", 0, 0},
	    {"caf\xc3\xa9", 0, 0},    {"\xff\xfe", 0, 0}, {"", 0, 0},
	    {"3.10\0x", 6, 0},
	};
	char long_name[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].name);
		if (tag_name_valid(cases[i].name, len) != cases[i].valid)
			fail_msg("tag_name_valid(\"%s\") != %d", cases[i].name, cases[i].valid);
	}
	memset(long_name, 'a', sizeof(long_name));
	assert_true(tag_name_valid(long_name, 128));
	assert_false(tag_name_valid(long_name, 129));
	assert_false(tag_name_valid(long_name, 300));
}

static void test_parse(void **state)
{
	static const struct {
		const char *tag;
		int ok, nr;
		uint64_t build;
	} cases[] = {
	    {"3.11.10.113941", 1, 4, 113941},
	    {"3.10.13.83255", 1, 4, 83255},
	    {"3.11.10.2005648", 1, 4, 2005648},
	    {"1.0", 1, 2, 0},
	    {"2.7.18.27799", 1, 4, 27799},
	    {"latest", 0, 0, 0},
	    {"1.3-alpine", 0, 0, 0},
	    {"1.0.0-rc1", 0, 0, 0},
	    {"5d1e2c6f0b8a", 0, 0, 0},
	    {"0123456789abcdef0123456789abcdef01234567", 0, 0, 0},
	    {"3", 0, 0, 0},
	    {"3..1", 0, 0, 0},
	    {"3.1.", 0, 0, 0},
	    {".3.1", 0, 0, 0},
	    {"3.-1", 0, 0, 0},
	    {"3.99999999999999999999", 0, 0, 0},
	    {"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", 0, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tagver v;
		int ok = !tagver_parse(&v, cases[i].tag);
		if (ok != cases[i].ok)
			fail_msg("tagver_parse(\"%s\"): %d, want %d", cases[i].tag, ok,
			         cases[i].ok);
		if (ok && (v.nr != cases[i].nr || tagver_build(&v) != cases[i].build))
			fail_msg("tagver_parse(\"%s\"): wrong components", cases[i].tag);
	}
}

static void test_compare(void **state)
{
	static const struct {
		const char *a, *b;
		int cmp;
	} cases[] = {
	    {"3.10.13.99999", "3.11.10.2005648", -1},
	    {"3.9.1.99999", "3.10.1.1000", -1}, /* as text "3.9" > "3.10" */
	    {"3.11.10.113941", "3.11.10.113941", 0},
	    {"3.11.10.99999", "3.11.10.100000", -1},
	    {"3.11", "3.11.0", -1},
	    {"3.011.1", "3.11.1", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tagver a, b;
		int c;
		assert_int_equal(tagver_parse(&a, cases[i].a), 0);
		assert_int_equal(tagver_parse(&b, cases[i].b), 0);
		c = tagver_cmp(&a, &b);
		c = c < 0 ? -1 : c > 0;
		if (c != cases[i].cmp)
			fail_msg("tagver_cmp(%s, %s) = %d, want %d", cases[i].a, cases[i].b, c,
			         cases[i].cmp);
		c = tagver_cmp(&b, &a);
		assert_int_equal(c < 0 ? -1 : c > 0, -cases[i].cmp);
	}
}

static void test_time(void **state)
{
	static const struct {
		const char *in;
		long sec, nsec;
		const char *out;
	} cases[] = {
	    {"2023-11-14T22:13:20Z", 1700000000L, 0, "2023-11-14T22:13:20Z"},
	    {"2023-11-14T22:13:20.123456789Z", 1700000000L, 123456789,
	     "2023-11-14T22:13:20.123456789Z"},
	    {"2023-11-14T22:13:20.5Z", 1700000000L, 500000000, "2023-11-14T22:13:20.5Z"},
	    {"2023-11-15T00:13:20+02:00", 1700000000L, 0, "2023-11-14T22:13:20Z"},
	    {"2023-11-14T20:13:20.000001-02:00", 1700000000L, 1000, "2023-11-14T22:13:20.000001Z"},
	};
	static const char *const bad[] = {"",
	                                  "2023-11-14",
	                                  "2023-11-14T22:13:20",
	                                  "2023-11-14T22:13:20.1234567891Z",
	                                  "2023-13-14T22:13:20Z",
	                                  "2023-11-14T22:13:20Zjunk",
	                                  "null",
	                                  "2023-11-14T22:13:20.Z"};
	size_t i;
	char out[40];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec t;
		if (tagtime_parse(&t, cases[i].in))
			fail_msg("tagtime_parse(\"%s\") failed", cases[i].in);
		assert_int_equal(t.tv_sec, cases[i].sec);
		assert_int_equal(t.tv_nsec, cases[i].nsec);
		tagtime_format(out, sizeof(out), &t);
		assert_string_equal(out, cases[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct timespec t;
		if (!tagtime_parse(&t, bad[i]))
			fail_msg("tagtime_parse(\"%s\") accepted", bad[i]);
	}
}

/* A tag with its age in days (-1: no timestamp). */
struct tagdef {
	const char *name;
	long age_days;
};

static struct taglist *make_list(const struct tagdef *defs)
{
	struct taglist *l = taglist_new();

	for (; defs->name; defs++) {
		struct timespec t = {NOW - defs->age_days * DAY, 0};
		assert_non_null(taglist_add(l, defs->name, defs->age_days >= 0 ? &t : NULL, NULL));
	}
	return l;
}

static const struct tagdef hub_tags[] = {
    {"3.10.13.83255", 400},  {"3.10.13.99999", 300},  {"3.10.14.99000", 250},
    {"3.11.10.113941", 100}, {"3.11.10.2005648", 30}, {"3.12.7.2005700", 5},
    {"2.7.18.2005000", 60},  {"latest", 1},           {"1.3-alpine", 1},
    {"0123abcd4567ef89", 1}, {"1.0.0-rc1", 1},        {NULL, 0},
};

/* After a rollback the newest build is on a lower Python. */
static const struct tagdef rollback_tags[] = {
    {"3.12.1.2005000", 20}, {"3.11.9.2005100", 10}, {"3.10.14.99999", 300}, {NULL, 0}};

static void test_sort(void **state)
{
	struct taglist *l = make_list(hub_tags);
	static const char *const want[] = {
	    "3.12.7.2005700", "3.11.10.2005648", "2.7.18.2005000", "3.11.10.113941",
	    "3.10.13.99999",  "3.10.14.99000",   "3.10.13.83255",  "0123abcd4567ef89",
	    "1.0.0-rc1",      "1.3-alpine",      "latest"};
	size_t i;

	(void)state;
	taglist_sort(l);
	assert_int_equal(l->nr, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l->nr; i++)
		assert_string_equal(l->v[i].name, want[i]);
	assert_int_equal(taglist_count_candidates(l), 7);
	taglist_free(l);
}

static void test_pick(void **state)
{
	static const char *const deny_hub[] = {"demisto/python3:3.12.7.2005700",
	                                       "demisto/other:3.11.10.2005648"};
	static const struct {
		const char *what;
		const struct tagdef *tags;
		enum strategy strategy;
		const char *current;
		long min_age;
		int unknown_deny;
		int deny; /* use deny_hub */
		int no_times;
		const char *want; /* NULL: nothing qualifies */
	} cases[] = {
	    {"latest-build: highest build", hub_tags, STRATEGY_LATEST_BUILD, "3.10.13.83255", 0, 0,
	     0, 0, "3.12.7.2005700"},
	    {"7-8 digit builds beat 5-6", hub_tags, STRATEGY_LATEST_BUILD, "3.10.13.99999", 0, 0, 0,
	     0, "3.12.7.2005700"},
	    {"rollback: lower Python wins", rollback_tags, STRATEGY_LATEST_BUILD, "3.12.1.2005000",
	     0, 0, 0, 0, "3.11.9.2005100"},
	    {"rollback, same-minor stays", rollback_tags, STRATEGY_SAME_MINOR, "3.12.1.2005000", 0,
	     0, 0, 0, "3.12.1.2005000"},
	    {"current latest", hub_tags, STRATEGY_SAME_MINOR, "latest", 0, 0, 0, 0,
	     "3.12.7.2005700"},
	    {"current NULL", hub_tags, STRATEGY_SAME_MAJOR, NULL, 0, 0, 0, 0, "3.12.7.2005700"},
	    {"current SHA", hub_tags, STRATEGY_SAME_MINOR, "0123abcd4567ef89", 0, 0, 0, 0,
	     "3.12.7.2005700"},
	    {"same-minor 3.10", hub_tags, STRATEGY_SAME_MINOR, "3.10.13.83255", 0, 0, 0, 0,
	     "3.10.13.99999"},
	    {"same-minor 3.11", hub_tags, STRATEGY_SAME_MINOR, "3.11.10.113941", 0, 0, 0, 0,
	     "3.11.10.2005648"},
	    {"same-major 3", hub_tags, STRATEGY_SAME_MAJOR, "3.10.13.83255", 0, 0, 0, 0,
	     "3.12.7.2005700"},
	    {"same-major 2", hub_tags, STRATEGY_SAME_MAJOR, "2.7.18.27799", 0, 0, 0, 0,
	     "2.7.18.2005000"},
	    {"same-minor, none on 3.9", hub_tags, STRATEGY_SAME_MINOR, "3.9.1.1000", 0, 0, 0, 0,
	     NULL},
	    {"same-minor widens for a short base", hub_tags, STRATEGY_SAME_MINOR, "3.5", 0, 0, 0, 0,
	     "3.12.7.2005700"},
	    {"min age skips young tags", hub_tags, STRATEGY_LATEST_BUILD, NULL, 7, 0, 0, 0,
	     "3.11.10.2005648"},
	    {"min age, all too young", hub_tags, STRATEGY_LATEST_BUILD, NULL, 1000, 0, 0, 0, NULL},
	    {"no times, unknown allowed", hub_tags, STRATEGY_LATEST_BUILD, NULL, 7, 0, 0, 1,
	     "3.12.7.2005700"},
	    {"no times, unknown denied", hub_tags, STRATEGY_LATEST_BUILD, NULL, 7, 1, 0, 1, NULL},
	    {"unknown deny without min age", hub_tags, STRATEGY_LATEST_BUILD, NULL, 0, 1, 0, 1,
	     "3.12.7.2005700"},
	    {"deny list", hub_tags, STRATEGY_LATEST_BUILD, NULL, 0, 0, 1, 0, "3.11.10.2005648"},
	    {"deny list and same-minor", hub_tags, STRATEGY_SAME_MINOR, "3.12.0.2005001", 0, 0, 1,
	     0, NULL},
	};
	struct strlist deny = {(char **)deny_hub, 2, 2};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct taglist *l = make_list(cases[i].tags);
		struct tagver_policy p = {cases[i].strategy, cases[i].min_age,
		                          cases[i].unknown_deny, cases[i].deny ? &deny : NULL, NOW};
		const struct tag_entry *t;
		size_t k;

		int sorted;

		if (cases[i].no_times)
			for (k = 0; k < l->nr; k++)
				l->v[k].has_time = 0;
		/* unsorted (every tag weighed), then sorted (the first that qualifies) */
		for (sorted = 0; sorted < 2; sorted++) {
			if (sorted)
				taglist_sort(l);
			t = tagver_pick(l, "demisto/python3", cases[i].current, &p);
			if (!cases[i].want && t)
				fail_msg("%s (sorted %d): picked %s, want none", cases[i].what,
				         sorted, t->name);
			if (cases[i].want && (!t || strcmp(t->name, cases[i].want)))
				fail_msg("%s (sorted %d): picked %s, want %s", cases[i].what,
				         sorted, t ? t->name : "none", cases[i].want);
		}
		taglist_free(l);
	}
}

static void test_upgrade(void **state)
{
	static const struct {
		const char *current, *target;
		int up;
	} cases[] = {
	    {"3.10.13.83255", "3.11.10.113941", 1},
	    {"3.10.13.99999", "3.11.10.2005648", 1},
	    {"3.11.10.113941", "3.11.10.113941", 0}, /* same tag */
	    {"3.12.1.2005200", "3.11.9.2005100", 0}, /* already past the target: no downgrade */
	    {"3.12.1.2005000", "3.11.9.2005100", 1}, /* a rollback with a higher build moves */
	    {"latest", "3.11.10.113941", 1},         /* pinned to latest: resolve it */
	    {"0123abcd4567ef89", "3.11.10.113941", 1},
	    {NULL, "3.11.10.113941", 1},
	    {"3.10.13.83255", "latest", 0}, /* never a target */
	    {"3.10.13.83255", NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tagver_is_upgrade(cases[i].current, cases[i].target) != cases[i].up)
			fail_msg("tagver_is_upgrade(%s, %s) != %d",
			         cases[i].current ? cases[i].current : "NULL",
			         cases[i].target ? cases[i].target : "NULL", cases[i].up);
}

static void test_list(void **state)
{
	struct taglist *l = taglist_new();
	struct timespec t = {NOW, 0};

	(void)state;
	assert_non_null(taglist_add(l, "3.11.10.1", NULL, NULL));
	assert_non_null(taglist_add(l, "3.11.10.1", &t, "sha256:ab")); /* replaces */
	assert_null(taglist_add(l, "../../x", NULL, NULL));
	assert_int_equal(l->nr, 1);
	assert_true(taglist_find(l, "3.11.10.1")->has_time);
	assert_string_equal(taglist_find(l, "3.11.10.1")->digest, "sha256:ab");
	assert_null(taglist_find(l, "nope"));
	taglist_free(l);
	taglist_free(NULL);
}

/* The reference vectors of SipHash-2-4: key 00 01 .. 0f, messages 00 01 .. (len - 1). */
static void test_siphash(void **state)
{
	static const uint64_t want[] = {0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL,
	                                0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL};
	static const size_t lens[] = {0, 1, 2, 3};
	unsigned char msg[64];
	uint64_t key[2] = {0, 0};
	size_t i;

	(void)state;
	for (i = 0; i < 16; i++)
		key[i / 8] |= (uint64_t)i << (8 * (i % 8));
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		assert_true(tagver_siphash(key, msg, lens[i]) == want[i]);
	assert_true(tagver_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(tagver_siphash(key, msg, 63) == 0x958a324ceb064572ULL);
}

/* Many names through the index: every one found at its entry before and after sorting,
 * repeats replaced in place, and the sorted order agrees with the comparator. */
static void test_index(void **state)
{
	struct taglist *l = taglist_new();
	char name[64];
	size_t i, n = 20000;

	(void)state;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "3.%zu.%zu.%zu", i % 13, i % 7, 100000 + i * 7919 % n);
		assert_non_null(taglist_add(l, name, NULL, NULL));
		snprintf(name, sizeof(name), "t%zu", i);
		assert_non_null(taglist_add(l, name, NULL, NULL));
	}
	assert_int_equal(l->nr, 2 * n);
	assert_false(l->sorted);
	for (i = 0; i < n; i++) {
		struct timespec t = {NOW + (long)i, 0};
		snprintf(name, sizeof(name), "t%zu", i);
		assert_non_null(taglist_add(l, name, &t, "sha256:00")); /* a repeat */
	}
	assert_int_equal(l->nr, 2 * n);
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			taglist_sort(l);
		for (i = 0; i < l->nr; i++)
			assert_ptr_equal(taglist_find(l, l->v[i].name), &l->v[i]);
		for (i = 0; i < n; i++) {
			const struct tag_entry *e;
			snprintf(name, sizeof(name), "t%zu", i);
			e = taglist_find(l, name);
			assert_non_null(e);
			assert_true(e->has_time && e->updated.tv_sec == NOW + (long)i);
		}
		assert_null(taglist_find(l, "t-1"));
	}
	assert_true(l->sorted);
	assert_true(l->v[0].candidate && !l->v[l->nr - 1].candidate);
	for (i = 1; i < l->nr; i++)
		if (l->v[i - 1].candidate && l->v[i].candidate)
			assert_true(tagver_build(&l->v[i - 1].ver) >= tagver_build(&l->v[i].ver));
	assert_non_null(taglist_add(l, "9.9.9.9", NULL, NULL));
	assert_false(l->sorted); /* a new name unsorts */
	taglist_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),   cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_compare), cmocka_unit_test(test_time),
	    cmocka_unit_test(test_sort),    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_upgrade), cmocka_unit_test(test_list),
	    cmocka_unit_test(test_siphash), cmocka_unit_test(test_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

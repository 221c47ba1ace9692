/*
 * Pack groups (updater/group.c) and the plan (updater/plan.c): a pack's group depends on its
 * name and the config alone, shards partition the groups, and a pack's bumps on any image
 * share one group.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "updater/plan.h"

struct spec {
	const char *path, *pack, *image, *target;
	enum item_status status;
};

static struct item *make_items(const struct spec *s, size_t n, const struct config *cfg)
{
	struct item *items = calloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].path = (char *)s[i].path;
		items[i].pack = (char *)s[i].pack;
		items[i].image = (char *)s[i].image;
		items[i].target = (char *)s[i].target;
		items[i].status = s[i].status;
		group_of(&items[i].group_id, items[i].pack, cfg);
	}
	return items;
}

static void test_hash_is_fnv1a(void **state)
{
	(void)state;
	assert_int_equal(group_hash(""), 2166136261u);
	assert_int_equal(group_hash("a"), 0xe40c292cu);
	assert_int_equal(group_hash("foobar"), 0xbf9cf968u);
}

static void test_group_depends_on_name_and_config_only(void **state)
{
	struct config cfg;
	struct group_id a, b;
	char name[16];
	struct buf br = BUF_INIT;
	(void)state;

	config_init(&cfg);
	group_of(&a, "AWS-EC2", &cfg);
	assert_int_equal(a.k, (int)(group_hash("AWS-EC2") % 64));
	group_of(&b, "AWS-EC2", &cfg);
	assert_int_equal(a.k, b.k);
	group_name(name, sizeof(name), &a);
	assert_int_equal(atoi(name), a.k);
	group_branch(&br, &cfg, &a);
	assert_string_equal(br.ptr + strlen("dockerbump/group-"), name);
	buf_reset(&br);

	strlist_push(&cfg.rollout.canary_packs, "HelloWorld");
	group_of(&a, "HelloWorld", &cfg);
	assert_int_equal(a.k, GROUP_CANARY);
	group_name(name, sizeof(name), &a);
	assert_string_equal(name, "canary");
	group_branch(&br, &cfg, &a);
	assert_string_equal(br.ptr, "dockerbump/canary");
	/* A canary pack list does not move the other packs. */
	group_of(&b, "AWS-EC2", &cfg);
	assert_int_equal(b.k, (int)(group_hash("AWS-EC2") % 64));

	assert_int_equal(group_parse(&a, "canary", &cfg), 0);
	assert_int_equal(a.k, GROUP_CANARY);
	assert_int_equal(group_parse(&a, "17", &cfg), 0);
	assert_int_equal(a.k, 17);
	assert_int_equal(group_parse(&a, "017", &cfg), -1);
	assert_int_equal(group_parse(&a, "64", &cfg), -1);
	assert_int_equal(group_parse(&a, "-1", &cfg), -1);
	assert_int_equal(group_parse(&a, "x", &cfg), -1);
	buf_release(&br);
	config_release(&cfg);
}

/* Shards partition the groups: every group is in exactly one shard, the canary in the first. */
static void test_shards_partition_groups(void **state)
{
	struct group_id g;
	int n, k, shards;
	(void)state;

	for (n = 1; n <= 9; n++) {
		for (g.k = GROUP_CANARY; g.k < 64; g.k++) {
			shards = 0;
			for (k = 1; k <= n; k++)
				shards += group_in_shard(&g, k, n);
			assert_int_equal(shards, 1);
		}
		g.k = GROUP_CANARY;
		assert_true(group_in_shard(&g, 1, n));
	}
	g.k = 5;
	assert_true(group_in_shard(&g, 2, 4)); /* 5 mod 4 = 1 = K-1 */
	assert_true(group_in_shard(&g, 0, 0));
}

static void test_plan_groups_by_pack(void **state)
{
	static const struct spec s[] = {
	    {"Packs/B/Scripts/b1.yml", "B", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/A/Scripts/a2.yml", "A", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/A/Scripts/a1.yml", "A", "demisto/python", "2.7.18.9", STATUS_BUMPED},
	    {"Packs/C/Scripts/c1.yml", "C", "demisto/python3", "3.11.1.5", STATUS_UP_TO_DATE},
	    {"Packs/Canary/Scripts/x.yml", "Canary", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	};
	struct config cfg;
	struct item *items;
	struct plan p;
	struct group_id ga, gb;
	size_t i;
	(void)state;

	config_init(&cfg);
	cfg.git.groups = 1000;
	strlist_push(&cfg.rollout.canary_packs, "Canary");
	items = make_items(s, 5, &cfg);
	group_of(&ga, "A", &cfg);
	group_of(&gb, "B", &cfg);
	assert_true(ga.k != gb.k); /* with 1000 groups, A and B are apart */
	plan_build(&p, items, 5, &cfg);
	assert_int_equal(p.nr, 3);
	/* The canary first, then by k. */
	assert_string_equal(p.groups[0].name, "canary");
	assert_string_equal(p.groups[0].branch, "dockerbump/canary");
	assert_true(p.groups[1].id.k < p.groups[2].id.k);
	/* Both images of pack A share A's group, ordered by path. */
	for (i = 1; i < 3; i++)
		if (p.groups[i].id.k == ga.k) {
			assert_int_equal(p.groups[i].nr, 2);
			assert_int_equal(p.groups[i].items[0], 2); /* a1 */
			assert_int_equal(p.groups[i].items[1], 1); /* a2 */
			assert_ptr_equal(items[1].branch, p.groups[i].branch);
			plan_group_drop(&p.groups[i], 2);
			assert_int_equal(p.groups[i].nr, 1);
			assert_int_equal(p.groups[i].items[0], 1);
		}
	assert_null(items[3].branch);
	assert_non_null(plan_find(&p, "canary"));
	assert_null(plan_find(&p, "63"));
	plan_release(&p);
	config_release(&cfg);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_is_fnv1a),
	    cmocka_unit_test(test_group_depends_on_name_and_config_only),
	    cmocka_unit_test(test_shards_partition_groups),
	    cmocka_unit_test(test_plan_groups_by_pack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

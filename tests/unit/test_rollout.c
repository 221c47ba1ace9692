/*
 * The rollout's decisions (updater/rollout.c) from synthetic items, tags and forge states: the
 * canary first, release after the cadence, declined tags, max_open and its share per shard,
 * and which pull requests are closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "updater/dashboard.h"
#include "updater/rollout.h"

#define NOW   1800000000LL
#define HOURS 3600LL
#define IMG   "demisto/python3"
#define OLD   "3.10.13.100"
#define T1    "3.11.10.200"
#define T2    "3.11.10.300"

struct fixture {
	struct config cfg;
	struct item items[16];
	size_t nr;
	struct taglist *tags;
	struct rollout ro;
	struct plan plan;
	int planned;
};

/* A pack name whose group is k (of cfg.git.groups). */
static const char *pack_in_group(const struct config *cfg, int k)
{
	static char names[64][16];
	struct group_id g;
	int i;

	for (i = 0; i < 100000; i++) {
		snprintf(names[k], sizeof(names[k]), "P%d", i);
		group_of(&g, names[k], cfg);
		if (g.k == k)
			return names[k];
	}
	fail_msg("no pack name for group %d", k);
	return NULL;
}

static void fx_init(struct fixture *f, int groups)
{
	memset(f, 0, sizeof(*f));
	config_init(&f->cfg);
	f->cfg.git.groups = groups;
	f->tags = taglist_new();
	f->tags->image = strdup(IMG);
	taglist_add(f->tags, OLD, NULL, NULL);
	taglist_add(f->tags, T1, NULL, NULL);
}

/* An item of pack `pack`, pending from OLD to `target` (or up to date when target is NULL). */
static struct item *fx_item(struct fixture *f, const char *pack, const char *target)
{
	struct item *it = &f->items[f->nr++];
	char path[128];

	snprintf(path, sizeof(path), "Packs/%s/Scripts/S%zu/S%zu.yml", pack, f->nr, f->nr);
	it->path = strdup(path);
	it->pack = strdup(pack);
	it->name = strdup("S");
	it->image = strdup(IMG);
	it->tag = strdup(target ? OLD : T1);
	it->target = target ? strdup(target) : NULL;
	it->status = target ? STATUS_BUMPED : STATUS_UP_TO_DATE;
	group_of(&it->group_id, it->pack, &f->cfg);
	group_name(it->group, sizeof(it->group), &it->group_id);
	return it;
}

static void fx_pr(struct fixture *f, const char *branch, enum rollout_pr_state state,
                  long long merged_at, const char *carried_tag)
{
	struct rollout_pr pr = {0};
	char pair[64];

	if (!f->ro.cfg)
		rollout_init(&f->ro, &f->cfg, NOW);
	pr.number = (long)f->ro.nr_prs + 1;
	pr.branch = branch;
	pr.state = state;
	pr.merged_at = merged_at;
	snprintf(pair, sizeof(pair), "%s:%s", IMG, carried_tag);
	strlist_push(&pr.carried, pair);
	rollout_add_pr(&f->ro, &pr);
	strlist_clear(&pr.carried);
}

/* The branch of group k. */
static const char *branch_of(int k)
{
	static char branch[32];
	snprintf(branch, sizeof(branch), "dockerbump/group-%d", k);
	return branch;
}

static void fx_decide(struct fixture *f)
{
	if (!f->ro.cfg)
		rollout_init(&f->ro, &f->cfg, NOW);
	rollout_targets(&f->ro, f->items, f->nr, &f->tags, 1);
	plan_build(&f->plan, f->items, f->nr, &f->cfg);
	rollout_slots(&f->ro, &f->plan, f->items);
	f->planned = 1;
}

static void fx_release(struct fixture *f)
{
	size_t i;
	for (i = 0; i < f->nr; i++) {
		free(f->items[i].path);
		free(f->items[i].pack);
		free(f->items[i].name);
		free(f->items[i].image);
		free(f->items[i].tag);
		free(f->items[i].target);
		free(f->items[i].reason);
	}
	if (f->planned)
		plan_release(&f->plan);
	rollout_release(&f->ro);
	taglist_free(f->tags);
	config_release(&f->cfg);
}

static enum rollout_action action_of(struct fixture *f, const char *pack)
{
	struct group_id g;
	size_t i;
	group_of(&g, pack, &f->cfg);
	for (i = 0; i < f->plan.nr; i++)
		if (f->plan.groups[i].id.k == g.k)
			return f->ro.actions[i];
	return ROLLOUT_ACT_NONE;
}

/* Before any release only the canary is proposed the new tag; the others wait for it. */
static void test_canary_first(void **state)
{
	struct fixture f;
	struct item *canary, *a, *b;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	canary = fx_item(&f, "Canary", T1);
	a = fx_item(&f, pack_in_group(&f.cfg, 1), T1);
	b = fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	assert_int_equal(canary->status, STATUS_BUMPED);
	assert_string_equal(canary->target, T1);
	assert_int_equal(a->status, STATUS_WAITING);
	assert_int_equal(b->status, STATUS_WAITING);
	assert_non_null(strstr(a->reason, "to be released by the canary"));
	assert_int_equal(f.plan.nr, 1);
	assert_int_equal(f.ro.actions[0], ROLLOUT_ACT_OPEN);
	assert_string_equal(f.ro.images[0].newest, T1);
	/* What the canary already runs (OLD) counts as released; T1 does not yet. */
	assert_string_equal(f.ro.images[0].released, OLD);
	fx_release(&f);
}

/* A canary merge releases the tag after the cadence, not before; others then get it. */
static void test_release_after_cadence(void **state)
{
	struct fixture f;
	struct item *canary, *a;
	(void)state;

	/* Merged 23 hours ago, cadence 24 h: not released yet. */
	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	taglist_add(f.tags, T2, NULL, NULL);
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_MERGED, NOW - 23 * HOURS, T1);
	canary = fx_item(&f, "Canary", T2);
	a = fx_item(&f, pack_in_group(&f.cfg, 3), T2);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_WAITING);
	fx_release(&f);

	/* 25 hours ago: T1 is released; the group gets T1, the canary the newest T2. */
	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	taglist_add(f.tags, T2, NULL, NULL);
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_MERGED, NOW - 25 * HOURS, T1);
	canary = fx_item(&f, "Canary", T2);
	a = fx_item(&f, pack_in_group(&f.cfg, 3), T2);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_BUMPED);
	assert_string_equal(a->target, T1);
	assert_string_equal(canary->target, T2);
	assert_string_equal(f.ro.images[0].released, T1);
	assert_int_equal(action_of(&f, a->pack), ROLLOUT_ACT_OPEN);
	fx_release(&f);
}

/* Without canary packs the first group with items of the image is the canary. */
static void test_first_group_is_the_canary(void **state)
{
	struct fixture f;
	struct item *first, *later;
	(void)state;

	fx_init(&f, 8);
	later = fx_item(&f, pack_in_group(&f.cfg, 6), T1);
	first = fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	assert_int_equal(first->status, STATUS_BUMPED);
	assert_int_equal(later->status, STATUS_WAITING);
	assert_string_equal(f.ro.images[0].canary, "2");
	fx_release(&f);
}

/* A pull request closed unmerged declines its tag for its group, until a newer one. */
static void test_declined(void **state)
{
	struct fixture f;
	struct item *canary;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_CLOSED, 0, T1);
	canary = fx_item(&f, "Canary", T1);
	fx_decide(&f);
	assert_int_equal(canary->status, STATUS_DECLINED);
	assert_non_null(strstr(canary->reason, "#1"));
	assert_int_equal(f.plan.nr, 0);
	fx_release(&f);

	/* A newer tag is proposed again. */
	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	taglist_add(f.tags, T2, NULL, NULL);
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_CLOSED, 0, T1);
	canary = fx_item(&f, "Canary", T2);
	fx_decide(&f);
	assert_int_equal(canary->status, STATUS_BUMPED);
	fx_release(&f);
}

/* max_open: open pull requests keep their slot, the rest go in order, the others wait. */
static void test_max_open_and_shards(void **state)
{
	struct fixture f;
	struct item *it[6];
	int k;
	(void)state;

	fx_init(&f, 8);
	f.cfg.rollout.max_open = 3;
	fx_pr(&f, "dockerbump/group-5", ROLLOUT_PR_OPEN, 0, T1);
	fx_pr(&f, "dockerbump/group-0", ROLLOUT_PR_MERGED, NOW - 48 * HOURS, T1); /* released */
	for (k = 1; k <= 6; k++)
		it[k - 1] = fx_item(&f, pack_in_group(&f.cfg, k), T1);
	fx_decide(&f);
	assert_int_equal(f.ro.slots, 3);
	assert_int_equal(action_of(&f, it[4]->pack), ROLLOUT_ACT_UPDATE); /* group 5 keeps its */
	assert_int_equal(action_of(&f, it[0]->pack), ROLLOUT_ACT_OPEN);   /* groups 1 and 2 */
	assert_int_equal(action_of(&f, it[1]->pack), ROLLOUT_ACT_OPEN);
	assert_int_equal(action_of(&f, it[2]->pack), ROLLOUT_ACT_WAIT); /* 3, 4, 6 wait */
	assert_int_equal(it[2]->status, STATUS_WAITING);
	assert_non_null(strstr(it[2]->reason, "rollout.max_open"));
	assert_int_equal(it[3]->status, STATUS_WAITING);
	assert_int_equal(it[5]->status, STATUS_WAITING);
	assert_null(it[5]->branch);
	assert_int_equal(f.ro.nr_close, 0);
	fx_release(&f);

	/* Shard 2 of 2 holds 3/2 = 1 slot (shard 1 holds 2); it sees only its groups. */
	fx_init(&f, 8);
	f.cfg.rollout.max_open = 3;
	f.cfg.cli.shard_k = 2;
	f.cfg.cli.shard_n = 2;
	rollout_init(&f.ro, &f.cfg, NOW);
	assert_int_equal(f.ro.shard_k, 2);
	fx_pr(&f, "dockerbump/group-0", ROLLOUT_PR_MERGED, NOW - 48 * HOURS, T1);
	it[0] = fx_item(&f, pack_in_group(&f.cfg, 1), T1);
	it[1] = fx_item(&f, pack_in_group(&f.cfg, 3), T1);
	fx_decide(&f);
	assert_int_equal(f.ro.slots, 1);
	assert_int_equal(action_of(&f, it[0]->pack), ROLLOUT_ACT_OPEN);
	assert_int_equal(action_of(&f, it[1]->pack), ROLLOUT_ACT_WAIT);
	fx_release(&f);
}

/* Open pull requests with nothing left, or on a branch of no group, are closed. */
static void test_cleanup(void **state)
{
	struct fixture f;
	struct item *up;
	(void)state;

	fx_init(&f, 8);
	fx_pr(&f, "dockerbump/group-4", ROLLOUT_PR_OPEN, 0, T1);
	fx_pr(&f, "dockerbump/demisto-python3-batch-1", ROLLOUT_PR_OPEN, 0, T1);
	fx_pr(&f, "dockerbump/group-99", ROLLOUT_PR_OPEN, 0, T1); /* groups went from 100 to 8 */
	up = fx_item(&f, pack_in_group(&f.cfg, 4), NULL);         /* group 4 is up to date */
	(void)up;
	fx_decide(&f);
	assert_int_equal(f.ro.nr_close, 3);
	assert_non_null(strstr(f.ro.close[0].reason, "nothing of this group is pending"));
	assert_non_null(strstr(f.ro.close[1].reason, "no pack group"));
	assert_int_equal(f.ro.close[1].pr, 1);
	fx_release(&f);

	/* In shard 2 the stray branches are shard 1's to close. */
	fx_init(&f, 8);
	f.cfg.cli.shard_k = 2;
	f.cfg.cli.shard_n = 2;
	fx_pr(&f, "dockerbump/demisto-python3-batch-1", ROLLOUT_PR_OPEN, 0, T1);
	fx_decide(&f);
	assert_int_equal(f.ro.nr_close, 0);
	fx_release(&f);
}

/* A canary bumped by hand releases the tag it holds at once. */
static void test_hand_bumped_canary(void **state)
{
	struct fixture f;
	struct item *a;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_item(&f, "Canary", NULL); /* already on T1 */
	a = fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_BUMPED);
	assert_string_equal(a->target, T1);
	fx_release(&f);
}

/*
 * A tag the canary runs by hand is released, and another group's merge of it does not take
 * that back (its open pull requests would lose their target and be closed); the canary's own
 * merge of a tag still waits for the cadence, even though the canary then runs it.
 */
static void test_release_is_kept(void **state)
{
	struct fixture f;
	struct item *canary, *a;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_pr(&f, branch_of(3), ROLLOUT_PR_MERGED, NOW - 2 * HOURS, T1);
	fx_item(&f, "Canary", NULL); /* on T1, bumped by hand */
	a = fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_BUMPED);
	assert_string_equal(a->target, T1);
	fx_release(&f);

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_MERGED, NOW - 2 * HOURS, T1);
	canary = fx_item(&f, "Canary", NULL); /* on T1 through its own merge */
	(void)canary;
	a = fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_WAITING);
	fx_release(&f);
}

/*
 * The canary moving on to a newer tag keeps the older one released: with the canary on T1 the
 * others were proposed T1; the canary merged T2 an hour ago, and their pull requests must keep
 * T1 (not be closed as having nothing pending) until T2's cadence has passed. The price: a tag
 * the canary went past without ever running it (T1 and T2 the same day) is released as well.
 */
static void test_canary_moving_on_keeps_release(void **state)
{
	struct fixture f;
	struct item *canary, *a;
	(void)state;

	fx_init(&f, 8);
	taglist_add(f.tags, T2, NULL, NULL);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_MERGED, NOW - 1 * HOURS, T2);
	canary = fx_item(&f, "Canary", NULL);
	free(canary->tag);
	canary->tag = strdup(T2); /* on T2 through its own merge, an hour ago */
	a = fx_item(&f, pack_in_group(&f.cfg, 2), T2);
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_BUMPED);
	assert_string_equal(a->target, T1);
	fx_release(&f);
}

/* A canary bumped by hand releases its tag in every shard, not only in the canary's own. */
static void test_hand_bumped_canary_every_shard(void **state)
{
	struct fixture f;
	struct item *canary, *a;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	f.cfg.cli.shard_k = 2;
	f.cfg.cli.shard_n = 2;
	canary = fx_item(&f, "Canary", NULL); /* on T1, in shard 1 */
	canary->status = STATUS_SKIPPED;
	canary->reason = strdup("another shard");
	a = fx_item(&f, pack_in_group(&f.cfg, 1), T1); /* group 1: shard 2 */
	fx_decide(&f);
	assert_int_equal(a->status, STATUS_BUMPED);
	assert_string_equal(a->target, T1);
	assert_string_equal(f.ro.images[0].released, T1);
	fx_release(&f);
}

static void test_report(void **state)
{
	struct fixture f;
	json_t *j;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_pr(&f, "dockerbump/canary", ROLLOUT_PR_MERGED, NOW - 2 * HOURS, T1);
	fx_item(&f, "Canary", T1);
	fx_item(&f, pack_in_group(&f.cfg, 2), T1);
	fx_decide(&f);
	j = rollout_json(&f.ro);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, IMG), "canary")),
	                    "dockerbump/canary");
	assert_non_null(
	    json_string_value(json_object_get(json_object_get(j, IMG), "canary_merged_at")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, IMG), "waiting")),
	                 1);
	json_decref(j);
	fx_release(&f);
}

/* The dashboard names every item that needs a look, with its reason, and nothing else. */
static void test_dashboard(void **state)
{
	struct fixture f;
	struct item *blocked, *err;
	struct dashboard_group g[] = {
	    {"canary", "dockerbump/canary", 7, "https://x/pull/7", "open", 1}};
	struct buf a = BUF_INIT, b = BUF_INIT, title = BUF_INIT;
	size_t i;
	(void)state;

	fx_init(&f, 8);
	strlist_push(&f.cfg.rollout.canary_packs, "Canary");
	fx_item(&f, "Canary", T1);
	fx_item(&f, pack_in_group(&f.cfg, 2), T1); /* waiting */
	blocked = fx_item(&f, pack_in_group(&f.cfg, 3), T1);
	err = fx_item(&f, pack_in_group(&f.cfg, 4), T1);
	fx_item(&f, pack_in_group(&f.cfg, 5), NULL); /* up to date: not listed */
	fx_decide(&f);
	blocked->status = STATUS_VERIFY_FAILED;
	free(blocked->reason);
	blocked->reason = strdup("verification regressed: ok in old, exception in new");
	err->status = STATUS_ERROR;
	free(err->reason);
	err->reason = strdup("could not verify: the old image 'x': pull failed");
	dashboard_render(&a, &f.ro, f.items, f.nr, g, 1, 0);
	dashboard_render(&b, &f.ro, f.items, f.nr, g, 1, 0);
	assert_string_equal(a.ptr, b.ptr); /* no clock: the same state, the same bytes */
	for (i = 0; i < f.nr; i++) {
		const struct item *it = &f.items[i];
		int listed = strstr(a.ptr, it->path) != NULL;
		int needs = it->status == STATUS_WAITING || it->status == STATUS_DECLINED ||
		            it->status == STATUS_VERIFY_FAILED || it->status == STATUS_ERROR ||
		            it->status == STATUS_UNPARSEABLE;
		if (listed != needs)
			fail_msg("%s (%s) is %slisted", it->path, item_status_name(it->status),
			         listed ? "" : "not ");
	}
	assert_non_null(strstr(a.ptr, "pull failed"));
	assert_non_null(strstr(a.ptr, "[#7](https://x/pull/7)"));
	assert_non_null(strstr(a.ptr, "| demisto/python3 | 3.11.10.200 |"));
	/* A small limit cuts the lists with a count. */
	buf_reset(&b);
	dashboard_render(&b, &f.ro, f.items, f.nr, g, 1, a.len - 10);
	assert_true(b.len <= a.len - 10);
	assert_non_null(strstr(b.ptr, "more (the run's report lists them all)"));
	dashboard_title(&title, &f.cfg);
	assert_string_equal(title.ptr, "dockerbump dashboard");
	f.cfg.cli.shard_k = 2;
	f.cfg.cli.shard_n = 4;
	buf_reset(&title);
	dashboard_title(&title, &f.cfg);
	assert_string_equal(title.ptr, "dockerbump dashboard (shard 2/4)");
	buf_release(&a);
	buf_release(&b);
	buf_release(&title);
	fx_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canary_first),
	    cmocka_unit_test(test_release_after_cadence),
	    cmocka_unit_test(test_first_group_is_the_canary),
	    cmocka_unit_test(test_declined),
	    cmocka_unit_test(test_max_open_and_shards),
	    cmocka_unit_test(test_cleanup),
	    cmocka_unit_test(test_hand_bumped_canary),
	    cmocka_unit_test(test_hand_bumped_canary_every_shard),
	    cmocka_unit_test(test_release_is_kept),
	    cmocka_unit_test(test_canary_moving_on_keeps_release),
	    cmocka_unit_test(test_report),
	    cmocka_unit_test(test_dashboard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

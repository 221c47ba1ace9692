/*
 * Rollout (SPEC §4 step 5): which tag each pack group is proposed, which groups get a pull
 * request tonight, which wait, and which of the bot's pull requests are closed.
 *
 * Everything is decided from the forge's state (the bot's own pull requests, read back every
 * run: open, merged with their merge time, closed unmerged) and the config, never from a local
 * file, so any runner on any night decides the same. This module only decides; run.c reads
 * the forge and carries the decisions out.
 *
 *	struct rollout ro;
 *	rollout_init(&ro, cfg, now);
 *	rollout_add_pr(&ro, &(struct rollout_pr){...});	// every bot pull request
 *	rollout_targets(&ro, items, nr, tags, nr_tags);		// retargets items, before the plan
 *	plan_build(&plan, items, nr, cfg);
 *	rollout_slots(&ro, &plan, items);			// one action per group
 *	... ro.actions[g] for plan.groups[g]; ro.close[] for pull requests to close ...
 *	rollout_release(&ro);
 *
 * The rules, per image I:
 *   - The canary of I is the group "canary" when `rollout.canary_packs` puts items of I there,
 *     else the first group (in rollout order) with a pending item of I.
 *   - A tag T of I is *released* once a bot pull request carrying I:T was merged at least
 *     `rollout.cadence_hours` ago (only the canary is ever proposed an unreleased tag, so such
 *     a merge is the canary's), or when the canary's items are already on T or newer in the
 *     base (bumped by hand).
 *   - The canary's items keep the newest tag the strategy picks; every other item is
 *     retargeted to the best *released* tag for it. An item with nothing released to move to
 *     is `waiting`. Before any tag is released, only the canary is proposed anything.
 *   - A pull request closed unmerged declines the tags it carried for its group: those items
 *     are `declined` until a newer tag is proposed to them.
 *   - At most `rollout.max_open` bot pull requests are open for the whole shard matrix: shard
 *     K of N may hold max_open / N (the first max_open % N shards one more). Groups that
 *     already have an open pull request keep it (it is updated in place); the others take the
 *     free slots in rollout order; the rest wait (their items are `waiting`).
 *   - An open pull request whose group has nothing pending any more (merged, bumped by hand,
 *     opted out, pack gone), or whose branch is no group of the config (git.groups changed),
 *     is closed with a comment saying why, and its branch deleted.
 */
#ifndef DOCKERBUMP_UPDATER_ROLLOUT_H
#define DOCKERBUMP_UPDATER_ROLLOUT_H

#include <stddef.h>

#include <jansson.h>

#include "common/strlist.h"
#include "updater/config.h"
#include "updater/plan.h"
#include "updater/scan.h"
#include "updater/tagver.h"

enum rollout_pr_state { ROLLOUT_PR_OPEN = 0, ROLLOUT_PR_MERGED, ROLLOUT_PR_CLOSED };

/* One of the bot's pull requests, as the forge and its marker say. */
struct rollout_pr {
	long number;
	const char *url;    /* borrowed */
	const char *branch; /* its head branch; borrowed */
	enum rollout_pr_state state;
	long long merged_at;    /* unix seconds; 0 unless merged */
	struct strlist carried; /* "image:tag" pairs it proposed (its marker) */
	void *handle;           /* the caller's own record of it, untouched here */
	/* Set by rollout_add_pr(). */
	int known; /* the branch is a group of the config */
	struct group_id group;
};

enum rollout_action {
	ROLLOUT_ACT_NONE = 0, /* nothing to propose */
	ROLLOUT_ACT_OPEN,     /* open a new pull request */
	ROLLOUT_ACT_UPDATE,   /* its open pull request is brought up to date in place */
	ROLLOUT_ACT_WAIT,     /* no free slot tonight: its items wait */
};

/* What the rollout knows of one image, for the report and the dashboard. */
struct rollout_image {
	char *image;
	char *newest;   /* the newest tag proposed to the canary; NULL: nothing pending */
	char *released; /* the newest released tag; NULL: none */
	char canary[16];
	long long canary_merged_at; /* when `newest` was merged; 0: not yet */
	size_t open, waiting;
};

/* A pull request to close, and why. */
struct rollout_close {
	size_t pr; /* index into `prs` */
	char *reason;
};

struct rollout {
	const struct config *cfg;
	long long now;
	int shard_k, shard_n;
	struct rollout_pr *prs;
	size_t nr_prs, alloc_prs;
	/* Outputs. */
	struct rollout_image *images;
	size_t nr_images, alloc_images;
	enum rollout_action *actions; /* one per plan group */
	size_t *open_pr;              /* per plan group: its open pull request, or SIZE_MAX */
	size_t nr_groups;
	struct rollout_close *close;
	size_t nr_close, alloc_close;
	size_t slots; /* this shard's share of rollout.max_open */
};

void rollout_init(struct rollout *ro, const struct config *cfg, long long now);
void rollout_release(struct rollout *ro);
/* Adds a pull request (copied; the strings it borrows must outlive `ro`). */
void rollout_add_pr(struct rollout *ro, const struct rollout_pr *pr);
/*
 * Retargets the pending (`bumped`) items: the canary keeps the newest tag, the others get the
 * newest released tag their strategy allows, or become `waiting`; declined tags make items
 * `declined`. `tags` are the image tag lists the targets came from.
 */
void rollout_targets(struct rollout *ro, struct item *items, size_t nr, struct taglist *const *tags,
                     size_t nr_tags);
/*
 * One action per group of `plan`, the slots, and the pull requests to close. Items of groups
 * that wait become `waiting`; a waiting group's items leave the plan (plan_group_drop()).
 */
void rollout_slots(struct rollout *ro, struct plan *plan, struct item *items);
/* The report's "rollout" object; a new reference. */
json_t *rollout_json(const struct rollout *ro);

#endif

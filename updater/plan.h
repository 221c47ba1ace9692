/*
 * Planning: the pending bumps, grouped by pack group (SPEC §4 step 4).
 *
 * Every item with status `bumped` joins the group of its pack (group.h), so a pack's bumps,
 * whatever their image, land on one branch with one release note. Groups come in rollout
 * order (the canary first, then by k); inside a group, items are ordered by pack and path.
 *
 *	struct plan p;
 *	plan_build(&p, items, nr, cfg);
 *	for (g = 0; g < p.nr; g++) ... p.groups[g].items[i] indexes `items`
 *	plan_release(&p);
 */
#ifndef DOCKERBUMP_UPDATER_PLAN_H
#define DOCKERBUMP_UPDATER_PLAN_H

#include <stddef.h>

#include "updater/config.h"
#include "updater/group.h"
#include "updater/scan.h"

struct plan_group {
	struct group_id id;
	char name[16]; /* "17", "canary" */
	char *branch;  /* "dockerbump/group-17" */
	size_t *items; /* indexes into the scan's items, by pack then path */
	size_t nr, alloc;
};

struct plan {
	struct plan_group *groups;
	size_t nr, alloc;
};

/* Builds the plan and points each planned item's `branch` at its group's branch name. */
void plan_build(struct plan *p, struct item *items, size_t nr, const struct config *cfg);
void plan_release(struct plan *p);
/* The group named `name` ("17", "canary"), or NULL. */
struct plan_group *plan_find(struct plan *p, const char *name);
/* Removes item `idx` from group `g` (verification or a bad pack dropped it). */
void plan_group_drop(struct plan_group *g, size_t idx);

#endif

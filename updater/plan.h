/*
 * Planning: the items to bump, grouped by image and target tag into batches (SPEC §4 step 3).
 *
 * Items with status `bumped` are sorted by image, target, pack and path; each group of one
 * image and one target is cut into batches of at most `batch_size` items, a pack never split
 * across batches (a pack larger than the batch size gets a batch of its own). Batches of one
 * image are numbered from 1 across its targets, so the branch names
 * (`<prefix><image with / as ->-batch-<n>`) are stable while the tag moves.
 *
 *	struct plan p;
 *	plan_build(&p, items, nr, cfg);
 *	for (b = 0; b < p.nr; b++) ... p.batches[b].items[i] indexes `items`
 *	plan_release(&p);
 */
#ifndef DOCKERBUMP_UPDATER_PLAN_H
#define DOCKERBUMP_UPDATER_PLAN_H

#include <stddef.h>

#include "updater/config.h"
#include "updater/scan.h"

struct batch {
	char *image;  /* demisto/python3 */
	char *target; /* the tag every item of the batch moves to */
	char *branch; /* dockerbump/demisto-python3-batch-1 */
	int number;
	size_t *items; /* indexes into the scan's items */
	size_t nr, alloc;
};

struct plan {
	struct batch *batches;
	size_t nr, alloc;
};

/* Builds the plan and points each planned item's `branch` at its batch's branch name. */
void plan_build(struct plan *p, struct item *items, size_t nr, const struct config *cfg);
void plan_release(struct plan *p);
/* Removes item `idx` from batch `b` (a regression dropped it). */
void batch_drop_item(struct batch *b, size_t idx);

#endif

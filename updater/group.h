/*
 * Pack groups: the unit of a branch and a pull request (SPEC §4 step 4).
 *
 * A pack's group is a pure function of its name and the config: the packs named in
 * `rollout.canary_packs` form the group "canary", every other pack is in group
 * k = FNV-1a(name) mod `git.groups`. Adding, removing or merging other packs never moves a
 * pack, so its branch and pull request stay put from night to night. `--shard K/N` takes the
 * groups with k mod N = K-1, and the canary group goes to shard 1.
 *
 *	struct group_id g;
 *	group_of(&g, "AWS-EC2", cfg);		// g.k = 17 (or GROUP_CANARY)
 *	group_name(buf, sizeof(buf), &g);	// "17", "canary"
 *	group_branch(&branch, cfg, &g);		// "dockerbump/group-17"
 *	if (group_in_shard(&g, 2, 4)) ...
 */
#ifndef DOCKERBUMP_UPDATER_GROUP_H
#define DOCKERBUMP_UPDATER_GROUP_H

#include <stddef.h>

#include "common/buf.h"
#include "updater/config.h"

#define GROUP_CANARY (-1)

struct group_id {
	int k; /* 0 .. git.groups - 1, or GROUP_CANARY */
};

/* The group of `pack` (NULL: an item outside Packs/, hashed as the empty name). */
void group_of(struct group_id *out, const char *pack, const struct config *cfg);
/* "canary" or the decimal k, into `out` (at least 16 bytes). */
void group_name(char *out, size_t n, const struct group_id *g);
/* Parses what group_name() writes; 0, or -1 when `s` is not a group of `cfg`. */
int group_parse(struct group_id *out, const char *s, const struct config *cfg);
/* Appends "<branch_prefix>group-<k>" or "<branch_prefix>canary". */
void group_branch(struct buf *out, const struct config *cfg, const struct group_id *g);
/* Whether the group belongs to shard k of n (1-based; n == 0: every group does). */
int group_in_shard(const struct group_id *g, int k, int n);
/* Rollout order: the canary first, then by k. */
int group_cmp(const struct group_id *a, const struct group_id *b);
/* The stable hash of a pack name (FNV-1a, 32 bits). */
unsigned long group_hash(const char *name);

#endif

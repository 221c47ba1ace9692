/*
 * The dashboard issue (SPEC §4 step 10, `pull_request.dashboard`): one issue, created once
 * and edited in place every run, that tells a maintainer where the rollout stands: per image
 * the target and whether it is released, every group with its pull request, and every item
 * that is waiting, declined, blocked by verification, unparseable or in error, with its
 * reason.
 *
 * The text is a pure function of the run's state (no clock, no run id), so a night that
 * changes nothing renders the same bytes and the issue is not edited. It stays within the
 * forge's body limit: past it, the item lists end with a count of what was left out.
 *
 *	struct dashboard_group g[] = {{"canary", "dockerbump/canary", 12, url, "open", 3}, ...};
 *	dashboard_title(&title, cfg);		// "dockerbump dashboard" (+ " (shard 2/4)")
 *	dashboard_render(&body, &ro, items, nr, g, ng, max_bytes);
 */
#ifndef DOCKERBUMP_UPDATER_DASHBOARD_H
#define DOCKERBUMP_UPDATER_DASHBOARD_H

#include <stddef.h>

#include "common/buf.h"
#include "updater/config.h"
#include "updater/rollout.h"
#include "updater/scan.h"

/* One group of the run and its pull request. Strings are borrowed. */
struct dashboard_group {
	const char *name;   /* "17", "canary" */
	const char *branch; /* "dockerbump/group-17" */
	long pr_number;     /* 0: none */
	const char *pr_url;
	const char *state; /* "open", "created", "updated", "waiting", "closed", ... */
	size_t items;
};

/* "dockerbump dashboard", with " (shard K/N)" in a shard matrix: one issue per shard. */
void dashboard_title(struct buf *out, const struct config *cfg);
/* Appends the Markdown body, at most `max_bytes` long (0: 60000). */
void dashboard_render(struct buf *out, const struct rollout *ro, const struct item *items,
                      size_t nr, const struct dashboard_group *groups, size_t ngroups,
                      size_t max_bytes);

#endif

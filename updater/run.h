/*
 * The scheduled job (SPEC §4): the pipeline behind `dockerbump run`, settings in, result out.
 *
 *   1. preflight: everything checkable before the first write       run_job()
 *   2. the base commit, read from git objects                       job_open()
 *   3. scan, and resolve each image's tags once                     job_scan(), job_resolve_...
 *   4. pack groups                                                   plan_build()
 *   5. rollout: the forge's state decides what each group proposes  (forge, when configured)
 *   6. verify every proposed item, new image first                  verify_items()
 *   7. per group: rewrite in memory, release notes, then the commit  build_group()
 *      objects (or, in a dry run, the diff, printed as it is made)
 *   8. move the refs, push, open / update / close pull requests
 *
 * A group is processed and its file contents dropped before the next one starts, so memory
 * follows the largest group, not the repository. One bad pack (a ReleaseNotes that is a file,
 * a symbolic link where a file should go) fails its own items with the reason; the rest of the
 * job goes on, and the report is always built once the scan ran.
 *
 *	struct run_result res;
 *	ret = run_job(&res, cfg, dry_run_diff_stream_or_NULL, &err);
 *	report_write(res.report, ...);	// res.report may be NULL when the job stopped early
 *	exit status: ret < 0 ? error : res.errors ? 1 : res.blocked ? 3 : 0
 *	run_result_release(&res);
 */
#ifndef DOCKERBUMP_UPDATER_RUN_H
#define DOCKERBUMP_UPDATER_RUN_H

#include <stdio.h>

#include "common/err.h"
#include "updater/config.h"
#include "updater/report.h"

struct job;
struct plan;

struct run_result {
	struct report *report; /* built once the scan ran; NULL before */
	size_t items;          /* scanned */
	size_t bumped;         /* items committed (or, in a dry run, that would be) */
	size_t errors;         /* items in `error`: the exit status is 1 */
	size_t blocked;        /* items blocked by verification: the exit status is 3 */
	size_t commits;        /* branches that got a new commit */
	size_t pushed;         /* branches sent to the remote */
	size_t forge_writes;   /* pull requests opened, updated or closed; dashboard edits */
	char *first_error;     /* the reason of the first item in error, for the message */
	struct job *job;       /* owns the scanned items the report borrows */
	struct plan *plan;     /* owns the branch names the items borrow */
};

/*
 * Runs the job with `cfg` (loaded and validated). In a dry run, the plan and a unified diff of
 * every file the run would change are written to `diff` as they are made (NULL: nothing is
 * printed). Returns 0 when the job finished, whatever happened to single items (see `out`), or
 * a negative code when it could not go on: then nothing after the failing step was written.
 */
int run_job(struct run_result *out, const struct config *cfg, FILE *diff, struct db_err *err);
void run_result_release(struct run_result *res);

#endif

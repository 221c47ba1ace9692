/*
 * What `scan`, `run` and `verify` share: opening the repository and resolving the base
 * commit, scanning, and resolving each image's target tag. The settings come in a loaded and
 * checked `struct config` (cli.h); nothing here knows the command line.
 *
 *	struct job job;
 *	job_init(&job, &cfg);			// borrows cfg until job_release()
 *	job_open(&job, &err);			// repository + base commit (not with --worktree)
 *	job_scan(&job, &err);
 *	job_resolve_targets(&job, &err);	// unless --offline
 *	...
 *	job_release(&job);
 */
#ifndef DOCKERBUMP_UPDATER_JOB_H
#define DOCKERBUMP_UPDATER_JOB_H

#include <git2.h>
#include <jansson.h>

#include "common/err.h"
#include "updater/config.h"
#include "updater/gitrepo.h"
#include "updater/registry.h"
#include "updater/scan.h"

struct job {
	const struct config *cfg;
	struct gitrepo *repo; /* NULL with --worktree */
	git_oid base;
	char base_hex[GIT_OID_HEXSZ + 1];
	char *base_ref;    /* the ref the base came from: "refs/remotes/origin/main", "HEAD" */
	char *base_branch; /* its branch name on the forge ("main"); NULL when HEAD is detached */
	struct scan scan;
	struct scan_opts scan_opts;
	json_t *images;                   /* image -> {"target", "tags_seen"} for the report */
	struct registry_client *registry; /* made on first use by job_registry() */
	struct taglist **tags;            /* every image resolved, with its tags */
	size_t nr_tags, alloc_tags;
};

void job_init(struct job *job, const struct config *cfg);
void job_release(struct job *job);
/*
 * Opens the repository (-C) and resolves the base commit; with --worktree only checks the
 * folder. A folder that is not a git repository is DB_EUSAGE with the --worktree hint.
 */
int job_open(struct job *job, struct db_err *err);
int job_scan(struct job *job, struct db_err *err);
/* The job's registry client, made on first use; borrowed, freed by job_release(). */
int job_registry(struct registry_client **out, struct job *job, struct db_err *err);
/*
 * Fills each pending item's target and status (bumped / up-to-date), per image. An image whose
 * tags cannot be read marks its items `error` and the others go on; the first such error is
 * returned (after everything was resolved). Warns when --image matched nothing.
 */
int job_resolve_targets(struct job *job, struct db_err *err);

#endif

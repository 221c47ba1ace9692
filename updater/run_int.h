/*
 * Internals of the run pipeline, shared by run.c (verify, rewrite, commit, push) and
 * run_forge.c (the forge: its state read back, the rollout, pull requests, the dashboard).
 * Not for other modules: they use run.h.
 */
#ifndef DOCKERBUMP_UPDATER_RUN_INT_H
#define DOCKERBUMP_UPDATER_RUN_INT_H

#include <stdio.h>

#include "common/buf.h"
#include "updater/forge.h"
#include "updater/gitpush.h"
#include "updater/gitrepo.h"
#include "updater/job.h"
#include "updater/plan.h"
#include "updater/rollout.h"
#include "updater/run.h"

/* A file of a group's commit. `item` is the item it belongs to, or NO_ITEM for a pack file. */
#define NO_ITEM ((size_t)-1)
struct file_change {
	char *path;
	const char *pack; /* borrowed from the items */
	size_t item;
	struct buf old, new;
	struct buf diff; /* a dry run's diff, made beside the rewrite (then `old` is dropped) */
};

struct group_work {
	struct file_change *files;
	size_t nr, alloc;
	struct gitrepo_commit commit;
	int built;     /* the commit (or its status, in a dry run) is known */
	int committed; /* the branch moved to a new commit */
	enum gitpush_result push;
	/* Its pull request after the run: number, page, and what happened to it. */
	long pr_number;
	char *pr_url;
	const char *pr_outcome; /* created, updated, unchanged, closed, waiting; NULL: none */
};

enum step {
	STEP_SCAN,
	STEP_TAGS,
	STEP_FORGE_READ,
	STEP_VERIFY,
	STEP_WRITE,
	STEP_COMMIT,
	STEP_PUSH,
	STEP_FORGE_WRITE,
	NSTEPS
};

struct run {
	const struct config *cfg;
	struct job job;
	struct gitrepo *repo; /* borrowed from the job */
	struct plan plan;
	struct group_work *work; /* one per plan group */
	FILE *diff;
	struct run_result *res;
	int push;
	double step_s[NSTEPS];

	/* The forge, when pull_request.provider names one (and, in a dry run, a token is there). */
	struct forge *forge;
	char *forge_repo;
	struct forge_prs prs; /* the bot's pull requests, all states */
	int rollout_on;       /* decisions come from the forge's state */
	struct rollout ro;
};

/* --- run_forge.c --- */

/* Preflight: the forge client and one authenticated read (step 1). */
int run_forge_open(struct run *r, struct db_err *err);
/* Reads the bot's pull requests and decides the rollout (retargets items, builds the plan). */
int run_forge_plan(struct run *r, struct db_err *err);
/* The branches to delete on the remote: those of the pull requests the rollout closes. */
size_t run_forge_doomed(struct run *r, struct gitpush_ref **out);
/* Closes, opens and updates the pull requests, then the dashboard. */
int run_forge_write(struct run *r, struct db_err *err);
/* A dry run's account of the rollout, on `r->diff`. */
void run_forge_print(struct run *r);
void run_forge_close(struct run *r);

#endif

/*
 * What `scan` and `run` share: the options both take, loading the config, opening the
 * repository and resolving the base commit, scanning, and resolving each image's target tag.
 *
 *	struct job job;
 *	job_init(&job);
 *	// each option: job_parse_option(&job.opts, id, optarg, "run", &err)
 *	job_load_config(&job, g, &err);		// -c FILE, else DIR/.dockerbump.yml, then flags
 *	job_open(&job, g, &err);		// repository + base commit (not with --worktree)
 *	job_scan(&job, &err);
 *	job_resolve_targets(&job, &err);	// unless --offline
 *	...
 *	job_release(&job);
 */
#ifndef DOCKERBUMP_UPDATER_JOB_H
#define DOCKERBUMP_UPDATER_JOB_H

#include <getopt.h>

#include <git2.h>
#include <jansson.h>

#include "common/err.h"
#include "updater/cli.h"
#include "updater/config.h"
#include "updater/gitrepo.h"
#include "updater/registry.h"
#include "updater/scan.h"

/* Long-option ids shared by scan and run (values above any short option character). */
enum job_option {
	OPT_BASE = 1000,
	OPT_WORKTREE,
	OPT_OFFLINE,
	OPT_NO_CACHE,
	OPT_ONLY,
	OPT_EXCLUDE,
	OPT_REGISTRY_URL,
	OPT_REGISTRY_API,
	OPT_SHARD,
	OPT_STRATEGY,
	OPT_IMAGE,
	OPT_JSON,
	OPT_REPORT,
	OPT_JOB__LAST
};

/* The shared entries, to be copied into a command's getopt_long table. */
#define JOB_LONG_OPTIONS                                                                           \
	{"base", required_argument, NULL, OPT_BASE},                                               \
	    {"worktree", no_argument, NULL, OPT_WORKTREE},                                         \
	    {"no-cache", no_argument, NULL, OPT_NO_CACHE},                                         \
	    {"only", required_argument, NULL, OPT_ONLY},                                           \
	    {"exclude", required_argument, NULL, OPT_EXCLUDE},                                     \
	    {"registry-url", required_argument, NULL, OPT_REGISTRY_URL},                           \
	    {"registry-api", required_argument, NULL, OPT_REGISTRY_API},                           \
	    {"shard", required_argument, NULL, OPT_SHARD},                                         \
	    {"strategy", required_argument, NULL, OPT_STRATEGY},                                   \
	    {"image", required_argument, NULL, OPT_IMAGE}, {"json", no_argument, NULL, OPT_JSON},  \
	{                                                                                          \
		"report", required_argument, NULL, OPT_REPORT                                      \
	}

struct job_opts {
	const char *base;
	int worktree;
	int offline;
	int no_cache;
	struct strlist only, exclude, images;
	const char *registry_url;
	const char *registry_api;
	const char *strategy;
	int shard_k, shard_n;
	int json;
	const char *report;
};

struct job {
	struct job_opts opts;
	struct config cfg;
	struct gitrepo *repo; /* NULL with --worktree */
	git_oid base;
	char base_hex[GIT_OID_HEXSZ + 1];
	char *base_name; /* the ref the base came from, for messages and pull requests */
	struct scan scan;
	struct scan_opts scan_opts;
	json_t *images;                   /* image -> {"target", "tags_seen"} for the report */
	struct registry_client *registry; /* made on first use by job_registry() */
};

void job_init(struct job *job);
void job_release(struct job *job);
/* Handles one shared option; 1 if `id` was one of them, 0 if not, < 0 on a bad value. */
int job_parse_option(struct job_opts *o, int id, const char *arg, const char *cmd,
                     struct db_err *err);
int job_load_config(struct job *job, const struct cli_global *g, const char *cmd,
                    struct db_err *err);
int job_open(struct job *job, const struct cli_global *g, struct db_err *err);
int job_scan(struct job *job, const struct cli_global *g, struct db_err *err);
/* The job's registry client, made on first use; borrowed, freed by job_release(). */
int job_registry(struct registry_client **out, struct job *job, struct db_err *err);
/* Fills each pending item's target and status (bumped / up-to-date), per image. */
int job_resolve_targets(struct job *job, struct db_err *err);

#endif

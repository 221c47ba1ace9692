#include "updater/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strnum.h"
#include "common/banned.h"

void job_init(struct job *job)
{
	memset(job, 0, sizeof(*job));
	config_init(&job->cfg);
	scan_init(&job->scan);
	job->images = json_object();
}

void job_release(struct job *job)
{
	strlist_clear(&job->opts.only);
	strlist_clear(&job->opts.exclude);
	strlist_clear(&job->opts.images);
	config_release(&job->cfg);
	scan_release(&job->scan);
	git_repository_free(job->repo);
	free(job->base_name);
	json_decref(job->images);
	memset(job, 0, sizeof(*job));
}

static int parse_shard(struct job_opts *o, const char *arg, const char *cmd, struct db_err *err)
{
	const char *slash = strchr(arg, '/');
	long k, n;
	char kbuf[32];

	if (!slash || (size_t)(slash - arg) >= sizeof(kbuf))
		return cli_usage_error(err, cmd, "--shard takes K/N, e.g. 1/4, not '%s'", arg);
	memcpy(kbuf, arg, (size_t)(slash - arg));
	kbuf[slash - arg] = '\0';
	if (parse_long(&n, slash + 1, 1, 10000) || parse_long(&k, kbuf, 1, n))
		return cli_usage_error(err, cmd, "--shard takes K/N with 1 <= K <= N, not '%s'",
		                       arg);
	o->shard_k = (int)k;
	o->shard_n = (int)n;
	return 1;
}

int job_parse_option(struct job_opts *o, int id, const char *arg, const char *cmd,
                     struct db_err *err)
{
	switch (id) {
	case OPT_BASE:
		o->base = arg;
		return 1;
	case OPT_WORKTREE:
		o->worktree = 1;
		return 1;
	case OPT_OFFLINE:
		o->offline = 1;
		return 1;
	case OPT_NO_CACHE:
		o->no_cache = 1;
		return 1;
	case OPT_ONLY:
		strlist_push(&o->only, arg);
		return 1;
	case OPT_EXCLUDE:
		strlist_push(&o->exclude, arg);
		return 1;
	case OPT_IMAGE:
		strlist_push(&o->images, arg);
		return 1;
	case OPT_REGISTRY_URL:
		o->registry_url = arg;
		return 1;
	case OPT_JSON:
		o->json = 1;
		return 1;
	case OPT_REPORT:
		o->report = arg;
		return 1;
	case OPT_REGISTRY_API:
		if (strcmp(arg, "hub") && strcmp(arg, "v2"))
			return cli_usage_error(err, cmd, "--registry-api takes hub or v2, not '%s'",
			                       arg);
		o->registry_api = arg;
		return 1;
	case OPT_STRATEGY: {
		enum strategy s;
		if (strategy_parse(&s, arg))
			return cli_usage_error(
			    err, cmd,
			    "--strategy takes latest-build, same-minor or same-major, not '%s'",
			    arg);
		o->strategy = arg;
		return 1;
	}
	case OPT_SHARD:
		return parse_shard(o, arg, cmd, err);
	default:
		return 0;
	}
}

int job_load_config(struct job *job, const struct cli_global *g, const char *cmd,
                    struct db_err *err)
{
	struct job_opts *o = &job->opts;
	char *dflt = NULL;
	int ret = 0;

	(void)cmd;
	if (g->config_file) {
		ret = config_load_file(&job->cfg, g->config_file, err);
	} else {
		dflt = xasprintf("%s/.dockerbump.yml", g->dir);
		if (file_exists(dflt))
			ret = config_load_file(&job->cfg, dflt, err);
		free(dflt);
	}
	if (ret)
		return ret;
	if (o->registry_url)
		config_set_str(&job->cfg.registry.url, o->registry_url);
	if (o->registry_api)
		job->cfg.registry.api = strcmp(o->registry_api, "v2") ? REGISTRY_HUB : REGISTRY_V2;
	if (o->strategy)
		strategy_parse(&job->cfg.strategy, o->strategy);
	if (o->base)
		config_set_str(&job->cfg.git.base, o->base);
	return 0;
}

static int git_fail(struct db_err *err, int code, const char *what, const char *subject)
{
	const git_error *e = git_error_last();
	return db_err_set(err, code, "'%s': %s%s%s", subject, what, e ? ": " : "",
	                  e ? e->message : "");
}

int job_open(struct job *job, const struct cli_global *g, struct db_err *err)
{
	git_object *obj = NULL;
	git_reference *ref = NULL;
	const char *base = job->cfg.git.base;
	char *dflt = NULL;
	int ret = 0;

	if (job->opts.worktree)
		return 0;
	if (git_repository_open_ext(&job->repo, g->dir, 0, NULL) < 0)
		return db_err_set(
		    err, DB_ENOTFOUND,
		    "'%s' is not a git repository (use --worktree to scan the files on disk)",
		    g->dir);
	if (!base) {
		/* The remote's default branch, as the last fetch recorded it; else HEAD. */
		char *name = xasprintf("refs/remotes/%s/HEAD", job->cfg.git.remote);
		if (git_reference_lookup(&ref, job->repo, name) == 0 &&
		    git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC)
			dflt = xstrdup(git_reference_symbolic_target(ref));
		git_reference_free(ref);
		free(name);
		base = dflt ? dflt : "HEAD";
	}
	if (git_revparse_single(&obj, job->repo, base) < 0) {
		ret = git_fail(err, DB_ENOTFOUND, "base ref does not exist", base);
		goto out;
	}
	{
		git_object *commit = NULL;
		if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
			ret = git_fail(err, DB_ENOTFOUND, "base ref is not a commit", base);
			goto out;
		}
		git_oid_cpy(&job->base, git_object_id(commit));
		git_object_free(commit);
	}
	git_oid_tostr(job->base_hex, sizeof(job->base_hex), &job->base);
	job->base_name = xstrdup(base);
	log_debug("base '%s' is %s", base, job->base_hex);
out:
	git_object_free(obj);
	free(dflt);
	return ret;
}

int job_scan(struct job *job, const struct cli_global *g, struct db_err *err)
{
	struct scan_opts *so = &job->scan_opts;

	so->dir = g->dir;
	so->worktree = job->opts.worktree;
	so->repo = job->repo;
	so->commit = job->repo ? &job->base : NULL;
	so->no_cache = job->opts.no_cache;
	so->shard_k = job->opts.shard_k;
	so->shard_n = job->opts.shard_n;
	so->only = &job->opts.only;
	so->exclude = &job->opts.exclude;
	return scan_run(&job->scan, so, &job->cfg, err);
}

int job_resolve_targets(struct job *job, struct db_err *err)
{
	(void)job;
	return db_err_set(err, DB_ERROR, "resolving tags needs the registry client; use --offline");
}

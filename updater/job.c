#include "updater/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/registry.h"
#include "updater/tagver.h"
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
	gitrepo_free(job->repo);
	free(job->base_name);
	json_decref(job->images);
	registry_client_free(job->registry);
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

int job_open(struct job *job, const struct cli_global *g, struct db_err *err)
{
	struct gitrepo_base base = GITREPO_BASE_INIT;
	int ret;

	if (job->opts.worktree)
		return 0;
	ret = gitrepo_open(&job->repo, g->dir, err);
	if (ret)
		return ret;
	ret = gitrepo_resolve_base(&base, job->repo, job->cfg.git.base, job->cfg.git.remote, err);
	if (ret)
		return ret;
	git_oid_cpy(&job->base, &base.id);
	memcpy(job->base_hex, base.hex, sizeof(job->base_hex));
	job->base_name = xstrdup(base.name);
	log_debug("base %s", base.desc);
	gitrepo_base_release(&base);
	return 0;
}

int job_scan(struct job *job, const struct cli_global *g, struct db_err *err)
{
	struct scan_opts *so = &job->scan_opts;

	so->dir = g->dir;
	so->worktree = job->opts.worktree;
	so->repo = job->repo ? gitrepo_git(job->repo) : NULL;
	so->commit = job->repo ? &job->base : NULL;
	so->no_cache = job->opts.no_cache;
	so->shard_k = job->opts.shard_k;
	so->shard_n = job->opts.shard_n;
	so->only = &job->opts.only;
	so->exclude = &job->opts.exclude;
	return scan_run(&job->scan, so, &job->cfg, err);
}

static int selected_image(const struct job *job, const char *image)
{
	return !job->opts.images.nr || strlist_has(&job->opts.images, image);
}

/* Resolves one image's tags and sets the target and status of its pending items. */
static int resolve_image(struct job *job, struct registry_client *rc, const char *image,
                         struct db_err *err)
{
	struct tagver_policy policy = {job->cfg.strategy, job->cfg.min_age_days,
	                               job->cfg.unknown_age_deny, &job->cfg.deny_tags, 0};
	struct taglist *tags = NULL;
	const struct tag_entry *pick;
	json_t *info;
	size_t i;
	int ret;

	ret = registry_list_tags(rc, image, &tags, err);
	if (ret)
		return ret;
	pick = tagver_pick(tags, image, NULL, &policy);
	info = json_object();
	json_object_set_new(info, "target", pick ? json_string(pick->name) : json_null());
	json_object_set_new(info, "tags_seen", json_integer((json_int_t)tags->nr));
	json_object_set_new(job->images, image, info);

	for (i = 0; i < job->scan.nr; i++) {
		struct item *it = &job->scan.items[i];
		const struct tag_entry *t;

		if (it->status != STATUS_PENDING || strcmp(it->image, image))
			continue;
		t = tagver_pick(tags, image, it->tag, &policy);
		if (!t) {
			it->status = STATUS_UP_TO_DATE;
			it->reason = xstrdup("no candidate tag under the strategy and filters");
			continue;
		}
		it->target = xstrdup(t->name);
		it->status =
		    tagver_is_upgrade(it->tag, t->name) ? STATUS_BUMPED : STATUS_UP_TO_DATE;
	}
	taglist_free(tags);
	return 0;
}

int job_registry(struct registry_client **out, struct job *job, struct db_err *err)
{
	struct registry_client_opts ro = {job->opts.no_cache, NULL};
	int ret = 0;

	if (!job->registry)
		ret = registry_client_new(&job->registry, &job->cfg, &ro, err);
	*out = job->registry;
	return ret;
}

int job_resolve_targets(struct job *job, struct db_err *err)
{
	struct registry_client *rc = NULL;
	struct strlist images = {NULL, 0, 0};
	size_t i, j;
	int ret, first = 0;

	for (i = 0; i < job->scan.nr; i++) {
		struct item *it = &job->scan.items[i];
		if (it->status != STATUS_PENDING)
			continue;
		if (!selected_image(job, it->image)) {
			it->status = STATUS_SKIPPED;
			it->reason = xstrdup("image not selected by --image");
		} else if (!strlist_has(&images, it->image)) {
			strlist_push(&images, it->image);
		}
	}
	if (!images.nr)
		goto out;
	ret = job_registry(&rc, job, err);
	if (ret) {
		first = ret;
		goto out;
	}
	for (i = 0; i < images.nr; i++) {
		struct db_err ierr = DB_ERR_INIT;
		progress_update("tags", i, images.nr, images.v[i]);
		ret = resolve_image(job, rc, images.v[i], &ierr);
		if (!ret)
			continue;
		/* The image's items get the error; the other images go on. */
		log_error("%s", ierr.msg);
		for (j = 0; j < job->scan.nr; j++) {
			struct item *it = &job->scan.items[j];
			if (it->status == STATUS_PENDING && !strcmp(it->image, images.v[i])) {
				it->status = STATUS_ERROR;
				it->reason = xstrdup(ierr.msg);
			}
		}
		if (!first) {
			first = ret;
			db_err_set(err, ret, "%s", ierr.msg);
		}
	}
	progress_done();
out:
	strlist_clear(&images);
	return first;
}

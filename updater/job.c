#include "updater/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/strnum.h"
#include "updater/registry.h"
#include "updater/tagver.h"
#include "common/banned.h"

void job_init(struct job *job, const struct config *cfg)
{
	memset(job, 0, sizeof(*job));
	job->cfg = cfg;
	scan_init(&job->scan);
	job->images = json_object();
}

void job_release(struct job *job)
{
	scan_release(&job->scan);
	gitrepo_free(job->repo);
	free(job->base_ref);
	free(job->base_branch);
	json_decref(job->images);
	for (size_t i = 0; i < job->nr_tags; i++)
		taglist_free(job->tags[i]);
	free(job->tags);
	registry_client_free(job->registry);
	memset(job, 0, sizeof(*job));
}

int job_open(struct job *job, struct db_err *err)
{
	struct gitrepo_base base = GITREPO_BASE_INIT;
	const struct config *cfg = job->cfg;
	int ret;

	if (cfg->cli.worktree)
		return 0;
	ret = gitrepo_open(&job->repo, cfg->cli.dir, err);
	if (ret == DB_ENOTFOUND) { /* the message of gitrepo_open() gets the hint */
		db_err_clear(err);
		return db_err_set(
		    err, DB_EUSAGE,
		    "-C '%s' is not a git repository (dockerbump reads the base commit "
		    "from git objects; 'scan --worktree' reads the files on disk)",
		    cfg->cli.dir);
	}
	if (ret)
		return ret;
	ret = gitrepo_resolve_base(&base, job->repo, cfg->git.base, cfg->git.remote, err);
	if (ret == DB_ENOTFOUND && cfg->git.base) { /* a base that is not there: say the fix */
		char *why = xstrdup(err->msg);
		db_err_clear(err);
		ret = db_err_set(err, DB_ENOTFOUND,
		                 "%s (the base, in '%s'): pass --base (or git.base) with a branch, "
		                 "tag or commit the clone has, or fetch it first",
		                 why, cfg->cli.dir);
		free(why);
	}
	if (ret)
		return ret;
	git_oid_cpy(&job->base, &base.id);
	memcpy(job->base_hex, base.hex, sizeof(job->base_hex));
	job->base_ref = xstrdup(base.name);
	job->base_branch = gitrepo_forge_branch(job->repo, base.name);
	log_debug("base %s", base.desc);
	gitrepo_base_release(&base);
	return 0;
}

int job_scan(struct job *job, struct db_err *err)
{
	struct scan_opts *so = &job->scan_opts;
	const struct config *cfg = job->cfg;

	so->dir = cfg->cli.dir;
	so->worktree = cfg->cli.worktree;
	so->repo = job->repo ? gitrepo_git(job->repo) : NULL;
	so->commit = job->repo ? &job->base : NULL;
	so->no_cache = cfg->cli.no_cache;
	so->shard_k = cfg->cli.shard_k;
	so->shard_n = cfg->cli.shard_n;
	so->only = &cfg->cli.only;
	so->exclude = &cfg->cli.exclude;
	return scan_run(&job->scan, so, cfg, err);
}

/* Tag lists fetched at once: the requests wait on the network, not the CPU. */
#define TAG_FETCH_THREADS 8

static int selected_image(const struct job *job, const char *image)
{
	return !job->cfg->cli.images.nr || strlist_has(&job->cfg->cli.images, image);
}

/* Sets the target and status of an image's pending items from its tags (the job keeps them). */
static void resolve_image(struct job *job, struct taglist *tags, const char *image)
{
	const struct config *cfg = job->cfg;
	struct tagver_policy policy = {cfg->strategy, cfg->min_age_days, cfg->unknown_age_deny,
	                               &cfg->deny_tags, 0};
	const struct tag_entry *pick;
	json_t *info;
	size_t i;

	ALLOC_GROW(job->tags, job->nr_tags + 1, job->alloc_tags);
	job->tags[job->nr_tags++] = tags;
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
}

/* One image's tag list, fetched on a worker thread: the requests of images overlap. */
struct tag_fetch {
	struct registry_client *rc;
	const char *image;
	struct taglist *tags;
	struct db_err err;
};

static void fetch_one(size_t i, void *arg)
{
	struct tag_fetch *f = &((struct tag_fetch *)arg)[i];
	registry_list_tags(f->rc, f->image, &f->tags, &f->err);
}

int job_registry(struct registry_client **out, struct job *job, struct db_err *err)
{
	struct registry_client_opts ro = {job->cfg->cli.no_cache, NULL};
	int ret = 0;

	if (!job->registry)
		ret = registry_client_new(&job->registry, job->cfg, &ro, err);
	*out = job->registry;
	return ret;
}

/* --image names that match no item: a warning, with the closest image in the repository. */
static void warn_unmatched_images(const struct job *job)
{
	const struct strlist *want = &job->cfg->cli.images;
	struct strlist seen = STRLIST_INIT;
	size_t i;

	for (i = 0; i < job->scan.nr; i++)
		if (job->scan.items[i].image && !strlist_has(&seen, job->scan.items[i].image))
			strlist_push(&seen, job->scan.items[i].image);
	for (i = 0; i < want->nr; i++) {
		const char *near = NULL;
		size_t k;
		if (strlist_has(&seen, want->v[i]))
			continue;
		for (k = 0; k < seen.nr && !near; k++) {
			const char *slash = strrchr(seen.v[k], '/');
			if (slash && !strcmp(slash + 1, want->v[i]))
				near = seen.v[k];
		}
		if (!near)
			near =
			    config_did_you_mean(want->v[i], (const char *const *)seen.v, seen.nr);
		if (near)
			log_warn("--image '%s' matches no item (did you mean '%s'?)", want->v[i],
			         near);
		else
			log_warn("--image '%s' matches no item", want->v[i]);
	}
	strlist_clear(&seen);
}

int job_resolve_targets(struct job *job, struct db_err *err)
{
	struct registry_client *rc = NULL;
	struct strlist images = {NULL, 0, 0};
	struct tag_fetch *fetches = NULL;
	size_t i, j;
	int ret, first = 0;

	warn_unmatched_images(job);
	for (i = 0; i < job->scan.nr; i++) {
		struct item *it = &job->scan.items[i];
		if (it->status != STATUS_PENDING)
			continue;
		if (!selected_image(job, it->image)) {
			it->status = STATUS_SKIPPED;
			it->reason = xstrdup("image not selected by --image");
		} else if (strchr(it->image_ref, '@')) {
			/* A digest pins the bytes: there is no newer tag to move it to. */
			it->status = STATUS_ERROR;
			it->reason =
			    xasprintf("'%s' is pinned by digest; dockerbump moves tags: pin a "
			              "tag, or set autoUpdateDockerImage: false",
			              it->image_ref);
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
	fetches = xcalloc(images.nr, sizeof(*fetches));
	for (i = 0; i < images.nr; i++)
		fetches[i] = (struct tag_fetch){rc, images.v[i], NULL, DB_ERR_INIT};
	progress_update("tags", 0, images.nr, NULL);
	parallel_for(images.nr, TAG_FETCH_THREADS, fetch_one, fetches);
	for (i = 0; i < images.nr; i++) {
		struct db_err ierr = fetches[i].err;
		if (!ierr.code) {
			resolve_image(job, fetches[i].tags, images.v[i]);
			continue;
		}
		ret = ierr.code;
		/* The image's items get the error; the other images go on. */
		log_at(LOG_ERROR, LOG_FIELDS("image", images.v[i]), "%s", ierr.msg);
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
	free(fetches);
	strlist_clear(&images);
	return first;
}

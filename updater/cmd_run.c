/*
 * `dockerbump run`: the scheduled job (SPEC §4).
 *
 *   1. the base commit, read from git objects          job_open()
 *   2. scan and resolve each image's tags once          job_scan(), job_resolve_targets()
 *   3. plan batches                                     plan_build()
 *   4. rewrite files in memory, write release notes     rewrite_batch()
 *   5. verify every bumped item, old and new image      verify_batches()
 *   6. commit each batch onto its branch                commit_batches()
 *   7. push the branches                                push_branches()
 *   8. open or update one pull request per branch       open_pull_requests()
 *
 * --dry-run stops after step 5 and prints the plan and a unified diff of every file it would
 * change; it writes no object, no ref and no file.
 */
#include "updater/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/strnum.h"
#include "updater/gitpush.h"
#include "updater/gitrepo.h"
#include "updater/itemcode.h"
#include "updater/job.h"
#include "updater/plan.h"
#include "updater/pr_github.h"
#include "updater/registry.h"
#include "updater/relnotes.h"
#include "updater/report.h"
#include "updater/rewrite.h"
#include "updater/verify.h"
#include "common/banned.h"

static const char help[] =
    "usage: dockerbump [-C DIR] run [OPTIONS]\n"
    "\n"
    "The scheduled job: resolve the newest tags, rewrite the YAML files byte-exactly, run every\n"
    "bumped item in its old and new image, commit each batch onto an update branch (no\n"
    "checkout), push the branches and open or update pull requests.\n"
    "\n"
    "options:\n"
    "  --dry-run             show the plan and a diff; write nothing, push nothing\n"
    "  --base REF            the commit to start from (default: the remote's default branch, else "
    "HEAD)\n"
    "  --strategy S          latest-build (default), same-minor or same-major\n"
    "  --image NAME          only items on this image (repeatable)\n"
    "  --only GLOB           only repository paths matching GLOB (repeatable)\n"
    "  --exclude GLOB        skip repository paths matching GLOB (repeatable)\n"
    "  --batch-size N        items per branch (default 10)\n"
    "  --shard K/N           only the packs in shard K of N (for a CI matrix)\n"
    "  --verify LEVEL        off, compile, load (default) or tests\n"
    "  --runtime R           docker (default), podman, or a path to a docker-compatible CLI\n"
    "  --jobs N              images verified in parallel (default 2)\n"
    "  --push REMOTE         push to REMOTE (a name, path or URL; default: the configured remote)\n"
    "  --no-push             commit the branches locally only\n"
    "  --pr none|github      open or update pull requests (default: none)\n"
    "  --registry-url URL    the registry (default: https://hub.docker.com)\n"
    "  --registry-api API    hub (default) or v2\n"
    "  --no-cache            do not read or write the tag, scan and verification caches\n"
    "  --report FILE         write the JSON report to FILE\n"
    "  --junit FILE          write the verification results as JUnit XML\n"
    "  --json                print the JSON report on stdout instead of the summary\n"
    "  -h, --help            this help\n"
    "\n"
    "exit status: 0 done, 1 operational error, 2 usage or config error, 3 done but\n"
    "verification blocked at least one bump.\n"
    "\n"
    "examples:\n"
    "  dockerbump -C content run --dry-run --verify off\n"
    "  dockerbump -C content run --image demisto/python3 --pr github --report report.json\n";

enum {
	OPT_DRY_RUN = OPT_JOB__LAST + 1,
	OPT_BATCH_SIZE,
	OPT_VERIFY,
	OPT_RUNTIME,
	OPT_JOBS,
	OPT_PUSH,
	OPT_NO_PUSH,
	OPT_PR,
	OPT_JUNIT,
};

struct file_change {
	char *path;
	struct buf old, new;
};

struct batch_work {
	struct file_change *files;
	size_t nr, alloc;
	struct gitrepo_commit commit;
	int committed;
	enum gitpush_result push;
	struct pr_result pr;
	int have_pr;
};

struct run {
	struct job job;
	struct gitrepo *repo; /* borrowed from the job */
	struct plan plan;
	struct batch_work *work; /* one per plan batch */
	const char *push_remote;
	int dry_run, no_push, blocked;
	size_t unverified; /* items verification could not judge: error, exit 1 */
	const char *junit;
	struct {
		int batch_size, jobs, verify, pr; /* 0: not given; verify and pr are enum + 1 */
		const char *runtime;
	} flags;
	double step_s[8];
};

enum step { STEP_SCAN, STEP_TAGS, STEP_REWRITE, STEP_VERIFY, STEP_COMMIT, STEP_PUSH, STEP_PR };
static const char *const step_names[] = {"scan",   "tags", "rewrite",      "verify",
                                         "commit", "push", "pull requests"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct file_change *add_file(struct batch_work *w, const char *path)
{
	struct file_change *f;
	ALLOC_GROW(w->files, w->nr + 1, w->alloc);
	f = &w->files[w->nr++];
	f->path = xstrdup(path);
	buf_init(&f->old, 0);
	buf_init(&f->new, 0);
	return f;
}

static void drop_files_of(struct batch_work *w, const char *path)
{
	size_t i;
	for (i = 0; i < w->nr; i++)
		if (!strcmp(w->files[i].path, path)) {
			free(w->files[i].path);
			buf_release(&w->files[i].old);
			buf_release(&w->files[i].new);
			memmove(&w->files[i], &w->files[i + 1],
			        (w->nr - i - 1) * sizeof(w->files[0]));
			w->nr--;
			return;
		}
}

static void item_fail(struct item *it, enum item_status status, const char *reason)
{
	it->status = status;
	free(it->reason);
	it->reason = reason ? xstrdup(reason) : NULL;
	it->branch = NULL;
}

struct rewrite_task {
	struct item *it;
	struct file_change *f;
	int added;
	struct db_err err;
};

struct rewrite_ctx {
	struct run *r;
	struct rewrite_task *tasks;
};

/* One item: read its YAML and rewrite it in memory. Runs in parallel with the others. */
static void rewrite_one(size_t i, void *arg)
{
	struct rewrite_ctx *ctx = arg;
	struct rewrite_task *t = &ctx->tasks[i];

	if (scan_read_item(&t->f->old, &ctx->r->job.scan_opts, t->it, &t->err) == 0)
		rewrite_item(&t->f->new, &t->added, t->f->old.ptr, t->f->old.len, t->it,
		             &ctx->r->job.cfg, &t->err);
}

/* Step 4: every planned file, rewritten in parallel; release notes follow once items are final. */
static void rewrite_all(struct run *r)
{
	struct rewrite_task *tasks;
	struct rewrite_ctx ctx;
	size_t b, i, n = 0;

	for (b = 0; b < r->plan.nr; b++)
		n += r->plan.batches[b].nr;
	tasks = xcalloc(n ? n : 1, sizeof(*tasks));
	n = 0;
	for (b = 0; b < r->plan.nr; b++) {
		struct batch *bt = &r->plan.batches[b];
		/* Every file is added before any pointer into the array is taken. */
		for (i = 0; i < bt->nr; i++)
			add_file(&r->work[b], r->job.scan.items[bt->items[i]].path);
		for (i = 0; i < bt->nr; i++) {
			tasks[n].it = &r->job.scan.items[bt->items[i]];
			tasks[n].f = &r->work[b].files[i];
			n++;
		}
	}
	ctx.r = r;
	ctx.tasks = tasks;
	parallel_for(n, 0, rewrite_one, &ctx);

	n = 0;
	for (b = 0; b < r->plan.nr; b++) {
		struct batch *bt = &r->plan.batches[b];
		size_t nr = bt->nr;
		for (i = 0; i < nr; i++) {
			struct rewrite_task *t = &tasks[n++];
			if (t->err.code) {
				log_error("%s", t->err.msg);
				item_fail(t->it, STATUS_ERROR, t->err.msg);
				continue;
			}
			t->it->d45 = t->added               ? D45_ADDED
			             : t->it->dockerimage45 ? D45_KEPT
			                                    : D45_NONE;
			/* Only the dry run's diff needs the old bytes. */
			if (!r->dry_run)
				buf_release(&t->f->old);
		}
		for (i = 0; i < nr; i++) {
			struct item *it = tasks[n - nr + i].it;
			if (it->status == STATUS_ERROR) {
				drop_files_of(&r->work[b], it->path);
				batch_drop_item(bt, (size_t)(it - r->job.scan.items));
			}
		}
	}
	free(tasks);
}

/* Step 4, second half: one release note and one currentVersion bump per pack of the batch. */
static void release_notes_batch(struct run *r, struct batch *b, struct batch_work *w)
{
	size_t i, j;

	for (i = 0; i < b->nr; i = j) {
		struct item *first = &r->job.scan.items[b->items[i]];
		const struct item **items;
		struct buf meta_path = BUF_INIT, meta = BUF_INIT, note = BUF_INIT;
		struct db_err err = DB_ERR_INIT;
		char version[64];
		struct file_change *f;

		for (j = i + 1; j < b->nr; j++)
			if (strcmp(r->job.scan.items[b->items[j]].pack
			               ? r->job.scan.items[b->items[j]].pack
			               : "",
			           first->pack ? first->pack : ""))
				break;
		if (!first->pack)
			continue;
		buf_addf(&meta_path, "Packs/%s/pack_metadata.json", first->pack);
		if (item_read_path(&meta, &r->job.scan_opts, r->repo, meta_path.ptr, 16 << 20,
		                   &err) == 0) {
			f = add_file(w, meta_path.ptr);
			buf_add(&f->old, meta.ptr, meta.len);
			if (relnotes_bump_metadata(&f->new, version, meta.ptr, meta.len,
			                           meta_path.ptr, &err)) {
				drop_files_of(w, meta_path.ptr);
			} else {
				char *rn = relnotes_path(first->pack, version);
				items = xcalloc(j - i, sizeof(*items));
				for (size_t k = i; k < j; k++)
					items[k - i] = &r->job.scan.items[b->items[k]];
				relnotes_render(&note, items, j - i);
				f = add_file(w, rn);
				buf_add(&f->new, note.ptr, note.len);
				free(items);
				free(rn);
			}
		}
		if (err.code) {
			/* The items are still bumped; the report says why the note is missing. */
			log_warn("release notes skipped for pack '%s': %s", first->pack, err.msg);
			for (size_t k = i; k < j; k++) {
				struct item *it = &r->job.scan.items[b->items[k]];
				char *why = xasprintf("release notes skipped: %s", err.msg);
				strlist_push(&it->warnings, why);
				free(it->reason);
				it->reason = why;
			}
		}
		buf_release(&meta_path);
		buf_release(&meta);
		buf_release(&note);
	}
}

/* Step 5: every planned item in its old and its new image. */
static int verify_batches(struct run *r, struct db_err *err)
{
	struct config *cfg = &r->job.cfg;
	struct verify_opts vo;
	struct verify_session *vs = NULL;
	struct registry_client *rc;
	struct item_modules mods;
	size_t *index = NULL, b, i, nitems = 0;
	int ret = 0;

	if (cfg->verify.level == VERIFY_OFF || !r->plan.nr)
		return 0;
	item_modules_init(&mods);
	verify_opts_init(&vo);
	vo.level = cfg->verify.level;
	vo.runtime = cfg->verify.runtime;
	vo.timeout_s = cfg->verify.timeout_s;
	vo.memory = cfg->verify.memory;
	vo.pids = cfg->verify.pids;
	vo.cpus = cfg->verify.cpus;
	vo.jobs = cfg->verify.jobs;
	vo.progress = log_get_config()->progress;
	if (r->job.opts.no_cache)
		vo.cache_dir = "";
	ret = item_modules_load(&mods, &r->job.scan_opts, r->repo, err);
	if (ret)
		goto out;
	vo.common_server_python = mods.common_server_python;
	vo.common_server_user_python = mods.common_server_user_python;
	vo.demistomock = mods.demistomock;
	if ((ret = job_registry(&rc, &r->job, err)) || (ret = verify_session_new(&vs, &vo, err)))
		goto out;

	for (b = 0; b < r->plan.nr; b++)
		nitems += r->plan.batches[b].nr;
	index = xcalloc(nitems ? nitems : 1, sizeof(*index));
	nitems = 0;
	for (b = 0; b < r->plan.nr; b++) {
		struct batch *bt = &r->plan.batches[b];
		for (i = 0; i < bt->nr; i++) {
			struct item *it = &r->job.scan.items[bt->items[i]];
			struct item_code code;
			struct db_err ierr = DB_ERR_INIT;
			char *old_ref =
			    registry_image_ref(rc, it->image, it->tag ? it->tag : "latest");
			char *new_ref = registry_image_ref(rc, it->image, it->target);
			struct verify_item vi = {0};

			item_code_init(&code);
			ret = item_code_load(&code, &r->job.scan_opts, r->repo, it,
			                     cfg->verify.level == VERIFY_TESTS, &ierr);
			if (!ret) {
				vi.id = it->path;
				vi.name = code.name;
				vi.code = code.code;
				vi.integration = it->kind == ITEM_INTEGRATION;
				vi.image_old = old_ref;
				vi.image_new = new_ref;
				vi.files = code.files;
				vi.nr_files = code.nr_files;
				ret = verify_session_add(vs, &index[nitems], &vi, &ierr);
			}
			if (ret) {
				/* No code to run is an error for this item, not for the job. */
				index[nitems] = (size_t)-1;
				log_error("%s", ierr.msg);
				ret = 0;
			}
			nitems++;
			item_code_release(&code);
			free(old_ref);
			free(new_ref);
		}
	}
	ret = verify_session_run(vs, err);
	if (ret)
		goto out;

	nitems = 0;
	for (b = 0; b < r->plan.nr; b++) {
		struct batch *bt = &r->plan.batches[b];
		size_t *drop = xcalloc(bt->nr ? bt->nr : 1, sizeof(*drop)), ndrop = 0;
		for (i = 0; i < bt->nr; i++) {
			struct item *it = &r->job.scan.items[bt->items[i]];
			const struct verify_result *vr;

			if (index[nitems] == (size_t)-1) {
				nitems++;
				item_fail(it, STATUS_ERROR,
				          "the item's code could not be read for verification");
				r->unverified++;
				drop[ndrop++] = bt->items[i];
				continue;
			}
			vr = verify_session_result(vs, index[nitems++]);
			it->verify_old = verify_outcome_name(vr->old.outcome);
			it->verify_new = verify_outcome_name(vr->new.outcome);
			it->regressed = vr->regressed;
			if (vr->new.exception_type || vr->new.message)
				it->verify_detail = xasprintf(
				    "%s%s%s", vr->new.exception_type ? vr->new.exception_type : "",
				    vr->new.exception_type && vr->new.message ? ": " : "",
				    vr->new.message ? vr->new.message : "");
			if (verify_result_blocks(vr)) {
				/* vr->why names the outcomes, the exception and the tests. */
				char *why = xasprintf("%s%s", vr->regressed ? "verification " : "",
				                      vr->why ? vr->why : "verification failed");
				log_warn("'%s': %s", it->path, why);
				item_fail(it, vr->regressed ? STATUS_VERIFY_FAILED : STATUS_ERROR,
				          why);
				free(why);
				if (vr->regressed)
					r->blocked = 1;
				else
					r->unverified++;
				drop[ndrop++] = bt->items[i];
			}
		}
		for (i = 0; i < ndrop; i++) {
			/* A blocked item leaves the batch and its rewritten file is not committed.
			 */
			drop_files_of(&r->work[b], r->job.scan.items[drop[i]].path);
			batch_drop_item(bt, drop[i]);
		}
		free(drop);
	}
	if (r->junit)
		ret = verify_junit_write(vs, r->junit, err);
out:
	free(index);
	verify_session_free(vs);
	item_modules_release(&mods);
	return ret;
}

static void commit_message(struct buf *msg, struct run *r, const struct batch *b)
{
	size_t i;

	buf_addf(msg, "Update %s to %s (batch %d)\n\n", b->image, b->target, b->number);
	buf_addf(msg, "Bumps %zu item%s from the base %s to %s:%s.\n\n", b->nr,
	         b->nr == 1 ? "" : "s", r->job.base_hex, b->image, b->target);
	for (i = 0; i < b->nr; i++) {
		const struct item *it = &r->job.scan.items[b->items[i]];
		buf_addf(msg, "- %s: %s -> %s", it->path, it->tag ? it->tag : "(none)", it->target);
		if (it->verify_new)
			buf_addf(msg, " (verify: %s -> %s)", it->verify_old, it->verify_new);
		else
			buf_adds(msg, " (not verified)");
		buf_addch(msg, '\n');
	}
	for (i = 0; i < r->job.scan.nr; i++) {
		const struct item *it = &r->job.scan.items[i];
		if (it->status == STATUS_VERIFY_FAILED && it->image &&
		    !strcmp(it->image, b->image) && it->target && !strcmp(it->target, b->target))
			buf_addf(msg, "\nBlocked: %s (verify: %s -> %s%s%s)", it->path,
			         it->verify_old, it->verify_new, it->verify_detail ? ", " : "",
			         it->verify_detail ? it->verify_detail : "");
	}
	buf_addch(msg, '\n');
}

struct commit_task {
	struct run *r;
	struct db_err *errs; /* one per batch */
};

/* One batch's objects: blobs, trees, commit; no ref moves. */
static void build_one(size_t b, void *arg)
{
	struct commit_task *t = arg;
	struct run *r = t->r;
	struct batch *bt = &r->plan.batches[b];
	struct batch_work *w = &r->work[b];
	struct gitrepo_change *changes;
	struct gitrepo_commit_spec spec = {0};
	struct buf msg = BUF_INIT;
	size_t i;

	if (!bt->nr)
		return;
	changes = xcalloc(w->nr ? w->nr : 1, sizeof(*changes));
	for (i = 0; i < w->nr; i++)
		changes[i] = (struct gitrepo_change){w->files[i].path, w->files[i].new.ptr,
		                                     w->files[i].new.len};
	commit_message(&msg, r, bt);
	spec.branch = bt->branch;
	spec.branch_prefix = r->job.cfg.git.branch_prefix;
	spec.base = &r->job.base;
	spec.changes = changes;
	spec.nr_changes = w->nr;
	spec.message = msg.ptr;
	spec.author_name = r->job.cfg.git.author_name;
	spec.author_email = r->job.cfg.git.author_email;
	gitrepo_build_commit(&w->commit, r->repo, &spec, &t->errs[b]);
	free(changes);
	buf_release(&msg);
}

/*
 * Step 6: every batch's commit object is written first, and only then are the refs moved,
 * one compare-and-swap each, so a failure while writing objects moves no ref at all. (One
 * thread: libgit2's object database serialises writers, and two threads measured slower.)
 */
static int commit_batches(struct run *r, struct db_err *err)
{
	struct commit_task t = {r, xcalloc(r->plan.nr ? r->plan.nr : 1, sizeof(struct db_err))};
	size_t b;
	int ret = 0;

	parallel_for(r->plan.nr, 1, build_one, &t);
	for (b = 0; b < r->plan.nr && !ret; b++)
		if (t.errs[b].code)
			ret = db_err_set(err, t.errs[b].code, "%s", t.errs[b].msg);
	for (b = 0; b < r->plan.nr && !ret; b++) {
		struct batch *bt = &r->plan.batches[b];
		struct batch_work *w = &r->work[b];

		if (!bt->nr)
			continue;
		if (w->commit.outcome == GITREPO_CREATED || w->commit.outcome == GITREPO_REBUILT)
			ret = gitrepo_update_branch(r->repo, &w->commit, err);
		if (!ret) {
			w->committed = w->commit.outcome != GITREPO_NO_CHANGE;
			log_info("%s: %s (%zu item%s)", bt->branch,
			         gitrepo_outcome_name(w->commit.outcome), bt->nr,
			         bt->nr == 1 ? "" : "s");
		}
	}
	free(t.errs);
	return ret;
}

/* Step 7. A rejected push is an error naming the ref; the local branches it made are rolled back.
 */
static int push_branches(struct run *r, struct db_err *err)
{
	struct gitpush_ref *refs;
	struct gitpush_opts po = {r->push_remote, r->job.cfg.git.branch_prefix, 0};
	size_t b, n = 0;
	int ret;

	refs = xcalloc(r->plan.nr ? r->plan.nr : 1, sizeof(*refs));
	for (b = 0; b < r->plan.nr; b++)
		if (r->work[b].committed)
			refs[n++].branch = r->plan.batches[b].branch;
	if (!n) {
		free(refs);
		return 0;
	}
	ret = gitpush(r->repo, &po, refs, n, err);
	for (size_t k = 0; k < n; k++)
		for (b = 0; b < r->plan.nr; b++)
			if (r->work[b].committed &&
			    !strcmp(refs[k].branch, r->plan.batches[b].branch)) {
				r->work[b].push = refs[k].result;
				if (ret &&
				    (refs[k].result == GITPUSH_REJECTED ||
				     refs[k].result == GITPUSH_NOT_PUSHED) &&
				    r->work[b].commit.updated) {
					struct db_err rerr = DB_ERR_INIT;
					if (gitrepo_rollback_branch(r->repo, &r->work[b].commit,
					                            &rerr))
						log_error("%s", rerr.msg);
				}
			}
	gitpush_refs_release(refs, n);
	free(refs);
	return ret;
}

static int pr_repo_for(struct pr_repo *out, struct run *r, struct db_err *err)
{
	git_remote *remote = NULL;
	int ret;

	if (r->job.cfg.pull_request.repo)
		return pr_repo_parse(out, r->job.cfg.pull_request.repo, err);
	if (git_remote_lookup(&remote, gitrepo_git(r->repo), r->push_remote) == 0) {
		ret = pr_repo_from_remote(out, git_remote_url(remote), err);
		git_remote_free(remote);
		return ret;
	}
	return pr_repo_from_remote(out, r->push_remote, err);
}

/* Step 8: one pull request per pushed branch, written one at a time. */
static int open_pull_requests(struct run *r, struct db_err *err)
{
	struct pr_github_opts go = {0};
	struct pr_github *gh = NULL;
	struct pr_repo repo = PR_REPO_INIT;
	const char *base = r->job.base_name;
	size_t b, i;
	int ret;

	if (!strncmp(base, "refs/remotes/", 13) && strchr(base + 13, '/'))
		base = strchr(base + 13, '/') + 1;
	else if (!strncmp(base, "refs/heads/", 11))
		base += 11;
	go.api_url = r->job.cfg.pull_request.api_url;
	go.token_env = r->job.cfg.pull_request.token_env;
	if ((ret = pr_repo_for(&repo, r, err)) || (ret = pr_github_new(&gh, &go, err)))
		goto out;
	for (b = 0; b < r->plan.nr && !ret; b++) {
		struct batch *bt = &r->plan.batches[b];
		struct batch_work *w = &r->work[b];
		struct pr_item *items;
		struct pr_request req = {0};
		size_t n = 0;

		if (!w->committed || w->push == GITPUSH_NOT_PUSHED || w->push == GITPUSH_REJECTED)
			continue;
		items = xcalloc(r->job.scan.nr ? r->job.scan.nr : 1, sizeof(*items));
		for (i = 0; i < r->job.scan.nr; i++) {
			const struct item *it = &r->job.scan.items[i];
			int in_batch = it->branch && !strcmp(it->branch, bt->branch);
			int blocked = it->status == STATUS_VERIFY_FAILED &&
			              !strcmp(it->image, bt->image) && it->target &&
			              !strcmp(it->target, bt->target);
			if (!in_batch && !blocked)
				continue;
			items[n++] = (struct pr_item){it->display ? it->display : it->name,
			                              it->path,
			                              it->pack,
			                              it->image,
			                              it->tag,
			                              it->target,
			                              it->verify_old,
			                              it->verify_new,
			                              blocked,
			                              it->verify_detail};
		}
		req.repo = repo.full;
		req.head = bt->branch;
		req.base = base;
		req.image = bt->image;
		req.tag = bt->target;
		req.batch = bt->number;
		req.draft = r->job.cfg.pull_request.draft;
		req.labels = &r->job.cfg.pull_request.labels;
		req.items = items;
		req.nr_items = n;
		ret = pr_github_submit(gh, &w->pr, &req, err);
		if (!ret) {
			w->have_pr = 1;
			log_info("%s: pull request #%ld %s (%s)", bt->branch, w->pr.number,
			         pr_outcome_name(w->pr.outcome), w->pr.url);
		}
		free(items);
	}
out:
	pr_github_free(gh);
	pr_repo_release(&repo);
	return ret;
}

/* --dry-run: the plan, then a unified diff of every file, on stdout. */
static void print_dry_run(struct run *r)
{
	size_t b, i;

	printf("dry run: base %s\n", r->job.base_hex[0] ? r->job.base_hex : "(work tree)");
	for (b = 0; b < r->plan.nr; b++) {
		struct batch *bt = &r->plan.batches[b];
		if (!bt->nr)
			continue;
		printf("branch %s: %s -> %s, %zu item%s\n", bt->branch, bt->image, bt->target,
		       bt->nr, bt->nr == 1 ? "" : "s");
		for (i = 0; i < bt->nr; i++) {
			const struct item *it = &r->job.scan.items[bt->items[i]];
			printf("  %s %s -> %s%s%s\n", it->path, it->tag ? it->tag : "(none)",
			       it->target, it->d45 == D45_ADDED ? " (+dockerimage45)" : "",
			       it->verify_new ? "" : " (not verified)");
		}
	}
	for (b = 0; b < r->plan.nr; b++) {
		struct batch_work *w = &r->work[b];
		for (i = 0; i < w->nr; i++) {
			struct file_change *f = &w->files[i];
			git_patch *patch = NULL;
			git_buf out = {0};
			if (git_patch_from_buffers(&patch, f->old.len ? f->old.ptr : NULL,
			                           f->old.len, f->path, f->new.ptr, f->new.len,
			                           f->path, NULL) == 0 &&
			    git_patch_to_buf(&out, patch) == 0)
				fwrite(out.ptr, 1, out.size, stdout);
			git_buf_dispose(&out);
			git_patch_free(patch);
		}
	}
}

static void run_release(struct run *r)
{
	size_t b, i;
	for (b = 0; r->work && b < r->plan.nr; b++) {
		for (i = 0; i < r->work[b].nr; i++) {
			free(r->work[b].files[i].path);
			buf_release(&r->work[b].files[i].old);
			buf_release(&r->work[b].files[i].new);
		}
		free(r->work[b].files);
		gitrepo_commit_release(&r->work[b].commit);
		pr_result_release(&r->work[b].pr);
	}
	free(r->work);
	plan_release(&r->plan);
	job_release(&r->job); /* owns the repository */
}

static int parse_options(struct run *r, int argc, char **argv, struct db_err *err)
{
	static const struct option longopts[] = {
	    JOB_LONG_OPTIONS,
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	    {"verify", required_argument, NULL, OPT_VERIFY},
	    {"runtime", required_argument, NULL, OPT_RUNTIME},
	    {"jobs", required_argument, NULL, OPT_JOBS},
	    {"push", required_argument, NULL, OPT_PUSH},
	    {"no-push", no_argument, NULL, OPT_NO_PUSH},
	    {"pr", required_argument, NULL, OPT_PR},
	    {"junit", required_argument, NULL, OPT_JUNIT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	/* Flags are applied after the config file is loaded; remember them until then. */
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		long v;
		switch (c) {
		case 'h':
			cli_print_help(help);
			return 1;
		case 'V':
			cli_print_version();
			return 1;
		case OPT_DRY_RUN:
			r->dry_run = 1;
			break;
		case OPT_NO_PUSH:
			r->no_push = 1;
			break;
		case OPT_PUSH:
			r->push_remote = optarg;
			break;
		case OPT_JUNIT:
			r->junit = optarg;
			break;
		case OPT_BATCH_SIZE:
			if (parse_long(&v, optarg, 1, 100000))
				return cli_usage_error(
				    err, "run", "--batch-size takes a number from 1, not '%s'",
				    optarg);
			r->flags.batch_size = (int)v;
			break;
		case OPT_JOBS:
			if (parse_long(&v, optarg, 1, 64))
				return cli_usage_error(
				    err, "run", "--jobs takes a number from 1 to 64, not '%s'",
				    optarg);
			r->flags.jobs = (int)v;
			break;
		case OPT_VERIFY: {
			enum verify_level l;
			if (verify_level_parse(&l, optarg))
				return cli_usage_error(
				    err, "run",
				    "--verify takes off, compile, load or tests, not '%s'", optarg);
			r->flags.verify = (int)l + 1;
			break;
		}
		case OPT_RUNTIME:
			r->flags.runtime = optarg;
			break;
		case OPT_PR:
			if (!strcmp(optarg, "none"))
				r->flags.pr = 1;
			else if (!strcmp(optarg, "github"))
				r->flags.pr = 2;
			else
				return cli_usage_error(
				    err, "run", "--pr takes none or github, not '%s'", optarg);
			break;
		case '?':
		case ':':
			return cli_usage_error(err, "run", "unknown or incomplete option '%s'",
			                       argv[optind - 1]);
		default:
			ret = job_parse_option(&r->job.opts, c, optarg, "run", err);
			if (ret < 0)
				return ret;
		}
	}
	if (optind < argc)
		return cli_usage_error(err, "run", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void apply_flags(struct run *r)
{
	struct config *cfg = &r->job.cfg;

	if (r->flags.batch_size)
		cfg->git.batch_size = r->flags.batch_size;
	if (r->flags.jobs)
		cfg->verify.jobs = r->flags.jobs;
	if (r->flags.verify)
		cfg->verify.level = (enum verify_level)(r->flags.verify - 1);
	if (r->flags.runtime)
		config_set_str(&cfg->verify.runtime, r->flags.runtime);
	if (r->flags.pr)
		cfg->pull_request.provider = r->flags.pr == 2 ? PR_GITHUB : PR_NONE;
	if (r->push_remote)
		config_set_str(&cfg->git.remote, r->push_remote);
	r->push_remote = cfg->git.remote;
}

/* Whether pushing is on: --no-push and git.push: false turn it off; --push forces it on. */
static int want_push(struct run *r, int push_flag)
{
	git_remote *remote = NULL;

	if (r->dry_run || r->no_push)
		return 0;
	if (push_flag)
		return 1;
	if (!r->job.cfg.git.push)
		return 0;
	/* Default on only when the configured remote exists. */
	if (git_remote_lookup(&remote, gitrepo_git(r->repo), r->push_remote) < 0) {
		log_info("not pushing: the repository has no remote '%s'", r->push_remote);
		return 0;
	}
	git_remote_free(remote);
	return 1;
}

static void log_step_times(const struct run *r)
{
	struct buf line = BUF_INIT;
	size_t i;

	buf_adds(&line, "time:");
	for (i = 0; i < sizeof(step_names) / sizeof(step_names[0]); i++)
		buf_addf(&line, "%s %s %.2fs", i ? "," : "", step_names[i], r->step_s[i]);
	log_info("%s", line.ptr);
	buf_release(&line);
}

int cmd_run(const struct cli_global *g, int argc, char **argv, struct db_err *err)
{
	struct run r;
	struct report *report = NULL;
	size_t b;
	int ret, push_flag, push = 0, pending_err = 0;
	double t;

	memset(&r, 0, sizeof(r));
	job_init(&r.job);
	ret = parse_options(&r, argc, argv, err);
	if (ret)
		goto out;
	push_flag = r.push_remote != NULL;
	if (r.dry_run && push_flag) {
		ret = cli_usage_error(err, "run", "--dry-run pushes nothing: drop --push");
		goto out;
	}
	if ((ret = job_load_config(&r.job, g, "run", err)))
		goto out;
	apply_flags(&r);
	if (r.job.opts.worktree) {
		ret = cli_usage_error(err, "run",
		                      "run commits from git objects; --worktree is for scan");
		goto out;
	}

	t = now_s();
	if ((ret = job_open(&r.job, g, err)))
		goto out;
	r.repo = r.job.repo;
	if ((ret = job_scan(&r.job, g, err)))
		goto out;
	r.step_s[STEP_SCAN] = now_s() - t;
	t = now_s();
	/* A registry error marks that image's items `error`; the rest of the job goes on. */
	pending_err = job_resolve_targets(&r.job, err);
	r.step_s[STEP_TAGS] = now_s() - t;

	t = now_s();
	plan_build(&r.plan, r.job.scan.items, r.job.scan.nr, &r.job.cfg);
	r.work = xcalloc(r.plan.nr ? r.plan.nr : 1, sizeof(*r.work));
	rewrite_all(&r);
	r.step_s[STEP_REWRITE] = now_s() - t;

	t = now_s();
	if ((ret = verify_batches(&r, err)))
		goto out;
	r.step_s[STEP_VERIFY] = now_s() - t;

	/* Release notes list the items that survived verification. */
	t = now_s();
	if (r.job.cfg.release_notes)
		for (b = 0; b < r.plan.nr; b++)
			if (r.plan.batches[b].nr)
				release_notes_batch(&r, &r.plan.batches[b], &r.work[b]);
	r.step_s[STEP_REWRITE] += now_s() - t;

	if (r.dry_run) {
		if (!r.job.opts.json) /* --json prints only the report */
			print_dry_run(&r);
	} else {
		t = now_s();
		if ((ret = commit_batches(&r, err)))
			goto out;
		r.step_s[STEP_COMMIT] = now_s() - t;
		push = want_push(&r, push_flag);
		t = now_s();
		if (push && (ret = push_branches(&r, err)))
			goto out;
		r.step_s[STEP_PUSH] = now_s() - t;
		t = now_s();
		if (push && r.job.cfg.pull_request.provider == PR_GITHUB &&
		    (ret = open_pull_requests(&r, err)))
			goto out;
		r.step_s[STEP_PR] = now_s() - t;
	}
out:
	if (r.job.scan.nr &&
	    (ret == 0 || ret == DB_ENET || ret == DB_ECONFLICT || ret == DB_EAUTH)) {
		struct db_err rerr = DB_ERR_INIT;
		report = report_new(r.job.base_hex[0] ? r.job.base_hex : NULL, r.dry_run);
		report_set_images(report, r.job.images);
		report_add_items(report, r.job.scan.items, r.job.scan.nr);
		for (b = 0; b < r.plan.nr; b++) {
			struct batch_work *w = &r.work[b];
			json_t *pr = NULL;
			char hex[GIT_OID_HEXSZ + 1] = "";
			if (!r.plan.batches[b].nr)
				continue;
			if (w->have_pr) {
				pr = json_object();
				json_object_set_new(pr, "number", json_integer(w->pr.number));
				json_object_set_new(pr, "url", json_string(w->pr.url));
				json_object_set_new(pr, "outcome",
				                    json_string(pr_outcome_name(w->pr.outcome)));
			}
			if (w->committed)
				git_oid_tostr(hex, sizeof(hex), &w->commit.id);
			report_add_branch(
			    report, r.plan.batches[b].branch, hex[0] ? hex : NULL,
			    r.plan.batches[b].nr,
			    w->push == GITPUSH_PUSHED || w->push == GITPUSH_UP_TO_DATE, pr);
			json_decref(pr);
		}
		if (r.job.opts.report && report_write(report, r.job.opts.report, &rerr))
			log_error("%s", rerr.msg);
		if (r.job.opts.json && report_write(report, NULL, &rerr))
			log_error("%s", rerr.msg);
		report_log_summary(r.dry_run ? "run (dry run)" : "run", r.job.scan.items,
		                   r.job.scan.nr);
		for (b = 0; b < r.plan.nr; b++)
			if (r.plan.batches[b].nr)
				log_info("branch %s: %zu item%s%s%s", r.plan.batches[b].branch,
				         r.plan.batches[b].nr, r.plan.batches[b].nr == 1 ? "" : "s",
				         r.work[b].committed ? ", committed" : "",
				         r.work[b].push == GITPUSH_PUSHED ? ", pushed" : "");
		log_step_times(&r);
	}
	report_free(report);
	run_release(&r);
	if (ret > 0) /* --help */
		return 0;
	if (!ret && pending_err)
		ret = pending_err;
	if (!ret && r.unverified) /* SPEC §7: an item in error is exit 1, before a block */
		ret = db_err_set(err, DB_EVERIFY,
		                 "%zu item(s) could not be verified; see the report", r.unverified);
	if (!ret && r.blocked)
		return 3;
	return ret;
}

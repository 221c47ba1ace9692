#include "updater/run_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/parallel.h"
#include "updater/gitpush.h"
#include "updater/gitrepo.h"
#include "updater/itemcode.h"
#include "updater/job.h"
#include "updater/plan.h"
#include "updater/registry.h"
#include "updater/relnotes.h"
#include "updater/rewrite.h"
#include "updater/verify.h"
#include "common/banned.h"

static const char *const step_names[NSTEPS] = {"scan",    "tags",   "forge read", "verify",
                                               "rewrite", "commit", "push",       "forge write"};

static struct item *item_at(struct run *r, size_t idx)
{
	return &r->job.scan.items[idx];
}

static void item_fail(struct run *r, struct item *it, enum item_status status, const char *reason)
{
	it->status = status;
	free(it->reason);
	it->reason = reason ? xstrdup(reason) : NULL;
	it->branch = NULL;
	if (status == STATUS_ERROR && reason && !r->res->first_error)
		r->res->first_error = xasprintf("'%s': %s", it->path, reason);
}

static struct file_change *add_file(struct group_work *w, const char *path, const char *pack,
                                    size_t item)
{
	struct file_change *f;
	ALLOC_GROW(w->files, w->nr + 1, w->alloc);
	f = &w->files[w->nr++];
	f->path = xstrdup(path);
	f->pack = pack;
	f->item = item;
	buf_init(&f->old, 0);
	buf_init(&f->new, 0);
	buf_init(&f->diff, 0);
	return f;
}

static void file_release(struct file_change *f)
{
	free(f->path);
	buf_release(&f->old);
	buf_release(&f->new);
	buf_release(&f->diff);
}

static void drop_files(struct group_work *w)
{
	size_t i;
	for (i = 0; i < w->nr; i++)
		file_release(&w->files[i]);
	free(w->files);
	w->files = NULL;
	w->nr = w->alloc = 0;
}

/* Removes the files of `pack` (all of them) or of one item, keeping the others in order. */
static void drop_files_of(struct group_work *w, const char *pack, size_t item)
{
	size_t i, n = 0;
	for (i = 0; i < w->nr; i++) {
		struct file_change *f = &w->files[i];
		if (item != NO_ITEM ? f->item == item : (f->pack && !strcmp(f->pack, pack))) {
			file_release(f);
			continue;
		}
		w->files[n++] = *f;
	}
	w->nr = n;
}

/* --- step 6: verification --- */

static char *verify_reason(const struct verify_result *vr, const struct item *it)
{
	/* The outcomes, the exception (type and message: the missing module) and the tests. */
	if (vr->why)
		return xasprintf("%s%s", vr->regressed ? "verification " : "", vr->why);
	if (vr->regressed)
		return xasprintf("verification regressed: %s in %s, %s in %s", it->verify_old,
		                 vr->old.image, it->verify_new, vr->new.image);
	if (vr->old.outcome == VERIFY_OUTCOME_ERROR)
		return xasprintf("could not verify: the old image '%s': %s", vr->old.image,
		                 vr->old.message ? vr->old.message : "error");
	return xasprintf("could not verify: the new image '%s': %s", vr->new.image,
	                 vr->new.message ? vr->new.message : "error");
}

static int verify_items(struct run *r, struct db_err *err)
{
	const struct config *cfg = r->cfg;
	struct verify_opts vo;
	struct verify_session *vs = NULL;
	struct registry_client *rc;
	struct item_modules mods;
	size_t *index = NULL, g, i, n = 0;
	int ret = 0;

	if (cfg->verify.level == VERIFY_OFF || !r->plan.nr)
		return 0;
	item_modules_init(&mods);
	if ((ret = item_verify_opts(&vo, &mods, cfg, &r->job.scan_opts, r->repo, err)))
		goto out;
	if ((ret = job_registry(&rc, &r->job, err)) || (ret = verify_session_new(&vs, &vo, err)))
		goto out;

	for (g = 0; g < r->plan.nr; g++)
		n += r->plan.groups[g].nr;
	index = xcalloc(n ? n : 1, sizeof(*index));
	n = 0;
	for (g = 0; g < r->plan.nr; g++) {
		struct plan_group *pg = &r->plan.groups[g];
		for (i = 0; i < pg->nr; i++, n++) {
			struct item *it = item_at(r, pg->items[i]);
			struct item_code code;
			struct db_err ierr = DB_ERR_INIT;
			char *old_ref =
			    registry_image_ref(rc, it->image, it->tag ? it->tag : "latest");
			char *new_ref = registry_image_ref(rc, it->image, it->target);

			item_code_init(&code);
			index[n] = (size_t)-1;
			if (item_code_load(&code, &r->job.scan_opts, r->repo, it,
			                   cfg->verify.level == VERIFY_TESTS, &ierr) == 0)
				verify_session_add(
				    vs, &index[n],
				    &(struct verify_item){it->path, code.name, code.code,
				                          it->kind == ITEM_INTEGRATION, old_ref,
				                          new_ref, code.files, code.nr_files, NULL},
				    &ierr);
			if (ierr.code)
				log_at(LOG_ERROR, LOG_FIELDS("item", it->path, "image", it->image),
				       "%s", ierr.msg);
			item_code_release(&code);
			free(old_ref);
			free(new_ref);
		}
	}
	if ((ret = verify_session_run(vs, err)))
		goto out;

	n = 0;
	for (g = 0; g < r->plan.nr; g++) {
		struct plan_group *pg = &r->plan.groups[g];
		for (i = 0; i < pg->nr; n++) {
			struct item *it = item_at(r, pg->items[i]);
			const struct verify_result *vr;
			char *why;

			if (index[n] == (size_t)-1) {
				item_fail(r, it, STATUS_ERROR,
				          "the item's code could not be read for verification");
				plan_group_drop(pg, pg->items[i]);
				continue;
			}
			vr = verify_session_result(vs, index[n]);
			it->verify_old = verify_outcome_name(vr->old.outcome);
			it->verify_new = verify_outcome_name(vr->new.outcome);
			it->regressed = vr->regressed;
			if (vr->new.exception_type || vr->new.message)
				it->verify_detail = xasprintf(
				    "%s%s%s", vr->new.exception_type ? vr->new.exception_type : "",
				    vr->new.exception_type && vr->new.message ? ": " : "",
				    vr->new.message ? vr->new.message : "");
			if (!verify_result_blocks(vr)) {
				i++;
				continue;
			}
			why = verify_reason(vr, it);
			log_at(LOG_WARN, LOG_FIELDS("item", it->path, "image", vr->new.image),
			       "'%s': %s", it->path, why);
			item_fail(r, it, vr->regressed ? STATUS_VERIFY_FAILED : STATUS_ERROR, why);
			free(why);
			plan_group_drop(pg, pg->items[i]);
		}
	}
	if (cfg->cli.junit)
		ret = verify_junit_write(vs, cfg->cli.junit, err);
out:
	free(index);
	verify_session_free(vs);
	item_modules_release(&mods);
	return ret;
}

/* --- step 7: one group's files, then its commit or its diff --- */

struct rewrite_task {
	struct run *r;
	struct item *it;
	struct file_change *f;
	int added;
	struct db_err err;
};

static void rewrite_one(size_t i, void *arg)
{
	struct rewrite_task *t = &((struct rewrite_task *)arg)[i];

	if (gitrepo_check_path(t->r->repo, &t->r->job.base, t->it->path, &t->err) == 0 &&
	    scan_read_item(&t->f->old, &t->r->job.scan_opts, t->it, &t->err) == 0 &&
	    rewrite_item(&t->f->new, &t->added, t->f->old.ptr, t->f->old.len, t->it, t->r->cfg,
	                 &t->err) == 0 &&
	    t->r->diff) {
		/* The diff is made here, in parallel, and the old bytes go at once. */
		gitrepo_diff(&t->f->diff, t->f->path, t->f->old.ptr, t->f->old.len, t->f->new.ptr,
		             t->f->new.len);
		buf_release(&t->f->old);
	}
}

/* The pack's release note and version bump; 0, or an error that fails the whole pack. */
static int pack_notes(struct run *r, struct group_work *w, const char *pack,
                      const struct item *const *items, size_t nr, struct db_err *err)
{
	struct buf meta_path = BUF_INIT, meta = BUF_INIT, bumped = BUF_INIT;
	struct db_err merr = DB_ERR_INIT;
	char version[64];
	char *note_path = NULL;
	struct file_change *f;
	size_t k;
	int ret;

	buf_addf(&meta_path, "Packs/%s/pack_metadata.json", pack);
	if ((ret = gitrepo_check_path(r->repo, &r->job.base, meta_path.ptr, err)))
		goto out;
	/* A pack without usable metadata still gets its bumps; the report says why. */
	if (item_read_path(&meta, &r->job.scan_opts, r->repo, meta_path.ptr, 16 << 20, &merr) ||
	    relnotes_bump_metadata(&bumped, version, meta.ptr, meta.len, meta_path.ptr, &merr)) {
		log_warn("release notes skipped for pack '%s': %s", pack, merr.msg);
		for (k = 0; k < nr; k++) {
			struct item *it = (struct item *)items[k];
			char *why = xasprintf("release notes skipped: %s", merr.msg);
			strlist_push(&it->warnings, why);
			free(it->reason);
			it->reason = why;
		}
		goto out;
	}
	note_path = relnotes_path(pack, version);
	if ((ret = gitrepo_check_path(r->repo, &r->job.base, note_path, err)))
		goto out;
	f = add_file(w, meta_path.ptr, pack, NO_ITEM);
	f->new = bumped;
	bumped = (struct buf)BUF_INIT;
	if (r->diff) {
		f->old = meta;
		meta = (struct buf)BUF_INIT;
	}
	f = add_file(w, note_path, pack, NO_ITEM);
	/* A note already there (written by hand) keeps every byte; ours follows it. */
	if (item_read_path(&f->old, &r->job.scan_opts, r->repo, note_path, 16 << 20, &merr) == 0) {
		buf_add(&f->new, f->old.ptr, f->old.len);
		if (f->new.len && f->new.ptr[f->new.len - 1] != '\n')
			buf_addch(&f->new, '\n');
	}
	relnotes_render(&f->new, items, nr);
out:
	free(note_path);
	buf_release(&meta_path);
	buf_release(&meta);
	buf_release(&bumped);
	return ret;
}

/* Adds the pack files of every pack of the group; a pack that cannot be written fails whole. */
static void group_notes(struct run *r, struct plan_group *g, struct group_work *w)
{
	size_t i, j, k;

	for (i = 0; i < g->nr; i = j) {
		const char *pack = item_at(r, g->items[i])->pack;
		const struct item **items;
		struct db_err err = DB_ERR_INIT;

		for (j = i + 1; j < g->nr; j++) {
			const char *p = item_at(r, g->items[j])->pack;
			if (!pack || !p || strcmp(p, pack))
				break;
		}
		if (!pack)
			continue;
		items = xcalloc(j - i, sizeof(*items));
		for (k = i; k < j; k++)
			items[k - i] = item_at(r, g->items[k]);
		if (pack_notes(r, w, pack, items, j - i, &err) < 0) {
			log_at(LOG_ERROR, LOG_FIELDS("pack", pack, "branch", g->branch),
			       "pack '%s': %s", pack, err.msg);
			drop_files_of(w, pack, NO_ITEM);
			for (k = i; k < j; k++)
				item_fail(r, item_at(r, g->items[k]), STATUS_ERROR, err.msg);
		}
		free(items);
	}
	for (i = 0; i < g->nr;)
		if (item_at(r, g->items[i])->status == STATUS_ERROR)
			plan_group_drop(g, g->items[i]);
		else
			i++;
}

/* "Update demisto/python3 to 3.11.10.113941, demisto/python to 2.7.18.5 (group 17)" */
static void group_title(struct buf *out, struct run *r, const struct plan_group *g)
{
	struct strlist seen = STRLIST_INIT;
	size_t i;

	buf_adds(out, "Update ");
	for (i = 0; i < g->nr; i++) {
		const struct item *it = item_at(r, g->items[i]);
		char *pair = xasprintf("%s to %s", it->image, it->target);
		if (!strlist_has(&seen, pair)) {
			buf_addf(out, "%s%s", seen.nr ? ", " : "", pair);
			strlist_push(&seen, pair);
		}
		free(pair);
	}
	buf_addf(out, " (group %s)", g->name);
	strlist_clear(&seen);
}

/*
 * What a group's commit is a pure function of: the base (and with it every file's bytes), each
 * item's path and target, the settings that shape the files, and this program's version. Two
 * runs with the same digest build the same tree, so a quiet night needs no rewrite at all.
 */
#define INPUTS_TRAILER "Dockerbump-Inputs: "
static char *group_inputs(struct run *r, const struct plan_group *g)
{
	struct buf b = BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;

	buf_addf(&b, "dockerbump %s\nbase %s\nbranch %s\nrelease_notes %d\ndockerimage45 %d\n",
	         DOCKERBUMP_VERSION, r->job.base_hex, g->branch, r->cfg->release_notes,
	         r->cfg->dockerimage45_preserve);
	for (i = 0; i < g->nr; i++) {
		const struct item *it = item_at(r, g->items[i]);
		buf_addf(&b, "%s %s:%s\n", it->path, it->image, it->target);
	}
	gitrepo_hash_hex(hex, b.ptr, b.len);
	buf_release(&b);
	return xasprintf(INPUTS_TRAILER "%s", hex);
}

static void commit_message(struct buf *msg, struct run *r, const struct plan_group *g,
                           const char *inputs)
{
	size_t i;

	group_title(msg, r, g);
	buf_addf(msg, "\n\nBumps %zu item%s of the base %s:\n\n", g->nr, g->nr == 1 ? "" : "s",
	         r->job.base_hex);
	for (i = 0; i < g->nr; i++) {
		const struct item *it = item_at(r, g->items[i]);
		buf_addf(msg, "- %s: %s %s -> %s", it->path, it->image,
		         it->tag ? it->tag : "(none)", it->target);
		if (it->verify_new)
			buf_addf(msg, " (verify: %s -> %s)", it->verify_old, it->verify_new);
		else
			buf_adds(msg, " (not verified)");
		buf_addch(msg, '\n');
	}
	for (i = 0; i < r->job.scan.nr; i++) {
		const struct item *it = &r->job.scan.items[i];
		if (it->status == STATUS_VERIFY_FAILED && it->group_id.k == g->id.k)
			buf_addf(msg, "\nBlocked: %s (verify: %s -> %s%s%s)", it->path,
			         it->verify_old, it->verify_new, it->verify_detail ? ", " : "",
			         it->verify_detail ? it->verify_detail : "");
	}
	buf_addch(msg, '\n');
	if (inputs)
		buf_addf(msg, "\n%s\n", inputs);
}

static void print_diff(struct run *r, const struct plan_group *g, struct group_work *w)
{
	size_t i;

	fprintf(r->diff, "group %s (%s): %zu item%s\n", g->name, g->branch, g->nr,
	        g->nr == 1 ? "" : "s");
	for (i = 0; i < g->nr; i++) {
		const struct item *it = item_at(r, g->items[i]);
		fprintf(r->diff, "  %s %s -> %s%s%s\n", it->path, it->tag ? it->tag : "(none)",
		        it->target, it->d45 == D45_ADDED ? " (+dockerimage45)" : "",
		        it->verify_new ? "" : " (not verified)");
	}
	for (i = 0; i < w->nr; i++) {
		struct file_change *f = &w->files[i];
		if (f->item == NO_ITEM) /* pack files: their diff is made now */
			gitrepo_diff(&f->diff, f->path, f->old.ptr, f->old.len, f->new.ptr,
			             f->new.len);
		fwrite(f->diff.ptr, 1, f->diff.len, r->diff);
	}
}

static int build_group(struct run *r, size_t gi, struct db_err *err)
{
	struct plan_group *g = &r->plan.groups[gi];
	struct group_work *w = &r->work[gi];
	struct rewrite_task *tasks;
	struct gitrepo_change *changes = NULL;
	struct gitrepo_commit_spec spec = {0};
	struct buf msg = BUF_INIT;
	char *upstream = xasprintf("refs/remotes/%s/%s", r->cfg->git.remote, g->branch);
	char *inputs = NULL;
	size_t i, nr = g->nr;
	int ret = 0, clean;

	spec.branch = g->branch;
	spec.branch_prefix = r->cfg->git.branch_prefix;
	spec.base = &r->job.base;
	spec.upstream = upstream;
	if (!r->cfg->cli.dry_run && nr) {
		/* Built before from the same inputs: nothing to read, rewrite or write. */
		inputs = group_inputs(r, g);
		if (gitrepo_match_inputs(&w->commit, r->repo, &spec, inputs) == 1) {
			for (i = 0; i < nr; i++) {
				struct item *it = item_at(r, g->items[i]);
				it->d45 = needs_dockerimage45(it, r->cfg) ? D45_ADDED
				          : it->dockerimage45             ? D45_KEPT
				                                          : D45_NONE;
			}
			w->built = 1;
			goto out;
		}
	}

	/* Every file is added before any pointer into the array is taken. */
	for (i = 0; i < nr; i++)
		add_file(w, item_at(r, g->items[i])->path, item_at(r, g->items[i])->pack,
		         g->items[i]);
	tasks = xcalloc(nr ? nr : 1, sizeof(*tasks));
	for (i = 0; i < nr; i++)
		tasks[i] =
		    (struct rewrite_task){r, item_at(r, g->items[i]), &w->files[i], 0, DB_ERR_INIT};
	parallel_for(nr, 0, rewrite_one, tasks);
	for (i = 0; i < nr; i++) {
		struct rewrite_task *t = &tasks[i];
		if (t->err.code) {
			log_at(LOG_ERROR, LOG_FIELDS("item", t->it->path, "branch", g->branch),
			       "%s", t->err.msg);
			item_fail(r, t->it, STATUS_ERROR, t->err.msg);
			continue;
		}
		t->it->d45 = t->added ? D45_ADDED : t->it->dockerimage45 ? D45_KEPT : D45_NONE;
	}
	for (i = 0; i < nr; i++)
		if (tasks[i].it->status == STATUS_ERROR)
			drop_files_of(w, NULL, (size_t)(tasks[i].it - r->job.scan.items));
	free(tasks);
	for (i = 0; i < g->nr;)
		if (item_at(r, g->items[i])->status == STATUS_ERROR)
			plan_group_drop(g, g->items[i]);
		else
			i++;
	if (!r->diff)
		for (i = 0; i < w->nr; i++)
			buf_release(&w->files[i].old); /* only the diff needs the old bytes */
	if (r->cfg->release_notes)
		group_notes(r, g, w);
	if (!g->nr)
		goto out;
	/* Only a group that came out whole may be recognised by its inputs next time: a dropped
	 * item or a skipped note must be found (and reported) again. */
	clean = g->nr == nr;
	for (i = 0; i < g->nr && clean; i++)
		clean = !item_at(r, g->items[i])->reason;

	if (r->cfg->cli.dry_run) {
		if (r->diff)
			print_diff(r, g, w);
		goto out;
	}
	changes = xcalloc(w->nr ? w->nr : 1, sizeof(*changes));
	for (i = 0; i < w->nr; i++)
		changes[i] = (struct gitrepo_change){w->files[i].path, w->files[i].new.ptr,
		                                     w->files[i].new.len};
	commit_message(&msg, r, g, clean ? inputs : NULL);
	spec.changes = changes;
	spec.nr_changes = w->nr;
	spec.message = msg.ptr;
	spec.author_name = r->cfg->git.author_name;
	spec.author_email = r->cfg->git.author_email;
	ret = gitrepo_build_commit(&w->commit, r->repo, &spec, err);
	w->built = !ret;
out:
	free(inputs);
	free(upstream);
	free(changes);
	buf_release(&msg);
	drop_files(w);
	return ret;
}

/*
 * Every group's objects are written first, as one pack, and only then are the refs moved, one
 * compare-and-swap each: a failure while writing objects moves no ref at all.
 */
static int write_groups(struct run *r, struct db_err *err)
{
	size_t g;
	int ret = 0, batch = !r->cfg->cli.dry_run;
	double t = clock_now_s();

	if (r->diff) {
		fprintf(r->diff, "dry run: base %s\n", r->job.base_hex);
		run_forge_print(r);
	}
	if (batch && (ret = gitrepo_batch_begin(r->repo, err)))
		return ret;
	for (g = 0; g < r->plan.nr && !ret; g++)
		ret = build_group(r, g, err);
	r->step_s[STEP_WRITE] = clock_now_s() - t;
	if (!batch)
		return ret;
	t = clock_now_s();
	if (!ret)
		ret = gitrepo_batch_write(r->repo, err);
	gitrepo_batch_end(r->repo);
	for (g = 0; g < r->plan.nr && !ret; g++) {
		struct group_work *w = &r->work[g];
		if (!r->plan.groups[g].nr || !w->built)
			continue;
		/* (a no-op for a branch already up to date here and on the remote) */
		ret = gitrepo_update_branch(r->repo, &w->commit, err);
		if (!ret) {
			char hex[GIT_OID_HEXSZ + 1] = "";
			w->committed = w->commit.outcome == GITREPO_CREATED ||
			               w->commit.outcome == GITREPO_REBUILT;
			r->res->commits += w->committed;
			git_oid_tostr(hex, sizeof(hex), &w->commit.id);
			log_at(LOG_INFO,
			       LOG_FIELDS("branch", r->plan.groups[g].branch, "commit", hex),
			       "%s: %s (%zu item%s)", r->plan.groups[g].branch,
			       gitrepo_outcome_name(w->commit.outcome), r->plan.groups[g].nr,
			       r->plan.groups[g].nr == 1 ? "" : "s");
		}
	}
	r->step_s[STEP_COMMIT] = clock_now_s() - t;
	return ret;
}

/* --- step 8: push and pull requests --- */

/* Whether pushing is on: --no-push and git.push: false turn it off; --push forces it on. */
static int want_push(struct run *r)
{
	const struct config *cfg = r->cfg;

	if (cfg->cli.dry_run || cfg->cli.no_push)
		return 0;
	if (cfg->cli.push_forced)
		return 1;
	if (!cfg->git.push)
		return 0;
	/* Default on only when the configured remote exists. */
	if (!gitrepo_has_remote(r->repo, cfg->git.remote)) {
		log_info("not pushing: the repository has no remote '%s'", cfg->git.remote);
		return 0;
	}
	return 1;
}

/*
 * Pushes the groups' branches and deletes those of the pull requests the rollout closes. A
 * rejected push is an error naming the ref; the local branches it made are rolled back.
 */
static int push_groups(struct run *r, struct db_err *err)
{
	struct gitpush_ref *refs, *doomed;
	struct gitpush_opts po = {r->cfg->git.remote, r->cfg->git.branch_prefix, 0};
	size_t g, k, n = 0, nd = run_forge_doomed(r, &doomed);
	int ret;

	refs = xcalloc(r->plan.nr + nd + 1, sizeof(*refs));
	for (g = 0; g < r->plan.nr; g++)
		if (r->plan.groups[g].nr && r->work[g].built &&
		    r->work[g].commit.outcome != GITREPO_NO_CHANGE)
			refs[n++].branch = r->plan.groups[g].branch;
	for (k = 0; k < nd; k++)
		refs[n++] = doomed[k];
	free(doomed);
	if (!n) {
		free(refs);
		return 0;
	}
	ret = gitpush(r->repo, &po, refs, n, err);
	for (k = 0; k < n; k++) {
		if (refs[k].delete) {
			struct db_err derr = DB_ERR_INIT;
			if (refs[k].result != GITPUSH_PUSHED &&
			    refs[k].result != GITPUSH_UP_TO_DATE)
				continue;
			/* Gone from the remote: the local copy goes too. */
			if (gitrepo_delete_branch(r->repo, refs[k].branch, &derr) < 0)
				log_warn("%s", derr.msg);
			r->res->pushed += refs[k].result == GITPUSH_PUSHED;
			continue;
		}
		for (g = 0; g < r->plan.nr; g++) {
			struct group_work *w = &r->work[g];
			if (strcmp(refs[k].branch, r->plan.groups[g].branch))
				continue;
			w->push = refs[k].result;
			r->res->pushed += w->push == GITPUSH_PUSHED;
			if (ret && (w->push == GITPUSH_REJECTED || w->push == GITPUSH_NOT_PUSHED) &&
			    w->commit.updated) {
				struct db_err rerr = DB_ERR_INIT;
				if (gitrepo_rollback_branch(r->repo, &w->commit, &rerr))
					log_error("%s", rerr.msg);
			}
		}
	}
	gitpush_refs_release(refs, n);
	free(refs);
	return ret;
}

/* --- the job --- */

/* Step 1: what can be checked before anything is written. */
static int preflight(struct run *r, struct db_err *err)
{
	const struct config *cfg = r->cfg;

	r->push = want_push(r);
	if (r->push && gitrepo_is_shallow(r->repo))
		return db_err_set(
		    err, DB_EUSAGE,
		    "'%s' is a shallow clone: its branches cannot be pushed; fetch the "
		    "whole history first ('git fetch --unshallow %s', or fetch-depth: 0 "
		    "in actions/checkout), or pass --no-push",
		    gitrepo_path(r->repo), cfg->git.remote);
	if (cfg->pull_request.provider != PR_NONE && r->push && !r->job.base_branch)
		return db_err_set(
		    err, DB_EUSAGE,
		    "the base '%s' is not a branch, so no pull request can target it: "
		    "pass --base BRANCH",
		    r->job.base_ref);
	/* The forge's one authenticated read, before anything is written. */
	return run_forge_open(r, err);
}

static void build_report(struct run *r)
{
	struct report *rep =
	    report_new(r->job.base_hex[0] ? r->job.base_hex : NULL, r->cfg->cli.dry_run);
	size_t g, i;

	report_set_images(rep, r->job.images);
	report_add_items(rep, r->job.scan.items, r->job.scan.nr);
	for (g = 0; g < r->plan.nr; g++) {
		struct plan_group *pg = &r->plan.groups[g];
		struct group_work *w = &r->work[g];
		char hex[GIT_OID_HEXSZ + 1] = "";
		int waiting = r->rollout_on && r->ro.actions[g] == ROLLOUT_ACT_WAIT;
		size_t nr = pg->nr;
		if (waiting)
			for (i = 0; i < r->job.scan.nr; i++)
				nr += r->job.scan.items[i].status == STATUS_WAITING &&
				      r->job.scan.items[i].group_id.k == pg->id.k;
		if (!nr)
			continue;
		if (w->built && !git_oid_is_zero(&w->commit.id))
			git_oid_tostr(hex, sizeof(hex), &w->commit.id);
		report_add_branch(
		    rep, &(struct report_branch){
		             pg->branch, pg->name, hex[0] ? hex : NULL, nr,
		             w->push == GITPUSH_PUSHED || w->push == GITPUSH_UP_TO_DATE,
		             w->pr_number, w->pr_url, waiting ? "waiting" : w->pr_outcome});
	}
	for (i = 0; r->rollout_on && i < r->ro.nr_close; i++) {
		/* The forge's record: closing it refreshed its strings, which the rollout's
		 * copy of the pull request borrowed. */
		const struct forge_pr *pr = r->ro.prs[r->ro.close[i].pr].handle;
		report_add_branch(
		    rep, &(struct report_branch){pr->head, NULL, NULL, 0, 0, pr->number, pr->url,
		                                 r->cfg->cli.dry_run ? "to close" : "closed"});
	}
	if (r->rollout_on) {
		json_t *ro = rollout_json(&r->ro);
		report_set_rollout(rep, ro);
		json_decref(ro);
	}
	r->res->report = rep;
}

static void summarize(struct run *r)
{
	struct run_result *res = r->res;
	struct buf tail = BUF_INIT, line = BUF_INIT;
	size_t i;

	for (i = 0; i < r->job.scan.nr; i++) {
		const struct item *it = &r->job.scan.items[i];
		if (it->status == STATUS_ERROR && !res->first_error)
			res->first_error =
			    xasprintf("'%s': %s", it->path, it->reason ? it->reason : "error");
		res->errors += it->status == STATUS_ERROR;
		res->blocked += it->status == STATUS_VERIFY_FAILED;
		res->bumped += it->status == STATUS_BUMPED;
	}
	if (r->cfg->cli.dry_run)
		buf_adds(&tail, "dry run: nothing written");
	else if (!res->commits && !res->pushed && !res->forge_writes)
		buf_adds(&tail, res->bumped ? "up to date: nothing written" : "nothing to do");
	else
		buf_addf(&tail, "%zu branch%s committed, %zu pushed, %zu pull request%s written",
		         res->commits, res->commits == 1 ? "" : "es", res->pushed,
		         res->forge_writes, res->forge_writes == 1 ? "" : "s");
	report_log_summary(r->cfg->cli.dry_run ? "run (dry run)" : "run", r->job.scan.items,
	                   r->job.scan.nr, tail.ptr);
	buf_adds(&line, "time:");
	for (i = 0; i < NSTEPS; i++) {
		char ms[24];
		buf_addf(&line, "%s %s %.2fs", i ? "," : "", step_names[i], r->step_s[i]);
		snprintf(ms, sizeof(ms), "%ld", (long)(r->step_s[i] * 1000));
		log_at(LOG_DEBUG, LOG_FIELDS("step", step_names[i], "duration_ms", ms),
		       "step %s: %s ms", step_names[i], ms);
	}
	log_info("%s", line.ptr);
	buf_release(&tail);
	buf_release(&line);
}

int run_job(struct run_result *out, const struct config *cfg, FILE *diff, struct db_err *err)
{
	struct run r;
	size_t g;
	int ret;
	double t;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.res = out;
	r.diff = cfg->cli.dry_run ? diff : NULL;
	job_init(&r.job, cfg);

	t = clock_now_s();
	if ((ret = job_open(&r.job, err)))
		goto out;
	r.repo = r.job.repo;
	if ((ret = preflight(&r, err)))
		goto out;
	if ((ret = job_scan(&r.job, err)))
		goto out;
	r.step_s[STEP_SCAN] = clock_now_s() - t;
	t = clock_now_s();
	/* A registry error marks that image's items `error`; the rest of the job goes on. */
	if (job_resolve_targets(&r.job, err) < 0) {
		log_debug("tags: %s", err->msg);
		db_err_clear(err);
	}
	r.step_s[STEP_TAGS] = clock_now_s() - t;

	t = clock_now_s();
	ret = run_forge_plan(&r, err);
	r.step_s[STEP_FORGE_READ] = clock_now_s() - t;
	r.work = xcalloc(r.plan.nr ? r.plan.nr : 1, sizeof(*r.work));
	if (ret)
		goto report;
	t = clock_now_s();
	if ((ret = verify_items(&r, err)))
		goto report;
	r.step_s[STEP_VERIFY] = clock_now_s() - t;
	if ((ret = write_groups(&r, err)))
		goto report;
	if (r.push) {
		t = clock_now_s();
		ret = push_groups(&r, err);
		r.step_s[STEP_PUSH] = clock_now_s() - t;
	}
	t = clock_now_s();
	if (!ret)
		ret = run_forge_write(&r, err);
	r.step_s[STEP_FORGE_WRITE] = clock_now_s() - t;
report:
	build_report(&r);
	summarize(&r);
out:
	for (g = 0; r.work && g < r.plan.nr; g++) {
		drop_files(&r.work[g]);
		gitrepo_commit_release(&r.work[g].commit);
		free(r.work[g].pr_url);
	}
	free(r.work);
	run_forge_close(&r);
	out->items = r.job.scan.nr;
	/* The report borrows the scanned items, and they borrow the plan's branch names: both
	 * move to the result's keeping. */
	out->job = xmalloc(sizeof(struct job));
	*out->job = r.job;
	out->plan = xmalloc(sizeof(struct plan));
	*out->plan = r.plan;
	return ret;
}

void run_result_release(struct run_result *res)
{
	report_free(res->report);
	if (res->job) {
		job_release(res->job);
		free(res->job);
	}
	if (res->plan) {
		plan_release(res->plan);
		free(res->plan);
	}
	free(res->first_error);
	memset(res, 0, sizeof(*res));
}

#include "updater/gitrepo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "updater/giterr.h"
#include "updater/gitpack.h"

#include "common/banned.h"

struct gitrepo {
	git_repository *git;
	char *path;
	struct gitpack *pack; /* the batch backend, added to the object database on first use */
};

/* The owner of DIR's git directory when it is a repository of another user, else -1. */
static long foreign_owner(const char *dir)
{
	static const char *const probes[] = {".git", "HEAD"};
	struct stat st;
	size_t i;

	for (i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, probes[i]);
		int found = stat(p, &st) == 0;
		free(p);
		if (found)
			return st.st_uid != geteuid() ? (long)st.st_uid : -1;
	}
	return -1;
}

int gitrepo_open(struct gitrepo **out, const char *dir, struct db_err *err)
{
	git_repository *git = NULL;
	struct gitrepo *repo;
	const char *path;
	size_t len;
	int rc;

	*out = NULL;
	rc = git_repository_open_ext(&git, dir, 0, NULL);
	if (rc == GIT_ENOTFOUND || rc == GIT_EOWNER) {
		/* libgit2 1.5 reports a repository of another owner as not found. */
		long uid = foreign_owner(dir);
		if (uid >= 0)
			return db_err_set(
			    err, DB_EUSAGE,
			    "'%s' belongs to another user (uid %ld), and git refuses such "
			    "repositories: add it to safe.directory ('git config --global "
			    "--add safe.directory %s') or run as its owner (in a container: "
			    "--user %ld)",
			    dir, uid, dir, uid);
		return db_err_set(err, DB_ENOTFOUND, "'%s' is not a git repository", dir);
	}
	if (rc < 0)
		return db_err_git(err, DB_ERROR, "cannot open the repository at '%s'", dir);

	repo = xcalloc(1, sizeof(*repo));
	repo->git = git;
	path = git_repository_workdir(git);
	if (!path)
		path = git_repository_path(git);
	repo->path = xstrdup(path);
	len = strlen(repo->path);
	if (len > 1 && repo->path[len - 1] == '/')
		repo->path[len - 1] = '\0';
	*out = repo;
	return 0;
}

void gitrepo_free(struct gitrepo *repo)
{
	if (!repo)
		return;
	git_repository_free(repo->git);
	free(repo->path);
	free(repo);
}

git_repository *gitrepo_git(struct gitrepo *repo)
{
	return repo->git;
}

const char *gitrepo_path(const struct gitrepo *repo)
{
	return repo->path;
}

void gitrepo_base_release(struct gitrepo_base *base)
{
	free(base->name);
	free(base->desc);
	base->name = base->desc = NULL;
}

/* Peels `spec` to a commit. */
static int resolve_commit(git_oid *out, git_repository *git, const char *spec, struct db_err *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rc;

	rc = git_revparse_single(&obj, git, spec);
	if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
		rc = db_err_set(err, DB_ENOTFOUND, "'%s': no such branch, tag or commit", spec);
		goto out;
	}
	if (rc == GIT_EAMBIGUOUS) {
		rc = db_err_set(err, DB_EUSAGE, "'%s' is ambiguous", spec);
		goto out;
	}
	if (rc < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot resolve '%s'", spec);
		goto out;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = db_err_set(err, DB_ENOTFOUND, "'%s' does not name a commit", spec);
		goto out;
	}
	git_oid_cpy(out, git_object_id(commit));
	rc = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

/*
 * The branch `refs/remotes/<remote>/HEAD` points at, as "<remote>/<branch>", or NULL. Only
 * the local symbolic ref is read: asking the remote would be a network request.
 */
static char *remote_default_branch(git_repository *git, const char *remote)
{
	git_reference *ref = NULL;
	const char *target;
	char *name = NULL, *refname;
	int valid = 0;

	if (!remote || git_remote_name_is_valid(&valid, remote) < 0 || !valid)
		return NULL;
	refname = xasprintf("refs/remotes/%s/HEAD", remote);
	if (git_reference_lookup(&ref, git, refname) == 0 &&
	    git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
		target = git_reference_symbolic_target(ref);
		if (strncmp(target, "refs/remotes/", 13) == 0)
			name = xstrdup(target + 13);
	}
	git_reference_free(ref);
	free(refname);
	return name;
}

int gitrepo_resolve_base(struct gitrepo_base *out, struct gitrepo *repo, const char *spec,
                         const char *remote, struct db_err *err)
{
	char *name;
	int rc;

	if (spec)
		name = xstrdup(spec);
	else if (!(name = remote_default_branch(repo->git, remote)))
		name = xstrdup("HEAD");

	rc = resolve_commit(&out->id, repo->git, name, err);
	if (rc < 0) {
		if (!spec && strcmp(name, "HEAD") == 0)
			db_err_prefix(err, "'%s' has no commit to use as the base", repo->path);
		free(name);
		return rc;
	}
	git_oid_tostr(out->hex, sizeof(out->hex), &out->id);
	out->name = name;
	out->desc = xasprintf("%s (%.10s)", name, out->hex);
	return 0;
}

/* Looks up the tree of `commit`; the caller frees it. */
static int commit_tree(git_tree **out, git_repository *git, const git_oid *commit,
                       struct db_err *err)
{
	git_commit *c = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0;

	if (git_commit_lookup(&c, git, commit) < 0) {
		git_oid_tostr(hex, sizeof(hex), commit);
		return db_err_set(err, DB_ENOTFOUND, "'%s' is not a commit", hex);
	}
	if (git_commit_tree(out, c) < 0) {
		git_oid_tostr(hex, sizeof(hex), commit);
		rc = db_err_git(err, DB_ERROR, "cannot read the tree of '%s'", hex);
	}
	git_commit_free(c);
	return rc;
}

int gitrepo_read_file(struct buf *out, struct gitrepo *repo, const git_oid *commit,
                      const char *path, size_t cap, struct db_err *err)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	git_object_size_t size;
	int rc;

	git_oid_tostr(hex, sizeof(hex), commit);
	if ((rc = commit_tree(&tree, repo->git, commit, err)) < 0)
		goto out;
	rc = git_tree_entry_bypath(&entry, tree, path);
	if (rc == GIT_ENOTFOUND || (rc == 0 && git_tree_entry_type(entry) != GIT_OBJECT_BLOB)) {
		rc = db_err_set(err, DB_ENOTFOUND, "'%s' does not exist at %.10s", path, hex);
		goto out;
	}
	if (rc < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot look up '%s' at %.10s", path, hex);
		goto out;
	}
	if (git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK) {
		rc = db_err_set(err, DB_ENOTFOUND, "'%s' is a symbolic link at %.10s", path, hex);
		goto out;
	}
	if ((rc = git_blob_lookup(&blob, repo->git, git_tree_entry_id(entry))) < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot read '%s' at %.10s", path, hex);
		goto out;
	}
	size = git_blob_rawsize(blob);
	if (cap && size > cap) {
		rc = db_err_set(err, DB_ETOOBIG, "'%s' at %.10s is larger than %zu bytes", path,
		                hex, cap);
		goto out;
	}
	buf_add(out, git_blob_rawcontent(blob), (size_t)size);
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return rc;
}

/* Whether refs/heads/<name> is a valid ref name. */
static int branch_name_is_valid(const char *name)
{
	char *ref = xasprintf("refs/heads/%s", name);
	int valid = 0;

	if (git_reference_name_is_valid(&valid, ref) < 0)
		valid = 0;
	free(ref);
	return valid;
}

void gitrepo_commit_release(struct gitrepo_commit *c)
{
	free(c->ref);
	c->ref = NULL;
}

const char *gitrepo_outcome_name(enum gitrepo_outcome o)
{
	switch (o) {
	case GITREPO_CREATED:
		return "created";
	case GITREPO_REBUILT:
		return "rebuilt";
	case GITREPO_UP_TO_DATE:
		return "up to date";
	case GITREPO_NO_CHANGE:
		return "no change";
	}
	return "?";
}

/*
 * A repository path must name a file inside the tree: no empty, "." or ".." components and
 * nothing under .git, which git itself refuses to check out.
 */
static int path_is_valid(const char *path)
{
	const char *p = path, *end;
	size_t len;

	if (!*path)
		return 0;
	for (;;) {
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && !memcmp(p, "..", 2)) ||
		    (len == 4 && !strncasecmp(p, ".git", 4)))
			return 0;
		if (!end)
			return 1;
		p = end + 1;
	}
}

static int cmp_change_path(const void *a, const void *b)
{
	const struct gitrepo_change *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* One change, checked against the base tree. */
struct prepared_change {
	const struct gitrepo_change *change;
	git_oid blob;        /* the id of its content (hashed, not written) */
	git_filemode_t mode; /* the base's mode, or a regular file */
	int same;            /* the base already has this content at this path */
};

/* What a commit spec means against the repository, before anything is written. */
struct prepared {
	git_tree *base_tree;
	struct prepared_change *v;
	size_t nr_effective; /* changes that are not `same` */
};

static void prepared_release(struct prepared *p)
{
	git_tree_free(p->base_tree);
	free(p->v);
}

static int check_spec(const struct gitrepo_commit_spec *spec, struct db_err *err)
{
	const struct gitrepo_change **sorted;
	size_t i, plen;
	int rc = 0;

	if (!spec->branch_prefix || !*spec->branch_prefix)
		return db_err_set(err, DB_EUSAGE, "the branch prefix is empty");
	plen = strlen(spec->branch_prefix);
	if (strncmp(spec->branch, spec->branch_prefix, plen) != 0 || !spec->branch[plen])
		return db_err_set(err, DB_EUSAGE, "branch '%s' is not under the prefix '%s'",
		                  spec->branch, spec->branch_prefix);
	if (!branch_name_is_valid(spec->branch))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid branch name", spec->branch);

	sorted = xcalloc(spec->nr_changes + 1, sizeof(*sorted));
	for (i = 0; i < spec->nr_changes; i++) {
		if (!path_is_valid(spec->changes[i].path)) {
			rc = db_err_set(err, DB_ERROR, "'%s' is not a valid repository path",
			                spec->changes[i].path);
			goto out;
		}
		sorted[i] = &spec->changes[i];
	}
	qsort(sorted, spec->nr_changes, sizeof(*sorted), cmp_change_path);
	for (i = 1; i < spec->nr_changes; i++) {
		if (strcmp(sorted[i - 1]->path, sorted[i]->path) == 0) {
			rc = db_err_set(err, DB_ERROR, "'%s' is changed twice in '%s'",
			                sorted[i]->path, spec->branch);
			goto out;
		}
	}
out:
	free(sorted);
	return rc;
}

static int prepare(struct prepared *p, git_repository *git, const struct gitrepo_commit_spec *spec,
                   struct db_err *err)
{
	git_tree_entry *entry = NULL;
	struct prepared_change *pc;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = check_spec(spec, err)) < 0)
		return rc;
	if ((rc = commit_tree(&p->base_tree, git, spec->base, err)) < 0)
		return rc;
	p->v = xcalloc(spec->nr_changes + 1, sizeof(*p->v));
	for (i = 0; i < spec->nr_changes; i++) {
		pc = &p->v[i];
		pc->change = &spec->changes[i];
		pc->mode = GIT_FILEMODE_BLOB;
		if (git_odb_hash(&pc->blob, pc->change->data, pc->change->len, GIT_OBJECT_BLOB) < 0)
			return db_err_git(err, DB_ERROR, "cannot hash '%s'", pc->change->path);
		rc = git_tree_entry_bypath(&entry, p->base_tree, pc->change->path);
		if (rc == 0) {
			pc->mode = git_tree_entry_filemode(entry);
			pc->same = git_oid_equal(&pc->blob, git_tree_entry_id(entry));
			git_tree_entry_free(entry);
			entry = NULL;
			if (pc->mode == GIT_FILEMODE_TREE || pc->mode == GIT_FILEMODE_COMMIT)
				return db_err_set(err, DB_ERROR, "'%s' is a directory in the base",
				                  pc->change->path);
			if (pc->mode == GIT_FILEMODE_LINK)
				return db_err_set(err, DB_ERROR,
				                  "'%s' is a symbolic link in the base",
				                  pc->change->path);
		} else if (rc != GIT_ENOTFOUND) {
			return db_err_git(err, DB_ERROR, "cannot look up '%s' in the base",
			                  pc->change->path);
		}
		if (!pc->same)
			p->nr_effective++;
	}
	return 0;
}

/* Finds the prepared change for `path` among those that change the base, or NULL. */
static const struct prepared_change *find_effective(const struct prepared *p, size_t nr,
                                                    const char *path)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!p->v[i].same && strcmp(p->v[i].change->path, path) == 0)
			return &p->v[i];
	return NULL;
}

/*
 * Whether `branch_tree` is the base tree with exactly the effective changes applied: the
 * tree-to-tree diff (no rename detection) must list each effective path once, with the
 * expected blob and mode, and nothing else.
 */
static int tree_matches(int *out, git_repository *git, const struct prepared *p, size_t nr,
                        git_tree *branch_tree, struct db_err *err)
{
	git_diff *diff = NULL;
	const git_diff_delta *d;
	const struct prepared_change *pc;
	size_t i, n;
	int rc = 0;

	*out = 0;
	if (git_diff_tree_to_tree(&diff, git, p->base_tree, branch_tree, NULL) < 0)
		return db_err_git(err, DB_ERROR, "cannot compare trees");
	n = git_diff_num_deltas(diff);
	if (n != p->nr_effective)
		goto out;
	for (i = 0; i < n; i++) {
		d = git_diff_get_delta(diff, i);
		if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED)
			goto out;
		pc = find_effective(p, nr, d->new_file.path);
		if (!pc || !git_oid_equal(&pc->blob, &d->new_file.id) ||
		    (git_filemode_t)d->new_file.mode != pc->mode)
			goto out;
	}
	*out = 1;
out:
	git_diff_free(diff);
	return rc;
}

/* Whether `commit` is a commit whose one parent is `base`. */
static int holds_base(git_repository *git, const git_oid *commit, const git_oid *base)
{
	git_commit *c = NULL;
	int on = git_commit_lookup(&c, git, commit) == 0 && git_commit_parentcount(c) == 1 &&
	         git_oid_equal(git_commit_parent_id(c, 0), base);

	git_commit_free(c);
	return on;
}

/*
 * Whether `commit` holds exactly the change of `spec`: one parent, the base, and the base
 * tree with the effective changes. *tree gets its tree when it does.
 */
static int holds_change(int *out, git_oid *tree, git_repository *git, struct prepared *p,
                        const struct gitrepo_commit_spec *spec, const git_oid *commit,
                        struct db_err *err)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	int rc = 0;

	*out = 0;
	/* Something else than a commit is simply replaced. */
	if (!holds_base(git, commit, spec->base) || git_commit_lookup(&c, git, commit) < 0)
		goto out;
	if (git_commit_tree(&t, c) < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot read the tree of %s",
		                git_oid_tostr_s(commit));
		goto out;
	}
	if ((rc = tree_matches(out, git, p, spec->nr_changes, t, err)) == 0 && *out)
		git_oid_cpy(tree, git_tree_id(t));
out:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/*
 * Decides the outcome of `spec` without writing: fills every field of `out` but `id` and
 * `tree`, which are set only for GITREPO_UP_TO_DATE.
 */
static int decide(struct gitrepo_commit *out, struct prepared *p, git_repository *git,
                  const struct gitrepo_commit_spec *spec, struct db_err *err)
{
	git_oid up;
	int rc, match;

	memset(out, 0, sizeof(*out));
	out->ref = xasprintf("refs/heads/%s", spec->branch);
	if ((rc = prepare(p, git, spec, err)) < 0)
		return rc;
	git_oid_cpy(&out->base, spec->base);

	rc = git_reference_name_to_id(&out->old, git, out->ref);
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return db_err_git(err, DB_ERROR, "cannot read '%s'", out->ref);
	out->existed = rc == 0;
	if (p->nr_effective == 0) {
		out->outcome = GITREPO_NO_CHANGE;
		return 0;
	}
	/* The remote's copy first: it is what the pull request shows. */
	if (spec->upstream && git_reference_name_to_id(&up, git, spec->upstream) == 0) {
		if ((rc = holds_change(&match, &out->tree, git, p, spec, &up, err)) < 0)
			return rc;
		if (match) {
			out->outcome = GITREPO_UP_TO_DATE;
			git_oid_cpy(&out->id, &up);
			out->adopt = !out->existed || !git_oid_equal(&out->old, &up);
			return 0;
		}
	}
	if (!out->existed) {
		out->outcome = GITREPO_CREATED;
		return 0;
	}
	if ((rc = holds_change(&match, &out->tree, git, p, spec, &out->old, err)) < 0)
		return rc;
	if (match) {
		out->outcome = GITREPO_UP_TO_DATE;
		git_oid_cpy(&out->id, &out->old);
		return 0;
	}
	out->outcome = GITREPO_REBUILT;
	out->base_moved = !holds_base(git, &out->old, spec->base);
	return 0;
}

int gitrepo_branch_status(struct gitrepo_commit *out, struct gitrepo *repo,
                          const struct gitrepo_commit_spec *spec, struct db_err *err)
{
	struct prepared p;
	int rc;

	rc = decide(out, &p, repo->git, spec, err);
	prepared_release(&p);
	return rc;
}

/*
 * The signature for author and committer: each field from the spec, else git config, else
 * the bot identity.
 */
static int make_signature(git_signature **out, git_repository *git, const char *name,
                          const char *email, struct db_err *err)
{
	git_config *cfg = NULL;
	git_buf cfg_name = {0}, cfg_email = {0};
	int rc;

	if ((!name || !email) && git_repository_config_snapshot(&cfg, git) == 0) {
		if (!name && git_config_get_string_buf(&cfg_name, cfg, "user.name") == 0 &&
		    cfg_name.size)
			name = cfg_name.ptr;
		if (!email && git_config_get_string_buf(&cfg_email, cfg, "user.email") == 0 &&
		    cfg_email.size)
			email = cfg_email.ptr;
	}
	if (!name)
		name = GITREPO_BOT_NAME;
	if (!email)
		email = GITREPO_BOT_EMAIL;
	rc = git_signature_now(out, name, email);
	if (rc < 0)
		rc = db_err_git(err, DB_EUSAGE, "'%s <%s>' is not a valid identity", name, email);
	git_buf_dispose(&cfg_email);
	git_buf_dispose(&cfg_name);
	git_config_free(cfg);
	return rc;
}

/* Writes the blobs, the tree and the commit of a CREATED or REBUILT outcome. */
static int write_commit(struct gitrepo_commit *c, struct gitrepo *repo, const struct prepared *p,
                        const struct gitrepo_commit_spec *spec, struct db_err *err)
{
	git_tree_update *updates;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	const struct prepared_change *pc;
	struct buf msg = BUF_INIT;
	git_oid blob;
	size_t i, n = 0;
	int rc;

	updates = xcalloc(spec->nr_changes + 1, sizeof(*updates));
	for (i = 0; i < spec->nr_changes; i++) {
		pc = &p->v[i];
		if (pc->same)
			continue;
		if (git_blob_create_from_buffer(&blob, repo->git, pc->change->data,
		                                pc->change->len) < 0) {
			rc = db_err_git(err, DB_ERROR, "cannot write '%s' to the repository '%s'",
			                pc->change->path, repo->path);
			goto out;
		}
		updates[n].action = GIT_TREE_UPDATE_UPSERT;
		updates[n].id = blob;
		updates[n].filemode = pc->mode;
		updates[n].path = pc->change->path;
		n++;
	}
	if (git_tree_create_updated(&c->tree, repo->git, p->base_tree, n, updates) < 0) {
		rc = db_err_git(err, DB_ERROR,
		                "cannot write the tree of '%s' to the repository '%s'", c->ref,
		                repo->path);
		goto out;
	}
	if ((rc = make_signature(&sig, repo->git, spec->author_name, spec->author_email, err)) < 0)
		goto out;
	if (git_tree_lookup(&tree, repo->git, &c->tree) < 0 ||
	    git_commit_lookup(&parent, repo->git, spec->base) < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot read back the tree of '%s'", c->ref);
		goto out;
	}
	buf_adds(&msg, spec->message ? spec->message : "");
	buf_rtrim(&msg);
	buf_addch(&msg, '\n');
	if (git_commit_create(&c->id, repo->git, NULL, sig, sig, NULL, msg.ptr, tree, 1,
	                      (const git_commit **)&parent) < 0) {
		rc = db_err_git(err, DB_ERROR,
		                "cannot write the commit of '%s' to the repository '%s'", c->ref,
		                repo->path);
		goto out;
	}
	rc = 0;
out:
	buf_release(&msg);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	free(updates);
	return rc;
}

int gitrepo_build_commit(struct gitrepo_commit *out, struct gitrepo *repo,
                         const struct gitrepo_commit_spec *spec, struct db_err *err)
{
	struct prepared p;
	int rc;

	rc = decide(out, &p, repo->git, spec, err);
	if (rc == 0 && (out->outcome == GITREPO_CREATED || out->outcome == GITREPO_REBUILT))
		rc = write_commit(out, repo, &p, spec, err);
	prepared_release(&p);
	return rc;
}

int gitrepo_batch_begin(struct gitrepo *repo, struct db_err *err)
{
	git_odb *odb = NULL;
	int rc = 0;

	if (!repo->pack) {
		if (git_repository_odb(&odb, repo->git) < 0)
			return db_err_git(err, DB_ERROR, "cannot open the objects of '%s'",
			                  repo->path);
		rc = gitpack_attach(&repo->pack, odb, err);
		git_odb_free(odb); /* the repository keeps it, and the backend with it */
	}
	if (rc == 0)
		gitpack_begin(repo->pack);
	return rc;
}

size_t gitrepo_batch_objects(struct gitrepo *repo)
{
	return repo->pack ? gitpack_count(repo->pack) : 0;
}

int gitrepo_batch_write(struct gitrepo *repo, struct db_err *err)
{
	if (!repo->pack)
		return 0;
	return gitpack_write(repo->pack, repo->git, repo->path, err);
}

void gitrepo_batch_end(struct gitrepo *repo)
{
	if (repo->pack)
		gitpack_end(repo->pack);
}

/* Whether the HEAD file at `path` is a symbolic ref to `ref`. */
static int head_file_points_at(const char *path, const char *ref)
{
	struct buf head = BUF_INIT;
	int hit = 0;

	if (file_read(&head, path, 4096, NULL) == 0) {
		buf_rtrim(&head);
		hit = strncmp(head.ptr, "ref: ", 5) == 0 && strcmp(head.ptr + 5, ref) == 0;
	}
	buf_release(&head);
	return hit;
}

/*
 * Refuses a branch that HEAD of the main work tree (or of a bare repository) or of any linked
 * work tree points at. The HEAD files are read directly, so a work tree whose directory has
 * gone missing still counts, as it does for git.
 */
static int check_not_checked_out(struct gitrepo *repo, const char *ref, struct db_err *err)
{
	git_strarray names = {0};
	const char *common = git_repository_commondir(repo->git);
	char *path = xasprintf("%sHEAD", common);
	size_t i;
	int rc = 0;

	if (head_file_points_at(path, ref))
		goto checked_out;
	if (git_worktree_list(&names, repo->git) < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot list the work trees of '%s'", repo->path);
		goto out;
	}
	for (i = 0; i < names.count; i++) {
		free(path);
		path = xasprintf("%sworktrees/%s/HEAD", common, names.strings[i]);
		if (head_file_points_at(path, ref))
			goto checked_out;
	}
	goto out;
checked_out:
	rc = db_err_set(err, DB_ECONFLICT, "'%s' is checked out in '%s'; not moving it", ref,
	                repo->path);
out:
	git_strarray_dispose(&names);
	free(path);
	return rc;
}

int gitrepo_update_branch(struct gitrepo *repo, struct gitrepo_commit *c, struct db_err *err)
{
	git_reference *ref = NULL;
	char *msg;
	int rc;

	if (c->outcome != GITREPO_CREATED && c->outcome != GITREPO_REBUILT && !c->adopt)
		return 0;
	if ((rc = check_not_checked_out(repo, c->ref, err)) < 0)
		return rc;
	msg = c->adopt
	          ? xasprintf("dockerbump: as on the remote, on %.10s", git_oid_tostr_s(&c->base))
	          : xasprintf("dockerbump: %s on %.10s", gitrepo_outcome_name(c->outcome),
	                      git_oid_tostr_s(&c->base));
	rc = git_reference_create_matching(&ref, repo->git, c->ref, &c->id, c->existed,
	                                   c->existed ? &c->old : NULL, msg);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		rc = db_err_set(err, DB_ECONFLICT, "'%s' moved while its commit was built", c->ref);
	else if (rc < 0)
		rc = db_err_git(err, DB_ERROR, "cannot update '%s' in '%s'", c->ref, repo->path);
	else
		c->updated = 1;
	git_reference_free(ref);
	free(msg);
	return rc;
}

int gitrepo_rollback_branch(struct gitrepo *repo, struct gitrepo_commit *c, struct db_err *err)
{
	git_reference *ref = NULL;
	int rc;

	if (!c->updated)
		return 0;
	if (c->existed) {
		rc = git_reference_create_matching(&ref, repo->git, c->ref, &c->old, 1, &c->id,
		                                   "dockerbump: rolled back");
	} else {
		rc = git_reference_lookup(&ref, repo->git, c->ref);
		if (rc == 0 && !git_oid_equal(git_reference_target(ref), &c->id))
			rc = GIT_EMODIFIED;
		else if (rc == 0)
			rc = git_reference_delete(ref);
		else if (rc == GIT_ENOTFOUND)
			rc = 0;
	}
	if (rc == GIT_EMODIFIED)
		rc = db_err_set(err, DB_ECONFLICT,
		                "'%s' moved since this run updated it; left as is", c->ref);
	else if (rc < 0)
		rc = db_err_git(err, DB_ERROR, "cannot roll back '%s' in '%s'", c->ref, repo->path);
	else
		c->updated = 0;
	git_reference_free(ref);
	return rc;
}

void gitrepo_global_init(void)
{
	git_libgit2_init();
	/*
	 * libgit2 caches only trees under 4 KiB by default; the Packs/ tree of a content
	 * repository is ~50 KiB and is read for every branch, so let the cache keep big trees.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
	/*
	 * Strict creation makes every tree insert look up the entry's object: 1,200 lookups for
	 * the Packs/ tree of each commit. Our trees come from git_tree_create_updated() over the
	 * base tree and blobs we have just written, so every entry exists by construction.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
}

char *gitrepo_forge_branch(struct gitrepo *repo, const char *name)
{
	git_reference *ref = NULL, *resolved = NULL;
	const char *full;
	char *out = NULL;

	if (git_reference_dwim(&ref, repo->git, name) < 0)
		return NULL;
	if (git_reference_resolve(&resolved, ref) == 0) {
		full = git_reference_name(resolved);
		if (!strncmp(full, "refs/heads/", 11))
			out = xstrdup(full + 11);
		else if (!strncmp(full, "refs/remotes/", 13) && strchr(full + 13, '/'))
			out = xstrdup(strchr(full + 13, '/') + 1);
	}
	git_reference_free(resolved);
	git_reference_free(ref);
	return out;
}

int gitrepo_is_shallow(struct gitrepo *repo)
{
	return git_repository_is_shallow(repo->git) == 1;
}

int gitrepo_check_path(struct gitrepo *repo, const git_oid *commit, const char *path,
                       struct db_err *err)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	char *prefix = xstrdup(path), *slash;
	int rc = commit_tree(&tree, repo->git, commit, err);

	/* Every folder on the way must be a folder (or not there yet). */
	for (slash = strchr(prefix, '/'); !rc && slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (git_tree_entry_bypath(&entry, tree, prefix) == 0 &&
		    git_tree_entry_type(entry) != GIT_OBJECT_TREE)
			rc = db_err_set(
			    err, DB_ECONFLICT, "'%s' is %s in the base, not a folder", prefix,
			    git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK ? "a symbolic link"
			                                                        : "a file");
		git_tree_entry_free(entry);
		entry = NULL;
		*slash = '/';
	}
	if (!rc && git_tree_entry_bypath(&entry, tree, path) == 0) {
		git_filemode_t mode = git_tree_entry_filemode(entry);
		if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
			rc = db_err_set(err, DB_ECONFLICT, "'%s' is %s in the base, not a file",
			                path,
			                mode == GIT_FILEMODE_LINK   ? "a symbolic link"
			                : mode == GIT_FILEMODE_TREE ? "a folder"
			                                            : "a submodule");
	}
	git_tree_entry_free(entry);
	git_tree_free(tree);
	free(prefix);
	return rc;
}

int gitrepo_has_remote(struct gitrepo *repo, const char *name)
{
	git_remote *remote = NULL;
	int valid = 0;

	if (git_remote_name_is_valid(&valid, name) < 0 || !valid ||
	    git_remote_lookup(&remote, repo->git, name) < 0)
		return 0;
	git_remote_free(remote);
	return 1;
}

char *gitrepo_remote_url(struct gitrepo *repo, const char *name)
{
	git_remote *remote = NULL;
	char *url = NULL;
	int valid = 0;

	if (git_remote_name_is_valid(&valid, name) < 0 || !valid ||
	    git_remote_lookup(&remote, repo->git, name) < 0)
		return NULL;
	if (git_remote_url(remote))
		url = xstrdup(git_remote_url(remote));
	git_remote_free(remote);
	return url;
}

void gitrepo_diff(struct buf *out, const char *path, const void *old, size_t old_len,
                  const void *new, size_t new_len)
{
	git_patch *patch = NULL;
	git_buf text = {0};

	if (git_patch_from_buffers(&patch, old_len ? old : NULL, old_len, path, new, new_len, path,
	                           NULL) == 0 &&
	    git_patch_to_buf(&text, patch) == 0)
		buf_add(out, text.ptr, text.size);
	git_buf_dispose(&text);
	git_patch_free(patch);
}

int gitrepo_ref_exists(struct gitrepo *repo, const char *refname)
{
	git_oid id;
	return git_reference_name_to_id(&id, repo->git, refname) == 0;
}

int gitrepo_delete_branch(struct gitrepo *repo, const char *branch, struct db_err *err)
{
	git_reference *ref = NULL;
	char *name = xasprintf("refs/heads/%s", branch);
	int rc = git_reference_lookup(&ref, repo->git, name);

	if (rc == GIT_ENOTFOUND)
		rc = 0;
	else if (rc < 0 || git_branch_is_checked_out(ref) == 1 || git_reference_delete(ref) < 0)
		rc = db_err_git(err, DB_ERROR, "cannot delete the branch '%s' in '%s'", name,
		                repo->path);
	git_reference_free(ref);
	free(name);
	return rc;
}

void gitrepo_hash_hex(char *out, const void *data, size_t len)
{
	git_oid id;

	git_odb_hash(&id, data, len, GIT_OBJECT_BLOB);
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, &id);
}

/* Whether `commit` sits on `base` alone and its message carries the line `trailer`. */
static int carries_inputs(git_repository *git, const git_oid *commit, const git_oid *base,
                          const char *trailer)
{
	git_commit *c = NULL;
	const char *msg, *hit;
	size_t n = strlen(trailer);
	int yes = 0;

	if (git_commit_lookup(&c, git, commit) == 0 && git_commit_parentcount(c) == 1 &&
	    git_oid_equal(git_commit_parent_id(c, 0), base) && (msg = git_commit_message(c)))
		for (hit = strstr(msg, trailer); hit && !yes; hit = strstr(hit + 1, trailer))
			yes = (hit == msg || hit[-1] == '\n') && (hit[n] == '\n' || !hit[n]);
	git_commit_free(c);
	return yes;
}

int gitrepo_match_inputs(struct gitrepo_commit *out, struct gitrepo *repo,
                         const struct gitrepo_commit_spec *spec, const char *trailer)
{
	git_oid up;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ref = xasprintf("refs/heads/%s", spec->branch);
	git_oid_cpy(&out->base, spec->base);
	rc = git_reference_name_to_id(&out->old, repo->git, out->ref);
	out->existed = rc == 0;
	/* The remote's copy first, as decide() does: it is what the pull request shows. */
	if (spec->upstream && git_reference_name_to_id(&up, repo->git, spec->upstream) == 0 &&
	    carries_inputs(repo->git, &up, spec->base, trailer)) {
		out->outcome = GITREPO_UP_TO_DATE;
		git_oid_cpy(&out->id, &up);
		out->adopt = !out->existed || !git_oid_equal(&out->old, &up);
		return 1;
	}
	if (out->existed && carries_inputs(repo->git, &out->old, spec->base, trailer)) {
		out->outcome = GITREPO_UP_TO_DATE;
		git_oid_cpy(&out->id, &out->old);
		return 1;
	}
	gitrepo_commit_release(out);
	return 0;
}

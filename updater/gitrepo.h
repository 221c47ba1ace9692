/*
 * The content repository through libgit2: read the base commit, build update commits in the
 * object database, and move the bot's own branches. Nothing here touches HEAD, the index, the
 * working tree or a branch that is checked out: a dirty working tree does not matter, and the
 * repository may be bare.
 *
 * Calling sequence (one repository per run; pushing is in gitpush.h):
 *
 *	struct gitrepo *repo;
 *	struct gitrepo_base base = GITREPO_BASE_INIT;
 *	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
 *
 *	gitrepo_open(&repo, dir, &err);
 *	gitrepo_resolve_base(&base, repo, cfg.git.base, cfg.git.remote, &err);
 *	gitrepo_read_file(&meta, repo, &base.id, "Packs/X/pack_metadata.json", cap, &err);
 *	... plan, rewrite, verify ...
 *	gitrepo_build_commit(&c, repo, &(struct gitrepo_commit_spec){ ... }, &err);	// objects
 *	gitrepo_update_branch(repo, &c, &err);						// the ref
 *	... gitpush(); for every ref it did not leave pushed or up to date (rejected, or the
 *	    push failed before it): gitrepo_rollback_branch(repo, &c, &err);
 *	gitrepo_commit_release(&c);
 *	gitrepo_base_release(&base);
 *	gitrepo_free(repo);
 *
 * Idempotency. A branch is "up to date" when its commit has exactly one parent, the base, and
 * its tree is the base tree with the given changes applied. Then gitrepo_build_commit() writes
 * nothing at all (not even the blobs) and gitrepo_update_branch() leaves the ref alone. The
 * commit message and the identity are not compared: a rerun whose only difference is the
 * wording of the message (a verification summary that flapped, say) does not churn the branch
 * and its pull request. In every other case (no branch yet, the base moved, the content
 * changed, or someone added commits to the bot's branch) a new commit is built on the base
 * and replaces the branch: the bot's branches are recreated, never merged into.
 *
 * The remote's copy. With `upstream` (the branch's remote-tracking ref, as last fetched), a
 * branch whose copy on the remote already holds exactly the change is up to date even when
 * the local branch is missing (a fresh clone, as a CI runner has every night) or differs:
 * nothing is written, and gitrepo_update_branch() points the local branch at the remote's
 * commit (`adopt`), so the push that follows sends nothing and the remote's ref stays put.
 *
 * Crash safety. Objects are content-addressed, so writing them is harmless even when the run
 * fails later; the ref is moved only after the commit object is written, by compare-and-swap
 * on the value read when the commit was built. A run whose push fails or is rejected rolls
 * those refs back with gitrepo_rollback_branch(), so a failed run leaves the local branches as
 * they were (the next run rebuilds and pushes again). A branch that was already up to date is
 * not touched by a rollback; gitpush() sends it if the remote lacks it.
 *
 * Dry run. The check above runs in memory (blob ids are hashed, not written), so
 * gitrepo_branch_status() tells a dry run whether a branch would change without writing an
 * object or a ref.
 *
 * Batches. Committing many branches one by one writes every blob, tree and commit as a loose
 * object, a file each (15,000 for 300 branches). Between gitrepo_batch_begin() and
 * gitrepo_batch_write(), gitrepo_build_commit() keeps what it writes in memory, and
 * gitrepo_batch_write() writes it all as one pack (gitpack.h), indexed and in place before it
 * returns; only then may refs move. A failure anywhere before leaves no ref moved and nothing
 * in the repository; gitrepo_batch_end() drops what was not written:
 *
 *	gitrepo_batch_begin(repo, &err);
 *	for each branch: gitrepo_build_commit(&c[i], repo, &spec[i], &err);
 *	if (gitrepo_batch_write(repo, &err) == 0)
 *		for each branch: gitrepo_update_branch(repo, &c[i], &err);
 *	gitrepo_batch_end(repo);	// always, also after an error
 */
#ifndef DOCKERBUMP_UPDATER_GITREPO_H
#define DOCKERBUMP_UPDATER_GITREPO_H

#include <stddef.h>

#include <git2.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/giterr.h"

/* The identity of last resort, when neither the config nor git config names one. */
#define GITREPO_BOT_NAME  "dockerbump"
#define GITREPO_BOT_EMAIL "dockerbump@localhost"

struct gitrepo;

/* libgit2's initialisation with the options this program relies on; main.c and the tests call
 * it once (git_libgit2_shutdown() ends it). */
void gitrepo_global_init(void);

/*
 * Opens the repository that contains `dir` (a work tree, any directory below it, or a bare
 * repository). DB_ENOTFOUND "'DIR' is not a git repository" when there is none. The caller
 * frees `*out` with gitrepo_free().
 */
int gitrepo_open(struct gitrepo **out, const char *dir, struct db_err *err);
void gitrepo_free(struct gitrepo *repo);
/* The libgit2 handle, borrowed (the scanner walks trees with it). */
git_repository *gitrepo_git(struct gitrepo *repo);
/* The path used in messages: the work tree, else the git directory. Borrowed. */
const char *gitrepo_path(const struct gitrepo *repo);

struct gitrepo_base {
	git_oid id;                  /* the base commit */
	char hex[GIT_OID_HEXSZ + 1]; /* its id in hex */
	char *name;                  /* what was resolved: "origin/main", "HEAD", the spec */
	char *desc;                  /* "origin/main (1a2b3c4d5e)" for logs and messages */
};
#define GITREPO_BASE_INIT                                                                          \
	{                                                                                          \
		.name = NULL                                                                       \
	}
void gitrepo_base_release(struct gitrepo_base *base);

/*
 * Resolves the base commit. `spec` is any revision (a branch, a tag, a commit id,
 * "origin/main"); NULL means the default: the branch `refs/remotes/<remote>/HEAD` points at,
 * when `remote` names a configured remote and that symbolic ref exists locally (no network
 * request is made), else HEAD. DB_ENOTFOUND names the spec when it does not resolve to a
 * commit (or HEAD when HEAD is unborn). `out` is released by the caller.
 */
int gitrepo_resolve_base(struct gitrepo_base *out, struct gitrepo *repo, const char *spec,
                         const char *remote, struct db_err *err);

/*
 * The branch `name` (a base as gitrepo_resolve_base() took it: "origin/main", "main",
 * "HEAD", "refs/remotes/origin/main") stands for on the forge: "main". NULL when it is no
 * branch (a commit id, a tag, a detached HEAD). The caller frees it.
 */
char *gitrepo_forge_branch(struct gitrepo *repo, const char *name);
/*
 * Whether a commit based on `commit` may write a regular file at `path`: every folder on the
 * way is a folder or absent, and the path is a regular file or absent. DB_ECONFLICT names the
 * part that is a file, a symbolic link, a folder or a submodule instead.
 */
int gitrepo_check_path(struct gitrepo *repo, const git_oid *commit, const char *path,
                       struct db_err *err);
/* Whether the ref exists ("refs/remotes/origin/main"). */
int gitrepo_ref_exists(struct gitrepo *repo, const char *refname);
/* Deletes the local branch (a no-op when it does not exist); never one that is checked out. */
int gitrepo_delete_branch(struct gitrepo *repo, const char *branch, struct db_err *err);
/* Whether `name` is a configured remote. */
int gitrepo_has_remote(struct gitrepo *repo, const char *name);
/* The URL of the configured remote `name`, or NULL; the caller frees it. */
char *gitrepo_remote_url(struct gitrepo *repo, const char *name);
/* Appends a unified diff of one file's old and new bytes (nothing when equal). Touches no
 * repository: safe to call from several threads. */
void gitrepo_diff(struct buf *out, const char *path, const void *old, size_t old_len,
                  const void *new, size_t new_len);
/* 1 when the clone is shallow (its history stops at a graft). */
int gitrepo_is_shallow(struct gitrepo *repo);

/*
 * Appends the content of the file at `path` in `commit` to `out`. DB_ENOTFOUND when there is
 * no such file (a directory counts as none); DB_ETOOBIG when it is larger than `cap` (0: no
 * cap).
 */
int gitrepo_read_file(struct buf *out, struct gitrepo *repo, const git_oid *commit,
                      const char *path, size_t cap, struct db_err *err);

/* One file of a commit: `path` is '/'-separated from the top of the tree. Borrowed. */
struct gitrepo_change {
	const char *path;
	const void *data;
	size_t len;
};

struct gitrepo_commit_spec {
	const char *branch;        /* the branch name, under `branch_prefix` */
	const char *branch_prefix; /* the bot's namespace; must be non-empty */
	const git_oid *base;       /* the parent of the new commit */
	const struct gitrepo_change *changes;
	size_t nr_changes;
	const char *message;
	/*
	 * Author and committer. Each NULL field falls back to git config (user.name,
	 * user.email of the repository, then the global and system files), then to the bot
	 * identity above.
	 */
	const char *author_name;
	const char *author_email;
	/* The branch's remote-tracking ref ("refs/remotes/origin/<branch>"); NULL: none. */
	const char *upstream;
};

enum gitrepo_outcome {
	GITREPO_CREATED,    /* the branch did not exist */
	GITREPO_REBUILT,    /* the branch existed; the base moved or the content changed */
	GITREPO_UP_TO_DATE, /* the branch already holds exactly this change: nothing written */
	GITREPO_NO_CHANGE,  /* the changes leave the base tree as it is: no commit to make */
};
/* "created", "rebuilt", "up to date", "no change". */
const char *gitrepo_outcome_name(enum gitrepo_outcome o);

struct gitrepo_commit {
	char *ref; /* "refs/heads/<branch>" */
	enum gitrepo_outcome outcome;
	int base_moved; /* GITREPO_REBUILT: the old branch commit was not on the base */
	git_oid base;   /* the parent of the commit */
	git_oid id;     /* the branch's commit after the update (zero: NO_CHANGE) */
	git_oid tree;   /* its tree (zero unless written or compared) */
	git_oid old;    /* the branch's value when the commit was built */
	int existed;    /* the branch existed then */
	int adopt;      /* GITREPO_UP_TO_DATE: `id` is the upstream's commit, not the branch's */
	int updated;    /* gitrepo_update_branch() moved the ref */
};
#define GITREPO_COMMIT_INIT                                                                        \
	{                                                                                          \
		.ref = NULL                                                                        \
	}
void gitrepo_commit_release(struct gitrepo_commit *c);

/*
 * Builds the commit of `spec` in the object database (blobs, trees, the commit) and fills
 * `out`; it never touches a ref. Each changed path keeps its file mode when it exists in the
 * base (a new path is a regular file); a path that is a directory or a symbolic link in the
 * base, an invalid path ("..", ".git", empty components) or a path given twice is an error.
 * When the object database cannot be written (a read-only .git) the error names the
 * repository and nothing is left behind. `out` is released by the caller.
 */
int gitrepo_build_commit(struct gitrepo_commit *out, struct gitrepo *repo,
                         const struct gitrepo_commit_spec *spec, struct db_err *err);

/*
 * What gitrepo_build_commit() would decide, computed in memory: writes nothing. `out->id` is
 * set only when the outcome is GITREPO_UP_TO_DATE.
 */
int gitrepo_branch_status(struct gitrepo_commit *out, struct gitrepo *repo,
                          const struct gitrepo_commit_spec *spec, struct db_err *err);

/*
 * Opens a batch: until gitrepo_batch_end(), the objects gitrepo_build_commit() (and anything
 * else through this repository) writes stay in memory. Fails only when the object database
 * cannot take the batch backend.
 */
int gitrepo_batch_begin(struct gitrepo *repo, struct db_err *err);
/* The number of objects the open batch holds. */
size_t gitrepo_batch_objects(struct gitrepo *repo);
/*
 * Writes the objects of the batch as one pack and returns 0 once it is indexed and in place
 * (nothing to write: 0 at once). On an error, which names the repository, nothing was written;
 * the batch keeps its objects until gitrepo_batch_end().
 */
int gitrepo_batch_write(struct gitrepo *repo, struct db_err *err);
/* Closes the batch: later writes are loose objects again; what was not written is dropped. */
void gitrepo_batch_end(struct gitrepo *repo);

/*
 * The quick answer of a quiet night: the commit a previous run built for the same inputs. When
 * the remote's copy (`spec->upstream`), else the local branch, is a commit on `spec->base`
 * alone whose message carries the line `trailer` (the caller's digest of everything the files
 * are a pure function of), `out` becomes GITREPO_UP_TO_DATE for it, as gitrepo_build_commit()
 * would decide, without a file being read or written, and 1 is returned; else 0 and `out` is
 * empty. Only `branch`, `base` and `upstream` of `spec` are read.
 */
int gitrepo_match_inputs(struct gitrepo_commit *out, struct gitrepo *repo,
                         const struct gitrepo_commit_spec *spec, const char *trailer);
/* The git object id of `data` as a blob, in hex (41 bytes with the NUL), for digests. */
void gitrepo_hash_hex(char *out, const void *data, size_t len);

/*
 * Points the branch at the commit built by gitrepo_build_commit(), or at the upstream's
 * commit it adopts, with a reflog entry; a no-op for any other GITREPO_UP_TO_DATE and for
 * GITREPO_NO_CHANGE. The update is a compare-and-swap on the value seen when the commit was
 * built: DB_ECONFLICT when the branch moved meanwhile.
 * DB_ECONFLICT as well when the branch is checked out in any work tree of the repository (or
 * is what HEAD points at), which the bot refuses to move.
 */
int gitrepo_update_branch(struct gitrepo *repo, struct gitrepo_commit *c, struct db_err *err);

/*
 * Undoes gitrepo_update_branch(): the branch goes back to its old value, or is deleted when
 * it did not exist, provided it still points at the commit this run made (DB_ECONFLICT
 * otherwise). A no-op when the ref was not updated.
 */
int gitrepo_rollback_branch(struct gitrepo *repo, struct gitrepo_commit *c, struct db_err *err);

#endif

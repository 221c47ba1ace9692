/*
 * Pushing the bot's branches to a remote.
 *
 *	struct gitpush_ref refs[] = { { .branch = "dockerbump/group-17" }, ... };
 *	rc = gitpush(repo, &(struct gitpush_opts){ .remote = "origin",
 *	                                            .branch_prefix = "dockerbump/" },
 *	             refs, nr, &err);
 *	for each ref: refs[i].result is pushed, up to date, rejected (refs[i].reason) or
 *	              not pushed (the push stopped before it)
 *	gitpush_refs_release(refs, nr);
 *
 * The remote is a configured remote name, a path to a repository, or a URL (file://, https://,
 * ssh://, scp-like "git@host:org/repo.git"). A configured name wins over a path of the same
 * name. Every branch must lie under the bot's prefix; it is pushed with force
 * ("+refs/heads/B:refs/heads/B") because the bot recreates its branches on a new base. A ref
 * whose value on the remote already equals the local one is not sent at all (the remote's
 * refs are listed after connecting), so an idempotent rerun sends nothing and leaves no
 * reflog entry on the remote. Nothing but the given branches is ever pushed, so the base
 * branch (never under the prefix) cannot be. A named remote's remote-tracking refs follow the
 * push, as after `git push`; a relative path in its URL is relative to the repository.
 *
 * Local remotes (a path or a file:// URL) are served by `git receive-pack`, as the git command
 * line does, so the remote's hooks run and its reflog is written by git itself; libgit2's own
 * local transport would copy objects and move refs directly, skipping hooks. When `git` is
 * not installed, libgit2's local transport is used with a warning.
 *
 * Credentials, tried in this order, each at most once per push (a wrong credential cannot
 * loop): ssh-agent for ssh URLs; the DOCKERBUMP_GIT_TOKEN environment variable as an https
 * token (user "x-access-token"; never sent over plain http); the git credential helpers
 * (`git credential fill`, run without a shell and without prompting). The token and passwords
 * never appear in messages, logs or process arguments, and child processes (helpers, hooks of
 * a local remote) do not inherit DOCKERBUMP_* variables or GITHUB_TOKEN. Certificates are
 * checked by libgit2's defaults.
 *
 * Errors: DB_ENOTFOUND for a remote that is neither a configured name nor a repository (or a
 * branch that does not exist locally); DB_EUSAGE for a branch outside the prefix; DB_EAUTH
 * when no credential was accepted; DB_ENET for transport failures; DB_ECONFLICT when the
 * remote rejected a ref, naming the first rejected ref and the remote's reason, e.g.
 *	push of 'refs/heads/dockerbump/group-17' to '/tmp/r.git' rejected:
 *	pre-receive hook declined (remote: "no bot pushes on Fridays")
 * The results of every ref are filled in whatever the return code. With no refs, the remote is
 * checked (a name, a repository path, a URL) but not contacted.
 */
#ifndef DOCKERBUMP_UPDATER_GITPUSH_H
#define DOCKERBUMP_UPDATER_GITPUSH_H

#include <stddef.h>

#include <git2.h>

#include "common/err.h"
#include "updater/gitcred.h"
#include "updater/gitrepo.h"

/* The environment variable that holds an https token for the push. */
#define GITPUSH_TOKEN_ENV GITCRED_TOKEN_ENV

enum gitpush_result {
	GITPUSH_NOT_PUSHED = 0, /* the push stopped before this ref (or was never tried) */
	GITPUSH_PUSHED,
	GITPUSH_UP_TO_DATE, /* the remote already had this commit: nothing sent */
	GITPUSH_REJECTED,   /* the remote refused it: `reason` says why */
};

struct gitpush_ref {
	const char *branch;         /* in: the branch name (without refs/heads/), borrowed */
	int delete;                 /* in: delete it on the remote (up to date when absent) */
	enum gitpush_result result; /* out */
	git_oid local;              /* out: the commit that was (or would have been) pushed */
	git_oid remote_old;         /* out: the remote's value before the push (zero: none) */
	char *reason;               /* out: the remote's reason for a rejection, or NULL */
};
void gitpush_refs_release(struct gitpush_ref *refs, size_t nr);

struct gitpush_opts {
	const char *remote;        /* a configured remote name, a path, or a URL */
	const char *branch_prefix; /* the bot's namespace: every branch must start with it */
	int timeout_s;             /* local `git` processes (receive-pack, credential helpers);
	                              0: 300 seconds */
};

int gitpush(struct gitrepo *repo, const struct gitpush_opts *opts, struct gitpush_ref *refs,
            size_t nr, struct db_err *err);

#endif

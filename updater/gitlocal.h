/*
 * Local remotes (a path or a file:// URL), internal to the git module.
 *
 * libgit2's own local transport copies objects into the other repository and moves its refs
 * directly, so the other repository's hooks never run and its reflog settings are libgit2's
 * reading of them. The git command line instead talks to `git receive-pack` running on that
 * repository. This transport does the same: libgit2's smart protocol over the stdin and
 * stdout of `git receive-pack PATH` (or `git upload-pack PATH`), so a pre-receive hook can
 * refuse a push and says why, exactly as it would for a push from the command line.
 *
 *	git_remote_callbacks cb = ...; cb.transport = my_cb;	// my_cb calls:
 *	gitlocal_transport_new(out, owner, timeout_ms);
 */
#ifndef DOCKERBUMP_UPDATER_GITLOCAL_H
#define DOCKERBUMP_UPDATER_GITLOCAL_H

#include <git2.h>

#include "common/err.h"
#include "common/proc.h"

/*
 * The repository path of a local remote URL: the path itself, or a file:// URL's path
 * (percent-decoded). NULL when `url` is not local (another scheme, or scp-like
 * "host:path"). The caller frees the string.
 */
char *gitlocal_path(const char *url);

/*
 * Starts a `git` child for the push (receive-pack, a credential helper) with its stdin, stdout
 * and stderr piped, without a shell. Its environment is ours minus what must not reach it:
 * variables that would point git at another repository (GIT_DIR and friends, as git itself
 * drops them for a local transport) and this program's secrets (every DOCKERBUMP_* variable,
 * GITHUB_TOKEN, GH_TOKEN, GITLAB_TOKEN), since the hooks of a local remote run with it; plus
 * GIT_TERMINAL_PROMPT=0 and an empty GIT_ASKPASS, so nothing ever waits for a person.
 */
int gitlocal_spawn(struct proc *p, const char *const *argv, struct db_err *err);

/* A transport for `owner` (whose URL gitlocal_path() accepts); see git_transport_cb. */
int gitlocal_transport_new(git_transport **out, git_remote *owner, int timeout_ms);

#endif

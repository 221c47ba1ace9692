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

/*
 * The repository path of a local remote URL: the path itself, or a file:// URL's path
 * (percent-decoded). NULL when `url` is not local (another scheme, or scp-like
 * "host:path"). The caller frees the string.
 */
char *gitlocal_path(const char *url);

/* A transport for `owner` (whose URL gitlocal_path() accepts); see git_transport_cb. */
int gitlocal_transport_new(git_transport **out, git_remote *owner, int timeout_ms);

#endif

/*
 * Credentials for a push, internal to the git module: the answer to libgit2's credential
 * callback. Each source is tried at most once per push, in the order gitpush.h documents
 * (ssh-agent, the DOCKERBUMP_GIT_TOKEN https token, `git credential fill`), and after the
 * last one the callback gives up, so a wrong credential cannot make libgit2 ask forever.
 *
 *	struct gitcred cred = { .repo_dir = gitrepo_path(repo), .timeout_ms = 30000 };
 *	in the libgit2 callback: return gitcred_acquire(out, &cred, url, user, allowed);
 *	after the push: cred.gave_up says the remote refused every credential offered.
 */
#ifndef DOCKERBUMP_UPDATER_GITCRED_H
#define DOCKERBUMP_UPDATER_GITCRED_H

#include <git2.h>

#include "common/buf.h"

/* The environment variable that holds an https token for the push. */
#define GITCRED_TOKEN_ENV "DOCKERBUMP_GIT_TOKEN"

/* More calls than there are sources means the remote keeps refusing: stop. */
#define GITCRED_MAX_CALLS 6

struct gitcred {
	const char *repo_dir; /* `git credential fill` runs there, so its config applies */
	int timeout_ms;       /* for the credential helper */
	unsigned tried;       /* the sources already offered */
	unsigned calls;
	int gave_up; /* every source was offered (or none applied): the push fails with DB_EAUTH */
};

/*
 * Creates the next credential to offer to `url` for one of the `allowed` types
 * (git_credential_t bits). Returns 0, or GIT_EAUTH once nothing is left to offer.
 */
int gitcred_acquire(git_credential **out, struct gitcred *cred, const char *url,
                    const char *username_from_url, unsigned int allowed);

/* Appends `url` without its user information ("https://user:pw@host/x" -> "https://host/x"). */
void gitcred_redact_url(struct buf *out, const char *url);

#endif

/*
 * Child `git` processes for the push: `git receive-pack` behind a local remote and
 * `git credential fill`. Internal to the git module.
 *
 * A child gets its argv directly (posix_spawnp, no shell), its stdin and stdout on one end of
 * a socket pair, and its stderr in an anonymous temporary file that the caller can read once
 * the child has gone. Its environment is ours minus what must not reach it: variables that
 * would point git at another repository (GIT_DIR and friends, as git itself drops them for a
 * local transport) and the secrets of this program (every DOCKERBUMP_* variable,
 * GITHUB_TOKEN, GH_TOKEN), since the hooks of a local remote run with it; plus
 * GIT_TERMINAL_PROMPT=0 and an empty GIT_ASKPASS so that nothing ever waits for a person.
 * Every read, write and wait is bounded by the timeout.
 *
 *	struct gitproc p;
 *	const char *argv[] = { "git", "receive-pack", path, NULL };
 *	gitproc_start(&p, argv, timeout_ms, &err);
 *	gitproc_write(&p, data, len, &err); n = gitproc_read(&p, buf, sizeof(buf), &err);
 *	gitproc_finish(&p, &status);	// closes, waits (kills after the timeout)
 *	gitproc_stderr(&p, &text);
 *	gitproc_release(&p);
 */
#ifndef DOCKERBUMP_UPDATER_GITPROC_H
#define DOCKERBUMP_UPDATER_GITPROC_H

#include <stdio.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"

struct gitproc {
	pid_t pid;      /* 0 once waited for */
	int fd;         /* our end of the socket pair; -1 once closed */
	FILE *err;      /* the child's stderr */
	int timeout_ms; /* for each read, write and the final wait */
	char *what;     /* "git receive-pack" etc., for messages */
};

/*
 * Starts `argv` (argv[0] looked up in PATH). DB_ERROR naming the command when it cannot run;
 * then `p` needs no release.
 */
int gitproc_start(struct gitproc *p, const char *const argv[], int timeout_ms, struct db_err *err);
/* Writes all of `data`. */
int gitproc_write(struct gitproc *p, const void *data, size_t len, struct db_err *err);
/* Reads up to `size` bytes: the count, 0 at the end of the output, or a negative code. */
long gitproc_read(struct gitproc *p, void *buf, size_t size, struct db_err *err);
/* Tells the child its input is over (shuts down our writing side). */
void gitproc_close_input(struct gitproc *p);
/*
 * Closes our end and waits for the child, killing it when it outlives the timeout. `*status`
 * is its exit status, or -1 when it was killed or could not be waited for.
 */
void gitproc_finish(struct gitproc *p, int *status);
/* Appends what the child wrote to stderr, at most `cap` bytes, trailing space trimmed. */
void gitproc_stderr(struct gitproc *p, struct buf *out, size_t cap);
/* Finishes the child if needed and frees everything. */
void gitproc_release(struct gitproc *p);

/* Whether an executable `name` is in PATH. */
int gitproc_in_path(const char *name);

#endif

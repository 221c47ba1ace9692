/*
 * libgit2's errors in ours: the one place that reads git_error_last() (which may be NULL, or
 * hold an empty message) and appends it to a message of this program.
 *
 *	if (git_commit_lookup(&c, repo, id) < 0)
 *		return db_err_git(err, DB_ENOTFOUND, "'%s' is not a commit", hex);
 *	log_warn("... not updated: %s", db_git_last());
 */
#ifndef DOCKERBUMP_UPDATER_GITERR_H
#define DOCKERBUMP_UPDATER_GITERR_H

#include "common/err.h"

/* Sets `err` to "<formatted message>: <libgit2's last error>"; returns `code`. */
int db_err_git(struct db_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* libgit2's last error message, or "unknown error"; borrowed until the next libgit2 call. */
const char *db_git_last(void);

#endif

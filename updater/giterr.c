#include "updater/giterr.h"

#include <stdarg.h>
#include <stdio.h>

#include <git2.h>

#include "common/banned.h"

const char *db_git_last(void)
{
	const git_error *e = git_error_last();
	return e && e->message && *e->message ? e->message : "unknown error";
}

int db_err_git(struct db_err *err, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return db_err_set(err, code, "%s: %s", msg, db_git_last());
}

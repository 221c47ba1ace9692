/*
 * Errors: a small set of named codes and a message kept by the caller.
 *
 * Fallible functions return 0 or one of the negative codes below and take a
 * `struct db_err *err` as their last parameter. The first message set wins: a caller that
 * adds context does so with db_err_prefix(), never by overwriting. Messages are lower case,
 * name their subject in quotes, and say what is wrong rather than chaining "failed to"
 * (git's CodingGuidelines):
 *
 *	return db_err_set(err, DB_EPARSE, "'%s': line %d: duplicate key 'dockerimage'", path, line);
 *
 * Only main.c prints errors and turns codes into exit statuses.
 */
#ifndef DOCKERBUMP_COMMON_ERR_H
#define DOCKERBUMP_COMMON_ERR_H

enum db_code {
	DB_OK = 0,
	DB_ERROR = -1,     /* anything else */
	DB_ENOTFOUND = -2, /* a file, ref, image or tag that does not exist */
	DB_EAUTH = -3,     /* credentials missing or refused */
	DB_ENET = -4,      /* network, HTTP status, timeouts after retries */
	DB_EPARSE = -5,    /* malformed input (YAML, JSON, tags, config) */
	DB_ECONFLICT = -6, /* a ref moved, a push was rejected */
	DB_EVERIFY = -7,   /* verification could not run (no engine, failed pull) */
	DB_EUSAGE = -8,    /* bad command line or config: exit status 2 */
	DB_ETOOBIG = -9,   /* a size cap was hit */
};

struct db_err {
	int code;
	char msg[1024];
};

#define DB_ERR_INIT                                                                                \
	{                                                                                          \
		0,                                                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/* Records the message if none is set yet; returns `code` so callers can `return db_err_set(...)`.
 */
int db_err_set(struct db_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "context: " to an existing message. */
void db_err_prefix(struct db_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void db_err_clear(struct db_err *err);
/* The code's name ("not found", "network", ...) for logs and reports. */
const char *db_code_name(int code);

#endif

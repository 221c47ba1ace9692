#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

int db_err_set(struct db_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code)
		return code;
	err->code = code ? code : DB_ERROR;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void db_err_prefix(struct db_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err || !err->code)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is fine: a long message loses its tail, never its subject. */
	if (snprintf(err->msg, sizeof(err->msg), "%.500s: %.500s", prefix, old) < 0)
		err->msg[0] = '\0';
}

void db_err_clear(struct db_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}

const char *db_code_name(int code)
{
	switch (code) {
	case DB_OK:
		return "ok";
	case DB_ENOTFOUND:
		return "not found";
	case DB_EAUTH:
		return "authentication";
	case DB_ENET:
		return "network";
	case DB_EPARSE:
		return "parse";
	case DB_ECONFLICT:
		return "conflict";
	case DB_EVERIFY:
		return "verification";
	case DB_EUSAGE:
		return "usage";
	case DB_ETOOBIG:
		return "too big";
	default:
		return "error";
	}
}

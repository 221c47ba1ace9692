#include "updater/cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/banned.h"

int cli_usage_error(struct db_err *err, const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return db_err_set(err, DB_EUSAGE, "%s\nrun 'dockerbump %s --help' for usage", msg, cmd);
}

void cli_print_help(const char *text)
{
	fputs(text, stdout);
}

void cli_print_version(void)
{
	printf("dockerbump %s\n", DOCKERBUMP_VERSION);
}

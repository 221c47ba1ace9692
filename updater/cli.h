/*
 * The command line: global options, and one entry point per command (cmd_<name>.c).
 *
 * main.c parses the global options (-C, -c, --log-format, -q, -v), sets up logging and calls
 * the command with the remaining arguments (argv[0] is the command name). A command returns
 * its exit status when it finished (0, or 3 when verification blocked a bump), or a negative
 * db_code with `err` set; main.c prints the error and maps DB_EUSAGE to 2 and every other
 * code to 1. Commands never print errors themselves.
 */
#ifndef DOCKERBUMP_UPDATER_CLI_H
#define DOCKERBUMP_UPDATER_CLI_H

#include "common/err.h"

struct cli_global {
	const char *dir;         /* -C: the content repository */
	const char *config_file; /* -c: NULL means DIR/.dockerbump.yml when present */
	int verbosity;           /* -q: -1, default 0, -v: 1 */
	int log_json;            /* --log-format json */
};

typedef int (*cli_command_fn)(const struct cli_global *g, int argc, char **argv,
                              struct db_err *err);

int cmd_scan(const struct cli_global *g, int argc, char **argv, struct db_err *err);
int cmd_run(const struct cli_global *g, int argc, char **argv, struct db_err *err);
int cmd_tags(const struct cli_global *g, int argc, char **argv, struct db_err *err);
int cmd_verify(const struct cli_global *g, int argc, char **argv, struct db_err *err);

/* Sets a DB_EUSAGE error that ends with a pointer to `dockerbump CMD --help`. */
int cli_usage_error(struct db_err *err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints `text` to stdout; used for --help. */
void cli_print_help(const char *text);
void cli_print_version(void);

#endif

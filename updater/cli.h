/*
 * The command line: parsing, --help and the shell completion, all from the settings table
 * (config.h), and one entry point per command (cmd_<name>.c).
 *
 * main.c runs this sequence; a command function only does its job and prints its result:
 *
 *	struct config cfg;
 *	struct cli_args global = CLI_ARGS_INIT, args = CLI_ARGS_INIT;
 *	config_init(&cfg);
 *	cli_parse(&global, CMD_GLOBAL, argc, argv, &err);	// stops at the command name
 *	cli_apply(&cfg, &global);				// -C, -c, --log-format, -q, -v
 *	cmd = cli_find_command(argv[global.next]);
 *	cli_parse(&args, cmd->cmd, argc - global.next, argv + global.next, &err);
 *	if (args.help) cli_print_help(cmd); ...
 *	cli_load_config(&cfg, cmd->cmd, &args, &err);		// file, then flags, then checks
 *	ret = cmd->fn(&cfg, &args, &err);
 *
 * Every flag value is checked while parsing, every config value while loading, and what
 * depends on several settings right after: nothing reaches the network or the disk before
 * the whole command line and config are known to be good. A command returns its exit status
 * when it finished (0, or 3 when verification blocked a bump), or a negative db_code with
 * `err` set; main.c prints the error and maps DB_EUSAGE to 2 and every other code to 1.
 */
#ifndef DOCKERBUMP_UPDATER_CLI_H
#define DOCKERBUMP_UPDATER_CLI_H

#include <stddef.h>

#include "common/err.h"
#include "updater/config.h"

/* A parsed command line: the flags in order (checked), and the other words. */
struct cli_args {
	const struct setting **set;
	const char **value; /* NULL for flags without a value */
	size_t nr, alloc;
	char **words; /* positional arguments, borrowed from argv */
	size_t nr_words, alloc_words;
	int next; /* CMD_GLOBAL: the index of the command name in argv */
	int help, version;
};
#define CLI_ARGS_INIT                                                                              \
	{                                                                                          \
		.set = NULL                                                                        \
	}
void cli_args_release(struct cli_args *a);

struct cli_command {
	const char *name;
	enum command cmd;
	int (*fn)(struct config *cfg, const struct cli_args *args, struct db_err *err);
	const char *synopsis; /* "run [OPTIONS]" */
	const char *summary;  /* one line for the command list */
	const char *text;     /* what it does, a few lines */
	const char *tail;     /* exit statuses and examples */
};

/* NULL when `name` is not a command. */
const struct cli_command *cli_find_command(const char *name);

/*
 * Parses `argv` (argv[0] is the program or the command name) for `cmd`. Unknown flags get a
 * "did you mean", a flag of another command says which, a bad value names the flag. For
 * CMD_GLOBAL parsing stops at the first word (the command), left in `out->next`.
 */
int cli_parse(struct cli_args *out, enum command cmd, int argc, char **argv, struct db_err *err);
/* Applies parsed flags to `cfg` (already checked: this cannot fail). */
void cli_apply(struct config *cfg, const struct cli_args *args);
/*
 * The config file (-c FILE as the operator's, else DIR/.dockerbump.yml as the repository's),
 * then the command's flags, then config_validate(): DB_EUSAGE listing every problem.
 */
int cli_load_config(struct config *cfg, enum command cmd, const struct cli_args *args,
                    struct db_err *err);

/* A DB_EUSAGE error that ends with a pointer to `dockerbump CMD --help`. */
int cli_usage_error(struct db_err *err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --help of the program (NULL) or of a command, on stdout. */
void cli_print_help(const struct cli_command *c);
void cli_print_version(void);
/* The bash completion script, generated from the tables, on stdout. */
void cli_print_completion_bash(void);

/* The commands. */
int cmd_scan(struct config *cfg, const struct cli_args *args, struct db_err *err);
int cmd_run(struct config *cfg, const struct cli_args *args, struct db_err *err);
int cmd_tags(struct config *cfg, const struct cli_args *args, struct db_err *err);
int cmd_verify(struct config *cfg, const struct cli_args *args, struct db_err *err);
int cmd_config(struct config *cfg, const struct cli_args *args, struct db_err *err);
int cmd_completion(struct config *cfg, const struct cli_args *args, struct db_err *err);

#endif

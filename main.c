/*
 * dockerbump: keeps the Docker images of an XSOAR content repository up to date.
 *
 * This file parses the command line (through the settings table: updater/cli.h), sets up
 * logging and the libraries, dispatches to a command, and turns the command's result into an
 * exit status (SPEC §7): 0 finished, 1 operational error, 2 usage or config error, 3 finished
 * but verification blocked at least one bump. It is the only place that prints an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <git2.h>

#include "common/log.h"
#include "updater/cli.h"
#include "updater/gitrepo.h"
#include "common/banned.h"

static void setup_logging(const struct config *cfg)
{
	const char *no_color = getenv("NO_COLOR");
	struct log_config lc = {LOG_INFO, 0, 0, 0};

	lc.level = cfg->cli.verbosity < 0   ? LOG_WARN
	           : cfg->cli.verbosity > 0 ? LOG_DEBUG
	                                    : LOG_INFO;
	lc.json = cfg->cli.log_json;
	lc.color = isatty(STDERR_FILENO) && !(no_color && *no_color);
	lc.progress = isatty(STDERR_FILENO) && !cfg->cli.log_json;
	log_setup(&lc);
}

/* Parses, loads and runs; returns an exit status or a negative db_code with `err` set. */
static int dispatch(struct config *cfg, int argc, char **argv, struct db_err *err)
{
	struct cli_args global = CLI_ARGS_INIT, args = CLI_ARGS_INIT;
	const struct cli_command *cmd;
	int ret;

	ret = cli_parse(&global, CMD_GLOBAL, argc, argv, err);
	if (ret)
		goto out;
	cli_apply(cfg, &global);
	setup_logging(cfg);
	if (global.help || global.version) {
		if (global.help)
			cli_print_help(NULL);
		else
			cli_print_version();
		goto out;
	}
	if (global.next >= argc) {
		cli_print_help(NULL);
		ret = DB_EUSAGE;
		db_err_set(err, DB_EUSAGE, "a command is needed");
		goto out;
	}
	cmd = cli_find_command(argv[global.next]);
	if (!cmd) {
		ret = cli_usage_error(err, NULL, "unknown command '%s'", argv[global.next]);
		goto out;
	}
	ret = cli_parse(&args, cmd->cmd, argc - global.next, argv + global.next, err);
	if (ret)
		goto out;
	if (args.help || args.version) {
		if (args.help)
			cli_print_help(cmd);
		else
			cli_print_version();
		goto out;
	}
	if (cmd->cmd && (ret = cli_load_config(cfg, cmd->cmd, &args, err)))
		goto out;
	ret = cmd->fn(cfg, &args, err);
out:
	cli_args_release(&global);
	cli_args_release(&args);
	return ret;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct db_err err = DB_ERR_INIT;
	int ret;

	config_init(&cfg);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gitrepo_global_init();
	ret = dispatch(&cfg, argc, argv, &err);
	git_libgit2_shutdown();
	curl_global_cleanup();
	config_release(&cfg);

	if (ret >= 0)
		return ret;
	{
		/* One log line per line of the message (a config's problems, a usage hint); each
		 * is escaped by the logger, so no text in it can pass for a line of its own. */
		const char *p = err.msg[0] ? err.msg : db_code_name(ret);
		while (*p) {
			size_t n = strcspn(p, "\n");
			log_error("%.*s", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	return ret == DB_EUSAGE ? 2 : 1;
}

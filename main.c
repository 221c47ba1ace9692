/*
 * dockerbump: keeps the Docker images of an XSOAR content repository up to date.
 *
 * This file only parses the global options, sets up logging, dispatches to a command, and
 * turns the command's result into an exit status (SPEC §7): 0 finished, 1 operational error,
 * 2 usage or config error, 3 finished but verification blocked at least one bump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <git2.h>

#include "common/log.h"
#include "updater/cli.h"
#include "common/banned.h"

static const char usage[] =
    "usage: dockerbump [-C DIR] [-c FILE] [--log-format text|json] [-q|-v] COMMAND [OPTIONS]\n"
    "\n"
    "Keeps the dockerimage of every Cortex XSOAR integration and script on the newest tag.\n"
    "\n"
    "commands:\n"
    "  scan     list every integration/script with its image, tag, opt-in state and target\n"
    "  run      the scheduled job: resolve, plan, rewrite, verify, commit, push, open PRs\n"
    "  tags     list an image's tags, newest first, and the tag each strategy would pick\n"
    "  verify   run one item in a container and print the outcome\n"
    "\n"
    "global options:\n"
    "  -C DIR                 the content repository (default: .)\n"
    "  -c FILE                the config file (default: DIR/.dockerbump.yml when present)\n"
    "  --log-format text|json diagnostics on stderr as text or one JSON object per line\n"
    "  -q, --quiet            errors and warnings only\n"
    "  -v, --verbose          debug output\n"
    "  -h, --help             this help; `dockerbump COMMAND --help` for a command\n"
    "  --version              print the version\n"
    "\n"
    "Run `man dockerbump` or see README.md for configuration and scheduling.\n";

static const struct {
	const char *name;
	cli_command_fn fn;
} commands[] = {
    {"scan", cmd_scan},
    {"run", cmd_run},
    {"tags", cmd_tags},
    {"verify", cmd_verify},
};

static int usage_exit(const char *what, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\nrun 'dockerbump --help' for usage\n", what, arg);
	return 2;
}

int main(int argc, char **argv)
{
	struct cli_global g = {".", NULL, 0, 0};
	struct log_config lc = {LOG_INFO, 0, 0, 0};
	struct db_err err = DB_ERR_INIT;
	const char *no_color = getenv("NO_COLOR");
	int i, ret;
	size_t c;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-C") || !strcmp(a, "-c") || !strcmp(a, "--log-format")) {
			if (i + 1 >= argc)
				return usage_exit("a value is needed after", a);
			if (!strcmp(a, "-C"))
				g.dir = argv[++i];
			else if (!strcmp(a, "-c"))
				g.config_file = argv[++i];
			else if (!strcmp(argv[++i], "json"))
				g.log_json = 1;
			else if (strcmp(argv[i], "text"))
				return usage_exit("--log-format takes text or json, not", argv[i]);
		} else if (!strncmp(a, "--log-format=", 13)) {
			if (!strcmp(a + 13, "json"))
				g.log_json = 1;
			else if (strcmp(a + 13, "text"))
				return usage_exit("--log-format takes text or json, not", a + 13);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			g.verbosity = -1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			g.verbosity = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			cli_print_version();
			return 0;
		} else {
			return usage_exit("unknown option", a);
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}

	lc.level = g.verbosity < 0 ? LOG_WARN : g.verbosity > 0 ? LOG_DEBUG : LOG_INFO;
	lc.json = g.log_json;
	lc.color = isatty(STDERR_FILENO) && !(no_color && *no_color);
	lc.progress = isatty(STDERR_FILENO) && !g.log_json;
	log_setup(&lc);

	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			break;
	if (c == sizeof(commands) / sizeof(commands[0]))
		return usage_exit("unknown command", argv[i]);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	git_libgit2_init();
	/*
	 * libgit2 caches only trees under 4 KiB by default; the Packs/ tree of a content
	 * repository is ~50 KiB and is read for every branch, so let the cache keep big trees.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
	/*
	 * Strict creation makes every tree insert look up the entry's object: 1,200 lookups for
	 * the Packs/ tree of each commit. Our trees come from git_tree_create_updated() over the
	 * base tree and blobs we have just written, so every entry exists by construction.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	ret = commands[c].fn(&g, argc - i, argv + i, &err);
	git_libgit2_shutdown();
	curl_global_cleanup();

	if (ret >= 0)
		return ret;
	log_error("%s", err.msg[0] ? err.msg : db_code_name(ret));
	return ret == DB_EUSAGE ? 2 : 1;
}

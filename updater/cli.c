#include "updater/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/banned.h"

static const struct cli_command commands[] = {
    {"scan", CMD_SCAN, cmd_scan, "scan [OPTIONS]",
     "list every integration/script with its image, tag, opt-in state and target",
     "List every integration and script with its image, tag, opt-in state and target tag.\n"
     "Reads the base commit from git objects (nothing is checked out) and writes nothing.\n",
     "examples:\n"
     "  dockerbump -C content scan --offline\n"
     "  dockerbump -C content scan --json --only 'Packs/AWS-*/**'\n"},
    {"run", CMD_RUN, cmd_run, "run [OPTIONS]",
     "the scheduled job: resolve, plan, rewrite, verify, commit, push, open pull requests",
     "The scheduled job: resolve the newest tags, group the pending bumps by pack group, roll\n"
     "them out (canary first, at most rollout.max_open pull requests), rewrite the YAML files\n"
     "byte-exactly, run every bumped item in its new image (and the old one when the new\n"
     "outcome is not clean), commit each group onto its branch (no checkout), push, and open,\n"
     "update or close one pull request per group.\n",
     "exit status: 0 done, 1 operational error (an item in error included), 2 usage or config\n"
     "error, 3 done but verification blocked at least one bump.\n"
     "\n"
     "examples:\n"
     "  dockerbump -C content run --dry-run --verify off\n"
     "  dockerbump -C content run --pr github --report report.json --junit verify.xml\n"
     "  dockerbump -C content run --shard 2/4 --pr gitlab\n"},
    {"tags", CMD_TAGS, cmd_tags, "tags [OPTIONS] IMAGE[:CURRENT]",
     "list an image's tags, newest first, and the tag each strategy would pick",
     "Lists the tags of IMAGE (e.g. demisto/python3), newest build first (build numbers compared\n"
     "as numbers), non-numeric tags after them, and the tag each strategy would pick. Picks\n"
     "honour min_age_days, unknown_age and deny_tags from the config. Credentials:\n"
     "DOCKERBUMP_REGISTRY_USER, DOCKERBUMP_REGISTRY_PASSWORD.\n",
     "examples:\n"
     "  dockerbump tags demisto/python3\n"
     "  dockerbump tags demisto/python3:3.10.13.83255 --strategy same-minor\n"
     "  dockerbump tags --registry-api v2 --registry-url http://127.0.0.1:5000 demisto/python3\n"},
    {"verify", CMD_VERIFY, cmd_verify, "verify [OPTIONS] PATH...",
     "run items in a container and print the outcome",
     "Run integrations and scripts in a container, as the XSOAR server would, and print each\n"
     "outcome (ok, error-entry, exception, timeout, crash), the logs and the exception. PATH is\n"
     "an item YAML or a folder of them, relative to the repository; symbolic links and paths\n"
     "outside the repository are refused.\n",
     "exit status: 0 verified, 3 an outcome (or with --old-image a regression) blocks, 1 an\n"
     "item could not be verified (no engine, an image that cannot be pulled), 2 usage.\n"
     "\n"
     "examples:\n"
     "  dockerbump -C content verify Packs/Phishing/Scripts/CheckEmailAuthenticity\n"
     "  dockerbump -C content verify --image demisto/python3:3.11.10.113941 \\\n"
     "      --old-image demisto/python3:3.10.13.83255 --junit verify.xml Packs/Phishing\n"},
    {"config", CMD_CONFIG, cmd_config, "config check|schema",
     "check the configuration, or print its JSON Schema",
     "config check: validate the configuration (the file, the flags, the environment: the\n"
     "forge token, the registry URL, the forge repository) and the repository, writing\n"
     "nothing; every problem is listed. config schema: the JSON Schema of the config file.\n",
     "exit status: 0 the configuration is good, 2 it is not (every problem is listed).\n"
     "\n"
     "examples:\n"
     "  dockerbump -C content -c /etc/dockerbump.yml config check\n"
     "  dockerbump config schema > dockerbump.schema.json\n"},
    {"completion", 0, cmd_completion, "completion bash", "print the bash completion script",
     "Prints the bash completion script (installed as\n"
     "share/bash-completion/completions/dockerbump).\n",
     "example:\n  source <(dockerbump completion bash)\n"},
};

const struct cli_command *cli_find_command(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static const char *cmd_name(enum command cmd)
{
	size_t i;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd && cmd)
			return commands[i].name;
	return "";
}

void cli_args_release(struct cli_args *a)
{
	free(a->set);
	free(a->value);
	free(a->words);
	memset(a, 0, sizeof(*a));
}

int cli_usage_error(struct db_err *err, const char *cmd, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd && *cmd)
		return db_err_set(err, DB_EUSAGE, "%s\nrun 'dockerbump %s --help' for usage", msg,
		                  cmd);
	return db_err_set(err, DB_EUSAGE, "%s\nrun 'dockerbump --help' for usage", msg);
}

static int takes_value(const struct setting *s)
{
	return s->type != SETTING_BOOL && s->type != SETTING_NEG &&
	       !(s->type == SETTING_SPECIAL && !s->metavar);
}

/* The flags of `cmd` (or, with `others`, of every other command), for "did you mean". */
static size_t flag_names(const char **out, enum command cmd, int others)
{
	size_t nr, i, n = 0;
	const struct setting *t = config_settings(&nr);

	for (i = 0; i < nr; i++)
		if (t[i].flag && !(t[i].flags & SETTING_HIDDEN) &&
		    (others ? !(t[i].commands & cmd) : !!(t[i].commands & cmd)))
			out[n++] = t[i].flag;
	return n;
}

/* The first command (other than `cmd`) that takes --flag, or NULL. */
static const char *command_of(const char *flag, enum command cmd)
{
	size_t nr, i, c;
	const struct setting *t = config_settings(&nr);

	for (i = 0; i < nr; i++) {
		if (!t[i].flag || strcmp(t[i].flag, flag) || (t[i].commands & cmd))
			continue;
		if (t[i].commands & CMD_GLOBAL)
			return "";
		for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			if (commands[c].cmd & t[i].commands)
				return commands[c].name;
	}
	return NULL;
}

/* Says what is wrong with an unknown flag `arg`: a typo, another command's flag, a global. */
static int unknown_flag(const char *arg, enum command cmd, struct db_err *err)
{
	size_t nr, i, n;
	const struct setting *t = config_settings(&nr);
	const char **cands = xcalloc(nr + 2, sizeof(*cands));
	const char *name = arg, *near, *owner;
	char *bare;
	int ret;

	while (*name == '-')
		name++;
	bare = xstrndup(name, strcspn(name, "="));
	if (arg[0] == '-' && arg[1] != '-' && bare[0] && !bare[1])
		for (i = 0; i < nr; i++)
			if (t[i].short_flag == bare[0] && t[i].flag) {
				free(bare);
				bare = xstrdup(t[i].flag);
				break;
			}
	owner = command_of(bare, cmd);
	if (owner && !*owner) {
		ret = cli_usage_error(err, cmd_name(cmd),
		                      "'%s' goes before the command: dockerbump %s ... %s", arg,
		                      arg, cmd_name(cmd));
		goto out;
	}
	if (owner) {
		ret =
		    cli_usage_error(err, cmd_name(cmd), "'%s' is an option of '%s', not of %s%s%s",
		                    arg, owner, cmd == CMD_GLOBAL ? "dockerbump itself" : "'",
		                    cmd_name(cmd), cmd == CMD_GLOBAL ? "" : "'");
		goto out;
	}
	n = flag_names(cands, cmd, 0);
	cands[n++] = "help";
	if ((near = config_did_you_mean(bare, cands, n))) {
		ret = cli_usage_error(err, cmd_name(cmd),
		                      "unknown option '%s' (did you mean '--%s'?)", arg, near);
		goto out;
	}
	n = flag_names(cands, cmd, 1);
	if ((near = config_did_you_mean(bare, cands, n)) && (owner = command_of(near, cmd)))
		ret = cli_usage_error(err, cmd_name(cmd),
		                      "unknown option '%s' (did you mean '--%s' of '%s'?)", arg,
		                      near, *owner ? owner : "dockerbump");
	else
		ret = cli_usage_error(err, cmd_name(cmd), "unknown option '%s'", arg);
out:
	free(bare);
	free(cands);
	return ret;
}

#define OPT_HELP    1
#define OPT_VERSION 2
#define OPT_TABLE   1000 /* above every short option character */

int cli_parse(struct cli_args *out, enum command cmd, int argc, char **argv, struct db_err *err)
{
	size_t nr, i, n = 0;
	const struct setting *t = config_settings(&nr);
	struct option *longopts = xcalloc(nr + 3, sizeof(*longopts));
	struct buf shorts = BUF_INIT;
	struct config scratch;
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	int c, ret = 0;

	memset(out, 0, sizeof(*out));
	config_init(&scratch);
	/* '+': stop at the command name; ':': report a missing value apart from unknown flags. */
	buf_adds(&shorts, cmd == CMD_GLOBAL ? "+:h" : ":h");
	for (i = 0; i < nr; i++) {
		if (!t[i].flag || !(t[i].commands & cmd))
			continue;
		longopts[n++] =
		    (struct option){t[i].flag, takes_value(&t[i]) ? required_argument : no_argument,
		                    NULL, OPT_TABLE + (int)i};
		if (t[i].short_flag)
			buf_addf(&shorts, "%c%s", t[i].short_flag, takes_value(&t[i]) ? ":" : "");
	}
	longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};

	optind = 0; /* 0: glibc re-initialises its state, as a fresh parse needs */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts.ptr, longopts, NULL)) != -1) {
		const struct setting *s = NULL;

		if (c == 'h' || c == OPT_HELP) {
			out->help = 1;
			continue;
		}
		if (c == OPT_VERSION) {
			out->version = 1;
			continue;
		}
		if (c == ':') {
			ret = cli_usage_error(err, cmd_name(cmd), "'%s' needs a value",
			                      argv[optind - 1]);
			goto out;
		}
		if (c == '?') {
			ret = unknown_flag(optopt && optopt < OPT_TABLE && optopt > ' '
			                       ? (char[]){'-', (char)optopt, 0}
			                       : argv[optind - 1],
			                   cmd, err);
			goto out;
		}
		if (c >= OPT_TABLE)
			s = &t[c - OPT_TABLE];
		else
			for (i = 0; i < nr && !s; i++)
				if (t[i].short_flag == c && (t[i].commands & cmd))
					s = &t[i];
		if (!s)
			continue;
		config_set_flag(&scratch, s, takes_value(s) ? optarg : NULL, &pr);
		ALLOC_GROW(out->set, out->nr + 1, out->alloc);
		out->value = xreallocarray(out->value, out->alloc, sizeof(*out->value));
		out->set[out->nr] = s;
		out->value[out->nr++] = takes_value(s) ? optarg : NULL;
	}
	if (pr.v.nr) {
		struct db_err perr = DB_ERR_INIT;
		config_problems_error(&pr, &perr);
		ret = cli_usage_error(err, cmd_name(cmd), "%s", perr.msg);
		goto out;
	}
	if (cmd == CMD_GLOBAL) {
		out->next = optind;
		goto out;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		ALLOC_GROW(out->words, out->nr_words + 1, out->alloc_words);
		out->words[out->nr_words++] = argv[i];
	}
out:
	config_problems_release(&pr);
	config_release(&scratch);
	buf_release(&shorts);
	free(longopts);
	return ret;
}

void cli_apply(struct config *cfg, const struct cli_args *args)
{
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	size_t i;

	for (i = 0; i < args->nr; i++)
		config_set_flag(cfg, args->set[i], args->value[i], &pr);
	config_problems_release(&pr); /* checked by cli_parse() already */
}

int cli_load_config(struct config *cfg, enum command cmd, const struct cli_args *args,
                    struct db_err *err)
{
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	struct stat st;
	size_t i;
	int ret;

	/* --trust-repo-config must be known before the repository's file is read. */
	for (i = 0; i < args->nr; i++)
		if (args->set[i]->offset == offsetof(struct config, cli.trust_repo_config))
			cfg->cli.trust_repo_config = 1;
	if (stat(cfg->cli.dir, &st) < 0 || !S_ISDIR(st.st_mode))
		config_problem(
		    &pr,
		    "-C '%s': no such directory (the content repository; 'scan --worktree' "
		    "reads a folder that is not a git repository)",
		    cfg->cli.dir);
	else if (cfg->cli.config_file)
		config_load_file(cfg, cfg->cli.config_file, CONFIG_FROM_OPERATOR, &pr);
	else {
		char *path = xasprintf("%s/.dockerbump.yml", cfg->cli.dir);
		if (lstat(path, &st) == 0)
			config_load_file(cfg, path, CONFIG_FROM_REPO, &pr);
		free(path);
	}
	cli_apply(cfg, args);
	config_validate(cfg, cmd, &pr);
	ret = config_problems_error(&pr, err);
	config_problems_release(&pr);
	return ret;
}

void cli_print_version(void)
{
	printf("dockerbump %s\n", DOCKERBUMP_VERSION);
}

/* "  --flag ARG" in 30 columns, then the help, wrapped at 100 columns. */
static void print_wrapped(const char *left, const char *help)
{
	size_t col = 30, width = 100 - col;
	const char *p = help;

	if (strlen(left) < col)
		printf("%-30s", left);
	else
		printf("%s\n%30s", left, "");
	while (strlen(p) > width) {
		const char *cut = p + width;
		while (cut > p && *cut != ' ')
			cut--;
		if (cut == p)
			break;
		printf("%.*s\n%30s", (int)(cut - p), p, "");
		p = cut + 1;
	}
	printf("%s\n", p);
}

static void print_options(enum command cmd)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);
	struct buf line = BUF_INIT;

	for (i = 0; i < nr; i++) {
		if (!t[i].flag || !(t[i].commands & cmd) || (t[i].flags & SETTING_HIDDEN))
			continue;
		buf_reset(&line);
		if (t[i].short_flag)
			buf_addf(&line, "  -%c, --%s", t[i].short_flag, t[i].flag);
		else
			buf_addf(&line, "      --%s", t[i].flag);
		if (t[i].metavar)
			buf_addf(&line, " %s", t[i].metavar);
		print_wrapped(line.ptr, t[i].help);
	}
	printf("%-30s%s\n", "  -h, --help", "this help");
	buf_release(&line);
}

void cli_print_help(const struct cli_command *c)
{
	size_t i;

	if (!c) {
		printf(
		    "usage: dockerbump [-C DIR] [-c FILE] [--log-format text|json] [-q|-v] COMMAND "
		    "[OPTIONS]\n\n"
		    "Keeps the dockerimage of every Cortex XSOAR integration and script on the "
		    "newest tag.\n\ncommands:\n");
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			printf("  %-11s%s\n", commands[i].name, commands[i].summary);
		printf("\nglobal options:\n");
		print_options(CMD_GLOBAL);
		printf("%-30s%s\n", "      --version", "print the version");
		printf(
		    "\n`dockerbump COMMAND --help` describes a command. `man dockerbump` and the "
		    "README\ndescribe the configuration and how to schedule it.\n");
		return;
	}
	printf("usage: dockerbump [GLOBAL OPTIONS] %s\n\n%s\noptions:\n", c->synopsis, c->text);
	if (c->cmd)
		print_options(c->cmd);
	else
		printf("%-30s%s\n", "  -h, --help", "this help");
	printf("\n%s", c->tail);
}

/* --- bash completion --- */

static void completion_flags(struct buf *b, enum command cmd)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);

	for (i = 0; i < nr; i++)
		if (t[i].flag && (t[i].commands & cmd) && !(t[i].flags & SETTING_HIDDEN))
			buf_addf(b, " --%s", t[i].flag);
	buf_adds(b, " --help");
}

void cli_print_completion_bash(void)
{
	size_t nr, i, k, j;
	const struct setting *t = config_settings(&nr);
	struct buf b = BUF_INIT;

	buf_adds(&b,
	         "# bash completion for dockerbump (generated by `dockerbump completion bash`)\n"
	         "_dockerbump() {\n"
	         "\tlocal cur prev cmd i\n"
	         "\tcur=${COMP_WORDS[COMP_CWORD]}\n"
	         "\tprev=${COMP_WORDS[COMP_CWORD-1]}\n"
	         "\tcmd=\n"
	         "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	         "\t\tcase ${COMP_WORDS[i]} in\n"
	         "\t\t-C|-c|--log-format) ((i++)) ;;\n"
	         "\t\t-*) ;;\n"
	         "\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	         "\t\tesac\n"
	         "\tdone\n"
	         "\tcase $prev in\n");
	/* Values: enums list their names; paths complete files; others take free text. */
	for (i = 0; i < nr; i++) {
		if (!t[i].flag || (t[i].flags & SETTING_HIDDEN) || !takes_value(&t[i]))
			continue;
		for (j = 0; j < i; j++)
			if (t[j].flag && !strcmp(t[j].flag, t[i].flag))
				break;
		if (j < i)
			continue;
		buf_addf(&b, "\t--%s", t[i].flag);
		if (t[i].short_flag)
			buf_addf(&b, "|-%c", t[i].short_flag);
		if (t[i].names) {
			buf_adds(&b, ") COMPREPLY=($(compgen -W '");
			for (k = 0; t[i].names[k]; k++)
				buf_addf(&b, "%s%s", k ? " " : "", t[i].names[k]);
			buf_adds(&b, "' -- \"$cur\")); return ;;\n");
		} else if (t[i].flags & SETTING_PATH) {
			buf_adds(&b, ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
		} else {
			buf_adds(&b, ") return ;;\n");
		}
	}
	buf_adds(&b, "\tesac\n\tcase $cmd in\n\t'')\n\t\tCOMPREPLY=($(compgen -W '");
	completion_flags(&b, CMD_GLOBAL);
	buf_adds(&b, " --version");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		buf_addf(&b, " %s", commands[i].name);
	buf_adds(&b, "' -- \"$cur\")) ;;\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		buf_addf(&b, "\t%s)\n\t\tCOMPREPLY=($(compgen -W '", commands[i].name);
		if (commands[i].cmd)
			completion_flags(&b, commands[i].cmd);
		if (commands[i].cmd == CMD_CONFIG)
			buf_adds(&b, " check schema");
		if (!commands[i].cmd)
			buf_adds(&b, " bash");
		buf_adds(&b, "' -- \"$cur\"))");
		if (commands[i].cmd == CMD_VERIFY)
			buf_adds(
			    &b, "\n\t\t[[ $cur == -* ]] || COMPREPLY+=($(compgen -f -- \"$cur\"))");
		buf_adds(&b, " ;;\n");
	}
	buf_adds(&b, "\tesac\n}\ncomplete -F _dockerbump dockerbump\n");
	fwrite(b.ptr, 1, b.len, stdout);
	buf_release(&b);
}

int cmd_completion(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	(void)cfg;
	if (args->nr_words != 1 || strcmp(args->words[0], "bash"))
		return cli_usage_error(err, "completion", "the shell is 'bash'");
	cli_print_completion_bash();
	return 0;
}

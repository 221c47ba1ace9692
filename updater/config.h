/*
 * Every setting of dockerbump, and the one table that says where each comes from.
 *
 * A setting has a config key (`registry.url`), a command-line flag (`--registry-url`), or both,
 * and one row in the settings table (config.c) with its type, range, validating check and help
 * line. The config file loader, the command-line parser (cli.c), `--help`, `config check`, the
 * JSON Schema and the bash completion all read that table, so a setting is described once.
 *
 * Precedence: built-in defaults (config_init), then the config file, then the flags. Values
 * are checked where they enter: a flag value before anything else happens, a file value while
 * the file is read, and what depends on several settings in config_validate(), still before
 * any network request or write.
 *
 *	struct config cfg;
 *	struct config_problems pr = CONFIG_PROBLEMS_INIT;
 *	config_init(&cfg);
 *	config_load_file(&cfg, path, CONFIG_FROM_OPERATOR, &pr);	// -c FILE
 *	config_set_flag(&cfg, setting, value, &pr);			// each flag (cli.c)
 *	config_validate(&cfg, CMD_RUN, &pr);
 *	if (config_problems_error(&pr, &err) < 0) ...			// every problem, exit 2
 *	config_problems_release(&pr);
 *	...
 *	config_release(&cfg);
 *
 * Trust. The content repository is written by any pull request author, so its own config file
 * (DIR/.dockerbump.yml, read when no -c FILE is given) may not set what runs a program or
 * receives a credential (rows marked SETTING_OPERATOR: verify.runtime, registry.url, git.remote,
 * pull_request.api_url, pull_request.token_env); those come from the operator (-c FILE, a flag)
 * unless the operator passes --trust-repo-config.
 */
#ifndef DOCKERBUMP_UPDATER_CONFIG_H
#define DOCKERBUMP_UPDATER_CONFIG_H

#include <stddef.h>

#include "common/err.h"
#include "common/strlist.h"

enum strategy { STRATEGY_LATEST_BUILD = 0, STRATEGY_SAME_MINOR, STRATEGY_SAME_MAJOR };
enum registry_api { REGISTRY_HUB = 0, REGISTRY_V2 };
enum verify_level { VERIFY_OFF = 0, VERIFY_COMPILE, VERIFY_LOAD, VERIFY_TESTS };
enum pr_provider { PR_NONE = 0, PR_GITHUB, PR_GITLAB };

const char *strategy_name(enum strategy s);
const char *pr_provider_name(enum pr_provider p);

/* The commands, as a bit mask in the settings table (which commands take a flag). */
enum command {
	CMD_GLOBAL = 1 << 0, /* before the command: -C, -c, --log-format, -q, -v */
	CMD_SCAN = 1 << 1,
	CMD_RUN = 1 << 2,
	CMD_TAGS = 1 << 3,
	CMD_VERIFY = 1 << 4,
	CMD_CONFIG = 1 << 5,
};
#define CMD_LOADS_CONFIG (CMD_SCAN | CMD_RUN | CMD_TAGS | CMD_VERIFY | CMD_CONFIG)

struct config {
	struct strlist images; /* default images: updated unless opted out */
	struct strlist allowed_namespaces;
	struct {
		enum registry_api api;
		char *url;
		long timeout_s;
		int retries;
		int max_pages;
		long budget_s; /* one image's requests, retries and waits; 0: 4 x timeout_s */
	} registry;
	enum strategy strategy;
	long min_age_days;
	int unknown_age_deny; /* unknown_age: deny */
	struct strlist deny_tags;
	struct strlist include;
	struct strlist exclude;
	int skip_deprecated;
	int skip_hidden_packs;
	int dockerimage45_preserve; /* dockerimage45: preserve (1) | ignore (0) */
	int release_notes;
	struct {
		char *base; /* NULL: the remote's default branch, else HEAD */
		char *branch_prefix;
		int groups; /* packs are hashed into this many groups, one branch each */
		char *remote;
		int push;
		char *author_name; /* NULL: git config, else the bot identity */
		char *author_email;
	} git;
	struct {
		enum verify_level level;
		char *runtime;
		long timeout_s;
		int jobs;
		char *memory;
		int pids;
		char *cpus;
		int prune_images; /* remove the images this run pulled, when it ends */
	} verify;
	struct {
		enum pr_provider provider;
		char *api_url; /* NULL: the provider's public API */
		char *repo;    /* owner/name (GitLab: group/.../name); NULL: from the push remote */
		char *token_env; /* NULL: GITHUB_TOKEN or GITLAB_TOKEN */
		struct strlist labels;
		int draft;
		int dashboard;
	} pull_request;
	struct {
		int max_open;
		struct strlist canary_packs;
		int cadence_hours;
	} rollout;
	struct {
		long ttl_s;
	} cache;

	/* Command-line only (no config key). */
	struct {
		char *dir;         /* -C */
		char *config_file; /* -c */
		int log_json;      /* --log-format json */
		int verbosity;     /* -q: -1, -v: 1 */
		int trust_repo_config;
		int json;     /* --json */
		char *report; /* --report FILE ("-": stdout) */
		char *junit;  /* --junit FILE */
		int no_cache;
		int offline;                          /* scan --offline */
		int worktree;                         /* scan --worktree */
		int wide;                             /* scan --wide: every column */
		struct strlist only, exclude, images; /* --only, --exclude, --image (run, scan) */
		int shard_k, shard_n;                 /* --shard K/N; 0/0: all */
		int dry_run;
		int push_forced; /* --push REMOTE */
		int no_push;
		/* tags */
		char *current;
		long limit; /* -1: the default */
		int digest;
		/* verify */
		char *verify_image, *verify_old_image;
		int no_reuse;
	} cli;
};

void config_init(struct config *cfg);
void config_release(struct config *cfg);
/* Replaces a string field, freeing the old value. */
void config_set_str(char **field, const char *value);

/* Everything wrong with a configuration, so that one run shows every problem. */
struct config_problems {
	struct strlist v;
};
#define CONFIG_PROBLEMS_INIT                                                                       \
	{                                                                                          \
		STRLIST_INIT                                                                       \
	}
void config_problem(struct config_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* DB_EUSAGE with every problem in the message (one per line), or 0 when there is none. */
int config_problems_error(const struct config_problems *p, struct db_err *err);
void config_problems_release(struct config_problems *p);

/* --- the settings table --- */

enum setting_type {
	SETTING_BOOL,     /* flag: no value, sets 1; key: true/false */
	SETTING_NEG,      /* flag: no value, sets 0 (--no-push) */
	SETTING_INT,      /* a whole number in [min, max] */
	SETTING_STR,      /* a non-empty string */
	SETTING_STR_NULL, /* key: a string or null */
	SETTING_LIST,     /* key: a list of strings (replaces); flag: repeatable (appends) */
	SETTING_ENUM,     /* one of `names`, stored as its index */
	SETTING_SECTION,  /* key: a mapping of the keys below it */
	SETTING_SPECIAL,  /* parsed and stored by `set` alone */
	SETTING_REMOVED,  /* a former setting: an error that says what replaced it */
};

enum setting_flags {
	SETTING_OPERATOR = 1 << 0, /* never from the repository's own config file */
	SETTING_HIDDEN = 1 << 1,   /* not in --help or the completion */
	SETTING_PATH = 1 << 2,     /* the value is a file name (completion) */
};

struct setting {
	const char *key;  /* "registry.url"; NULL: a flag only */
	const char *flag; /* "registry-url" (without "--"); NULL: a key only */
	char short_flag;  /* 'C', 'c', 'q', 'v' or 0 */
	enum setting_type type;
	unsigned commands; /* enum command: which commands take the flag */
	unsigned flags;    /* enum setting_flags */
	size_t offset;     /* of the field in struct config */
	size_t size;       /* of that field (int or long for numbers) */
	long min, max;
	const char *const *names; /* SETTING_ENUM, NULL-terminated */
	/*
	 * Checks a value beyond its type (a URL, an image name, a glob): 0, or -1 with the reason
	 * in `why`. For SETTING_SPECIAL it also stores the value.
	 */
	int (*check)(struct config *cfg, const struct setting *s, const char *value, char *why,
	             size_t n);
	const char *metavar; /* "URL" in --help */
	const char *help;    /* one line; for SETTING_REMOVED, what replaced it */
};

/* The table, in --help order; `*nr` gets its length. */
const struct setting *config_settings(size_t *nr);
/* The row of a dotted config key, or NULL. */
const struct setting *config_setting_by_key(const char *key);

/* Where a value comes from: it decides the wording of problems and what may be set. */
enum config_origin {
	CONFIG_FROM_FLAG = 0,
	CONFIG_FROM_OPERATOR, /* -c FILE */
	CONFIG_FROM_REPO,     /* the repository's own .dockerbump.yml */
};

/*
 * Sets a flag's value (NULL for flags that take none); a bad value is a problem naming the
 * flag. A repeatable flag appends.
 */
void config_set_flag(struct config *cfg, const struct setting *s, const char *value,
                     struct config_problems *pr);

/*
 * Overlays the YAML file at `path`. Unknown keys (with "did you mean"), wrong types, values
 * out of range, duplicate keys, a second document, anchors and aliases, nesting deeper than a
 * config needs and a file that is not a readable regular file are problems naming the file,
 * key and line. Reading stops at nothing short of a syntax error, so every problem is listed.
 */
void config_load_file(struct config *cfg, const char *path, enum config_origin origin,
                      struct config_problems *pr);

/* The same for a config already in memory; `path` names it in problems. */
void config_load_buffer(struct config *cfg, const char *path, const char *text, size_t len,
                        enum config_origin origin, struct config_problems *pr);

/*
 * What depends on several settings, for command `cmd`: conflicting flags, the forge's URL and
 * token (present; never sent over plain http except to loopback), the shard, the prefix of the
 * bot's branches. Network-free: nothing here sends a request.
 */
void config_validate(struct config *cfg, enum command cmd, struct config_problems *pr);

/* The forge defaults the config leaves open: api_url and token_env of the provider. */
const char *config_forge_api_url(const struct config *cfg);
const char *config_forge_token_env(const struct config *cfg);

/* The closest of `candidates` to `word` when it is a plausible typo, else NULL. */
const char *config_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* JSON Schema (draft 2020-12) of the config file, from the table; the caller frees it. */
char *config_schema_json(void);

#endif

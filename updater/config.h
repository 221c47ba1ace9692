/*
 * The configuration: built-in defaults, then the YAML file, then command-line flags.
 *
 * Every key of config/dockerbump.yml has a field here. config_init() fills the defaults;
 * config_load_file() overlays a file and rejects unknown keys and wrong types with an error
 * naming the key and its line (DB_EUSAGE, so the exit status is 2). Command-line flags are
 * applied by the commands after loading, so they win.
 *
 *	struct config cfg;
 *	config_init(&cfg);
 *	if (config_load_file(&cfg, path, &err) < 0) ...
 *	cfg.strategy = STRATEGY_SAME_MINOR;	// a flag
 *	...
 *	config_release(&cfg);
 */
#ifndef DOCKERBUMP_UPDATER_CONFIG_H
#define DOCKERBUMP_UPDATER_CONFIG_H

#include <stddef.h>

#include "common/err.h"

struct strlist {
	char **v;
	size_t nr, alloc;
};

void strlist_push(struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);
int strlist_has(const struct strlist *l, const char *s);

enum strategy { STRATEGY_LATEST_BUILD = 0, STRATEGY_SAME_MINOR, STRATEGY_SAME_MAJOR };
enum registry_api { REGISTRY_HUB = 0, REGISTRY_V2 };
enum verify_level { VERIFY_OFF = 0, VERIFY_COMPILE, VERIFY_LOAD, VERIFY_TESTS };
enum pr_provider { PR_NONE = 0, PR_GITHUB };

const char *strategy_name(enum strategy s);
int strategy_parse(enum strategy *out, const char *s);
const char *verify_level_name(enum verify_level l);
int verify_level_parse(enum verify_level *out, const char *s);

struct config {
	struct strlist images; /* default images: updated unless opted out */
	struct strlist allowed_namespaces;
	struct {
		enum registry_api api;
		char *url;
		long timeout_s;
		int retries;
		int max_pages;
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
		int batch_size;
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
	} verify;
	struct {
		enum pr_provider provider;
		char *api_url;
		char *repo; /* owner/name; NULL: parsed from the push remote's URL */
		char *token_env;
		struct strlist labels;
		int draft;
	} pull_request;
	struct {
		long ttl_s;
	} cache;
};

void config_init(struct config *cfg);
void config_release(struct config *cfg);
/* Overlays the YAML file at `path` on `cfg`. */
int config_load_file(struct config *cfg, const char *path, struct db_err *err);
/* Replaces a string field, freeing the old value. */
void config_set_str(char **field, const char *value);

#endif

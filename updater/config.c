#include "updater/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/strnum.h"
#include "common/banned.h"

void strlist_push(struct strlist *l, const char *s)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = xstrdup(s);
}

void strlist_clear(struct strlist *l)
{
	size_t i;
	for (i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

int strlist_has(const struct strlist *l, const char *s)
{
	size_t i;
	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static const char *const strategy_names[] = {"latest-build", "same-minor", "same-major"};
static const char *const level_names[] = {"off", "compile", "load", "tests"};

static int lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *strategy_name(enum strategy s)
{
	return strategy_names[s];
}

int strategy_parse(enum strategy *out, const char *s)
{
	int i = lookup(strategy_names, 3, s);
	if (i < 0)
		return -1;
	*out = (enum strategy)i;
	return 0;
}

const char *verify_level_name(enum verify_level l)
{
	return level_names[l];
}

int verify_level_parse(enum verify_level *out, const char *s)
{
	int i = lookup(level_names, 4, s);
	if (i < 0)
		return -1;
	*out = (enum verify_level)i;
	return 0;
}

void config_set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void config_init(struct config *cfg)
{
	static const char *const includes[] = {
	    "Packs/*/Integrations/*/*.yml", "Packs/*/Scripts/*/*.yml", "Packs/*/Integrations/*.yml",
	    "Packs/*/Scripts/*.yml"};
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	strlist_push(&cfg->images, "demisto/python");
	strlist_push(&cfg->images, "demisto/python3");
	strlist_push(&cfg->allowed_namespaces, "demisto");
	cfg->registry.api = REGISTRY_HUB;
	cfg->registry.url = xstrdup("https://hub.docker.com");
	cfg->registry.timeout_s = 30;
	cfg->registry.retries = 5;
	cfg->registry.max_pages = 200;
	cfg->strategy = STRATEGY_LATEST_BUILD;
	for (i = 0; i < sizeof(includes) / sizeof(includes[0]); i++)
		strlist_push(&cfg->include, includes[i]);
	cfg->skip_deprecated = 1;
	cfg->skip_hidden_packs = 1;
	cfg->dockerimage45_preserve = 1;
	cfg->release_notes = 1;
	cfg->git.branch_prefix = xstrdup("dockerbump/");
	cfg->git.batch_size = 10;
	cfg->git.remote = xstrdup("origin");
	cfg->git.push = 1;
	cfg->git.author_name = xstrdup("dockerbump");
	cfg->git.author_email = xstrdup("dockerbump@localhost");
	cfg->verify.level = VERIFY_LOAD;
	cfg->verify.runtime = xstrdup("docker");
	cfg->verify.timeout_s = 60;
	cfg->verify.jobs = 2;
	cfg->verify.memory = xstrdup("512m");
	cfg->verify.pids = 256;
	cfg->verify.cpus = xstrdup("1");
	cfg->pull_request.provider = PR_NONE;
	cfg->pull_request.api_url = xstrdup("https://api.github.com");
	cfg->pull_request.token_env = xstrdup("GITHUB_TOKEN");
	strlist_push(&cfg->pull_request.labels, "docker-image-auto-update");
	cfg->cache.ttl_s = 3600;
}

void config_release(struct config *cfg)
{
	strlist_clear(&cfg->images);
	strlist_clear(&cfg->allowed_namespaces);
	free(cfg->registry.url);
	strlist_clear(&cfg->deny_tags);
	strlist_clear(&cfg->include);
	strlist_clear(&cfg->exclude);
	free(cfg->git.base);
	free(cfg->git.branch_prefix);
	free(cfg->git.remote);
	free(cfg->git.author_name);
	free(cfg->git.author_email);
	free(cfg->verify.runtime);
	free(cfg->verify.memory);
	free(cfg->verify.cpus);
	free(cfg->pull_request.api_url);
	free(cfg->pull_request.repo);
	free(cfg->pull_request.token_env);
	strlist_clear(&cfg->pull_request.labels);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- the file loader: a table of keys, each with a type and a field --- */

enum ctype { T_STR, T_STR_OR_NULL, T_LIST, T_BOOL, T_INT, T_ENUM, T_SECTION };

struct ckey {
	const char *section; /* NULL: top level */
	const char *name;
	enum ctype type;
	size_t offset;
	const char *const *enum_names; /* T_ENUM: NULL-terminated; the value stored is the index */
	long min, max;                 /* T_INT */
};

static const char *const api_names[] = {"hub", "v2", NULL};
static const char *const strategies[] = {"latest-build", "same-minor", "same-major", NULL};
static const char *const ages[] = {"allow", "deny", NULL};
static const char *const d45[] = {"ignore", "preserve", NULL};
static const char *const levels[] = {"off", "compile", "load", "tests", NULL};
static const char *const providers[] = {"none", "github", NULL};

#define OFF(f) offsetof(struct config, f)
static const struct ckey keys[] = {
    {NULL, "images", T_LIST, OFF(images), NULL, 0, 0},
    {NULL, "allowed_namespaces", T_LIST, OFF(allowed_namespaces), NULL, 0, 0},
    {NULL, "registry", T_SECTION, 0, NULL, 0, 0},
    {"registry", "api", T_ENUM, OFF(registry.api), api_names, 0, 0},
    {"registry", "url", T_STR, OFF(registry.url), NULL, 0, 0},
    {"registry", "timeout_s", T_INT, OFF(registry.timeout_s), NULL, 1, 3600},
    {"registry", "retries", T_INT, OFF(registry.retries), NULL, 0, 20},
    {"registry", "max_pages", T_INT, OFF(registry.max_pages), NULL, 1, 100000},
    {NULL, "strategy", T_ENUM, OFF(strategy), strategies, 0, 0},
    {NULL, "min_age_days", T_INT, OFF(min_age_days), NULL, 0, 36500},
    {NULL, "unknown_age", T_ENUM, OFF(unknown_age_deny), ages, 0, 0},
    {NULL, "deny_tags", T_LIST, OFF(deny_tags), NULL, 0, 0},
    {NULL, "include", T_LIST, OFF(include), NULL, 0, 0},
    {NULL, "exclude", T_LIST, OFF(exclude), NULL, 0, 0},
    {NULL, "skip_deprecated", T_BOOL, OFF(skip_deprecated), NULL, 0, 0},
    {NULL, "skip_hidden_packs", T_BOOL, OFF(skip_hidden_packs), NULL, 0, 0},
    {NULL, "dockerimage45", T_ENUM, OFF(dockerimage45_preserve), d45, 0, 0},
    {NULL, "release_notes", T_BOOL, OFF(release_notes), NULL, 0, 0},
    {NULL, "git", T_SECTION, 0, NULL, 0, 0},
    {"git", "base", T_STR_OR_NULL, OFF(git.base), NULL, 0, 0},
    {"git", "branch_prefix", T_STR, OFF(git.branch_prefix), NULL, 0, 0},
    {"git", "batch_size", T_INT, OFF(git.batch_size), NULL, 1, 100000},
    {"git", "remote", T_STR, OFF(git.remote), NULL, 0, 0},
    {"git", "push", T_BOOL, OFF(git.push), NULL, 0, 0},
    {"git", "author_name", T_STR_OR_NULL, OFF(git.author_name), NULL, 0, 0},
    {"git", "author_email", T_STR_OR_NULL, OFF(git.author_email), NULL, 0, 0},
    {NULL, "verify", T_SECTION, 0, NULL, 0, 0},
    {"verify", "level", T_ENUM, OFF(verify.level), levels, 0, 0},
    {"verify", "runtime", T_STR, OFF(verify.runtime), NULL, 0, 0},
    {"verify", "timeout_s", T_INT, OFF(verify.timeout_s), NULL, 1, 86400},
    {"verify", "jobs", T_INT, OFF(verify.jobs), NULL, 1, 64},
    {"verify", "memory", T_STR, OFF(verify.memory), NULL, 0, 0},
    {"verify", "pids", T_INT, OFF(verify.pids), NULL, 8, 1000000},
    {"verify", "cpus", T_STR, OFF(verify.cpus), NULL, 0, 0},
    {NULL, "pull_request", T_SECTION, 0, NULL, 0, 0},
    {"pull_request", "provider", T_ENUM, OFF(pull_request.provider), providers, 0, 0},
    {"pull_request", "api_url", T_STR, OFF(pull_request.api_url), NULL, 0, 0},
    {"pull_request", "repo", T_STR_OR_NULL, OFF(pull_request.repo), NULL, 0, 0},
    {"pull_request", "token_env", T_STR, OFF(pull_request.token_env), NULL, 0, 0},
    {"pull_request", "labels", T_LIST, OFF(pull_request.labels), NULL, 0, 0},
    {"pull_request", "draft", T_BOOL, OFF(pull_request.draft), NULL, 0, 0},
    {NULL, "cache", T_SECTION, 0, NULL, 0, 0},
    {"cache", "ttl_s", T_INT, OFF(cache.ttl_s), NULL, 0, 31536000},
};

static const struct ckey *find_key(const char *section, const char *name)
{
	size_t i;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if ((!section && !keys[i].section) ||
		    (section && keys[i].section && !strcmp(section, keys[i].section)))
			return &keys[i];
	}
	return NULL;
}

/* YAML 1.1 booleans, as the content repository and its SDK read them. */
static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
	                                  "on",   "On",   "ON",   "y",   "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
	                                 "off",   "Off",   "OFF",   "n",  "N"};
	size_t i;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcmp(s, yes[i]))
			return *out = 1, 0;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcmp(s, no[i]))
			return *out = 0, 0;
	return -1;
}

static int is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "Null") ||
	        !strcmp(s, "NULL"));
}

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct config *cfg;
	struct db_err *err;
};

static int type_error(struct loader *ld, const char *section, const yaml_node_t *key,
                      const yaml_node_t *val, const char *want)
{
	return db_err_set(ld->err, DB_EUSAGE, "'%s': line %lu: key '%s%s%s' must be %s", ld->path,
	                  (unsigned long)val->start_mark.line + 1, section ? section : "",
	                  section ? "." : "", (const char *)key->data.scalar.value, want);
}

static int set_value(struct loader *ld, const char *section, const yaml_node_t *key,
                     const yaml_node_t *val)
{
	const struct ckey *k = find_key(section, (const char *)key->data.scalar.value);
	char *field;
	const char *s = val->type == YAML_SCALAR_NODE ? (const char *)val->data.scalar.value : NULL;

	if (!k)
		return db_err_set(ld->err, DB_EUSAGE, "'%s': line %lu: unknown key '%s%s%s'",
		                  ld->path, (unsigned long)key->start_mark.line + 1,
		                  section ? section : "", section ? "." : "",
		                  (const char *)key->data.scalar.value);
	field = (char *)ld->cfg + k->offset;
	switch (k->type) {
	case T_SECTION: {
		yaml_node_pair_t *p;
		if (val->type != YAML_MAPPING_NODE) {
			if (is_null(val))
				return 0;
			return type_error(ld, section, key, val, "a mapping");
		}
		for (p = val->data.mapping.pairs.start; p < val->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
			int ret;
			if (!kn || kn->type != YAML_SCALAR_NODE || !vn)
				return db_err_set(ld->err, DB_EUSAGE,
				                  "'%s': line %lu: keys must be strings", ld->path,
				                  (unsigned long)val->start_mark.line + 1);
			ret = set_value(ld, k->name, kn, vn);
			if (ret)
				return ret;
		}
		return 0;
	}
	case T_STR_OR_NULL:
		if (is_null(val)) {
			config_set_str((char **)field, NULL);
			return 0;
		}
		/* fall through */
	case T_STR:
		if (!s || (is_null(val) && k->type == T_STR))
			return type_error(ld, section, key, val, "a string");
		config_set_str((char **)field, s);
		return 0;
	case T_LIST: {
		struct strlist *l = (struct strlist *)field;
		yaml_node_item_t *it;
		if (val->type != YAML_SEQUENCE_NODE)
			return type_error(ld, section, key, val, "a list of strings");
		strlist_clear(l);
		for (it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(ld->doc, *it);
			if (!n || n->type != YAML_SCALAR_NODE)
				return type_error(ld, section, key, val, "a list of strings");
			strlist_push(l, (const char *)n->data.scalar.value);
		}
		return 0;
	}
	case T_BOOL: {
		int b;
		if (!s || val->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || parse_bool(s, &b))
			return type_error(ld, section, key, val, "true or false");
		*(int *)field = b;
		return 0;
	}
	case T_INT: {
		long v;
		if (!s || val->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    parse_long(&v, s, k->min, k->max))
			return db_err_set(
			    ld->err, DB_EUSAGE,
			    "'%s': line %lu: key '%s%s%s' must be a whole number from %ld to %ld",
			    ld->path, (unsigned long)val->start_mark.line + 1,
			    section ? section : "", section ? "." : "",
			    (const char *)key->data.scalar.value, k->min, k->max);
		if (k->offset == OFF(registry.timeout_s) || k->offset == OFF(min_age_days) ||
		    k->offset == OFF(verify.timeout_s) || k->offset == OFF(cache.ttl_s))
			*(long *)field = v;
		else
			*(int *)field = (int)v;
		return 0;
	}
	case T_ENUM: {
		size_t i;
		struct buf want = BUF_INIT;
		int ret;
		for (i = 0; s && k->enum_names[i]; i++)
			if (!strcmp(s, k->enum_names[i])) {
				*(int *)field = (int)i;
				return 0;
			}
		buf_adds(&want, "one of");
		for (i = 0; k->enum_names[i]; i++)
			buf_addf(&want, "%s %s", i ? "," : "", k->enum_names[i]);
		ret = type_error(ld, section, key, val, want.ptr);
		buf_release(&want);
		return ret;
	}
	}
	return 0;
}

int config_load_file(struct config *cfg, const char *path, struct db_err *err)
{
	struct buf data = BUF_INIT;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct loader ld = {path, &doc, cfg, err};
	int ret, have_doc = 0;

	ret = file_read(&data, path, 1 << 20, err);
	if (ret) {
		/* missing, unreadable, too big, a directory, a FIFO or a device such as /dev/zero:
		 * the file named is the operator's to fix, so it is a usage error (exit 2) */
		db_err_prefix(err, "config");
		return DB_EUSAGE;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data.ptr, data.len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = db_err_set(err, DB_EUSAGE, "'%s': line %lu, column %lu: %s", path,
		                 (unsigned long)parser.problem_mark.line + 1,
		                 (unsigned long)parser.problem_mark.column + 1,
		                 parser.problem ? parser.problem : "invalid YAML");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root))
		goto out; /* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE) {
		ret = db_err_set(err, DB_EUSAGE, "'%s': line %lu: the config must be a mapping",
		                 path, (unsigned long)root->start_mark.line + 1);
		goto out;
	}
	{
		yaml_node_pair_t *p;
		for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
			if (!kn || kn->type != YAML_SCALAR_NODE || !vn) {
				ret =
				    db_err_set(err, DB_EUSAGE, "'%s': keys must be strings", path);
				goto out;
			}
			ret = set_value(&ld, NULL, kn, vn);
			if (ret)
				goto out;
		}
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	buf_release(&data);
	return ret;
}

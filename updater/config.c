#include "updater/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <git2.h>
#include <jansson.h>
#include <yaml.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/strnum.h"
#include "updater/imageref.h"
#include "common/banned.h"

/* A config needs two levels (section.key) and a list; anything deeper is refused unread. */
#define CONFIG_MAX_DEPTH 4
#define CONFIG_MAX_BYTES (1 << 20)

static const char *const strategy_names[] = {"latest-build", "same-minor", "same-major", NULL};
static const char *const level_names[] = {"off", "compile", "load", "tests", NULL};
static const char *const api_names[] = {"hub", "v2", NULL};
static const char *const age_names[] = {"allow", "deny", NULL};
static const char *const d45_names[] = {"ignore", "preserve", NULL};
static const char *const provider_names[] = {"none", "github", "gitlab", NULL};
static const char *const log_names[] = {"text", "json", NULL};

static int lookup(const char *const *names, const char *s)
{
	int i;
	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

const char *strategy_name(enum strategy s)
{
	return strategy_names[s];
}

const char *pr_provider_name(enum pr_provider p)
{
	return provider_names[p];
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
	cfg->git.groups = 64;
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
	cfg->verify.prune_images = 1;
	cfg->pull_request.provider = PR_NONE;
	strlist_push(&cfg->pull_request.labels, "docker-image-auto-update");
	cfg->pull_request.dashboard = 1;
	cfg->rollout.max_open = 10;
	cfg->rollout.cadence_hours = 24;
	cfg->cache.ttl_s = 3600;
	cfg->cli.dir = xstrdup(".");
	cfg->cli.limit = -1;
}

void config_release(struct config *cfg)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);

	/* Every owned field is in the table: free by type, so a new setting cannot leak. */
	for (i = 0; i < nr; i++) {
		void *field = (char *)cfg + t[i].offset;
		if (t[i].type == SETTING_LIST)
			strlist_clear(field);
		else if (t[i].type == SETTING_STR || t[i].type == SETTING_STR_NULL)
			config_set_str(field, NULL);
	}
	memset(cfg, 0, sizeof(*cfg));
}

/* --- problems --- */

void config_problem(struct config_problems *p, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strlist_push(&p->v, b.ptr);
	buf_release(&b);
}

int config_problems_error(const struct config_problems *p, struct db_err *err)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (!p->v.nr)
		return 0;
	for (i = 0; i < p->v.nr; i++)
		buf_addf(&b, "%s%s", i ? "\n" : "", p->v.v[i]);
	db_err_set(err, DB_EUSAGE, "%s", b.ptr);
	buf_release(&b);
	return DB_EUSAGE;
}

void config_problems_release(struct config_problems *p)
{
	strlist_clear(&p->v);
}

/* --- checks: each returns 0, or -1 with the reason in `why` --- */

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parses an http(s) URL with a host and no user or password: 0, with its host, or -1. */
static int url_host(char **host, const char *value, char *why, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *user = NULL;
	int ret = 0;

	if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !h || !*h)
		ret = fail(why, n,
		           "'%s' is not a URL (it needs a scheme and a host, e.g. https://%s)",
		           value, value);
	else if (strcmp(scheme, "http") && strcmp(scheme, "https"))
		ret = fail(why, n, "'%s' is not an http or https URL", value);
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		ret = fail(why, n,
		           "'%s' carries a user name; credentials come from the environment only",
		           value);
	if (!ret && host)
		*host = xstrdup(h);
	curl_free(scheme);
	curl_free(h);
	curl_free(user);
	curl_url_cleanup(u);
	return ret;
}

static int check_url(struct config *cfg, const struct setting *s, const char *value, char *why,
                     size_t n)
{
	(void)cfg, (void)s;
	return url_host(NULL, value, why, n);
}

static int check_image(struct config *cfg, const struct setting *s, const char *value, char *why,
                       size_t n)
{
	(void)cfg, (void)s;
	if (!image_name_valid(value))
		return fail(why, n, "'%s' is not an image name (e.g. demisto/python3)", value);
	return 0;
}

static int check_namespace(struct config *cfg, const struct setting *s, const char *value,
                           char *why, size_t n)
{
	(void)cfg, (void)s;
	if (strchr(value, '/') || !image_name_valid(value))
		return fail(why, n, "'%s' is not a namespace (e.g. demisto)", value);
	return 0;
}

/* IMAGE:TAG, for verify --image and --old-image. */
static int check_image_ref(struct config *cfg, const struct setting *s, const char *value,
                           char *why, size_t n)
{
	const char *colon = strrchr(value, ':');
	char *name;
	int ok;

	(void)cfg, (void)s;
	if (!colon || strchr(colon, '/'))
		return fail(why, n, "'%s' is not IMAGE:TAG (e.g. demisto/python3:3.11.10.113941)",
		            value);
	name = xstrndup(value, (size_t)(colon - value));
	/* A registry host may lead ("127.0.0.1:5000/demisto/python3"): check what follows it. */
	ok = image_name_valid(strchr(name, '/') && strpbrk(name, ".:") &&
	                              strpbrk(name, ".:") < strchr(name, '/')
	                          ? strchr(name, '/') + 1
	                          : name) &&
	     tag_name_valid(colon + 1, strlen(colon + 1));
	free(name);
	return ok ? 0 : fail(why, n, "'%s' is not IMAGE:TAG", value);
}

static int check_tag(struct config *cfg, const struct setting *s, const char *value, char *why,
                     size_t n)
{
	(void)cfg, (void)s;
	if (!tag_name_valid(value, strlen(value)))
		return fail(why, n, "'%s' is not a valid tag", value);
	return 0;
}

static int check_deny_tag(struct config *cfg, const struct setting *s, const char *value, char *why,
                          size_t n)
{
	const char *colon = strrchr(value, ':');
	char *name;
	int ok;

	(void)cfg, (void)s;
	if (!colon)
		return fail(why, n, "'%s' is not IMAGE:TAG (e.g. demisto/python3:3.12.7.117934)",
		            value);
	name = xstrndup(value, (size_t)(colon - value));
	ok = image_name_valid(name) && tag_name_valid(colon + 1, strlen(colon + 1));
	free(name);
	return ok ? 0 : fail(why, n, "'%s' is not IMAGE:TAG", value);
}

static int check_glob(struct config *cfg, const struct setting *s, const char *value, char *why,
                      size_t n)
{
	(void)cfg, (void)s;
	if (!*value)
		return fail(why, n, "an empty glob matches nothing");
	if (value[0] == '/')
		return fail(why, n,
		            "'%s': globs match repository paths, which never start with '/'",
		            value);
	return 0;
}

/* A value that reaches a child's argv must never read as an option. */
static int check_not_option(struct config *cfg, const struct setting *s, const char *value,
                            char *why, size_t n)
{
	(void)cfg, (void)s;
	if (value[0] == '-')
		return fail(why, n, "'%s' must not start with '-'", value);
	return 0;
}

static int check_prefix(struct config *cfg, const struct setting *s, const char *value, char *why,
                        size_t n)
{
	char *ref = xasprintf("refs/heads/%sgroup-1", value);
	int valid = 0;

	(void)cfg, (void)s;
	git_reference_name_is_valid(&valid, ref);
	free(ref);
	if (!valid || value[0] == '-')
		return fail(why, n, "'%s' does not make valid branch names", value);
	if (value[strlen(value) - 1] != '/' && value[strlen(value) - 1] != '-')
		return fail(why, n,
		            "'%s' must end with '/' or '-', so that the bot's branches stay apart "
		            "from everyone else's",
		            value);
	return 0;
}

static int check_memory(struct config *cfg, const struct setting *s, const char *value, char *why,
                        size_t n)
{
	size_t i = 0;

	(void)cfg, (void)s;
	while (isdigit((unsigned char)value[i]))
		i++;
	if (!i || i > 12 || (value[i] && (strchr("bkmgBKMG", value[i]) == NULL || value[i + 1])))
		return fail(why, n, "'%s' is not a memory size (e.g. 512m, 2g)", value);
	return 0;
}

static int check_cpus(struct config *cfg, const struct setting *s, const char *value, char *why,
                      size_t n)
{
	size_t i = 0, dots = 0;

	(void)cfg, (void)s;
	for (i = 0; value[i]; i++)
		if (value[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)value[i]))
			break;
	if (value[i] || !i || dots > 1 || i > 8 || value[0] == '.')
		return fail(why, n, "'%s' is not a number of CPUs (e.g. 1, 0.5)", value);
	return 0;
}

static int check_env_name(struct config *cfg, const struct setting *s, const char *value, char *why,
                          size_t n)
{
	size_t i;

	(void)cfg, (void)s;
	for (i = 0; value[i]; i++)
		if (!(isalpha((unsigned char)value[i]) || value[i] == '_' ||
		      (i && isdigit((unsigned char)value[i]))))
			return fail(why, n, "'%s' is not an environment variable name", value);
	return 0;
}

static int check_forge_repo(struct config *cfg, const struct setting *s, const char *value,
                            char *why, size_t n)
{
	const char *p;
	int slashes = 0;

	(void)cfg, (void)s;
	for (p = value; *p; p++) {
		if (*p == '/')
			slashes++;
		else if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			break;
	}
	if (*p || !slashes || value[0] == '/' || p[-1] == '/' || strstr(value, "//") ||
	    strstr(value, ".."))
		return fail(why, n, "'%s' is not owner/name (GitLab: group/subgroup/name)", value);
	return 0;
}

static int check_pack(struct config *cfg, const struct setting *s, const char *value, char *why,
                      size_t n)
{
	(void)cfg, (void)s;
	if (!*value || strchr(value, '/') || !strcmp(value, ".") || !strcmp(value, ".."))
		return fail(why, n, "'%s' is not a pack name (the folder under Packs/)", value);
	return 0;
}

static int check_label(struct config *cfg, const struct setting *s, const char *value, char *why,
                       size_t n)
{
	(void)cfg, (void)s;
	if (!*value || strlen(value) > 50 || strchr(value, ','))
		return fail(why, n, "'%s' is not a label (1 to 50 characters, no comma)", value);
	return 0;
}

static int check_verify_level(struct config *cfg, const struct setting *s, const char *value,
                              char *why, size_t n)
{
	(void)cfg, (void)s;
	if (!strcmp(value, "off"))
		return fail(why, n, "verify runs the items: the level is compile, load or tests");
	return 0;
}

static int set_shard(struct config *cfg, const struct setting *s, const char *value, char *why,
                     size_t n)
{
	const char *slash = strchr(value, '/');
	char kbuf[32];
	long k, total;

	(void)s;
	if (!slash || (size_t)(slash - value) >= sizeof(kbuf))
		return fail(why, n, "takes K/N, e.g. 1/4, not '%s'", value);
	memcpy(kbuf, value, (size_t)(slash - value));
	kbuf[slash - value] = '\0';
	if (parse_long(&total, slash + 1, 1, 10000) || parse_long(&k, kbuf, 1, total))
		return fail(why, n, "takes K/N with 1 <= K <= N <= 10000, not '%s'", value);
	cfg->cli.shard_k = (int)k;
	cfg->cli.shard_n = (int)total;
	return 0;
}

static int set_push(struct config *cfg, const struct setting *s, const char *value, char *why,
                    size_t n)
{
	if (check_not_option(cfg, s, value, why, n) < 0)
		return -1;
	config_set_str(&cfg->git.remote, value);
	cfg->cli.push_forced = 1;
	return 0;
}

static int set_log_format(struct config *cfg, const struct setting *s, const char *value, char *why,
                          size_t n)
{
	int i = lookup(log_names, value);

	(void)s;
	if (i < 0)
		return fail(why, n, "takes text or json, not '%s'", value);
	cfg->cli.log_json = i;
	return 0;
}

static int set_quiet(struct config *cfg, const struct setting *s, const char *value, char *why,
                     size_t n)
{
	(void)s, (void)value, (void)why, (void)n;
	cfg->cli.verbosity = -1;
	return 0;
}

static int set_verbose(struct config *cfg, const struct setting *s, const char *value, char *why,
                       size_t n)
{
	(void)s, (void)value, (void)why, (void)n;
	cfg->cli.verbosity = 1;
	return 0;
}

/* --- the table --- */

#define F(f)          offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define NOFIELD       0, 0
#define SCAN_RUN      (CMD_SCAN | CMD_RUN)
#define REGISTRY_CMDS (CMD_SCAN | CMD_RUN | CMD_TAGS)

static const struct setting settings[] = {
    /* global options, before the command */
    {NULL, "dir", 'C', SETTING_STR, CMD_GLOBAL, SETTING_PATH, F(cli.dir), 0, 0, NULL, NULL, "DIR",
     "the content repository (default: .)"},
    {NULL, "config", 'c', SETTING_STR, CMD_GLOBAL, SETTING_PATH, F(cli.config_file), 0, 0, NULL,
     NULL, "FILE", "the config file (default: DIR/.dockerbump.yml when present)"},
    {NULL, "log-format", 0, SETTING_SPECIAL, CMD_GLOBAL, 0, NOFIELD, 0, 0, log_names,
     set_log_format, "text|json", "diagnostics on stderr as text or one JSON object per line"},
    {NULL, "quiet", 'q', SETTING_SPECIAL, CMD_GLOBAL, 0, NOFIELD, 0, 0, NULL, set_quiet, NULL,
     "errors and warnings only"},
    {NULL, "verbose", 'v', SETTING_SPECIAL, CMD_GLOBAL, 0, NOFIELD, 0, 0, NULL, set_verbose, NULL,
     "debug output"},

    /* command flags without a config key */
    {NULL, "dry-run", 0, SETTING_BOOL, CMD_RUN, 0, F(cli.dry_run), 0, 0, NULL, NULL, NULL,
     "show the plan, the rollout and a diff; write nothing, push nothing"},
    {NULL, "worktree", 0, SETTING_BOOL, CMD_SCAN, 0, F(cli.worktree), 0, 0, NULL, NULL, NULL,
     "scan the files on disk instead (e.g. a repository without commits)"},
    {NULL, "offline", 0, SETTING_BOOL, CMD_SCAN, 0, F(cli.offline), 0, 0, NULL, NULL, NULL,
     "never contact a registry; targets stay unknown"},
    {"git.base", "base", 0, SETTING_STR_NULL, SCAN_RUN, 0, F(git.base), 0, 0, NULL, NULL, "REF",
     "the commit to start from (default: the remote's default branch, else HEAD)"},
    {"strategy", "strategy", 0, SETTING_ENUM, REGISTRY_CMDS, 0, F(strategy), 0, 0, strategy_names,
     NULL, "S", "latest-build (default), same-minor or same-major"},
    {NULL, "image", 0, SETTING_LIST, SCAN_RUN, 0, F(cli.images), 0, 0, NULL, check_image, "NAME",
     "only items on this image, e.g. demisto/python3 (repeatable)"},
    {NULL, "only", 0, SETTING_LIST, SCAN_RUN, 0, F(cli.only), 0, 0, NULL, check_glob, "GLOB",
     "only repository paths matching GLOB (repeatable)"},
    {NULL, "exclude", 0, SETTING_LIST, SCAN_RUN, 0, F(cli.exclude), 0, 0, NULL, check_glob, "GLOB",
     "skip repository paths matching GLOB (repeatable)"},
    {NULL, "shard", 0, SETTING_SPECIAL, SCAN_RUN, 0, NOFIELD, 0, 0, NULL, set_shard, "K/N",
     "only the pack groups of shard K of N (for a CI matrix)"},
    {NULL, "batch-size", 0, SETTING_REMOVED, CMD_RUN, SETTING_HIDDEN, NOFIELD, 0, 0, NULL, NULL,
     "N", "--batch-size was replaced by the config key git.groups (branches are pack groups)"},
    {"verify.level", "verify", 0, SETTING_ENUM, CMD_RUN, 0, F(verify.level), 0, 0, level_names,
     NULL, "LEVEL", "off, compile, load (default) or tests"},
    {"verify.level", "level", 0, SETTING_ENUM, CMD_VERIFY, 0, F(verify.level), 0, 0, level_names,
     check_verify_level, "LEVEL", "compile, load (default) or tests"},
    {NULL, "image", 0, SETTING_STR, CMD_VERIFY, 0, F(cli.verify_image), 0, 0, NULL, check_image_ref,
     "IMAGE:TAG", "run in this image instead of the item's own dockerimage"},
    {NULL, "old-image", 0, SETTING_STR, CMD_VERIFY, 0, F(cli.verify_old_image), 0, 0, NULL,
     check_image_ref, "IMAGE:TAG", "also run in this image and report a regression"},
    {"verify.runtime", "runtime", 0, SETTING_STR, CMD_RUN | CMD_VERIFY, SETTING_OPERATOR,
     F(verify.runtime), 0, 0, NULL, check_not_option, "R",
     "docker (default), podman, or the path of a docker-compatible CLI"},
    {"verify.timeout_s", "timeout", 0, SETTING_INT, CMD_VERIFY, 0, F(verify.timeout_s), 1, 86400,
     NULL, NULL, "S", "seconds per item and image (default 60)"},
    {"verify.jobs", "jobs", 0, SETTING_INT, CMD_RUN | CMD_VERIFY, 0, F(verify.jobs), 1, 64, NULL,
     NULL, "N", "images verified at once (default 2)"},
    {NULL, "no-reuse", 0, SETTING_BOOL, CMD_VERIFY, SETTING_HIDDEN, F(cli.no_reuse), 0, 0, NULL,
     NULL, NULL, "one container per item (the benchmark's baseline)"},
    {NULL, "push", 0, SETTING_SPECIAL, CMD_RUN, 0, NOFIELD, 0, 0, NULL, set_push, "REMOTE",
     "push to REMOTE (a name, path or URL; default: git.remote when it exists)"},
    {NULL, "no-push", 0, SETTING_BOOL, CMD_RUN, 0, F(cli.no_push), 0, 0, NULL, NULL, NULL,
     "commit the branches locally only"},
    {"pull_request.provider", "pr", 0, SETTING_ENUM, CMD_RUN, 0, F(pull_request.provider), 0, 0,
     provider_names, NULL, "P", "none (default), github or gitlab: open pull/merge requests"},
    {"registry.url", "registry-url", 0, SETTING_STR, REGISTRY_CMDS, SETTING_OPERATOR,
     F(registry.url), 0, 0, NULL, check_url, "URL",
     "the registry (default: https://hub.docker.com)"},
    {"registry.api", "registry-api", 0, SETTING_ENUM, REGISTRY_CMDS, 0, F(registry.api), 0, 0,
     api_names, NULL, "API", "hub (default) or v2"},
    {NULL, "current", 0, SETTING_STR, CMD_TAGS, 0, F(cli.current), 0, 0, NULL, check_tag, "TAG",
     "pick relative to TAG (also IMAGE:TAG)"},
    {NULL, "limit", 0, SETTING_INT, CMD_TAGS, 0, F(cli.limit), 0, 1000000000L, NULL, NULL, "N",
     "show at most N tags (default: 25 as a table, all with --json; 0: all)"},
    {NULL, "digest", 0, SETTING_BOOL, CMD_TAGS, 0, F(cli.digest), 0, 0, NULL, NULL, NULL,
     "also show the digest of each pick (a manifest HEAD on v2)"},
    {NULL, "no-cache", 0, SETTING_BOOL, CMD_SCAN | CMD_RUN | CMD_TAGS | CMD_VERIFY, 0,
     F(cli.no_cache), 0, 0, NULL, NULL, NULL, "neither read nor write the caches"},
    {NULL, "wide", 0, SETTING_BOOL, CMD_SCAN, 0, F(cli.wide), 0, 0, NULL, NULL, NULL,
     "every column of the table, however wide"},
    {NULL, "json", 0, SETTING_BOOL, CMD_SCAN | CMD_RUN | CMD_TAGS | CMD_VERIFY, 0, F(cli.json), 0,
     0, NULL, NULL, NULL, "print only JSON on stdout"},
    {NULL, "report", 0, SETTING_STR, SCAN_RUN, SETTING_PATH, F(cli.report), 0, 0, NULL, NULL,
     "FILE", "write the JSON report to FILE ('-': stdout)"},
    {NULL, "junit", 0, SETTING_STR, CMD_RUN | CMD_VERIFY, SETTING_PATH, F(cli.junit), 0, 0, NULL,
     NULL, "FILE", "write the verification results as JUnit XML"},
    {NULL, "trust-repo-config", 0, SETTING_BOOL, CMD_LOADS_CONFIG, 0, F(cli.trust_repo_config), 0,
     0, NULL, NULL, NULL,
     "let the repository's own .dockerbump.yml set what runs programs or receives tokens"},

    /* config keys (some with a flag above) */
    {"images", NULL, 0, SETTING_LIST, 0, 0, F(images), 0, 0, NULL, check_image, NULL,
     "images whose items are updated unless autoUpdateDockerImage is false"},
    {"allowed_namespaces", NULL, 0, SETTING_LIST, 0, 0, F(allowed_namespaces), 0, 0, NULL,
     check_namespace, NULL, "only images in these namespaces are ever written"},
    {"registry", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL,
     "where tags come from"},
    {"registry.timeout_s", NULL, 0, SETTING_INT, 0, 0, F(registry.timeout_s), 1, 3600, NULL, NULL,
     NULL, "total time per HTTP attempt"},
    {"registry.retries", NULL, 0, SETTING_INT, 0, 0, F(registry.retries), 0, 20, NULL, NULL, NULL,
     "retries on connection errors, 429 and 5xx"},
    {"registry.max_pages", NULL, 0, SETTING_INT, 0, 0, F(registry.max_pages), 1, 100000, NULL, NULL,
     NULL, "pages of tags read at most per image"},
    {"registry.budget_s", NULL, 0, SETTING_INT, 0, 0, F(registry.budget_s), 0, 86400, NULL, NULL,
     NULL, "time for all of one image's requests, retries and waits; 0: 4 x timeout_s"},
    {"min_age_days", NULL, 0, SETTING_INT, 0, 0, F(min_age_days), 0, 36500, NULL, NULL, NULL,
     "ignore tags pushed less than this many days ago"},
    {"unknown_age", NULL, 0, SETTING_ENUM, 0, 0, F(unknown_age_deny), 0, 0, age_names, NULL, NULL,
     "allow or deny tags without a timestamp"},
    {"deny_tags", NULL, 0, SETTING_LIST, 0, 0, F(deny_tags), 0, 0, NULL, check_deny_tag, NULL,
     "known-bad IMAGE:TAG pairs, never a target"},
    {"include", NULL, 0, SETTING_LIST, 0, 0, F(include), 0, 0, NULL, check_glob, NULL,
     "item YAMLs, as globs on repository paths"},
    {"exclude", NULL, 0, SETTING_LIST, 0, 0, F(exclude), 0, 0, NULL, check_glob, NULL,
     "repository paths reported as skipped"},
    {"skip_deprecated", NULL, 0, SETTING_BOOL, 0, 0, F(skip_deprecated), 0, 0, NULL, NULL, NULL,
     "skip items with deprecated: true"},
    {"skip_hidden_packs", NULL, 0, SETTING_BOOL, 0, 0, F(skip_hidden_packs), 0, 0, NULL, NULL, NULL,
     "skip packs whose pack_metadata.json has \"hidden\": true"},
    {"dockerimage45", NULL, 0, SETTING_ENUM, 0, 0, F(dockerimage45_preserve), 0, 0, d45_names, NULL,
     NULL, "preserve: write the old image to a new dockerimage45 line (the SDK's rule)"},
    {"release_notes", NULL, 0, SETTING_BOOL, 0, 0, F(release_notes), 0, 0, NULL, NULL, NULL,
     "bump pack currentVersion and write ReleaseNotes/x_y_z.md"},
    {"git", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL,
     "branches, pushes and identity"},
    {"git.branch_prefix", NULL, 0, SETTING_STR, 0, 0, F(git.branch_prefix), 0, 0, NULL,
     check_prefix, NULL, "the bot's branches: <prefix>group-<k> and <prefix>canary"},
    {"git.groups", NULL, 0, SETTING_INT, 0, 0, F(git.groups), 1, 100000, NULL, NULL, NULL,
     "packs are hashed into this many groups, one branch and pull request each"},
    {"git.batch_size", NULL, 0, SETTING_REMOVED, 0, SETTING_HIDDEN, NOFIELD, 0, 0, NULL, NULL, NULL,
     "git.batch_size was replaced by git.groups: branches are now pack groups (a pack's group "
     "never depends on other packs)"},
    {"git.remote", NULL, 0, SETTING_STR, 0, SETTING_OPERATOR, F(git.remote), 0, 0, NULL,
     check_not_option, NULL, "the push remote (a name, a path or a URL)"},
    {"git.push", NULL, 0, SETTING_BOOL, 0, 0, F(git.push), 0, 0, NULL, NULL, NULL,
     "push when the remote exists"},
    {"git.author_name", NULL, 0, SETTING_STR_NULL, 0, 0, F(git.author_name), 0, 0, NULL, NULL, NULL,
     "null: git config user.name, else dockerbump"},
    {"git.author_email", NULL, 0, SETTING_STR_NULL, 0, 0, F(git.author_email), 0, 0, NULL, NULL,
     NULL, "null: git config user.email, else dockerbump@localhost"},
    {"verify", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL,
     "verification in containers"},
    {"verify.memory", NULL, 0, SETTING_STR, 0, 0, F(verify.memory), 0, 0, NULL, check_memory, NULL,
     "container memory limit"},
    {"verify.pids", NULL, 0, SETTING_INT, 0, 0, F(verify.pids), 8, 1000000, NULL, NULL, NULL,
     "container pids limit"},
    {"verify.cpus", NULL, 0, SETTING_STR, 0, 0, F(verify.cpus), 0, 0, NULL, check_cpus, NULL,
     "container CPU limit"},
    {"verify.prune_images", NULL, 0, SETTING_BOOL, 0, 0, F(verify.prune_images), 0, 0, NULL, NULL,
     NULL, "remove the images this run pulled when it ends"},
    {"pull_request", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL,
     "pull requests (GitHub) and merge requests (GitLab)"},
    {"pull_request.api_url", NULL, 0, SETTING_STR_NULL, 0, SETTING_OPERATOR,
     F(pull_request.api_url), 0, 0, NULL, check_url, NULL,
     "null: https://api.github.com or https://gitlab.com/api/v4"},
    {"pull_request.repo", NULL, 0, SETTING_STR_NULL, 0, 0, F(pull_request.repo), 0, 0, NULL,
     check_forge_repo, NULL, "owner/name; null: from the push remote's URL"},
    {"pull_request.token_env", NULL, 0, SETTING_STR_NULL, 0, SETTING_OPERATOR,
     F(pull_request.token_env), 0, 0, NULL, check_env_name, NULL,
     "the variable holding the token; null: GITHUB_TOKEN or GITLAB_TOKEN"},
    {"pull_request.labels", NULL, 0, SETTING_LIST, 0, 0, F(pull_request.labels), 0, 0, NULL,
     check_label, NULL, "labels of the bot's pull requests (the first one finds them)"},
    {"pull_request.draft", NULL, 0, SETTING_BOOL, 0, 0, F(pull_request.draft), 0, 0, NULL, NULL,
     NULL, "open pull requests as drafts"},
    {"pull_request.dashboard", NULL, 0, SETTING_BOOL, 0, 0, F(pull_request.dashboard), 0, 0, NULL,
     NULL, NULL, "keep one dashboard issue up to date"},
    {"rollout", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL,
     "how a new tag reaches the packs"},
    {"rollout.max_open", NULL, 0, SETTING_INT, 0, 0, F(rollout.max_open), 1, 10000, NULL, NULL,
     NULL, "open pull requests at most (for the whole shard matrix)"},
    {"rollout.canary_packs", NULL, 0, SETTING_LIST, 0, 0, F(rollout.canary_packs), 0, 0, NULL,
     check_pack, NULL, "packs that get a new tag first"},
    {"rollout.cadence_hours", NULL, 0, SETTING_INT, 0, 0, F(rollout.cadence_hours), 0, 8760, NULL,
     NULL, NULL, "hours a canary merge must age before the tag is released to all"},
    {"cache", NULL, 0, SETTING_SECTION, 0, 0, NOFIELD, 0, 0, NULL, NULL, NULL, "on-disk caches"},
    {"cache.ttl_s", NULL, 0, SETTING_INT, 0, 0, F(cache.ttl_s), 0, 31536000, NULL, NULL, NULL,
     "how long a cached tag list is used without asking"},
};

/* The whole table: flags and keys, in --help order. */
const struct setting *config_settings(size_t *nr)
{
	*nr = sizeof(settings) / sizeof(settings[0]);
	return settings;
}

const struct setting *config_setting_by_key(const char *key)
{
	size_t i;
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (settings[i].key && !strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

/* --- setting values --- */

/* YAML 1.1 booleans, as the content repository and its SDK read them. */
static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
	                                  "on",   "On",   "ON",   "y",   "Y",   NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
	                                 "off",   "Off",   "OFF",   "n",  "N",  NULL};
	if (lookup(yes, s) >= 0)
		return *out = 1, 0;
	if (lookup(no, s) >= 0)
		return *out = 0, 0;
	return -1;
}

static void store_number(void *field, size_t size, long v)
{
	if (size == sizeof(long))
		*(long *)field = v;
	else
		*(int *)field = (int)v;
}

static void names_list(struct buf *b, const char *const *names)
{
	size_t i;
	for (i = 0; names[i]; i++)
		buf_addf(b, "%s%s", i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
}

/*
 * Converts and stores one scalar `value` for `s` (a list gets it appended): 0, or -1 with the
 * reason in `why`. `append` is 1 for a repeatable flag and for each item of a list key.
 */
static int store(struct config *cfg, const struct setting *s, const char *value, char *why,
                 size_t n)
{
	void *field = (char *)cfg + s->offset;
	long v;
	int b, i;

	if ((s->type == SETTING_STR || s->type == SETTING_STR_NULL || s->type == SETTING_LIST) &&
	    (!value || !*value))
		return fail(why, n, "must not be empty");
	if (s->check && s->check(cfg, s, value ? value : "", why, n) < 0)
		return -1;
	switch (s->type) {
	case SETTING_BOOL:
	case SETTING_NEG:
		if (!value)
			b = s->type == SETTING_BOOL;
		else if (parse_bool(value, &b))
			return fail(why, n, "must be true or false, not '%s'", value);
		*(int *)field = b;
		return 0;
	case SETTING_INT:
		if (parse_long(&v, value, s->min, s->max))
			return fail(why, n, "must be a whole number from %ld to %ld, not '%s'",
			            s->min, s->max, value);
		store_number(field, s->size, v);
		return 0;
	case SETTING_STR:
	case SETTING_STR_NULL:
		config_set_str(field, value);
		return 0;
	case SETTING_LIST:
		strlist_push(field, value);
		return 0;
	case SETTING_ENUM: {
		struct buf want = BUF_INIT;
		i = lookup(s->names, value);
		if (i >= 0) {
			*(int *)field = i;
			return 0;
		}
		names_list(&want, s->names);
		fail(why, n, "must be %s, not '%s'", want.ptr, value);
		buf_release(&want);
		return -1;
	}
	case SETTING_REMOVED:
		return fail(why, n, "%s", s->help);
	case SETTING_SPECIAL: /* `check` stored it */
	case SETTING_SECTION:
		return 0;
	}
	return 0;
}

void config_set_flag(struct config *cfg, const struct setting *s, const char *value,
                     struct config_problems *pr)
{
	char why[512];

	if (store(cfg, s, value, why, sizeof(why)) < 0) {
		if (s->type == SETTING_REMOVED)
			config_problem(pr, "%s", why);
		else
			config_problem(pr, "--%s: %s", s->flag, why);
	}
}

/* --- the file --- */

struct loader {
	const char *path;
	enum config_origin origin;
	yaml_document_t *doc;
	struct config *cfg;
	struct config_problems *pr;
};

static unsigned long line_of(const yaml_node_t *n)
{
	return (unsigned long)n->start_mark.line + 1;
}

static int is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "Null") ||
	        !strcmp(s, "NULL"));
}

/* The keys of one section (or of the top level), for "did you mean". */
static size_t section_keys(const char **out, size_t max, const char *section)
{
	size_t i, n = 0, len = section ? strlen(section) : 0;

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]) && n < max; i++) {
		const char *k = settings[i].key;
		if (!k || (settings[i].flags & SETTING_HIDDEN))
			continue;
		if (section ? !strncmp(k, section, len) && k[len] == '.' : !strchr(k, '.'))
			out[n++] = section ? k + len + 1 : k;
	}
	return n;
}

static void unknown_key(struct loader *ld, const char *section, const yaml_node_t *key)
{
	const char *cands[64], *name = (const char *)key->data.scalar.value;
	const char *near = config_did_you_mean(name, cands, section_keys(cands, 64, section));
	struct buf msg = BUF_INIT;

	buf_addf(&msg, "'%s': line %lu: unknown key '%s%s%s'", ld->path, line_of(key),
	         section ? section : "", section ? "." : "", name);
	if (near)
		buf_addf(&msg, " (did you mean '%s%s%s'?)", section ? section : "",
		         section ? "." : "", near);
	config_problem(ld->pr, "%s", msg.ptr);
	buf_release(&msg);
}

static void value_problem(struct loader *ld, const char *key, const yaml_node_t *val,
                          const char *why)
{
	config_problem(ld->pr, "'%s': line %lu: key '%s' %s", ld->path, line_of(val), key, why);
}

static void load_mapping(struct loader *ld, const char *section, const yaml_node_t *map);

static void load_value(struct loader *ld, const char *section, const yaml_node_t *key,
                       const yaml_node_t *val)
{
	const char *name = (const char *)key->data.scalar.value;
	char *dotted = section ? xasprintf("%s.%s", section, name) : xstrdup(name);
	const struct setting *s = config_setting_by_key(dotted);
	const char *text =
	    val->type == YAML_SCALAR_NODE ? (const char *)val->data.scalar.value : "";
	char why[512];

	if (!s) {
		unknown_key(ld, section, key);
		goto out;
	}
	if (s->type == SETTING_REMOVED) {
		config_problem(ld->pr, "'%s': line %lu: %s", ld->path, line_of(key), s->help);
		goto out;
	}
	if ((s->flags & SETTING_OPERATOR) && ld->origin == CONFIG_FROM_REPO &&
	    !ld->cfg->cli.trust_repo_config) {
		config_problem(
		    ld->pr,
		    "'%s': line %lu: key '%s' is not read from the repository's own config "
		    "(any pull request can change it, and it runs programs or receives "
		    "tokens): set it in a file given with -c FILE or with a flag, or pass "
		    "--trust-repo-config",
		    ld->path, line_of(key), dotted);
		goto out;
	}
	switch (s->type) {
	case SETTING_SECTION:
		if (val->type == YAML_MAPPING_NODE)
			load_mapping(ld, dotted, val);
		else if (!is_null(val))
			value_problem(ld, dotted, val, "must be a mapping");
		break;
	case SETTING_LIST: {
		struct strlist *l = (struct strlist *)((char *)ld->cfg + s->offset);
		yaml_node_item_t *it;
		if (val->type != YAML_SEQUENCE_NODE) {
			value_problem(ld, dotted, val, "must be a list of strings");
			break;
		}
		strlist_clear(l);
		for (it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(ld->doc, *it);
			if (!n || n->type != YAML_SCALAR_NODE) {
				value_problem(ld, dotted, val, "must be a list of strings");
				break;
			}
			if (store(ld->cfg, s, (const char *)n->data.scalar.value, why, sizeof(why)))
				value_problem(ld, dotted, n, why);
		}
		break;
	}
	case SETTING_STR_NULL:
		if (is_null(val)) {
			config_set_str((char **)((char *)ld->cfg + s->offset), NULL);
			break;
		}
		/* fall through */
	default:
		if (val->type != YAML_SCALAR_NODE || (s->type == SETTING_STR && is_null(val)))
			value_problem(ld, dotted, val, "must be a single value");
		else if ((s->type == SETTING_BOOL || s->type == SETTING_INT) &&
		         val->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			value_problem(ld, dotted, val,
			              s->type == SETTING_BOOL ? "must be true or false (unquoted)"
			                                      : "must be a number (unquoted)");
		else if (store(ld->cfg, s, text, why, sizeof(why)))
			value_problem(ld, dotted, val, why);
		break;
	}
out:
	free(dotted);
}

static void load_mapping(struct loader *ld, const char *section, const yaml_node_t *map)
{
	yaml_node_pair_t *p, *q;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		int dup = 0;

		if (!kn || kn->type != YAML_SCALAR_NODE || !vn) {
			config_problem(ld->pr, "'%s': line %lu: keys must be strings", ld->path,
			               line_of(map));
			continue;
		}
		for (q = map->data.mapping.pairs.start; q < p && !dup; q++) {
			yaml_node_t *other = yaml_document_get_node(ld->doc, q->key);
			dup = other && other->type == YAML_SCALAR_NODE &&
			      !strcmp((const char *)other->data.scalar.value,
			              (const char *)kn->data.scalar.value);
		}
		if (dup) {
			config_problem(ld->pr, "'%s': line %lu: key '%s%s%s' is given twice",
			               ld->path, line_of(kn), section ? section : "",
			               section ? "." : "", (const char *)kn->data.scalar.value);
			continue;
		}
		load_value(ld, section, kn, vn);
	}
}

/*
 * Reads the events once before building the document: nesting deeper than a config needs,
 * anchors, aliases and a second document are refused here, so the loader never builds a
 * pathological tree. Returns 0, or -1 after recording the problem.
 */
static int prescan(struct loader *ld, const struct buf *data)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, docs = 0, ret = 0, done = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data->ptr, data->len);
	while (!done && !ret) {
		if (!yaml_parser_parse(&parser, &ev)) {
			config_problem(ld->pr, "'%s': line %lu, column %lu: %s", ld->path,
			               (unsigned long)parser.problem_mark.line + 1,
			               (unsigned long)parser.problem_mark.column + 1,
			               parser.problem ? parser.problem : "invalid YAML");
			ret = -1;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				config_problem(ld->pr,
				               "'%s': line %lu: a second document; a config is one "
				               "mapping",
				               ld->path, (unsigned long)ev.start_mark.line + 1);
				ret = -1;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CONFIG_MAX_DEPTH) {
				config_problem(ld->pr,
				               "'%s': line %lu: nested deeper than a config is",
				               ld->path, (unsigned long)ev.start_mark.line + 1);
				ret = -1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			config_problem(ld->pr,
			               "'%s': line %lu: aliases are not allowed in a config",
			               ld->path, (unsigned long)ev.start_mark.line + 1);
			ret = -1;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ret;
}

void config_load_file(struct config *cfg, const char *path, enum config_origin origin,
                      struct config_problems *pr)
{
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;

	if (file_read(&data, path, CONFIG_MAX_BYTES, &err) < 0)
		config_problem(pr, "config: %s", err.msg);
	else
		config_load_buffer(cfg, path, data.ptr, data.len, origin, pr);
	buf_release(&data);
}

void config_load_buffer(struct config *cfg, const char *path, const char *text, size_t len,
                        enum config_origin origin, struct config_problems *pr)
{
	struct buf data = {(char *)text, len, 0, 0};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct loader ld = {path, origin, &doc, cfg, pr};

	if (prescan(&ld, &data) < 0)
		return;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		config_problem(pr, "'%s': line %lu, column %lu: %s", path,
		               (unsigned long)parser.problem_mark.line + 1,
		               (unsigned long)parser.problem_mark.column + 1,
		               parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			config_problem(pr, "'%s': line %lu: the config must be a mapping", path,
			               line_of(root));
		else
			load_mapping(&ld, NULL, root);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

/* --- what depends on several settings --- */

const char *config_forge_api_url(const struct config *cfg)
{
	if (cfg->pull_request.api_url)
		return cfg->pull_request.api_url;
	return cfg->pull_request.provider == PR_GITLAB ? "https://gitlab.com/api/v4"
	                                               : "https://api.github.com";
}

const char *config_forge_token_env(const struct config *cfg)
{
	if (cfg->pull_request.token_env)
		return cfg->pull_request.token_env;
	return cfg->pull_request.provider == PR_GITLAB ? "GITLAB_TOKEN" : "GITHUB_TOKEN";
}

static int is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]") ||
	       !strcmp(host, "::1");
}

void config_validate(struct config *cfg, enum command cmd, struct config_problems *pr)
{
	char why[512];

	if (cmd == CMD_RUN && cfg->cli.dry_run && cfg->cli.push_forced)
		config_problem(pr, "--dry-run pushes nothing: drop --push");
	if (cmd == CMD_RUN && cfg->cli.no_push && cfg->cli.push_forced)
		config_problem(pr, "--push and --no-push contradict each other");
	if (cfg->pull_request.provider != PR_NONE && !cfg->pull_request.labels.nr)
		config_problem(pr,
		               "pull_request.labels is empty: the bot finds its own pull requests "
		               "and its dashboard by the first label");
	if ((cmd == CMD_RUN || cmd == CMD_CONFIG) && cfg->pull_request.provider != PR_NONE) {
		const char *url = config_forge_api_url(cfg), *env = config_forge_token_env(cfg);
		const char *token = getenv(env);
		char *host = NULL;

		if (url_host(&host, url, why, sizeof(why)) < 0)
			config_problem(pr, "pull_request.api_url: %s", why);
		else if (!strncmp(url, "http:", 5) && !is_loopback(host))
			config_problem(
			    pr,
			    "pull_request.api_url '%s' is plain http: the token is never "
			    "sent over plain http except to loopback; use https",
			    url);
		free(host);
		if ((!token || !*token) && !cfg->cli.dry_run)
			config_problem(pr,
			               "%s is not set: --pr %s needs a token in the environment "
			               "variable named by pull_request.token_env",
			               env, pr_provider_name(cfg->pull_request.provider));
	}
}

/* --- did you mean --- */

/* Optimal string alignment distance, capped: only short words are compared. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[40][40];

	if (la >= 40 || lb >= 40)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *config_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	size_t i, best = (size_t)-1, len = strlen(word), limit;
	const char *pick = NULL;

	limit = len < 4 ? 1 : len < 8 ? 2 : 3;
	for (i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);
		/* A word that starts a candidate (--dry for --dry-run) is close too. */
		if (len >= 3 && !strncmp(candidates[i], word, len))
			d = 1;
		if (d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	return best <= limit ? pick : NULL;
}

/* --- JSON Schema --- */

static json_t *schema_of(const struct setting *s)
{
	json_t *o = json_object();
	size_t i;

	json_object_set_new(o, "description", json_string(s->help));
	switch (s->type) {
	case SETTING_BOOL:
	case SETTING_NEG:
		json_object_set_new(o, "type", json_string("boolean"));
		break;
	case SETTING_INT:
		json_object_set_new(o, "type", json_string("integer"));
		json_object_set_new(o, "minimum", json_integer(s->min));
		json_object_set_new(o, "maximum", json_integer(s->max));
		break;
	case SETTING_STR:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "minLength", json_integer(1));
		break;
	case SETTING_STR_NULL: {
		json_t *t = json_array();
		json_array_append_new(t, json_string("string"));
		json_array_append_new(t, json_string("null"));
		json_object_set_new(o, "type", t);
		break;
	}
	case SETTING_LIST: {
		json_t *items = json_object();
		json_object_set_new(items, "type", json_string("string"));
		json_object_set_new(items, "minLength", json_integer(1));
		json_object_set_new(o, "type", json_string("array"));
		json_object_set_new(o, "items", items);
		break;
	}
	case SETTING_ENUM: {
		json_t *e = json_array();
		for (i = 0; s->names[i]; i++)
			json_array_append_new(e, json_string(s->names[i]));
		json_object_set_new(o, "enum", e);
		break;
	}
	case SETTING_SECTION:
		json_object_set_new(o, "type", json_string("object"));
		json_object_set_new(o, "additionalProperties", json_false());
		json_object_set_new(o, "properties", json_object());
		break;
	default:
		break;
	}
	return o;
}

char *config_schema_json(void)
{
	json_t *root = json_object(), *props = json_object();
	size_t i;
	int pass;
	char *text;

	json_object_set_new(root, "$schema",
	                    json_string("https://json-schema.org/draft/2020-12/schema"));
	json_object_set_new(root, "title", json_string("dockerbump configuration"));
	json_object_set_new(root, "type", json_string("object"));
	json_object_set_new(root, "additionalProperties", json_false());
	/* Two passes: sections first, then the keys inside them (the table is in --help order). */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
			const struct setting *s = &settings[i];
			const char *dot;
			json_t *where;
			char *sec;

			if (!s->key || s->type == SETTING_REMOVED || s->type == SETTING_SPECIAL)
				continue;
			dot = strchr(s->key, '.');
			if (!dot) {
				if (pass == 0 && !json_object_get(props, s->key))
					json_object_set_new(props, s->key, schema_of(s));
				continue;
			}
			if (pass == 0)
				continue;
			sec = xstrndup(s->key, (size_t)(dot - s->key));
			where = json_object_get(json_object_get(props, sec), "properties");
			free(sec);
			if (where && !json_object_get(where, dot + 1))
				json_object_set_new(where, dot + 1, schema_of(s));
		}
	json_object_set_new(root, "properties", props);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

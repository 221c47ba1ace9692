/*
 * `dockerbump tags IMAGE`: an image's tags, newest build first, and the tag each strategy
 * would pick.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/cli.h"
#include "updater/config.h"
#include "updater/registry.h"
#include "updater/tagver.h"
#include "common/banned.h"

#define TEXT_LIMIT 25

static const char help[] =
    "usage: dockerbump tags IMAGE[:CURRENT] [options]\n"
    "\n"
    "Lists the tags of IMAGE (e.g. demisto/python3), newest build first (build numbers compared\n"
    "as numbers), non-numeric tags after them, and the tag each strategy would pick.\n"
    "\n"
    "options:\n"
    "  --registry-url URL     the registry (default: config registry.url, https://hub.docker.com)\n"
    "  --registry-api hub|v2  Docker Hub web API or OCI distribution API (default: hub)\n"
    "  --strategy S           the strategy to mark: latest-build, same-minor, same-major\n"
    "  --current TAG          pick relative to TAG (also IMAGE:TAG); without it, same-minor and\n"
    "                         same-major pick relative to the newest build's X.Y and X\n"
    "  --limit N              show at most N tags (default: 25 as a table, all with --json;\n"
    "                         0: all)\n"
    "  --digest               also show the digest of each pick (a manifest HEAD on v2)\n"
    "  --no-cache             neither read nor write the tag cache\n"
    "  --json                 print only JSON: {\"image\", \"registry\", \"tags\": [{\"name\",\n"
    "                         \"build\", \"last_updated\"}...], \"picks\": {...}} (with --digest,\n"
    "                         also \"digests\": {tag: digest})\n"
    "  -h, --help             this help\n"
    "\n"
    "Picks honour min_age_days, unknown_age and deny_tags from the config file (-c FILE, else\n"
    "DIR/.dockerbump.yml). Credentials: DOCKERBUMP_REGISTRY_USER, DOCKERBUMP_REGISTRY_PASSWORD.\n"
    "Tags are cached under $XDG_CACHE_HOME/dockerbump for cache.ttl_s seconds.\n"
    "\n"
    "examples:\n"
    "  dockerbump tags demisto/python3\n"
    "  dockerbump tags demisto/python3:3.10.13.83255 --strategy same-minor\n"
    "  dockerbump tags --registry-api v2 --registry-url http://127.0.0.1:5000 demisto/python3 "
    "--json\n";

struct tags_opts {
	const char *image_arg;
	const char *url, *api, *strategy, *current;
	long limit; /* -1: default */
	int no_cache, json, digest;
};

/* Returns 1 when `argv[*i]` is `name` (taking the next word) or `name=...`. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **out,
                      struct db_err *err, int *ret)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n])
		return 0;
	if (*i + 1 >= argc) {
		*ret = cli_usage_error(err, "tags", "%s needs a value", name);
		return 1;
	}
	*out = argv[++*i];
	return 1;
}

static int parse_args(struct tags_opts *o, int argc, char **argv, int *help_shown,
                      struct db_err *err)
{
	const char *limit = NULL;
	int i, ret = 0;

	o->limit = -1;
	for (i = 1; i < argc && !ret; i++) {
		const char *a = argv[i];
		if (take_value(argc, argv, &i, "--registry-url", &o->url, err, &ret) ||
		    take_value(argc, argv, &i, "--registry-api", &o->api, err, &ret) ||
		    take_value(argc, argv, &i, "--strategy", &o->strategy, err, &ret) ||
		    take_value(argc, argv, &i, "--current", &o->current, err, &ret) ||
		    take_value(argc, argv, &i, "--limit", &limit, err, &ret))
			continue;
		if (!strcmp(a, "--no-cache"))
			o->no_cache = 1;
		else if (!strcmp(a, "--json"))
			o->json = 1;
		else if (!strcmp(a, "--digest"))
			o->digest = 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_print_help(help);
			*help_shown = 1;
			return 0;
		} else if (!strcmp(a, "--version")) {
			cli_print_version();
			*help_shown = 1;
			return 0;
		} else if (a[0] == '-' && a[1])
			ret = cli_usage_error(err, "tags", "unknown option '%s'", a);
		else if (o->image_arg)
			ret = cli_usage_error(err, "tags", "one IMAGE only ('%s' is extra)", a);
		else
			o->image_arg = a;
	}
	if (ret)
		return ret;
	if (!o->image_arg)
		return cli_usage_error(err, "tags", "IMAGE is missing");
	if (limit && parse_long(&o->limit, limit, 0, 1000000000L))
		return cli_usage_error(err, "tags", "--limit takes a number >= 0, not '%s'", limit);
	return 0;
}

static int load_config(struct config *cfg, const struct cli_global *g, const struct tags_opts *o,
                       struct db_err *err)
{
	char *path = NULL;
	enum strategy s;
	int ret = 0;

	if (g->config_file)
		ret = config_load_file(cfg, g->config_file, err);
	else {
		path = xasprintf("%s/.dockerbump.yml", g->dir ? g->dir : ".");
		if (file_exists(path))
			ret = config_load_file(cfg, path, err);
		free(path);
	}
	if (ret < 0)
		return ret;
	if (o->url)
		config_set_str(&cfg->registry.url, o->url);
	if (o->api) {
		if (!strcmp(o->api, "hub"))
			cfg->registry.api = REGISTRY_HUB;
		else if (!strcmp(o->api, "v2"))
			cfg->registry.api = REGISTRY_V2;
		else
			return cli_usage_error(err, "tags",
			                       "--registry-api takes hub or v2, not '%s'", o->api);
	}
	if (o->strategy) {
		if (strategy_parse(&s, o->strategy) < 0)
			return cli_usage_error(err, "tags",
			                       "--strategy takes latest-build, same-minor or "
			                       "same-major, not '%s'",
			                       o->strategy);
		cfg->strategy = s;
	}
	return 0;
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void print_json(const struct taglist *tags, const char *image, const char *registry,
                       const struct tag_entry *const *picks, char *const *digests, long limit)
{
	json_t *root = json_object(), *arr = json_array(), *p = json_object(), *d = NULL;
	size_t i, n = limit > 0 && (size_t)limit < tags->nr ? (size_t)limit : tags->nr;
	char *text;
	int s;

	json_object_set_new(root, "image", json_string(image));
	json_object_set_new(root, "registry", json_string(registry));
	for (i = 0; i < n; i++) {
		const struct tag_entry *t = &tags->v[i];
		json_t *o = json_object();
		char when[40];

		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "build",
		                    t->candidate ? json_integer((json_int_t)tagver_build(&t->ver))
		                                 : json_null());
		if (t->has_time)
			tagtime_format(when, sizeof(when), &t->updated);
		json_object_set_new(o, "last_updated", json_str_or_null(t->has_time ? when : NULL));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "tags", arr);
	for (s = 0; s < 3; s++)
		json_object_set_new(p, strategy_name((enum strategy)s),
		                    json_str_or_null(picks[s] ? picks[s]->name : NULL));
	json_object_set_new(root, "picks", p);
	if (digests) {
		d = json_object();
		for (s = 0; s < 3; s++)
			if (picks[s] && digests[s])
				json_object_set_new(d, picks[s]->name, json_string(digests[s]));
		json_object_set_new(root, "digests", d);
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text)
		puts(text);
	free(text);
	json_decref(root);
}

static void print_text(const struct taglist *tags, const char *image, const char *registry,
                       const char *api, const struct tag_entry *const *picks, char *const *digests,
                       enum strategy chosen, const char *relative, int explicit_current, long limit)
{
	size_t cand = taglist_count_candidates(tags), i;
	size_t n = limit > 0 && (size_t)limit < tags->nr ? (size_t)limit : tags->nr;
	int s;

	printf("%s at %s (%s): %zu tags, %zu candidates, %zu other%s\n", image, registry, api,
	       tags->nr, cand, tags->nr - cand, tags->from_cache ? " (cached)" : "");
	printf("%-24s %-12s %s\n", "TAG", "BUILD", "LAST UPDATED");
	for (i = 0; i < n; i++) {
		const struct tag_entry *t = &tags->v[i];
		char build[24] = "-", when[40] = "-";

		if (t->candidate)
			snprintf(build, sizeof(build), "%llu",
			         (unsigned long long)tagver_build(&t->ver));
		if (t->has_time)
			tagtime_format(when, sizeof(when), &t->updated);
		printf("%-24s %-12s %s\n", t->name, build, when);
	}
	if (n < tags->nr)
		printf("... %zu more (--limit 0 shows all)\n", tags->nr - n);
	if (relative)
		printf("\npicks (relative to %s%s):\n", explicit_current ? "" : "the newest build ",
		       relative);
	else
		printf("\npicks:\n");
	for (s = 0; s < 3; s++) {
		printf("%c %-13s %s", s == (int)chosen ? '*' : ' ', strategy_name((enum strategy)s),
		       picks[s] ? picks[s]->name : "(none)");
		if (digests && digests[s])
			printf("  %s", digests[s]);
		if (picks[s] && explicit_current && !tagver_is_upgrade(relative, picks[s]->name))
			printf("  (not newer: %s stays)", relative);
		putchar('\n');
	}
}

int cmd_tags(const struct cli_global *g, int argc, char **argv, struct db_err *err)
{
	struct tags_opts o = {0};
	struct config cfg;
	struct registry_client *rc = NULL;
	struct taglist *tags = NULL;
	struct registry_stats st;
	const struct tag_entry *picks[3] = {NULL, NULL, NULL};
	char *digests[3] = {NULL, NULL, NULL};
	char *image = NULL;
	const char *colon, *current;
	int help_shown = 0, ret, s;

	config_init(&cfg);
	ret = parse_args(&o, argc, argv, &help_shown, err);
	if (ret < 0 || help_shown)
		goto out;
	ret = load_config(&cfg, g, &o, err);
	if (ret < 0)
		goto out;

	colon = strrchr(o.image_arg, ':');
	if (colon && !strchr(colon, '/')) {
		image = xstrndup(o.image_arg, (size_t)(colon - o.image_arg));
		if (!o.current)
			o.current = colon + 1;
	} else {
		image = xstrdup(o.image_arg);
	}
	if (!registry_image_name_valid(image)) {
		ret = cli_usage_error(err, "tags", "'%s' is not a valid image name", image);
		goto out;
	}
	if (o.current && !tag_name_valid(o.current, strlen(o.current))) {
		ret = cli_usage_error(err, "tags", "'%s' is not a valid tag", o.current);
		goto out;
	}

	ret = registry_client_new(&rc, &cfg, &(struct registry_client_opts){.no_cache = o.no_cache},
	                          err);
	if (ret < 0)
		goto out;
	ret = registry_list_tags(rc, image, &tags, err);
	if (ret < 0)
		goto out;
	taglist_sort(tags);

	/* Without a current tag, same-minor and same-major stay on the newest build's line. */
	current = o.current;
	if (!current && tags->nr && tags->v[0].candidate)
		current = tags->v[0].name;
	for (s = 0; s < 3; s++) {
		struct tagver_policy p = {(enum strategy)s, cfg.min_age_days, cfg.unknown_age_deny,
		                          &cfg.deny_tags, 0};
		picks[s] = tagver_pick(tags, image, current, &p);
		if (o.digest && picks[s]) {
			ret = registry_tag_digest(rc, image, picks[s]->name, &digests[s], err);
			if (ret < 0)
				goto out;
		}
	}
	if (o.json)
		print_json(tags, image, registry_url(rc), picks, o.digest ? digests : NULL,
		           o.limit < 0 ? 0 : o.limit);
	else
		print_text(tags, image, registry_url(rc),
		           cfg.registry.api == REGISTRY_V2 ? "v2" : "hub", picks,
		           o.digest ? digests : NULL, cfg.strategy, current, o.current != NULL,
		           o.limit < 0 ? TEXT_LIMIT : o.limit);
	registry_client_stats(rc, &st);
	log_debug("'%s': %lu requests in %.3f s, %lu pages, %lu answered from the cache", image,
	          st.requests, st.seconds, st.pages, st.cache_hits);
	ret = 0;
out:
	for (s = 0; s < 3; s++)
		free(digests[s]);
	taglist_free(tags);
	registry_client_free(rc);
	free(image);
	config_release(&cfg);
	return ret;
}

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
#include "common/log.h"
#include "updater/cli.h"
#include "updater/config.h"
#include "updater/registry.h"
#include "updater/tagver.h"
#include "common/banned.h"

#define TEXT_LIMIT 25

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

int cmd_tags(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	struct registry_client *rc = NULL;
	struct taglist *tags = NULL;
	struct registry_stats st;
	const struct tag_entry *picks[3] = {NULL, NULL, NULL};
	char *digests[3] = {NULL, NULL, NULL};
	char *image = NULL;
	const char *colon, *current = cfg->cli.current, *arg;
	int ret, s;

	if (args->nr_words != 1)
		return cli_usage_error(err, "tags",
		                       args->nr_words ? "one IMAGE only ('%s' is extra)"
		                                      : "IMAGE is missing%s",
		                       args->nr_words ? args->words[1] : "");
	arg = args->words[0];
	colon = strrchr(arg, ':');
	if (colon && !strchr(colon, '/')) {
		image = xstrndup(arg, (size_t)(colon - arg));
		if (!current)
			current = colon + 1;
	} else {
		image = xstrdup(arg);
	}
	if (!image_name_valid(image)) {
		ret = cli_usage_error(err, "tags", "'%s' is not a valid image name", image);
		goto out;
	}
	if (current && !tag_name_valid(current, strlen(current))) {
		ret = cli_usage_error(err, "tags", "'%s' is not a valid tag", current);
		goto out;
	}

	ret = registry_client_new(
	    &rc, cfg, &(struct registry_client_opts){.no_cache = cfg->cli.no_cache}, err);
	if (ret < 0)
		goto out;
	ret = registry_list_tags(rc, image, &tags, err);
	if (ret < 0)
		goto out;
	taglist_sort(tags);

	/* Without a current tag, same-minor and same-major stay on the newest build's line. */
	{
		const char *relative = current;
		if (!relative && tags->nr && tags->v[0].candidate)
			relative = tags->v[0].name;
		for (s = 0; s < 3; s++) {
			struct tagver_policy p = {(enum strategy)s, cfg->min_age_days,
			                          cfg->unknown_age_deny, &cfg->deny_tags, 0};
			picks[s] = tagver_pick(tags, image, relative, &p);
			if (cfg->cli.digest && picks[s]) {
				ret = registry_tag_digest(rc, image, picks[s]->name, &digests[s],
				                          err);
				if (ret < 0)
					goto out;
			}
		}
		if (cfg->cli.json)
			print_json(tags, image, registry_url(rc), picks,
			           cfg->cli.digest ? digests : NULL,
			           cfg->cli.limit < 0 ? 0 : cfg->cli.limit);
		else
			print_text(tags, image, registry_url(rc),
			           cfg->registry.api == REGISTRY_V2 ? "v2" : "hub", picks,
			           cfg->cli.digest ? digests : NULL, cfg->strategy, relative,
			           current != NULL,
			           cfg->cli.limit < 0 ? TEXT_LIMIT : cfg->cli.limit);
	}
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
	return ret;
}

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
#include "updater/report.h"
#include "updater/tagver.h"
#include "common/banned.h"

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
		struct report_tags rt = {tags,
		                         image,
		                         registry_url(rc),
		                         cfg->registry.api == REGISTRY_V2 ? "v2" : "hub",
		                         {picks[0], picks[1], picks[2]},
		                         {digests[0], digests[1], digests[2]},
		                         cfg->cli.digest,
		                         cfg->strategy,
		                         relative,
		                         current != NULL,
		                         cfg->cli.limit};
		if (cfg->cli.json)
			report_print_tags_json(stdout, &rt);
		else
			report_print_tags_text(stdout, &rt);
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

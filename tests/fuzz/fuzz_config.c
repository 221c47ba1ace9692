/*
 * The config loader on any bytes, as the repository's own file (untrusted) and as the
 * operator's: it never crashes or leaks, and whatever it accepts is within the table's
 * ranges. The repository's file never sets a key the table reserves for the operator.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "updater/config.h"
#include "updater/gitrepo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const struct config *cfg)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);

	for (i = 0; i < nr; i++) {
		const void *f = (const char *)cfg + t[i].offset;
		long v;
		if (!t[i].key || t[i].type != SETTING_INT)
			continue;
		v = t[i].size == sizeof(long) ? *(const long *)f : *(const int *)f;
		if (v < t[i].min || v > t[i].max)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct config cfg, dflt;
	struct config_problems pr = CONFIG_PROBLEMS_INIT;

	if (!init) {
		gitrepo_global_init();
		init = 1;
	}
	config_init(&dflt);
	config_init(&cfg);
	config_load_buffer(&cfg, "fuzz.yml", (const char *)data, size, CONFIG_FROM_REPO, &pr);
	check_ranges(&cfg);
	/* The operator's keys keep their defaults whatever the repository's file says. */
	if (strcmp(cfg.verify.runtime, dflt.verify.runtime) ||
	    strcmp(cfg.registry.url, dflt.registry.url) ||
	    strcmp(cfg.git.remote, dflt.git.remote) || cfg.pull_request.api_url ||
	    cfg.pull_request.token_env)
		abort();
	config_problems_release(&pr);
	config_release(&cfg);

	config_init(&cfg);
	config_load_buffer(&cfg, "fuzz.yml", (const char *)data, size, CONFIG_FROM_OPERATOR, &pr);
	check_ranges(&cfg);
	config_validate(&cfg, CMD_RUN, &pr);
	config_problems_release(&pr);
	config_release(&cfg);
	config_release(&dflt);
	return 0;
}

#include "updater/group.h"

#include <stdio.h>
#include <string.h>

#include "common/strnum.h"
#include "common/banned.h"

unsigned long group_hash(const char *name)
{
	unsigned long h = 2166136261u;
	for (; *name; name++)
		h = ((h ^ (unsigned char)*name) * 16777619u) & 0xffffffffu;
	return h;
}

void group_of(struct group_id *out, const char *pack, const struct config *cfg)
{
	int n = cfg->git.groups > 0 ? cfg->git.groups : 1;

	if (pack && strlist_has(&cfg->rollout.canary_packs, pack))
		out->k = GROUP_CANARY;
	else
		out->k = (int)(group_hash(pack ? pack : "") % (unsigned long)n);
}

void group_name(char *out, size_t n, const struct group_id *g)
{
	if (g->k == GROUP_CANARY)
		snprintf(out, n, "canary");
	else
		snprintf(out, n, "%d", g->k);
}

int group_parse(struct group_id *out, const char *s, const struct config *cfg)
{
	long k;

	if (!strcmp(s, "canary")) {
		out->k = GROUP_CANARY;
		return 0;
	}
	if ((s[0] == '0' && s[1]) || parse_long(&k, s, 0, (long)cfg->git.groups - 1) < 0)
		return -1;
	out->k = (int)k;
	return 0;
}

void group_branch(struct buf *out, const struct config *cfg, const struct group_id *g)
{
	if (g->k == GROUP_CANARY)
		buf_addf(out, "%scanary", cfg->git.branch_prefix);
	else
		buf_addf(out, "%sgroup-%d", cfg->git.branch_prefix, g->k);
}

int group_in_shard(const struct group_id *g, int k, int n)
{
	if (n <= 0)
		return 1;
	if (g->k == GROUP_CANARY)
		return k == 1;
	return g->k % n == k - 1;
}

int group_cmp(const struct group_id *a, const struct group_id *b)
{
	return (a->k > b->k) - (a->k < b->k); /* GROUP_CANARY (-1) sorts first */
}

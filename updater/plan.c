#include "updater/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

struct planned {
	const struct item *it;
	size_t idx;
};

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_planned(const void *pa, const void *pb)
{
	const struct item *a = ((const struct planned *)pa)->it,
	                  *b = ((const struct planned *)pb)->it;
	int c;

	if ((c = group_cmp(&a->group_id, &b->group_id)) || (c = cmp_str(a->pack, b->pack)))
		return c;
	return strcmp(a->path, b->path); /* unique: the order is total, qsort stays stable */
}

void plan_build(struct plan *p, struct item *items, size_t nr, const struct config *cfg)
{
	struct planned *order = xcalloc(nr ? nr : 1, sizeof(*order));
	struct plan_group *cur = NULL;
	size_t n = 0, i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < nr; i++)
		if (items[i].status == STATUS_BUMPED && items[i].image && items[i].target)
			order[n++] = (struct planned){&items[i], i};
	qsort(order, n, sizeof(*order), cmp_planned);
	for (i = 0; i < n; i++) {
		const struct item *it = order[i].it;
		if (!cur || cur->id.k != it->group_id.k) {
			struct buf b = BUF_INIT;
			ALLOC_GROW(p->groups, p->nr + 1, p->alloc);
			cur = &p->groups[p->nr++];
			memset(cur, 0, sizeof(*cur));
			cur->id = it->group_id;
			group_name(cur->name, sizeof(cur->name), &cur->id);
			group_branch(&b, cfg, &cur->id);
			cur->branch = buf_detach(&b, NULL);
		}
		ALLOC_GROW(cur->items, cur->nr + 1, cur->alloc);
		cur->items[cur->nr++] = order[i].idx;
	}
	for (i = 0; i < p->nr; i++)
		for (n = 0; n < p->groups[i].nr; n++)
			items[p->groups[i].items[n]].branch = p->groups[i].branch;
	free(order);
}

struct plan_group *plan_find(struct plan *p, const char *name)
{
	size_t i;
	for (i = 0; i < p->nr; i++)
		if (!strcmp(p->groups[i].name, name))
			return &p->groups[i];
	return NULL;
}

void plan_group_drop(struct plan_group *g, size_t idx)
{
	size_t i;
	for (i = 0; i < g->nr; i++)
		if (g->items[i] == idx) {
			memmove(&g->items[i], &g->items[i + 1],
			        (g->nr - i - 1) * sizeof(g->items[0]));
			g->nr--;
			return;
		}
}

void plan_release(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++) {
		free(p->groups[i].branch);
		free(p->groups[i].items);
	}
	free(p->groups);
	memset(p, 0, sizeof(*p));
}

#include "updater/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

struct planned {
	const struct item *it;
	size_t idx;
};

static int cmp_planned(const void *pa, const void *pb)
{
	const struct item *a = ((const struct planned *)pa)->it,
	                  *b = ((const struct planned *)pb)->it;
	int c;

	if ((c = cmp_str(a->image, b->image)) || (c = cmp_str(a->target, b->target)) ||
	    (c = cmp_str(a->pack, b->pack)))
		return c;
	return strcmp(a->path, b->path);
}

static char *branch_name(const struct config *cfg, const char *image, int n)
{
	struct buf b = BUF_INIT;
	const char *p;

	buf_adds(&b, cfg->git.branch_prefix);
	for (p = image; *p; p++)
		buf_addch(&b, *p == '/' ? '-' : *p);
	buf_addf(&b, "-batch-%d", n);
	return buf_detach(&b, NULL);
}

static struct batch *new_batch(struct plan *p, const struct config *cfg, const struct item *it,
                               int number)
{
	struct batch *b;
	ALLOC_GROW(p->batches, p->nr + 1, p->alloc);
	b = &p->batches[p->nr++];
	memset(b, 0, sizeof(*b));
	b->image = xstrdup(it->image);
	b->target = xstrdup(it->target);
	b->number = number;
	b->branch = branch_name(cfg, it->image, number);
	return b;
}

void plan_build(struct plan *p, struct item *items, size_t nr, const struct config *cfg)
{
	struct planned *order = xcalloc(nr ? nr : 1, sizeof(*order));
	size_t n = 0, i, j;
	size_t batch_size = cfg->git.batch_size > 0 ? (size_t)cfg->git.batch_size : 10;
	struct batch *cur = NULL;
	int number = 0;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < nr; i++)
		if (items[i].status == STATUS_BUMPED && items[i].image && items[i].target)
			order[n++] = (struct planned){&items[i], i};
	/* qsort is not stable, but the comparison ends on the path, which is unique. */
	qsort(order, n, sizeof(*order), cmp_planned);

	for (i = 0; i < n; i = j) {
		const struct item *it = order[i].it;
		size_t pack_len;

		/* The run of items of the same image, target and pack starting at i. */
		for (j = i + 1; j < n; j++) {
			const struct item *o = order[j].it;
			if (cmp_str(o->image, it->image) || cmp_str(o->target, it->target) ||
			    cmp_str(o->pack, it->pack))
				break;
		}
		pack_len = j - i;
		if (cur && cmp_str(cur->image, it->image))
			number = 0; /* a new image starts its numbering again */
		if (!cur || cmp_str(cur->image, it->image) || cmp_str(cur->target, it->target) ||
		    (cur->nr && cur->nr + pack_len > batch_size))
			cur = new_batch(p, cfg, it, ++number);
		for (size_t k = i; k < j; k++) {
			ALLOC_GROW(cur->items, cur->nr + 1, cur->alloc);
			cur->items[cur->nr++] = order[k].idx;
		}
	}
	for (i = 0; i < p->nr; i++)
		for (j = 0; j < p->batches[i].nr; j++)
			items[p->batches[i].items[j]].branch = p->batches[i].branch;
	free(order);
}

void batch_drop_item(struct batch *b, size_t idx)
{
	size_t i;
	for (i = 0; i < b->nr; i++)
		if (b->items[i] == idx) {
			memmove(&b->items[i], &b->items[i + 1],
			        (b->nr - i - 1) * sizeof(b->items[0]));
			b->nr--;
			return;
		}
}

void plan_release(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++) {
		free(p->batches[i].image);
		free(p->batches[i].target);
		free(p->batches[i].branch);
		free(p->batches[i].items);
	}
	free(p->batches);
	memset(p, 0, sizeof(*p));
}

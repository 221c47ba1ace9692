#include "common/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
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

void strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t i;

	strlist_clear(dst);
	for (i = 0; i < src->nr; i++)
		strlist_push(dst, src->v[i]);
}

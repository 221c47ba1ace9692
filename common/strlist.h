/*
 * A growable list of owned strings: config lists (images, globs, labels), repeatable flags,
 * and every other place that keeps a handful of names.
 *
 *	struct strlist l = STRLIST_INIT;
 *	strlist_push(&l, "demisto/python3");
 *	if (strlist_has(&l, name)) ...
 *	strlist_clear(&l);
 *
 * strlist_has() is linear: these lists are short (a few images, globs or labels). Code that
 * looks up thousands of names sorts them or hashes them instead.
 */
#ifndef DOCKERBUMP_COMMON_STRLIST_H
#define DOCKERBUMP_COMMON_STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;
	size_t nr, alloc;
};

#define STRLIST_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends a copy of `s`. */
void strlist_push(struct strlist *l, const char *s);
/* Frees every string and the array; the list is empty and reusable afterwards. */
void strlist_clear(struct strlist *l);
int strlist_has(const struct strlist *l, const char *s);
/* Replaces `dst` with a copy of `src`. */
void strlist_copy(struct strlist *dst, const struct strlist *src);

#endif

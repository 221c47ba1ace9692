/*
 * Allocation that never returns NULL.
 *
 * Running out of memory is not an error this program can recover from in any useful way, so
 * every allocation goes through these wrappers, which abort with a message instead of
 * returning NULL. Size caps on untrusted input (HTTP bodies, files) are real errors and are
 * checked by the callers before they allocate.
 */
#ifndef DOCKERBUMP_COMMON_ALLOC_H
#define DOCKERBUMP_COMMON_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray checks nmemb * size for overflow before it reallocates. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A printf into a fresh heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows an array of `alloc` elements so that it holds at least `nr` (git's ALLOC_GROW). */
#define ALLOC_GROW(array, nr, alloc)                                                               \
	do {                                                                                       \
		if ((size_t)(nr) > (size_t)(alloc)) {                                              \
			size_t alloc_grow_n_ = ((size_t)(alloc) + 16) * 3 / 2;                     \
			if (alloc_grow_n_ < (size_t)(nr))                                          \
				alloc_grow_n_ = (size_t)(nr);                                      \
			(array) = xreallocarray((array), alloc_grow_n_, sizeof(*(array)));         \
			(alloc) = alloc_grow_n_;                                                   \
		}                                                                                  \
	} while (0)

#endif

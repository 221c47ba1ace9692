/*
 * The on-disk tag cache: one JSON file per (registry URL, api, image) under
 * `<cache dir>/tags/`, written atomically (temporary file + rename).
 *
 *	char *path = tagcache_path(dir, url, "hub", image);
 *	struct tagcache_entry e = TAGCACHE_ENTRY_INIT;
 *	if (tagcache_load(&e, path, url, "hub", image) == 0) use(e.tags, e.fetched_at);
 *	...
 *	tagcache_store(path, &e, url, "hub", image, &err);
 *	tagcache_entry_release(&e);
 *
 * The file names its registry, api, image and format version; a file that does not match
 * them, is not valid JSON, holds an invalid tag name or time, or claims a fetch time in the
 * future is refused with a warning naming the file. The file name is a 64-bit FNV-1a hash of
 * the three keys: only a lookup key, since the content itself is checked.
 */
#ifndef DOCKERBUMP_UPDATER_TAGCACHE_H
#define DOCKERBUMP_UPDATER_TAGCACHE_H

#include <time.h>

#include "common/err.h"
#include "updater/tagver.h"

#define TAGCACHE_VERSION  1
#define TAGCACHE_MAX_SIZE (64u << 20)

struct tagcache_entry {
	struct taglist *tags; /* owned */
	char *etag;           /* the first page's validators, or NULL */
	char *last_modified;
	time_t fetched_at; /* the last time the registry was asked */
	time_t full_at;    /* the last complete listing */
};

#define TAGCACHE_ENTRY_INIT                                                                        \
	{                                                                                          \
		NULL, NULL, NULL, 0, 0                                                             \
	}

/* The file for these keys; the caller frees it. */
char *tagcache_path(const char *dir, const char *registry, const char *api, const char *image);
/* 0: `out` filled; 1: no file (silent); -1: the file is unusable (a warning was logged). */
int tagcache_load(struct tagcache_entry *out, const char *path, const char *registry,
                  const char *api, const char *image);
/* Creates the directory when needed and replaces the file atomically. */
int tagcache_store(const char *path, const struct tagcache_entry *e, const char *registry,
                   const char *api, const char *image, struct db_err *err);
void tagcache_entry_release(struct tagcache_entry *e);

#endif

/*
 * The scan cache: what the locator found in an item YAML, keyed by the blob id.
 *
 * A blob id names exact bytes, so a hit is exactly what parsing the blob again would give, as
 * long as the locator and libyaml behave as they did when the entry was written: the file's
 * first line names both (yaml_locator_version()), and a file written by another version is
 * ignored. The facts stored are the config-independent ones (classification runs on every
 * scan). The file is text, one record per line, loaded with a few string operations rather
 * than a JSON parser: a warm scan of a 5,000-item repository reads it in milliseconds.
 *
 * The file is untrusted (a CI cache is restored from elsewhere): it is read in one linear pass,
 * every field is checked, and the last line counts the records and carries a checksum of them,
 * so a truncated, damaged or hand-edited file is ignored as a whole, with a warning; its facts
 * are never used. What a cache entry says is only ever used to classify an item: the rewrite
 * reads the blob again and checks the value it changes (rewrite.h).
 *
 * Costs: loading sorts the records once; lookups are binary searches in them; puts append,
 * and the entries put are sorted once, when the cache is saved. A cold scan costs one sort.
 *
 *	struct scancache *c = scancache_load(path);	// empty when absent or unusable
 *	if (scancache_get(c, &oid, &loc)) ... hit
 *	scancache_put(c, &oid, &loc);
 *	scancache_save(c, path, keep, nkeep);		// only the ids still in use
 *	scancache_free(c);
 */
#ifndef DOCKERBUMP_UPDATER_SCANCACHE_H
#define DOCKERBUMP_UPDATER_SCANCACHE_H

#include <stddef.h>

#include <git2.h>

#include "updater/config.h"

/* The facts the locator found in one item YAML. Strings are NULL when absent. */
struct located {
	int refused;
	char *reason;
	int integration;
	char *image; /* the dockerimage at the place this kind keeps it */
	char *flag;  /* autoUpdateDockerImage at the top level, as text */
	int flag_quoted;
	char *flag_script; /* ... under script: */
	int flag_script_quoted;
	char *d45;
	struct strlist alt;
	char *fromversion;
	char *deprecated;
	char *name, *display, *type;
};

void located_release(struct located *l);
void located_copy(struct located *dst, const struct located *src);

struct scancache;

/* Never fails: a missing file gives an empty cache; a corrupt or foreign one, a warning too. */
struct scancache *scancache_load(const char *path);
/* The same from bytes in memory; `name` is what warnings call them. */
struct scancache *scancache_parse(const char *data, size_t len, const char *name);
/* The number of entries (loaded and put). */
size_t scancache_size(const struct scancache *c);
/* Fills `out` (a copy) and returns 1 when the file loaded has `id`; 0 otherwise. */
int scancache_get(struct scancache *c, const git_oid *id, struct located *out);
/* Adds an entry for an id that scancache_get() did not find; save writes it. */
void scancache_put(struct scancache *c, const git_oid *id, const struct located *l);
/* Writes the entries whose ids are in `keep` (each once, atomically); a failure is a warning. */
void scancache_save(struct scancache *c, const char *path, const git_oid *keep, size_t nkeep);
void scancache_free(struct scancache *c);

#endif

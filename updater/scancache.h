/*
 * The scan cache: what the locator found in an item YAML, keyed by the blob id.
 *
 * A blob id names exact bytes, so a hit is exactly what parsing the blob again would give; the
 * facts stored are the config-independent ones (classification runs on every scan). The file
 * is text, one record per line, loaded with a few string operations rather than a JSON parser:
 * a warm scan of a 5,000-item repository reads it in milliseconds.
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
/* Fills `out` (a copy) and returns 1 on a hit; 0 otherwise. */
int scancache_get(struct scancache *c, const git_oid *id, struct located *out);
void scancache_put(struct scancache *c, const git_oid *id, const struct located *l);
/* Writes the entries whose ids are in `keep` (atomically); a failure is only a warning. */
void scancache_save(struct scancache *c, const char *path, const git_oid *keep, size_t nkeep);
void scancache_free(struct scancache *c);

#endif

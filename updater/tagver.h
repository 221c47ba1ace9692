/*
 * Tag versions: which tags are candidates, how they order, and which one a strategy picks.
 *
 * A candidate tag is all-numeric and dot-separated with at least two components,
 * `<base version>.<build>`: `3.11.10.113941` is base 3.11.10, build 113941. Anything else
 * (`latest`, a git SHA, `1.3-alpine`, `1.0.0-rc1`, `3..1`) is never a target. Components are
 * compared as numbers, never as text: build numbers grew from 5-6 to 7-8 digits.
 *
 * Tag names come from the network, so tag_name_valid() (the OCI rule: [A-Za-z0-9_.-], the
 * first character alphanumeric or '_', at most 128 bytes) is checked before a name is stored,
 * printed, written into YAML, used in a branch name or passed to a container engine.
 *
 *	struct taglist *tags = taglist_new();
 *	taglist_add(tags, "3.11.10.113941", &when, NULL);
 *	const struct tag_entry *t = tagver_pick(tags, "demisto/python3", "3.10.13.83255",
 *	                                        &(struct tagver_policy){...});
 *	if (t && tagver_is_upgrade("3.10.13.83255", t->name)) bump(t->name);
 *	taglist_free(tags);
 */
#ifndef DOCKERBUMP_UPDATER_TAGVER_H
#define DOCKERBUMP_UPDATER_TAGVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "updater/config.h"
#include "updater/imageref.h"

#define TAGVER_MAX_LEN 16 /* components; more is not a candidate */

struct tagver {
	int nr; /* components, >= 2 for a candidate */
	uint64_t part[TAGVER_MAX_LEN];
};

/* 0 and `*out` filled when `tag` is a candidate; -1 otherwise. */
int tagver_parse(struct tagver *out, const char *tag);
/* Component by component, numerically; a shorter version that is a prefix sorts first. */
int tagver_cmp(const struct tagver *a, const struct tagver *b);
static inline uint64_t tagver_build(const struct tagver *v)
{
	return v->part[v->nr - 1];
}

struct tag_entry {
	char *name;    /* valid (tag_name_valid) */
	int candidate; /* `ver` is set */
	struct tagver ver;
	int has_time; /* `updated` is set: the registry's last_updated */
	struct timespec updated;
	char *digest; /* "sha256:..." or NULL */
};

/* RFC 3339 ("2024-05-01T10:20:30.123456789Z", an offset instead of Z, up to nine fractional
 * digits) to UTC; -1 when malformed. */
int tagtime_parse(struct timespec *out, const char *s);
/* Formats as "2024-05-01T10:20:30Z", with the fraction when there is one; `out` holds 40. */
void tagtime_format(char *out, size_t n, const struct timespec *t);

/*
 * A tag list as a registry returned it, with where it came from.
 *
 * Names are unique and looked up through a hash index, so adding n tags, finding one and
 * merging two lists cost time linear in their size whatever the names are: the index hashes
 * with SipHash-2-4 under a random key per list, so a registry cannot choose names that
 * collide. `v` is read freely; only the functions below change it.
 */
struct taglist {
	struct tag_entry *v;
	size_t nr, alloc;
	char *image;       /* e.g. "demisto/python3"; may be NULL */
	char *registry;    /* the registry URL; may be NULL */
	time_t fetched_at; /* when the registry was last asked (0: unknown) */
	int from_cache;    /* 1: answered by the cache without a request */
	int sorted;        /* `v` is in taglist_sort() order (taglist_add() clears it) */

	/* the name index, private: open addressing, each slot a position in `v` plus one */
	size_t *slots;
	size_t nr_slots; /* a power of two, at least twice `nr`; 0 before the first add */
	uint64_t key[2];
};

/* The keyed hash of the name index (SipHash-2-4 of `len` bytes under the 128-bit `key`). */
uint64_t tagver_siphash(const uint64_t key[2], const void *data, size_t len);
/* A fresh random key for tagver_siphash() (from getrandom(), else from the clock). */
void tagver_random_key(uint64_t key[2]);

/* `taglist_new()` belongs to the caller; free it with taglist_free() (NULL is fine). */
struct taglist *taglist_new(void);
void taglist_free(struct taglist *l);
/* Adds a copy of `name` (which must be valid: else nothing happens and NULL is returned),
 * parsing it; `updated` and `digest` may be NULL. A name already present is replaced in
 * place. Returns the entry, valid until the next add or sort. */
struct tag_entry *taglist_add(struct taglist *l, const char *name, const struct timespec *updated,
                              const char *digest);
/* The entry named `name`, or NULL, in constant expected time; borrowed. */
const struct tag_entry *taglist_find(const struct taglist *l, const char *name);
/* Newest first: candidates by build, then by the whole version, then by name; non-candidates
 * last, by name. O(n log n); nothing to do when `sorted` is already set. */
void taglist_sort(struct taglist *l);
size_t taglist_count_candidates(const struct taglist *l);

struct tagver_policy {
	enum strategy strategy;
	long min_age_days;    /* 0: no age limit */
	int unknown_age_deny; /* with min_age_days > 0: tags without a time are refused */
	const struct strlist *deny_tags; /* "image:tag" entries; may be NULL */
	time_t now;                      /* 0: time(NULL) */
};

/*
 * The tag `image` should move to under `policy`, or NULL when no tag qualifies; borrowed from
 * `tags`. `current` may be NULL, `latest` or any non-candidate: then every candidate counts
 * (latest-build). Otherwise same-minor keeps the current base's first two components
 * (3.10.x.y stays on 3.10), same-major the first one; when the current base has too few
 * components the strategy widens (same-minor to same-major). Among the qualifying tags the
 * highest build wins, ties broken by the whole version; the age limit and deny list filter
 * first. The pick may be older than `current`: tagver_is_upgrade() decides.
 *
 * On a sorted list (taglist_sort()) the first qualifying tag is the pick, so picking for many
 * items costs little more than one pass: latest-build stops at the first candidate that
 * passes the filters.
 */
const struct tag_entry *tagver_pick(const struct taglist *tags, const char *image,
                                    const char *current, const struct tagver_policy *policy);

/* Never downgrade: 1 when an item on `current` should move to `target`, that is when `current`
 * is not a candidate (`latest`, a SHA) or its build number is below the target's. An item whose
 * build is already >= the target's is up to date. */
int tagver_is_upgrade(const char *current, const char *target);

#endif

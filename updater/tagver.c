#include "updater/tagver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/strnum.h"
#include "common/banned.h"

/* 18 digits keep every component far below UINT64_MAX; no real build number comes close. */
#define PART_MAX 999999999999999999ULL

int tagver_parse(struct tagver *out, const char *tag)
{
	struct tagver v = {0, {0}};
	const char *p = tag, *dot;

	if (!tag || !tag_name_valid(tag, strlen(tag)))
		return -1;
	for (;;) {
		size_t len;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (v.nr == TAGVER_MAX_LEN || parse_u64(&v.part[v.nr], p, len, PART_MAX))
			return -1;
		v.nr++;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (v.nr < 2)
		return -1;
	*out = v;
	return 0;
}

int tagver_cmp(const struct tagver *a, const struct tagver *b)
{
	int i;

	for (i = 0; i < a->nr && i < b->nr; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	return a->nr < b->nr ? -1 : a->nr > b->nr;
}

/* --- timestamps --- */

static int digits(const char **p, int n, int *out)
{
	uint64_t v;

	if (parse_u64(&v, *p, (size_t)n, 9999))
		return -1;
	*out = (int)v;
	*p += n;
	return 0;
}

static int expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -1;
	(*p)++;
	return 0;
}

int tagtime_parse(struct timespec *out, const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	long nsec = 0, scale = 100000000L;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
	    digits(&p, 2, &d) || expect(&p, "Tt ") || digits(&p, 2, &h) || expect(&p, ":") ||
	    digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n >= 9)
				return -1;
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
		if (!n)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	out->tv_sec = t - sign * (oh * 3600 + om * 60);
	out->tv_nsec = nsec;
	return 0;
}

void tagtime_format(char *out, size_t n, const struct timespec *t)
{
	struct tm tm;
	char frac[16] = "";
	time_t sec = t->tv_sec;

	gmtime_r(&sec, &tm);
	if (t->tv_nsec > 0 && t->tv_nsec < 1000000000L) {
		size_t len;
		snprintf(frac, sizeof(frac), ".%09ld", t->tv_nsec);
		len = strlen(frac);
		while (len > 2 && frac[len - 1] == '0')
			frac[--len] = '\0';
	}
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* --- tag lists --- */

/*
 * SipHash-2-4 (Aumasson and Bernstein): a keyed hash whose collisions cannot be aimed at
 * without the key. Tag names come from the network; with a plain hash a registry could send
 * names that all land in one slot and make each lookup linear again.
 */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL64(s->v2, 32);
}

static void sip_absorb(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t tagver_siphash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	struct sip s = {0x736f6d6570736575ULL ^ key[0], 0x646f72616e646f6dULL ^ key[1],
	                0x6c7967656e657261ULL ^ key[0], 0x7465646279746573ULL ^ key[1]};
	uint64_t last = (uint64_t)len << 56;
	size_t i, j, whole = len - len % 8;

	for (i = 0; i < whole; i += 8) {
		uint64_t m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		sip_absorb(&s, m);
	}
	for (j = 0; j < len % 8; j++)
		last |= (uint64_t)p[whole + j] << (8 * j);
	sip_absorb(&s, last);
	s.v2 ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void tagver_random_key(uint64_t key[2])
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(*key), GRND_NONBLOCK) != (ssize_t)(2 * sizeof(*key))) {
		/* no entropy yet (early boot): still a key no remote party can predict well */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)key;
		key[1] = (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32);
	}
}

struct taglist *taglist_new(void)
{
	struct taglist *l = xcalloc(1, sizeof(*l));

	tagver_random_key(l->key);
	return l;
}

void taglist_free(struct taglist *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++) {
		free(l->v[i].name);
		free(l->v[i].digest);
	}
	free(l->v);
	free(l->slots);
	free(l->image);
	free(l->registry);
	free(l);
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t *index_slot(const struct taglist *l, const char *name, size_t len)
{
	size_t mask = l->nr_slots - 1;
	size_t i = (size_t)tagver_siphash(l->key, name, len) & mask;

	for (;; i = (i + 1) & mask) {
		size_t *slot = &l->slots[i];
		if (!*slot || !strcmp(l->v[*slot - 1].name, name))
			return slot;
	}
}

/* Rebuilds the index for `nr_slots` slots (a power of two greater than twice `nr`). */
static void index_rebuild(struct taglist *l, size_t nr_slots)
{
	size_t i;

	free(l->slots);
	l->slots = xcalloc(nr_slots, sizeof(*l->slots));
	l->nr_slots = nr_slots;
	for (i = 0; i < l->nr; i++)
		*index_slot(l, l->v[i].name, strlen(l->v[i].name)) = i + 1;
}

const struct tag_entry *taglist_find(const struct taglist *l, const char *name)
{
	size_t *slot;

	if (!l->nr_slots)
		return NULL;
	slot = index_slot(l, name, strlen(name));
	return *slot ? &l->v[*slot - 1] : NULL;
}

struct tag_entry *taglist_add(struct taglist *l, const char *name, const struct timespec *updated,
                              const char *digest)
{
	size_t len = strlen(name), *slot;
	struct tag_entry *e;

	if (!tag_name_valid(name, len))
		return NULL;
	/* at most half full, so a probe ends soon */
	if (2 * (l->nr + 1) > l->nr_slots)
		index_rebuild(l, l->nr_slots ? 2 * l->nr_slots : 64);
	slot = index_slot(l, name, len);
	if (*slot) {
		e = &l->v[*slot - 1];
		free(e->digest);
	} else {
		ALLOC_GROW(l->v, l->nr + 1, l->alloc);
		e = &l->v[l->nr++];
		memset(e, 0, sizeof(*e));
		e->name = xstrndup(name, len);
		e->candidate = !tagver_parse(&e->ver, name);
		*slot = l->nr;
		l->sorted = 0;
	}
	e->has_time = updated != NULL;
	if (updated)
		e->updated = *updated;
	e->digest = digest ? xstrdup(digest) : NULL;
	return e;
}

/* Negative when `a` is newer, as qsort wants for a newest-first order. */
static int entry_order(const void *pa, const void *pb)
{
	const struct tag_entry *a = pa, *b = pb;
	int c;

	if (a->candidate != b->candidate)
		return a->candidate ? -1 : 1;
	if (a->candidate) {
		uint64_t ba = tagver_build(&a->ver), bb = tagver_build(&b->ver);
		if (ba != bb)
			return ba > bb ? -1 : 1;
		c = tagver_cmp(&a->ver, &b->ver);
		if (c)
			return -c;
	}
	return strcmp(a->name, b->name);
}

void taglist_sort(struct taglist *l)
{
	if (l->sorted)
		return;
	if (l->nr > 1) {
		qsort(l->v, l->nr, sizeof(*l->v), entry_order);
		index_rebuild(l, l->nr_slots); /* the positions moved */
	}
	l->sorted = 1;
}

size_t taglist_count_candidates(const struct taglist *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->nr; i++)
		n += l->v[i].candidate;
	return n;
}

/* --- picking --- */

static int denied(const struct strlist *deny, const char *image, const char *tag)
{
	size_t i, ilen = strlen(image);

	for (i = 0; deny && i < deny->nr; i++) {
		const char *d = deny->v[i];
		if (!strncmp(d, image, ilen) && d[ilen] == ':' && !strcmp(d + ilen + 1, tag))
			return 1;
	}
	return 0;
}

static int old_enough(const struct tag_entry *e, const struct tagver_policy *p, time_t now)
{
	if (p->min_age_days <= 0)
		return 1;
	if (!e->has_time)
		return !p->unknown_age_deny;
	return now - e->updated.tv_sec >= (time_t)p->min_age_days * 86400;
}

const struct tag_entry *tagver_pick(const struct taglist *tags, const char *image,
                                    const char *current, const struct tagver_policy *policy)
{
	const struct tag_entry *best = NULL;
	struct tagver cur = {0, {0}};
	time_t now = policy->now ? policy->now : time(NULL);
	int keep = 0; /* leading components that must match the current tag's */
	size_t i;

	if (current && !tagver_parse(&cur, current)) {
		int base = cur.nr - 1;
		if (policy->strategy == STRATEGY_SAME_MINOR)
			keep = base >= 2 ? 2 : 1;
		else if (policy->strategy == STRATEGY_SAME_MAJOR)
			keep = 1;
	}
	for (i = 0; i < tags->nr; i++) {
		const struct tag_entry *e = &tags->v[i];
		int k;

		if (!e->candidate)
			continue;
		if (keep && e->ver.nr - 1 < keep)
			continue;
		for (k = 0; k < keep && e->ver.part[k] == cur.part[k]; k++)
			;
		if (k < keep || denied(policy->deny_tags, image, e->name) ||
		    !old_enough(e, policy, now))
			continue;
		if (tags->sorted)
			return e; /* the first that qualifies is the newest */
		if (!best || entry_order(e, best) < 0)
			best = e;
	}
	return best;
}

int tagver_is_upgrade(const char *current, const char *target)
{
	struct tagver c, t;

	if (!target || tagver_parse(&t, target))
		return 0;
	if (!current || tagver_parse(&c, current))
		return 1;
	return tagver_build(&c) < tagver_build(&t);
}

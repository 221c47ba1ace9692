#include "updater/scancache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "updater/yamledit.h"
#include "common/banned.h"

#define MAGIC "dockerbump-scan-cache 2"
#define NFIELDS                                                                                    \
	14 /* oid, bits, reason, image, flag, flag_script, d45, fromversion, deprecated,           \
	      name, display, type, alt, end */

void located_release(struct located *l)
{
	free(l->reason);
	free(l->image);
	free(l->flag);
	free(l->flag_script);
	free(l->d45);
	strlist_clear(&l->alt);
	free(l->fromversion);
	free(l->deprecated);
	free(l->name);
	free(l->display);
	free(l->type);
	memset(l, 0, sizeof(*l));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void located_copy(struct located *dst, const struct located *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->refused = src->refused;
	dst->reason = dup_or_null(src->reason);
	dst->integration = src->integration;
	dst->image = dup_or_null(src->image);
	dst->flag = dup_or_null(src->flag);
	dst->flag_quoted = src->flag_quoted;
	dst->flag_script = dup_or_null(src->flag_script);
	dst->flag_script_quoted = src->flag_script_quoted;
	dst->d45 = dup_or_null(src->d45);
	for (i = 0; i < src->alt.nr; i++)
		strlist_push(&dst->alt, src->alt.v[i]);
	dst->fromversion = dup_or_null(src->fromversion);
	dst->deprecated = dup_or_null(src->deprecated);
	dst->name = dup_or_null(src->name);
	dst->display = dup_or_null(src->display);
	dst->type = dup_or_null(src->type);
}

struct entry {
	git_oid id;
	struct located loc;
};

/*
 * Two arrays, each sorted once: the entries loaded from the file (sorted right after loading,
 * searched by get) and those put since (appended, sorted when save first looks them up). A
 * cold scan of n items costs one sort of n entries, whatever the order of its calls.
 */
struct scancache {
	struct entry *v; /* loaded: sorted by id, no id twice */
	size_t nr, alloc;
	struct entry *added; /* put since loading */
	size_t nr_added, alloc_added;
	int added_sorted;
};

/* --- encoding: a present string is '=' + text with \\, \t, \n, \r, \x1f escaped; NULL is empty ---
 */

static void put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\x1f':
			buf_add(b, "\\u", 2);
			break;
		default:
			buf_addch(b, *s);
		}
	}
}

static void put_str(struct buf *b, const char *s)
{
	buf_addch(b, '\t');
	if (!s)
		return;
	buf_addch(b, '=');
	put_escaped(b, s);
}

/* Decodes [s, e); sets `bad` on a dangling or unknown escape, or a NUL byte. */
static char *unescape(const char *s, const char *e, int *bad)
{
	char *out, *o;

	out = o = xmalloc((size_t)(e - s) + 1);
	for (; s < e; s++) {
		if (*s == '\0')
			*bad = 1;
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		if (++s == e) {
			*bad = 1;
			break;
		}
		switch (*s) {
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'u':
			*o++ = '\x1f';
			break;
		case '\\':
			*o++ = '\\';
			break;
		default:
			*bad = 1;
		}
	}
	*o = '\0';
	return out;
}

/* Decodes field [s, e): NULL for an empty field; sets `bad` on a malformed one. */
static char *get_str(const char *s, const char *e, int *bad)
{
	if (s == e)
		return NULL;
	if (*s != '=') {
		*bad = 1;
		return NULL;
	}
	return unescape(s + 1, e, bad);
}

static int is_bit(char c)
{
	return c == '0' || c == '1';
}

/* Parses one record [s, end) (without its '\n'); 0, or -1 with nothing left allocated. */
static int parse_line(struct entry *e, const char *s, const char *end)
{
	const char *f[NFIELDS + 1];
	int n = 0, bad = 0;
	char *alt;

	f[n++] = s;
	for (const char *p = s; p < end && n <= NFIELDS; p++)
		if (*p == '\t')
			f[n++] = p + 1;
	if (n != NFIELDS)
		return -1;
	f[n] = end + 1;
#define FIELD(i) get_str(f[i], f[(i) + 1] - 1, &bad)
	memset(e, 0, sizeof(*e));
	if (f[1] - f[0] != GIT_OID_HEXSZ + 1 || git_oid_fromstrn(&e->id, f[0], GIT_OID_HEXSZ) < 0)
		return -1;
	if (f[2] - f[1] != 5 || !is_bit(f[1][0]) || !is_bit(f[1][1]) || !is_bit(f[1][2]) ||
	    !is_bit(f[1][3]))
		return -1;
	e->loc.refused = f[1][0] == '1';
	e->loc.integration = f[1][1] == '1';
	e->loc.flag_quoted = f[1][2] == '1';
	e->loc.flag_script_quoted = f[1][3] == '1';
	e->loc.reason = FIELD(2);
	e->loc.image = FIELD(3);
	e->loc.flag = FIELD(4);
	e->loc.flag_script = FIELD(5);
	e->loc.d45 = FIELD(6);
	e->loc.fromversion = FIELD(7);
	e->loc.deprecated = FIELD(8);
	e->loc.name = FIELD(9);
	e->loc.display = FIELD(10);
	e->loc.type = FIELD(11);
#undef FIELD
	if (e->loc.refused && !e->loc.reason)
		bad = 1; /* the locator always says why */
	/* alt_dockerimages: '=' and the escaped items separated by raw 0x1f bytes. */
	if (f[13] - 1 > f[12]) {
		const char *p = f[12] + 1, *fe = f[13] - 1;
		if (f[12][0] != '=')
			bad = 1;
		while (!bad) {
			const char *sep = memchr(p, '\x1f', (size_t)(fe - p));
			alt = unescape(p, sep ? sep : fe, &bad);
			strlist_push(&e->loc.alt, alt);
			free(alt);
			if (!sep)
				break;
			p = sep + 1;
		}
	}
	if (bad || f[NFIELDS - 1] != end) {
		located_release(&e->loc);
		return -1;
	}
	return 0;
}

/* FNV-1a, 64 bits: catches a damaged or edited body, not a forged one (nothing here can). */
static uint64_t body_hash(const char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
	return h;
}

static void header(struct buf *b)
{
	buf_addf(b, "%s %s\n", MAGIC, yaml_locator_version());
}

static int cmp_entry(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct entry *)a)->id, &((const struct entry *)b)->id);
}

static void entries_free(struct entry *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		located_release(&v[i].loc);
	free(v);
}

/* Fills `c` from `data`; on any flaw, warns naming `name` and leaves `c` empty. */
static void parse_cache(struct scancache *c, const char *data, size_t len, const char *name)
{
	struct buf head = BUF_INIT;
	const char *p, *end, *body, *stop = data + len;
	const char *why = NULL;
	unsigned long long count = 0;
	char hash[17], trail[64];
	size_t line = 1, i;

	header(&head);
	if (len < head.len || memcmp(data, head.ptr, head.len)) {
		why = "written by another version";
		goto out;
	}
	body = p = data + head.len;
	for (;; p = end + 1) {
		end = p < stop ? memchr(p, '\n', (size_t)(stop - p)) : NULL;
		line++;
		if (!end) {
			why = "truncated";
			goto out;
		}
		if (end - p >= 4 && !memcmp(p, "end ", 4))
			break;
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		if (parse_line(&c->v[c->nr], p, end)) {
			snprintf(trail, sizeof(trail), "a damaged record at line %zu", line);
			why = trail;
			goto out;
		}
		c->nr++;
	}
	snprintf(hash, sizeof(hash), "%016llx",
	         (unsigned long long)body_hash(body, (size_t)(p - body)));
	if (end + 1 != stop || (size_t)(end - p) >= sizeof(trail)) {
		why = "damaged after its end";
		goto out;
	}
	memcpy(trail, p, (size_t)(end - p));
	trail[end - p] = '\0';
	{
		char got[17];
		int used = 0;
		if (sscanf(trail, "end %llu %16[0-9a-f]%n", &count, got, &used) != 2 ||
		    trail[used] || count != c->nr || strcmp(got, hash)) {
			why = "damaged (its end marker does not match its records)";
			goto out;
		}
	}
	if (c->nr)
		qsort(c->v, c->nr, sizeof(*c->v), cmp_entry);
	for (i = 1; i < c->nr; i++)
		if (!git_oid_cmp(&c->v[i - 1].id, &c->v[i].id)) {
			why = "damaged (a blob is listed twice)";
			goto out;
		}
out:
	if (why) {
		log_warn("ignoring the scan cache '%s': %s", name, why);
		entries_free(c->v, c->nr);
		c->v = NULL;
		c->nr = c->alloc = 0;
	}
	buf_release(&head);
}

struct scancache *scancache_parse(const char *data, size_t len, const char *name)
{
	struct scancache *c = xcalloc(1, sizeof(*c));
	parse_cache(c, data, len, name);
	return c;
}

struct scancache *scancache_load(const char *path)
{
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct scancache *c;

	if (!path || file_read(&data, path, 256u << 20, &err)) {
		buf_release(&data);
		return xcalloc(1, sizeof(struct scancache)); /* absent on a first run: no warning */
	}
	c = scancache_parse(data.ptr, data.len, path);
	buf_release(&data);
	return c;
}

size_t scancache_size(const struct scancache *c)
{
	return c->nr + c->nr_added;
}

static struct entry *find_in(struct entry *v, size_t nr, const git_oid *id)
{
	struct entry key;
	if (!nr)
		return NULL; /* bsearch wants a non-NULL array even when empty */
	git_oid_cpy(&key.id, id);
	return bsearch(&key, v, nr, sizeof(*v), cmp_entry);
}

/* An entry put since loading, for save: the entries put are sorted once, on the first call. */
static struct entry *find_added(struct scancache *c, const git_oid *id)
{
	if (!c->added_sorted) {
		if (c->nr_added)
			qsort(c->added, c->nr_added, sizeof(*c->added), cmp_entry);
		c->added_sorted = 1;
	}
	return find_in(c->added, c->nr_added, id);
}

int scancache_get(struct scancache *c, const git_oid *id, struct located *out)
{
	struct entry *e = find_in(c->v, c->nr, id);
	if (!e)
		return 0;
	located_copy(out, &e->loc);
	return 1;
}

void scancache_put(struct scancache *c, const git_oid *id, const struct located *l)
{
	/* No lookup: a second put of the same id (two paths, one blob) is dropped on save. */
	ALLOC_GROW(c->added, c->nr_added + 1, c->alloc_added);
	git_oid_cpy(&c->added[c->nr_added].id, id);
	located_copy(&c->added[c->nr_added].loc, l);
	c->nr_added++;
	c->added_sorted = 0;
}

static int cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

void scancache_save(struct scancache *c, const char *path, const git_oid *keep, size_t nkeep)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char hex[GIT_OID_HEXSZ + 1], *dir = xstrdup(path), *slash = strrchr(dir, '/');
	git_oid *ids = xcalloc(nkeep ? nkeep : 1, sizeof(*ids));
	size_t i, j, body, count = 0;

	if (nkeep) {
		memcpy(ids, keep, nkeep * sizeof(*ids));
		qsort(ids, nkeep, sizeof(*ids), cmp_oid);
	}
	header(&b);
	body = b.len;
	for (i = 0; i < nkeep; i++) {
		struct entry *e;
		if (i && !git_oid_cmp(&ids[i - 1], &ids[i]))
			continue; /* two paths, one blob */
		if (!(e = find_in(c->v, c->nr, &ids[i])) && !(e = find_added(c, &ids[i])))
			continue;
		git_oid_tostr(hex, sizeof(hex), &e->id);
		buf_adds(&b, hex);
		buf_addf(&b, "\t%d%d%d%d", !!e->loc.refused, !!e->loc.integration,
		         !!e->loc.flag_quoted, !!e->loc.flag_script_quoted);
		put_str(&b, e->loc.reason);
		put_str(&b, e->loc.image);
		put_str(&b, e->loc.flag);
		put_str(&b, e->loc.flag_script);
		put_str(&b, e->loc.d45);
		put_str(&b, e->loc.fromversion);
		put_str(&b, e->loc.deprecated);
		put_str(&b, e->loc.name);
		put_str(&b, e->loc.display);
		put_str(&b, e->loc.type);
		buf_addch(&b, '\t');
		for (j = 0; j < e->loc.alt.nr; j++) {
			buf_addch(&b, j ? '\x1f' : '=');
			put_escaped(&b, e->loc.alt.v[j]);
		}
		buf_add(&b, "\t\n", 2);
		count++;
	}
	buf_addf(&b, "end %zu %016llx\n", count,
	         (unsigned long long)body_hash(b.ptr + body, b.len - body));
	if (slash)
		*slash = '\0';
	if ((slash && mkdir_p(dir, 1, &err)) || file_write_atomic(path, b.ptr, b.len, &err))
		log_warn("scan cache not written: %s", err.msg);
	free(ids);
	free(dir);
	buf_release(&b);
}

void scancache_free(struct scancache *c)
{
	if (!c)
		return;
	entries_free(c->v, c->nr);
	entries_free(c->added, c->nr_added);
	free(c);
}

#include "updater/scancache.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/banned.h"

#define MAGIC "dockerbump-scan-cache 1\n"
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

struct scancache {
	struct entry *v;
	size_t nr, alloc;
	int sorted;
};

/* --- encoding: a present string is '=' + text with \\, \t, \n, \x1f escaped; NULL is empty --- */

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

static char *unescape(const char *s, const char *e, int *bad)
{
	char *out, *o;

	out = o = xmalloc((size_t)(e - s) + 1);
	for (; s < e; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		if (++s == e) {
			*bad = 1;
			break;
		}
		*o++ = *s == 't'   ? '\t'
		       : *s == 'n' ? '\n'
		       : *s == 'r' ? '\r'
		       : *s == 'u' ? '\x1f'
		                   : *s;
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
	if (f[2] - f[1] != 5)
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

struct scancache *scancache_load(const char *path)
{
	struct scancache *c = xcalloc(1, sizeof(*c));
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	const char *p, *end;

	if (!path || file_read(&data, path, 256u << 20, &err))
		goto out; /* absent on a first run: no warning */
	if (data.len < sizeof(MAGIC) - 1 || memcmp(data.ptr, MAGIC, sizeof(MAGIC) - 1)) {
		log_warn("ignoring the scan cache '%s': not a cache file of this version", path);
		goto out;
	}
	for (p = data.ptr + sizeof(MAGIC) - 1; p < data.ptr + data.len; p = end + 1) {
		end = memchr(p, '\n', (size_t)(data.ptr + data.len - p));
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		if (!end || parse_line(&c->v[c->nr], p, end)) {
			log_warn("ignoring the scan cache '%s': a damaged record", path);
			for (size_t i = 0; i < c->nr; i++)
				located_release(&c->v[i].loc);
			c->nr = 0;
			break;
		}
		c->nr++;
	}
out:
	buf_release(&data);
	return c;
}

static int cmp_entry(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct entry *)a)->id, &((const struct entry *)b)->id);
}

static struct entry *find(struct scancache *c, const git_oid *id)
{
	struct entry key;
	if (!c->nr)
		return NULL; /* qsort and bsearch want a non-NULL array even when empty */
	if (!c->sorted) {
		qsort(c->v, c->nr, sizeof(*c->v), cmp_entry);
		c->sorted = 1;
	}
	git_oid_cpy(&key.id, id);
	return bsearch(&key, c->v, c->nr, sizeof(*c->v), cmp_entry);
}

int scancache_get(struct scancache *c, const git_oid *id, struct located *out)
{
	struct entry *e = find(c, id);
	if (!e)
		return 0;
	located_copy(out, &e->loc);
	return 1;
}

void scancache_put(struct scancache *c, const git_oid *id, const struct located *l)
{
	struct entry *e = find(c, id);
	if (e)
		return;
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	git_oid_cpy(&c->v[c->nr].id, id);
	located_copy(&c->v[c->nr].loc, l);
	c->nr++;
	c->sorted = 0;
}

void scancache_save(struct scancache *c, const char *path, const git_oid *keep, size_t nkeep)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char hex[GIT_OID_HEXSZ + 1], *dir = xstrdup(path), *slash = strrchr(dir, '/');
	size_t i, j;

	buf_adds(&b, MAGIC);
	for (i = 0; i < nkeep; i++) {
		struct entry *e = find(c, &keep[i]);
		if (!e)
			continue;
		git_oid_tostr(hex, sizeof(hex), &e->id);
		buf_adds(&b, hex);
		buf_addf(&b, "\t%d%d%d%d", e->loc.refused, e->loc.integration, e->loc.flag_quoted,
		         e->loc.flag_script_quoted);
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
	}
	if (slash)
		*slash = '\0';
	if ((slash && mkdir_p(dir, 1, &err)) || file_write_atomic(path, b.ptr, b.len, &err))
		log_warn("scan cache not written: %s", err.msg);
	free(dir);
	buf_release(&b);
}

void scancache_free(struct scancache *c)
{
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->nr; i++)
		located_release(&c->v[i].loc);
	free(c->v);
	free(c);
}

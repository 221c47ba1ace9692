#include "updater/gitpack.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <git2/sys/odb_backend.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "updater/giterr.h"
#include "common/banned.h"

/* ---- SHA-1, for the pack's trailer (FIPS 180-4) --------------------------------------------- */

/*
 * libgit2 hashes objects but offers no hash of arbitrary bytes, and a pack ends with the SHA-1
 * of everything before it. The indexer computes that hash again and refuses the pack when it
 * differs, so a mistake here fails the write; it can never corrupt the repository.
 */
struct sha1 {
	uint32_t h[5];
	uint64_t bytes;
	unsigned char block[64];
	size_t fill;
};

static uint32_t rol32(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static void sha1_init(struct sha1 *c)
{
	static const uint32_t h0[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	memcpy(c->h, h0, sizeof(h0));
	c->bytes = 0;
	c->fill = 0;
}

static void sha1_block(struct sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a = c->h[0], b = c->h[1], d = c->h[3], e = c->h[4], cc = c->h[2], f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & cc) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ cc ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & cc) | (b & d) | (cc & d), k = 0x8F1BBCDC;
		else
			f = b ^ cc ^ d, k = 0xCA62C1D6;
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_update(struct sha1 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	c->bytes += len;
	if (c->fill) {
		take = 64 - c->fill < len ? 64 - c->fill : len;
		memcpy(c->block + c->fill, p, take);
		c->fill += take, p += take, len -= take;
		if (c->fill < 64)
			return;
		sha1_block(c, c->block);
		c->fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha1_block(c, p);
	memcpy(c->block, p, len);
	c->fill = len;
}

static void sha1_final(unsigned char out[20], struct sha1 *c)
{
	uint64_t bits = c->bytes * 8;
	unsigned char tail[72] = {0x80};
	size_t pad = (c->fill < 56 ? 56 : 120) - c->fill;
	int i;

	for (i = 0; i < 8; i++)
		tail[pad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, tail, pad + 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the backend -------------------------------------------------------------------------- */

/*
 * An object is kept as its pack entry: a worker thread compresses each object soon after it
 * is written, while the caller goes on building (the compression costs as much as building),
 * so memory holds about what the pack will and the pack is written by concatenation. Entries
 * are deflated at the fastest level: a batch is written once and read a few times before
 * `git gc` packs it again.
 */
struct pobj {
	git_oid id;
	git_object_t type;
	size_t len;           /* the object's size */
	unsigned char *raw;   /* its content, until the worker compresses it */
	unsigned char *entry; /* then its pack entry: header and deflated content */
	size_t elen, hlen;    /* the entry's length and its header's */
	uint32_t crc;         /* CRC-32 of the entry, for the index */
};

struct gitpack {
	git_odb_backend parent; /* first: libgit2 hands the backend back as this */
	pthread_mutex_t lock;
	int open;
	struct pobj *v;
	size_t nr, alloc;
	/* Open addressing over `v`: a slot holds an index + 1, or 0. The hash is keyed with a
	 * random seed, so object ids chosen to collide cannot make lookups linear. */
	size_t *slots;
	size_t nslots;
	uint64_t seed;
	/* The worker: it compresses v[done..nr), and runs while a batch is open. */
	pthread_t worker;
	pthread_cond_t work, idle;
	int running, stop, failed;
	size_t done;
	z_stream z;
};

static size_t slot_of(const struct gitpack *p, const git_oid *id)
{
	uint64_t x;
	memcpy(&x, id->id, sizeof(x));
	x = (x ^ p->seed) * UINT64_C(0x9E3779B97F4A7C15);
	return (size_t)(x >> 32) & (p->nslots - 1);
}

/* The object with `id`, or NULL; the lock is held. */
static struct pobj *find(struct gitpack *p, const git_oid *id)
{
	size_t s;
	if (!p->nslots)
		return NULL;
	for (s = slot_of(p, id); p->slots[s]; s = (s + 1) & (p->nslots - 1))
		if (git_oid_equal(&p->v[p->slots[s] - 1].id, id))
			return &p->v[p->slots[s] - 1];
	return NULL;
}

static void place(struct gitpack *p, size_t index)
{
	size_t s = slot_of(p, &p->v[index].id);
	while (p->slots[s])
		s = (s + 1) & (p->nslots - 1);
	p->slots[s] = index + 1;
}

/* Takes ownership of `o`'s entry; the lock is held. */
static void add(struct gitpack *p, const struct pobj *o)
{
	size_t i;

	if ((p->nr + 1) * 2 > p->nslots) {
		free(p->slots);
		p->nslots = p->nslots ? p->nslots * 2 : 1024;
		p->slots = xcalloc(p->nslots, sizeof(*p->slots));
		for (i = 0; i < p->nr; i++)
			place(p, i);
	}
	ALLOC_GROW(p->v, p->nr + 1, p->alloc);
	p->v[p->nr] = *o;
	place(p, p->nr++);
}

static void clear(struct gitpack *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++) {
		free(p->v[i].raw);
		free(p->v[i].entry);
	}
	p->nr = p->done = 0;
	if (p->nslots)
		memset(p->slots, 0, p->nslots * sizeof(*p->slots));
}

/* The entry header: type and size, 7 bits a byte after the first 4, low bits first. */
static size_t entry_header(unsigned char h[16], git_object_t type, size_t len)
{
	size_t n = 0;

	h[n++] = (unsigned char)(((unsigned)type << 4) | (len & 0x0F));
	len >>= 4;
	while (len) {
		h[n - 1] |= 0x80;
		h[n++] = (unsigned char)(len & 0x7F);
		len >>= 7;
	}
	return n;
}

/* Compresses `raw` into `o`'s entry with the worker's stream; -1 on a failure. */
static int make_entry(z_stream *z, struct pobj *o, const unsigned char *raw)
{
	unsigned char h[16];
	size_t bound = deflateBound(z, (uLong)o->len);
	int ok;

	if (o->len > UINT32_MAX || bound > UINT32_MAX) /* zlib counts in 32 bits */
		return -1;
	o->hlen = entry_header(h, o->type, o->len);
	o->entry = xmalloc(o->hlen + bound);
	memcpy(o->entry, h, o->hlen);
	z->next_in = (Bytef *)(uintptr_t)raw;
	z->avail_in = (uInt)o->len;
	z->next_out = o->entry + o->hlen;
	z->avail_out = (uInt)bound;
	ok = deflate(z, Z_FINISH) == Z_STREAM_END;
	o->elen = o->hlen + bound - z->avail_out;
	ok = deflateReset(z) == Z_OK && ok;
	if (!ok) {
		free(o->entry);
		o->entry = NULL;
		return -1;
	}
	o->entry = xrealloc(o->entry, o->elen);
	o->crc = (uint32_t)crc32(0, o->entry, (uInt)o->elen);
	return 0;
}

/* The worker: compresses each object written, outside the lock, until told to stop. */
static void *compress_objects(void *arg)
{
	struct gitpack *p = arg;
	struct pobj o;
	size_t i;
	int skip, ok;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->done == p->nr) {
			pthread_cond_broadcast(&p->idle);
			if (p->stop)
				break;
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		i = p->done;
		o = p->v[i]; /* `v` may move while unlocked; `raw` does not */
		skip = p->failed;
		pthread_mutex_unlock(&p->lock);
		ok = skip || make_entry(&p->z, &o, o.raw) == 0;
		pthread_mutex_lock(&p->lock);
		if (!ok)
			p->failed = 1;
		p->v[i].entry = o.entry;
		p->v[i].elen = o.elen;
		p->v[i].hlen = o.hlen;
		p->v[i].crc = o.crc;
		if (o.entry) {
			free(p->v[i].raw);
			p->v[i].raw = NULL;
		}
		p->done++;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Waits until the worker has compressed everything written; the lock is held. */
static void wait_idle(struct gitpack *p)
{
	while (p->running && p->done < p->nr)
		pthread_cond_wait(&p->idle, &p->lock);
}

/* Stops the worker; the lock is not held. */
static void stop_worker(struct gitpack *p)
{
	pthread_mutex_lock(&p->lock);
	if (!p->running) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->stop = 1;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->worker, NULL);
	pthread_mutex_lock(&p->lock);
	p->running = p->stop = 0;
	pthread_mutex_unlock(&p->lock);
}

static int be_read(void **out, size_t *len, git_object_t *type, git_odb_backend *b,
                   const git_oid *id)
{
	struct gitpack *p = (struct gitpack *)b;
	struct pobj *o;
	z_stream z;
	int rc = GIT_ENOTFOUND;

	pthread_mutex_lock(&p->lock);
	if ((o = find(p, id)) != NULL) {
		*out = git_odb_backend_data_alloc(b, o->len ? o->len : 1);
		if (!*out)
			abort(); /* allocation failure aborts, as everywhere */
		rc = 0;
		if (o->raw) {
			memcpy(*out, o->raw, o->len);
		} else {
			memset(&z, 0, sizeof(z));
			z.next_in = o->entry + o->hlen;
			z.avail_in = (uInt)(o->elen - o->hlen);
			z.next_out = *out;
			z.avail_out = (uInt)o->len;
			if (inflateInit(&z) != Z_OK || inflate(&z, Z_FINISH) != Z_STREAM_END ||
			    z.total_out != o->len)
				rc = GIT_ERROR;
			inflateEnd(&z);
		}
		if (rc == 0) {
			*len = o->len;
			*type = o->type;
		} else {
			git_odb_backend_data_free(b, *out);
			git_error_set_str(GIT_ERROR_ZLIB, "cannot inflate an object of the batch");
		}
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int be_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	struct gitpack *p = (struct gitpack *)b;
	struct pobj *o;
	int rc = GIT_ENOTFOUND;

	pthread_mutex_lock(&p->lock);
	if ((o = find(p, id)) != NULL) {
		*len = o->len;
		*type = o->type;
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int be_exists(git_odb_backend *b, const git_oid *id)
{
	struct gitpack *p = (struct gitpack *)b;
	int found;

	pthread_mutex_lock(&p->lock);
	found = find(p, id) != NULL;
	pthread_mutex_unlock(&p->lock);
	return found;
}

static int be_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len,
                    git_object_t type)
{
	struct gitpack *p = (struct gitpack *)b;
	struct pobj o;
	int rc = GIT_PASSTHROUGH; /* outside a batch: the next backend writes it */

	pthread_mutex_lock(&p->lock);
	if (p->open) {
		if (!find(p, id)) {
			memset(&o, 0, sizeof(o));
			git_oid_cpy(&o.id, id);
			o.type = type;
			o.len = len;
			o.raw = xmalloc(len ? len : 1);
			memcpy(o.raw, data, len);
			add(p, &o);
			pthread_cond_signal(&p->work);
		}
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* A stream into the batch: the bytes gathered, stored as an object when finalized. */
struct wstream {
	git_odb_stream parent;
	git_object_t type;
	struct buf data;
};

static int ws_write(git_odb_stream *s, const char *data, size_t len)
{
	buf_add(&((struct wstream *)s)->data, data, len);
	return 0;
}

static int ws_finalize(git_odb_stream *s, const git_oid *id)
{
	struct wstream *w = (struct wstream *)s;
	return be_write(s->backend, id, w->data.ptr, w->data.len, w->type);
}

static void ws_free(git_odb_stream *s)
{
	buf_release(&((struct wstream *)s)->data);
	free(s);
}

/*
 * libgit2 writes blobs through a stream, and gives a stream to the first backend that takes
 * one: outside a batch this one declines, so the stream goes to the loose objects.
 */
static int be_writestream(git_odb_stream **out, git_odb_backend *b, git_object_size_t size,
                          git_object_t type)
{
	struct gitpack *p = (struct gitpack *)b;
	struct wstream *w;
	int open;

	pthread_mutex_lock(&p->lock);
	open = p->open;
	pthread_mutex_unlock(&p->lock);
	if (!open)
		return GIT_PASSTHROUGH;
	w = xcalloc(1, sizeof(*w));
	w->parent.backend = b;
	w->parent.mode = GIT_STREAM_WRONLY;
	w->parent.write = ws_write;
	w->parent.finalize_write = ws_finalize;
	w->parent.free = ws_free;
	w->type = type;
	buf_init(&w->data, size < ((size_t)1 << 24) ? (size_t)size : 0);
	*out = &w->parent;
	return 0;
}

static void be_free(git_odb_backend *b)
{
	struct gitpack *p = (struct gitpack *)b;

	stop_worker(p);
	clear(p);
	free(p->v);
	free(p->slots);
	deflateEnd(&p->z);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int gitpack_attach(struct gitpack **out, git_odb *odb, struct db_err *err)
{
	struct gitpack *p = xcalloc(1, sizeof(*p));

	*out = NULL;
	if (git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION) < 0)
		abort();
	p->parent.read = be_read;
	p->parent.read_header = be_read_header;
	p->parent.write = be_write;
	p->parent.writestream = be_writestream;
	p->parent.exists = be_exists;
	p->parent.free = be_free;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	if (deflateInit(&p->z, Z_BEST_SPEED) != Z_OK)
		abort(); /* only fails without memory */
	if (getentropy(&p->seed, sizeof(p->seed)) < 0)
		p->seed = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
	/* Above the pack (2) and loose (1) backends: read first, written to first. */
	if (git_odb_add_backend(odb, &p->parent, 1000) < 0) {
		int rc = db_err_git(err, DB_ERROR, "cannot add an object backend");
		be_free(&p->parent);
		return rc;
	}
	*out = p;
	return 0;
}

void gitpack_begin(struct gitpack *p)
{
	pthread_mutex_lock(&p->lock);
	p->open = 1;
	p->failed = 0;
	/* Without a worker thread, writes still work: gitpack_write() compresses what is left. */
	if (!p->running && pthread_create(&p->worker, NULL, compress_objects, p) == 0)
		p->running = 1;
	pthread_mutex_unlock(&p->lock);
}

size_t gitpack_count(struct gitpack *p)
{
	size_t n;
	pthread_mutex_lock(&p->lock);
	n = p->nr;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void gitpack_end(struct gitpack *p)
{
	stop_worker(p);
	pthread_mutex_lock(&p->lock);
	p->open = 0;
	clear(p);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the pack ----------------------------------------------------------------------------- */

/*
 * The pack and its index are written here rather than through libgit2's indexer, which would
 * inflate and hash again every object just written (most of the time of a batch): the ids,
 * offsets and checksums are known already, as they are to `git pack-objects`. The format
 * (gitformat-pack(5)): "PACK", version 2, the object count, the entries, the SHA-1 of all
 * that; the index (version 2) maps each id to its entry's offset and CRC-32. The tests check
 * the packs written with `git fsck --strict` and `git verify-pack`.
 */

static void add_be32(struct buf *b, uint32_t v)
{
	unsigned char q[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};
	buf_add(b, q, 4);
}

struct sorted {
	git_oid id;
	uint32_t crc;
	uint64_t offset;
};

static int cmp_sorted(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct sorted *)a)->id, &((const struct sorted *)b)->id);
}

/* The index (version 2) of `n` objects of the pack whose trailer is `sum`. */
static void build_index(struct buf *idx, struct sorted *by_id, size_t n,
                        const unsigned char sum[20])
{
	unsigned char check[20];
	uint32_t fanout[256] = {0}, large = 0;
	struct sha1 sha;
	size_t i;
	int b;

	qsort(by_id, n, sizeof(*by_id), cmp_sorted);
	for (i = 0; i < n; i++)
		fanout[by_id[i].id.id[0]]++;
	for (b = 1; b < 256; b++)
		fanout[b] += fanout[b - 1];
	buf_add(idx, "\377tOc", 4);
	add_be32(idx, 2);
	for (b = 0; b < 256; b++)
		add_be32(idx, fanout[b]);
	for (i = 0; i < n; i++)
		buf_add(idx, by_id[i].id.id, GIT_OID_RAWSZ);
	for (i = 0; i < n; i++)
		add_be32(idx, by_id[i].crc);
	/* Offsets of 2 GiB and more go to a table of 64-bit ones. */
	for (i = 0; i < n; i++)
		add_be32(idx, by_id[i].offset < UINT32_C(0x80000000) ? (uint32_t)by_id[i].offset
		                                                     : 0x80000000 | large++);
	for (i = 0; i < n; i++)
		if (by_id[i].offset >= UINT32_C(0x80000000)) {
			add_be32(idx, (uint32_t)(by_id[i].offset >> 32));
			add_be32(idx, (uint32_t)by_id[i].offset);
		}
	buf_add(idx, sum, 20);
	sha1_init(&sha);
	sha1_update(&sha, idx->ptr, idx->len);
	sha1_final(check, &sha);
	buf_add(idx, check, 20);
}

/* Whether a file exists at `path`. */
static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int gitpack_write(struct gitpack *p, git_repository *repo, const char *path, struct db_err *err)
{
	struct buf pack = BUF_INIT, idx = BUF_INIT;
	struct sorted *by_id = NULL;
	git_buf objects = {0};
	git_odb *odb = NULL;
	unsigned char head[12] = {'P', 'A', 'C', 'K', 0, 0, 0, 2}, sum[20];
	char hex[GIT_OID_HEXSZ + 1], *pack_path = NULL, *idx_path = NULL;
	git_oid name;
	struct sha1 sha;
	size_t i, n, total = sizeof(head) + sizeof(sum);
	int rc = 0, new_pack = 0;

	pthread_mutex_lock(&p->lock);
	wait_idle(p);
	/* What the worker did not compress (it could not start), compress now. */
	for (i = p->done; i < p->nr && !p->failed; i++, p->done++) {
		if (make_entry(&p->z, &p->v[i], p->v[i].raw) < 0)
			p->failed = 1;
		free(p->v[i].raw);
		p->v[i].raw = NULL;
	}
	if (p->failed) {
		clear(p);
		pthread_mutex_unlock(&p->lock);
		return db_err_set(err, DB_ERROR, "cannot compress the objects for '%s'", path);
	}
	n = p->nr;
	if (n > UINT32_MAX) {
		pthread_mutex_unlock(&p->lock);
		return db_err_set(err, DB_ERROR, "too many objects for one pack in '%s'", path);
	}
	/* The pack: header, entries, trailer. The entries go as they are copied: whatever
	 * happens next, the batch's objects are in the pack or nowhere. */
	for (i = 0; i < n; i++)
		total += p->v[i].elen;
	buf_grow(&pack, total);
	by_id = xcalloc(n ? n : 1, sizeof(*by_id));
	head[8] = (unsigned char)(n >> 24);
	head[9] = (unsigned char)(n >> 16);
	head[10] = (unsigned char)(n >> 8);
	head[11] = (unsigned char)n;
	buf_add(&pack, head, sizeof(head));
	for (i = 0; i < n; i++) {
		struct pobj *o = &p->v[i];
		git_oid_cpy(&by_id[i].id, &o->id);
		by_id[i].crc = o->crc;
		by_id[i].offset = pack.len;
		buf_add(&pack, o->entry, o->elen);
		free(o->entry);
		o->entry = NULL;
	}
	clear(p);
	pthread_mutex_unlock(&p->lock);
	if (!n)
		goto out;
	sha1_init(&sha);
	sha1_update(&sha, pack.ptr, pack.len);
	sha1_final(sum, &sha);
	buf_add(&pack, sum, sizeof(sum));
	build_index(&idx, by_id, n, sum);

	/*
	 * Each file is written under a temporary name, synced and renamed: the pack first, then
	 * its index. Readers find packs by their index, so a pack is never seen before it is
	 * complete; a crash in between leaves a pack without an index, which nothing reads. A
	 * pack of the same name holds the same bytes (the name is its checksum): it is kept.
	 */
	if (git_repository_item_path(&objects, repo, GIT_REPOSITORY_ITEM_OBJECTS) < 0) {
		rc = db_err_git(err, DB_ERROR, "cannot find the objects of '%s'", path);
		goto out;
	}
	git_oid_fromraw(&name, sum);
	git_oid_tostr(hex, sizeof(hex), &name);
	pack_path = xasprintf("%spack/pack-%s.pack", objects.ptr, hex);
	idx_path = xasprintf("%spack/pack-%s.idx", objects.ptr, hex);
	if (!exists(pack_path)) {
		if ((rc = file_write_atomic(pack_path, pack.ptr, pack.len, err)) < 0)
			goto fail;
		new_pack = 1;
	}
	if (!exists(idx_path) && (rc = file_write_atomic(idx_path, idx.ptr, idx.len, err)) < 0) {
		if (new_pack)
			unlink(pack_path);
		goto fail;
	}
	/* Reads find the objects in the pack from now on. */
	if (git_repository_odb(&odb, repo) == 0)
		git_odb_refresh(odb);
	goto out;
fail:
	db_err_prefix(err, "cannot write a pack to the repository '%s'", path);
out:
	git_odb_free(odb);
	git_buf_dispose(&objects);
	free(by_id);
	free(pack_path);
	free(idx_path);
	buf_release(&pack);
	buf_release(&idx);
	return rc;
}

#include "updater/scan.h"

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "updater/giterr.h"
#include "common/parallel.h"
#include "updater/scancache.h"
#include "updater/yamledit.h"
#include "common/banned.h"

/* Item YAMLs larger than this are refused rather than read (the largest real ones are ~1 MB). */
#define ITEM_MAX_BYTES (16u << 20)

static const char *const status_names[STATUS__COUNT] = {
    "pending",     "bumped",   "up-to-date", "opted-out",   "not-opted-in",
    "not-allowed", "no-image", "skipped",    "unparseable", "verify-failed",
    "waiting",     "declined", "error",
};

const char *item_status_name(enum item_status s)
{
	return status_names[s];
}

const char *item_kind_name(enum item_kind k)
{
	return k == ITEM_INTEGRATION ? "integration" : "script";
}

const char *opt_in_name(enum opt_in o)
{
	static const char *const names[] = {"default", "opted-out", "opted-in", "not-opted-in",
	                                    "misplaced-flag"};
	return names[o];
}

/* --- paths and globs --- */

int path_glob_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (p[0] == '*' && p[1] == '*') {
			/* '**' matches any run of characters, slashes included; "**\/" also none.
			 */
			p += 2;
			if (*p == '/')
				p++;
			for (;; s++) {
				if (path_glob_match(p, s))
					return 1;
				if (!*s)
					return 0;
			}
		}
		if (*p == '*') {
			for (;; s++) {
				if (path_glob_match(p + 1, s))
					return 1;
				if (!*s || *s == '/')
					return 0;
			}
		}
		if (!*s || (*p != '?' && *p != *s) || (*p == '?' && *s == '/'))
			return 0;
	}
	return !*s;
}

/* Whether `pattern` can match some path below the directory `dir` (which ends in '/'). */
static int glob_may_match_under(const char *pattern, const char *dir)
{
	char pseg[256], dseg[256];

	while (*dir) {
		const char *pe = strchr(pattern, '/'), *de = strchr(dir, '/');
		size_t pl, dl;
		if (!pe)
			return strstr(pattern, "**") != NULL; /* the last segment names files */
		pl = (size_t)(pe - pattern);
		dl = (size_t)(de - dir);
		if (pl >= sizeof(pseg) || dl >= sizeof(dseg))
			return 1; /* too long to reason about: do not prune */
		memcpy(pseg, pattern, pl);
		pseg[pl] = '\0';
		if (strstr(pseg, "**"))
			return 1;
		memcpy(dseg, dir, dl);
		dseg[dl] = '\0';
		if (!path_glob_match(pseg, dseg))
			return 0;
		pattern = pe + 1;
		dir = de + 1;
	}
	return 1;
}

static int match_any(const struct strlist *globs, const char *path, const char **which)
{
	size_t i;
	for (i = 0; globs && i < globs->nr; i++)
		if (path_glob_match(globs->v[i], path)) {
			if (which)
				*which = globs->v[i];
			return 1;
		}
	return 0;
}

int image_ref_split(char **repo, char **tag, const char *ref)
{
	/* A digest (`@sha256:...`) is neither repository nor tag; a `:` before the last `/` is a
	 * registry's port. */
	const char *end = strchr(ref, '@'), *slash, *colon = NULL, *p;

	*repo = *tag = NULL;
	if (!end)
		end = ref + strlen(ref);
	slash = ref;
	for (p = ref; p < end; p++)
		if (*p == '/')
			slash = p;
	for (p = slash; p < end; p++)
		if (*p == ':')
			colon = p;
	if ((colon ? colon : end) == ref)
		return -1;
	*repo = xstrndup(ref, (size_t)((colon ? colon : end) - ref));
	if (colon)
		*tag = xstrndup(colon + 1, (size_t)(end - colon - 1));
	return 0;
}

/* --- locating: the config-independent facts, cacheable by blob id --- */

static char *scalar_dup(const struct yaml_value *v)
{
	return v->kind == YV_SCALAR && v->text ? xstrdup(v->text) : NULL;
}

static void locate(struct located *l, const char *data, size_t len)
{
	struct yaml_doc doc;
	const struct yaml_value *src;
	const struct yaml_value *top, *scr;
	size_t i;

	memset(l, 0, sizeof(*l));
	yaml_doc_parse(&doc, data, len);
	top = doc.top;
	scr = doc.script;
	if (doc.refused) {
		l->refused = 1;
		l->reason = xstrdup(doc.reason);
	}
	l->integration =
	    top[YK_CONFIGURATION].kind != YV_ABSENT || top[YK_SCRIPT].kind == YV_MAPPING;
	src = l->integration ? scr : top;
	l->image = scalar_dup(&src[YK_DOCKERIMAGE]);
	l->d45 = scalar_dup(&src[YK_DOCKERIMAGE45]);
	for (i = 0; i < src[YK_ALT_DOCKERIMAGES].nr_items; i++)
		strlist_push(&l->alt, src[YK_ALT_DOCKERIMAGES].items[i]);
	l->type = scalar_dup(&src[YK_TYPE]);
	l->flag = scalar_dup(&top[YK_AUTOUPDATE]);
	l->flag_quoted =
	    top[YK_AUTOUPDATE].style == YS_SINGLE || top[YK_AUTOUPDATE].style == YS_DOUBLE;
	l->flag_script = scalar_dup(&scr[YK_AUTOUPDATE]);
	l->flag_script_quoted =
	    scr[YK_AUTOUPDATE].style == YS_SINGLE || scr[YK_AUTOUPDATE].style == YS_DOUBLE;
	l->fromversion = scalar_dup(&top[YK_FROMVERSION]);
	l->deprecated = scalar_dup(&top[YK_DEPRECATED]);
	l->name = scalar_dup(&top[YK_NAME]);
	l->display = scalar_dup(&top[YK_DISPLAY]);
	yaml_doc_release(&doc);
}

static char *locator_cache_path(const char *dir)
{
	char *cache = cache_dir_path(), *abs = realpath(dir, NULL), *path;
	unsigned long h = 2166136261u;
	const char *p;

	for (p = abs ? abs : dir; *p; p++)
		h = ((h ^ (unsigned char)*p) * 16777619u) & 0xffffffffu;
	path = xasprintf("%s/scan/locator-%08lx.cache", cache, h);
	free(abs);
	free(cache);
	return path;
}

/* --- collecting the candidate files --- */

struct candidate {
	char *path;
	git_oid blob;
	struct located loc;
	int have;    /* 1: from the cache, 2: located now */
	size_t pack; /* index in the list of packs; NO_PACK outside Packs/<pack>/ */
};

#define NO_PACK ((size_t)-1)

struct pack_meta {
	char *pack;
	git_oid blob;
};

struct collector {
	struct candidate *v;
	size_t nr, alloc;
	struct pack_meta *meta; /* Packs/<pack>/pack_metadata.json blobs met on the walk */
	size_t nr_meta, alloc_meta;
	const struct config *cfg;
};

static void collect(struct collector *c, const char *path, const git_oid *blob)
{
	if (!match_any(&c->cfg->include, path, NULL))
		return;
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	memset(&c->v[c->nr], 0, sizeof(c->v[0]));
	c->v[c->nr].path = xstrdup(path);
	if (blob)
		git_oid_cpy(&c->v[c->nr].blob, blob);
	c->nr++;
}

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct collector *c = payload;
	const char *name = git_tree_entry_name(entry);
	size_t rl = strlen(root), nl = strlen(name);
	char path[4096];

	if (rl + nl + 1 > sizeof(path))
		return 1; /* absurdly deep: skip the subtree */
	memcpy(path, root, rl);
	memcpy(path + rl, name, nl + 1);
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
		/* Skip the trees no include pattern can reach (playbooks, test data, docs...). */
		size_t i;
		path[rl + nl] = '/';
		path[rl + nl + 1] = '\0';
		for (i = 0; i < c->cfg->include.nr; i++)
			if (glob_may_match_under(c->cfg->include.v[i], path))
				return 0;
		return 1;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	if (nl > 4 && (!strcmp(name + nl - 4, ".yml") || !strcmp(name + nl - 5, ".yaml"))) {
		collect(c, path, git_tree_entry_id(entry));
	} else if (!strcmp(name, "pack_metadata.json") && rl > 7 && !strncmp(root, "Packs/", 6) &&
	           strchr(root + 6, '/') == root + rl - 1) {
		/* Remembered so the hidden check needs no path lookup from the root. */
		ALLOC_GROW(c->meta, c->nr_meta + 1, c->alloc_meta);
		c->meta[c->nr_meta].pack = xstrndup(root + 6, rl - 7);
		git_oid_cpy(&c->meta[c->nr_meta].blob, git_tree_entry_id(entry));
		c->nr_meta++;
	}
	return 0;
}

static int walk_dir(struct collector *c, const char *top, struct buf *rel, struct db_err *err)
{
	struct buf full = BUF_INIT;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	buf_addf(&full, "%s/%s", top, rel->ptr);
	d = opendir(full.ptr);
	if (!d) {
		ret = db_err_set(err, DB_ERROR, "'%s': cannot read the directory", full.ptr);
		goto out;
	}
	while ((de = readdir(d))) {
		size_t mark = rel->len, nl = strlen(de->d_name);
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".git"))
			continue;
		buf_adds(rel, de->d_name);
		buf_reset(&full);
		buf_addf(&full, "%s/%s", top, rel->ptr);
		if (lstat(full.ptr, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				buf_addch(rel, '/');
				ret = walk_dir(c, top, rel, err);
			} else if (S_ISREG(st.st_mode) && nl > 4 &&
			           (!strcmp(de->d_name + nl - 4, ".yml") ||
			            !strcmp(de->d_name + nl - 5, ".yaml"))) {
				collect(c, rel->ptr, NULL);
			}
		}
		buf_setlen(rel, mark);
		if (ret)
			break;
	}
	closedir(d);
out:
	buf_release(&full);
	return ret;
}

static int cmp_candidate(const void *a, const void *b)
{
	return strcmp(((const struct candidate *)a)->path, ((const struct candidate *)b)->path);
}

/* --- reading and locating, in parallel --- */

/* Looks up the blob of an item, refusing one over the size cap. */
static int lookup_blob(git_blob **out, git_repository *repo, const char *path,
                       const git_oid *blob_id, struct db_err *err)
{
	*out = NULL;
	if (git_blob_lookup(out, repo, blob_id) < 0)
		return db_err_git(err, DB_ERROR, "'%s': cannot read the blob", path);
	if ((size_t)git_blob_rawsize(*out) > ITEM_MAX_BYTES) {
		git_blob_free(*out);
		*out = NULL;
		return db_err_set(err, DB_ETOOBIG, "'%s': larger than %u bytes", path,
		                  ITEM_MAX_BYTES);
	}
	return 0;
}

static int read_source(struct buf *out, const struct scan_opts *opts, const char *path,
                       const git_oid *blob_id, struct db_err *err)
{
	git_blob *blob;
	int ret;

	if (opts->worktree) {
		struct buf full = BUF_INIT;
		buf_addf(&full, "%s/%s", opts->dir, path);
		ret = file_read(out, full.ptr, ITEM_MAX_BYTES, err);
		buf_release(&full);
		/* The reason names the item as git mode does, by its repository path. */
		if (ret == DB_ETOOBIG) {
			db_err_clear(err);
			ret = db_err_set(err, DB_ETOOBIG, "'%s': larger than %u bytes", path,
			                 ITEM_MAX_BYTES);
		}
		return ret;
	}
	if ((ret = lookup_blob(&blob, opts->repo, path, blob_id, err)) < 0)
		return ret;
	buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

/* --- pack metadata --- */

/* A pack that holds candidates, and whether its pack_metadata.json says it is hidden. */
struct pack_info {
	char *name;
	const git_oid *meta; /* git mode: the blob of its pack_metadata.json; NULL when none */
	int hidden;
};

/* Larger pack_metadata.json files count as absent (real ones are about 1 KB). */
#define PACK_META_MAX_BYTES (1u << 20)

static int cmp_pack_meta(const void *a, const void *b)
{
	return strcmp(((const struct pack_meta *)a)->pack, ((const struct pack_meta *)b)->pack);
}

/*
 * Lists the packs of the candidates (sorted by path, so a pack's candidates are next to each
 * other), points each candidate at its pack, and finds each pack's metadata blob met on the
 * walk. O(n log n).
 */
static void list_packs(struct pack_info **out, size_t *nr, struct collector *c)
{
	size_t i, alloc = 0;

	*out = NULL;
	*nr = 0;
	if (c->nr_meta)
		qsort(c->meta, c->nr_meta, sizeof(*c->meta), cmp_pack_meta);
	for (i = 0; i < c->nr; i++) {
		const char *p = c->v[i].path, *end;
		struct pack_meta key, *m;
		size_t len;

		c->v[i].pack = NO_PACK;
		if (strncmp(p, "Packs/", 6) || !(end = strchr(p + 6, '/')))
			continue;
		len = (size_t)(end - p - 6);
		if (!*nr || strncmp((*out)[*nr - 1].name, p + 6, len) ||
		    (*out)[*nr - 1].name[len]) {
			ALLOC_GROW(*out, *nr + 1, alloc);
			(*out)[*nr].name = xstrndup(p + 6, len);
			key.pack = (*out)[*nr].name;
			m = c->nr_meta ? bsearch(&key, c->meta, c->nr_meta, sizeof(*c->meta),
			                         cmp_pack_meta)
			               : NULL;
			(*out)[*nr].meta = m ? &m->blob : NULL;
			(*out)[*nr].hidden = 0;
			(*nr)++;
		}
		c->v[i].pack = *nr - 1;
	}
}

static int read_hidden(const struct scan_opts *opts, const struct pack_info *p)
{
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	int hidden = 0;

	if (opts->worktree) {
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/Packs/%s/pack_metadata.json", opts->dir, p->name);
		file_read(&data, path.ptr, PACK_META_MAX_BYTES, &err);
		buf_release(&path);
	} else if (p->meta) {
		git_blob *blob = NULL;
		if (!git_blob_lookup(&blob, opts->repo, p->meta) &&
		    (size_t)git_blob_rawsize(blob) <= PACK_META_MAX_BYTES)
			buf_add(&data, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
	}
	/* jansson bounds its own nesting (2048 levels), so any input costs linear time. */
	if (data.len && strstr(data.ptr, "\"hidden\"")) {
		json_t *meta = json_loadb(data.ptr, data.len, 0, NULL);
		hidden = json_is_true(json_object_get(meta, "hidden"));
		json_decref(meta);
	}
	buf_release(&data);
	return hidden;
}

/* --- reading and locating, in parallel --- */

/*
 * Work is handed out in chunks of candidates, then of packs: each task reads the blobs of its
 * chunk, then locates them. libgit2 reads the objects of one pack under one lock, inflating
 * included, so threads that alternated one read and one parse would queue on that lock for
 * every file; with chunks, one thread reads while the others parse.
 */
#define SCAN_CHUNK 16

struct locate_ctx {
	struct candidate *v;
	size_t nr, chunks; /* candidates, and the chunks they make */
	struct pack_info *packs;
	size_t npacks;
	const struct scan_opts *opts;
	git_odb *odb; /* git mode */
};

/*
 * An item's blob, read from the object database's backends directly (the pack, the loose
 * objects), with its size checked from the header before anything is inflated. The read path
 * of git_blob_lookup() would also take the object database's lock and hash the content again
 * to compare it with its id (libgit2's strict verification, which git does not do on reads):
 * a quarter of a cold scan's CPU. The scan only classifies what it reads; the rewrite reads
 * the blob again through that verifying path before changing it. 1 with the content (free it
 * with git_odb_backend_data_free() on `*be`), 0 when no backend has the blob as a blob (then
 * git_blob_lookup() decides), -1 with `err` set when it is too large.
 */
static int read_raw(void **data, size_t *len, git_odb_backend **be, git_odb *odb, const char *path,
                    const git_oid *id, struct db_err *err)
{
	size_t k, n = git_odb_num_backends(odb);
	git_object_t type;

	for (k = 0; k < n; k++) {
		if (git_odb_get_backend(be, odb, k) < 0 || !(*be)->read)
			continue;
		if ((*be)->read_header && (*be)->read_header(len, &type, *be, id) == 0 &&
		    *len > ITEM_MAX_BYTES)
			return db_err_set(err, DB_ETOOBIG, "'%s': larger than %u bytes", path,
			                  ITEM_MAX_BYTES);
		if ((*be)->read(data, len, &type, *be, id) < 0)
			continue;
		if (type == GIT_OBJECT_BLOB && *len <= ITEM_MAX_BYTES)
			return 1;
		git_odb_backend_data_free(*be, *data);
		break;
	}
	return 0;
}

static void locate_from(struct candidate *c, const char *data, size_t len, int hash)
{
	locate(&c->loc, data, len);
	if (hash)
		git_odb_hash(&c->blob, data, len, GIT_OBJECT_BLOB);
	c->have = 2;
}

static void refuse_unread(struct candidate *c, const struct db_err *err)
{
	memset(&c->loc, 0, sizeof(c->loc));
	c->loc.refused = 1;
	c->loc.reason = xstrdup(err->msg);
	c->have = 2;
}

static void locate_chunk(const struct locate_ctx *ctx, size_t first, size_t n)
{
	git_blob *blobs[SCAN_CHUNK] = {NULL};
	git_odb_backend *bes[SCAN_CHUNK] = {NULL};
	void *raw[SCAN_CHUNK] = {NULL};
	size_t len[SCAN_CHUNK] = {0}, i;
	int rc;

	for (i = 0; i < n; i++) {
		struct candidate *c = &ctx->v[first + i];
		struct db_err err = DB_ERR_INIT;
		struct buf data = BUF_INIT;

		if (c->have)
			continue;
		if (!ctx->opts->worktree) {
			rc = read_raw(&raw[i], &len[i], &bes[i], ctx->odb, c->path, &c->blob, &err);
			if (rc != 1)
				raw[i] = NULL;
			if (rc == 0)
				rc = lookup_blob(&blobs[i], ctx->opts->repo, c->path, &c->blob,
				                 &err);
			if (rc < 0)
				refuse_unread(c, &err);
			continue;
		}
		if (read_source(&data, ctx->opts, c->path, &c->blob, &err) < 0)
			refuse_unread(c, &err);
		else
			locate_from(c, data.ptr, data.len, 1);
		buf_release(&data);
	}
	for (i = 0; i < n; i++) {
		/* The content is not NUL-terminated: the locator goes by the length. */
		if (raw[i]) {
			locate_from(&ctx->v[first + i], raw[i], len[i], 0);
			git_odb_backend_data_free(bes[i], raw[i]);
		} else if (blobs[i]) {
			locate_from(&ctx->v[first + i], git_blob_rawcontent(blobs[i]),
			            (size_t)git_blob_rawsize(blobs[i]), 0);
			git_blob_free(blobs[i]);
		}
	}
}

/* Task `t`: a chunk of candidates, or of packs. Runs in parallel. */
static void scan_task(size_t t, void *arg)
{
	const struct locate_ctx *ctx = arg;
	size_t first, n, i;

	if (t < ctx->chunks) {
		first = t * SCAN_CHUNK;
		n = ctx->nr - first < SCAN_CHUNK ? ctx->nr - first : SCAN_CHUNK;
		locate_chunk(ctx, first, n);
		return;
	}
	first = (t - ctx->chunks) * SCAN_CHUNK;
	n = ctx->npacks - first < SCAN_CHUNK ? ctx->npacks - first : SCAN_CHUNK;
	for (i = first; i < first + n; i++)
		ctx->packs[i].hidden = read_hidden(ctx->opts, &ctx->packs[i]);
}

/* --- classification (SPEC §1) --- */

/* PyYAML's YAML 1.1 booleans, which the content tooling reads. */
static int yaml11_bool(const char *s)
{
	static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes",
	                                "YES",  "on",   "On",   "ON"};
	static const char *const f[] = {"false", "False", "FALSE", "no", "No",
	                                "NO",    "off",   "Off",   "OFF"};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i]))
			return 1;
		if (!strcmp(s, f[i]))
			return 0;
	}
	return -1;
}

static void warn_item(struct item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn_item(struct item *it, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strlist_push(&it->warnings, msg);
	log_warn("'%s': %s", it->path, msg);
}

static int read_flag(struct item *it, const char *text, int quoted)
{
	int b = yaml11_bool(text);
	if (b < 0) {
		warn_item(it, "autoUpdateDockerImage '%s' is not a boolean; ignored", text);
		return -1;
	}
	if (quoted)
		warn_item(it, "autoUpdateDockerImage is the quoted string '%s'; read as a boolean",
		          text);
	return b;
}

static int namespace_allowed(const struct config *cfg, const char *repo)
{
	const char *slash = strchr(repo, '/');
	struct buf ns = BUF_INIT;
	int ok;

	if (!slash)
		return 0;
	buf_add(&ns, repo, (size_t)(slash - repo));
	ok = strlist_has(&cfg->allowed_namespaces, ns.ptr);
	buf_release(&ns);
	return ok;
}

static void set_status(struct item *it, enum item_status s, const char *reason)
{
	it->status = s;
	free(it->reason);
	it->reason = reason ? xstrdup(reason) : NULL;
}

static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return xstrndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

static void classify(struct item *it, const struct located *l, const struct config *cfg,
                     const struct scan_opts *opts)
{
	const char *which = NULL;
	int dflt;

	it->kind = l->integration ? ITEM_INTEGRATION : ITEM_SCRIPT;
	group_of(&it->group_id, it->pack, cfg);
	group_name(it->group, sizeof(it->group), &it->group_id);
	it->name = l->name ? xstrdup(l->name) : name_from_path(it->path);
	it->display = l->display ? xstrdup(l->display) : NULL;
	it->image_ref = l->image ? xstrdup(l->image) : NULL;
	it->image_in_script = l->integration;
	it->dockerimage45 = l->d45 ? xstrdup(l->d45) : NULL;
	for (size_t i = 0; i < l->alt.nr; i++)
		strlist_push(&it->alt_images, l->alt.v[i]);
	it->fromversion = l->fromversion ? xstrdup(l->fromversion) : NULL;
	it->script_type = l->type ? xstrdup(l->type) : NULL;
	it->deprecated = l->deprecated && yaml11_bool(l->deprecated) == 1;
	it->flag = -1;
	if (it->image_ref && image_ref_split(&it->image, &it->tag, it->image_ref) < 0) {
		it->image = NULL;
		it->tag = NULL;
	}

	if (l->refused) {
		set_status(it, STATUS_UNPARSEABLE, l->reason);
		return;
	}

	if (l->flag) {
		it->flag = read_flag(it, l->flag, l->flag_quoted);
		if (l->flag_script)
			warn_item(it,
			          "autoUpdateDockerImage is also under script: ('%s'); the "
			          "top-level value wins",
			          l->flag_script);
	} else if (l->flag_script) {
		it->flag = read_flag(it, l->flag_script, l->flag_script_quoted);
		warn_item(it,
		          "autoUpdateDockerImage '%s' is under script: instead of the top level; "
		          "honoured",
		          l->flag_script);
	}
	dflt = it->image && strlist_has(&cfg->images, it->image);
	if (l->flag_script && !l->flag)
		it->opt_in = OPT_MISPLACED;
	else if (it->flag == 0)
		it->opt_in = OPT_OUT;
	else if (it->flag == 1)
		it->opt_in = dflt ? OPT_DEFAULT : OPT_IN;
	else
		it->opt_in = dflt ? OPT_DEFAULT : OPT_NOT_IN;

	if (opts->exclude && match_any(opts->exclude, it->path, &which)) {
		char reason[300];
		snprintf(reason, sizeof(reason), "excluded by '%s'", which);
		set_status(it, STATUS_SKIPPED, reason);
	} else if (match_any(&cfg->exclude, it->path, &which)) {
		char reason[300];
		snprintf(reason, sizeof(reason), "excluded by '%s'", which);
		set_status(it, STATUS_SKIPPED, reason);
	} else if (opts->only && opts->only->nr && !match_any(opts->only, it->path, NULL)) {
		set_status(it, STATUS_SKIPPED, "not matched by --only");
	} else if (opts->shard_n > 0 &&
	           !group_in_shard(&it->group_id, opts->shard_k, opts->shard_n)) {
		set_status(it, STATUS_SKIPPED, "another shard");
	} else if (it->deprecated && cfg->skip_deprecated) {
		set_status(it, STATUS_SKIPPED, "deprecated");
	} else if (it->hidden_pack && cfg->skip_hidden_packs) {
		set_status(it, STATUS_SKIPPED, "hidden pack");
	} else if (!it->image_ref || (it->script_type && !strcmp(it->script_type, "javascript"))) {
		set_status(it, STATUS_NO_IMAGE, NULL);
	} else if (!it->image) {
		set_status(it, STATUS_UNPARSEABLE, "dockerimage is not an image reference");
	} else if (it->flag == 0) {
		set_status(it, STATUS_OPTED_OUT, NULL);
	} else if (!dflt && it->flag != 1) {
		set_status(it, STATUS_NOT_OPTED_IN, NULL);
	} else if (!namespace_allowed(cfg, it->image)) {
		/* Wanted (a default image or opted in), but never written outside these namespaces.
		 */
		set_status(it, STATUS_NOT_ALLOWED, NULL);
	} else {
		set_status(it, STATUS_PENDING, NULL);
	}
}

/* --- the scan --- */

void scan_init(struct scan *s)
{
	memset(s, 0, sizeof(*s));
}

static void item_release(struct item *it)
{
	free(it->path);
	free(it->pack);
	free(it->name);
	free(it->display);
	free(it->image_ref);
	free(it->image);
	free(it->tag);
	free(it->dockerimage45);
	strlist_clear(&it->alt_images);
	free(it->fromversion);
	free(it->script_type);
	free(it->reason);
	strlist_clear(&it->warnings);
	free(it->target);
	free(it->verify_detail);
}

void scan_release(struct scan *s)
{
	size_t i;
	for (i = 0; i < s->nr; i++)
		item_release(&s->items[i]);
	free(s->items);
	scan_init(s);
}

static int collect_from_git(struct collector *c, const struct scan_opts *opts, struct db_err *err)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	int ret = 0;

	if (git_commit_lookup(&commit, opts->repo, opts->commit) < 0 ||
	    git_commit_tree(&tree, commit) < 0) {
		ret = db_err_git(err, DB_ENOTFOUND, "cannot read the tree of commit '%s'",
		                 git_oid_tostr_s(opts->commit));
		goto out;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, c) < 0) {
		ret = db_err_git(err, DB_ERROR, "cannot walk the tree of '%s'",
		                 git_oid_tostr_s(opts->commit));
	}
out:
	git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

int scan_run(struct scan *s, const struct scan_opts *opts, const struct config *cfg,
             struct db_err *err)
{
	struct collector c = {.cfg = cfg};
	struct pack_info *packs = NULL;
	size_t npacks = 0, i;
	struct scancache *cache = NULL;
	char *cache_path = NULL;
	git_oid *keep = NULL;
	int ret, dirty = 0;

	if (opts->worktree) {
		struct buf rel = BUF_INIT;
		ret = walk_dir(&c, opts->dir, &rel, err);
		buf_release(&rel);
	} else {
		ret = collect_from_git(&c, opts, err);
	}
	if (ret)
		goto out;
	if (c.nr)
		qsort(c.v, c.nr, sizeof(c.v[0]), cmp_candidate);
	list_packs(&packs, &npacks, &c);

	/* Git mode only: there the blob ids are known before anything is read. */
	if (!opts->no_cache && !opts->worktree) {
		cache_path = locator_cache_path(opts->dir);
		cache = scancache_load(cache_path);
	}
	if (cache) {
		for (i = 0; i < c.nr; i++)
			if (scancache_get(cache, &c.v[i].blob, &c.v[i].loc)) {
				c.v[i].have = 1;
				s->cache_hits++;
			}
	}
	{
		struct locate_ctx lctx = {
		    c.v, c.nr, (c.nr + SCAN_CHUNK - 1) / SCAN_CHUNK, packs, npacks, opts, NULL};
		if (!opts->worktree && git_repository_odb(&lctx.odb, opts->repo) < 0) {
			ret =
			    db_err_set(err, DB_ERROR, "cannot open the objects of '%s'", opts->dir);
			goto out;
		}
		parallel_for(lctx.chunks + (npacks + SCAN_CHUNK - 1) / SCAN_CHUNK, 0, scan_task,
		             &lctx);
		git_odb_free(lctx.odb);
	}

	s->items = xcalloc(c.nr ? c.nr : 1, sizeof(*s->items));
	s->alloc = c.nr ? c.nr : 1;
	for (i = 0; i < c.nr; i++) {
		struct item *it = &s->items[s->nr++];
		it->path = c.v[i].path;
		c.v[i].path = NULL;
		git_oid_cpy(&it->blob, &c.v[i].blob);
		if (c.v[i].pack != NO_PACK) {
			it->pack = xstrdup(packs[c.v[i].pack].name);
			it->hidden_pack = packs[c.v[i].pack].hidden;
		}
		classify(it, &c.v[i].loc, cfg, opts);
		if (c.v[i].have == 2) {
			s->files_read++;
			if (cache) {
				scancache_put(cache, &it->blob, &c.v[i].loc);
				dirty = 1;
			}
		}
		located_release(&c.v[i].loc);
	}
	if (cache && dirty) {
		/* Keep only what this tree uses, so the file does not grow without bound. */
		keep = xcalloc(s->nr ? s->nr : 1, sizeof(*keep));
		for (i = 0; i < s->nr; i++)
			git_oid_cpy(&keep[i], &s->items[i].blob);
		scancache_save(cache, cache_path, keep, s->nr);
	}
out:
	for (i = 0; i < c.nr; i++) {
		free(c.v[i].path);
		located_release(&c.v[i].loc);
	}
	free(c.v);
	for (i = 0; i < c.nr_meta; i++)
		free(c.meta[i].pack);
	free(c.meta);
	for (i = 0; i < npacks; i++)
		free(packs[i].name);
	free(packs);
	scancache_free(cache);
	free(keep);
	free(cache_path);
	return ret;
}

int scan_read_item(struct buf *out, const struct scan_opts *opts, const struct item *it,
                   struct db_err *err)
{
	return read_source(out, opts, it->path, &it->blob, err);
}

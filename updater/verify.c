/*
 * The verification session: items, their run requests, the outcome cache, the lazy
 * differential (new image first, old image only when the new outcome is not clean), which
 * images to pull and prune, and the verdict. Containers are verify_engine.c's business.
 */
#include "updater/verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/parallel.h"
#include "common/proc.h"
#include "updater/verify_int.h"
#include "common/banned.h"

/* docker/loop.py, embedded by cmake/embed.cmake. */
extern const unsigned char embed_loop[];
extern const size_t embed_loop_len;

#define CACHE_VERSION "dockerbump-verify-cache-2"

/* A cached outcome is a few KiB of JSON; anything larger is not one of ours. */
#define VERIFY_CACHE_MAX (16u << 20)

enum { OLD = 0, NEW = 1 };

struct vitem {
	struct verify_result res;
	char *id, *name, *code, *test_file;
	char *image[2];
	int integration;
	json_t *files; /* tests level: the item's folder, {"path": "base64 of the bytes"} */
	struct vrec rec[2];
	const char **regressed_tests; /* borrowed from rec[NEW] */
	char *why;
	int ran;
};

/* An image of the current run: its id when known without pulling, whether it was pulled. */
struct vimage {
	char *ref;
	char *id;       /* NULL until known */
	int present;    /* in the engine now */
	int need;       /* a run needs it in the engine */
	int pulled;     /* this run pulled it */
	int remembered; /* `id` comes from the cache of ids, not from the engine */
	char *why;      /* it could not be had */
};

struct verify_session {
	struct verify_opts opts;
	char *runtime, *memory, *cpus, *cache_dir, *local_python;
	char *modules; /* `"modules":{...}` or NULL */
	struct vitem **items;
	size_t nr, alloc;
	struct verify_stats stats;
	/* Of the current verify_session_run(). */
	struct vimage *images;
	size_t nr_images, alloc_images;
	struct vlocal local;
	int listed;
	unsigned seq; /* container names */
};

static const char *const outcome_names[] = {
    "ok", "error-entry", "exception", "timeout", "crash", "skipped", "error", "not-run",
};

const char *verify_outcome_name(enum verify_outcome o)
{
	if ((size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]))
		return outcome_names[o];
	return "unknown";
}

static int outcome_parse(enum verify_outcome *out, const char *s)
{
	size_t i;

	for (i = 0; s && i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (!strcmp(s, outcome_names[i])) {
			*out = (enum verify_outcome)i;
			return 0;
		}
	return -1;
}

static int ranked(enum verify_outcome o)
{
	return o >= VERIFY_OUTCOME_OK && o <= VERIFY_OUTCOME_CRASH;
}

/*
 * The name exception types are compared by. Python 3.6 raises ModuleNotFoundError where
 * Python 2 raised its base class ImportError for the same missing module: one failure.
 */
static const char *exception_class(const char *type)
{
	if (!type)
		return "";
	return strcmp(type, "ModuleNotFoundError") ? type : "ImportError";
}

static int test_cmp(const void *a, const void *b)
{
	return strcmp(((const struct verify_test *)a)->id, ((const struct verify_test *)b)->id);
}

/*
 * The tests that pass in `o` and fail or error in `n`, or are gone from an `n` that did not
 * pass (its tests could not even be collected). Stored in `out` when it is not NULL; returns
 * how many.
 */
static size_t regressed_tests(const struct verify_side *o, const struct verify_side *n,
                              const char **out)
{
	struct verify_test *sorted;
	size_t i, count = 0;

	if (!o->nr_tests || !ranked(o->outcome) || !ranked(n->outcome))
		return 0;
	sorted = xcalloc(n->nr_tests ? n->nr_tests : 1, sizeof(*sorted));
	if (n->nr_tests)
		memcpy(sorted, n->tests, n->nr_tests * sizeof(*sorted));
	qsort(sorted, n->nr_tests, sizeof(*sorted), test_cmp);
	for (i = 0; i < o->nr_tests; i++) {
		const struct verify_test *now;
		if (strcmp(o->tests[i].outcome, "passed"))
			continue;
		now = n->nr_tests
		          ? bsearch(&o->tests[i], sorted, n->nr_tests, sizeof(*sorted), test_cmp)
		          : NULL;
		if (now ? !strcmp(now->outcome, "failed") || !strcmp(now->outcome, "error")
		        : n->outcome != VERIFY_OUTCOME_OK) {
			if (out)
				out[count] = o->tests[i].id;
			count++;
		}
	}
	free(sorted);
	return count;
}

int verify_regressed(const struct verify_side *old_side, const struct verify_side *new_side)
{
	if (!ranked(old_side->outcome) || !ranked(new_side->outcome))
		return 0;
	if (new_side->outcome > old_side->outcome)
		return 1;
	if (old_side->outcome == VERIFY_OUTCOME_EXCEPTION &&
	    new_side->outcome == VERIFY_OUTCOME_EXCEPTION &&
	    strcmp(exception_class(old_side->exception_type),
	           exception_class(new_side->exception_type)))
		return 1;
	return regressed_tests(old_side, new_side, NULL) > 0;
}

int verify_result_blocks(const struct verify_result *r)
{
	if (r->regressed || r->new.outcome == VERIFY_OUTCOME_ERROR)
		return 1;
	/* Nothing to compare with: only a clean run of the new image lets the bump through. */
	return r->old.outcome == VERIFY_OUTCOME_ERROR && r->new.outcome != VERIFY_OUTCOME_OK &&
	       r->new.outcome != VERIFY_OUTCOME_SKIPPED;
}

void verify_opts_init(struct verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->level = VERIFY_LOAD;
	o->runtime = "docker";
	o->timeout_s = 60;
	o->memory = "512m";
	o->pids = 256;
	o->cpus = "1";
	o->jobs = 2;
	o->max_output = 4u << 20;
	o->prune_images = 1;
}

/* ---- encoding helpers ---------------------------------------------------------------- */

void verify_base64(struct buf *out, const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i;

	buf_grow(out, (len + 2) / 3 * 4);
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
		buf_add(out, q, 4);
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		char q[4] = {tab[v >> 18], tab[(v >> 12) & 63],
		             i + 1 < len ? tab[(v >> 6) & 63] : '=', '='};
		buf_add(out, q, 4);
	}
}

static int safe_member(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/' || strlen(path) > 255)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && !strncmp(p, "..", 2)) || n == 0)
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

json_t *verify_files_json(const struct verify_file *files, size_t nr, struct db_err *err)
{
	json_t *map = json_object();
	size_t i;

	for (i = 0; i < nr; i++) {
		struct buf b64 = BUF_INIT;
		if (!safe_member(files[i].path) || json_object_get(map, files[i].path) ||
		    !utf8_valid(files[i].path, strlen(files[i].path), NULL)) {
			json_decref(map);
			return db_err_set(err, DB_EPARSE,
			                  "'%s': not a path inside the item's folder",
			                  files[i].path),
			       NULL;
		}
		verify_base64(&b64, files[i].data, files[i].len);
		json_object_set_new(map, files[i].path, json_stringn(b64.ptr, b64.len));
		buf_release(&b64);
	}
	return map;
}

/* ---- session ------------------------------------------------------------------------- */

static int modules_fragment(struct verify_session *s, const struct verify_opts *o,
                            struct db_err *err)
{
	static const char *const names[] = {"CommonServerPython", "CommonServerUserPython",
	                                    "demistomock"};
	const char *sources[] = {o->common_server_python, o->common_server_user_python,
	                         o->demistomock};
	json_t *mods = json_object();
	char *text;
	size_t i;
	int ret = 0;

	for (i = 0; i < 3; i++) {
		json_t *src;
		if (!sources[i])
			continue;
		if (!(src = json_string(sources[i]))) {
			ret = db_err_set(err, DB_EPARSE, "'%s': not valid UTF-8", names[i]);
			goto out;
		}
		json_object_set_new(mods, names[i], src);
	}
	if (json_object_size(mods)) {
		text = json_dumps(mods, JSON_COMPACT);
		s->modules = xasprintf("\"modules\":%s", text ? text : "{}");
		free(text);
	}
out:
	json_decref(mods);
	return ret;
}

/* A name for this session's containers that no other run on the engine picks: other runs
 * may live in other PID namespaces, so the pid alone is not enough. */
static void session_id(char *out, size_t size)
{
	unsigned char rnd[6];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	unsigned long long mix;
	size_t i;

	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		mix = (unsigned long long)getpid() * 2654435761u ^ (unsigned long long)time(NULL) ^
		      (unsigned long long)clock_now_ms() << 20;
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(mix >> (8 * i));
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof(rnd) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

int verify_session_new(struct verify_session **out, const struct verify_opts *opts,
                       struct db_err *err)
{
	struct verify_session *s;
	char *base;

	*out = NULL;
	if (opts->timeout_s <= 0 || opts->pids <= 0 || opts->jobs <= 0 || !opts->runtime ||
	    !opts->runtime[0] || !opts->memory || !opts->cpus)
		return db_err_set(err, DB_EUSAGE,
		                  "verify: timeout, pids and jobs must be positive, "
		                  "runtime, memory and cpus set");
	s = xcalloc(1, sizeof(*s));
	git_libgit2_init();
	s->opts = *opts;
	session_id(s->stats.session, sizeof(s->stats.session));
	s->runtime = xstrdup(opts->runtime);
	s->memory = xstrdup(opts->memory);
	s->cpus = xstrdup(opts->cpus);
	s->local_python = opts->local_python ? xstrdup(opts->local_python) : NULL;
	if (opts->cache_dir) {
		s->cache_dir = opts->cache_dir[0] ? xstrdup(opts->cache_dir) : NULL;
	} else if ((base = cache_dir_path()) != NULL) {
		s->cache_dir = xasprintf("%s/verify", base);
		free(base);
	}
	if (!s->opts.max_output)
		s->opts.max_output = 4u << 20;
	s->opts.runtime = s->runtime;
	s->opts.memory = s->memory;
	s->opts.cpus = s->cpus;
	s->opts.cache_dir = s->cache_dir;
	s->opts.local_python = s->local_python;
	if (modules_fragment(s, opts, err) < 0) {
		verify_session_free(s);
		return err->code;
	}
	/* The module sources now live in `modules` only. */
	s->opts.common_server_python = NULL;
	s->opts.common_server_user_python = NULL;
	s->opts.demistomock = NULL;
	*out = s;
	return 0;
}

static void item_free(struct vitem *it)
{
	if (!it)
		return;
	free(it->id);
	free(it->name);
	free(it->code);
	free(it->test_file);
	free(it->why);
	free(it->regressed_tests);
	free(it->image[OLD]);
	free(it->image[NEW]);
	json_decref(it->files);
	vrec_release(&it->rec[OLD]);
	vrec_release(&it->rec[NEW]);
	free(it);
}

void verify_session_free(struct verify_session *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++)
		item_free(s->items[i]);
	free(s->items);
	free(s->runtime);
	free(s->memory);
	free(s->cpus);
	free(s->cache_dir);
	free(s->local_python);
	free(s->modules);
	git_libgit2_shutdown();
	free(s);
}

int verify_session_add(struct verify_session *s, size_t *index, const struct verify_item *item,
                       struct db_err *err)
{
	struct vitem *it;

	if (!item->id || !item->name || !item->code)
		return db_err_set(err, DB_EUSAGE, "verify: an item needs an id, a name and code");
	it = xcalloc(1, sizeof(*it));
	vrec_init(&it->rec[OLD]);
	vrec_init(&it->rec[NEW]);
	if (s->opts.level == VERIFY_TESTS &&
	    !(it->files = verify_files_json(item->files, item->nr_files, err))) {
		db_err_prefix(err, "'%s'", item->id);
		item_free(it);
		return DB_EPARSE;
	}
	it->id = xstrdup(item->id);
	it->name = xstrdup(item->name);
	it->code = xstrdup(item->code);
	it->test_file =
	    item->test_file ? xstrdup(item->test_file) : xasprintf("%s_test.py", item->name);
	it->integration = !!item->integration;
	it->image[OLD] = item->image_old ? xstrdup(item->image_old) : NULL;
	it->image[NEW] = item->image_new ? xstrdup(item->image_new) : NULL;
	ALLOC_GROW(s->items, s->nr + 1, s->alloc);
	if (index)
		*index = s->nr;
	s->items[s->nr++] = it;
	return 0;
}

size_t verify_session_count(const struct verify_session *s)
{
	return s->nr;
}

const struct verify_result *verify_session_result(const struct verify_session *s, size_t index)
{
	return index < s->nr ? &s->items[index]->res : NULL;
}

void verify_session_stats(const struct verify_session *s, struct verify_stats *out)
{
	*out = s->stats;
}

/* ---- requests and the cache ---------------------------------------------------------- */

static const char *level_word(enum verify_level l)
{
	return l == VERIFY_COMPILE ? "compile" : l == VERIFY_TESTS ? "tests" : "load";
}

static char *build_request(const struct verify_session *s, const struct vitem *it)
{
	json_t *req = json_object();
	char *text;

	json_object_set_new(req, "type", json_string("run"));
	json_object_set_new(req, "name", json_string(it->name));
	json_object_set_new(req, "integration", json_boolean(it->integration));
	json_object_set_new(req, "native", json_false());
	json_object_set_new(req, "level", json_string(level_word(s->opts.level)));
	json_object_set_new(req, "timeout", json_integer(s->opts.timeout_s));
	json_object_set_new(req, "max_output", json_integer((json_int_t)s->opts.max_output));
	json_object_set_new(req, "args", json_object());
	json_object_set_new(req, "params", json_object());
	json_object_set_new(req, "script", json_string(it->code));
	if (s->opts.level == VERIFY_TESTS) {
		json_object_set(req, "files", it->files);
		json_object_set_new(req, "test", json_string(it->test_file));
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return text; /* NULL when the code is not valid UTF-8 */
}

/* The cache key: everything that can change an outcome. */
static void cache_key(char *hex, const struct verify_session *s, const char *image_id,
                      const char *request)
{
	struct buf b = BUF_INIT;
	git_oid oid;

	buf_addf(&b, "%s\n%s\n%s\n%s\n%d\n%s\n", CACHE_VERSION, image_id, s->opts.memory,
	         s->opts.cpus, s->opts.pids, s->modules ? s->modules : "");
	buf_add(&b, embed_loop, embed_loop_len);
	buf_addch(&b, '\n');
	buf_adds(&b, request);
	git_odb_hash(&oid, b.ptr, b.len, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
	buf_release(&b);
}

static char *cache_path(const struct verify_session *s, const char *key)
{
	return xasprintf("%s/%.2s/%s.json", s->cache_dir, key, key + 2);
}

static int cache_load(struct vrec *r, const struct verify_session *s, const char *key)
{
	char *path;
	json_t *doc, *t;
	enum verify_outcome o;
	const char *text;
	size_t i;

	if (!s->cache_dir)
		return 0;
	path = cache_path(s, key);
	{
		/* Through file_read(): a FIFO or a device planted in a restored cache is refused,
		 * not waited on. */
		struct buf raw = BUF_INIT;
		struct db_err ferr = DB_ERR_INIT;
		doc = file_read(&raw, path, VERIFY_CACHE_MAX, &ferr) == 0
		          ? json_loadb(raw.ptr, raw.len, 0, NULL)
		          : NULL;
		if (ferr.code && ferr.code != DB_ENOTFOUND)
			log_warn("verification cache: %s; ignored", ferr.msg);
		buf_release(&raw);
	}
	free(path);
	if (!json_is_object(doc) ||
	    outcome_parse(&o, json_string_value(json_object_get(doc, "outcome"))) < 0) {
		json_decref(doc);
		return 0;
	}
	r->outcome = o;
	r->cached = 1;
	if ((text = json_string_value(json_object_get(doc, "exception_type"))))
		r->exception_type = xstrdup(text);
	if ((text = json_string_value(json_object_get(doc, "message"))))
		r->message = xstrdup(text);
	if ((text = json_string_value(json_object_get(doc, "traceback"))))
		r->traceback = xstrdup(text);
	if ((text = json_string_value(json_object_get(doc, "log"))))
		buf_adds(&r->log, text);
	json_array_foreach(json_object_get(doc, "tests"), i, t)
	{
		const char *id = json_string_value(json_object_get(t, "id"));
		const char *outcome = json_string_value(json_object_get(t, "outcome"));
		if (id && outcome)
			vrec_add_test(r, id, outcome);
	}
	r->duration_ms = (long)json_integer_value(json_object_get(doc, "duration_ms"));
	json_decref(doc);
	return 1;
}

static void cache_write(const char *dir, const char *path, const char *text)
{
	struct db_err err = DB_ERR_INIT;

	if (mkdir_p(dir, 1, &err) < 0 || file_write_atomic(path, text, strlen(text), &err) < 0)
		log_warn("verify cache: %s", err.msg);
}

static void cache_store(const struct verify_session *s, const char *key, const struct vrec *r)
{
	char *path, *dir, *text;
	json_t *doc, *tests;
	size_t i;

	if (!s->cache_dir || !r->cacheable)
		return;
	tests = json_array();
	for (i = 0; i < r->nr_tests; i++)
		json_array_append_new(tests, json_pack("{s:s, s:s}", "id", r->tests[i].id,
		                                       "outcome", r->tests[i].outcome));
	doc = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:o, s:I}", "outcome",
	                verify_outcome_name(r->outcome), "exception_type", r->exception_type,
	                "message", r->message, "traceback", r->traceback, "log", r->log.ptr,
	                "tests", tests, "duration_ms", (json_int_t)r->duration_ms);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	path = cache_path(s, key);
	dir = xasprintf("%s/%.2s", s->cache_dir, key);
	if (text)
		cache_write(dir, path, text);
	free(dir);
	free(path);
	free(text);
	json_decref(doc);
}

/*
 * The ids of images the engine no longer holds (pruned, or pulled on another run), so that a
 * rerun can find its outcomes without pulling again. Tags are immutable (SPEC §1); an image
 * the engine holds is always known by its real id.
 */
static char *ref_id_path(const struct verify_session *s, const char *ref)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;

	git_odb_hash(&oid, ref, strlen(ref), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &oid);
	return xasprintf("%s/images/%s", s->cache_dir, hex);
}

static char *ref_id_load(const struct verify_session *s, const char *ref)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char *path, *id = NULL;

	if (!s->cache_dir)
		return NULL;
	path = ref_id_path(s, ref);
	if (file_read(&b, path, 4096, &err) == 0) {
		buf_rtrim(&b);
		if (b.len && !memchr(b.ptr, '\n', b.len))
			id = xstrdup(b.ptr);
	}
	buf_release(&b);
	free(path);
	return id;
}

static void ref_id_store(const struct verify_session *s, const char *ref, const char *id)
{
	char *path, *dir;

	if (!s->cache_dir)
		return;
	path = ref_id_path(s, ref);
	dir = xasprintf("%s/images", s->cache_dir);
	cache_write(dir, path, id);
	free(dir);
	free(path);
}

/* ---- images -------------------------------------------------------------------------- */

static struct vimage *image_get(struct verify_session *s, const char *ref)
{
	struct vimage *img;
	const char *id;
	size_t i;

	for (i = 0; i < s->nr_images; i++)
		if (!strcmp(s->images[i].ref, ref))
			return &s->images[i];
	if (!s->listed) {
		verify_engine_local_images(&s->local, &s->opts);
		s->listed = 1;
	}
	ALLOC_GROW(s->images, s->nr_images + 1, s->alloc_images);
	img = &s->images[s->nr_images++];
	memset(img, 0, sizeof(*img));
	img->ref = xstrdup(ref);
	if (s->opts.local_python) {
		/* The image names only label the results: each its own outcomes. */
		img->id = xasprintf("local:%s:%s", s->opts.local_python, ref);
		img->present = 1;
	} else if ((id = vlocal_find(&s->local, ref)) != NULL) {
		img->id = xstrdup(id);
		img->present = 1;
	} else if ((img->id = ref_id_load(s, ref)) != NULL) {
		img->remembered = 1;
	}
	return img;
}

static void images_release(struct verify_session *s)
{
	size_t i;

	for (i = 0; i < s->nr_images; i++) {
		free(s->images[i].ref);
		free(s->images[i].id);
		free(s->images[i].why);
	}
	free(s->images);
	s->images = NULL;
	s->nr_images = s->alloc_images = 0;
	vlocal_release(&s->local);
	s->listed = 0;
}

struct pull_ctx {
	struct verify_session *s;
	struct vimage **todo;
};

static void pull_one(size_t i, void *payload)
{
	struct pull_ctx *c = payload;
	struct vimage *img = c->todo[i];
	struct db_err err = DB_ERR_INIT;
	char *id = NULL;
	int pulled = 0;

	if (verify_engine_pull(&id, &pulled, &c->s->opts, img->ref, &err) < 0) {
		img->why = xstrdup(err.msg);
		return;
	}
	free(img->id);
	img->id = id;
	img->present = 1;
	img->remembered = 0;
	img->pulled = pulled;
}

/* Makes every image a run needs present: `jobs` pulls at once. */
static void pull_needed(struct verify_session *s)
{
	struct pull_ctx c = {s, NULL};
	size_t i, n = 0;

	c.todo = xcalloc(s->nr_images ? s->nr_images : 1, sizeof(*c.todo));
	for (i = 0; i < s->nr_images; i++)
		if (s->images[i].need && !s->images[i].present && !s->images[i].why)
			c.todo[n++] = &s->images[i];
	if (n)
		parallel_for(n, s->opts.jobs, pull_one, &c);
	for (i = 0; i < n; i++) {
		if (c.todo[i]->why) {
			log_error("%s", c.todo[i]->why);
			continue;
		}
		s->stats.pulls += (unsigned)c.todo[i]->pulled;
		ref_id_store(s, c.todo[i]->ref, c.todo[i]->id);
	}
	free(c.todo);
}

/* Removes the images this run pulled (prune_images): a nightly run does not fill the disk. */
static void prune_pulled(struct verify_session *s)
{
	size_t i;

	if (!s->opts.prune_images || s->opts.local_python)
		return;
	for (i = 0; i < s->nr_images; i++) {
		struct db_err err = DB_ERR_INIT;
		if (!s->images[i].pulled)
			continue;
		if (verify_engine_remove_image(&s->opts, s->images[i].ref, &err) < 0) {
			log_info("verify: kept '%s': %s", s->images[i].ref, err.msg);
			continue;
		}
		s->stats.images_removed++;
		log_info("verify: removed '%s', pulled for this run", s->images[i].ref);
	}
}

/* ---- running ------------------------------------------------------------------------- */

struct pending {
	struct vitem *item;
	int side;
	char *request;
	struct vimage *image;
	char key[GIT_OID_HEXSZ + 1];
	int done; /* the record is final (from the cache, or an error) */
};

/* Whether the new side says all there is to know: the old image cannot do better. */
static int clean(const struct vitem *it)
{
	if (!it->image[NEW])
		return 0;
	return it->rec[NEW].outcome == VERIFY_OUTCOME_OK ||
	       it->rec[NEW].outcome == VERIFY_OUTCOME_SKIPPED ||
	       it->rec[NEW].outcome == VERIFY_OUTCOME_ERROR;
}

static void side_of(struct verify_side *v, const struct vitem *it, int side)
{
	const struct vrec *r = &it->rec[side];

	v->outcome = r->outcome;
	v->image = it->image[side];
	v->exception_type = r->exception_type;
	v->message = r->message;
	v->traceback = r->traceback;
	v->log = r->log.ptr;
	v->tests = r->tests;
	v->nr_tests = r->nr_tests;
	v->duration_ms = r->duration_ms;
	v->cached = r->cached;
}

/* "exception ModuleNotFoundError: No module named 'yaml'": an outcome and what it says. */
static void describe(struct buf *b, const struct verify_side *v)
{
	const char *msg = v->message;

	buf_adds(b, verify_outcome_name(v->outcome));
	if (v->exception_type)
		buf_addf(b, " %s", v->exception_type);
	if (msg && *msg) {
		size_t n = strcspn(msg, "\n");
		buf_addf(b, "%s%.*s%s", v->exception_type ? ": " : " (", (int)(n > 300 ? 300 : n),
		         msg, v->exception_type ? "" : ")");
	}
}

static void finish_item(struct vitem *it)
{
	struct verify_result *res = &it->res;
	struct buf why = BUF_INIT;
	size_t n, i;

	res->id = it->id;
	res->name = it->name;
	side_of(&res->old, it, OLD);
	side_of(&res->new, it, NEW);
	res->regressed = verify_regressed(&res->old, &res->new);
	free(it->regressed_tests);
	it->regressed_tests = NULL;
	n = regressed_tests(&res->old, &res->new, NULL);
	if (n) {
		it->regressed_tests = xcalloc(n, sizeof(*it->regressed_tests));
		regressed_tests(&res->old, &res->new, it->regressed_tests);
	}
	res->regressed_tests = it->regressed_tests;
	res->nr_regressed_tests = n;
	free(it->why);
	it->why = NULL;
	if (res->regressed) {
		buf_addf(&why, "regressed: '%s' gives ", res->new.image);
		describe(&why, &res->new);
		buf_addf(&why, "; '%s' gives ", res->old.image);
		describe(&why, &res->old);
		if (n) {
			buf_addf(&why,
			         "; %zu test%s pass%s in the old image and fail in the new one:", n,
			         n == 1 ? "" : "s", n == 1 ? "es" : "");
			for (i = 0; i < n && i < 20; i++)
				buf_addf(&why, "%s %s", i ? "," : "", it->regressed_tests[i]);
			if (n > 20)
				buf_addf(&why, ", and %zu more", n - 20);
		}
	} else if (verify_result_blocks(res)) {
		if (res->new.outcome == VERIFY_OUTCOME_ERROR) {
			buf_addf(&why, "could not verify in '%s': %s", res->new.image,
			         res->new.message ? res->new.message : "error");
		} else {
			buf_addf(&why,
			         "could not verify in the old image '%s' (%s), and '%s' gives ",
			         res->old.image, res->old.message ? res->old.message : "error",
			         res->new.image);
			describe(&why, &res->new);
		}
	}
	if (why.len)
		it->why = buf_detach(&why, NULL);
	res->why = it->why;
	buf_release(&why);
}

static void pending_add(struct pending **p, size_t *nr, size_t *alloc, struct vitem *it, int side)
{
	ALLOC_GROW(*p, *nr + 1, *alloc);
	memset(&(*p)[*nr], 0, sizeof((*p)[*nr]));
	(*p)[*nr].item = it;
	(*p)[*nr].side = side;
	(*nr)++;
}

/*
 * Runs one side of the pending items: outcomes from the cache where it knows them, then the
 * images the others need are pulled and the others run. Returns how many ran.
 */
static size_t run_side(struct verify_session *s, struct pending *p, size_t nr)
{
	struct vrun *runs = xcalloc(nr ? nr : 1, sizeof(*runs));
	size_t i, nr_runs = 0;

	for (i = 0; i < nr; i++) {
		struct vrec *rec = &p[i].item->rec[p[i].side];
		p[i].image = image_get(s, p[i].item->image[p[i].side]);
		p[i].request = build_request(s, p[i].item);
		if (!p[i].request) {
			vrec_fail(rec, VERIFY_OUTCOME_ERROR, "'%s': the code is not valid UTF-8",
			          p[i].item->id);
			p[i].done = 1;
			continue;
		}
		if (p[i].image->id) {
			cache_key(p[i].key, s, p[i].image->id, p[i].request);
			if (cache_load(rec, s, p[i].key)) {
				s->stats.cache_hits++;
				p[i].done = 1;
				continue;
			}
		}
		p[i].image->need = 1;
	}
	pull_needed(s);
	for (i = 0; i < nr; i++) {
		struct vrec *rec = &p[i].item->rec[p[i].side];
		char key[GIT_OID_HEXSZ + 1];
		if (p[i].done)
			continue;
		if (p[i].image->why) {
			vrec_fail(rec, VERIFY_OUTCOME_ERROR, "%s", p[i].image->why);
			continue;
		}
		/* A remembered id that turned out stale, or one only the pull told. */
		cache_key(key, s, p[i].image->id, p[i].request);
		if (strcmp(key, p[i].key)) {
			memcpy(p[i].key, key, sizeof(key));
			if (cache_load(rec, s, p[i].key)) {
				s->stats.cache_hits++;
				continue;
			}
		}
		runs[nr_runs].image = p[i].item->image[p[i].side];
		runs[nr_runs].request = p[i].request;
		runs[nr_runs].rec = rec;
		runs[nr_runs].index = (int)i;
		nr_runs++;
	}
	if (nr_runs) {
		struct vengine_opts eo = {&s->opts,   (const char *)embed_loop, embed_loop_len,
		                          s->modules, s->stats.session,         &s->seq,
		                          &s->stats};
		struct db_err err = DB_ERR_INIT;
		verify_engine_run(&eo, runs, nr_runs, &err);
		s->stats.items_run += (unsigned)nr_runs;
		for (i = 0; i < nr_runs; i++)
			cache_store(s, p[runs[i].index].key, runs[i].rec);
	}
	for (i = 0; i < nr; i++) {
		free(p[i].request);
		p[i].request = NULL;
	}
	free(runs);
	return nr_runs;
}

/* An old side the new one made unnecessary: from the cache when it is known without pulling
 * anything, else not run. */
static void old_not_needed(struct verify_session *s, struct vitem *it)
{
	struct vrec *rec = &it->rec[OLD];
	struct vimage *img = image_get(s, it->image[OLD]);
	char key[GIT_OID_HEXSZ + 1];
	char *request;

	if (img->id && (request = build_request(s, it)) != NULL) {
		cache_key(key, s, img->id, request);
		free(request);
		if (cache_load(rec, s, key)) {
			s->stats.cache_hits++;
			return;
		}
	}
	vrec_fail(rec, VERIFY_OUTCOME_NOT_RUN, "not run: the new image gives %s",
	          verify_outcome_name(it->rec[NEW].outcome));
}

int verify_session_run(struct verify_session *s, struct db_err *err)
{
	long long started = clock_now_ms();
	struct pending *p = NULL;
	size_t nr = 0, alloc = 0, i, ran_new = 0, ran_old = 0;
	unsigned hits = s->stats.cache_hits;
	int ret = 0, any = 0;

	for (i = 0; i < s->nr; i++) {
		struct vitem *it = s->items[i];
		if (it->ran || s->opts.level == VERIFY_OFF)
			continue;
		it->ran = 1;
		any |= it->image[OLD] || it->image[NEW];
	}
	if (any && (ret = verify_engine_check(&s->opts, err)) < 0) {
		for (i = 0; i < s->nr; i++)
			s->items[i]->ran = 0;
		goto out;
	}
	/* The new image first. */
	for (i = 0; i < s->nr; i++)
		if (s->items[i]->ran == 1 && s->items[i]->image[NEW])
			pending_add(&p, &nr, &alloc, s->items[i], NEW);
	ran_new = run_side(s, p, nr);
	/* The old image only where the new one is not clean. */
	nr = 0;
	for (i = 0; i < s->nr; i++) {
		struct vitem *it = s->items[i];
		if (it->ran != 1 || !it->image[OLD])
			continue;
		if (clean(it))
			old_not_needed(s, it);
		else
			pending_add(&p, &nr, &alloc, it, OLD);
	}
	ran_old = run_side(s, p, nr);
	s->stats.old_runs += (unsigned)ran_old;
	for (i = 0; i < s->nr; i++) {
		if (s->items[i]->ran == 1)
			s->items[i]->ran = 2;
		finish_item(s->items[i]);
	}
	if (any)
		log_info("verify: %zu run(s) in containers (%zu in old images), %u from the cache, "
		         "%u image(s) pulled, in %lld ms",
		         ran_new + ran_old, ran_old, s->stats.cache_hits - hits, s->stats.pulls,
		         clock_now_ms() - started);
	prune_pulled(s);
out:
	images_release(s);
	s->stats.wall_ms = (long)(clock_now_ms() - started);
	free(p);
	return ret;
}

/*
 * The verification session: items, their run requests, the outcome cache and the
 * differential verdict. Containers are verify_engine.c's business.
 */
#include "updater/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/proc.h"
#include "updater/verify_int.h"
#include "common/banned.h"

/* docker/loop.py, embedded by cmake/embed.cmake. */
extern const unsigned char embed_loop[];
extern const size_t embed_loop_len;

#define CACHE_VERSION "dockerbump-verify-cache-1"

enum { OLD = 0, NEW = 1 };

struct vitem {
	struct verify_result res;
	char *id, *name, *code, *test_file;
	char *image[2];
	int integration;
	struct buf tar; /* tests level: the item's folder */
	struct vrec rec[2];
	int ran;
};

struct verify_session {
	struct verify_opts opts;
	char *runtime, *memory, *cpus, *cache_dir, *local_python;
	char *modules; /* `"modules":{...}` or NULL */
	struct vitem **items;
	size_t nr, alloc;
	struct verify_stats stats;
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

int verify_regressed(const struct verify_side *old_side, const struct verify_side *new_side)
{
	if (!ranked(old_side->outcome) || !ranked(new_side->outcome))
		return 0;
	if (new_side->outcome > old_side->outcome)
		return 1;
	if (old_side->outcome == VERIFY_OUTCOME_EXCEPTION &&
	    new_side->outcome == VERIFY_OUTCOME_EXCEPTION)
		return strcmp(exception_class(old_side->exception_type),
		              exception_class(new_side->exception_type)) != 0;
	return 0;
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

/* A ustar header: names up to 100 bytes, longer ones split into prefix/name at a slash. */
static int tar_header(struct buf *out, const char *path, size_t size)
{
	unsigned char h[512];
	const char *name = path;
	size_t len = strlen(path), plen = 0, i;
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	if (len > 100) {
		const char *slash = path + len - 101;
		while (*slash && *slash != '/')
			slash++;
		if (!*slash || (size_t)(slash - path) > 155)
			return -1;
		plen = (size_t)(slash - path);
		name = slash + 1;
		memcpy(h + 345, path, plen);
	}
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	buf_add(out, h, sizeof(h));
	return 0;
}

int verify_tar(struct buf *out, const struct verify_file *files, size_t nr, struct db_err *err)
{
	static const char zeros[1024];
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!safe_member(files[i].path) || tar_header(out, files[i].path, files[i].len) < 0)
			return db_err_set(err, DB_EPARSE, "'%s': not a path to put in a tar",
			                  files[i].path);
		buf_add(out, files[i].data, files[i].len);
		if (files[i].len % 512)
			buf_add(out, zeros, 512 - files[i].len % 512);
	}
	buf_add(out, zeros, sizeof(zeros));
	return 0;
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
	free(it->image[OLD]);
	free(it->image[NEW]);
	buf_release(&it->tar);
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
	int ret;

	if (!item->id || !item->name || !item->code)
		return db_err_set(err, DB_EUSAGE, "verify: an item needs an id, a name and code");
	it = xcalloc(1, sizeof(*it));
	buf_init(&it->tar, 0);
	vrec_init(&it->rec[OLD]);
	vrec_init(&it->rec[NEW]);
	if (item->files && s->opts.level == VERIFY_TESTS &&
	    (ret = verify_tar(&it->tar, item->files, item->nr_files, err)) < 0) {
		db_err_prefix(err, "'%s'", item->id);
		item_free(it);
		return ret;
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
		struct buf b64 = BUF_INIT;
		verify_base64(&b64, it->tar.ptr, it->tar.len);
		json_object_set_new(req, "files", json_string(b64.ptr));
		json_object_set_new(req, "test", json_string(it->test_file));
		buf_release(&b64);
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
	json_t *doc;
	enum verify_outcome o;
	const char *text;

	if (!s->cache_dir)
		return 0;
	path = cache_path(s, key);
	doc = json_load_file(path, 0, NULL);
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
	r->duration_ms = (long)json_integer_value(json_object_get(doc, "duration_ms"));
	json_decref(doc);
	return 1;
}

static void cache_store(const struct verify_session *s, const char *key, const struct vrec *r)
{
	struct db_err err = DB_ERR_INIT;
	char *path, *dir, *text;
	json_t *doc;

	if (!s->cache_dir || !r->cacheable)
		return;
	doc = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:I}", "outcome",
	                verify_outcome_name(r->outcome), "exception_type", r->exception_type,
	                "message", r->message, "traceback", r->traceback, "log", r->log.ptr,
	                "duration_ms", (json_int_t)r->duration_ms);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	path = cache_path(s, key);
	dir = xasprintf("%s/%.2s", s->cache_dir, key);
	if (text &&
	    (mkdir_p(dir, 1, &err) < 0 || file_write_atomic(path, text, strlen(text), &err) < 0))
		log_warn("verify cache: %s", err.msg);
	free(dir);
	free(path);
	free(text);
	json_decref(doc);
}

/* ---- running ------------------------------------------------------------------------- */

struct pending {
	struct vitem *item;
	int side;
	char *request;
	char key[GIT_OID_HEXSZ + 1];
};

static void finish_item(struct vitem *it)
{
	int side;

	it->res.id = it->id;
	it->res.name = it->name;
	for (side = OLD; side <= NEW; side++) {
		struct verify_side *v = side == OLD ? &it->res.old : &it->res.new;
		struct vrec *r = &it->rec[side];
		v->outcome = r->outcome;
		v->image = it->image[side];
		v->exception_type = r->exception_type;
		v->message = r->message;
		v->traceback = r->traceback;
		v->log = r->log.ptr;
		v->duration_ms = r->duration_ms;
		v->cached = r->cached;
	}
	it->res.regressed = verify_regressed(&it->res.old, &it->res.new);
}

/* Distinct images among the runs, each resolved (and pulled) once. */
static void resolve_images(struct verify_session *s, struct pending *p, size_t nr, char **ids)
{
	size_t i, k;

	for (i = 0; i < nr; i++) {
		const char *image = p[i].item->image[p[i].side];
		struct db_err err = DB_ERR_INIT;
		for (k = 0; k < i; k++)
			if (!strcmp(p[k].item->image[p[k].side], image))
				break;
		if (k < i) {
			ids[i] = ids[k] ? xstrdup(ids[k]) : NULL;
			if (!ids[k])
				vrec_fail(&p[i].item->rec[p[i].side], VERIFY_OUTCOME_ERROR, "%s",
				          p[k].item->rec[p[k].side].message);
			continue;
		}
		if (verify_engine_image_id(&ids[i], &s->opts, image, &err) < 0) {
			log_error("%s", err.msg);
			vrec_fail(&p[i].item->rec[p[i].side], VERIFY_OUTCOME_ERROR, "%s", err.msg);
		}
	}
}

int verify_session_run(struct verify_session *s, struct db_err *err)
{
	long long started = proc_now_ms();
	struct pending *p = NULL;
	struct vrun *runs = NULL;
	char **ids = NULL;
	size_t nr = 0, alloc = 0, nr_runs = 0, i;
	unsigned hits = 0;
	int side, ret = 0;

	for (i = 0; i < s->nr; i++) {
		struct vitem *it = s->items[i];
		if (it->ran)
			continue;
		it->ran = 1;
		for (side = OLD; side <= NEW; side++) {
			if (!it->image[side] || s->opts.level == VERIFY_OFF)
				continue;
			ALLOC_GROW(p, nr + 1, alloc);
			memset(&p[nr], 0, sizeof(p[nr]));
			p[nr].item = it;
			p[nr].side = side;
			nr++;
		}
	}
	if (nr && (ret = verify_engine_check(&s->opts, err)) < 0) {
		for (i = 0; i < s->nr; i++)
			s->items[i]->ran = 0;
		goto out;
	}
	ids = xcalloc(nr ? nr : 1, sizeof(*ids));
	resolve_images(s, p, nr, ids);
	runs = xcalloc(nr ? nr : 1, sizeof(*runs));
	for (i = 0; i < nr; i++) {
		struct vrec *rec = &p[i].item->rec[p[i].side];
		if (!ids[i])
			continue;
		p[i].request = build_request(s, p[i].item);
		if (!p[i].request) {
			vrec_fail(rec, VERIFY_OUTCOME_ERROR, "'%s': the code is not valid UTF-8",
			          p[i].item->id);
			continue;
		}
		cache_key(p[i].key, s, ids[i], p[i].request);
		if (cache_load(rec, s, p[i].key)) {
			hits++;
			s->stats.cache_hits++;
			continue;
		}
		runs[nr_runs].image = p[i].item->image[p[i].side];
		runs[nr_runs].request = p[i].request;
		runs[nr_runs].rec = rec;
		runs[nr_runs].index = (int)i;
		nr_runs++;
	}
	if (nr_runs) {
		struct vengine_opts eo = {&s->opts, (const char *)embed_loop, embed_loop_len,
		                          s->modules, &s->stats};
		ret = verify_engine_run(&eo, runs, nr_runs, err);
		s->stats.items_run += (unsigned)nr_runs;
		for (i = 0; i < nr_runs; i++)
			cache_store(s, p[runs[i].index].key, runs[i].rec);
	}
	for (i = 0; i < s->nr; i++)
		finish_item(s->items[i]);
	if (nr)
		log_info("verify: %zu run(s) in %lld ms: %u from the cache, %zu in containers", nr,
		         proc_now_ms() - started, hits, nr_runs);
out:
	s->stats.wall_ms = (long)(proc_now_ms() - started);
	for (i = 0; i < nr; i++) {
		free(p[i].request);
		if (ids)
			free(ids[i]);
	}
	free(ids);
	free(runs);
	free(p);
	return ret;
}

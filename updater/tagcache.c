#include "updater/tagcache.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/banned.h"

#define FORMAT_NAME "dockerbump-tags"

static void fnv1a(uint64_t *h, const char *s)
{
	/* the NUL is hashed too, so ("ab", "c") and ("a", "bc") differ */
	do {
		*h ^= (unsigned char)*s;
		*h *= 0x100000001b3ULL;
	} while (*s++);
}

char *tagcache_path(const char *dir, const char *registry, const char *api, const char *image)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	fnv1a(&h, registry);
	fnv1a(&h, api);
	fnv1a(&h, image);
	return xasprintf("%s/tags/%016llx.json", dir, (unsigned long long)h);
}

void tagcache_entry_release(struct tagcache_entry *e)
{
	taglist_free(e->tags);
	free(e->etag);
	free(e->last_modified);
	memset(e, 0, sizeof(*e));
}

static int str_field(json_t *obj, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v && !strcmp(v, want);
}

static char *opt_string(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v ? xstrdup(v) : NULL;
}

/* NULL and the reason in `why` when the document does not belong here. */
static struct taglist *parse_tags(json_t *root, const char *registry, const char *api,
                                  const char *image, const char **why)
{
	json_t *arr = json_object_get(root, "tags"), *t;
	struct taglist *l;
	size_t i;

	if (!str_field(root, "format", FORMAT_NAME) ||
	    json_integer_value(json_object_get(root, "version")) != TAGCACHE_VERSION) {
		*why = "not a tag cache of this version";
		return NULL;
	}
	if (!str_field(root, "registry", registry) || !str_field(root, "api", api) ||
	    !str_field(root, "image", image)) {
		*why = "written for another registry or image";
		return NULL;
	}
	if (!json_is_array(arr)) {
		*why = "no tag list";
		return NULL;
	}
	l = taglist_new();
	json_array_foreach(arr, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *when = json_string_value(json_object_get(t, "last_updated"));
		const char *digest = json_string_value(json_object_get(t, "digest"));
		struct timespec ts;

		if (!name || !tag_name_valid(name, strlen(name)) ||
		    (when && tagtime_parse(&ts, when)) || (digest && !tag_digest_valid(digest))) {
			*why = "an invalid tag entry";
			taglist_free(l);
			return NULL;
		}
		taglist_add(l, name, when ? &ts : NULL, digest);
	}
	return l;
}

int tagcache_load(struct tagcache_entry *out, const char *path, const char *registry,
                  const char *api, const char *image)
{
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	const char *why = NULL;
	json_int_t fetched, full;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (file_read(&data, path, TAGCACHE_MAX_SIZE, &err) < 0) {
		if (err.code == DB_ENOTFOUND) {
			ret = 1;
			goto out;
		}
		log_warn("ignoring the tag cache: %s", err.msg);
		goto out;
	}
	root = json_loadb(data.ptr, data.len, JSON_REJECT_DUPLICATES, &jerr);
	buf_release(&data); /* the tree holds it all now: a large cache is not held twice */
	if (!root) {
		log_warn("ignoring the tag cache '%s': line %d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	fetched = json_integer_value(json_object_get(root, "fetched_at"));
	full = json_integer_value(json_object_get(root, "full_at"));
	out->tags = parse_tags(root, registry, api, image, &why);
	if (!out->tags)
		goto bad;
	/* A time in the future would keep a stale list alive forever: refuse it. */
	if (fetched <= 0 || full <= 0 || full > fetched || fetched > (json_int_t)time(NULL) + 300) {
		why = "implausible fetch times";
		goto bad;
	}
	out->fetched_at = (time_t)fetched;
	out->full_at = (time_t)full;
	out->etag = opt_string(root, "etag");
	out->last_modified = opt_string(root, "last_modified");
	out->tags->image = xstrdup(image);
	out->tags->registry = xstrdup(registry);
	out->tags->fetched_at = out->fetched_at;
	ret = 0;
	goto out;
bad:
	log_warn("ignoring the tag cache '%s': %s", path, why);
	tagcache_entry_release(out);
out:
	json_decref(root);
	buf_release(&data);
	return ret;
}

static json_t *opt_json_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

int tagcache_store(const char *path, const struct tagcache_entry *e, const char *registry,
                   const char *api, const char *image, struct db_err *err)
{
	json_t *root = json_object(), *arr = json_array();
	char *text = NULL, *dir = xstrdup(path), *slash = strrchr(dir, '/');
	size_t i;
	int ret;

	json_object_set_new(root, "format", json_string(FORMAT_NAME));
	json_object_set_new(root, "version", json_integer(TAGCACHE_VERSION));
	json_object_set_new(root, "registry", json_string(registry));
	json_object_set_new(root, "api", json_string(api));
	json_object_set_new(root, "image", json_string(image));
	json_object_set_new(root, "fetched_at", json_integer((json_int_t)e->fetched_at));
	json_object_set_new(root, "full_at", json_integer((json_int_t)e->full_at));
	json_object_set_new(root, "etag", opt_json_string(e->etag));
	json_object_set_new(root, "last_modified", opt_json_string(e->last_modified));
	for (i = 0; i < e->tags->nr; i++) {
		const struct tag_entry *t = &e->tags->v[i];
		json_t *o = json_object();
		char when[40];

		json_object_set_new(o, "name", json_string(t->name));
		if (t->has_time) {
			tagtime_format(when, sizeof(when), &t->updated);
			json_object_set_new(o, "last_updated", json_string(when));
		} else {
			json_object_set_new(o, "last_updated", json_null());
		}
		json_object_set_new(o, "digest", opt_json_string(t->digest));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "tags", arr);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root); /* only the text is needed from here */
	root = NULL;
	if (slash)
		*slash = '\0';
	ret = mkdir_p(dir, 1, err);
	if (!ret)
		ret = file_write_atomic(path, text, strlen(text), err);
	free(text);
	free(dir);
	json_decref(root);
	return ret;
}

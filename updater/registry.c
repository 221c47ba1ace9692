#include "updater/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/registry_int.h"
#include "updater/tagcache.h"
#include "common/banned.h"

static const char *api_name(enum registry_api api)
{
	return api == REGISTRY_V2 ? "v2" : "hub";
}

/* [a-z0-9]+ components separated by '.', '_', '__' or one or more '-'; joined by '/'. */
int registry_image_name_valid(const char *image)
{
	const char *p = image;
	size_t len = strlen(image);

	if (!len || len > 255)
		return 0;
	for (;;) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			p++;
		if (!*p)
			return 1;
		if (*p == '_' && p[1] == '_')
			p += 2;
		else if (*p == '-')
			while (*p == '-')
				p++;
		else if (*p == '.' || *p == '_' || *p == '/')
			p++;
		else
			return 0;
	}
}

int registry_header_value_ok(const char *v)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e || n > 1024)
			return 0;
	return 1;
}

int registry_client_new(struct registry_client **out, const struct config *cfg,
                        const struct registry_client_opts *opts, struct db_err *err)
{
	struct registry_client *rc;
	struct http_opts ho = {0};
	const char *user = getenv("DOCKERBUMP_REGISTRY_USER");
	const char *password = getenv("DOCKERBUMP_REGISTRY_PASSWORD");
	const char *test_wait = getenv("DOCKERBUMP_TEST_RETRY_MS");
	size_t len;
	long ms;

	if (!cfg->registry.url ||
	    (strncmp(cfg->registry.url, "http://", 7) && strncmp(cfg->registry.url, "https://", 8)))
		return db_err_set(err, DB_EUSAGE, "registry URL '%s' is not http:// or https://",
		                  cfg->registry.url ? cfg->registry.url : "");
	if ((user && *user) != (password && *password))
		return db_err_set(
		    err, DB_EUSAGE,
		    "set both DOCKERBUMP_REGISTRY_USER and DOCKERBUMP_REGISTRY_PASSWORD, "
		    "or neither");

	rc = xcalloc(1, sizeof(*rc));
	pthread_mutex_init(&rc->lock, NULL);
	rc->api = cfg->registry.api;
	rc->url = xstrdup(cfg->registry.url);
	len = strlen(rc->url);
	while (len && rc->url[len - 1] == '/')
		rc->url[--len] = '\0';
	rc->max_pages = cfg->registry.max_pages > 0 ? cfg->registry.max_pages : 200;
	rc->ttl_s = cfg->cache.ttl_s;
	rc->no_cache = opts && opts->no_cache;
	rc->cache_dir = opts && opts->cache_dir ? xstrdup(opts->cache_dir) : cache_dir_path();
	if (user && *user) {
		rc->user = xstrdup(user);
		rc->password = xstrdup(password);
	}

	ho.timeout_ms = cfg->registry.timeout_s > 0 ? cfg->registry.timeout_s * 1000 : 30000;
	ho.connect_timeout_ms = ho.timeout_ms < 10000 ? ho.timeout_ms : 10000;
	ho.retries = cfg->registry.retries > 0 ? cfg->registry.retries : -1;
	if (test_wait && !parse_long(&ms, test_wait, 1, 600000))
		ho.retry_base_ms = ms;
	if (http_client_new(&rc->http, &ho, err) < 0) {
		registry_client_free(rc);
		return err->code;
	}
	*out = rc;
	return 0;
}

void registry_client_free(struct registry_client *rc)
{
	size_t i;

	if (!rc)
		return;
	http_client_free(rc->http);
	free(rc->url);
	free(rc->user);
	if (rc->password) {
		memset(rc->password, 0, strlen(rc->password));
		free(rc->password);
	}
	free(rc->cache_dir);
	free(rc->hub_token);
	for (i = 0; i < rc->nr_tokens; i++) {
		free(rc->tokens[i].key);
		free(rc->tokens[i].token);
	}
	free(rc->tokens);
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}

const char *registry_url(const struct registry_client *rc)
{
	return rc->url;
}

void registry_client_stats(const struct registry_client *rc, struct registry_stats *out)
{
	struct http_stats hs;

	http_client_stats(rc->http, &hs);
	pthread_mutex_lock((pthread_mutex_t *)&rc->lock);
	out->requests = hs.requests;
	out->seconds = hs.seconds;
	out->cache_hits = rc->cache_hits;
	out->pages = rc->pages;
	pthread_mutex_unlock((pthread_mutex_t *)&rc->lock);
}

void registry_count_page(struct registry_client *rc)
{
	pthread_mutex_lock(&rc->lock);
	rc->pages++;
	pthread_mutex_unlock(&rc->lock);
}

void registry_fetch_release(struct registry_fetch *f)
{
	taglist_free(f->out);
	free(f->new_etag);
	free(f->new_last_modified);
	f->out = NULL;
	f->new_etag = f->new_last_modified = NULL;
}

/* --- helpers for both clients --- */

/* Copies `in` with every byte that is not part of a well-formed UTF-8 sequence replaced by
 * '?'; returns how many were replaced. */
static size_t utf8_sanitize(struct buf *out, const char *in, size_t len)
{
	size_t i = 0, bad = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		size_t n = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		size_t k;
		int ok = n > 0 && i + n <= len && (n != 2 || c >= 0xc2);

		for (k = 1; ok && k < n; k++)
			ok = ((unsigned char)in[i + k] >> 6) == 2;
		if (ok && n == 3) {
			unsigned char d = (unsigned char)in[i + 1];
			ok = !(c == 0xe0 && d < 0xa0) && !(c == 0xed && d >= 0xa0);
		} else if (ok && n == 4) {
			unsigned char d = (unsigned char)in[i + 1];
			ok = c <= 0xf4 && !(c == 0xf0 && d < 0x90) && !(c == 0xf4 && d >= 0x90);
		}
		if (ok) {
			buf_add(out, in + i, n);
			i += n;
		} else {
			buf_addch(out, '?');
			bad++;
			i++;
		}
	}
	return bad;
}

json_t *registry_parse_json(const struct buf *body, const char *shown, struct db_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(body->ptr, body->len, 0, &jerr);

	if (!root && json_error_code(&jerr) == json_error_invalid_utf8) {
		struct buf clean = BUF_INIT;
		size_t bad = utf8_sanitize(&clean, body->ptr, body->len);
		log_warn("'%s': %zu bytes of invalid UTF-8 in the response, replaced", shown, bad);
		root = json_loadb(clean.ptr, clean.len, 0, &jerr);
		buf_release(&clean);
	}
	if (!root)
		db_err_set(err, DB_EPARSE, "'%s': malformed JSON at byte %d: %s", shown,
		           jerr.position, jerr.text);
	return root;
}

void registry_add_tag(struct taglist *l, const char *name, size_t len, const struct timespec *when,
                      const char *digest, const char *shown)
{
	if (!tag_name_valid(name, len)) {
		struct buf esc = BUF_INIT;
		buf_add_json_string(&esc, name, len > 64 ? 64 : len);
		log_warn("'%s': skipping the invalid tag name %s%s", shown, esc.ptr,
		         len > 64 ? " (truncated)" : "");
		buf_release(&esc);
		return;
	}
	if (digest && !tag_digest_valid(digest))
		digest = NULL;
	taglist_add(l, name, when, digest);
}

int registry_status_error(struct registry_client *rc, long status, const char *image,
                          const char *shown, struct db_err *err)
{
	if (status == 401 || status == 403)
		return db_err_set(err, DB_EAUTH, "'%s': HTTP %ld: access to '%s' refused%s", shown,
		                  status, image,
		                  rc->user ? "" : " (set DOCKERBUMP_REGISTRY_USER and _PASSWORD)");
	if (status == 404)
		return db_err_set(err, DB_ENOTFOUND, "image '%s' not found at '%s'", image, shown);
	return db_err_set(err, DB_ENET, "'%s': unexpected HTTP %ld", shown, status);
}

int registry_read_page(struct registry_client *rc, struct registry_fetch *f,
                       const struct http_response *res, int first, int conditional,
                       const char *shown, json_t **root, struct db_err *err)
{
	const char *etag, *lm;

	if (first && conditional && res->status == 304) {
		f->not_modified = 1;
		return 1;
	}
	if (res->status / 100 != 2)
		return registry_status_error(rc, res->status, f->image, shown, err);
	if (first) {
		etag = http_response_header(res, "etag");
		lm = http_response_header(res, "last-modified");
		f->new_etag = etag && registry_header_value_ok(etag) ? xstrdup(etag) : NULL;
		f->new_last_modified = lm && registry_header_value_ok(lm) ? xstrdup(lm) : NULL;
	}
	registry_count_page(rc);
	*root = registry_parse_json(&res->body, shown, err);
	return *root ? 0 : DB_EPARSE;
}

int registry_token_answer(const struct http_response *res, const char *shown,
                          const char *const *keys, const char *who, char **token, long *expires_in,
                          struct db_err *err)
{
	json_t *root;
	const char *t = NULL;
	int ret = 0;

	if (res->status == 401 || res->status == 403)
		return db_err_set(err, DB_EAUTH, "'%s': HTTP %ld: the registry refused %s", shown,
		                  res->status, who);
	if (res->status / 100 != 2)
		return db_err_set(err, DB_ENET, "'%s': unexpected HTTP %ld", shown, res->status);
	root = registry_parse_json(&res->body, shown, err);
	if (!root)
		return DB_EPARSE;
	for (; *keys && !t; keys++)
		t = json_string_value(json_object_get(root, *keys));
	if (!t || !*t || !registry_header_value_ok(t)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': no usable token in the answer", shown);
	} else {
		json_int_t e = json_integer_value(json_object_get(root, "expires_in"));
		*token = xstrdup(t);
		*expires_in = e > 0 && e <= 86400 ? (long)e : 0;
	}
	json_decref(root);
	return ret;
}

int registry_next_page(struct registry_client *rc, struct strlist *seen, const char *next,
                       const char *shown, struct db_err *err)
{
	if (!http_same_origin(next, rc->url))
		return db_err_set(err, DB_ENET, "'%s': the next page is on another server", shown);
	if (strlist_has(seen, next))
		return db_err_set(err, DB_ENET, "'%s': the next-page links loop", shown);
	if (seen->nr >= (size_t)rc->max_pages)
		return db_err_set(err, DB_ENET, "'%s': more than %d pages (registry.max_pages)",
		                  shown, rc->max_pages);
	strlist_push(seen, next);
	return 0;
}

/* --- the front: cache, then the client --- */

static struct taglist *taglist_copy(const struct taglist *src)
{
	struct taglist *l = taglist_new();
	size_t i;

	for (i = 0; i < src->nr; i++)
		taglist_add(l, src->v[i].name, src->v[i].has_time ? &src->v[i].updated : NULL,
		            src->v[i].digest);
	return l;
}

int registry_list_tags(struct registry_client *rc, const char *image, struct taglist **out,
                       struct db_err *err)
{
	struct tagcache_entry cache = TAGCACHE_ENTRY_INIT;
	struct registry_fetch f = {0};
	struct db_err werr = DB_ERR_INIT;
	const char *api = api_name(rc->api);
	char *path = NULL;
	time_t now = time(NULL);
	int have_cache = 0, ret;

	*out = NULL;
	if (!registry_image_name_valid(image))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid image name", image);
	if (!rc->no_cache) {
		path = tagcache_path(rc->cache_dir, rc->url, api, image);
		have_cache = tagcache_load(&cache, path, rc->url, api, image) == 0;
	}
	if (have_cache && now >= cache.fetched_at && now - cache.fetched_at < rc->ttl_s) {
		log_debug("'%s': %zu tags from the cache (%lds old)", image, cache.tags->nr,
		          (long)(now - cache.fetched_at));
		pthread_mutex_lock(&rc->lock);
		rc->cache_hits++;
		pthread_mutex_unlock(&rc->lock);
		cache.tags->from_cache = 1;
		*out = cache.tags;
		cache.tags = NULL;
		ret = 0;
		goto out;
	}

	f.image = image;
	if (have_cache && now - cache.full_at < REGISTRY_FULL_REFRESH_S) {
		f.cached = cache.tags;
		if (cache.etag && registry_header_value_ok(cache.etag))
			f.etag = cache.etag;
		if (cache.last_modified && registry_header_value_ok(cache.last_modified))
			f.last_modified = cache.last_modified;
	}
	ret = rc->api == REGISTRY_V2 ? v2_fetch(rc, &f, err) : hub_fetch(rc, &f, err);
	if (ret < 0)
		goto out;

	if (f.not_modified) {
		taglist_free(f.out);
		f.out = taglist_copy(cache.tags);
		f.full = 0;
	} else {
		free(cache.etag);
		free(cache.last_modified);
		cache.etag = f.new_etag;
		cache.last_modified = f.new_last_modified;
		f.new_etag = f.new_last_modified = NULL;
	}
	if (path) {
		struct taglist *old = cache.tags;
		cache.tags = f.out;
		cache.fetched_at = now;
		if (f.full || !cache.full_at)
			cache.full_at = now;
		if (tagcache_store(path, &cache, rc->url, api, image, &werr) < 0)
			log_warn("the tag cache was not written: %s", werr.msg);
		cache.tags = old;
	}
	f.out->image = xstrdup(image);
	f.out->registry = xstrdup(rc->url);
	f.out->fetched_at = now;
	*out = f.out;
	f.out = NULL;
out:
	registry_fetch_release(&f);
	tagcache_entry_release(&cache);
	free(path);
	return ret;
}

int registry_tag_digest(struct registry_client *rc, const char *image, const char *tag, char **out,
                        struct db_err *err)
{
	struct taglist *tags = NULL;
	const struct tag_entry *e;
	int ret;

	*out = NULL;
	if (!registry_image_name_valid(image))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid image name", image);
	if (!tag_name_valid(tag, strlen(tag)))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid tag", tag);
	if (rc->api == REGISTRY_V2)
		return v2_manifest_digest(rc, image, tag, out, err);
	ret = registry_list_tags(rc, image, &tags, err);
	if (ret < 0)
		return ret;
	e = taglist_find(tags, tag);
	if (!e || !e->digest)
		ret = db_err_set(err, DB_ENOTFOUND, "no digest for '%s:%s' at '%s'", image, tag,
		                 rc->url);
	else
		*out = xstrdup(e->digest);
	taglist_free(tags);
	return ret;
}

char *registry_image_ref(const struct registry_client *rc, const char *image, const char *tag)
{
	CURLU *u;
	char *host = NULL, *port = NULL, *ref;

	if (rc->api == REGISTRY_HUB)
		return xasprintf("%s:%s", image, tag);
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, rc->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		ref =
		    xasprintf("%s%s%s/%s:%s", host, port ? ":" : "", port ? port : "", image, tag);
	} else {
		ref = xasprintf("%s:%s", image, tag);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ref;
}

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

/* The backends, by `enum registry_api`. */
static const struct registry_backend *const backends[] = {
    [REGISTRY_HUB] = &registry_hub_backend,
    [REGISTRY_V2] = &registry_v2_backend,
};

/* The per-image time budget, as a multiple of registry.timeout_s (one attempt's limit). */
#define BUDGET_TIMEOUTS 4

struct registry_client {
	struct registry_conn conn;
	const struct registry_backend *backend;
	long budget_ms; /* every request, retry and wait for one image */
	long ttl_s;
	int no_cache;
	char *cache_dir;
	unsigned long cache_hits; /* under conn.lock */
};

/* [a-z0-9]+ components separated by '.', '_', '__' or one or more '-'; joined by '/'. */
/* The registry URL must be http(s) with a host and nothing a message could leak (userinfo)
 * or a path join could mangle (a query, a fragment). */
static int check_url(const char *url, struct db_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *frag = NULL, *shown;
	int ret = 0;

	shown = http_redact_url(url);
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		ret = db_err_set(err, DB_EUSAGE, "registry URL '%s' is not http:// or https://",
		                 shown);
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		ret = db_err_set(err, DB_EUSAGE,
		                 "registry URL '%s' holds a user name: credentials come from "
		                 "DOCKERBUMP_REGISTRY_USER and DOCKERBUMP_REGISTRY_PASSWORD",
		                 shown);
	else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	         curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
		ret = db_err_set(err, DB_EUSAGE, "registry URL '%s' has a query or a fragment",
		                 shown);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	free(shown);
	return ret;
}

int registry_client_new(struct registry_client **out, const struct config *cfg,
                        const struct registry_client_opts *opts, struct db_err *err)
{
	struct registry_client *rc;
	struct http_opts ho = {0};
	const char *user = getenv("DOCKERBUMP_REGISTRY_USER");
	const char *password = getenv("DOCKERBUMP_REGISTRY_PASSWORD");
	const char *test_wait = getenv("DOCKERBUMP_TEST_RETRY_MS");
	int api = (int)cfg->registry.api;
	size_t len;
	long ms;

	*out = NULL;
	if (!cfg->registry.url || !*cfg->registry.url)
		return db_err_set(err, DB_EUSAGE, "registry URL '' is not http:// or https://");
	if (check_url(cfg->registry.url, err) < 0)
		return err->code;
	if (api < 0 || (size_t)api >= sizeof(backends) / sizeof(backends[0]) || !backends[api])
		return db_err_set(err, DB_EUSAGE, "unknown registry API %d", api);
	if ((user && *user) != (password && *password))
		return db_err_set(
		    err, DB_EUSAGE,
		    "set both DOCKERBUMP_REGISTRY_USER and DOCKERBUMP_REGISTRY_PASSWORD, "
		    "or neither");
	if (user && *user && !http_credentials_allowed(cfg->registry.url))
		return db_err_set(err, DB_EUSAGE,
		                  "registry URL '%s' is plain http to another machine: the "
		                  "credentials are sent only over https (or to loopback)",
		                  cfg->registry.url);

	rc = xcalloc(1, sizeof(*rc));
	pthread_mutex_init(&rc->conn.lock, NULL);
	rc->backend = backends[api];
	rc->conn.url = xstrdup(cfg->registry.url);
	len = strlen(rc->conn.url);
	while (len && rc->conn.url[len - 1] == '/')
		rc->conn.url[--len] = '\0';
	rc->conn.max_pages = cfg->registry.max_pages > 0 ? cfg->registry.max_pages : 200;
	rc->ttl_s = cfg->cache.ttl_s;
	rc->no_cache = opts && opts->no_cache;
	rc->cache_dir = opts && opts->cache_dir ? xstrdup(opts->cache_dir) : cache_dir_path();
	if (user && *user) {
		rc->conn.user = xstrdup(user);
		rc->conn.password = xstrdup(password);
	}

	ho.timeout_ms = cfg->registry.timeout_s > 0 ? cfg->registry.timeout_s * 1000 : 30000;
	ho.connect_timeout_ms = ho.timeout_ms < 10000 ? ho.timeout_ms : 10000;
	ho.retries = cfg->registry.retries > 0 ? cfg->registry.retries : -1;
	ho.unreachable_hint = "check registry.url (or --registry-url), or use --offline";
	if (test_wait && !parse_long(&ms, test_wait, 1, 600000))
		ho.retry_base_ms = ms;
	rc->budget_ms = cfg->registry.budget_s > 0 ? cfg->registry.budget_s * 1000
	                                           : BUDGET_TIMEOUTS * ho.timeout_ms;
	ho.retry_budget_ms = rc->budget_ms;
	if (http_client_new(&rc->conn.http, &ho, err) < 0) {
		registry_client_free(rc);
		return err->code;
	}
	*out = rc;
	return 0;
}

void registry_client_free(struct registry_client *rc)
{
	if (!rc)
		return;
	if (rc->backend && rc->backend->state_free)
		rc->backend->state_free(rc->conn.state);
	http_client_free(rc->conn.http);
	free(rc->conn.url);
	free(rc->conn.user);
	registry_free_secret(rc->conn.password);
	free(rc->cache_dir);
	pthread_mutex_destroy(&rc->conn.lock);
	free(rc);
}

const char *registry_url(const struct registry_client *rc)
{
	return rc->conn.url;
}

void registry_client_stats(const struct registry_client *rc, struct registry_stats *out)
{
	struct http_stats hs;

	http_client_stats(rc->conn.http, &hs);
	pthread_mutex_lock((pthread_mutex_t *)&rc->conn.lock);
	out->requests = hs.requests;
	out->seconds = hs.seconds;
	out->cache_hits = rc->cache_hits;
	out->pages = rc->conn.pages;
	pthread_mutex_unlock((pthread_mutex_t *)&rc->conn.lock);
}

/* --- the front: cache, then the backend --- */

int registry_list_tags(struct registry_client *rc, const char *image, struct taglist **out,
                       struct db_err *err)
{
	struct tagcache_entry cache = TAGCACHE_ENTRY_INIT;
	struct registry_fetch f = {0};
	struct db_err werr = DB_ERR_INIT;
	const char *api = rc->backend->name;
	char *path = NULL;
	time_t now = time(NULL);
	int have_cache = 0, ret;

	*out = NULL;
	if (!image_name_valid(image))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid image name", image);
	if (!rc->no_cache) {
		path = tagcache_path(rc->cache_dir, rc->conn.url, api, image);
		have_cache = tagcache_load(&cache, path, rc->conn.url, api, image) == 0;
	}
	if (have_cache && now >= cache.fetched_at && now - cache.fetched_at < rc->ttl_s) {
		log_debug("'%s': %zu tags from the cache (%lds old)", image, cache.tags->nr,
		          (long)(now - cache.fetched_at));
		pthread_mutex_lock(&rc->conn.lock);
		rc->cache_hits++;
		pthread_mutex_unlock(&rc->conn.lock);
		cache.tags->from_cache = 1;
		taglist_sort(cache.tags);
		*out = cache.tags;
		cache.tags = NULL;
		ret = 0;
		goto out;
	}

	f.image = image;
	f.deadline_ms = http_deadline_in(rc->budget_ms);
	if (have_cache && now - cache.full_at < REGISTRY_FULL_REFRESH_S) {
		f.cached = cache.tags;
		if (cache.etag && registry_header_value_ok(cache.etag))
			f.etag = cache.etag;
		if (cache.last_modified && registry_header_value_ok(cache.last_modified))
			f.last_modified = cache.last_modified;
	}
	ret = rc->backend->fetch(&rc->conn, &f, err);
	if (ret < 0)
		goto out;

	if (f.not_modified) {
		/* the cached list stands: it becomes the answer */
		taglist_free(f.out);
		f.out = cache.tags;
		cache.tags = NULL;
		f.full = 0;
	} else {
		free(cache.etag);
		free(cache.last_modified);
		cache.etag = f.new_etag;
		cache.last_modified = f.new_last_modified;
		f.new_etag = f.new_last_modified = NULL;
	}
	taglist_sort(f.out);
	if (path) {
		struct taglist *old = cache.tags;
		cache.tags = f.out;
		cache.fetched_at = now;
		if (f.full || !cache.full_at)
			cache.full_at = now;
		if (tagcache_store(path, &cache, rc->conn.url, api, image, &werr) < 0)
			log_warn("the tag cache was not written: %s", werr.msg);
		cache.tags = old;
	}
	free(f.out->image);
	free(f.out->registry);
	f.out->image = xstrdup(image);
	f.out->registry = xstrdup(rc->conn.url);
	f.out->fetched_at = now;
	f.out->from_cache = 0;
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
	if (!image_name_valid(image))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid image name", image);
	if (!tag_name_valid(tag, strlen(tag)))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a valid tag", tag);
	if (rc->backend->digest)
		return rc->backend->digest(&rc->conn, image, tag, http_deadline_in(rc->budget_ms),
		                           out, err);
	ret = registry_list_tags(rc, image, &tags, err);
	if (ret < 0)
		return ret;
	e = taglist_find(tags, tag);
	if (!e || !e->digest)
		ret = db_err_set(err, DB_ENOTFOUND, "no digest for '%s:%s' at '%s'", image, tag,
		                 rc->conn.url);
	else
		*out = xstrdup(e->digest);
	taglist_free(tags);
	return ret;
}

char *registry_image_ref(const struct registry_client *rc, const char *image, const char *tag)
{
	return rc->backend->image_ref(&rc->conn, image, tag);
}

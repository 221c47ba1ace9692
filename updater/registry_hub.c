/*
 * The Docker Hub web API client: tag pages newest first, optional login, and the stop-early
 * rule documented in registry.h.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/registry_int.h"
#include "common/banned.h"

#define HUB_PAGE_SIZE 100

/* POSTs the credentials as JSON to `path`; the token is under `token_key` in the answer.
 * Returns 0 with `*out` set, 1 when the endpoint does not exist, or an error. */
static int hub_login_at(struct registry_client *rc, const char *path, const char *user_key,
                        const char *secret_key, const char *token_key, char **out,
                        struct db_err *err)
{
	char *url = xasprintf("%s%s", rc->url, path), *shown = http_redact_url(url), *body;
	const char *hdrs[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct http_response res = HTTP_RESPONSE_INIT;
	json_t *req = json_object();
	int ret;

	json_object_set_new(req, user_key, json_string(rc->user));
	json_object_set_new(req, secret_key, json_string(rc->password));
	body = json_dumps(req, JSON_COMPACT);
	ret = http_request(rc->http, &res,
	                   &(struct http_request){.url = url,
	                                          .headers = hdrs,
	                                          .body = body ? body : "{}",
	                                          .body_len = body ? strlen(body) : 2,
	                                          .no_retry = 0},
	                   err);
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	if (ret < 0)
		goto out;
	if (res.status == 404 || res.status == 405) {
		ret = 1;
		goto out;
	}
	{
		const char *keys[] = {token_key, NULL};
		char *who = xasprintf("the login of '%s'", rc->user);
		long expires_in;
		ret = registry_token_answer(&res, shown, keys, who, out, &expires_in, err);
		free(who);
	}
out:
	json_decref(req);
	http_response_release(&res);
	free(shown);
	free(url);
	return ret;
}

/* Logs in once per client when credentials are set; `*auth` gets the header or stays NULL. */
static int hub_auth_header(struct registry_client *rc, char **auth, struct db_err *err)
{
	char *token = NULL;
	int ret = 0;

	*auth = NULL;
	if (!rc->user)
		return 0;
	pthread_mutex_lock(&rc->lock);
	if (!rc->hub_login_tried) {
		rc->hub_login_tried = 1;
		ret = hub_login_at(rc, "/v2/auth/token", "identifier", "secret", "access_token",
		                   &token, err);
		if (ret == 1)
			ret = hub_login_at(rc, "/v2/users/login", "username", "password", "token",
			                   &token, err);
		if (ret == 1)
			ret = db_err_set(err, DB_EAUTH, "'%s': no login endpoint (/v2/auth/token)",
			                 rc->url);
		rc->hub_token = token;
	}
	if (rc->hub_token)
		*auth = xasprintf("Authorization: Bearer %s", rc->hub_token);
	else if (!ret)
		ret = db_err_set(err, DB_EAUTH, "'%s': the login failed earlier", rc->url);
	pthread_mutex_unlock(&rc->lock);
	return ret;
}

/* "python" is "library/python" on the hub; anything deeper than ns/repo is not a hub image. */
static int hub_split(const char *image, char **ns, char **repo, struct db_err *err)
{
	const char *slash = strchr(image, '/');

	if (!slash) {
		*ns = xstrdup("library");
		*repo = xstrdup(image);
		return 0;
	}
	if (strchr(slash + 1, '/'))
		return db_err_set(err, DB_EUSAGE, "'%s' is not a Docker Hub repository (NS/NAME)",
		                  image);
	*ns = xstrndup(image, (size_t)(slash - image));
	*repo = xstrdup(slash + 1);
	return 0;
}

/* One page's entries into `out`; sets `*settled` when the stop-early rule holds. */
static int hub_read_page(json_t *root, struct registry_fetch *f, const char *shown, int *settled,
                         struct db_err *err)
{
	json_t *results = json_object_get(root, "results"), *r;
	const struct tag_entry *oldest = NULL;
	struct timespec newest_cached = {0, 0};
	int cached_has_time = 0;
	size_t i;

	if (!json_is_array(results))
		return db_err_set(err, DB_EPARSE, "'%s': no 'results' list in the answer", shown);
	json_array_foreach(results, i, r)
	{
		json_t *name = json_object_get(r, "name");
		const char *when = json_string_value(json_object_get(r, "last_updated"));
		const char *digest = json_string_value(json_object_get(r, "digest"));
		struct timespec ts;
		int has_time;

		if (!json_is_string(name)) {
			log_warn("'%s': skipping a result without a name", shown);
			continue;
		}
		if (!when)
			when = json_string_value(json_object_get(r, "tag_last_pushed"));
		has_time = when && !tagtime_parse(&ts, when);
		if (when && !has_time)
			log_debug("'%s': unreadable time on a tag, treated as unknown", shown);
		registry_add_tag(f->out, json_string_value(name), json_string_length(name),
		                 has_time ? &ts : NULL, digest, shown);
		if (i == json_array_size(results) - 1) {
			oldest = taglist_find(f->out, json_string_value(name));
			if (oldest && !has_time)
				oldest = NULL;
		}
	}

	*settled = 0;
	if (!f->cached || !oldest)
		return 0;
	for (i = 0; i < f->cached->nr; i++) {
		const struct tag_entry *c = &f->cached->v[i];
		if (c->has_time && (!cached_has_time || c->updated.tv_sec > newest_cached.tv_sec ||
		                    (c->updated.tv_sec == newest_cached.tv_sec &&
		                     c->updated.tv_nsec > newest_cached.tv_nsec))) {
			newest_cached = c->updated;
			cached_has_time = 1;
		}
	}
	if (cached_has_time && (oldest->updated.tv_sec < newest_cached.tv_sec ||
	                        (oldest->updated.tv_sec == newest_cached.tv_sec &&
	                         oldest->updated.tv_nsec <= newest_cached.tv_nsec))) {
		const struct tag_entry *known = taglist_find(f->cached, oldest->name);
		*settled = known && known->has_time &&
		           known->updated.tv_sec == oldest->updated.tv_sec &&
		           known->updated.tv_nsec == oldest->updated.tv_nsec;
	}
	return 0;
}

int hub_fetch(struct registry_client *rc, struct registry_fetch *f, struct db_err *err)
{
	struct strlist seen = {0};
	char *ns = NULL, *repo = NULL, *auth = NULL, *url = NULL, *cond = NULL, *shown = NULL;
	int ret, first = 1, settled = 0;
	size_t i;

	ret = hub_split(f->image, &ns, &repo, err);
	if (!ret)
		ret = hub_auth_header(rc, &auth, err);
	if (ret < 0)
		goto out;
	url =
	    xasprintf("%s/v2/namespaces/%s/repositories/%s/tags?page_size=%d&ordering=last_updated",
	              rc->url, ns, repo, HUB_PAGE_SIZE);
	strlist_push(&seen, url);
	if (f->cached && f->etag)
		cond = xasprintf("If-None-Match: %s", f->etag);
	else if (f->cached && f->last_modified)
		cond = xasprintf("If-Modified-Since: %s", f->last_modified);

	f->out = taglist_new();
	for (;;) {
		const char *hdrs[4] = {"Accept: application/json", NULL, NULL, NULL};
		struct http_response res = HTTP_RESPONSE_INIT;
		json_t *root = NULL, *next;
		int n = 1;

		if (auth)
			hdrs[n++] = auth;
		if (first && cond)
			hdrs[n++] = cond;
		free(shown);
		shown = http_redact_url(url);
		ret = http_request(rc->http, &res,
		                   &(struct http_request){.url = url, .headers = hdrs}, err);
		if (!ret)
			ret =
			    registry_read_page(rc, f, &res, first, cond != NULL, shown, &root, err);
		http_response_release(&res);
		if (ret == 1) {
			ret = 0;
			break;
		}
		if (!ret)
			ret = hub_read_page(root, f, shown, &settled, err);
		first = 0;
		next = root ? json_object_get(root, "next") : NULL;
		if (!ret && json_is_string(next) && !settled) {
			free(url);
			url = http_resolve_url(rc->url, json_string_value(next));
			if (!url || strncmp(url, "http", 4))
				ret =
				    db_err_set(err, DB_EPARSE, "'%s': unusable 'next' link", shown);
			else
				ret = registry_next_page(rc, &seen, url, shown, err);
		} else if (!ret && next && !json_is_null(next) && !json_is_string(next)) {
			ret = db_err_set(err, DB_EPARSE, "'%s': 'next' is not a URL", shown);
		} else if (!ret) {
			next = NULL;
		}
		json_decref(root);
		if (ret < 0 || !next)
			break;
	}
	if (ret < 0)
		goto out;
	if (f->not_modified)
		goto out;
	f->full = !settled;
	if (settled) {
		/* merge: the cached tags the pages did not mention keep their data */
		for (i = 0; i < f->cached->nr; i++) {
			const struct tag_entry *c = &f->cached->v[i];
			if (!taglist_find(f->out, c->name))
				taglist_add(f->out, c->name, c->has_time ? &c->updated : NULL,
				            c->digest);
		}
		log_debug("'%s': stopped early after %zu pages", f->image, seen.nr);
	}
out:
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	strlist_clear(&seen);
	free(cond);
	free(shown);
	free(url);
	free(ns);
	free(repo);
	return ret;
}

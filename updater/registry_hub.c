/*
 * The Docker Hub web API backend: tag pages newest first, an optional login, and the
 * stop-early rule documented in registry.h.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/registry_int.h"
#include "common/banned.h"

#define HUB_PAGE_SIZE "100"

/* The backend's state in registry_conn: one login per client. */
struct hub_state {
	char *token; /* the bearer token after login */
	int login_tried;
};

static void hub_state_free(void *p)
{
	struct hub_state *s = p;

	if (!s)
		return;
	registry_free_secret(s->token);
	free(s);
}

/* POSTs the credentials as JSON to `path`; the token is under `token_key` in the answer.
 * Returns 0 with `*out` set, 1 when the endpoint does not exist, or an error. The body is the
 * secret: http_request() never sends it to another server, redirected or not. */
static int hub_login_at(struct registry_conn *c, const char *path, const char *user_key,
                        const char *secret_key, const char *token_key, int64_t deadline_ms,
                        char **out, struct db_err *err)
{
	char *url = http_url(c->url, path, NULL), *shown, *body;
	const char *hdrs[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct http_response res = HTTP_RESPONSE_INIT;
	json_t *req = json_object();
	int ret;

	if (!url)
		return db_err_set(err, DB_EUSAGE, "registry URL '%s' is not usable", c->url);
	shown = http_redact_url(url);
	json_object_set_new(req, user_key, json_string(c->user));
	json_object_set_new(req, secret_key, json_string(c->password));
	body = json_dumps(req, JSON_COMPACT);
	ret = http_request(c->http, &res,
	                   &(struct http_request){.url = url,
	                                          .headers = hdrs,
	                                          .body = body ? body : "{}",
	                                          .body_len = body ? strlen(body) : 2,
	                                          .secret_body = 1,
	                                          .deadline_ms = deadline_ms},
	                   err);
	registry_free_secret(body);
	if (ret < 0)
		goto out;
	if (res.status == 404 || res.status == 405) {
		ret = 1;
		goto out;
	}
	{
		const char *keys[] = {token_key, NULL};
		char *who = xasprintf("the login of '%s'", c->user);
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
static int hub_auth_header(struct registry_conn *c, int64_t deadline_ms, char **auth,
                           struct db_err *err)
{
	struct hub_state *s;
	char *token = NULL;
	int ret = 0;

	*auth = NULL;
	if (!c->user)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (!c->state)
		c->state = xcalloc(1, sizeof(struct hub_state));
	s = c->state;
	if (!s->login_tried) {
		s->login_tried = 1;
		ret = hub_login_at(c, "v2/auth/token", "identifier", "secret", "access_token",
		                   deadline_ms, &token, err);
		if (ret == 1)
			ret = hub_login_at(c, "v2/users/login", "username", "password", "token",
			                   deadline_ms, &token, err);
		if (ret == 1)
			ret = db_err_set(err, DB_EAUTH, "'%s': no login endpoint (/v2/auth/token)",
			                 c->url);
		s->token = token;
	}
	if (s->token)
		*auth = xasprintf("Authorization: Bearer %s", s->token);
	else if (!ret)
		ret = db_err_set(err, DB_EAUTH, "'%s': the login failed earlier", c->url);
	pthread_mutex_unlock(&c->lock);
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

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* The newest time in f->cached, found once per fetch (not once per page). */
static const struct timespec *cached_newest(struct registry_fetch *f)
{
	size_t i;

	if (!f->newest_state) {
		f->newest_state = 1;
		for (i = 0; f->cached && i < f->cached->nr; i++) {
			const struct tag_entry *e = &f->cached->v[i];
			if (e->has_time &&
			    (f->newest_state == 1 || ts_cmp(&e->updated, &f->newest) > 0)) {
				f->newest = e->updated;
				f->newest_state = 2;
			}
		}
	}
	return f->newest_state == 2 ? &f->newest : NULL;
}

int hub_parse_page(struct registry_fetch *f, const struct buf *body, const char *base,
                   const char *shown, char **next, int *settled, struct db_err *err)
{
	json_t *root = registry_parse_json(body, shown, err), *results, *r, *jnext;
	const struct tag_entry *oldest = NULL, *known;
	const struct timespec *newest;
	size_t i, n;
	int ret = 0;

	*next = NULL;
	*settled = 0;
	if (!root)
		return DB_EPARSE;
	results = json_object_get(root, "results");
	if (!json_is_array(results)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': no 'results' list in the answer", shown);
		goto out;
	}
	n = json_array_size(results);
	json_array_foreach(results, i, r)
	{
		json_t *name = json_object_get(r, "name");
		const char *when = registry_json_cstr(json_object_get(r, "last_updated"));
		const char *digest = registry_json_cstr(json_object_get(r, "digest"));
		struct timespec ts;
		int has_time;

		if (!json_is_string(name)) {
			log_warn("'%s': skipping a result without a name", shown);
			continue;
		}
		if (!when)
			when = registry_json_cstr(json_object_get(r, "tag_last_pushed"));
		has_time = when && !tagtime_parse(&ts, when);
		if (when && !has_time)
			log_debug("'%s': unreadable time on a tag, treated as unknown", shown);
		registry_add_tag(f->out, json_string_value(name), json_string_length(name),
		                 has_time ? &ts : NULL, digest, shown);
		if (i == n - 1 && has_time)
			oldest = taglist_find(f->out, json_string_value(name));
	}

	/* the stop-early rule (registry.h): the page's oldest entry is known, as old as the
	 * cache's newest, and cached with the same time */
	newest = f->cached && oldest ? cached_newest(f) : NULL;
	if (newest && ts_cmp(&oldest->updated, newest) <= 0) {
		known = taglist_find(f->cached, oldest->name);
		*settled = known && known->has_time && !ts_cmp(&known->updated, &oldest->updated);
	}

	jnext = json_object_get(root, "next");
	if (json_is_string(jnext)) {
		const char *link = registry_json_cstr(jnext);
		*next = link ? http_resolve_url(base, link) : NULL;
		if (!*next || (strncmp(*next, "http://", 7) && strncmp(*next, "https://", 8)))
			ret = db_err_set(err, DB_EPARSE, "'%s': unusable 'next' link", shown);
	} else if (jnext && !json_is_null(jnext)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': 'next' is not a URL", shown);
	}
	if (ret) {
		free(*next);
		*next = NULL;
	}
out:
	json_decref(root);
	return ret;
}

void hub_merge_cached(struct registry_fetch *f)
{
	size_t i;

	for (i = 0; f->cached && i < f->cached->nr; i++) {
		const struct tag_entry *c = &f->cached->v[i];
		if (!taglist_find(f->out, c->name))
			taglist_add(f->out, c->name, c->has_time ? &c->updated : NULL, c->digest);
	}
}

static int hub_fetch(struct registry_conn *c, struct registry_fetch *f, struct db_err *err)
{
	static const char *const params[] = {"page_size", HUB_PAGE_SIZE, "ordering", "last_updated",
	                                     NULL};
	struct registry_pages pages = {{0, 0}, NULL, 0, 0};
	char *ns = NULL, *repo = NULL, *auth = NULL, *url = NULL, *cond = NULL, *shown = NULL;
	char *path = NULL, *next = NULL;
	int ret, first = 1, settled = 0;

	ret = hub_split(f->image, &ns, &repo, err);
	if (!ret)
		ret = hub_auth_header(c, f->deadline_ms, &auth, err);
	if (ret < 0)
		goto out;
	path = xasprintf("v2/namespaces/%s/repositories/%s/tags", ns, repo);
	url = http_url(c->url, path, params);
	if (!url) {
		ret = db_err_set(err, DB_EUSAGE, "registry URL '%s' is not usable", c->url);
		goto out;
	}
	registry_pages_init(&pages, url);
	if (f->cached && f->etag)
		cond = xasprintf("If-None-Match: %s", f->etag);
	else if (f->cached && f->last_modified)
		cond = xasprintf("If-Modified-Since: %s", f->last_modified);

	f->out = taglist_new();
	for (;;) {
		const char *hdrs[4] = {"Accept: application/json", NULL, NULL, NULL};
		struct http_response res = HTTP_RESPONSE_INIT;
		int n = 1;

		if (auth)
			hdrs[n++] = auth;
		if (first && cond)
			hdrs[n++] = cond;
		free(shown);
		shown = http_redact_url(url);
		ret = http_request(c->http, &res,
		                   &(struct http_request){
		                       .url = url, .headers = hdrs, .deadline_ms = f->deadline_ms},
		                   err);
		if (!ret)
			ret = registry_page_status(c, f, &res, first, cond != NULL, shown, err);
		if (!ret)
			ret = hub_parse_page(f, &res.body, c->url, shown, &next, &settled, err);
		http_response_release(&res);
		first = 0;
		if (ret || !next || settled)
			break;
		ret = registry_next_page(c, &pages, &url, &next, shown, err);
		if (ret < 0)
			break;
	}
	if (ret == 1) /* 304: the cached list stands */
		ret = 0;
	if (ret < 0 || f->not_modified)
		goto out;
	f->full = !settled;
	if (settled) {
		hub_merge_cached(f);
		log_debug("'%s': stopped early after %zu pages", f->image, pages.nr);
	}
out:
	registry_free_secret(auth);
	registry_pages_release(&pages);
	free(next);
	free(cond);
	free(shown);
	free(url);
	free(path);
	free(ns);
	free(repo);
	return ret;
}

static char *hub_image_ref(const struct registry_conn *c, const char *image, const char *tag)
{
	(void)c;
	return xasprintf("%s:%s", image, tag);
}

const struct registry_backend registry_hub_backend = {
    .name = "hub",
    .fetch = hub_fetch,
    .digest = NULL, /* the tag list carries the digests */
    .image_ref = hub_image_ref,
    .state_free = hub_state_free,
};

/*
 * The OCI distribution backend: /v2/<name>/tags/list with Link pagination, the Bearer token
 * flow (tokens reused until they expire) or Basic auth, and manifest HEADs for digests.
 *
 * Where the credentials go: Basic auth only to the registry's own URL; to a token realm only
 * when the realm is https or on the registry's own host (http_request() adds: plain http only
 * to loopback). A realm elsewhere over plain http gets nothing: it could read the password.
 * Tokens go only to the registry's own origin (Link targets are checked to be there).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/registry_int.h"
#include "common/banned.h"

#define V2_PAGE_SIZE    "1000"
#define TOKEN_DEFAULT_S 60 /* the distribution spec's default for a missing expires_in */

static const char manifest_accept[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json, "
                                      "application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json";

/* --- WWW-Authenticate --- */

void v2_challenge_release(struct v2_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

void v2_challenge_parse(struct v2_challenge *c, const char *v)
{
	const char *p = v;

	memset(c, 0, sizeof(*c));
	if (!strncasecmp(p, "bearer ", 7))
		c->bearer = 1;
	else if (!strncasecmp(p, "basic", 5) && (!p[5] || p[5] == ' '))
		c->basic = 1;
	else
		return;
	p += c->bearer ? 7 : 5;
	while (*p) {
		const char *key, *eq;
		struct buf val = BUF_INIT;
		size_t klen;

		while (*p == ' ' || *p == ',')
			p++;
		key = p;
		eq = strchr(p, '=');
		if (!eq)
			break;
		klen = (size_t)(eq - key);
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_addch(&val, *p);
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != ' ')
				buf_addch(&val, *p++);
		}
		if (klen == 5 && !strncasecmp(key, "realm", 5) && !c->realm)
			c->realm = buf_detach(&val, NULL);
		else if (klen == 7 && !strncasecmp(key, "service", 7) && !c->service)
			c->service = buf_detach(&val, NULL);
		else if (klen == 5 && !strncasecmp(key, "scope", 5) && !c->scope)
			c->scope = buf_detach(&val, NULL);
		buf_release(&val);
	}
}

/* --- tokens --- */

struct v2_token {
	char *key; /* realm, service and scope */
	char *token;
	time_t expires;
};

/* The backend's state in registry_conn: the tokens of every scope asked so far. */
struct v2_state {
	struct v2_token *tokens;
	size_t nr, alloc;
};

static void v2_state_free(void *p)
{
	struct v2_state *s = p;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		free(s->tokens[i].key);
		registry_free_secret(s->tokens[i].token);
	}
	free(s->tokens);
	free(s);
}

static char *token_key(const struct v2_challenge *c, const char *scope)
{
	return xasprintf("%s\n%s\n%s", c->realm, c->service ? c->service : "", scope);
}

/* The token entry for `key`, created when missing. Caller holds c->lock. */
static struct v2_token *token_slot_locked(struct registry_conn *c, const char *key, int create)
{
	struct v2_state *s;
	size_t i;

	if (!c->state) {
		if (!create)
			return NULL;
		c->state = xcalloc(1, sizeof(struct v2_state));
	}
	s = c->state;
	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->tokens[i].key, key))
			return &s->tokens[i];
	if (!create)
		return NULL;
	ALLOC_GROW(s->tokens, s->nr + 1, s->alloc);
	memset(&s->tokens[s->nr], 0, sizeof(s->tokens[s->nr]));
	s->tokens[s->nr].key = xstrdup(key);
	return &s->tokens[s->nr++];
}

/* A live token for `key` as an Authorization header, or NULL. */
static char *token_lookup(struct registry_conn *c, const char *key)
{
	struct v2_token *t;
	char *auth = NULL;

	pthread_mutex_lock(&c->lock);
	t = token_slot_locked(c, key, 0);
	if (t && t->token && t->expires > time(NULL))
		auth = xasprintf("Authorization: Bearer %s", t->token);
	pthread_mutex_unlock(&c->lock);
	return auth;
}

static void token_store(struct registry_conn *c, const char *key, const char *token,
                        long expires_in)
{
	struct v2_token *t;

	pthread_mutex_lock(&c->lock);
	t = token_slot_locked(c, key, 1);
	registry_free_secret(t->token);
	t->token = xstrdup(token);
	/* renew a little early so a token does not expire between check and use */
	t->expires = time(NULL) + (expires_in > 20 ? expires_in - 10 : expires_in / 2);
	pthread_mutex_unlock(&c->lock);
}

/* The host of `url`, lower-cased, or NULL; the caller frees it. */
static char *url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *out = NULL, *p;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		out = xstrdup(host);
		for (p = out; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

/* 1 when the credentials may go to the token realm: https, or the registry's own host. */
static int realm_trusted(const struct registry_conn *c, const char *realm)
{
	char *rh, *ch;
	int same;

	if (!strncasecmp(realm, "https://", 8))
		return 1;
	rh = url_host(realm);
	ch = url_host(c->url);
	same = rh && ch && !strcmp(rh, ch);
	free(rh);
	free(ch);
	return same;
}

/* The token request: GET realm?service=..&scope=.., with basic auth when credentials are set
 * and the realm may have them. */
static int token_fetch(struct registry_conn *c, const struct v2_challenge *ch, const char *scope,
                       int64_t deadline_ms, char **out, struct db_err *err)
{
	static const char *const keys[] = {"token", "access_token", NULL};
	struct http_response res = HTTP_RESPONSE_INIT;
	const char *params[5] = {NULL, NULL, NULL, NULL, NULL};
	char *url = NULL, *shown = NULL, *userpwd = NULL, *key, *token = NULL;
	long expires_in = 0;
	int ret = 0, n = 0;

	if (ch->service) {
		params[n++] = "service";
		params[n++] = ch->service;
	}
	params[n++] = "scope";
	params[n] = scope;
	url = http_url(ch->realm, NULL, params);
	if (!url) {
		char *realm = http_redact_url(ch->realm);
		ret = db_err_set(err, DB_EAUTH, "'%s': the token realm '%s' is not an http(s) URL",
		                 c->url, realm);
		free(realm);
		goto out;
	}
	shown = http_redact_url(url);
	if (c->user && !realm_trusted(c, url)) {
		ret = db_err_set(err, DB_EAUTH,
		                 "'%s': the token realm '%s' is plain http on another host: the "
		                 "credentials are not sent there (the realm must be https)",
		                 c->url, shown);
		goto out;
	}
	if (c->user)
		userpwd = xasprintf("%s:%s", c->user, c->password);
	ret = http_request(
	    c->http, &res,
	    &(struct http_request){.url = url, .userpwd = userpwd, .deadline_ms = deadline_ms},
	    err);
	if (ret < 0)
		goto out;
	ret = registry_token_answer(&res, shown, keys,
	                            c->user ? "the credentials" : "anonymous access", &token,
	                            &expires_in, err);
	if (ret < 0)
		goto out;
	if (!expires_in)
		expires_in = TOKEN_DEFAULT_S;
	key = token_key(ch, scope);
	token_store(c, key, token, expires_in);
	free(key);
	*out = xasprintf("Authorization: Bearer %s", token);
out:
	registry_free_secret(token);
	registry_free_secret(userpwd);
	http_response_release(&res);
	free(shown);
	free(url);
	return ret;
}

/* The last challenge seen, so later requests can send a cached token right away. */
struct v2_session {
	struct v2_challenge chal;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	int basic;  /* answer with basic auth */
	int64_t deadline_ms;
};

static void session_release(struct v2_session *s)
{
	v2_challenge_release(&s->chal);
	registry_free_secret(s->auth);
	memset(s, 0, sizeof(*s));
}

/*
 * GET (or HEAD) `url` with the session's credentials; on 401 answers the challenge once and
 * retries. `res` holds the final response; non-2xx statuses other than an unanswerable 401 are
 * left to the caller.
 */
static int v2_request(struct registry_conn *c, struct v2_session *s, const char *image,
                      const char *url, const char *accept, const char *extra, int head,
                      struct http_response *res, struct db_err *err)
{
	char *shown = http_redact_url(url), *userpwd = NULL, *scope;
	const char *wa;
	int round, ret = 0;

	scope = xasprintf("repository:%s:pull", image);
	for (round = 0; round < 2; round++) {
		const char *hdrs[4] = {accept, NULL, NULL, NULL};
		int n = 1;

		if (extra)
			hdrs[n++] = extra;
		hdrs[n] = s->auth;
		if (s->basic && c->user && !userpwd)
			userpwd = xasprintf("%s:%s", c->user, c->password);
		http_response_release(res);
		ret = http_request(c->http, res,
		                   &(struct http_request){.url = url,
		                                          .headers = hdrs,
		                                          .userpwd = s->basic ? userpwd : NULL,
		                                          .no_body = head,
		                                          .deadline_ms = s->deadline_ms},
		                   err);
		if (ret < 0 || res->status != 401 || round)
			break;
		wa = http_response_header(res, "www-authenticate");
		v2_challenge_release(&s->chal);
		v2_challenge_parse(&s->chal, wa ? wa : "");
		if (s->chal.bearer && s->chal.realm) {
			const char *want = s->chal.scope ? s->chal.scope : scope;
			char *key = token_key(&s->chal, want);
			registry_free_secret(s->auth);
			s->auth = token_lookup(c, key);
			free(key);
			if (!s->auth) {
				ret = token_fetch(c, &s->chal, want, s->deadline_ms, &s->auth, err);
				if (ret < 0)
					break;
			}
		} else if (s->chal.basic && c->user) {
			s->basic = 1;
		} else {
			break;
		}
	}
	if (!ret && (res->status == 401 || res->status == 403))
		ret = registry_status_error(c, res->status, image, shown, err);
	registry_free_secret(userpwd);
	free(scope);
	free(shown);
	return ret;
}

/* The target of `Link: <...>; rel="next"`, resolved against `base`, or NULL. */
static char *link_next(const char *link, const char *base)
{
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL, *end;
		if (!gt)
			return NULL;
		end = strchr(gt, ',');
		if (!end)
			end = gt + strlen(gt);
		{
			char *params = xstrndup(gt + 1, (size_t)(end - gt - 1));
			int is_next = strstr(params, "rel=\"next\"") || strstr(params, "rel=next");
			free(params);
			if (is_next) {
				char *target = xstrndup(lt + 1, (size_t)(gt - lt - 1));
				char *abs = http_resolve_url(base, target);
				free(target);
				return abs;
			}
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

int v2_parse_page(struct registry_fetch *f, const struct buf *body, const char *link,
                  const char *page_url, const char *shown, char **next, struct db_err *err)
{
	json_t *root = registry_parse_json(body, shown, err), *tags, *t;
	size_t i;
	int ret = 0;

	*next = NULL;
	if (!root)
		return DB_EPARSE;
	tags = json_object_get(root, "tags");
	if (!json_is_array(tags) && !json_is_null(tags)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': no 'tags' list in the answer", shown);
		goto out;
	}
	json_array_foreach(tags, i, t)
	{
		if (json_is_string(t))
			registry_add_tag(f->out, json_string_value(t), json_string_length(t), NULL,
			                 NULL, shown);
	}
	if (link) {
		*next = link_next(link, page_url);
		if (*next && strncmp(*next, "http://", 7) && strncmp(*next, "https://", 8)) {
			free(*next);
			*next = NULL;
		}
	}
out:
	json_decref(root);
	return ret;
}

static int v2_fetch(struct registry_conn *c, struct registry_fetch *f, struct db_err *err)
{
	static const char *const params[] = {"n", V2_PAGE_SIZE, NULL};
	struct v2_session s = {{0, 0, NULL, NULL, NULL}, NULL, 0, f->deadline_ms};
	struct registry_pages pages = {{0, 0}, NULL, 0, 0};
	char *path = xasprintf("v2/%s/tags/list", f->image);
	char *url = http_url(c->url, path, params), *cond = NULL, *shown = NULL, *next = NULL;
	int ret = 0, first = 1;

	f->out = taglist_new();
	if (!url) {
		ret = db_err_set(err, DB_EUSAGE, "registry URL '%s' is not usable", c->url);
		goto out;
	}
	registry_pages_init(&pages, url);
	if (f->cached && f->etag)
		cond = xasprintf("If-None-Match: %s", f->etag);
	for (;;) {
		struct http_response res = HTTP_RESPONSE_INIT;

		free(shown);
		shown = http_redact_url(url);
		ret = v2_request(c, &s, f->image, url, "Accept: application/json",
		                 first ? cond : NULL, 0, &res, err);
		if (!ret)
			ret = registry_page_status(c, f, &res, first, cond != NULL, shown, err);
		if (!ret)
			ret = v2_parse_page(f, &res.body, http_response_header(&res, "link"), url,
			                    shown, &next, err);
		http_response_release(&res);
		first = 0;
		if (ret || !next)
			break;
		ret = registry_next_page(c, &pages, &url, &next, shown, err);
		if (ret < 0)
			break;
	}
	if (ret == 1) /* 304: the cached list stands */
		ret = 0;
	f->full = 1;
out:
	session_release(&s);
	registry_pages_release(&pages);
	free(next);
	free(cond);
	free(shown);
	free(url);
	free(path);
	return ret;
}

static int v2_manifest_digest(struct registry_conn *c, const char *image, const char *tag,
                              int64_t deadline_ms, char **out, struct db_err *err)
{
	struct v2_session s = {{0, 0, NULL, NULL, NULL}, NULL, 0, deadline_ms};
	struct http_response res = HTTP_RESPONSE_INIT;
	char *path = xasprintf("v2/%s/manifests/%s", image, tag);
	char *url = http_url(c->url, path, NULL), *shown = NULL;
	const char *digest;
	int ret;

	if (!url) {
		ret = db_err_set(err, DB_EUSAGE, "registry URL '%s' is not usable", c->url);
		goto out;
	}
	shown = http_redact_url(url);
	ret = v2_request(c, &s, image, url, manifest_accept, NULL, 1, &res, err);
	if (!ret && res.status == 404)
		ret = db_err_set(err, DB_ENOTFOUND, "'%s:%s' not found at '%s'", image, tag, shown);
	else if (!ret && res.status / 100 != 2)
		ret = registry_status_error(c, res.status, image, shown, err);
	if (!ret) {
		digest = http_response_header(&res, "docker-content-digest");
		if (!digest || !tag_digest_valid(digest))
			ret = db_err_set(err, DB_EPARSE, "'%s': no valid Docker-Content-Digest",
			                 shown);
		else
			*out = xstrdup(digest);
	}
out:
	http_response_release(&res);
	session_release(&s);
	free(shown);
	free(url);
	free(path);
	return ret;
}

/* "HOST[:PORT]/image:tag": where a container engine pulls from this registry. */
static char *v2_image_ref(const struct registry_conn *c, const char *image, const char *tag)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *ref;

	if (u && curl_url_set(u, CURLUPART_URL, c->url, 0) == CURLUE_OK &&
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

const struct registry_backend registry_v2_backend = {
    .name = "v2",
    .fetch = v2_fetch,
    .digest = v2_manifest_digest,
    .image_ref = v2_image_ref,
    .state_free = v2_state_free,
};

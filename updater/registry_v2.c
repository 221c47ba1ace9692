/*
 * The OCI distribution client: /v2/<name>/tags/list with Link pagination, the Bearer token
 * flow (tokens reused until they expire) or Basic auth, and manifest HEADs for digests.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/registry_int.h"
#include "common/banned.h"

#define V2_PAGE_SIZE    1000
#define TOKEN_DEFAULT_S 60 /* the distribution spec's default for a missing expires_in */

static const char manifest_accept[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json, "
                                      "application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json";

/* --- WWW-Authenticate --- */

struct challenge {
	int bearer, basic;
	char *realm, *service, *scope;
};

static void challenge_release(struct challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
static void challenge_parse(struct challenge *c, const char *v)
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

static char *token_key(const struct challenge *c, const char *scope)
{
	return xasprintf("%s\n%s\n%s", c->realm, c->service ? c->service : "", scope);
}

/* A live token for `key` as an Authorization header, or NULL. Caller holds rc->lock. */
static char *token_lookup_locked(struct registry_client *rc, const char *key)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < rc->nr_tokens; i++)
		if (!strcmp(rc->tokens[i].key, key) && rc->tokens[i].expires > now)
			return xasprintf("Authorization: Bearer %s", rc->tokens[i].token);
	return NULL;
}

static void token_store(struct registry_client *rc, const char *key, const char *token,
                        long expires_in)
{
	/* renew a little early so a token does not expire between check and use */
	time_t expires = time(NULL) + (expires_in > 20 ? expires_in - 10 : expires_in / 2);
	struct v2_token *t = NULL;
	size_t i;

	pthread_mutex_lock(&rc->lock);
	for (i = 0; i < rc->nr_tokens; i++)
		if (!strcmp(rc->tokens[i].key, key))
			t = &rc->tokens[i];
	if (!t) {
		ALLOC_GROW(rc->tokens, rc->nr_tokens + 1, rc->alloc_tokens);
		t = &rc->tokens[rc->nr_tokens++];
		t->key = xstrdup(key);
	} else {
		free(t->token);
	}
	t->token = xstrdup(token);
	t->expires = expires;
	pthread_mutex_unlock(&rc->lock);
}

/* The token request: GET realm?service=..&scope=.., with basic auth when credentials are set. */
static int token_fetch(struct registry_client *rc, const struct challenge *c, const char *scope,
                       char **out, struct db_err *err)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct buf url = BUF_INIT;
	static const char *const keys[] = {"token", "access_token", NULL};
	char *shown = NULL, *userpwd = NULL, *key, *token = NULL;
	long expires_in = 0;
	int ret = 0;

	if (strncmp(c->realm, "https://", 8) && strncmp(c->realm, "http://", 7))
		return db_err_set(err, DB_EAUTH, "'%s': the token realm is not an http(s) URL",
		                  rc->url);
	buf_adds(&url, c->realm);
	buf_addch(&url, strchr(c->realm, '?') ? '&' : '?');
	if (c->service) {
		char *e = http_escape(c->service);
		buf_addf(&url, "service=%s&", e);
		free(e);
	}
	if (scope) {
		char *e = http_escape(scope);
		buf_addf(&url, "scope=%s", e);
		free(e);
	}
	shown = http_redact_url(url.ptr);
	if (rc->user)
		userpwd = xasprintf("%s:%s", rc->user, rc->password);
	ret = http_request(rc->http, &res,
	                   &(struct http_request){.url = url.ptr, .userpwd = userpwd}, err);
	if (ret < 0)
		goto out;
	ret = registry_token_answer(&res, shown, keys,
	                            rc->user ? "the credentials" : "anonymous access", &token,
	                            &expires_in, err);
	if (ret < 0)
		goto out;
	if (!expires_in)
		expires_in = TOKEN_DEFAULT_S;
	key = token_key(c, scope ? scope : "");
	token_store(rc, key, token, expires_in);
	free(key);
	*out = xasprintf("Authorization: Bearer %s", token);
out:
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	http_response_release(&res);
	if (userpwd) {
		memset(userpwd, 0, strlen(userpwd));
		free(userpwd);
	}
	free(shown);
	buf_release(&url);
	return ret;
}

/* The last challenge seen, so later requests can send a cached token right away. */
struct v2_session {
	struct challenge chal;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	int basic;  /* answer with basic auth */
};

static void session_release(struct v2_session *s)
{
	challenge_release(&s->chal);
	if (s->auth) {
		memset(s->auth, 0, strlen(s->auth));
		free(s->auth);
	}
	memset(s, 0, sizeof(*s));
}

/*
 * GET (or HEAD) `url` with the session's credentials; on 401 answers the challenge once and
 * retries. `res` holds the final response; non-2xx statuses other than an unanswerable 401 are
 * left to the caller.
 */
static int v2_request(struct registry_client *rc, struct v2_session *s, const char *image,
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
		if (s->basic && rc->user && !userpwd)
			userpwd = xasprintf("%s:%s", rc->user, rc->password);
		http_response_release(res);
		ret = http_request(rc->http, res,
		                   &(struct http_request){.url = url,
		                                          .headers = hdrs,
		                                          .userpwd = s->basic ? userpwd : NULL,
		                                          .no_body = head},
		                   err);
		if (ret < 0 || res->status != 401 || round)
			break;
		wa = http_response_header(res, "www-authenticate");
		challenge_release(&s->chal);
		challenge_parse(&s->chal, wa ? wa : "");
		if (s->chal.bearer && s->chal.realm) {
			char *key = token_key(&s->chal, s->chal.scope ? s->chal.scope : scope);
			free(s->auth);
			pthread_mutex_lock(&rc->lock);
			s->auth = token_lookup_locked(rc, key);
			pthread_mutex_unlock(&rc->lock);
			free(key);
			if (!s->auth) {
				ret =
				    token_fetch(rc, &s->chal, s->chal.scope ? s->chal.scope : scope,
				                &s->auth, err);
				if (ret < 0)
					break;
			}
		} else if (s->chal.basic && rc->user) {
			s->basic = 1;
		} else {
			break;
		}
	}
	if (!ret && (res->status == 401 || res->status == 403))
		ret = registry_status_error(rc, res->status, image, shown, err);
	if (userpwd) {
		memset(userpwd, 0, strlen(userpwd));
		free(userpwd);
	}
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

int v2_fetch(struct registry_client *rc, struct registry_fetch *f, struct db_err *err)
{
	struct v2_session s = {0};
	struct strlist seen = {0};
	char *url, *cond = NULL, *shown = NULL;
	int ret = 0, first = 1;

	url = xasprintf("%s/v2/%s/tags/list?n=%d", rc->url, f->image, V2_PAGE_SIZE);
	strlist_push(&seen, url);
	if (f->cached && f->etag)
		cond = xasprintf("If-None-Match: %s", f->etag);
	f->out = taglist_new();
	for (;;) {
		struct http_response res = HTTP_RESPONSE_INIT;
		json_t *root = NULL, *tags, *t;
		const char *link;
		char *next = NULL;
		size_t i;

		free(shown);
		shown = http_redact_url(url);
		ret = v2_request(rc, &s, f->image, url, "Accept: application/json",
		                 first ? cond : NULL, 0, &res, err);
		if (!ret)
			ret =
			    registry_read_page(rc, f, &res, first, cond != NULL, shown, &root, err);
		if (ret == 1) {
			ret = 0;
			http_response_release(&res);
			break;
		}
		tags = root ? json_object_get(root, "tags") : NULL;
		if (!ret && !json_is_array(tags) && !json_is_null(tags))
			ret =
			    db_err_set(err, DB_EPARSE, "'%s': no 'tags' list in the answer", shown);
		json_array_foreach(ret ? NULL : tags, i, t)
		{
			if (json_is_string(t))
				registry_add_tag(f->out, json_string_value(t),
				                 json_string_length(t), NULL, NULL, shown);
		}
		link = ret ? NULL : http_response_header(&res, "link");
		if (link) {
			next = link_next(link, url);
			if (next && strncmp(next, "http", 4)) {
				free(next);
				next = NULL;
			}
		}
		http_response_release(&res);
		json_decref(root);
		first = 0;
		if (ret < 0 || !next) {
			free(next);
			break;
		}
		free(url);
		url = next;
		ret = registry_next_page(rc, &seen, url, shown, err);
		if (ret < 0)
			break;
	}
	f->full = 1;
	session_release(&s);
	strlist_clear(&seen);
	free(cond);
	free(shown);
	free(url);
	return ret;
}

int v2_manifest_digest(struct registry_client *rc, const char *image, const char *tag, char **out,
                       struct db_err *err)
{
	struct v2_session s = {0};
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xasprintf("%s/v2/%s/manifests/%s", rc->url, image, tag);
	char *shown = http_redact_url(url);
	const char *digest;
	int ret;

	ret = v2_request(rc, &s, image, url, manifest_accept, NULL, 1, &res, err);
	if (!ret && res.status == 404)
		ret = db_err_set(err, DB_ENOTFOUND, "'%s:%s' not found at '%s'", image, tag, shown);
	else if (!ret && res.status / 100 != 2)
		ret = registry_status_error(rc, res.status, image, shown, err);
	if (!ret) {
		digest = http_response_header(&res, "docker-content-digest");
		if (!digest || !tag_digest_valid(digest))
			ret = db_err_set(err, DB_EPARSE, "'%s': no valid Docker-Content-Digest",
			                 shown);
		else
			*out = xstrdup(digest);
	}
	http_response_release(&res);
	session_release(&s);
	free(shown);
	free(url);
	return ret;
}

/*
 * What both registry backends use: reading answers (status, JSON, tokens), checking tag names
 * and header values from the network, and the bookkeeping of paginated listings.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/utf8.h"
#include "updater/registry_int.h"
#include "common/banned.h"

void registry_fetch_release(struct registry_fetch *f)
{
	taglist_free(f->out);
	free(f->new_etag);
	free(f->new_last_modified);
	f->out = NULL;
	f->new_etag = f->new_last_modified = NULL;
}

void registry_count_page(struct registry_conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->pages++;
	pthread_mutex_unlock(&c->lock);
}

void registry_free_secret(char *s)
{
	if (!s)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

int registry_header_value_ok(const char *v)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e || n > 1024)
			return 0;
	return 1;
}

json_t *registry_parse_json(const struct buf *body, const char *shown, struct db_err *err)
{
	json_error_t jerr;
	/* JSON_ALLOW_NUL: "\u0000" in one tag name must cost that name, not the whole page */
	json_t *root = json_loadb(body->ptr, body->len, JSON_ALLOW_NUL, &jerr);

	if (!root && json_error_code(&jerr) == json_error_invalid_utf8) {
		struct buf clean = BUF_INIT;
		size_t bad = utf8_sanitize(&clean, body->ptr, body->len, "?");
		log_warn("'%s': %zu bytes of invalid UTF-8 in the response, replaced", shown, bad);
		root = json_loadb(clean.ptr, clean.len, JSON_ALLOW_NUL, &jerr);
		buf_release(&clean);
	}
	if (!root)
		db_err_set(err, DB_EPARSE, "'%s': malformed JSON at byte %d: %s", shown,
		           jerr.position, jerr.text);
	return root;
}

const char *registry_json_cstr(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
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

int registry_status_error(const struct registry_conn *c, long status, const char *image,
                          const char *shown, struct db_err *err)
{
	if (status == 401 || status == 403)
		return db_err_set(err, DB_EAUTH, "'%s': HTTP %ld: access to '%s' refused%s", shown,
		                  status, image,
		                  c->user ? "" : " (set DOCKERBUMP_REGISTRY_USER and _PASSWORD)");
	if (status == 404)
		return db_err_set(err, DB_ENOTFOUND, "image '%s' not found at '%s'", image, shown);
	return db_err_set(err, DB_ENET, "'%s': unexpected HTTP %ld", shown, status);
}

int registry_page_status(struct registry_conn *c, struct registry_fetch *f,
                         const struct http_response *res, int first, int conditional,
                         const char *shown, struct db_err *err)
{
	const char *etag, *lm;

	if (first && conditional && res->status == 304) {
		f->not_modified = 1;
		return 1;
	}
	if (res->status / 100 != 2)
		return registry_status_error(c, res->status, f->image, shown, err);
	if (first) {
		etag = http_response_header(res, "etag");
		lm = http_response_header(res, "last-modified");
		f->new_etag = etag && registry_header_value_ok(etag) ? xstrdup(etag) : NULL;
		f->new_last_modified = lm && registry_header_value_ok(lm) ? xstrdup(lm) : NULL;
	}
	registry_count_page(c);
	return 0;
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
		t = registry_json_cstr(json_object_get(root, *keys));
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

/* --- pages --- */

static uint64_t page_hash(const struct registry_pages *p, const char *url)
{
	uint64_t h = tagver_siphash(p->key, url, strlen(url));
	return h ? h : 1; /* 0 marks an empty slot */
}

/* Adds `h`; 0 when it was there already. */
static int pages_add(struct registry_pages *p, uint64_t h)
{
	size_t i, mask;

	if (2 * (p->nr + 1) > p->nr_slots) {
		uint64_t *old = p->slots;
		size_t old_n = p->nr_slots;
		p->nr_slots = old_n ? 2 * old_n : 64;
		p->slots = xcalloc(p->nr_slots, sizeof(*p->slots));
		p->nr = 0;
		for (i = 0; i < old_n; i++)
			if (old[i])
				pages_add(p, old[i]);
		free(old);
	}
	mask = p->nr_slots - 1;
	for (i = (size_t)h & mask; p->slots[i]; i = (i + 1) & mask)
		if (p->slots[i] == h)
			return 0;
	p->slots[i] = h;
	p->nr++;
	return 1;
}

void registry_pages_init(struct registry_pages *p, const char *first_url)
{
	memset(p, 0, sizeof(*p));
	tagver_random_key(p->key);
	pages_add(p, page_hash(p, first_url));
}

void registry_pages_release(struct registry_pages *p)
{
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

int registry_next_page(const struct registry_conn *c, struct registry_pages *p, char **url,
                       char **next, const char *shown, struct db_err *err)
{
	free(*url);
	*url = *next;
	*next = NULL;
	if (!http_same_origin(*url, c->url))
		return db_err_set(err, DB_ENET, "'%s': the next page is on another server", shown);
	if (!pages_add(p, page_hash(p, *url)))
		return db_err_set(err, DB_ENET, "'%s': the next-page links loop", shown);
	if (p->nr > (size_t)c->max_pages)
		return db_err_set(err, DB_ENET, "'%s': more than %d pages (registry.max_pages)",
		                  shown, c->max_pages);
	return 0;
}

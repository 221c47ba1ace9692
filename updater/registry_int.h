/*
 * Internals shared by the registry front (registry.c) and its two clients (registry_hub.c,
 * registry_v2.c). Not for other modules: they use registry.h.
 *
 * registry.c owns the cache; a client's fetch function gets the cached list (or NULL) and
 * its validators, and returns the fresh list:
 *
 *	struct registry_fetch f = {.image = image, .cached = cached_or_null, .etag = ...};
 *	ret = rc->api == REGISTRY_HUB ? hub_fetch(rc, &f, err) : v2_fetch(rc, &f, err);
 *	// f.out: the new list (owned by f, freed with registry_fetch_release), or f.not_modified
 */
#ifndef DOCKERBUMP_UPDATER_REGISTRY_INT_H
#define DOCKERBUMP_UPDATER_REGISTRY_INT_H

#include <pthread.h>
#include <time.h>

#include "common/http.h"
#include "updater/registry.h"

struct v2_token {
	char *key; /* realm, service and scope */
	char *token;
	time_t expires;
};

struct registry_client {
	enum registry_api api;
	char *url; /* no trailing '/' */
	struct http_client *http;
	char *user, *password; /* from the environment; never logged */
	int max_pages;
	long ttl_s;
	int no_cache;
	char *cache_dir;

	pthread_mutex_t lock; /* everything below */
	char *hub_token;      /* the hub's bearer token after login */
	int hub_login_tried;
	struct v2_token *tokens;
	size_t nr_tokens, alloc_tokens;
	unsigned long cache_hits, pages;
};

struct registry_fetch {
	const char *image;
	const struct taglist *cached;     /* may be NULL: list everything */
	const char *etag, *last_modified; /* of the cached first page; may be NULL */

	struct taglist *out; /* the new list */
	char *new_etag, *new_last_modified;
	int not_modified; /* the first page answered 304: `cached` stands */
	int full;         /* `out` is a complete listing */
};

void registry_fetch_release(struct registry_fetch *f);

int hub_fetch(struct registry_client *rc, struct registry_fetch *f, struct db_err *err);
int v2_fetch(struct registry_client *rc, struct registry_fetch *f, struct db_err *err);
int v2_manifest_digest(struct registry_client *rc, const char *image, const char *tag, char **out,
                       struct db_err *err);

/* Helpers for both clients. */
void registry_count_page(struct registry_client *rc);
/* Parses a JSON body, first as is, then with invalid UTF-8 replaced (with a warning naming
 * `shown`), so one bad tag name cannot hide the others. NULL and DB_EPARSE on failure. */
struct json_t *registry_parse_json(const struct buf *body, const char *shown, struct db_err *err);
/* Adds the tag if its name is valid; otherwise warns, naming `shown` and the escaped name. */
void registry_add_tag(struct taglist *l, const char *name, size_t len, const struct timespec *when,
                      const char *digest, const char *shown);
/* An error for a non-2xx status: 401/403 DB_EAUTH, 404 DB_ENOTFOUND naming the image, else
 * DB_ENET. */
int registry_status_error(struct registry_client *rc, long status, const char *image,
                          const char *shown, struct db_err *err);
/* Loop and page-cap bookkeeping for paginated listings: 0 to go on, or an error. */
int registry_next_page(struct registry_client *rc, struct strlist *seen, const char *next,
                       const char *shown, struct db_err *err);
/* A listing page's answer: 1 when the first page answered 304 to a conditional request
 * (`f->not_modified` is set), 0 with the page's JSON in `*root` (on the first page its ETag
 * and Last-Modified are kept in `f`), or an error (registry_status_error(), DB_EPARSE). */
int registry_read_page(struct registry_client *rc, struct registry_fetch *f,
                       const struct http_response *res, int first, int conditional,
                       const char *shown, struct json_t **root, struct db_err *err);
/* Reads a login or token answer: 401/403 is DB_EAUTH ("refused `who`"), another non-2xx
 * DB_ENET, else the first of `keys` (NULL-terminated) that holds a usable token goes to
 * `*token` (the caller frees it) and `expires_in` to `*expires_in` (0 when absent). */
int registry_token_answer(const struct http_response *res, const char *shown,
                          const char *const *keys, const char *who, char **token, long *expires_in,
                          struct db_err *err);
/* 1 when a header value from a server or a cache file is safe to send back. */
int registry_header_value_ok(const char *v);

#endif

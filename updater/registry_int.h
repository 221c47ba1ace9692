/*
 * Internals of the registry clients, below the front (registry.c, which owns the cache and the
 * per-image time budget): the connection the backends share, the fetch they fill in, the table
 * of backends, and what both backends use (registry_common.c). Not for other modules: they use
 * registry.h.
 *
 * The calls go one way: registry.c picks a backend from its table and calls it; a backend
 * (registry_hub.c, registry_v2.c) calls registry_common.c, tagver and http, never the front.
 *
 *	const struct registry_backend *b = &registry_hub_backend;
 *	struct registry_fetch f = {.image = image, .cached = cached_or_null, .etag = ...,
 *	                           .deadline_ms = http_deadline_in(budget_ms)};
 *	ret = b->fetch(conn, &f, err);
 *	// f.out: the new list (owned by f, freed with registry_fetch_release), or f.not_modified
 *
 * The page parsers of both backends are declared here too, so unit tests and fuzz targets can
 * feed them bodies without a network.
 */
#ifndef DOCKERBUMP_UPDATER_REGISTRY_INT_H
#define DOCKERBUMP_UPDATER_REGISTRY_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/http.h"
#include "updater/tagver.h"

struct json_t;

/* What the backends share: where the registry is, how to reach it, with which credentials. */
struct registry_conn {
	char *url; /* http(s)://host[:port][/path]: no trailing '/', userinfo, query or fragment */
	struct http_client *http;
	char *user, *password; /* from the environment; never logged */
	int max_pages;

	pthread_mutex_t lock; /* everything below */
	unsigned long pages;  /* tag pages read */
	void *state;          /* the backend's own (a login token, bearer tokens); may be NULL */
};

struct registry_fetch {
	const char *image;
	const struct taglist *cached;     /* may be NULL: list everything */
	const char *etag, *last_modified; /* of the cached first page; may be NULL */
	int64_t deadline_ms;              /* every request of this fetch ends by then */

	struct taglist *out; /* the new list */
	char *new_etag, *new_last_modified;
	int not_modified; /* the first page answered 304: `cached` stands */
	int full;         /* `out` is a complete listing */

	/* the hub's stop-early rule: the newest time in `cached`, found once per fetch */
	int newest_state; /* 0: not looked yet; 1: `cached` has no time; 2: `newest` is set */
	struct timespec newest;
};

void registry_fetch_release(struct registry_fetch *f);

struct registry_backend {
	const char *name; /* "hub" or "v2": in cache keys and messages */
	/* The tags of f->image into f->out (see struct registry_fetch). */
	int (*fetch)(struct registry_conn *c, struct registry_fetch *f, struct db_err *err);
	/* The content digest of image:tag into `*out` (the caller frees it); NULL when the tag
	 * list carries digests (the front reads them from there). */
	int (*digest)(struct registry_conn *c, const char *image, const char *tag,
	              int64_t deadline_ms, char **out, struct db_err *err);
	/* What a container engine pulls for image:tag; the caller frees it. */
	char *(*image_ref)(const struct registry_conn *c, const char *image, const char *tag);
	/* Frees `c->state`. */
	void (*state_free)(void *state);
};

extern const struct registry_backend registry_hub_backend;
extern const struct registry_backend registry_v2_backend;

/* --- what both backends use (registry_common.c) --- */

void registry_count_page(struct registry_conn *c);
/* Parses a JSON body (a NUL escaped in a string is kept: the string is refused later, not the
 * document), first as is, then with invalid UTF-8 replaced (with a warning naming `shown`), so
 * one bad tag name cannot hide the others. NULL and DB_EPARSE on failure. */
struct json_t *registry_parse_json(const struct buf *body, const char *shown, struct db_err *err);
/* The string value of `v` when it is a string without an embedded NUL, else NULL; borrowed. */
const char *registry_json_cstr(const struct json_t *v);
/* Adds the tag if its `len` bytes are a valid name; otherwise warns, naming `shown` and the
 * escaped name. `digest` is dropped unless it is a valid digest. */
void registry_add_tag(struct taglist *l, const char *name, size_t len, const struct timespec *when,
                      const char *digest, const char *shown);
/* An error for a non-2xx status: 401/403 DB_EAUTH, 404 DB_ENOTFOUND naming the image, else
 * DB_ENET. */
int registry_status_error(const struct registry_conn *c, long status, const char *image,
                          const char *shown, struct db_err *err);

/* The pages of one listing: a loop (a page seen before) and the page cap are errors. The set
 * hashes the URLs, so checking a page costs the same on the first page as on the last. */
struct registry_pages {
	uint64_t key[2];
	uint64_t *slots; /* URL hashes; 0 is an empty slot */
	size_t nr, nr_slots;
};
void registry_pages_init(struct registry_pages *p, const char *first_url);
void registry_pages_release(struct registry_pages *p);
/* Moves `*next` to `*url` (freeing the old URL) and checks it: 0 to go on to it, or an error
 * (another server, a loop, more than max_pages). */
int registry_next_page(const struct registry_conn *c, struct registry_pages *p, char **url,
                       char **next, const char *shown, struct db_err *err);

/* A listing page's answer: 1 when the first page answered 304 to a conditional request
 * (`f->not_modified` is set), 0 when it is a 2xx (on the first page its ETag and
 * Last-Modified are kept in `f`), or an error (registry_status_error()). */
int registry_page_status(struct registry_conn *c, struct registry_fetch *f,
                         const struct http_response *res, int first, int conditional,
                         const char *shown, struct db_err *err);
/* Reads a login or token answer: 401/403 is DB_EAUTH ("refused `who`"), another non-2xx
 * DB_ENET, else the first of `keys` (NULL-terminated) that holds a usable token goes to
 * `*token` (the caller frees it) and `expires_in` to `*expires_in` (0 when absent). */
int registry_token_answer(const struct http_response *res, const char *shown,
                          const char *const *keys, const char *who, char **token, long *expires_in,
                          struct db_err *err);
/* 1 when a header value from a server or a cache file is safe to send back. */
int registry_header_value_ok(const char *v);
/* Wipes and frees a string that held a secret. */
void registry_free_secret(char *s);

/* --- the page parsers, for tests and fuzz targets --- */

/*
 * One hub tag page (its JSON body) into f->out. `*next` gets the next page's URL resolved
 * against `base` (the caller frees it) or NULL on the last page; `*settled` is set when the
 * stop-early rule of registry.h holds against f->cached.
 */
int hub_parse_page(struct registry_fetch *f, const struct buf *body, const char *base,
                   const char *shown, char **next, int *settled, struct db_err *err);
/* After a stopped-early listing: the cached tags the pages did not mention keep their data. */
void hub_merge_cached(struct registry_fetch *f);

/* One v2 tags/list page into f->out; `*next` gets the target of the `link` header's
 * rel="next" resolved against `page_url`, or NULL. */
int v2_parse_page(struct registry_fetch *f, const struct buf *body, const char *link,
                  const char *page_url, const char *shown, char **next, struct db_err *err);

/* A WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."` or `Basic`. */
struct v2_challenge {
	int bearer, basic;
	char *realm, *service, *scope; /* NULL when absent */
};
void v2_challenge_parse(struct v2_challenge *c, const char *header);
void v2_challenge_release(struct v2_challenge *c);

#endif

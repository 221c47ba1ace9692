/*
 * Registry clients: the tags of an image, from the Docker Hub web API (`hub`, the default) or
 * an OCI distribution registry (`v2`), cached on disk between runs.
 *
 *	struct registry_client *rc;
 *	struct taglist *tags;
 *	registry_client_new(&rc, &cfg, &(struct registry_client_opts){.no_cache = 0}, &err);
 *	registry_list_tags(rc, "demisto/python3", &tags, &err);
 *	... tagver_pick(tags, ...) ...
 *	char *ref = registry_image_ref(rc, "demisto/python3", tag);   // what to pull
 *	taglist_free(tags);
 *	registry_client_free(rc);
 *
 * The front (this file's functions, registry.c) owns the cache and the time budget and calls
 * one backend through a table (registry_int.h): `hub` (registry_hub.c) or `v2`
 * (registry_v2.c).
 *
 * Credentials come from DOCKERBUMP_REGISTRY_USER / DOCKERBUMP_REGISTRY_PASSWORD, never from
 * flags or the URL, and are never logged. They go only to the registry's own origin, over
 * https or plain http to loopback (a plain-http URL to another machine with credentials set
 * is a usage error), and to a v2 token realm that is https or on the registry's host; never
 * across a redirect to another origin (common/http.h).
 *
 * Every tag name from the network is validated (tag_name_valid()); an invalid one (a NUL in
 * it included) is skipped with a warning naming the URL, and the others are kept.
 *
 * Time: every request, retry and wait for one image (login, token, pages, digest) shares one
 * budget, registry.budget_s (by default 4 x registry.timeout_s, 2 minutes), so a slow or
 * slow-loris registry holds an image that long at most. A
 * registry that refuses connections or whose name does not resolve is tried twice, and the
 * message says to check registry.url or use --offline.
 *
 * Errors name the (redacted) URL: DB_ENET when the registry is unreachable or keeps failing
 * after retries or past the budget, or sends something unusable (a `next`/`Link` loop, too
 * many pages, a link to another host); DB_EPARSE for a malformed answer; DB_ETOOBIG for a body
 * over the cap; DB_EAUTH for 401/403 after the token flow, or credentials that would go where
 * they must not; DB_ENOTFOUND for an unknown image (404).
 *
 * The hub client (`GET {url}/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100&
 * ordering=last_updated`, following `next`) logs in through `POST {url}/v2/auth/token` when
 * credentials are set (falling back to `/v2/users/login`). The v2 client (`GET {url}/v2/{name}/
 * tags/list?n=1000`, following `Link: <...>; rel="next"`) answers `WWW-Authenticate: Bearer`
 * challenges with a token request (anonymous, or basic auth with the credentials) and reuses
 * the token until `expires_in`; a `Basic` challenge is answered with the credentials. v2
 * registries have no timestamps: their tags have unknown age.
 *
 * Cache: `<cache dir>/tags/<hash>.json`, one file per (registry URL, api, image), holding the
 * validated tag list, the first page's validators (ETag, Last-Modified) and the fetch time,
 * written atomically. Within `cache.ttl_s` the cache answers with no request at all. After
 * that, the first page is asked for conditionally (304 keeps the list), and the hub client
 * stops early by this rule:
 *
 *   STOP-EARLY (hub). Pages come newest first (`ordering=last_updated`). Let T be the newest
 *   `last_updated` in the cached list. After each page, if the page's oldest entry has a known
 *   `last_updated` <= T and that entry is in the cache with the same timestamp, stop: every
 *   later entry is at least as old, so it was already listed when the cache was written (tags
 *   are immutable and a push gives a tag a new, later timestamp). The pages read are merged
 *   into the cached list (a name seen again takes the new data). Tags deleted upstream stay
 *   until a full listing, which happens when the cache's last full listing is older than
 *   REGISTRY_FULL_REFRESH_S, when the cache is missing or unusable, or with --no-cache.
 *
 * So a warm run with nothing new costs one request per image (zero within the TTL). A cache
 * file that is corrupt, truncated, of another format version or about another registry or
 * image is ignored with a warning and rewritten, never trusted; its tag names are validated
 * like the network's.
 *
 * Tests may shrink the backoff with DOCKERBUMP_TEST_RETRY_MS (the first backoff in ms instead
 * of 500; a server's Retry-After is still honoured). It is for tests only.
 */
#ifndef DOCKERBUMP_UPDATER_REGISTRY_H
#define DOCKERBUMP_UPDATER_REGISTRY_H

#include <stddef.h>

#include "common/err.h"
#include "updater/config.h"
#include "updater/imageref.h"
#include "updater/tagver.h"

#define REGISTRY_FULL_REFRESH_S (7L * 24 * 3600)

struct registry_client;

struct registry_client_opts {
	int no_cache;          /* neither read nor write the cache (--no-cache) */
	const char *cache_dir; /* NULL: cache_dir_path() */
};

/* `*out` belongs to the caller; free it with registry_client_free(). `cfg` is read here and
 * not kept: registry.*, cache.ttl_s. `opts` may be NULL. */
int registry_client_new(struct registry_client **out, const struct config *cfg,
                        const struct registry_client_opts *opts, struct db_err *err);
void registry_client_free(struct registry_client *rc);

/* Every tag of `image` (e.g. "demisto/python3"; "python" means "library/python" on the hub),
 * sorted newest first (taglist_sort()); `*out` belongs to the caller (taglist_free()). Safe to
 * call from several threads for different images. Costs time linear in the number of tags
 * (plus the sort). */
int registry_list_tags(struct registry_client *rc, const char *image, struct taglist **out,
                       struct db_err *err);

/* The content digest of image:tag ("sha256:..."), `*out` for the caller to free: v2 asks the
 * registry with a manifest HEAD (Accept: OCI index, Docker manifest list, OCI manifest, Docker
 * v2 manifest) and reads Docker-Content-Digest; hub answers from the tag list. */
int registry_tag_digest(struct registry_client *rc, const char *image, const char *tag, char **out,
                        struct db_err *err);

/* What a container engine should pull for image:tag: "demisto/python3:TAG" for the hub,
 * "HOST[:PORT]/demisto/python3:TAG" for a v2 registry. The caller frees it. */
char *registry_image_ref(const struct registry_client *rc, const char *image, const char *tag);

/* The registry URL as configured (without a trailing '/'), for messages and reports; it holds
 * no credentials (registry_client_new() refuses userinfo). Borrowed. */
const char *registry_url(const struct registry_client *rc);

struct registry_stats {
	unsigned long requests;   /* HTTP attempts, retries included */
	double seconds;           /* time spent in them */
	unsigned long cache_hits; /* images answered from the cache without a request */
	unsigned long pages;      /* tag pages read */
};
void registry_client_stats(const struct registry_client *rc, struct registry_stats *out);

#endif

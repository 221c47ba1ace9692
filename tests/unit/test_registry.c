/*
 * The registry front without a network: image-name validation, pull references, the cache
 * file's round trip and its refusals, and the within-TTL answer that makes no request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "updater/config.h"
#include "updater/registry.h"
#include "updater/tagcache.h"
#include "scratch.h"

static void test_image_names(void **state)
{
	static const struct {
		const char *name;
		int valid;
	} cases[] = {
	    {"demisto/python3", 1},
	    {"python", 1},
	    {"a/b/c", 1},
	    {"my-org/x_y.z", 1},
	    {"a__b/c", 1},
	    {"Demisto/python3", 0},
	    {"demisto/", 0},
	    {"/python", 0},
	    {"a//b", 0},
	    {"demisto/../x", 0},
	    {"a___b", 0},
	    {"a:b", 0},
	    {"", 0},
	    {"a b", 0},
	    {"demisto/-x", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (image_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("image_name_valid(\"%s\") != %d", cases[i].name, cases[i].valid);
}

static struct registry_client *client(enum registry_api api, const char *url, const char *dir,
                                      long ttl)
{
	struct config cfg;
	struct registry_client *rc = NULL;
	struct db_err err = DB_ERR_INIT;

	config_init(&cfg);
	cfg.registry.api = api;
	config_set_str(&cfg.registry.url, url);
	cfg.cache.ttl_s = ttl;
	assert_int_equal(
	    registry_client_new(&rc, &cfg, &(struct registry_client_opts){0, dir}, &err), 0);
	config_release(&cfg);
	return rc;
}

static void test_image_ref(void **state)
{
	struct registry_client *rc;
	char *ref;

	(void)state;
	rc = client(REGISTRY_HUB, "https://hub.docker.com/", "/nonexistent", 0);
	ref = registry_image_ref(rc, "demisto/python3", "3.11.10.113941");
	assert_string_equal(ref, "demisto/python3:3.11.10.113941");
	assert_string_equal(registry_url(rc), "https://hub.docker.com");
	free(ref);
	registry_client_free(rc);
	rc = client(REGISTRY_V2, "http://127.0.0.1:5000", "/nonexistent", 0);
	ref = registry_image_ref(rc, "demisto/python3", "3.11.10.113941");
	assert_string_equal(ref, "127.0.0.1:5000/demisto/python3:3.11.10.113941");
	free(ref);
	registry_client_free(rc);
	rc = client(REGISTRY_V2, "https://registry.example.com", "/nonexistent", 0);
	ref = registry_image_ref(rc, "demisto/python3", "1.0");
	assert_string_equal(ref, "registry.example.com/demisto/python3:1.0");
	free(ref);
	registry_client_free(rc);
}

static void test_bad_config(void **state)
{
	static const struct {
		const char *url;
		const char *user; /* DOCKERBUMP_REGISTRY_USER and _PASSWORD, or NULL */
		const char *what;
	} cases[] = {
	    {"ftp://example.com", NULL, "'ftp://example.com' is not http:// or https://"},
	    {"", NULL, "is not http:// or https://"},
	    {"hub.docker.com", NULL, "is not http:// or https://"},
	    {"https://bot:secret@hub.example.com", NULL, "holds a user name"},
	    {"https://hub.example.com/?token=abc", NULL, "has a query or a fragment"},
	    {"https://hub.example.com/#x", NULL, "has a query or a fragment"},
	    {"http://registry.example.com:5000", "bot", "credentials are sent only over https"},
	    {"http://192.0.2.7", "bot", "plain http to another machine"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		struct registry_client *rc = (struct registry_client *)&rc;
		struct db_err err = DB_ERR_INIT;

		config_init(&cfg);
		config_set_str(&cfg.registry.url, cases[i].url);
		if (cases[i].user) {
			setenv("DOCKERBUMP_REGISTRY_USER", cases[i].user, 1);
			setenv("DOCKERBUMP_REGISTRY_PASSWORD", "pw-123", 1);
		}
		if (registry_client_new(&rc, &cfg, NULL, &err) != DB_EUSAGE || rc ||
		    !strstr(err.msg, cases[i].what) || strstr(err.msg, "secret") ||
		    strstr(err.msg, "pw-123"))
			fail_msg("case %zu: '%s'", i, err.msg);
		unsetenv("DOCKERBUMP_REGISTRY_USER");
		unsetenv("DOCKERBUMP_REGISTRY_PASSWORD");
		config_release(&cfg);
	}
}

/* Credentials over plain http are fine to this machine (the tests' registries). */
static void test_credentials_to_loopback(void **state)
{
	static const char *const urls[] = {"http://127.0.0.1:5000", "http://localhost:5000/",
	                                   "https://registry.example.com"};
	size_t i;

	(void)state;
	setenv("DOCKERBUMP_REGISTRY_USER", "bot", 1);
	setenv("DOCKERBUMP_REGISTRY_PASSWORD", "pw-123", 1);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		registry_client_free(client(REGISTRY_V2, urls[i], "/nonexistent", 0));
	unsetenv("DOCKERBUMP_REGISTRY_USER");
	unsetenv("DOCKERBUMP_REGISTRY_PASSWORD");
}

static void test_cache_roundtrip(void **state)
{
	char *dir = scratch_new("registry");
	char *path = tagcache_path(dir, "http://r", "hub", "demisto/python3");
	struct tagcache_entry e = TAGCACHE_ENTRY_INIT, back = TAGCACHE_ENTRY_INIT;
	struct timespec t = {1700000000, 123456789};
	struct db_err err = DB_ERR_INIT;
	const struct tag_entry *x;

	(void)state;
	e.tags = taglist_new();
	taglist_add(e.tags, "3.11.10.113941", &t, "sha256:abcd");
	taglist_add(e.tags, "latest", NULL, NULL);
	e.etag = xstrdup("\"v1\"");
	e.fetched_at = e.full_at = time(NULL);
	assert_int_equal(tagcache_store(path, &e, "http://r", "hub", "demisto/python3", &err), 0);

	assert_int_equal(tagcache_load(&back, path, "http://r", "hub", "demisto/python3"), 0);
	assert_int_equal(back.tags->nr, 2);
	x = taglist_find(back.tags, "3.11.10.113941");
	assert_non_null(x);
	assert_true(x->has_time && x->updated.tv_sec == t.tv_sec &&
	            x->updated.tv_nsec == t.tv_nsec);
	assert_string_equal(x->digest, "sha256:abcd");
	assert_false(taglist_find(back.tags, "latest")->has_time);
	assert_string_equal(back.etag, "\"v1\"");
	tagcache_entry_release(&back);

	/* the same file asked for under other keys is foreign */
	assert_int_equal(tagcache_load(&back, path, "http://r", "v2", "demisto/python3"), -1);
	assert_int_equal(tagcache_load(&back, path, "http://other", "hub", "demisto/python3"), -1);
	assert_int_equal(tagcache_load(&back, path, "http://r", "hub", "demisto/python"), -1);
	/* distinct keys, distinct files */
	{
		char *p2 = tagcache_path(dir, "http://r", "hub", "demisto/python");
		assert_string_not_equal(p2, path);
		free(p2);
	}
	/* truncated */
	assert_int_equal(truncate(path, 40), 0);
	assert_int_equal(tagcache_load(&back, path, "http://r", "hub", "demisto/python3"), -1);
	unlink(path);
	assert_int_equal(tagcache_load(&back, path, "http://r", "hub", "demisto/python3"), 1);

	tagcache_entry_release(&e);
	free(path);
	scratch_remove(dir);
}

static void test_within_ttl_no_request(void **state)
{
	/* The URL points nowhere: an answer proves the cache served it without a request. */
	char *dir = scratch_new("registry");
	const char *url = "http://127.0.0.1:9";
	char *path = tagcache_path(dir, url, "hub", "demisto/python3");
	struct tagcache_entry e = TAGCACHE_ENTRY_INIT;
	struct registry_client *rc;
	struct taglist *tags = NULL;
	struct registry_stats st;
	struct db_err err = DB_ERR_INIT;
	char *digest = NULL;

	(void)state;
	e.tags = taglist_new();
	taglist_add(e.tags, "3.11.10.113941", NULL, "sha256:feed");
	e.fetched_at = e.full_at = time(NULL);
	assert_int_equal(tagcache_store(path, &e, url, "hub", "demisto/python3", &err), 0);

	rc = client(REGISTRY_HUB, url, dir, 3600);
	assert_int_equal(registry_list_tags(rc, "demisto/python3", &tags, &err), 0);
	assert_true(tags->from_cache);
	assert_int_equal(tags->nr, 1);
	assert_int_equal(
	    registry_tag_digest(rc, "demisto/python3", "3.11.10.113941", &digest, &err), 0);
	assert_string_equal(digest, "sha256:feed");
	registry_client_stats(rc, &st);
	assert_int_equal(st.requests, 0);
	assert_int_equal(st.cache_hits, 2);
	taglist_free(tags);
	assert_int_equal(registry_list_tags(rc, "Bad/Name", &tags, &err), DB_EUSAGE);
	assert_null(tags);

	free(digest);
	taglist_free(tags);
	registry_client_free(rc);
	tagcache_entry_release(&e);
	free(path);
	scratch_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_names),     cmocka_unit_test(test_image_ref),
	    cmocka_unit_test(test_bad_config),      cmocka_unit_test(test_credentials_to_loopback),
	    cmocka_unit_test(test_cache_roundtrip), cmocka_unit_test(test_within_ttl_no_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

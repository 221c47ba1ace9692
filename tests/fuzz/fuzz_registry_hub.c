/*
 * libFuzzer target for the Docker Hub tag page parser (hub_parse_page() in
 * updater/registry_hub.c) and the stop-early merge.
 *
 * The input is a response body. Against a small cached list, for any input: no crash, leak or
 * sanitizer report; every tag kept has a valid name, is found under that name, and carries a
 * valid digest or none; an error leaves no next link, and a next link is an absolute
 * http(s) URL; a settled page merges the cache without losing a tag; the sorted list is in
 * newest-first order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "updater/registry_int.h"
#define FUZZ_OWN_INITIALIZE
#include "fuzz_registry.h"

static struct taglist *cached;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct timespec t1 = {1700000000, 0}, t2 = {1700003600, 500};

	(void)argc;
	(void)argv;
	fuzz_quiet();
	cached = taglist_new();
	taglist_add(cached, "3.11.10.113941", &t2, "sha256:aa");
	taglist_add(cached, "3.10.13.83255", &t1, NULL);
	taglist_add(cached, "latest", NULL, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	struct buf body = BUF_INIT;
	char *next = NULL;
	int settled = 0, ret;
	size_t i, before;

	buf_add(&body, data, size);
	f.cached = size && (data[0] & 1) ? cached : NULL;
	f.out = taglist_new();
	ret = hub_parse_page(&f, &body, "http://127.0.0.1:5000", "http://127.0.0.1:5000/v2/t",
	                     &next, &settled, &err);
	fuzz_require(ret == 0 || ret == DB_EPARSE, "an unexpected error code");
	fuzz_require(!ret || (!next && err.msg[0]),
	             "an error without a message, or with a next link");
	fuzz_require(!next || fuzz_is_http_url(next), "a next link that is not http(s)");
	fuzz_require(!settled || f.cached, "settled without a cache");
	fuzz_check_list(f.out);
	if (settled) {
		before = f.out->nr;
		hub_merge_cached(&f);
		fuzz_require(f.out->nr >= before && f.out->nr <= before + cached->nr,
		             "the merge count");
		for (i = 0; i < cached->nr; i++)
			fuzz_require(taglist_find(f.out, cached->v[i].name) != NULL,
			             "a cached tag lost");
	}
	fuzz_check_sorted(f.out);
	free(next);
	buf_release(&body);
	registry_fetch_release(&f);
	return 0;
}

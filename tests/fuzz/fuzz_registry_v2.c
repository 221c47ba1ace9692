/*
 * libFuzzer target for the OCI tags/list page parser and its Link header (v2_parse_page() in
 * updater/registry_v2.c).
 *
 * The input's first line is the Link header (none when the input starts with a newline or
 * has no newline), the rest is the body. For any input: no crash, leak or sanitizer report;
 * every tag kept has a valid name and is found under it; an error leaves no next link; a next
 * link is an absolute http(s) URL; the sorted list is in newest-first order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "updater/registry_int.h"
#include "fuzz_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct registry_fetch f = {0};
	struct db_err err = DB_ERR_INIT;
	struct buf body = BUF_INIT;
	char *link = NULL, *next = NULL;
	int ret;

	if (nl) {
		link = xstrndup((const char *)data, (size_t)(nl - data));
		buf_add(&body, nl + 1, size - (size_t)(nl - data) - 1);
	} else {
		buf_add(&body, data, size);
	}
	f.out = taglist_new();
	ret = v2_parse_page(&f, &body, link && *link ? link : NULL,
	                    "http://127.0.0.1:5000/v2/demisto/python3/tags/list?n=1000",
	                    "http://127.0.0.1:5000/v2/demisto/python3/tags/list", &next, &err);
	fuzz_require(ret == 0 || ret == DB_EPARSE, "an unexpected error code");
	fuzz_require(!ret || (!next && err.msg[0]),
	             "an error without a message, or with a next link");
	fuzz_require(!next || fuzz_is_http_url(next), "a next link that is not http(s)");
	fuzz_check_list(f.out);
	fuzz_check_sorted(f.out);
	free(next);
	free(link);
	buf_release(&body);
	registry_fetch_release(&f);
	return 0;
}

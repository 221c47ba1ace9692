/*
 * libFuzzer target for the pull request marker parser (updater/pullreq.c): the forge hands
 * back any body, and the bot's state is read out of it.
 *
 * For any input: the parse must not crash, leak or trip a sanitizer; a refusal leaves the
 * marker empty. An accepted marker has a valid branch and only valid image targets, and it
 * survives a round trip: written again by pr_format_marker() and parsed, it says the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "updater/pullreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "marker invariant broken: %s\n", what);
		abort();
	}
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_marker m = PR_MARKER_INIT, again = PR_MARKER_INIT;
	struct db_err err = DB_ERR_INIT;
	struct pr_request req = {0};
	struct pr_item *items;
	struct buf out = BUF_INIT;
	size_t i;

	if (pr_marker_parse(&m, (const char *)data, size, &err) < 0) {
		require(!m.branch && !m.nr && !m.v, "a refused marker left values");
		require(err.msg[0] != '\0', "a refusal without a message");
		return 0;
	}
	require(m.branch && *m.branch, "an accepted marker without a branch");
	require(m.nr <= PR_MARKER_MAX_TAGS, "more targets than the cap");

	items = xcalloc(m.nr ? m.nr : 1, sizeof(*items));
	for (i = 0; i < m.nr; i++) {
		items[i].name = "x";
		items[i].image = m.v[i].image;
		items[i].new_tag = m.v[i].tag;
	}
	req.head = m.branch;
	req.base = m.base;
	req.group = m.group;
	req.items = items;
	req.nr_items = m.nr;
	pr_format_marker(&out, &req);
	require(pr_marker_parse(&again, out.ptr, out.len, &err) == 0,
	        "a written marker is refused");
	require(same(m.branch, again.branch) && same(m.group, again.group) &&
	            same(m.base, again.base) && m.nr == again.nr,
	        "the round trip changed the marker");
	for (i = 0; i < m.nr; i++)
		require(!strcmp(m.v[i].image, again.v[i].image) &&
		            !strcmp(m.v[i].tag, again.v[i].tag),
		        "the round trip changed a target");
	free(items);
	buf_release(&out);
	pr_marker_release(&m);
	pr_marker_release(&again);
	return 0;
}

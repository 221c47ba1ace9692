/*
 * libFuzzer target for tag names, versions and times (updater/tagver.c).
 *
 * The whole input is tried as one tag name, version, digest and time; then each line is added
 * to a tag list. For any input: no crash, leak or sanitizer report; a parsed version has 2 to
 * 16 components, its name is valid, and it compares equal to itself; a parsed time formats
 * and parses back to the same instant; the list holds each valid line once and finds it; the
 * sorted list is in newest-first order; every strategy picks the same tag from the sorted list
 * as from the unsorted one, and only a candidate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "fuzz_registry.h"

static void check_one(const char *s, size_t len)
{
	struct tagver v, w;
	struct timespec t, back;
	char text[40];

	if (!tagver_parse(&v, s)) {
		fuzz_require(v.nr >= 2 && v.nr <= TAGVER_MAX_LEN, "a version's length");
		fuzz_require(tag_name_valid(s, len), "a version whose name is invalid");
		fuzz_require(!tagver_cmp(&v, &v), "a version unequal to itself");
		fuzz_require(!tagver_parse(&w, s) && !tagver_cmp(&v, &w), "parsing is not stable");
	}
	(void)tag_digest_valid(s);
	if (!tagtime_parse(&t, s)) {
		tagtime_format(text, sizeof(text), &t);
		fuzz_require(!tagtime_parse(&back, text), "a formatted time does not parse");
		fuzz_require(back.tv_sec == t.tv_sec && back.tv_nsec == t.tv_nsec,
		             "a time does not survive formatting");
	}
}

static const struct tag_entry *pick(const struct taglist *l, enum strategy s, const char *cur)
{
	struct tagver_policy p = {s, 0, 0, NULL, 1700000000};
	return tagver_pick(l, "demisto/python3", cur, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *line, *end;
	struct taglist *l = taglist_new();
	const struct tag_entry *before[3];
	const char *first = NULL;
	size_t valid = 0;
	int k;

	check_one(s, strlen(s));
	for (line = s; line; line = end ? end + 1 : NULL) {
		struct timespec t = {1700000000 + (long)valid, 0};
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (taglist_add(l, line, valid % 2 ? &t : NULL, NULL)) {
			fuzz_require(tag_name_valid(line, strlen(line)),
			             "an invalid name was added");
			if (!first)
				first = line;
			valid++;
		} else {
			fuzz_require(!tag_name_valid(line, strlen(line)),
			             "a valid name was refused");
		}
		fuzz_require(l->nr <= valid, "more entries than names added");
	}
	fuzz_check_list(l);
	for (k = 0; k < 3; k++) {
		before[k] = pick(l, (enum strategy)k, first);
		fuzz_require(!before[k] || before[k]->candidate, "a non-candidate picked");
	}
	{
		/* names, not pointers: sorting moves the entries */
		char *names[3];
		for (k = 0; k < 3; k++)
			names[k] = before[k] ? xstrdup(before[k]->name) : NULL;
		fuzz_check_sorted(l);
		for (k = 0; k < 3; k++) {
			const struct tag_entry *after = pick(l, (enum strategy)k, first);
			fuzz_require(!names[k] == !after &&
			                 (!after || !strcmp(names[k], after->name)),
			             "sorted and unsorted picks differ");
			free(names[k]);
		}
	}
	taglist_free(l);
	free(s);
	return 0;
}

/*
 * The report writer and the scan table on items whose strings are any bytes (a path in a git
 * tree, a YAML value, a registry's tag): the JSON is always valid and holds every item with
 * its path, and the table never carries a control byte.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "updater/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits the input at NUL bytes into strings: the fields of the items, in order. */
static char *next_field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nul != NULL);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct item items[4];
	struct report *r;
	json_t *doc, *back;
	char *text, *table = NULL;
	size_t n = 0, i, tlen = 0;
	FILE *out;

	memset(items, 0, sizeof(items));
	while (p < end && n < 4) {
		struct item *it = &items[n++];
		it->path = next_field(&p, end);
		it->name = next_field(&p, end);
		it->image_ref = next_field(&p, end);
		it->reason = next_field(&p, end);
		it->target = p < end ? next_field(&p, end) : NULL;
		it->status = (enum item_status)((unsigned char)it->path[0] % STATUS__COUNT);
		it->flag = -1;
	}
	r = report_new("0123", 1);
	report_add_items(r, items, n);
	report_add_branch(r,
	                  &(struct report_branch){items[0].path, "1", NULL, 1, 0, 0, NULL, NULL});
	doc = report_json(r);
	text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		abort();
	back = json_loads(text, 0, NULL);
	if (!back || json_array_size(json_object_get(back, "items")) != n)
		abort();
	for (i = 0; i < n; i++)
		if (!json_is_string(
		        json_object_get(json_array_get(json_object_get(back, "items"), i), "path")))
			abort();
	out = open_memstream(&table, &tlen);
	report_print_table(out, items, n, (int)(size & 1));
	fclose(out);
	for (i = 0; i < tlen; i++)
		if (((unsigned char)table[i] < 0x20 && table[i] != '\n') || table[i] == 0x7f)
			abort();
	free(table);
	free(text);
	json_decref(back);
	json_decref(doc);
	report_free(r);
	for (i = 0; i < n; i++) {
		free(items[i].path);
		free(items[i].name);
		free(items[i].image_ref);
		free(items[i].reason);
		free(items[i].target);
	}
	return 0;
}

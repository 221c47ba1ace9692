#include "updater/relnotes.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strnum.h"
#include "common/banned.h"

/*
 * Finds the byte range of the top-level "currentVersion" string value, inside its quotes.
 * A tiny tokenizer that tracks strings and nesting depth; jansson has validated the document
 * before this runs, so it only has to be right on valid JSON.
 */
static int find_current_version(size_t *start, size_t *end, const char *s, size_t len)
{
	static const char key[] = "\"currentVersion\"";
	int depth = 0, expect_value = 0;
	size_t i = 0;

	while (i < len) {
		char c = s[i];
		if (c == '{' || c == '[') {
			depth++;
			i++;
		} else if (c == '}' || c == ']') {
			depth--;
			i++;
		} else if (c == '"') {
			size_t j = i + 1;
			while (j < len && s[j] != '"')
				j += s[j] == '\\' ? 2 : 1;
			if (j >= len)
				return -1;
			if (expect_value) {
				*start = i + 1;
				*end = j;
				return 0;
			}
			if (depth == 1 && j + 1 - i == sizeof(key) - 1 &&
			    !memcmp(s + i, key, sizeof(key) - 1)) {
				size_t k = j + 1;
				while (k < len && strchr(" \t\r\n", s[k]))
					k++;
				if (k < len && s[k] == ':') {
					expect_value = 1;
					i = k + 1;
					continue;
				}
			}
			i = j + 1;
		} else {
			if (expect_value && !strchr(" \t\r\n", c))
				return -1; /* the value is not a string */
			i++;
		}
	}
	return -1;
}

int relnotes_bump_metadata(struct buf *out, char *new_version, const char *data, size_t len,
                           const char *path, struct db_err *err)
{
	json_error_t jerr;
	json_t *meta = json_loadb(data, len, 0, &jerr);
	const char *cur;
	uint64_t parts[3];
	size_t start, end, i;
	const char *p;
	int ret = 0;

	if (!json_is_object(meta)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': line %d: %s", path, jerr.line,
		                 meta ? "not a JSON object" : jerr.text);
		goto out;
	}
	cur = json_string_value(json_object_get(meta, "currentVersion"));
	if (!cur) {
		ret = db_err_set(err, DB_EPARSE, "'%s': no \"currentVersion\" string", path);
		goto out;
	}
	for (i = 0, p = cur; i < 3; i++) {
		size_t n = strcspn(p, ".");
		if (parse_u64(&parts[i], p, n, 1000000000) || (i < 2 && p[n] != '.') ||
		    (i == 2 && p[n])) {
			ret = db_err_set(err, DB_EPARSE, "'%s': currentVersion '%s' is not x.y.z",
			                 path, cur);
			goto out;
		}
		p += n + 1;
	}
	if (find_current_version(&start, &end, data, len) < 0 || end - start != strlen(cur) ||
	    memcmp(data + start, cur, end - start)) {
		ret = db_err_set(
		    err, DB_EPARSE,
		    "'%s': currentVersion is written in a form that cannot be edited in place",
		    path);
		goto out;
	}
	snprintf(new_version, 64, "%llu.%llu.%llu", (unsigned long long)parts[0],
	         (unsigned long long)parts[1], (unsigned long long)parts[2] + 1);
	buf_add(out, data, start);
	buf_adds(out, new_version);
	buf_add(out, data + end, len - end);
out:
	json_decref(meta);
	return ret;
}

char *relnotes_path(const char *pack, const char *version)
{
	char *v = xstrdup(version), *p, *path;
	for (p = v; *p; p++)
		if (*p == '.')
			*p = '_';
	path = xasprintf("Packs/%s/ReleaseNotes/%s.md", pack, v);
	free(v);
	return path;
}

static int cmp_heading(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
	const char *hx = x->display ? x->display : x->name, *hy = y->display ? y->display : y->name;
	int c = strcmp(hx ? hx : "", hy ? hy : "");
	return c ? c : strcmp(x->path, y->path);
}

void relnotes_render(struct buf *out, const struct item *const *items, size_t nr)
{
	const struct item **sorted = xcalloc(nr ? nr : 1, sizeof(*sorted));
	static const struct {
		enum item_kind kind;
		const char *title;
	} sections[] = {{ITEM_INTEGRATION, "Integrations"}, {ITEM_SCRIPT, "Scripts"}};
	size_t s, i;

	memcpy(sorted, items, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), cmp_heading);
	for (s = 0; s < 2; s++) {
		int any = 0;
		for (i = 0; i < nr; i++) {
			const struct item *it = sorted[i];
			if (it->kind != sections[s].kind)
				continue;
			if (!any)
				buf_addf(out, "\n#### %s\n", sections[s].title);
			any = 1;
			buf_addf(out, "\n##### %s\n\n- Updated the Docker image to: *%s:%s*.\n",
			         it->display ? it->display : it->name, it->image, it->target);
		}
	}
	/* The SDK ends its notes with a blank line. */
	if (nr)
		buf_addch(out, '\n');
	free(sorted);
}

#include "updater/pullreq.h"

#include "common/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/utf8.h"
#include "updater/imageref.h"
#include "updater/tagver.h"
#include "common/banned.h"

/* Room kept after the table for the logs section's skeleton, its notes and the footer. */
#define BODY_RESERVE 2048
/* Room kept after the logs for closing their section and the note on left-out logs. */
#define FOOTER_RESERVE 512
/* A log excerpt never gets more than this, however much room is left. */
#define LOG_MAX 8192
/* ...and a log that would get less than this is left out. */
#define LOG_MIN 256
/* Image:target pairs a title names; more are summed up. */
#define TITLE_PAIRS 2
/* ...and the body's first line. */
#define SUMMARY_PAIRS 5

#define MARKER_OPEN  "<!-- dockerbump:v1 "
#define MARKER_CLOSE " -->"
#define GROUP_MAX    64
#define BRANCH_MAX   255

static const char footer[] = "\n---\n*Opened by dockerbump. A newer tag updates this pull request; "
                             "edits to its title and body are overwritten.*\n";

/* The length of the well-formed UTF-8 sequence at `s` (of `n` bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	return utf8_decode(s, n, &cp);
}

#define REPLACEMENT_CHAR UTF8_REPLACEMENT

/*
 * The one escaper behind both contexts. Inline text (`pre` == 0) backslash-escapes Markdown's
 * inline punctuation and flattens line breaks; text inside <pre> (`pre` == 1) keeps line
 * breaks and tabs and needs only the HTML entities, since nothing else is markup there. In
 * both, `<` is always an entity, so nothing in `s` can open or close an HTML block.
 */
static void escape(struct buf *out, const char *str, size_t n, int pre)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		if (c >= 0x80) {
			len = utf8_len(s + i, n - i);
			if (len)
				buf_add(out, s + i, len);
			else
				buf_adds(out, REPLACEMENT_CHAR);
			i += len ? len : 1;
			continue;
		}
		i++;
		switch (c) {
		case '<':
			buf_adds(out, "&lt;");
			continue;
		case '>':
			buf_adds(out, "&gt;");
			continue;
		case '&':
			buf_adds(out, "&amp;");
			continue;
		case '\n':
		case '\t':
			buf_addch(out, pre ? c : ' ');
			continue;
		case '\r':
			if (!pre)
				buf_addch(out, ' ');
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_addch(out, ' ');
			continue;
		}
		if (!pre && strchr("\\`*_[]|~", c))
			buf_addch(out, '\\');
		buf_addch(out, c);
	}
}

void pr_md_escape(struct buf *out, const char *s)
{
	if (s)
		escape(out, s, strlen(s), 0);
}

static void plural(struct buf *out, size_t n, const char *one, const char *many)
{
	buf_addf(out, "%zu %s", n, n == 1 ? one : many);
}

/*
 * Text that is not Markdown (titles, error messages): valid UTF-8 with every control
 * character shown as '?', so a hostile value cannot forge lines or terminal escapes.
 */
static void add_printable(struct buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n) {
		if (s[i] >= 0x80 && (len = utf8_len(s + i, n - i))) {
			buf_add(out, s + i, len);
			i += len;
			continue;
		}
		buf_addch(out, s[i] < 0x20 || s[i] >= 0x7f ? '?' : s[i]);
		i++;
	}
}

/* --- what the request carries ----------------------------------------------------------- */

static const char *item_image(const struct pr_request *req, const struct pr_item *it)
{
	return it->image ? it->image : req->image ? req->image : "";
}

static const char *item_tag(const struct pr_request *req, const struct pr_item *it)
{
	return it->new_tag ? it->new_tag : req->tag ? req->tag : "";
}

struct pair {
	const char *image, *tag;
};

/* Versions first, newest first; then anything else by name. A total order, so sorting gives
 * the same result from any input order. */
static int tag_order(const char *a, const char *b)
{
	struct tagver va, vb;
	int a_ok = !tagver_parse(&va, a), b_ok = !tagver_parse(&vb, b), c;

	if (a_ok != b_ok)
		return a_ok ? -1 : 1;
	if (a_ok && (c = tagver_cmp(&vb, &va)))
		return c;
	return strcmp(a, b);
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->image, y->image);

	return c ? c : tag_order(x->tag, y->tag);
}

/*
 * The distinct image:target pairs of the request's items, ordered by image and then newest
 * target first. Blocked items are not in the branch: they count only with `with_blocked`.
 * `*out` belongs to the caller (NULL when there is none).
 */
static size_t collect_pairs(struct pair **out, const struct pr_request *req, int with_blocked)
{
	struct pair *v = NULL;
	size_t i, j, n = 0;

	for (i = 0; i < req->nr_items; i++) {
		const struct pr_item *it = &req->items[i];
		struct pair p = {item_image(req, it), item_tag(req, it)};

		if (it->blocked && !with_blocked)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(v[j].image, p.image) && !strcmp(v[j].tag, p.tag))
				break;
		if (j < n)
			continue;
		if (!v)
			v = xcalloc(req->nr_items, sizeof(*v));
		v[n++] = p;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), pair_cmp);
	*out = v;
	return n;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* --- the title ------------------------------------------------------------------------ */

void pr_format_title(struct buf *out, const struct pr_request *req)
{
	struct pair *pairs;
	size_t i, n;

	n = collect_pairs(&pairs, req, 0);
	if (!n) {
		free(pairs);
		n = collect_pairs(&pairs, req, 1);
	}
	buf_adds(out, "Update ");
	if (!n)
		buf_adds(out, "Docker images");
	for (i = 0; i < n && (n <= TITLE_PAIRS || i < 1); i++) {
		if (i)
			buf_adds(out, " and ");
		if (!i || strcmp(pairs[i].image, pairs[i - 1].image)) {
			add_printable(out, pairs[i].image, strlen(pairs[i].image));
			buf_adds(out, " to ");
		}
		add_printable(out, pairs[i].tag, strlen(pairs[i].tag));
	}
	if (n > TITLE_PAIRS)
		buf_addf(out, " and %zu more targets", n - 1);
	buf_adds(out, " (");
	if (all_digits(req->group))
		buf_adds(out, "group ");
	add_printable(out, req->group, strlen(req->group));
	buf_addch(out, ')');
	free(pairs);
}

/* --- the body ------------------------------------------------------------------------- */

static void add_verification(struct buf *out, const struct pr_item *it)
{
	if (it->blocked)
		buf_adds(out, "**blocked**: ");
	if (!it->verify_old && !it->verify_new) {
		buf_adds(out, "not verified");
		return;
	}
	pr_md_escape(out, it->verify_old ? it->verify_old : "n/a");
	buf_adds(out, " \xe2\x86\x92 "); /* → */
	pr_md_escape(out, it->verify_new ? it->verify_new : "n/a");
}

static void add_row(struct buf *out, const struct pr_request *req, const struct pr_item *it)
{
	buf_adds(out, "| ");
	pr_md_escape(out, it->name);
	buf_adds(out, " | ");
	pr_md_escape(out, it->pack);
	buf_adds(out, " | ");
	pr_md_escape(out, item_image(req, it));
	buf_adds(out, " | ");
	pr_md_escape(out, it->old_tag);
	buf_adds(out, " | ");
	pr_md_escape(out, item_tag(req, it));
	buf_adds(out, " | ");
	add_verification(out, it);
	buf_adds(out, " |\n");
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* Rows by pack, then path, then name: the same plan gives the same body in any item order.
 * Items live in one array, so their addresses break the last ties in input order. */
static int row_cmp(const void *a, const void *b)
{
	const struct pr_item *x = *(const struct pr_item *const *)a;
	const struct pr_item *y = *(const struct pr_item *const *)b;
	int c = strcmp(str_or_empty(x->pack), str_or_empty(y->pack));

	if (!c)
		c = strcmp(str_or_empty(x->path), str_or_empty(y->path));
	if (!c)
		c = strcmp(str_or_empty(x->name), str_or_empty(y->name));
	if (!c)
		c = (x > y) - (x < y);
	return c;
}

/* The items in row order; the caller frees the array. */
static const struct pr_item **row_order(const struct pr_request *req)
{
	const struct pr_item **order = xcalloc(req->nr_items ? req->nr_items : 1, sizeof(*order));
	size_t i;

	for (i = 0; i < req->nr_items; i++)
		order[i] = &req->items[i];
	if (req->nr_items > 1)
		qsort(order, req->nr_items, sizeof(*order), row_cmp);
	return order;
}

/* The table, rows in order; rows that would pass `limit - BODY_RESERVE` (counted from
 * `start`) are left out and counted. */
static void add_table(struct buf *out, size_t start, size_t limit, const struct pr_request *req,
                      const struct pr_item **order)
{
	size_t i, cut = 0, row_start;

	buf_adds(out, "\n| Item | Pack | Image | Old tag | New tag | Verification (old "
	              "\xe2\x86\x92 new) |\n"
	              "| --- | --- | --- | --- | --- | --- |\n");
	for (i = 0; i < req->nr_items; i++) {
		row_start = out->len;
		add_row(out, req, order[i]);
		if (cut || out->len - start + BODY_RESERVE > limit) {
			buf_setlen(out, row_start);
			cut++;
		}
	}
	if (cut) {
		buf_adds(out, "\n*");
		plural(out, cut, "more item is", "more items are");
		buf_adds(out, " not listed here; the run's report has them all.*\n");
	}
}

/*
 * Appends the end of `log`, escaped for <pre>, in at most `room` bytes: the end of a log is
 * where the error is. Cutting the raw text (never the escaped one) keeps entities and UTF-8
 * sequences whole.
 */
static void add_log_tail(struct buf *out, const char *log, size_t room)
{
	struct buf tmp = BUF_INIT;
	size_t n = strlen(log), start = 0, excess;

	/* Escaping never turns a byte into less than one, but for '\r' (dropped): the last
	 * `room` bytes are the most that can fit. */
	if (n > room)
		start = n - room;
	for (;;) {
		while (start < n && ((unsigned char)log[start] & 0xc0) == 0x80)
			start++;
		buf_reset(&tmp);
		escape(&tmp, log + start, n - start, 1);
		if (tmp.len <= room)
			break;
		/* Dropping excess/5 raw bytes drops at most `excess` escaped ones: never too
		 * many, and the excess shrinks every round. */
		excess = tmp.len - room;
		start += excess / 5 ? excess / 5 : 1;
	}
	if (start)
		buf_addf(out, "[%zu bytes cut]\n", start);
	buf_add(out, tmp.ptr, tmp.len);
	if (tmp.len && tmp.ptr[tmp.len - 1] != '\n')
		buf_addch(out, '\n');
	buf_release(&tmp);
}

static void add_logs(struct buf *out, size_t start, size_t limit, const struct pr_item **order,
                     size_t nr_items, size_t nr_blocked)
{
	/* Everything up to the end of the logs fits under this; the rest is for closing the
	 * section and the note on left-out logs. */
	size_t i, room = 0, share, used, left_out = 0;

	limit = limit > FOOTER_RESERVE ? limit - FOOTER_RESERVE : 0;
	if (!nr_blocked)
		return;
	buf_addf(out, "\n<details>\n<summary>Verification logs of blocked items (%zu)</summary>\n",
	         nr_blocked);
	used = out->len - start;
	share = limit > used ? (limit - used) / nr_blocked : 0;
	for (i = 0; i < nr_items; i++) {
		const struct pr_item *it = order[i];
		size_t entry_start = out->len;

		if (!it->blocked)
			continue;
		buf_adds(out, "\n**");
		pr_md_escape(out, it->name);
		buf_adds(out, "** (");
		pr_md_escape(out, it->path);
		buf_adds(out, ")\n\n");
		if (!it->log || !*it->log) {
			buf_adds(out, "*No log was recorded.*\n");
		} else {
			/* The share covers this entry's heading and tags too. */
			used =
			    out->len - entry_start + sizeof("<pre>\n</pre>\n[99999999 bytes cut]");
			room = share > used ? share - used : 0;
			if (room >= LOG_MIN) {
				buf_adds(out, "<pre>\n");
				add_log_tail(out, it->log, room < LOG_MAX ? room : LOG_MAX);
				buf_adds(out, "</pre>\n");
			}
		}
		/* An entry whose log has no room to say anything is no use either. */
		if (out->len - start > limit || (it->log && *it->log && room < LOG_MIN)) {
			buf_setlen(out, entry_start);
			left_out++;
		}
	}
	if (left_out) {
		buf_addch(out, '\n');
		buf_adds(out, "*");
		plural(out, left_out, "log is", "logs are");
		buf_adds(out, " left out for want of room; the run's report has them.*\n");
	}
	buf_adds(out, "\n</details>\n");
}

/* "**image:tag**" */
static void add_pair(struct buf *out, const struct pair *p)
{
	buf_adds(out, "**");
	pr_md_escape(out, p->image);
	buf_addch(out, ':');
	pr_md_escape(out, p->tag);
	buf_adds(out, "**");
}

static void add_summary(struct buf *out, const struct pr_request *req, size_t nr_blocked)
{
	struct pair *pairs;
	size_t i, n = collect_pairs(&pairs, req, 0), images = 0;

	for (i = 0; i < n; i++)
		images += !i || strcmp(pairs[i].image, pairs[i - 1].image);
	if (!n) {
		buf_adds(out, "Updates no Docker image.");
	} else {
		buf_adds(out, images > 1 ? "Updates the Docker images of "
		                         : "Updates the Docker "
		                           "image of ");
		plural(out, req->nr_items - nr_blocked, "item", "items");
		if (n > SUMMARY_PAIRS) {
			buf_addf(out, " to %zu targets of ", n);
			plural(out, images, "image", "images");
			buf_adds(out, ", listed below.");
		} else {
			buf_adds(out, " to ");
			for (i = 0; i < n; i++) {
				if (i)
					buf_adds(out, i + 1 == n ? " and " : ", ");
				add_pair(out, &pairs[i]);
			}
			buf_addch(out, '.');
		}
	}
	if (nr_blocked) {
		buf_addch(out, ' ');
		plural(out, nr_blocked, "item was", "items were");
		buf_adds(out, " blocked by verification (the new image did worse than the old one) "
		              "and left out.");
	}
	buf_addch(out, '\n');
	free(pairs);
}

void pr_format_body(struct buf *out, const struct pr_request *req)
{
	const struct pr_item **order = row_order(req);
	struct buf marker = BUF_INIT;
	size_t i, nr_blocked = 0, start = out->len, limit;
	size_t max = req->body_max ? req->body_max : PR_BODY_MAX;

	for (i = 0; i < req->nr_items; i++)
		nr_blocked += req->items[i].blocked != 0;
	/* The footer and the marker always fit: the rest shares what they leave. Sizes count
	 * from `start`, whatever `out` held before. */
	pr_format_marker(&marker, req);
	limit = max > marker.len + sizeof(footer) ? max - marker.len - sizeof(footer) : 0;

	add_summary(out, req, nr_blocked);
	add_table(out, start, limit, req, order);
	add_logs(out, start, limit, order, req->nr_items, nr_blocked);
	buf_adds(out, footer);
	buf_add(out, marker.ptr, marker.len);
	buf_release(&marker);
	free(order);
}

void pr_format_close_comment(struct buf *out, const char *reason)
{
	struct buf r = BUF_INIT;

	pr_md_escape(&r, reason ? reason : "");
	while (r.len && (r.ptr[r.len - 1] == '.' || r.ptr[r.len - 1] == ' '))
		buf_setlen(&r, r.len - 1);
	buf_adds(out, "Closed by dockerbump");
	if (r.len)
		buf_addf(out, ": %s", r.ptr);
	buf_adds(out, ".\n\nIts branch is deleted. A later run opens a new pull request if these "
	              "packs have bumps again.\n");
	buf_release(&r);
}

/* --- the marker ----------------------------------------------------------------------- */

void pr_format_marker(struct buf *out, const struct pr_request *req)
{
	json_t *root = json_object(), *images = json_object(), *have;
	struct pair *pairs;
	size_t i, n = collect_pairs(&pairs, req, 0);
	const char *s;
	char *dumped;

	if (n > PR_MARKER_MAX_TAGS)
		n = PR_MARKER_MAX_TAGS;
	for (i = 0; i < n; i++) {
		json_t *tag = json_string(pairs[i].tag);

		if (!tag)
			continue;
		have = json_object_get(images, pairs[i].image);
		if (!have) {
			json_object_set_new(images, pairs[i].image, tag);
		} else if (json_is_string(have)) {
			json_t *list = json_pack("[OO]", have, tag);
			json_decref(tag);
			json_object_set_new(images, pairs[i].image, list);
		} else {
			json_array_append_new(have, tag);
		}
	}
	if (req->head)
		json_object_set_new(root, "branch", json_string(req->head));
	if (req->group)
		json_object_set_new(root, "group", json_string(req->group));
	if (req->base)
		json_object_set_new(root, "base", json_string(req->base));
	json_object_set_new(root, "images", images);
	dumped = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	buf_adds(out, MARKER_OPEN);
	/* '<', '>' and '&' only occur inside JSON strings, where their \u escapes mean the
	 * same: no value can close the comment or open HTML. */
	for (s = dumped ? dumped : "{}"; *s; s++) {
		if (*s == '<')
			buf_adds(out, "\\u003c");
		else if (*s == '>')
			buf_adds(out, "\\u003e");
		else if (*s == '&')
			buf_adds(out, "\\u0026");
		else
			buf_addch(out, *s);
	}
	buf_adds(out, MARKER_CLOSE "\n");
	free(dumped);
	free(pairs);
	json_decref(root);
}

void pr_marker_release(struct pr_marker *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nr; i++) {
		free(m->v[i].image);
		free(m->v[i].tag);
	}
	free(m->v);
	free(m->branch);
	free(m->group);
	free(m->base);
	memset(m, 0, sizeof(*m));
}

static char *strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void pr_marker_copy(struct pr_marker *dst, const struct pr_marker *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->branch = strdup_or_null(src->branch);
	dst->group = strdup_or_null(src->group);
	dst->base = strdup_or_null(src->base);
	if (src->nr)
		dst->v = xcalloc(src->nr, sizeof(*dst->v));
	for (i = 0; i < src->nr; i++) {
		dst->v[i].image = xstrdup(src->v[i].image);
		dst->v[i].tag = xstrdup(src->v[i].tag);
	}
	dst->nr = src->nr;
}

/*
 * A branch name as git accepts it (check-ref-format's rules), over a conservative alphabet:
 * letters, digits and "._/+=,@-". Nothing else can come from the bot, and nothing that could
 * surprise a URL, a shell or Markdown gets in.
 */
static int branch_name_ok(const char *s)
{
	const char *c, *end;
	size_t n = strlen(s), i, len;

	if (!n || n > BRANCH_MAX || s[0] == '-' || s[n - 1] == '.' || !strcmp(s, "@") ||
	    strstr(s, "..") || strstr(s, "@{"))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("._/+=,@-", ch)))
			return 0;
	}
	/* Every '/'-separated component: not empty, not starting with '.', not ending in
	 * ".lock". */
	for (c = s;; c = end + 1) {
		end = strchr(c, '/');
		len = end ? (size_t)(end - c) : strlen(c);
		if (!len || c[0] == '.' || (len >= 5 && !strncmp(c + len - 5, ".lock", 5)))
			return 0;
		if (!end)
			return 1;
	}
}

static int group_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > GROUP_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* The last occurrence of `needle` in the `n` bytes at `hay` (which may hold NUL bytes). */
static const char *last_occurrence(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	if (n < m)
		return NULL;
	for (i = n - m + 1; i-- > 0;)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static const char *first_occurrence(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static int bad_marker(struct pr_marker *out, struct db_err *err, const char *what)
{
	pr_marker_release(out);
	return db_err_set(err, DB_EPARSE, "pull request marker: %s", what);
}

static int add_target(struct pr_marker *out, const char *image, const json_t *tag, size_t *alloc,
                      struct db_err *err)
{
	const char *t = json_string_value(tag);

	if (!t || !tag_name_valid(t, strlen(t)))
		return bad_marker(out, err, "a tag is not a valid tag name");
	if (out->nr >= PR_MARKER_MAX_TAGS)
		return bad_marker(out, err, "more image targets than it may hold");
	if (out->nr == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 4;
		out->v = xreallocarray(out->v, *alloc, sizeof(*out->v));
	}
	out->v[out->nr].image = xstrdup(image);
	out->v[out->nr].tag = xstrdup(t);
	out->nr++;
	return 0;
}

static int target_cmp(const void *a, const void *b)
{
	const struct pr_marker_target *x = a, *y = b;
	int c = strcmp(x->image, y->image);

	return c ? c : tag_order(x->tag, y->tag);
}

int pr_marker_parse(struct pr_marker *out, const char *body, size_t len, struct db_err *err)
{
	const char *open, *json, *close;
	const char *branch, *group, *base, *image;
	json_t *root = NULL, *images, *value, *tag;
	json_error_t jerr;
	size_t alloc = 0, kept, i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	open = body ? last_occurrence(body, len, MARKER_OPEN) : NULL;
	if (!open)
		return db_err_set(err, DB_ENOTFOUND, "pull request marker: none in the body");
	json = open + strlen(MARKER_OPEN);
	close = first_occurrence(json, (size_t)(body + len - json), MARKER_CLOSE);
	if (!close)
		return bad_marker(out, err, "not terminated");
	if ((size_t)(close - json) > PR_MARKER_MAX)
		return bad_marker(out, err, "larger than 65536 bytes");
	root = json_loadb(json, (size_t)(close - json), JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		ret = bad_marker(out, err, "not a JSON object");
		goto out;
	}
	branch = json_string_value(json_object_get(root, "branch"));
	group = json_string_value(json_object_get(root, "group"));
	value = json_object_get(root, "base");
	base = json_string_value(value);
	images = json_object_get(root, "images");
	if (!branch || !branch_name_ok(branch)) {
		ret = bad_marker(out, err, "'branch' is missing or not a valid branch name");
		goto out;
	}
	if (group && !group_name_ok(group)) {
		ret = bad_marker(out, err, "'group' is not a valid group name");
		goto out;
	}
	if ((value && !json_is_null(value) && !base) || (base && !branch_name_ok(base))) {
		ret = bad_marker(out, err, "'base' is not a valid branch name");
		goto out;
	}
	if (images && !json_is_object(images)) {
		ret = bad_marker(out, err, "'images' is not an object");
		goto out;
	}
	json_object_foreach(images, image, value)
	{
		if (!image_name_valid(image)) {
			ret = bad_marker(out, err, "an image is not a valid image name");
			goto out;
		}
		if (json_is_array(value) && json_array_size(value)) {
			json_array_foreach(value, i, tag)
			{
				if ((ret = add_target(out, image, tag, &alloc, err)) < 0)
					goto out;
			}
		} else if ((ret = add_target(out, image, value, &alloc, err)) < 0) {
			goto out;
		}
	}
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), target_cmp);
	/* A target named twice counts once. */
	for (i = 1, kept = 1; i < out->nr; i++) {
		if (!target_cmp(&out->v[i], &out->v[kept - 1])) {
			free(out->v[i].image);
			free(out->v[i].tag);
			continue;
		}
		out->v[kept++] = out->v[i];
	}
	if (out->nr)
		out->nr = kept;
	out->branch = xstrdup(branch);
	out->group = strdup_or_null(group);
	out->base = strdup_or_null(base);
out:
	json_decref(root);
	return ret;
}

/* --- repositories --------------------------------------------------------------------- */

void pr_repo_release(struct pr_repo *repo)
{
	if (!repo)
		return;
	free(repo->host);
	free(repo->owner);
	free(repo->name);
	free(repo->full);
	repo->host = repo->owner = repo->name = repo->full = NULL;
}

/*
 * GitHub account names are letters, digits and hyphens (GitHub Enterprise adds `_` and `.`
 * for names from LDAP/SAML); repository names and GitLab paths add `.` and `_`. None may be
 * "." or "..", and nothing here can leave its path segment when it is put into a URL.
 */
static int valid_segment(const char *s, size_t n, size_t max)
{
	size_t i;

	if (!n || n > max || (n <= 2 && !strncmp(s, "..", n)))
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* 1 when the `n` bytes at `s` are between `min` and `max` valid segments joined by '/'. */
static int valid_path(const char *s, size_t n, size_t min, size_t max)
{
	size_t segs = 0, start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		if (!valid_segment(s + start, i - start, 255))
			return 0;
		segs++;
		start = i + 1;
	}
	return segs >= min && segs <= max;
}

/* Splits "owner/name" (exactly two valid segments) into `out`; 0, or -1 when it is not one. */
static int split_owner_name(struct pr_repo *out, const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t owner_len;

	if (!slash)
		return -1;
	owner_len = (size_t)(slash - s);
	if (!valid_segment(s, owner_len, 100) || !valid_segment(slash + 1, n - owner_len - 1, 100))
		return -1;
	out->owner = xstrndup(s, owner_len);
	out->name = xstrndup(slash + 1, n - owner_len - 1);
	out->full = xstrndup(s, n);
	return 0;
}

int pr_repo_parse(struct pr_repo *out, const char *owner_name, struct db_err *err)
{
	memset(out, 0, sizeof(*out));
	if (split_owner_name(out, owner_name, strlen(owner_name)) < 0) {
		struct buf shown = BUF_INIT;
		add_printable(&shown, owner_name, strlen(owner_name));
		db_err_set(err, DB_EUSAGE, "pull_request.repo '%s' is not 'owner/name'", shown.ptr);
		buf_release(&shown);
		return DB_EUSAGE;
	}
	return 0;
}

int pr_repo_path_check(const char *path, size_t min_segs, size_t max_segs, const char *forms,
                       struct db_err *err)
{
	struct buf shown = BUF_INIT;

	if (valid_path(path, strlen(path), min_segs, max_segs))
		return 0;
	add_printable(&shown, path, strlen(path));
	db_err_set(err, DB_EUSAGE, "pull_request.repo '%s' is not %s", shown.ptr, forms);
	buf_release(&shown);
	return DB_EUSAGE;
}

/* Where the host starts in an authority [s, end): after the last '@', if any. */
static const char *after_userinfo(const char *s, const char *end)
{
	const char *host = s;

	for (; s < end; s++)
		if (*s == '@')
			host = s + 1;
	return host;
}

/*
 * The URL for messages: a password in it ("https://user:TOKEN@host/...") is replaced by
 * "***"; a bare user name ("git@host:o/r") is kept, it is no secret.
 */
static void add_redacted_url(struct buf *out, const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *auth = scheme_end ? scheme_end + 3 : url;
	const char *host = after_userinfo(auth, auth + strcspn(auth, "/"));
	const char *colon = memchr(auth, ':', (size_t)(host - auth));

	if (colon) {
		add_printable(out, url, (size_t)(colon - url));
		buf_adds(out, ":***@");
		url = host;
	}
	add_printable(out, url, strlen(url));
}

static int not_a_repo_url(const char *url, const char *kind, const char *forms, struct db_err *err)
{
	struct buf shown = BUF_INIT;

	add_redacted_url(&shown, url);
	db_err_set(err, DB_EUSAGE, "remote URL '%s' does not name a %s (%s); set pull_request.repo",
	           shown.ptr, kind, forms);
	buf_release(&shown);
	return DB_EUSAGE;
}

static int host_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:",
		            s[i]))
			return 0;
	return 1;
}

/*
 * The host and the repository path of a remote URL (https, http, ssh in both of git's
 * syntaxes): the path without slashes at either end and without one ".git". -1 when the URL
 * is of no such form.
 */
static int split_remote(const char *url, const char **host, size_t *host_len, const char **path,
                        size_t *path_len)
{
	const char *h, *host_end, *p, *scheme_end = strstr(url, "://");
	size_t n;

	if (scheme_end) {
		static const char *const schemes[] = {"https", "http", "ssh", "git+ssh", "ssh+git"};
		size_t i, slen = (size_t)(scheme_end - url);
		const char *auth = scheme_end + 3, *auth_end = auth + strcspn(auth, "/");

		for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
			if (strlen(schemes[i]) == slen && !strncmp(url, schemes[i], slen))
				break;
		if (i == sizeof(schemes) / sizeof(*schemes) || !*auth_end)
			return -1;
		h = after_userinfo(auth, auth_end);
		host_end = auth_end;
		if (*h == '[') { /* [v6]:port */
			const char *close = memchr(h, ']', (size_t)(host_end - h));
			if (!close)
				return -1;
			host_end = close + 1;
		} else {
			const char *colon = memchr(h, ':', (size_t)(host_end - h));
			if (colon)
				host_end = colon;
		}
		p = auth_end + 1;
	} else {
		/* git's scp-like syntax: [user@]host:path, with no '/' before the ':'. */
		const char *colon = strchr(url, ':'), *slash = strchr(url, '/');

		if (!colon || (slash && slash < colon))
			return -1;
		h = after_userinfo(url, colon);
		host_end = colon;
		p = colon + 1;
		if (*p == '/')
			p++;
	}
	if (!host_ok(h, (size_t)(host_end - h)))
		return -1;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n > 4 && !strncmp(p + n - 4, ".git", 4))
		n -= 4;
	*host = h;
	*host_len = (size_t)(host_end - h);
	*path = p;
	*path_len = n;
	return 0;
}

#define GITHUB_FORMS "https://HOST/OWNER/NAME or git@HOST:OWNER/NAME"

int pr_repo_from_remote(struct pr_repo *out, const char *url, struct db_err *err)
{
	const char *host, *path;
	size_t host_len, path_len;

	memset(out, 0, sizeof(*out));
	if (split_remote(url, &host, &host_len, &path, &path_len) < 0 ||
	    split_owner_name(out, path, path_len) < 0)
		return not_a_repo_url(url, "GitHub repository", GITHUB_FORMS, err);
	out->host = xstrndup(host, host_len);
	return 0;
}

int pr_remote_path(char **path, const char *url, size_t min_segs, size_t max_segs, const char *kind,
                   const char *forms, struct db_err *err)
{
	const char *host, *p;
	size_t host_len, len;

	*path = NULL;
	if (split_remote(url, &host, &host_len, &p, &len) < 0 ||
	    !valid_path(p, len, min_segs, max_segs))
		return not_a_repo_url(url, kind, forms, err);
	*path = xstrndup(p, len);
	return 0;
}

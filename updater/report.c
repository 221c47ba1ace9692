#include "updater/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/banned.h"

struct report {
	char *base;
	int dry_run;
	json_t *images;
	json_t *branches;
	json_t *rollout;
	const struct item *items;
	size_t nr;
};

struct report *report_new(const char *base, int dry_run)
{
	struct report *r = xcalloc(1, sizeof(*r));
	r->base = base ? xstrdup(base) : NULL;
	r->dry_run = dry_run;
	r->images = json_object();
	r->branches = json_array();
	r->rollout = json_object();
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->base);
	json_decref(r->images);
	json_decref(r->branches);
	json_decref(r->rollout);
	free(r);
}

void report_set_images(struct report *r, json_t *images)
{
	json_decref(r->images);
	r->images = json_incref(images);
}

void report_set_rollout(struct report *r, json_t *rollout)
{
	json_decref(r->rollout);
	r->rollout = json_incref(rollout);
}

void report_add_items(struct report *r, const struct item *items, size_t nr)
{
	r->items = items;
	r->nr = nr;
}

json_t *report_string(const char *s)
{
	struct buf clean = BUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	utf8_sanitize(&clean, s, strlen(s), UTF8_REPLACEMENT);
	j = json_stringn(clean.ptr, clean.len);
	buf_release(&clean);
	return j ? j : json_string("");
}

void report_add_branch(struct report *r, const struct report_branch *b)
{
	json_t *o = json_object(), *pr = json_null();

	if (b->pr_number || b->pr_outcome) {
		pr = json_object();
		json_object_set_new(pr, "number",
		                    b->pr_number ? json_integer(b->pr_number) : json_null());
		json_object_set_new(pr, "url", report_string(b->pr_url));
		json_object_set_new(pr, "outcome", report_string(b->pr_outcome));
	}
	json_object_set_new(o, "name", report_string(b->name));
	json_object_set_new(o, "group", report_string(b->group));
	json_object_set_new(o, "commit", report_string(b->commit));
	json_object_set_new(o, "items", json_integer((json_int_t)b->items));
	json_object_set_new(o, "pushed", json_boolean(b->pushed));
	json_object_set_new(o, "pull_request", pr);
	json_array_append_new(r->branches, o);
}

static json_t *strlist_json(const struct strlist *l)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < l->nr; i++)
		json_array_append_new(a, report_string(l->v[i]));
	return a;
}

static const char *d45_name(const struct item *it)
{
	if (it->d45 == D45_ADDED)
		return "added";
	if (it->d45 == D45_KEPT || it->dockerimage45)
		return "kept";
	return "none";
}

static json_t *item_json(const struct item *it)
{
	json_t *o = json_object(), *v = json_null();

	json_object_set_new(o, "path", report_string(it->path));
	json_object_set_new(o, "kind", json_string(item_kind_name(it->kind)));
	json_object_set_new(o, "pack", report_string(it->pack));
	json_object_set_new(o, "name", report_string(it->name));
	json_object_set_new(o, "image", report_string(it->image));
	json_object_set_new(o, "from", report_string(it->tag));
	json_object_set_new(o, "to", report_string(it->target));
	json_object_set_new(o, "status", json_string(item_status_name(it->status)));
	json_object_set_new(o, "reason", report_string(it->reason));
	json_object_set_new(o, "dockerimage45", json_string(d45_name(it)));
	if (it->verify_old || it->verify_new) {
		v = json_object();
		json_object_set_new(v, "old", report_string(it->verify_old));
		json_object_set_new(v, "new", report_string(it->verify_new));
		json_object_set_new(v, "regressed", json_boolean(it->regressed));
		if (it->verify_detail)
			json_object_set_new(v, "detail", report_string(it->verify_detail));
	}
	json_object_set_new(o, "verify", v);
	json_object_set_new(o, "branch", report_string(it->branch));
	json_object_set_new(o, "group", report_string(it->group));
	/* Beyond SPEC §6: what scan shows, so tools need not re-read the YAML. */
	json_object_set_new(o, "image_ref", report_string(it->image_ref));
	json_object_set_new(
	    o, "location",
	    report_string(it->image_ref
	                      ? (it->image_in_script ? "script.dockerimage" : "dockerimage")
	                      : NULL));
	json_object_set_new(o, "opt_in",
	                    report_string(it->image_ref ? opt_in_name(it->opt_in) : NULL));
	json_object_set_new(o, "auto_update", it->flag < 0 ? json_null() : json_boolean(it->flag));
	json_object_set_new(o, "dockerimage45_value", report_string(it->dockerimage45));
	json_object_set_new(o, "alt_dockerimages", strlist_json(&it->alt_images));
	json_object_set_new(o, "warnings", strlist_json(&it->warnings));
	return o;
}

json_t *report_json(const struct report *r)
{
	json_t *doc = json_object(), *items = json_array();
	size_t i;

	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "base", report_string(r->base));
	json_object_set_new(doc, "dry_run", json_boolean(r->dry_run));
	json_object_set(doc, "images", r->images);
	for (i = 0; i < r->nr; i++)
		json_array_append_new(items, item_json(&r->items[i]));
	json_object_set_new(doc, "items", items);
	json_object_set(doc, "branches", r->branches);
	json_object_set(doc, "rollout", r->rollout);
	return doc;
}

int report_write(struct report *r, const char *path, struct db_err *err)
{
	json_t *doc = report_json(r);
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	size_t len = text ? strlen(text) : 0;
	int ret = 0;

	json_decref(doc);
	if (!text)
		return db_err_set(err, DB_ERROR, "the report could not be written as JSON");
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	if (path && strcmp(path, "-")) {
		ret = file_write_atomic(path, text, len, err);
		if (ret)
			db_err_prefix(err, "report");
	} else if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
		ret = db_err_set(err, DB_ERROR, "cannot write the report to stdout");
	}
	free(text);
	return ret;
}

/* --- the table --- */

/*
 * Appends `raw` in exactly `w` columns (cut with '~' at the end when longer), plus a gap.
 * Control bytes from the repository are escaped: a cell stays on its line.
 */
static void cell(struct buf *line, const char *raw, size_t w, int last)
{
	struct buf text = BUF_INIT;
	const char *s;
	size_t n;

	buf_add_printable(&text, raw, strlen(raw));
	s = text.ptr;
	n = text.len;
	if (n > w) {
		buf_add(line, s, w ? w - 1 : 0);
		buf_addch(line, '~');
		n = w;
	} else {
		buf_add(line, s, n);
	}
	buf_release(&text);
	if (!last)
		for (; n < w + 2; n++)
			buf_addch(line, ' ');
}

static const char *status_text(struct buf *b, const struct item *it, int wide)
{
	buf_reset(b);
	buf_adds(b, item_status_name(it->status));
	if (it->reason && (wide || it->status != STATUS_UP_TO_DATE))
		buf_addf(b, " (%s)", it->reason);
	if (it->alt_images.nr)
		buf_addf(b, " [alt: %zu]", it->alt_images.nr);
	return b->ptr;
}

enum column { C_PATH, C_PACK, C_ITEM, C_KIND, C_IMAGE, C_OPTIN, C_TARGET, C_D45, C_STATUS, NCOLS };

static const char *column_value(enum column c, const struct item *it, struct buf *st, int wide)
{
	switch (c) {
	case C_PATH:
		return it->path;
	case C_PACK:
		return it->pack ? it->pack : "-";
	case C_ITEM:
		return it->name ? it->name : "-";
	case C_KIND:
		return item_kind_name(it->kind);
	case C_IMAGE:
		return it->image_ref ? it->image_ref : "-";
	case C_OPTIN:
		return opt_in_name(it->opt_in);
	case C_TARGET:
		return it->target ? it->target : "-";
	case C_D45:
		return it->dockerimage45 ? "yes" : "-";
	default:
		return status_text(st, it, wide);
	}
}

/*
 * The default table names items by pack and name within 120 columns (the path is in --wide
 * and in the JSON); columns that do not fit are cut, the widest first, never below a minimum.
 */
void report_print_table(FILE *out, const struct item *items, size_t nr, int wide)
{
	static const char *const heads[NCOLS] = {"PATH",   "PACK",   "ITEM", "KIND",  "IMAGE",
	                                         "OPT-IN", "TARGET", "D45",  "STATUS"};
	static const size_t mins[NCOLS] = {30, 10, 14, 11, 20, 8, 14, 3, 12};
	int show[NCOLS] = {0};
	size_t w[NCOLS], i, c, total;
	struct buf line = BUF_INIT, st = BUF_INIT;

	if (wide)
		show[C_PATH] = show[C_KIND] = show[C_IMAGE] = show[C_OPTIN] = show[C_TARGET] =
		    show[C_D45] = show[C_STATUS] = 1;
	else
		show[C_PACK] = show[C_ITEM] = show[C_IMAGE] = show[C_TARGET] = show[C_STATUS] = 1;
	for (c = 0; c < NCOLS; c++)
		w[c] = strlen(heads[c]);
	for (i = 0; i < nr; i++)
		for (c = 0; c < NCOLS; c++) {
			const char *v;
			if (!show[c])
				continue;
			v = column_value(c, &items[i], &st, wide);
			buf_reset(&line);
			buf_add_printable(&line, v, strlen(v));
			if (line.len > w[c])
				w[c] = line.len;
		}
	buf_reset(&line);
	for (;;) {
		size_t widest = NCOLS;
		for (total = 0, c = 0; c < NCOLS; c++)
			if (show[c])
				total += w[c] + 2;
		if (wide || total <= 122) /* the last column has no gap */
			break;
		for (c = 0; c < NCOLS; c++)
			if (show[c] && w[c] > mins[c] && (widest == NCOLS || w[c] > w[widest]))
				widest = c;
		if (widest == NCOLS)
			break;
		w[widest]--;
	}
	for (c = 0; c < NCOLS; c++)
		if (show[c])
			cell(&line, heads[c], w[c], c == C_STATUS);
	fprintf(out, "%s\n", line.ptr);
	for (i = 0; i < nr; i++) {
		buf_reset(&line);
		for (c = 0; c < NCOLS; c++)
			if (show[c])
				cell(&line, column_value(c, &items[i], &st, wide), w[c],
				     c == C_STATUS && wide);
		buf_rtrim(&line);
		fprintf(out, "%s\n", line.ptr);
	}
	buf_release(&line);
	buf_release(&st);
}

void report_log_summary(const char *what, const struct item *items, size_t nr, const char *tail)
{
	size_t counts[STATUS__COUNT] = {0}, i;
	struct buf line = BUF_INIT;
	int first = 1, would = !strcmp(what, "scan") || strstr(what, "dry run") != NULL;

	for (i = 0; i < nr; i++)
		counts[items[i].status]++;
	buf_addf(&line, "%s: %zu items", what, nr);
	for (i = 0; i < STATUS__COUNT; i++) {
		if (!counts[i])
			continue;
		buf_addf(&line, "%s %zu %s", first ? ":" : ",", counts[i],
		         i == STATUS_BUMPED && would ? "to bump"
		                                     : item_status_name((enum item_status)i));
		first = 0;
	}
	if (tail)
		buf_addf(&line, "; %s", tail);
	log_info("%s", line.ptr);
	buf_release(&line);
}

/* --- the tags listing --- */

void report_print_tags_json(FILE *out, const struct report_tags *rt)
{
	const struct taglist *tags = rt->tags;
	const struct tag_entry *const *picks = rt->picks;
	char *const *digests = rt->with_digests ? rt->digests : NULL;
	long limit = rt->limit < 0 ? 0 : rt->limit;
	json_t *root = json_object(), *arr = json_array(), *p = json_object(), *d = NULL;
	size_t i, n = limit > 0 && (size_t)limit < tags->nr ? (size_t)limit : tags->nr;
	char *text;
	int s;

	json_object_set_new(root, "image", json_string(rt->image));
	json_object_set_new(root, "registry", report_string(rt->registry));
	for (i = 0; i < n; i++) {
		const struct tag_entry *t = &tags->v[i];
		json_t *o = json_object();
		char when[40];

		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "build",
		                    t->candidate ? json_integer((json_int_t)tagver_build(&t->ver))
		                                 : json_null());
		if (t->has_time)
			tagtime_format(when, sizeof(when), &t->updated);
		json_object_set_new(o, "last_updated", report_string(t->has_time ? when : NULL));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "tags", arr);
	for (s = 0; s < 3; s++)
		json_object_set_new(p, strategy_name((enum strategy)s),
		                    report_string(picks[s] ? picks[s]->name : NULL));
	json_object_set_new(root, "picks", p);
	if (digests) {
		d = json_object();
		for (s = 0; s < 3; s++)
			if (picks[s] && digests[s])
				json_object_set_new(d, picks[s]->name, json_string(digests[s]));
		json_object_set_new(root, "digests", d);
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text)
		fprintf(out, "%s\n", text);
	free(text);
	json_decref(root);
}

void report_print_tags_text(FILE *out, const struct report_tags *rt)
{
	const struct taglist *tags = rt->tags;
	const struct tag_entry *const *picks = rt->picks;
	char *const *digests = rt->with_digests ? rt->digests : NULL;
	const char *relative = rt->relative;
	long limit = rt->limit < 0 ? REPORT_TAGS_TEXT_LIMIT : rt->limit;
	size_t cand = taglist_count_candidates(tags), i;
	size_t n = limit > 0 && (size_t)limit < tags->nr ? (size_t)limit : tags->nr;
	int s;

	fprintf(out, "%s at %s (%s): %zu tags, %zu candidates, %zu other%s\n", rt->image,
	        rt->registry, rt->api, tags->nr, cand, tags->nr - cand,
	        tags->from_cache ? " (cached)" : "");
	fprintf(out, "%-24s %-12s %s\n", "TAG", "BUILD", "LAST UPDATED");
	for (i = 0; i < n; i++) {
		const struct tag_entry *t = &tags->v[i];
		char build[24] = "-", when[40] = "-";

		if (t->candidate)
			snprintf(build, sizeof(build), "%llu",
			         (unsigned long long)tagver_build(&t->ver));
		if (t->has_time)
			tagtime_format(when, sizeof(when), &t->updated);
		fprintf(out, "%-24s %-12s %s\n", t->name, build, when);
	}
	if (n < tags->nr)
		fprintf(out, "... %zu more (--limit 0 shows all)\n", tags->nr - n);
	if (relative)
		fprintf(out, "\npicks (relative to %s%s):\n",
		        rt->explicit_current ? "" : "the newest build ", relative);
	else
		fprintf(out, "\npicks:\n");
	for (s = 0; s < 3; s++) {
		fprintf(out, "%c %-13s %s", s == (int)rt->chosen ? '*' : ' ',
		        strategy_name((enum strategy)s), picks[s] ? picks[s]->name : "(none)");
		if (digests && digests[s])
			fprintf(out, "  %s", digests[s]);
		if (picks[s] && rt->explicit_current &&
		    !tagver_is_upgrade(relative, picks[s]->name))
			fprintf(out, "  (not newer: %s stays)", relative);
		fputc('\n', out);
	}
}

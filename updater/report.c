#include "updater/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/banned.h"

struct report {
	char *base;
	int dry_run;
	json_t *images;
	json_t *branches;
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
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->base);
	json_decref(r->images);
	json_decref(r->branches);
	free(r);
}

void report_set_images(struct report *r, json_t *images)
{
	json_decref(r->images);
	r->images = json_incref(images);
}

void report_add_items(struct report *r, const struct item *items, size_t nr)
{
	r->items = items;
	r->nr = nr;
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

void report_add_branch(struct report *r, const char *name, const char *commit, size_t items,
                       int pushed, json_t *pull_request)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "commit", jstr(commit));
	json_object_set_new(o, "items", json_integer((json_int_t)items));
	json_object_set_new(o, "pushed", json_boolean(pushed));
	json_object_set(o, "pull_request", pull_request ? pull_request : json_null());
	json_array_append_new(r->branches, o);
}

/* --- JSON text, written straight from the structs --- */

static void key(struct buf *b, const char *k, int *first)
{
	buf_adds(b, *first ? "" : ", ");
	*first = 0;
	buf_add_json_string(b, k, strlen(k));
	buf_adds(b, ": ");
}

static void kv_str(struct buf *b, const char *k, const char *v, int *first)
{
	key(b, k, first);
	if (v)
		buf_add_json_string(b, v, strlen(v));
	else
		buf_adds(b, "null");
}

static void kv_raw(struct buf *b, const char *k, const char *v, int *first)
{
	key(b, k, first);
	buf_adds(b, v);
}

static void kv_json(struct buf *b, const char *k, const json_t *v, int *first)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	kv_raw(b, k, text ? text : "null", first);
	free(text);
}

static void kv_strlist(struct buf *b, const char *k, const struct strlist *l, int *first)
{
	size_t i;
	key(b, k, first);
	buf_addch(b, '[');
	for (i = 0; i < l->nr; i++) {
		if (i)
			buf_adds(b, ", ");
		buf_add_json_string(b, l->v[i], strlen(l->v[i]));
	}
	buf_addch(b, ']');
}

static const char *d45_name(const struct item *it)
{
	if (it->d45 == D45_ADDED)
		return "added";
	if (it->d45 == D45_KEPT || it->dockerimage45)
		return "kept";
	return "none";
}

static void item_json(struct buf *b, const struct item *it)
{
	int first = 1;

	buf_addch(b, '{');
	kv_str(b, "path", it->path, &first);
	kv_str(b, "kind", item_kind_name(it->kind), &first);
	kv_str(b, "pack", it->pack, &first);
	kv_str(b, "name", it->name, &first);
	kv_str(b, "image", it->image, &first);
	kv_str(b, "from", it->tag, &first);
	kv_str(b, "to", it->target, &first);
	kv_str(b, "status", item_status_name(it->status), &first);
	kv_str(b, "reason", it->reason, &first);
	kv_str(b, "dockerimage45", d45_name(it), &first);
	key(b, "verify", &first);
	if (it->verify_old || it->verify_new) {
		int vfirst = 1;
		buf_addch(b, '{');
		kv_str(b, "old", it->verify_old, &vfirst);
		kv_str(b, "new", it->verify_new, &vfirst);
		kv_raw(b, "regressed", it->regressed ? "true" : "false", &vfirst);
		if (it->verify_detail)
			kv_str(b, "detail", it->verify_detail, &vfirst);
		buf_addch(b, '}');
	} else {
		buf_adds(b, "null");
	}
	kv_str(b, "branch", it->branch, &first);
	/* Beyond SPEC §6: what scan shows, so tools need not re-read the YAML. */
	kv_str(b, "image_ref", it->image_ref, &first);
	kv_str(b, "location",
	       it->image_ref ? (it->image_in_script ? "script.dockerimage" : "dockerimage") : NULL,
	       &first);
	kv_str(b, "opt_in", it->image_ref ? opt_in_name(it->opt_in) : NULL, &first);
	kv_raw(b, "auto_update", it->flag < 0 ? "null" : it->flag ? "true" : "false", &first);
	kv_str(b, "dockerimage45_value", it->dockerimage45, &first);
	kv_strlist(b, "alt_dockerimages", &it->alt_images, &first);
	kv_strlist(b, "warnings", &it->warnings, &first);
	buf_addch(b, '}');
}

int report_write(struct report *r, const char *path, struct db_err *err)
{
	struct buf b = BUF_INIT;
	int first = 1, ret = 0;
	size_t i;

	buf_grow(&b, 64 + r->nr * 600);
	buf_addch(&b, '{');
	kv_raw(&b, "version", "1", &first);
	kv_str(&b, "base", r->base, &first);
	kv_raw(&b, "dry_run", r->dry_run ? "true" : "false", &first);
	kv_json(&b, "images", r->images, &first);
	key(&b, "items", &first);
	buf_addch(&b, '[');
	for (i = 0; i < r->nr; i++) {
		buf_adds(&b, i ? ",\n  " : "\n  ");
		item_json(&b, &r->items[i]);
	}
	buf_adds(&b, r->nr ? "\n]" : "]");
	kv_json(&b, "branches", r->branches, &first);
	buf_adds(&b, "}\n");
	if (path) {
		ret = file_write_atomic(path, b.ptr, b.len, err);
		if (ret)
			db_err_prefix(err, "report");
	} else if (fwrite(b.ptr, 1, b.len, stdout) != b.len || fflush(stdout)) {
		ret = db_err_set(err, DB_ERROR, "cannot write the report to stdout");
	}
	buf_release(&b);
	return ret;
}

void report_print_table(FILE *out, const struct item *items, size_t nr)
{
	size_t i, wpath = 4, wimg = 5;

	for (i = 0; i < nr; i++) {
		size_t lp = strlen(items[i].path),
		       li = items[i].image_ref ? strlen(items[i].image_ref) : 1;
		if (lp > wpath)
			wpath = lp;
		if (li > wimg)
			wimg = li;
	}
	if (wpath > 90)
		wpath = 90;
	fprintf(out, "%-*s  %-11s  %-*s  %-14s  %-14s  %-5s  %s\n", (int)wpath, "PATH", "KIND",
	        (int)wimg, "IMAGE", "OPT-IN", "TARGET", "D45", "STATUS");
	for (i = 0; i < nr; i++) {
		const struct item *it = &items[i];
		struct buf status = BUF_INIT;
		buf_adds(&status, item_status_name(it->status));
		if (it->reason)
			buf_addf(&status, " (%s)", it->reason);
		if (it->alt_images.nr)
			buf_addf(&status, " [alt: %zu]", it->alt_images.nr);
		fprintf(out, "%-*s  %-11s  %-*s  %-14s  %-14s  %-5s  %s\n", (int)wpath, it->path,
		        item_kind_name(it->kind), (int)wimg, it->image_ref ? it->image_ref : "-",
		        opt_in_name(it->opt_in), it->target ? it->target : "-",
		        it->dockerimage45 ? "yes" : "-", status.ptr);
		buf_release(&status);
	}
}

void report_log_summary(const char *what, const struct item *items, size_t nr)
{
	size_t counts[STATUS__COUNT] = {0}, i;
	struct buf line = BUF_INIT;
	int first = 1;

	for (i = 0; i < nr; i++)
		counts[items[i].status]++;
	buf_addf(&line, "%s: %zu items", what, nr);
	for (i = 0; i < STATUS__COUNT; i++) {
		if (!counts[i])
			continue;
		buf_addf(&line, "%s %zu %s", first ? ":" : ",", counts[i],
		         item_status_name((enum item_status)i));
		first = 0;
	}
	log_info("%s", line.ptr);
	buf_release(&line);
}

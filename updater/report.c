#include "updater/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/banned.h"

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *report_new(const char *base, int dry_run)
{
	json_t *r = json_object();
	json_object_set_new(r, "version", json_integer(1));
	json_object_set_new(r, "base", jstr(base));
	json_object_set_new(r, "dry_run", json_boolean(dry_run));
	json_object_set_new(r, "images", json_object());
	json_object_set_new(r, "items", json_array());
	json_object_set_new(r, "branches", json_array());
	return r;
}

void report_set_image(json_t *report, const char *image, const char *target, size_t tags_seen)
{
	json_t *o = json_object();
	json_object_set_new(o, "target", jstr(target));
	json_object_set_new(o, "tags_seen", json_integer((json_int_t)tags_seen));
	json_object_set_new(json_object_get(report, "images"), image, o);
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
	json_t *o = json_object(), *alt = json_array(), *warn = json_array(), *verify;
	size_t i;

	json_object_set_new(o, "path", json_string(it->path));
	json_object_set_new(o, "kind", json_string(item_kind_name(it->kind)));
	json_object_set_new(o, "pack", jstr(it->pack));
	json_object_set_new(o, "name", jstr(it->name));
	json_object_set_new(o, "image", jstr(it->image));
	json_object_set_new(o, "from", jstr(it->tag));
	json_object_set_new(o, "to", jstr(it->target));
	json_object_set_new(o, "status", json_string(item_status_name(it->status)));
	json_object_set_new(o, "reason", jstr(it->reason));
	json_object_set_new(o, "dockerimage45", json_string(d45_name(it)));
	if (it->verify_old || it->verify_new) {
		verify = json_object();
		json_object_set_new(verify, "old", jstr(it->verify_old));
		json_object_set_new(verify, "new", jstr(it->verify_new));
		json_object_set_new(verify, "regressed", json_boolean(it->regressed));
		if (it->verify_detail)
			json_object_set_new(verify, "detail", json_string(it->verify_detail));
	} else {
		verify = json_null();
	}
	json_object_set_new(o, "verify", verify);
	json_object_set_new(o, "branch", jstr(it->branch));
	/* Beyond SPEC §6: what scan shows, so tools need not re-read the YAML. */
	json_object_set_new(o, "image_ref", jstr(it->image_ref));
	json_object_set_new(
	    o, "location",
	    it->image_ref ? json_string(it->image_in_script ? "script.dockerimage" : "dockerimage")
	                  : json_null());
	json_object_set_new(o, "opt_in", json_string(opt_in_name(it->opt_in)));
	json_object_set_new(o, "auto_update", it->flag < 0 ? json_null() : json_boolean(it->flag));
	json_object_set_new(o, "dockerimage45_value", jstr(it->dockerimage45));
	for (i = 0; i < it->alt_images.nr; i++)
		json_array_append_new(alt, json_string(it->alt_images.v[i]));
	json_object_set_new(o, "alt_dockerimages", alt);
	for (i = 0; i < it->warnings.nr; i++)
		json_array_append_new(warn, json_string(it->warnings.v[i]));
	json_object_set_new(o, "warnings", warn);
	return o;
}

void report_add_items(json_t *report, const struct item *items, size_t nr)
{
	json_t *arr = json_object_get(report, "items");
	size_t i;
	for (i = 0; i < nr; i++)
		json_array_append_new(arr, item_json(&items[i]));
}

void report_add_branch(json_t *report, const char *name, const char *commit, size_t items,
                       int pushed, json_t *pull_request)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "commit", jstr(commit));
	json_object_set_new(o, "items", json_integer((json_int_t)items));
	json_object_set_new(o, "pushed", json_boolean(pushed));
	json_object_set(o, "pull_request", pull_request ? pull_request : json_null());
	json_array_append_new(json_object_get(report, "branches"), o);
}

int report_write(json_t *report, const char *path, struct db_err *err)
{
	char *text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int ret = 0;

	if (!text)
		return db_err_set(err, DB_ERROR, "cannot encode the report");
	if (path) {
		struct buf b = BUF_INIT;
		buf_adds(&b, text);
		buf_addch(&b, '\n');
		ret = file_write_atomic(path, b.ptr, b.len, err);
		if (ret)
			db_err_prefix(err, "report");
		buf_release(&b);
	} else {
		fputs(text, stdout);
		fputc('\n', stdout);
	}
	free(text);
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

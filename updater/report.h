/*
 * The report (SPEC §6): the JSON document `--report FILE` and `--json` write, the table
 * `scan` prints, and the one-line summaries on stderr.
 *
 *	struct report *r = report_new(base_sha, dry_run);
 *	report_set_images(r, images);		// {"demisto/python3": {"target", "tags_seen"}}
 *	report_add_items(r, items, nr);		// borrowed until report_free()
 *	report_add_branch(r, name, sha, n, pushed, pr_or_NULL);
 *	report_write(r, path_or_NULL_for_stdout, &err);
 *	report_free(r);
 *
 * The items are written as JSON text straight from the item structs, without building a
 * JSON tree: a 5,000-item report costs one buffer.
 */
#ifndef DOCKERBUMP_UPDATER_REPORT_H
#define DOCKERBUMP_UPDATER_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"
#include "updater/scan.h"

struct report;

/* `*out` belongs to the caller; free it with report_free(). */
struct report *report_new(const char *base, int dry_run);
void report_free(struct report *r);
/* The "images" object; the report takes its own reference. */
void report_set_images(struct report *r, json_t *images);
/* The items stay borrowed until the report is written. */
void report_add_items(struct report *r, const struct item *items, size_t nr);
/* `pull_request` is borrowed: a JSON value, or NULL for null. */
void report_add_branch(struct report *r, const char *name, const char *commit, size_t items,
                       int pushed, json_t *pull_request);
/* Writes the report as JSON to `path` (atomically) or, when path is NULL, to stdout. */
int report_write(struct report *r, const char *path, struct db_err *err);

/* The scan table (one row per item) on `out`. */
void report_print_table(FILE *out, const struct item *items, size_t nr);
/* "12 bumped, 3 up-to-date, ..." on stderr through the logger. */
void report_log_summary(const char *what, const struct item *items, size_t nr);

#endif

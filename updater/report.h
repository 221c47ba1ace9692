/*
 * The report (SPEC §6): the JSON document `--report FILE` and `--json` write, the table
 * `scan` prints, and the one-line summaries on stderr.
 *
 *	json_t *r = report_new(base_sha, dry_run);
 *	report_set_image(r, "demisto/python3", "3.11.10.113941", 2741);
 *	report_add_items(r, items, nr);
 *	report_add_branch(r, name, sha, n, pushed, pr_url_or_NULL);
 *	report_write(r, path_or_NULL_for_stdout, &err);
 *	json_decref(r);
 */
#ifndef DOCKERBUMP_UPDATER_REPORT_H
#define DOCKERBUMP_UPDATER_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"
#include "updater/scan.h"

/* A new report object; the caller owns the reference. */
json_t *report_new(const char *base, int dry_run);
void report_set_image(json_t *report, const char *image, const char *target, size_t tags_seen);
void report_add_items(json_t *report, const struct item *items, size_t nr);
/* `pull_request` is borrowed: a JSON value or NULL for null. */
void report_add_branch(json_t *report, const char *name, const char *commit, size_t items,
                       int pushed, json_t *pull_request);
/* Writes the report as pretty JSON to `path` (atomically) or, when path is NULL, to stdout. */
int report_write(json_t *report, const char *path, struct db_err *err);

/* The scan table (one row per item) on `out`. */
void report_print_table(FILE *out, const struct item *items, size_t nr);
/* "12 bumped, 3 up-to-date, ..." on stderr through the logger. */
void report_log_summary(const char *what, const struct item *items, size_t nr);

#endif

/*
 * The report (SPEC §6): the JSON document `--report FILE` and `--json` write, the table `scan`
 * prints, and the one-line summaries on stderr.
 *
 *	struct report *r = report_new(base_sha, dry_run);
 *	report_set_images(r, images);		// {"demisto/python3": {"target", "tags_seen"}}
 *	report_add_items(r, items, nr);		// borrowed until report_free()
 *	report_add_branch(r, &(struct report_branch){...});
 *	report_set_rollout(r, rollout);
 *	report_write(r, path, &err);		// a file (atomically), or "-" / NULL: stdout
 *	report_free(r);
 *
 * The document is built with jansson, so it is always valid JSON: a string that is not valid
 * UTF-8 (a path in a git tree can be anything) is written with U+FFFD in place of each bad
 * byte.
 */
#ifndef DOCKERBUMP_UPDATER_REPORT_H
#define DOCKERBUMP_UPDATER_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"
#include "updater/scan.h"
#include "updater/tagver.h"

struct report;

/* One branch of the run, for the "branches" array. Strings are borrowed. */
struct report_branch {
	const char *name;   /* "dockerbump/group-17" */
	const char *group;  /* "17", "canary" */
	const char *commit; /* hex; NULL when nothing was committed */
	size_t items;
	int pushed;
	long pr_number; /* 0: no pull request */
	const char *pr_url;
	const char *pr_outcome; /* created, updated, unchanged, closed, waiting */
};

/* `*out` belongs to the caller; free it with report_free(). */
struct report *report_new(const char *base, int dry_run);
void report_free(struct report *r);
/* The "images" object; the report takes its own reference. */
void report_set_images(struct report *r, json_t *images);
/* The "rollout" object; the report takes its own reference. */
void report_set_rollout(struct report *r, json_t *rollout);
/* The items stay borrowed until the report is written. */
void report_add_items(struct report *r, const struct item *items, size_t nr);
void report_add_branch(struct report *r, const struct report_branch *b);
/* The whole document; a new reference for the caller. */
json_t *report_json(const struct report *r);
/* Writes the report as JSON to `path` (atomically), or to stdout when path is NULL or "-". */
int report_write(struct report *r, const char *path, struct db_err *err);

/* A JSON string of `s` (null for NULL), invalid UTF-8 replaced: never NULL. */
json_t *report_string(const char *s);

/* The scan table on `out`: within 120 columns, unless `wide`. */
void report_print_table(FILE *out, const struct item *items, size_t nr, int wide);
/* "scan: 4500 items: 12 to bump, 3 up-to-date, ..." on stderr; `tail` (may be NULL) is added
 * after a semicolon. A dry run or a scan says "to bump"; a run "bumped". */
void report_log_summary(const char *what, const struct item *items, size_t nr, const char *tail);

/* `dockerbump tags`: an image's tags (sorted) and the pick of each strategy. Borrowed. */
#define REPORT_TAGS_TEXT_LIMIT 25
struct report_tags {
	const struct taglist *tags;
	const char *image, *registry, *api;
	const struct tag_entry *picks[3]; /* by enum strategy; NULL: none */
	char *digests[3];                 /* with `with_digests`: of each pick, or NULL */
	int with_digests;
	enum strategy chosen; /* marked in the text */
	const char *relative; /* the tag the picks are relative to, or NULL */
	int explicit_current; /* `relative` was asked for (--current, IMAGE:TAG) */
	long limit;           /* tags shown at most; -1: 25 as text, all as JSON; 0: all */
};
void report_print_tags_text(FILE *out, const struct report_tags *t);
void report_print_tags_json(FILE *out, const struct report_tags *t);

#endif

/*
 * What `dockerbump verify` prints: the outcomes as text (every value from a container or the
 * repository escaped, one line each) or as JSON.
 */
#include "updater/verify.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/banned.h"

static json_t *side_json(const struct verify_side *v)
{
	json_t *tests = json_array();
	size_t i;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN && !v->image) {
		json_decref(tests);
		return json_null();
	}
	for (i = 0; i < v->nr_tests; i++)
		json_array_append_new(tests, json_pack("{s:s, s:s}", "id", v->tests[i].id,
		                                       "outcome", v->tests[i].outcome));
	return json_pack("{s:s?, s:s, s:s?, s:s?, s:s?, s:s, s:o, s:I, s:b}", "image", v->image,
	                 "outcome", verify_outcome_name(v->outcome), "exception_type",
	                 v->exception_type, "message", v->message, "traceback", v->traceback, "log",
	                 v->log, "tests", tests, "duration_ms", (json_int_t)v->duration_ms,
	                 "cached", v->cached);
}

void verify_print_json(FILE *out, const struct verify_session *s, json_t *refused)
{
	json_t *doc = json_object(), *items = json_array();
	struct verify_stats st;
	size_t i, k;

	for (i = 0; i < verify_session_count(s); i++) {
		const struct verify_result *r = verify_session_result(s, i);
		json_t *tests = json_array();
		for (k = 0; k < r->nr_regressed_tests; k++)
			json_array_append_new(tests, json_string(r->regressed_tests[k]));
		json_array_append_new(items,
		                      json_pack("{s:s, s:s, s:o, s:o, s:b, s:o, s:s?, s:b}", "id",
		                                r->id, "name", r->name, "old", side_json(&r->old),
		                                "new", side_json(&r->new), "regressed",
		                                r->regressed, "regressed_tests", tests, "why",
		                                r->why, "blocked", verify_result_blocks(r)));
	}
	verify_session_stats(s, &st);
	json_object_set_new(doc, "items", items);
	json_object_set_new(doc, "refused", json_incref(refused));
	json_object_set_new(doc, "stats",
	                    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:s}",
	                              "containers_started", (int)st.containers_started, "items_run",
	                              (int)st.items_run, "old_runs", (int)st.old_runs, "cache_hits",
	                              (int)st.cache_hits, "pulls", (int)st.pulls, "images_removed",
	                              (int)st.images_removed, "retries", (int)st.retries, "wall_ms",
	                              (json_int_t)st.wall_ms, "session", st.session));
	json_dumpf(doc, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(doc);
}

/* Container output, one line at a time, indented; its control bytes are escaped. */
static void print_indented(FILE *out, const char *text)
{
	const char *p = text;
	struct buf line = BUF_INIT;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		buf_reset(&line);
		buf_add_printable(&line, p, n);
		fprintf(out, "    %s\n", line.ptr);
		p += n + (p[n] == '\n');
	}
	buf_release(&line);
}

/* One value from a container or the repository, on one line, escaped. */
static void put(FILE *out, const char *s)
{
	struct buf b = BUF_INIT;
	buf_add_printable(&b, s, strlen(s));
	fputs(b.ptr, out);
	buf_release(&b);
}

static void print_side(FILE *out, const struct verify_side *v, const char *label, int details)
{
	size_t i;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN)
		return;
	fprintf(out, "  %s%s", label, *label ? " " : "");
	put(out, v->image);
	fprintf(out, ": %s", verify_outcome_name(v->outcome));
	if (v->exception_type) {
		fputc(' ', out);
		put(out, v->exception_type);
	}
	if (v->message && *v->message) {
		fputs(": ", out);
		put(out, v->message);
	}
	fprintf(out, "%s\n", v->cached ? " (cached)" : "");
	if (!details)
		return;
	if (v->log && *v->log) {
		fprintf(out, "   log:\n");
		print_indented(out, v->log);
	}
	if (v->traceback) {
		fprintf(out, "   exception:\n");
		print_indented(out, v->traceback);
	}
	for (i = 0; i < v->nr_tests; i++) {
		fputs("   test ", out);
		put(out, v->tests[i].id);
		fprintf(out, ": %s\n", v->tests[i].outcome);
	}
}

void verify_print_text(FILE *out, const struct verify_session *s)
{
	size_t i, n = verify_session_count(s);

	for (i = 0; i < n; i++) {
		const struct verify_result *r = verify_session_result(s, i);
		int diff = r->old.outcome != VERIFY_OUTCOME_NOT_RUN;
		put(out, r->id);
		fputs(" (", out);
		put(out, r->name);
		fprintf(out, ")%s\n",
		        diff ? (r->regressed ? ": REGRESSED" : ": no regression") : "");
		print_side(out, &r->old, "old", n == 1 || r->old.outcome != VERIFY_OUTCOME_OK);
		print_side(out, &r->new, diff ? "new" : "",
		           n == 1 || r->new.outcome != VERIFY_OUTCOME_OK);
		if (r->why) {
			fputs("  ", out);
			put(out, r->why);
			fputc('\n', out);
		}
	}
}

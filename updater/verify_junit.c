/*
 * JUnit XML for verification results: one testsuite, one testcase per item and image.
 *
 * An item verified in two images is judged by the differential: the new image's testcase
 * fails when the bump regressed (or the new image could not be run), with the reason (the
 * outcomes, the exception, the tests that regressed), the old image's testcase only records
 * its outcome, or is skipped when the new image's clean outcome made it unnecessary. An
 * item verified in one image only (`dockerbump verify`) is judged on its own: anything but
 * ok or skipped fails. At the tests level every test's id and outcome is in system-out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "updater/verify.h"
#include "common/banned.h"

/* XML text or attribute value; characters XML 1.0 cannot carry are dropped. */
static void add_xml(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&apos;");
			break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t' || c == '\r')
				buf_addch(b, c);
		}
	}
}

enum verdict { V_PASS, V_FAIL, V_ERROR, V_SKIP };

static enum verdict judge(const struct verify_result *r, int is_new)
{
	const struct verify_side *v = is_new ? &r->new : &r->old;
	int single = r->old.outcome == VERIFY_OUTCOME_NOT_RUN;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN || v->outcome == VERIFY_OUTCOME_SKIPPED)
		return V_SKIP;
	if (v->outcome == VERIFY_OUTCOME_ERROR)
		return is_new ? V_ERROR : V_SKIP;
	if (single)
		return v->outcome == VERIFY_OUTCOME_OK ? V_PASS : V_FAIL;
	if (is_new && verify_result_blocks(r))
		return V_FAIL;
	return V_PASS;
}

static void add_case(struct buf *b, const struct verify_result *r, int is_new, size_t *failures,
                     size_t *errors, size_t *skipped)
{
	const struct verify_side *v = is_new ? &r->new : &r->old;
	enum verdict verdict = judge(r, is_new);
	size_t i;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN && !v->image)
		return;
	buf_adds(b, "  <testcase classname=\"");
	add_xml(b, r->id);
	buf_adds(b, "\" name=\"");
	add_xml(b, r->name);
	buf_adds(b, is_new ? " [new] " : " [old] ");
	add_xml(b, v->image ? v->image : "");
	buf_addf(b, "\" time=\"%.3f\">\n", (double)v->duration_ms / 1000.0);
	if (verdict == V_FAIL || verdict == V_ERROR) {
		const char *tag = verdict == V_FAIL ? "failure" : "error";
		buf_addf(b, "    <%s type=\"%s\" message=\"", tag, verify_outcome_name(v->outcome));
		if (is_new && r->why) {
			add_xml(b, r->why);
		} else {
			buf_adds(b, verify_outcome_name(v->outcome));
			if (v->exception_type) {
				buf_adds(b, " (");
				add_xml(b, v->exception_type);
				buf_adds(b, ")");
			}
		}
		buf_adds(b, "\">");
		add_xml(b, v->message);
		if (v->traceback) {
			buf_adds(b, "\n");
			add_xml(b, v->traceback);
		}
		buf_addf(b, "</%s>\n", tag);
		*(verdict == V_FAIL ? failures : errors) += 1;
	} else if (verdict == V_SKIP) {
		buf_adds(b, "    <skipped message=\"");
		add_xml(b, v->message ? v->message : verify_outcome_name(v->outcome));
		buf_adds(b, "\"/>\n");
		*skipped += 1;
	}
	buf_addf(b, "    <system-out>outcome: %s\n", verify_outcome_name(v->outcome));
	for (i = 0; i < v->nr_tests; i++) {
		buf_adds(b, "test ");
		add_xml(b, v->tests[i].id);
		buf_addf(b, ": %s\n", v->tests[i].outcome);
	}
	add_xml(b, v->log);
	buf_adds(b, "</system-out>\n  </testcase>\n");
}

int verify_junit_write(const struct verify_session *s, const char *path, struct db_err *err)
{
	struct buf cases = BUF_INIT, doc = BUF_INIT;
	struct verify_stats st;
	size_t i, tests = 0, failures = 0, errors = 0, skipped = 0;
	int ret;

	verify_session_stats(s, &st);
	for (i = 0; i < verify_session_count(s); i++) {
		const struct verify_result *r = verify_session_result(s, i);
		size_t before = cases.len;
		add_case(&cases, r, 0, &failures, &errors, &skipped);
		tests += cases.len != before;
		before = cases.len;
		add_case(&cases, r, 1, &failures, &errors, &skipped);
		tests += cases.len != before;
	}
	buf_adds(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_addf(
	    &doc,
	    "<testsuites>\n<testsuite name=\"dockerbump.verify\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
	    tests, failures, errors, skipped, (double)st.wall_ms / 1000.0);
	buf_add(&doc, cases.ptr, cases.len);
	buf_adds(&doc, "</testsuite>\n</testsuites>\n");
	ret = file_write_atomic(path, doc.ptr, doc.len, err);
	buf_release(&cases);
	buf_release(&doc);
	return ret;
}

/*
 * Verification pieces that need no interpreter: the regression rule, outcome names, the
 * protocol messages' effect on a run record, neutral answers, base64, tar and JUnit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "common/proc.h"
#include "updater/verify.h"
#include "updater/verify_int.h"

enum {
	OK = VERIFY_OUTCOME_OK,
	EE = VERIFY_OUTCOME_ERROR_ENTRY,
	EX = VERIFY_OUTCOME_EXCEPTION,
	TO = VERIFY_OUTCOME_TIMEOUT,
	CR = VERIFY_OUTCOME_CRASH,
	SK = VERIFY_OUTCOME_SKIPPED,
	ER = VERIFY_OUTCOME_ERROR,
	NR = VERIFY_OUTCOME_NOT_RUN,
};

static void test_regression_rule(void **state)
{
	static const struct {
		int old_outcome;
		const char *old_type;
		int new_outcome;
		const char *new_type;
		int regressed, blocks;
	} rows[] = {
	    {OK, NULL, OK, NULL, 0, 0},
	    {OK, NULL, EE, NULL, 1, 1},
	    {OK, NULL, EX, "ImportError", 1, 1},
	    {EE, NULL, OK, NULL, 0, 0},
	    {EE, NULL, EE, NULL, 0, 0},
	    {EE, NULL, EX, "KeyError", 1, 1},
	    {EX, "NameError", EX, "NameError", 0, 0},
	    {EX, "NameError", EX, "ImportError", 1, 1},
	    {EX, "ImportError", EX, "ModuleNotFoundError", 0, 0}, /* Python 2 vs 3 */
	    {EX, "KeyError", EE, NULL, 0, 0},
	    {EX, "KeyError", OK, NULL, 0, 0},
	    {EX, "KeyError", TO, NULL, 1, 1},
	    {TO, NULL, TO, NULL, 0, 0},
	    {TO, NULL, CR, NULL, 1, 1},
	    {CR, NULL, EX, "X", 0, 0},
	    {CR, NULL, CR, NULL, 0, 0},
	    {OK, NULL, SK, NULL, 0, 0},
	    {SK, NULL, EX, "X", 0, 0},
	    {OK, NULL, ER, NULL, 0, 1}, /* the new image could not be run */
	    {ER, NULL, OK, NULL, 0, 0}, /* only the old one: a clean new run passes */
	    {ER, NULL, EX, "X", 0, 1},  /* nothing to compare a failure with */
	    {NR, NULL, OK, NULL, 0, 0},
	    {NR, NULL, EX, "X", 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct verify_result r;
		memset(&r, 0, sizeof(r));
		r.old.outcome = (enum verify_outcome)rows[i].old_outcome;
		r.old.exception_type = rows[i].old_type;
		r.new.outcome = (enum verify_outcome)rows[i].new_outcome;
		r.new.exception_type = rows[i].new_type;
		r.regressed = verify_regressed(&r.old, &r.new);
		if (r.regressed != rows[i].regressed || verify_result_blocks(&r) != rows[i].blocks)
			fail_msg("row %zu: %s -> %s: regressed %d blocks %d", i,
			         verify_outcome_name(r.old.outcome),
			         verify_outcome_name(r.new.outcome), r.regressed,
			         verify_result_blocks(&r));
	}
}

/* Tests level: a test that passes in the old image and fails or errors in the new one
 * regresses, whatever else failed before. */
static void test_per_test_regression(void **state)
{
	static const struct verify_test old_tests[] = {
	    {"t.py::test_always_fails", "failed"},
	    {"t.py::test_a", "passed"},
	    {"t.py::test_b", "passed"},
	    {"t.py::test_c", "passed"},
	    {"t.py::test_skipped", "skipped"},
	};
	static const struct verify_test one_to_three[] = {
	    {"t.py::test_always_fails", "failed"},
	    {"t.py::test_a", "passed"},
	    {"t.py::test_b", "failed"},
	    {"t.py::test_c", "error"},
	    {"t.py::test_skipped", "failed"},
	};
	static const struct verify_test better[] = {
	    {"t.py::test_always_fails", "passed"},
	    {"t.py::test_a", "passed"},
	    {"t.py::test_b", "passed"},
	    {"t.py::test_c", "passed"},
	};
	static const struct verify_test renamed[] = {{"t.py::test_other", "passed"}};
	struct verify_side o, n;

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(&n, 0, sizeof(n));
	o.outcome = n.outcome = VERIFY_OUTCOME_EXCEPTION;
	o.exception_type = n.exception_type = "TestsFailed";
	o.tests = old_tests;
	o.nr_tests = 5;
	/* 1 failure -> 3: the same outcome and type, but test_b and test_c regressed (a
	 * skipped test that now fails did not pass before: not counted). */
	n.tests = one_to_three;
	n.nr_tests = 5;
	assert_true(verify_regressed(&o, &n));
	/* Better in the new image: no regression. */
	n.outcome = VERIFY_OUTCOME_OK;
	n.exception_type = NULL;
	n.tests = better;
	n.nr_tests = 4;
	assert_false(verify_regressed(&o, &n));
	/* Tests gone from a new run that passed (none lost) vs one that failed to collect. */
	n.tests = renamed;
	n.nr_tests = 1;
	assert_false(verify_regressed(&o, &n));
	n.outcome = VERIFY_OUTCOME_EXCEPTION;
	n.exception_type = "TestsFailed";
	assert_true(verify_regressed(&o, &n));
	/* The same tests failing the same way: nothing new. */
	n.tests = old_tests;
	n.nr_tests = 5;
	assert_false(verify_regressed(&o, &n));
}

static void test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_OK), "ok");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_ERROR_ENTRY), "error-entry");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_EXCEPTION), "exception");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_TIMEOUT), "timeout");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_CRASH), "crash");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_SKIPPED), "skipped");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_ERROR), "error");
	assert_string_equal(verify_outcome_name(VERIFY_OUTCOME_NOT_RUN), "not-run");
	assert_string_equal(verify_outcome_name((enum verify_outcome)99), "unknown");
}

static void test_python_for_image(void **state)
{
	(void)state;
	assert_string_equal(verify_python_for("demisto/python:2.7.18.100004", 0), "python");
	assert_string_equal(verify_python_for("demisto/python:2.7.18.100004", 1), "python3");
	assert_string_equal(verify_python_for("127.0.0.1:5000/demisto/python:2.7", 0), "python");
	assert_string_equal(verify_python_for("demisto/python3:3.11.10.113941", 0), "python3");
	assert_string_equal(verify_python_for("demisto/python3:3.11.10.113941", 1), "python");
	assert_string_equal(verify_python_for("demisto/python-deb:1.0", 0), "python3");
	assert_string_equal(verify_python_for("python@sha256:abc", 0), "python");
}

/* Feeds protocol lines to a record; returns the answers written back. */
static void feed(struct vrec *r, struct buf *answers, const char *const *lines)
{
	for (; *lines; lines++) {
		json_t *msg = json_loads(*lines, 0, NULL);
		assert_non_null(msg);
		verify_proto_message(r, msg, answers);
		json_decref(msg);
	}
}

static void test_messages_to_outcomes(void **state)
{
	static const struct {
		const char *lines[6];
		int outcome;
		const char *type;
		int cacheable;
	} rows[] = {
	    {{"{\"type\":\"entryLog\",\"args\":{\"message\":\"hi\",\"source\":\"output\"}}",
	      "{\"type\":\"completed\",\"args\":{\"duration_ms\":5}}", NULL},
	     OK,
	     NULL,
	     1},
	    {{"{\"type\":\"result\",\"args\":{\"results\":[{\"Type\":1},{\"Type\":4,"
	      "\"Contents\":\"bad\"}]}}",
	      "{\"type\":\"completed\"}", NULL},
	     EE,
	     NULL,
	     1},
	    {{"{\"type\":\"result\",\"args\":{\"results\":{\"Type\":4}}}",
	      "{\"type\":\"exception\",\"args\":{\"type\":\"KeyError\",\"message\":\"'x'\","
	      "\"exception\":[\"Traceback\",\"KeyError: 'x'\"]}}",
	      "{\"type\":\"completed\"}", NULL},
	     EX,
	     "KeyError",
	     1},
	    {{"{\"type\":\"timeout\",\"args\":{\"seconds\":1}}", "{\"type\":\"completed\"}", NULL},
	     TO,
	     NULL,
	     0},
	    {{"{\"type\":\"crash\",\"args\":{\"signal\":9}}", "{\"type\":\"completed\"}", NULL},
	     CR,
	     NULL,
	     1},
	    {{"{\"type\":\"skipped\",\"args\":{\"reason\":\"no pytest\"}}",
	      "{\"type\":\"completed\"}", NULL},
	     SK,
	     NULL,
	     1},
	    /* Odd shapes of known messages say nothing... */
	    {{"{\"type\":\"result\",\"args\":7}", "{\"type\":\"entryLog\"}",
	      "{\"type\":\"tests\",\"args\":{\"tests\":[7,{\"id\":1}]}}",
	      "{\"type\":\"completed\",\"args\":\"x\"}", NULL},
	     OK,
	     NULL,
	     1},
	    /* ...but a message no loop sends is a protocol violation: a crash. */
	    {{"{\"type\":\"mystery\"}", "{\"type\":\"completed\"}", NULL}, CR, NULL, 0},
	    {{"{\"args\":[]}", "{\"type\":\"completed\"}", NULL}, CR, NULL, 0},
	    {{"{\"type\":\"hello\",\"args\":{}}", "{\"type\":\"completed\"}", NULL}, CR, NULL, 0},
	    /* The loop could not run the item as it must: nothing is known, nothing cached. */
	    {{"{\"type\":\"error\",\"args\":{\"message\":\"cannot become uid 65534\"}}",
	      "{\"type\":\"completed\"}", NULL},
	     ER,
	     NULL,
	     0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vrec r;
		struct buf answers = BUF_INIT;
		vrec_init(&r);
		feed(&r, &answers, rows[i].lines);
		assert_true(r.completed);
		if ((int)r.outcome != rows[i].outcome)
			fail_msg("row %zu: %s", i, verify_outcome_name(r.outcome));
		if (rows[i].type)
			assert_string_equal(r.exception_type, rows[i].type);
		assert_int_equal(r.cacheable, rows[i].cacheable);
		assert_int_equal(answers.len, 0);
		vrec_release(&r);
		buf_release(&answers);
	}
}

/* Every line the loop may meet, through the same function the engine uses. */
static void test_hostile_lines(void **state)
{
	static const struct {
		const char *line;
		size_t len; /* 0: strlen */
		int ret;
		const char *in_log; /* or NULL */
	} rows[] = {
	    /* What json.dumps writes for 'x\udcff': jansson refuses a lone surrogate. */
	    {"{\"type\":\"exception\",\"args\":{\"type\":\"ValueError\",\"message\":\"x\\udcff\"}}",
	     0, -1, "protocol violation"},
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"\\ud800 high alone\"}}", 0, -1,
	     "protocol violation"},
	    /* Invalid UTF-8 in a log. */
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"bad \xff\xfe bytes\"}}", 0, -1,
	     "protocol violation"},
	    /* A NUL, escaped or raw. */
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"a\\u0000b\"}}", 0, -1,
	     "protocol violation"},
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"a\0b\"}}", 44, -1,
	     "protocol violation"},
	    /* Not JSON, not an object, cut short, NaN. */
	    {"Traceback (most recent call last):", 0, -1, "does not parse"},
	    {"[1, 2]", 0, -1, "not a JSON object"},
	    {"{\"type\": \"result\", \"args\": {\"results\"", 0, -1, "does not parse"},
	    {"{\"type\":\"result\",\"args\":{\"results\":NaN}}", 0, -1, "does not parse"},
	    /* What the loop writes instead: the escapes as text, pairs kept. */
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"x\\\\udcff and \\\\x00\"}}", 0, 0,
	     "x\\udcff and \\x00"},
	    {"{\"type\":\"entryLog\",\"args\":{\"message\":\"pair \\ud83d\\ude00\"}}", 0, 0,
	     "pair \xf0\x9f\x98\x80"},
	};
	struct buf big = BUF_INIT, answers = BUF_INIT;
	struct vrec r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].line), k;
		int ret;
		vrec_init(&r);
		ret = verify_proto_line(&r, rows[i].line, len, &answers);
		if (ret != rows[i].ret)
			fail_msg("row %zu: returned %d, want %d (%s)", i, ret, rows[i].ret,
			         r.log.ptr);
		if (ret < 0) {
			/* The run is over: a crash, never cached, whatever comes after. */
			assert_int_equal(r.outcome, VERIFY_OUTCOME_CRASH);
			assert_false(r.cacheable);
			assert_non_null(strstr(r.message, "protocol violation"));
			verify_proto_line(&r, "{\"type\":\"completed\"}", 20, &answers);
			assert_int_equal(r.outcome, VERIFY_OUTCOME_CRASH);
			assert_false(r.cacheable);
		}
		/* What it says about the line is text any report can carry. */
		for (k = 0; r.message && r.message[k]; k++)
			assert_true((unsigned char)r.message[k] >= 0x20 &&
			            (unsigned char)r.message[k] < 0x7f);
		if (rows[i].in_log && !strstr(r.log.ptr, rows[i].in_log) &&
		    !(r.message && strstr(r.message, rows[i].in_log)))
			fail_msg("row %zu: '%s' not in '%s'", i, rows[i].in_log, r.log.ptr);
		vrec_release(&r);
	}

	/* A 10 MB message is a message: the item's exception, its log capped. */
	vrec_init(&r);
	buf_adds(&big, "{\"type\":\"entryLog\",\"args\":{\"message\":\"");
	for (i = 0; i < 10u << 20; i += 64)
		buf_adds(&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde ");
	buf_adds(&big, "\"}}");
	assert_int_equal(verify_proto_line(&r, big.ptr, big.len, &answers), 0);
	buf_reset(&big);
	buf_adds(&big, "{\"type\":\"exception\",\"args\":{\"type\":\"ValueError\",\"message\":\"");
	for (i = 0; i < 10u << 20; i += 8)
		buf_adds(&big, "\\u00e9xyz");
	buf_adds(&big, "\"}}");
	assert_int_equal(verify_proto_line(&r, big.ptr, big.len, &answers), 0);
	assert_int_equal(verify_proto_line(&r, "{\"type\":\"completed\"}", 20, &answers), 1);
	assert_int_equal(r.outcome, VERIFY_OUTCOME_EXCEPTION);
	assert_string_equal(r.exception_type, "ValueError");
	assert_true(r.log.len <= VERIFY_LOG_CAP);
	assert_int_equal(answers.len, 0);
	vrec_release(&r);
	buf_release(&big);
	buf_release(&answers);
}

static void test_sync_requests_get_answers(void **state)
{
	static const char *const lines[] = {
	    "{\"type\":\"executeCommand\",\"sync\":true,\"id\":1,"
	    "\"args\":{\"command\":\"ip\",\"args\":{}}}",
	    "{\"type\":\"info\",\"sync\":true,\"id\":2,\"args\":{\"message\":\"note this\"}}",
	    "{\"type\":\"noSuchMethod\",\"sync\":true,\"id\":3,\"args\":{}}",
	    "{\"type\":\"getLastRun\",\"sync\":true,\"id\":4,\"args\":{}}", NULL};
	struct vrec r;
	struct buf answers = BUF_INIT;
	json_t *a;
	char *nl, *line;

	(void)state;
	vrec_init(&r);
	feed(&r, &answers, lines);
	assert_non_null(strstr(r.log.ptr, "[info] note this"));
	line = answers.ptr;
	nl = strchr(line, '\n');
	a = json_loadb(line, (size_t)(nl - line), 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(a, "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(a, "result"), 0), "Type")),
	                 4);
	json_decref(a);
	line = nl + 1;
	nl = strchr(line, '\n');
	a = json_loadb(line, (size_t)(nl - line), 0, NULL);
	assert_true(json_is_null(json_object_get(a, "result")));
	json_decref(a);
	line = nl + 1;
	nl = strchr(line, '\n');
	a = json_loadb(line, (size_t)(nl - line), 0, NULL);
	assert_true(json_is_string(json_object_get(a, "error")));
	assert_null(json_object_get(a, "result"));
	json_decref(a);
	line = nl + 1;
	assert_string_equal(line, "{\"id\":4,\"result\":{}}\n");
	vrec_release(&r);
	buf_release(&answers);
}

static void test_log_is_capped(void **state)
{
	struct vrec r;
	char line[1024];
	int i;

	(void)state;
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	vrec_init(&r);
	for (i = 0; i < 200; i++)
		vrec_log(&r, NULL, line);
	assert_true(r.log.len <= VERIFY_LOG_CAP);
	assert_non_null(strstr(r.log.ptr, "[log truncated]"));
	vrec_release(&r);
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {{"", ""},        {"f", "Zg=="},        {"fo", "Zm8="},
	            {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"foobar", "Zm9vYmFy"}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT;
		verify_base64(&b, rows[i].in, strlen(rows[i].in));
		assert_string_equal(b.ptr, rows[i].out);
		buf_release(&b);
	}
}

/* The item's folder travels as a JSON map of paths to base64; no path can leave the folder. */
static void test_files_json(void **state)
{
	struct verify_file files[3] = {{"Foo.py", "print(1)\n", 9},
	                               {"test_data/input.json", "{}", 2},
	                               {"bin/raw", "\x00\xff", 2}};
	static const char *const bad[] = {"../escape.py", "/etc/passwd", "a//b", "a/../../b", ""};
	struct db_err err = DB_ERR_INIT;
	json_t *map;
	size_t i;

	(void)state;
	map = verify_files_json(files, 3, &err);
	assert_non_null(map);
	assert_int_equal(json_object_size(map), 3);
	assert_string_equal(json_string_value(json_object_get(map, "Foo.py")), "cHJpbnQoMSkK");
	assert_string_equal(json_string_value(json_object_get(map, "test_data/input.json")),
	                    "e30=");
	assert_string_equal(json_string_value(json_object_get(map, "bin/raw")), "AP8=");
	json_decref(map);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct verify_file f = {bad[i], "x", 1};
		db_err_clear(&err);
		assert_null(verify_files_json(&f, 1, &err));
		assert_int_equal(err.code, DB_EPARSE);
	}
	/* The same path twice. */
	files[1].path = "Foo.py";
	db_err_clear(&err);
	assert_null(verify_files_json(files, 2, &err));
}

static void test_session_validates(void **state)
{
	struct verify_opts o;
	struct verify_session *s = NULL;
	struct db_err err = DB_ERR_INIT;
	struct verify_item it = {"id", "Name", NULL, 0, NULL, "img:1", NULL, 0, NULL};

	(void)state;
	verify_opts_init(&o);
	o.jobs = 0;
	assert_int_equal(verify_session_new(&s, &o, &err), DB_EUSAGE);
	assert_null(s);
	verify_opts_init(&o);
	o.common_server_python = "\xff\xfe not utf-8";
	db_err_clear(&err);
	assert_int_equal(verify_session_new(&s, &o, &err), DB_EPARSE);
	verify_opts_init(&o);
	o.level = VERIFY_OFF;
	o.cache_dir = "";
	db_err_clear(&err);
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	assert_int_equal(verify_session_add(s, NULL, &it, &err), DB_EUSAGE);
	it.code = "x = 1\n";
	db_err_clear(&err);
	assert_int_equal(verify_session_add(s, NULL, &it, &err), 0);
	/* Level off: nothing runs, no engine is needed. */
	assert_int_equal(verify_session_run(s, &err), 0);
	assert_int_equal(verify_session_result(s, 0)->new.outcome, VERIFY_OUTCOME_NOT_RUN);
	assert_null(verify_session_result(s, 1));
	verify_session_free(s);
	verify_session_free(NULL);
}

/* No engine: a distinct error that says what to do. */
static void test_no_engine(void **state)
{
	struct verify_opts o;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	struct verify_item it = {"id", "Name", "x = 1\n", 0, NULL, "img:1", NULL, 0, NULL};

	(void)state;
	verify_opts_init(&o);
	o.runtime = "/nonexistent/docker";
	o.cache_dir = "";
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	assert_int_equal(verify_session_add(s, NULL, &it, &err), 0);
	assert_int_equal(verify_session_run(s, &err), DB_EVERIFY);
	assert_non_null(strstr(err.msg, "--verify off"));
	assert_non_null(strstr(err.msg, "/nonexistent/docker"));
	verify_session_free(s);
}

/* Image references from the registry never reach the runtime as anything else. */
static void test_image_reference_checked(void **state)
{
	static const char *const bad[] = {"",        "-v",           "--privileged", "img:1 --rm",
	                                  "img:1\n", "img;rm -rf /", "$(id)"};
	struct verify_opts o;
	struct db_err err = DB_ERR_INIT;
	char *id = NULL;
	size_t i;

	(void)state;
	verify_opts_init(&o);
	o.runtime = "/nonexistent/docker";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		db_err_clear(&err);
		assert_int_equal(verify_engine_image_id(&id, &o, bad[i], &err), DB_EPARSE);
		assert_null(id);
	}
}

static void test_junit(void **state)
{
	char path[] = "/tmp/dockerbump-junit.XXXXXX";
	struct verify_opts o;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	struct verify_item it = {
	    "Packs/A/Scripts/B/B.yml", "B<&>", "x = 1\n", 0, "img:1", "img:2", NULL, 0, NULL};
	struct buf xml = BUF_INIT;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	verify_opts_init(&o);
	o.level = VERIFY_OFF;
	o.cache_dir = "";
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	assert_int_equal(verify_session_add(s, NULL, &it, &err), 0);
	assert_int_equal(verify_session_run(s, &err), 0);
	assert_int_equal(verify_junit_write(s, path, &err), 0);
	assert_int_equal(file_read(&xml, path, 0, &err), 0);
	assert_non_null(strstr(xml.ptr, "<?xml"));
	assert_non_null(strstr(xml.ptr, "tests=\"2\""));
	assert_non_null(strstr(xml.ptr, "B&lt;&amp;&gt; [new] img:2"));
	assert_non_null(strstr(xml.ptr, "<skipped"));
	buf_release(&xml);
	verify_session_free(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regression_rule),
	    cmocka_unit_test(test_per_test_regression),
	    cmocka_unit_test(test_outcome_names),
	    cmocka_unit_test(test_python_for_image),
	    cmocka_unit_test(test_messages_to_outcomes),
	    cmocka_unit_test(test_hostile_lines),
	    cmocka_unit_test(test_sync_requests_get_answers),
	    cmocka_unit_test(test_log_is_capped),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_files_json),
	    cmocka_unit_test(test_session_validates),
	    cmocka_unit_test(test_no_engine),
	    cmocka_unit_test(test_image_reference_checked),
	    cmocka_unit_test(test_junit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

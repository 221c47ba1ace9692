/*
 * The verification loop (docker/loop.py) without any container: the C side drives the loop
 * under the local python through pipes, first message by message (the raw protocol), then
 * through a verification session in local mode (the outcomes).
 *
 * Interpreters: $DOCKERBUMP_TEST_PYTHON (default python3) for everything; for the tests
 * level, the first of $DOCKERBUMP_TEST_PYTEST_PYTHON, python3, /usr/bin/python3 that can
 * import pytest (skipped when none can). $DOCKERBUMP_TEST_PYTHON2, when set, runs the raw
 * protocol again under Python 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/proc.h"
#include "updater/verify.h"
#include "updater/verify_int.h"

extern const unsigned char embed_loop[];
extern const size_t embed_loop_len;

/* The interpreter's own path: wrappers such as pyenv's shims cost a second per start. */
static char *resolve(const char *py)
{
	const char *argv[] = {py, "-c", "import sys; print(sys.executable)", NULL};
	struct proc_result r;
	struct db_err err = DB_ERR_INIT;
	char *path = NULL;

	proc_result_init(&r);
	if (proc_run(&r, argv, NULL, 0, 60000, 4096, &err) == 0 && r.code == 0) {
		buf_rtrim(&r.out);
		if (r.out.len)
			path = strdup(r.out.ptr);
	}
	proc_result_release(&r);
	return path ? path : strdup(py);
}

static char *python_path;

static const char *python(void)
{
	if (!python_path) {
		const char *p = getenv("DOCKERBUMP_TEST_PYTHON");
		python_path = resolve(p && *p ? p : "python3");
	}
	return python_path;
}

/* ---- raw protocol -------------------------------------------------------------------- */

struct peer {
	struct proc proc;
	struct buf rx;
};

static void peer_send(struct peer *p, const char *text)
{
	size_t off = 0, len = strlen(text);
	long long deadline = clock_now_ms() + 10000;

	while (off < len) {
		ssize_t n = proc_write(&p->proc, text + off, len - off);
		assert_true(n >= 0);
		off += (size_t)n;
		if (!n) {
			struct pollfd fd = {p->proc.in_fd, POLLOUT, 0};
			assert_true(clock_now_ms() < deadline);
			poll(&fd, 1, 100);
		}
	}
}

/* The next message; fails the test after 20 s. */
static json_t *peer_recv(struct peer *p)
{
	long long deadline = clock_now_ms() + 20000;

	for (;;) {
		char *nl = memchr(p->rx.ptr, '\n', p->rx.len);
		if (nl) {
			size_t len = (size_t)(nl - p->rx.ptr);
			json_t *msg = json_loadb(p->rx.ptr, len, 0, NULL);
			memmove(p->rx.ptr, nl + 1, p->rx.len - len - 1);
			buf_setlen(&p->rx, p->rx.len - len - 1);
			assert_non_null(msg);
			return msg;
		}
		struct pollfd fd = {p->proc.out_fd, POLLIN, 0};
		assert_true(clock_now_ms() < deadline);
		poll(&fd, 1, 200);
		assert_true(proc_read(&p->proc.out_fd, &p->rx, 65536) >= 0);
	}
}

static const char *type_of(json_t *msg)
{
	return json_string_value(json_object_get(msg, "type"));
}

static void peer_start(struct peer *p, const char *py)
{
	const char *argv[] = {py, "-c", verify_bootstrap, NULL};
	struct db_err err = DB_ERR_INIT;
	char head[32];
	json_t *hello;

	buf_init(&p->rx, 0);
	assert_int_equal(proc_spawn(&p->proc, argv, PROC_STDIN | PROC_STDOUT | PROC_PGROUP, &err),
	                 0);
	snprintf(head, sizeof(head), "%zu\n", embed_loop_len);
	peer_send(p, head);
	{
		struct buf src = BUF_INIT;
		buf_add(&src, embed_loop, embed_loop_len);
		peer_send(p, src.ptr);
		buf_release(&src);
	}
	hello = peer_recv(p);
	assert_string_equal(type_of(hello), "hello");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(hello, "args"), "protocol")), 2);
	json_decref(hello);
}

static void peer_stop(struct peer *p)
{
	peer_send(p, "{\"type\":\"exit\"}\n");
	proc_close_stdin(&p->proc);
	assert_int_equal(proc_wait(&p->proc, 10000), 1);
	assert_int_equal(proc_exit_code(&p->proc), 0);
	proc_release(&p->proc);
	buf_release(&p->rx);
}

/* A run request for `script`; `extra` is added to the object (",\"timeout\":1"). */
static char *run_line(const char *name, const char *script, const char *extra)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "type", "run", "name", name, "script",
	                        script, "integration", 0);
	char *text = json_dumps(req, JSON_COMPACT);
	struct buf line = BUF_INIT;

	buf_add(&line, text, strlen(text) - 1); /* without the closing brace */
	buf_adds(&line, extra);
	buf_adds(&line, "}\n");
	free(text);
	json_decref(req);
	return buf_detach(&line, NULL);
}

/* The next message must be of `type`; then the run must complete. Returns its args. */
static json_t *expect_end(struct peer *p, const char *type)
{
	json_t *m = peer_recv(p), *args, *done;

	assert_string_equal(type_of(m), type);
	args = json_incref(json_object_get(m, "args"));
	json_decref(m);
	done = peer_recv(p);
	assert_string_equal(type_of(done), "completed");
	json_decref(done);
	return args;
}

static void raw_protocol(const char *py)
{
	struct peer p;
	json_t *m;
	char *line;
	int seen_output = 0, seen_log = 0, seen_result = 0, seen_info = 0, seen_exec = 0;

	peer_start(&p, py);
	peer_send(&p, "not json at all\n[1,2]\n{\"type\":\"ping\"}\n");
	m = peer_recv(&p);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);

	/* Every kind of message of a run, and the answers to synchronous requests. */
	line = run_line("Proto",
	                "print('from print')\n"
	                "demisto.log('from log')\n"
	                "demisto.results({'Type': 1, 'Contents': 'r'})\n"
	                "demisto.info('from info')\n"
	                "res = demisto.executeCommand('getIncidents', {'a': 1})\n"
	                "assert res == [{'answer': 42}], res\n",
	                "");
	peer_send(&p, line);
	free(line);
	for (;;) {
		const char *t;
		m = peer_recv(&p);
		t = type_of(m);
		assert_non_null(t);
		if (json_is_true(json_object_get(m, "sync"))) {
			char answer[128];
			snprintf(answer, sizeof(answer),
			         "{\"id\": %lld, \"result\": [{\"answer\": 42}]}\n",
			         (long long)json_integer_value(json_object_get(m, "id")));
			seen_info += !strcmp(t, "info");
			seen_exec += !strcmp(t, "executeCommand");
			peer_send(&p,
			          strcmp(t, "info") ? answer : "{\"id\": 1, \"result\": null}\n");
		} else if (!strcmp(t, "entryLog")) {
			const char *msg = json_string_value(
			    json_object_get(json_object_get(m, "args"), "message"));
			seen_output += !strcmp(msg, "from print");
			seen_log += !strcmp(msg, "from log");
		} else if (!strcmp(t, "result")) {
			seen_result++;
		} else {
			assert_string_equal(t, "completed");
			json_decref(m);
			break;
		}
		json_decref(m);
	}
	assert_int_equal(seen_output, 1);
	assert_int_equal(seen_log, 1);
	assert_int_equal(seen_result, 1);
	assert_int_equal(seen_info, 1);
	assert_int_equal(seen_exec, 1);

	/* An exception, with its type; a ping while an item runs is answered at once. */
	line = run_line("Raises", "import time\ntime.sleep(0.5)\nraise ValueError('boom')\n", "");
	peer_send(&p, line);
	free(line);
	peer_send(&p, "{\"type\":\"ping\"}\n");
	m = peer_recv(&p);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	m = expect_end(&p, "exception");
	assert_string_equal(json_string_value(json_object_get(m, "type")), "ValueError");
	{
		/* The traceback starts at the item and quotes its source. */
		char *tb = json_dumps(json_object_get(m, "exception"), 0);
		assert_non_null(strstr(tb, "Raises.py\\\", line 3"));
		assert_non_null(strstr(tb, "raise ValueError('boom')"));
		assert_null(strstr(tb, "runner_main"));
		free(tb);
	}
	json_decref(m);

	/* A crash of the item ends the item, not the loop. */
	line = run_line("Exits", "import os\nos._exit(7)\n", "");
	peer_send(&p, line);
	free(line);
	m = expect_end(&p, "crash");
	assert_int_equal(json_integer_value(json_object_get(m, "exitcode")), 7);
	json_decref(m);

	/* The loop's own timeout. */
	line = run_line("Loops", "while True:\n    pass\n", ",\"timeout\":1");
	peer_send(&p, line);
	free(line);
	json_decref(expect_end(&p, "timeout"));
	peer_stop(&p);
}

static void test_raw_protocol(void **state)
{
	(void)state;
	raw_protocol(python());
}

static void test_raw_protocol_python2(void **state)
{
	const char *py2 = getenv("DOCKERBUMP_TEST_PYTHON2");
	struct peer p;
	char *line;
	json_t *m;

	(void)state;
	if (!py2 || !*py2)
		skip();
	raw_protocol(py2);
	/* Python 2 code: the loop's own __future__ imports must not leak into it. */
	peer_start(&p, py2);
	line = run_line("PrintStatement", "print 'statement', 2\ndemisto.results(1 / 2)\n", "");
	peer_send(&p, line);
	free(line);
	/* Printed output and the protocol travel on different pipes: any order. */
	for (m = peer_recv(&p); strcmp(type_of(m), "completed"); m = peer_recv(&p)) {
		json_t *args = json_object_get(m, "args");
		if (!strcmp(type_of(m), "entryLog"))
			assert_string_equal(json_string_value(json_object_get(args, "message")),
			                    "statement 2");
		else if (!strcmp(type_of(m), "result"))
			assert_int_equal(json_integer_value(json_object_get(args, "results")), 0);
		else
			fail_msg("unexpected %s", type_of(m));
		json_decref(m);
	}
	json_decref(m);
	peer_stop(&p);
}

/* ---- outcomes through a session in local mode ---------------------------------------- */

static const char csp[] = "import sys\n"
                          "import demistomock as demisto\n"
                          "entryTypes = {'note': 1, 'error': 4}\n"
                          "def return_error(message):\n"
                          "    demisto.results({'Type': entryTypes['error'],\n"
                          "                     'ContentsFormat': 'text', 'Contents': message})\n"
                          "    sys.exit(0)\n"
                          "def return_results(result):\n"
                          "    demisto.results(result)\n"
                          "def _private_helper():\n"
                          "    return 'private'\n";

static const char mock[] = "def getCustomThing():\n"
                           "    return 42\n"
                           "def args():\n"
                           "    return {'from': 'the mock'}\n";

struct expect {
	const char *name;
	const char *code;
	int integration;
	enum verify_outcome outcome;
	const char *exception_type; /* or NULL */
	const char *in_log;         /* or NULL */
};

static const struct expect cases[] = {
    {"Ok",
     "from CommonServerPython import *\n"
     "import demistomock as demisto\n"
     "print('printed')\n"
     "demisto.info('informed %s', 'twice')\n"
     "res = demisto.executeCommand('getIncidents', {})\n"
     "assert isinstance(res, list) and res[0]['Type'] == 4\n"
     "return_results({'Type': 1, 'Contents': _private_helper()})\n"
     "assert demisto.incident()['id'] == '1'\n"
     "assert demisto.getLastRun() == {}\n"
     "assert demisto.args() == {}\n"
     "assert demisto.command() == ''\n",
     0, VERIFY_OUTCOME_OK, NULL, "[info] informed twice"},
    /* demisto.error() is a synchronous request named "error", like any other. */
    {"ErrorLog", "demisto.error('noted')\ndemisto.results('after the error log')\n", 0,
     VERIFY_OUTCOME_OK, NULL, "[error] noted"},
    {"Integration", "assert demisto.command() == 'test-module'\ndemisto.results('ok')\n", 1,
     VERIFY_OUTCOME_OK, NULL, "[result] \"ok\""},
    {"MockFallback", "assert demisto.getCustomThing() == 42\n", 0, VERIFY_OUTCOME_OK, NULL, NULL},
    {"ErrorEntry", "return_error('missing argument')\n", 0, VERIFY_OUTCOME_ERROR_ENTRY, NULL,
     "missing argument"},
    /* ModuleNotFoundError on Python 3, ImportError on Python 2. */
    {"Raises", "import no_such_module_xyz\n", 0, VERIFY_OUTCOME_EXCEPTION, "Error",
     "no_such_module_xyz"},
    {"NameError", "undefined_name_xyz()\n", 0, VERIFY_OUTCOME_EXCEPTION, "NameError", NULL},
    {"SyncError", "demisto.internalHttpRequest('GET', '/')\n", 0, VERIFY_OUTCOME_EXCEPTION,
     "SyncError", NULL},
    {"ExitZero", "import sys\ndemisto.results('before exit')\nsys.exit(0)\n", 0, VERIFY_OUTCOME_OK,
     NULL, "before exit"},
    {"ExitTwo", "import sys\nsys.exit(2)\n", 0, VERIFY_OUTCOME_EXCEPTION, "SystemExit", NULL},
    {"HardExit", "import os\nos._exit(3)\n", 0, VERIFY_OUTCOME_CRASH, NULL, "status 3"},
    {"Segfault", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", 0,
     VERIFY_OUTCOME_CRASH, NULL, "signal 11"},
    {"Garbage",
     "import os, sys\n"
     "os.write(1, b'not json\\n{\"type\": \"completed\"}\\n')\n"
     "print('{\"type\": \"exception\", \"args\": {}}')\n"
     "sys.stdout.flush()\n"
     "os.write(2, b'to stderr\\n')\n"
     "demisto.results('after garbage')\n",
     0, VERIFY_OUTCOME_OK, NULL, "after garbage"},
    {"ReadsStdin", "import sys\nassert sys.stdin.read() == ''\n", 0, VERIFY_OUTCOME_OK, NULL, NULL},
    {"Sleeps", "import time\ntime.sleep(3600)\n", 0, VERIFY_OUTCOME_TIMEOUT, NULL, NULL},
    {"Spews", "import sys\nfor i in range(100000):\n    sys.stdout.write('x' * 99 + '\\n')\n", 0,
     VERIFY_OUTCOME_CRASH, NULL, "output limit"},
    {"LeavesChild",
     "import os, time\n"
     "if os.fork() == 0:\n"
     "    time.sleep(3600)\n"
     "demisto.results('parent done')\n",
     0, VERIFY_OUTCOME_OK, NULL, "parent done"},
    /* Stops, then kills, the warm parent it was forked from (the same user): the next items
     * do not notice. (Cold, under Python 2, the parent is the loop: left alone here.) */
    {"StopsParent",
     "import os, signal\nppid = os.getppid()\n"
     "if 'zygote' in open('/proc/%d/cmdline' % ppid).read():\n"
     "    os.kill(ppid, signal.SIGSTOP)\n"
     "demisto.results('stopped')\n",
     0, VERIFY_OUTCOME_OK, NULL, "stopped"},
    {"AfterStopParent", "demisto.results('still here')\n", 0, VERIFY_OUTCOME_OK, NULL,
     "still here"},
    {"KillsParent",
     "import os, signal\nppid = os.getppid()\n"
     "if 'zygote' in open('/proc/%d/cmdline' % ppid).read():\n"
     "    os.kill(ppid, signal.SIGKILL)\n"
     "demisto.results('killed')\n",
     0, VERIFY_OUTCOME_OK, NULL, "killed"},
    {"AfterKillParent", "from CommonServerPython import *\nreturn_results(_private_helper())\n", 0,
     VERIFY_OUTCOME_OK, NULL, "private"},
    /* Stops the loop itself (here the same user): only the backstop on this side ends it,
     * then a new loop runs the next item. */
    {"StopsLoop",
     "import os, signal\n"
     "def parent(pid):\n"
     "    return int(open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[1])\n"
     "pid = os.getppid()\n"
     "if 'zygote' in open('/proc/%d/cmdline' % pid).read():\n"
     "    pid = parent(pid)\n"
     "os.kill(pid, signal.SIGSTOP)\n",
     0, VERIFY_OUTCOME_TIMEOUT, NULL, "container was killed"},
    {"AfterStop", "demisto.results('still here')\n", 0, VERIFY_OUTCOME_OK, NULL, "still here"},
    /* Strings JSON cannot carry, and more than a message may: escaped, cut, still outcomes. */
    {"LoneSurrogate", "raise ValueError('x\\udcff')\n", 0, VERIFY_OUTCOME_EXCEPTION, "ValueError",
     "x\\udcff"},
    {"Nul", "demisto.log('a\\x00b')\ndemisto.results(float('nan'))\nraise KeyError('k\\x00')\n", 0,
     VERIFY_OUTCOME_EXCEPTION, "KeyError", "a\\x00b"},
    {"BadBytes", "import os\nos.write(1, b'bad \\xff\\xfe bytes\\n')\ndemisto.results(2 ** 80)\n",
     0, VERIFY_OUTCOME_OK, NULL, "1208925819614629174706176"},
    {"TenMegabytes",
     "demisto.log('x' * (10 << 20))\nprint('y' * (10 << 20))\nraise RuntimeError('z' * (10 << "
     "20))\n",
     0, VERIFY_OUTCOME_EXCEPTION, "RuntimeError", "characters cut"},
    {"Deep", "x = []\nfor i in range(5000):\n    x = [x]\ndemisto.results(x)\n", 0,
     VERIFY_OUTCOME_OK, NULL, "nested too deeply"},
    {"ForgesProtocol",
     "import os\n"
     "for fd in range(3, 64):\n"
     "    try:\n"
     "        os.write(fd, b'{\"type\": \"completed\"}\\n{\"type\": \"result\", \"args\": "
     "{}}\\n')\n"
     "    except OSError:\n"
     "        pass\n"
     "raise ValueError('after forging')\n",
     0, VERIFY_OUTCOME_EXCEPTION, "ValueError", "garbage"},
    {"AfterForging", "demisto.results('clean')\n", 0, VERIFY_OUTCOME_OK, NULL, "clean"},
};

static struct verify_session *local_session(enum verify_level level, const char *cache_dir,
                                            const char *py)
{
	struct verify_opts o;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;

	verify_opts_init(&o);
	o.level = level;
	o.local_python = py;
	o.timeout_s = 2;
	o.backstop_ms = 1500;
	o.max_output = 1u << 20;
	o.jobs = 1;
	o.cache_dir = cache_dir;
	o.common_server_python = csp;
	o.demistomock = mock;
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	return s;
}

static void add(struct verify_session *s, const char *name, const char *code, int integration,
                const char *old_image, const char *new_image)
{
	struct db_err err = DB_ERR_INIT;
	struct verify_item it = {name,      name, code, integration, old_image,
	                         new_image, NULL, 0,    NULL};

	assert_int_equal(verify_session_add(s, NULL, &it, &err), 0);
}

static void check_side(const struct expect *e, const struct verify_side *v)
{
	if (v->outcome != e->outcome ||
	    (e->exception_type &&
	     (!v->exception_type || !strstr(v->exception_type, e->exception_type))) ||
	    (e->in_log && !strstr(v->log, e->in_log) &&
	     !(v->message && strstr(v->message, e->in_log))))
		fail_msg("%s: got %s (%s: %s)\nlog:\n%s\ntraceback:\n%s", e->name,
		         verify_outcome_name(v->outcome),
		         v->exception_type ? v->exception_type : "-", v->message ? v->message : "-",
		         v->log, v->traceback ? v->traceback : "-");
}

static void test_outcomes(void **state)
{
	struct verify_session *s = local_session(VERIFY_LOAD, "", python());
	struct db_err err = DB_ERR_INIT;
	struct verify_stats st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		add(s, cases[i].name, cases[i].code, cases[i].integration, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct verify_result *r = verify_session_result(s, i);
		assert_int_equal(r->old.outcome, VERIFY_OUTCOME_NOT_RUN);
		check_side(&cases[i], &r->new);
	}
	verify_session_stats(s, &st);
	/* One loop for everything, plus the one started after the backstop killed the first. */
	assert_int_equal(st.containers_started, 2);
	assert_int_equal(st.old_runs, 0);
	assert_int_equal(st.items_run, sizeof(cases) / sizeof(cases[0]));
	verify_session_free(s);
}

static void test_compile_level(void **state)
{
	struct verify_session *s = local_session(VERIFY_COMPILE, "", python());
	struct db_err err = DB_ERR_INIT;
	const struct verify_result *r;

	(void)state;
	add(s, "Syntax", "x = (\n", 0, NULL, "local/python:1");
	add(s, "NotRun", "raise ValueError('compiled, never run')\n", 0, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	r = verify_session_result(s, 0);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_EXCEPTION);
	assert_string_equal(r->new.exception_type, "SyntaxError");
	r = verify_session_result(s, 1);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_OK);
	verify_session_free(s);
}

static int can_import_pytest(const char *py)
{
	const char *argv[] = {py, "-c", "import pytest", NULL};
	struct proc_result r;
	struct db_err err = DB_ERR_INIT;
	int ok;

	proc_result_init(&r);
	ok = proc_run(&r, argv, NULL, 0, 30000, 4096, &err) == 0 && r.code == 0;
	proc_result_release(&r);
	return ok;
}

static void add_with_tests(struct verify_session *s, const char *name, const char *test_code)
{
	static const char code[] = "def add(a, b):\n    return a + b\n";
	struct verify_file files[2] = {{NULL, code, sizeof(code) - 1}, {NULL, test_code, 0}};
	char py[64], test[64];
	struct db_err err = DB_ERR_INIT;
	struct verify_item it = {name, name, code, 0, NULL, "local/python:1", files, 2, NULL};

	snprintf(py, sizeof(py), "%s.py", name);
	snprintf(test, sizeof(test), "%s_test.py", name);
	files[0].path = py;
	files[1].path = test;
	files[1].len = strlen(test_code);
	assert_int_equal(verify_session_add(s, NULL, &it, &err), 0);
}

static void test_tests_level(void **state)
{
	const char *candidates[] = {getenv("DOCKERBUMP_TEST_PYTEST_PYTHON"), "python3",
	                            "/usr/bin/python3"};
	const char *py = NULL;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	const struct verify_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < 3 && !py; i++)
		if (candidates[i] && *candidates[i] && can_import_pytest(candidates[i]))
			py = candidates[i];
	if (!py)
		skip();
	s = local_session(VERIFY_TESTS, "", py);
	add_with_tests(s, "Adds",
	               "from Adds import add\ndef test_add():\n    assert add(1, 2) == 3\n");
	add_with_tests(s, "Breaks",
	               "from Breaks import add\ndef test_add():\n    assert add(1, 2) == 4\n");
	add(s, "NoTests", "x = 1\n", 0, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	r = verify_session_result(s, 0);
	if (r->new.outcome != VERIFY_OUTCOME_OK)
		fail_msg("Adds: %s\n%s", verify_outcome_name(r->new.outcome), r->new.log);
	r = verify_session_result(s, 1);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_EXCEPTION);
	assert_string_equal(r->new.exception_type, "TestsFailed");
	r = verify_session_result(s, 2);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_SKIPPED);
	verify_session_free(s);
}

static void test_tests_level_without_pytest(void **state)
{
	char dir[] = "/tmp/dockerbump-nopytest.XXXXXX";
	char path[128];
	const char *old = getenv("PYTHONPATH");
	char *saved = old ? strdup(old) : NULL;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pytest.py", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("raise ImportError('no pytest in this image')\n", f);
	fclose(f);
	setenv("PYTHONPATH", dir, 1);
	s = local_session(VERIFY_TESTS, "", python());
	add_with_tests(s, "Adds", "def test_nothing():\n    pass\n");
	assert_int_equal(verify_session_run(s, &err), 0);
	assert_int_equal(verify_session_result(s, 0)->new.outcome, VERIFY_OUTCOME_SKIPPED);
	assert_non_null(strstr(verify_session_result(s, 0)->new.message, "pytest"));
	verify_session_free(s);
	if (saved)
		setenv("PYTHONPATH", saved, 1);
	else
		unsetenv("PYTHONPATH");
	free(saved);
	unlink(path);
	rmdir(dir);
}

/* Two images, one loop each; a second session over the same cache starts none. */
static void test_differential_and_cache(void **state)
{
	char dir[] = "/tmp/dockerbump-vcache.XXXXXX";
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	struct verify_stats st;
	int round;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (round = 0; round < 2; round++) {
		const struct verify_result *r;
		s = local_session(VERIFY_LOAD, dir, python());
		add(s, "Same", "demisto.results('same')\n", 0, "local/old:1", "local/new:2");
		add(s, "Fails", "undefined_name()\n", 0, "local/old:1", "local/new:2");
		assert_int_equal(verify_session_run(s, &err), 0);
		verify_session_stats(s, &st);
		/* Lazy: the old image only for the item that fails in the new one; the second
		 * round from the cache. */
		assert_int_equal(st.containers_started, round == 0 ? 2 : 0);
		assert_int_equal(st.items_run, round == 0 ? 3 : 0);
		assert_int_equal(st.old_runs, round == 0 ? 1 : 0);
		assert_int_equal(st.cache_hits, round == 0 ? 0 : 3);
		r = verify_session_result(s, 0);
		assert_int_equal(r->old.outcome, VERIFY_OUTCOME_NOT_RUN);
		assert_string_equal(r->old.image, "local/old:1");
		assert_int_equal(r->new.outcome, VERIFY_OUTCOME_OK);
		assert_int_equal(r->new.cached, round);
		assert_false(r->regressed);
		assert_false(verify_result_blocks(r));
		assert_null(r->why);
		r = verify_session_result(s, 1);
		assert_int_equal(r->old.outcome, VERIFY_OUTCOME_EXCEPTION);
		assert_int_equal(r->old.cached, round);
		assert_int_equal(r->new.outcome, VERIFY_OUTCOME_EXCEPTION);
		assert_string_equal(r->new.exception_type, "NameError");
		assert_false(r->regressed);
		assert_false(verify_result_blocks(r));
		verify_session_free(s);
	}
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};
		struct proc_result r;
		proc_result_init(&r);
		proc_run(&r, argv, NULL, 0, 10000, 1024, &err);
		proc_result_release(&r);
	}
}

/*
 * A loop that writes what the old one wrote for ValueError('x\udcff'), a lone surrogate that
 * jansson refuses, once: that item is a crash (a protocol violation, never ok), its container
 * is replaced, and the next item runs in the new one.
 */
static void test_unparseable_line_is_a_crash(void **state)
{
	static const char fake[] =
	    "import json, os, sys\n"
	    "h = b''\n"
	    "while not h.endswith(b'\\n'):\n"
	    "    h += os.read(0, 1)\n"
	    "n = int(h)\n"
	    "while n > 0:\n"
	    "    n -= len(os.read(0, n))\n"
	    "out = sys.stdout\n"
	    "out.write(json.dumps({'type': 'hello', 'args': {'protocol': 2}}) + '\\n')\n"
	    "out.flush()\n"
	    "mark = os.environ['DOCKERBUMP_TEST_MARK']\n"
	    "for line in sys.stdin:\n"
	    "    req = json.loads(line)\n"
	    "    if req.get('type') == 'exit':\n"
	    "        break\n"
	    "    if not os.path.exists(mark):\n"
	    "        open(mark, 'w').close()\n"
	    "        out.write('{\"type\": \"exception\", \"args\": {\"type\": \"ValueError\", '\n"
	    "                  '\"message\": \"x\\\\udcff\"}}\\n')\n"
	    "    else:\n"
	    "        out.write(json.dumps({'type': 'result', 'args': {'results': 'fine'}}) + "
	    "'\\n')\n"
	    "    out.write(json.dumps({'type': 'completed', 'args': {}}) + '\\n')\n"
	    "    out.flush()\n";
	char dir[] = "/tmp/dockerbump-fakeloop.XXXXXX", script[128], wrapper[128], mark[128];
	struct verify_opts o;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	struct verify_stats st;
	const struct verify_result *r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/fake.py", dir);
	snprintf(wrapper, sizeof(wrapper), "%s/python", dir);
	snprintf(mark, sizeof(mark), "%s/mark", dir);
	assert_non_null(f = fopen(script, "w"));
	fputs(fake, f);
	fclose(f);
	/* Called as `python -c BOOTSTRAP`: runs the fake loop instead (the engine's check that
	 * the interpreter runs goes to the real one). */
	assert_non_null(f = fopen(wrapper, "w"));
	fprintf(f,
	        "#!/bin/sh\ncase \"$2\" in 'import json, select') exec '%s' \"$@\";; esac\n"
	        "exec '%s' '%s'\n",
	        python(), python(), script);
	fclose(f);
	assert_int_equal(chmod(wrapper, 0755), 0);
	setenv("DOCKERBUMP_TEST_MARK", mark, 1);
	verify_opts_init(&o);
	o.local_python = wrapper;
	o.cache_dir = "";
	o.timeout_s = 5;
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	add(s, "Surrogate", "raise ValueError('x\\udcff')\n", 0, NULL, "local/python:1");
	add(s, "Next", "demisto.results('fine')\n", 0, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	r = verify_session_result(s, 0);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_CRASH);
	assert_non_null(strstr(r->new.message, "protocol violation"));
	r = verify_session_result(s, 1);
	assert_int_equal(r->new.outcome, VERIFY_OUTCOME_OK);
	verify_session_stats(s, &st);
	assert_int_equal(st.containers_started, 2);
	verify_session_free(s);
	unsetenv("DOCKERBUMP_TEST_MARK");
	unlink(mark);
	unlink(script);
	unlink(wrapper);
	rmdir(dir);
}

/* Code (and modules) far longer than any message the loop sends reach the item whole. */
static void test_long_code(void **state)
{
	struct verify_session *s = local_session(VERIFY_LOAD, "", python());
	struct db_err err = DB_ERR_INIT;
	struct buf code = BUF_INIT;
	const struct verify_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		buf_addf(&code,
		         "value_%zu = %zu  # padding the source past what a message carries\n", i,
		         i);
	buf_adds(&code, "demisto.results('last line: %d' % value_19999)\n");
	add(s, "Long", code.ptr, 0, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	r = verify_session_result(s, 0);
	if (r->new.outcome != VERIFY_OUTCOME_OK || !strstr(r->new.log, "last line: 19999"))
		fail_msg("Long: %s %s\n%s", verify_outcome_name(r->new.outcome),
		         r->new.message ? r->new.message : "", r->new.log);
	buf_release(&code);
	verify_session_free(s);
}

/* The benchmark's baseline: a new loop for every item. */
static void test_no_reuse(void **state)
{
	struct verify_opts o;
	struct verify_session *s;
	struct db_err err = DB_ERR_INIT;
	struct verify_stats st;
	size_t i;

	(void)state;
	verify_opts_init(&o);
	o.local_python = python();
	o.cache_dir = "";
	o.no_reuse = 1;
	assert_int_equal(verify_session_new(&s, &o, &err), 0);
	for (i = 0; i < 3; i++)
		add(s, "Each", "demisto.results('own loop')\n", 0, NULL, "local/python:1");
	assert_int_equal(verify_session_run(s, &err), 0);
	verify_session_stats(s, &st);
	assert_int_equal(st.containers_started, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(verify_session_result(s, i)->new.outcome, VERIFY_OUTCOME_OK);
	verify_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw_protocol),
	    cmocka_unit_test(test_raw_protocol_python2),
	    cmocka_unit_test(test_outcomes),
	    cmocka_unit_test(test_compile_level),
	    cmocka_unit_test(test_tests_level),
	    cmocka_unit_test(test_tests_level_without_pytest),
	    cmocka_unit_test(test_differential_and_cache),
	    cmocka_unit_test(test_long_code),
	    cmocka_unit_test(test_unparseable_line_is_a_crash),
	    cmocka_unit_test(test_no_reuse),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	free(python_path);
	return failed;
}

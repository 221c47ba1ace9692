/*
 * The GitHub pull request flow (updater/pr_github.c) end to end against tests/stubs/ghstub.py,
 * an in-memory GitHub started on loopback by this test and stopped by its PID.
 *
 * Every test resets the stand-in, runs the client with debug logging captured from stderr,
 * and then checks the stand-in's state and request log. After each test, everything the
 * client logged and everything the stand-in recorded is searched for the token.
 *
 * Skips when python3 is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/log.h"
#include "updater/pr_github.h"

extern char **environ;

/* Distinctive, so that a search for it cannot match anything else. */
#define TOKEN     "ghp_dockerbumpTEST0token0Zq8Xv"
#define TOKEN_ENV "DOCKERBUMP_TEST_GITHUB_TOKEN"
#define REPO      "demisto/content"

struct stub {
	pid_t pid;
	char dir[256];
	char base[128];    /* http://127.0.0.1:PORT */
	char api_url[160]; /* base + /api/v3 */
	char host[64];     /* 127.0.0.1:PORT */
	struct http_client *http;
	/* stderr while the client runs */
	int saved_stderr;
	char capture[320];
};

static struct stub stub;
static int no_stub;

/* --- the stand-in ------------------------------------------------------------------- */

static int start_stub(void **state)
{
	char port_file[300], log_file[300], parent[32], port[16] = "";
	char script[512];
	char *argv[] = {"python3",  script,     "--port-file", port_file, "--log",
	                log_file,   "--repo",   REPO,          "--repo",  "other/repo",
	                "--prefix", "/api/v3",  "--token-env", TOKEN_ENV, "--lifetime",
	                "600",      "--parent", parent,        NULL};
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	int i;
	(void)state;

	setenv(TOKEN_ENV, TOKEN, 1);
	snprintf(stub.dir, sizeof(stub.dir), "%s/dbpr.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(stub.dir))
		return -1;
	snprintf(script, sizeof(script), "%s/tests/stubs/ghstub.py", DOCKERBUMP_SOURCE_DIR);
	snprintf(port_file, sizeof(port_file), "%s/port", stub.dir);
	snprintf(log_file, sizeof(log_file), "%s/requests.jsonl", stub.dir);
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	if (posix_spawnp(&stub.pid, "python3", NULL, NULL, argv, environ)) {
		no_stub = 1;
		return 0;
	}
	/* python3 may start slowly (version-manager shims): wait up to 30 s. */
	for (i = 0; i < 300 && !file_exists(port_file); i++)
		usleep(100000);
	if (file_read(&b, port_file, 64, &err) < 0 || !b.len) {
		print_error("ghstub did not start: %s\n", err.msg);
		buf_release(&b);
		no_stub = 1;
		return 0;
	}
	buf_rtrim(&b);
	snprintf(port, sizeof(port), "%s", b.ptr);
	buf_release(&b);
	snprintf(stub.host, sizeof(stub.host), "127.0.0.1:%s", port);
	snprintf(stub.base, sizeof(stub.base), "http://%s", stub.host);
	snprintf(stub.api_url, sizeof(stub.api_url), "%s/api/v3", stub.base);
	snprintf(stub.capture, sizeof(stub.capture), "%s/stderr.log", stub.dir);
	return http_client_new(&stub.http, NULL, &err);
}

static int stop_stub(void **state)
{
	(void)state;
	if (stub.pid > 0) {
		kill(stub.pid, SIGTERM);
		waitpid(stub.pid, NULL, 0);
	}
	http_client_free(stub.http);
	return 0;
}

/* A control call; the answer's JSON, or NULL. The caller decrefs it. */
static json_t *control(const char *method, const char *path, const char *body)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	struct buf url = BUF_INIT;
	struct http_request req = {0};
	json_t *out = NULL;

	buf_addf(&url, "%s%s", stub.base, path);
	req.method = method;
	req.url = url.ptr;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	if (http_request(stub.http, &res, &req, &err) == 0 && res.status / 100 == 2)
		out = json_loadb(res.body.ptr, res.body.len, 0, NULL);
	else
		print_error("ghstub control %s %s: %ld %s\n", method, path, res.status, err.msg);
	http_response_release(&res);
	buf_release(&url);
	return out;
}

static void fault(const char *json)
{
	json_decref(control("POST", "/_stub/faults", json));
}

static json_t *stub_pulls(const char *repo)
{
	json_t *state = control("GET", "/_stub/state", NULL);
	json_t *pulls = json_incref(
	    json_object_get(json_object_get(json_object_get(state, "repos"), repo), "pulls"));
	json_decref(state);
	return pulls;
}

/* The requests the stand-in saw, optionally only those with this method and path. */
static json_t *requests(const char *method, const char *path)
{
	json_t *log = control("GET", "/_stub/log", NULL), *out = json_array(), *e;
	size_t i;

	json_array_foreach(log, i, e)
	{
		if (method && strcmp(json_string_value(json_object_get(e, "method")), method))
			continue;
		if (path && strcmp(json_string_value(json_object_get(e, "path")), path))
			continue;
		json_array_append(out, e);
	}
	json_decref(log);
	return out;
}

static size_t count_requests(const char *method, const char *path)
{
	json_t *r = requests(method, path);
	size_t n = json_array_size(r);
	json_decref(r);
	return n;
}

/* --- stderr capture and the token search ---------------------------------------------- */

static void capture_begin(void)
{
	int fd = open(stub.capture, O_WRONLY | O_CREAT | O_APPEND, 0600);

	fflush(stderr);
	stub.saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	log_setup(&(struct log_config){.level = LOG_DEBUG});
}

static void capture_end(void)
{
	log_setup(&(struct log_config){.level = LOG_INFO});
	fflush(stderr);
	dup2(stub.saved_stderr, 2);
	close(stub.saved_stderr);
}

/* Searches the whole file, NUL bytes and all. */
static void assert_file_lacks_token(const char *path)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	size_t i, n = strlen(TOKEN);

	if (file_read(&b, path, 0, &err) == 0)
		for (i = 0; i + n <= b.len; i++)
			if (!memcmp(b.ptr + i, TOKEN, n))
				fail_msg("the token appears in '%s'", path);
	buf_release(&b);
}

static int before(void **state)
{
	(void)state;
	if (no_stub)
		return 0;
	json_decref(control("POST", "/_stub/reset", "{}"));
	unlink(stub.capture);
	return 0;
}

static int after(void **state)
{
	char path[320];
	(void)state;

	if (no_stub)
		return 0;
	assert_file_lacks_token(stub.capture);
	snprintf(path, sizeof(path), "%s/requests.jsonl", stub.dir);
	assert_file_lacks_token(path);
	return 0;
}

#define NEED_STUB()                                                                                \
	do {                                                                                       \
		if (no_stub)                                                                       \
			skip();                                                                    \
	} while (0)

/* --- the client under test ------------------------------------------------------------ */

static struct pr_github *client_with(const char *token_env)
{
	struct pr_github_opts opts = {0};
	struct pr_github *gh = NULL;
	struct db_err err = DB_ERR_INIT;

	opts.api_url = stub.api_url;
	opts.token_env = token_env;
	opts.http.retries = 3;
	opts.http.retry_base_ms = 5;
	opts.http.retry_cap_ms = 20; /* a Retry-After of 1 s waits 20 ms */
	opts.http.timeout_ms = 20000;
	opts.rate_retries = 3;
	opts.rate_wait_cap_ms = 20;
	opts.rate_wait_budget_ms = 600000;
	opts.write_gap_ms = -1;
	if (pr_github_new(&gh, &opts, &err) < 0)
		fail_msg("pr_github_new: %s", err.msg);
	return gh;
}

static struct pr_github *client(void)
{
	return client_with(TOKEN_ENV);
}

static struct strlist labels;

static const struct pr_item py3_items[] = {
    {"HelloWorld", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld", NULL,
     "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
    {"Broken", "Packs/Tools/Scripts/Broken/Broken.yml", "Tools", NULL, "3.10.13.83255", NULL, "ok",
     "exception (ImportError)", 1, "ImportError: No module named 'six'\n"},
};
static const struct pr_item py2_items[] = {
    {"Legacy", "Packs/Legacy/Scripts/script-Legacy.yml", "Legacy", NULL, "2.7.18.24398", NULL, "ok",
     "ok", 0, NULL},
};

static struct pr_request py3_request(const char *tag)
{
	struct pr_request req = {REPO,      "dockerbump/demisto-python3-batch-1",
	                         "master",  "demisto/python3",
	                         tag,       1,
	                         0,         &labels,
	                         py3_items, 2};
	return req;
}

static struct pr_request py2_request(const char *tag)
{
	struct pr_request req = {REPO,      "dockerbump/demisto-python-batch-1",
	                         "master",  "demisto/python",
	                         tag,       1,
	                         1,         &labels,
	                         py2_items, 1};
	return req;
}

/* Submits and expects success; returns the result. */
static struct pr_result submit_ok(struct pr_github *gh, const struct pr_request *req)
{
	struct pr_result res = PR_RESULT_INIT;
	struct db_err err = DB_ERR_INIT;
	int ret;

	capture_begin();
	ret = pr_github_submit(gh, &res, req, &err);
	capture_end();
	if (ret < 0)
		fail_msg("submit '%s': %s", req->head, err.msg);
	assert_null(strstr(res.url, TOKEN));
	return res;
}

/* Submits and expects `code`; the message is left in `err`. */
static void submit_fails(struct pr_github *gh, const struct pr_request *req, int code,
                         struct db_err *err)
{
	struct pr_result res = PR_RESULT_INIT;
	int ret;

	capture_begin();
	ret = pr_github_submit(gh, &res, req, err);
	capture_end();
	if (ret != code)
		fail_msg("submit '%s': expected %d, got %d (%s)", req->head, code, ret, err->msg);
	assert_int_equal(err->code, code);
	assert_null(res.url);
	assert_null(strstr(err->msg, TOKEN));
}

static const json_t *pull_by_head(const json_t *pulls, const char *head)
{
	const json_t *p;
	size_t i;

	json_array_foreach(pulls, i, p)
	{
		if (!strcmp(json_string_value(json_object_get(json_object_get(p, "head"), "ref")),
		            head))
			return p;
	}
	return NULL;
}

static int has_label(const json_t *pr, const char *name)
{
	const json_t *l;
	size_t i;

	json_array_foreach(json_object_get(pr, "labels"), i, l)
	{
		if (!strcmp(json_string_value(json_object_get(l, "name")), name))
			return 1;
	}
	return 0;
}

/* --- the tests ------------------------------------------------------------------------ */

/* First run: one pull request per branch, with title, head, base, draft, body and labels,
 * and every request carries GitHub's required headers. */
static void test_first_run_creates_one_pr_per_branch(void **state)
{
	struct pr_github *gh;
	struct pr_request r1 = py3_request("3.11.10.113941"), r2 = py2_request("2.7.18.24399");
	struct pr_result a, b;
	json_t *pulls, *log, *e;
	const json_t *p;
	struct buf want = BUF_INIT;
	size_t i;
	(void)state;
	NEED_STUB();

	gh = client();
	a = submit_ok(gh, &r1);
	b = submit_ok(gh, &r2);
	assert_int_equal(a.outcome, PR_CREATED);
	assert_int_equal(b.outcome, PR_CREATED);
	assert_int_not_equal(a.number, b.number);
	buf_addf(&want, "%s/%s/pull/%ld", stub.base, REPO, a.number);
	assert_string_equal(a.url, want.ptr);

	pulls = stub_pulls(REPO);
	assert_int_equal(json_array_size(pulls), 2);
	p = pull_by_head(pulls, "dockerbump/demisto-python3-batch-1");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "title")),
	                    "Update demisto/python3 to 3.11.10.113941 (batch 1)");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "base"), "ref")),
	                    "master");
	assert_false(json_is_true(json_object_get(p, "draft")));
	buf_reset(&want);
	pr_format_body(&want, &r1);
	assert_string_equal(json_string_value(json_object_get(p, "body")), want.ptr);
	assert_true(has_label(p, "docker-image-auto-update"));
	assert_true(has_label(p, "ready-for-review"));
	p = pull_by_head(pulls, "dockerbump/demisto-python-batch-1");
	assert_non_null(p);
	assert_true(json_is_true(json_object_get(p, "draft")));
	assert_true(has_label(p, "docker-image-auto-update"));

	assert_int_equal(count_requests("POST", "/repos/demisto/content/pulls"), 2);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/issues/1/labels"), 1);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/issues/2/labels"), 1);
	log = requests(NULL, NULL);
	json_array_foreach(log, i, e)
	{
		const json_t *h = json_object_get(e, "headers");
		const char *ua = json_string_value(json_object_get(h, "user-agent"));
		assert_non_null(ua);
		assert_int_equal(strncmp(ua, "dockerbump/", 11), 0);
		assert_string_equal(json_string_value(json_object_get(h, "accept")),
		                    "application/vnd.github+json");
		assert_string_equal(json_string_value(json_object_get(h, "x-github-api-version")),
		                    "2022-11-28");
		assert_string_equal(json_string_value(json_object_get(h, "authorization")),
		                    "[expected token]");
	}
	/* The list is filtered on owner:branch and open pull requests. */
	e = json_array_get(log, 0);
	assert_string_equal(json_string_value(json_object_get(e, "method")), "GET");
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(json_object_get(e, "query"), "head"), 0)),
	                    "demisto:dockerbump/demisto-python3-batch-1");
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(json_object_get(e, "query"), "state"), 0)),
	                    "open");

	json_decref(log);
	json_decref(pulls);
	buf_release(&want);
	pr_result_release(&a);
	pr_result_release(&b);
	pr_github_free(gh);
}

/* Second run with a newer tag: the same pull requests are edited, none is opened; a third
 * run with the same plan writes nothing at all. */
static void test_newer_tag_updates_the_same_prs(void **state)
{
	struct pr_github *gh;
	struct pr_request r1 = py3_request("3.11.10.113941"), r2 = py2_request("2.7.18.24399");
	struct pr_result a, b, c, d;
	json_t *pulls;
	size_t writes;
	(void)state;
	NEED_STUB();

	gh = client();
	a = submit_ok(gh, &r1);
	b = submit_ok(gh, &r2);
	r1.tag = "3.11.10.116949";
	r2.tag = "2.7.18.25000";
	c = submit_ok(gh, &r1);
	d = submit_ok(gh, &r2);
	assert_int_equal(c.outcome, PR_UPDATED);
	assert_int_equal(d.outcome, PR_UPDATED);
	assert_int_equal(c.number, a.number);
	assert_int_equal(d.number, b.number);
	assert_string_equal(c.url, a.url);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/pulls"), 2);
	assert_int_equal(count_requests("PATCH", NULL), 2);
	/* Labels were there already: not added again. */
	assert_int_equal(count_requests("POST", "/repos/demisto/content/issues/1/labels"), 1);

	pulls = stub_pulls(REPO);
	assert_int_equal(json_array_size(pulls), 2);
	assert_string_equal(
	    json_string_value(json_object_get(
	        pull_by_head(pulls, "dockerbump/demisto-python3-batch-1"), "title")),
	    "Update demisto/python3 to 3.11.10.116949 (batch 1)");
	assert_non_null(
	    strstr(json_string_value(json_object_get(
	               pull_by_head(pulls, "dockerbump/demisto-python3-batch-1"), "body")),
	           "3.11.10.116949"));
	json_decref(pulls);

	pr_result_release(&c);
	writes = count_requests("POST", NULL) + count_requests("PATCH", NULL);
	c = submit_ok(gh, &r1);
	assert_int_equal(c.outcome, PR_UNCHANGED);
	assert_int_equal(c.number, a.number);
	assert_int_equal(count_requests("POST", NULL) + count_requests("PATCH", NULL), writes);

	pr_result_release(&a);
	pr_result_release(&b);
	pr_result_release(&c);
	pr_result_release(&d);
	pr_github_free(gh);
}

/* Someone opened the pull request between our list and our create: the 422 "already exists"
 * is resolved by finding that one and bringing it up to date. */
static void test_already_exists_is_found_and_updated(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct pr_result res;
	json_t *pulls, *post;
	(void)state;
	NEED_STUB();

	fault("{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"exists\"}");
	gh = client();
	res = submit_ok(gh, &req);
	assert_int_equal(res.outcome, PR_UPDATED);
	post = requests("POST", "/repos/demisto/content/pulls");
	assert_int_equal(json_array_size(post), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(post, 0), "status")),
	                 422);
	assert_int_equal(count_requests("GET", "/repos/demisto/content/pulls"), 2);

	pulls = stub_pulls(REPO);
	assert_int_equal(json_array_size(pulls), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pulls, 0), "number")),
	                 res.number);
	assert_true(has_label(json_array_get(pulls, 0), "docker-image-auto-update"));
	json_decref(pulls);
	json_decref(post);
	pr_result_release(&res);
	pr_github_free(gh);
}

/* An open pull request of the branch that was opened against another base is retargeted. */
static void test_existing_pr_into_old_base_is_retargeted(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct pr_result res;
	json_t *pulls, *patch;
	(void)state;
	NEED_STUB();

	json_decref(control("POST", "/_stub/pulls",
	                    "{\"repo\": \"demisto/content\", \"head\": "
	                    "\"dockerbump/demisto-python3-batch-1\", \"base\": \"old-main\", "
	                    "\"title\": \"old\", \"labels\": [\"Docker-Image-Auto-Update\"]}"));
	gh = client();
	res = submit_ok(gh, &req);
	assert_int_equal(res.outcome, PR_UPDATED);
	assert_int_equal(res.number, 1);
	patch = requests("PATCH", "/repos/demisto/content/pulls/1");
	assert_int_equal(json_array_size(patch), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(patch, 0), "body"), "base")),
	                    "master");
	/* Label names compare without case: only the missing one is added. */
	json_decref(patch);
	patch = requests("POST", "/repos/demisto/content/issues/1/labels");
	assert_int_equal(json_array_size(patch), 1);
	assert_int_equal(json_array_size(json_object_get(
	                     json_object_get(json_array_get(patch, 0), "body"), "labels")),
	                 1);
	pulls = stub_pulls(REPO);
	assert_int_equal(json_array_size(pulls), 1);
	json_decref(pulls);
	json_decref(patch);
	pr_result_release(&res);
	pr_github_free(gh);
}

static void test_refused_token_names_the_host(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct db_err err = DB_ERR_INIT;
	struct buf want = BUF_INIT;
	(void)state;
	NEED_STUB();

	setenv("DOCKERBUMP_TEST_WRONG_TOKEN", "ghp_not_the_right_one", 1);
	gh = client_with("DOCKERBUMP_TEST_WRONG_TOKEN");
	submit_fails(gh, &req, DB_EAUTH, &err);
	buf_addf(&want, "github at '%s' refused the token (401)", stub.host);
	assert_non_null(strstr(err.msg, want.ptr));
	assert_null(strstr(err.msg, "ghp_not_the_right_one"));
	buf_release(&want);
	pr_github_free(gh);
}

static void test_missing_token(void **state)
{
	struct pr_github_opts opts = {0};
	struct pr_github *gh = NULL;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
	opts.api_url = "https://ghe.example.com/api/v3";
	opts.token_env = "DOCKERBUMP_TEST_NO_TOKEN";
	assert_int_equal(pr_github_new(&gh, &opts, &err), DB_EAUTH);
	assert_null(gh);
	assert_non_null(strstr(err.msg, "'DOCKERBUMP_TEST_NO_TOKEN'"));

	db_err_clear(&err);
	setenv("DOCKERBUMP_TEST_NO_TOKEN", "abc\r\nX-Injected: 1", 1);
	assert_int_equal(pr_github_new(&gh, &opts, &err), DB_EAUTH);
	assert_null(strstr(err.msg, "X-Injected"));

	db_err_clear(&err);
	opts.api_url = "ftp://ghe.example.com/api/v3";
	assert_int_equal(pr_github_new(&gh, &opts, &err), DB_EUSAGE);
	db_err_clear(&err);
	opts.api_url = "https://user:pw@ghe.example.com/api/v3";
	assert_int_equal(pr_github_new(&gh, &opts, &err), DB_EUSAGE);
	assert_null(strstr(err.msg, "pw@"));
	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
}

static void test_unknown_repo_is_not_found(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct db_err err = DB_ERR_INIT;
	(void)state;
	NEED_STUB();

	req.repo = "demisto/no-such-repo";
	gh = client();
	submit_fails(gh, &req, DB_ENOTFOUND, &err);
	assert_non_null(strstr(err.msg, "'demisto/no-such-repo'"));
	assert_non_null(strstr(err.msg, stub.host));
	assert_non_null(strstr(err.msg, "token"));

	db_err_clear(&err);
	req.repo = "not a repo";
	submit_fails(gh, &req, DB_EUSAGE, &err);
	assert_non_null(strstr(err.msg, "'not a repo'"));
	pr_github_free(gh);
}

/* 429 with retry-after: waited out (capped to milliseconds here), then it works. */
static void test_429_is_waited_out(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct pr_result res;
	(void)state;
	NEED_STUB();

	fault("{\"method\": \"GET\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"429\", \"times\": 2, \"retry_after\": 1}");
	fault("{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"429\", \"times\": 1, \"retry_after\": 1}");
	gh = client();
	res = submit_ok(gh, &req);
	assert_int_equal(res.outcome, PR_CREATED);
	assert_int_equal(count_requests("GET", "/repos/demisto/content/pulls"), 3);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/pulls"), 2);
	pr_result_release(&res);
	pr_github_free(gh);
}

/* 403 secondary limits: retry-after, and x-ratelimit-remaining 0 with x-ratelimit-reset. */
static void test_403_rate_limits_are_waited_out(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct pr_result res;
	struct buf captured = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	(void)state;
	NEED_STUB();

	fault("{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"403-retry\", \"retry_after\": 1}");
	fault("{\"method\": \"POST\", \"path\": \"/repos/demisto/content/issues/1/labels\", "
	      "\"kind\": \"403-reset\", \"reset_in\": 1}");
	gh = client();
	res = submit_ok(gh, &req);
	assert_int_equal(res.outcome, PR_CREATED);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/pulls"), 2);
	assert_int_equal(count_requests("POST", "/repos/demisto/content/issues/1/labels"), 2);
	/* The wait is said, at info level. */
	assert_int_equal(file_read(&captured, stub.capture, 0, &err), 0);
	assert_non_null(strstr(captured.ptr, "rate-limits POST"));
	buf_release(&captured);
	pr_result_release(&res);
	pr_github_free(gh);
}

/* A fault on one request and the error it must turn into: code, words in the message, and
 * how many times the request was sent (no retry where a retry cannot help). */
static const struct {
	const char *fault, *method, *path;
	int code;
	const char *words;
	size_t sent;
} fault_cases[] = {
    {"{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": \"401\"}",
     "POST", "/repos/demisto/content/pulls", DB_EAUTH, "refused the token (401)", 1},
    {"{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": \"403\"}",
     "POST", "/repos/demisto/content/pulls", DB_EAUTH,
     "(403: Resource not accessible by personal access token)", 1},
    {"{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": \"422\"}",
     "POST", "/repos/demisto/content/pulls", DB_ECONFLICT,
     "(422: Validation Failed; No commits between master and the head branch)", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": \"404\"}", "GET",
     "/repos/demisto/content/pulls", DB_ENOTFOUND, "repository 'demisto/content' not found", 1},
    {"{\"method\": \"PATCH\", \"path\": \"/repos/demisto/content/pulls/1\", \"kind\": "
     "\"404\"}",
     "PATCH", "/repos/demisto/content/pulls/1", DB_ENOTFOUND, "(404 on PATCH '", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
     "\"badjson\"}",
     "GET", "/repos/demisto/content/pulls", DB_EPARSE, "with invalid JSON", 1},
};

/* Each fault on its own: the error names the host and says what went wrong. */
static void test_faults_become_clear_errors(void **state)
{
	size_t i;
	(void)state;
	NEED_STUB();

	for (i = 0; i < sizeof(fault_cases) / sizeof(*fault_cases); i++) {
		struct pr_request req = py3_request("3.11.10.113941");
		struct db_err err = DB_ERR_INIT;
		struct pr_github *gh = client();

		json_decref(control("POST", "/_stub/reset", "{}"));
		/* The PATCH case needs a pull request to update. */
		json_decref(
		    control("POST", "/_stub/pulls",
		            "{\"repo\": \"demisto/content\", \"head\": "
		            "\"dockerbump/demisto-python3-batch-9\", \"base\": \"master\"}"));
		if (strstr(fault_cases[i].path, "pulls/1"))
			req.head = "dockerbump/demisto-python3-batch-9";
		fault(fault_cases[i].fault);
		submit_fails(gh, &req, fault_cases[i].code, &err);
		if (!strstr(err.msg, fault_cases[i].words) || !strstr(err.msg, stub.host))
			fail_msg("case %zu: '%s' lacks '%s' or the host", i, err.msg,
			         fault_cases[i].words);
		if (count_requests(fault_cases[i].method, fault_cases[i].path) !=
		    fault_cases[i].sent)
			fail_msg("case %zu: %s '%s' was not sent %zu times", i,
			         fault_cases[i].method, fault_cases[i].path, fault_cases[i].sent);
		pr_github_free(gh);
	}
}

/* A rate limit that never lifts, and a server that keeps failing: errors after a bounded
 * number of tries, naming the URL without its query. */
static void test_endless_failures_are_bounded(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct db_err err = DB_ERR_INIT;
	struct buf want = BUF_INIT;
	(void)state;
	NEED_STUB();

	fault("{\"method\": \"GET\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"500\", \"times\": -1}");
	gh = client();
	submit_fails(gh, &req, DB_ENET, &err);
	buf_addf(&want, "'%s/repos/demisto/content/pulls'", stub.api_url);
	assert_non_null(strstr(err.msg, want.ptr));
	assert_non_null(strstr(err.msg, "500"));
	assert_null(strstr(err.msg, "head="));
	assert_int_equal(count_requests("GET", NULL), 4); /* 1 + http.retries */

	json_decref(control("POST", "/_stub/reset", "{}"));
	db_err_clear(&err);
	fault("{\"method\": \"*\", \"path\": \".*\", \"kind\": \"403-retry\", \"times\": -1}");
	submit_fails(gh, &req, DB_ENET, &err);
	assert_non_null(strstr(err.msg, "rate-limiting"));
	assert_int_equal(count_requests("GET", NULL), 4); /* 1 + rate_retries */

	json_decref(control("POST", "/_stub/reset", "{}"));
	db_err_clear(&err);
	fault("{\"method\": \"*\", \"path\": \".*\", \"kind\": \"429\", \"times\": -1}");
	submit_fails(gh, &req, DB_ENET, &err);
	/* http.c's retries inside, ours outside: bounded both ways. */
	assert_int_equal(count_requests("GET", NULL), 16);
	buf_release(&want);
	pr_github_free(gh);
}

/* A redirect to another host: libcurl does not send the token there, and the answer is not
 * trusted. */
static void test_redirect_to_another_host_is_refused(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct db_err err = DB_ERR_INIT;
	json_t *log, *e;
	size_t i, redirected = 0;
	(void)state;
	NEED_STUB();

	fault("{\"method\": \"GET\", \"path\": \"/repos/demisto/content/pulls\", \"kind\": "
	      "\"redirect\"}");
	gh = client();
	submit_fails(gh, &req, DB_ENET, &err);
	assert_non_null(strstr(err.msg, "redirected to another host"));
	log = requests("GET", "/repos/demisto/content/pulls");
	json_array_foreach(log, i, e)
	{
		const char *host = json_string_value(json_object_get(e, "host"));
		if (strncmp(host, "localhost:", 10))
			continue;
		redirected++;
		assert_null(json_object_get(json_object_get(e, "headers"), "authorization"));
	}
	/* The stand-in answers 401 there; what matters is that it got there without the token. */
	assert_true(redirected >= 1);
	json_decref(log);
	pr_github_free(gh);
}

struct job {
	struct pr_github *gh;
	struct pr_request req;
	struct pr_result res;
	struct db_err err;
	int ret;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->ret = pr_github_submit(j->gh, &j->res, &j->req, &j->err);
	return NULL;
}

/* Two threads submitting at once: the stand-in never sees two writes in flight. */
static void test_writes_never_overlap(void **state)
{
	struct pr_github *gh;
	struct job jobs[3];
	pthread_t t[3];
	json_t *st;
	char heads[3][64];
	int i;
	(void)state;
	NEED_STUB();

	gh = client();
	for (i = 0; i < 3; i++) {
		snprintf(heads[i], sizeof(heads[i]), "dockerbump/demisto-python3-batch-%d", i + 1);
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].gh = gh;
		jobs[i].req = py3_request("3.11.10.113941");
		jobs[i].req.head = heads[i];
		jobs[i].req.batch = i + 1;
	}
	capture_begin();
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	capture_end();
	for (i = 0; i < 3; i++) {
		if (jobs[i].ret)
			fail_msg("%s: %s", heads[i], jobs[i].err.msg);
		assert_int_equal(jobs[i].res.outcome, PR_CREATED);
		pr_result_release(&jobs[i].res);
	}
	st = control("GET", "/_stub/state", NULL);
	assert_int_equal(json_integer_value(json_object_get(st, "max_concurrent_writes")), 1);
	json_decref(st);
	pr_github_free(gh);
}

/* Debug logging is on in every test; it says what was sent without the token. */
static void test_debug_log_names_requests_not_the_token(void **state)
{
	struct pr_github *gh;
	struct pr_request req = py3_request("3.11.10.113941");
	struct pr_result res;
	struct buf captured = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	(void)state;
	NEED_STUB();

	gh = client();
	res = submit_ok(gh, &req);
	assert_int_equal(file_read(&captured, stub.capture, 0, &err), 0);
	assert_non_null(strstr(captured.ptr, "GET '"));
	assert_non_null(strstr(captured.ptr, "POST '"));
	assert_non_null(strstr(captured.ptr, "created"));
	assert_null(strstr(captured.ptr, TOKEN));
	assert_null(strstr(captured.ptr, "Bearer"));
	buf_release(&captured);
	pr_result_release(&res);
	pr_github_free(gh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_run_creates_one_pr_per_branch, before,
	                                    after),
	    cmocka_unit_test_setup_teardown(test_newer_tag_updates_the_same_prs, before, after),
	    cmocka_unit_test_setup_teardown(test_already_exists_is_found_and_updated, before,
	                                    after),
	    cmocka_unit_test_setup_teardown(test_existing_pr_into_old_base_is_retargeted, before,
	                                    after),
	    cmocka_unit_test_setup_teardown(test_refused_token_names_the_host, before, after),
	    cmocka_unit_test(test_missing_token),
	    cmocka_unit_test_setup_teardown(test_unknown_repo_is_not_found, before, after),
	    cmocka_unit_test_setup_teardown(test_429_is_waited_out, before, after),
	    cmocka_unit_test_setup_teardown(test_403_rate_limits_are_waited_out, before, after),
	    cmocka_unit_test_setup_teardown(test_faults_become_clear_errors, before, after),
	    cmocka_unit_test_setup_teardown(test_endless_failures_are_bounded, before, after),
	    cmocka_unit_test_setup_teardown(test_redirect_to_another_host_is_refused, before,
	                                    after),
	    cmocka_unit_test_setup_teardown(test_writes_never_overlap, before, after),
	    cmocka_unit_test_setup_teardown(test_debug_log_names_requests_not_the_token, before,
	                                    after),
	};
	int failed;

	strlist_push(&labels, "docker-image-auto-update");
	strlist_push(&labels, "ready-for-review");
	failed = cmocka_run_group_tests(tests, start_stub, stop_stub);
	strlist_clear(&labels);
	return failed;
}

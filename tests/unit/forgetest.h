/*
 * What the forge tests share (test_pr_github.c, test_pr_gitlab.c): a stand-in
 * (tests/stubs/ghstub.py or glstub.py) started on loopback with its own bare repository and
 * stopped by its PID, its control endpoints, its request log, the search for the token in
 * everything the client logged and the stand-in recorded, and the client under test.
 *
 * A test program has one stand-in, `srv`, defined here:
 *	static int start(void **state) { return stubsrv_start(&srv, &(struct stubsrv_opts){
 *	                                 .script = "ghstub.py", ...}); }
 *	...cmocka_unit_test_setup_teardown(test_x, forgetest_before, forgetest_after)...
 *	stubsrv_branch(&srv, "dockerbump/group-1");	// a branch with a commit over main
 *	EXPECT_CODE(0, &err, forge_check(f, &branch, &err));	// stderr captured meanwhile
 *	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/o/r/issues"), 4);
 *	stubsrv_stop(&srv);
 *
 * Skips (no_stub) when python3 is missing.
 */
#ifndef DOCKERBUMP_TESTS_FORGETEST_H
#define DOCKERBUMP_TESTS_FORGETEST_H

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/log.h"
#include "gittest.h"
#include "updater/forge.h"

extern char **environ;

struct stubsrv_opts {
	const char *script;    /* "ghstub.py" */
	const char *prefix;    /* "/api/v3" */
	const char *token_env; /* its variable, and the value the test sets */
	const char *token;
	const char *read_env; /* a read-only token, or NULL */
	const char *read_token;
	const char *repos[4]; /* declared repositories, NULL-terminated */
};

struct stubsrv {
	pid_t pid;
	int no_stub;
	char dir[256];
	char base[128];    /* http://127.0.0.1:PORT */
	char api_url[192]; /* base + prefix */
	char host[64];     /* 127.0.0.1:PORT */
	char bare[300];    /* the bare repository whose branches the stand-in reads */
	char work[300];    /* a clone that makes branches */
	char capture[320]; /* stderr while a client runs */
	char log[320];     /* the stand-in's request log */
	const char *token;
	struct http_client *http;
	int saved_stderr;
};

static inline int stubsrv_start(struct stubsrv *s, const struct stubsrv_opts *o)
{
	char port_file[300], parent[32], script[512];
	char *argv[32];
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	int i, n = 0;

	memset(s, 0, sizeof(*s));
	s->token = o->token;
	setenv(o->token_env, o->token, 1);
	if (o->read_env)
		setenv(o->read_env, o->read_token, 1);
	snprintf(s->dir, sizeof(s->dir), "%s/dbforge.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->bare, sizeof(s->bare), "%s/remote.git", s->dir);
	snprintf(s->work, sizeof(s->work), "%s/work", s->dir);
	snprintf(s->capture, sizeof(s->capture), "%s/stderr.log", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/requests.jsonl", s->dir);
	gittest_sh("git init -q --bare -b main '%s' && git init -q -b main '%s' && "
	           "cd '%s' && git -c user.name=t -c user.email=t@example.invalid commit -q "
	           "--allow-empty -m base && git push -q '%s' main",
	           s->bare, s->work, s->work, s->bare);

	snprintf(script, sizeof(script), "%s/tests/stubs/%s", DOCKERBUMP_SOURCE_DIR, o->script);
	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--log";
	argv[n++] = s->log;
	argv[n++] = "--git-dir";
	argv[n++] = s->bare;
	argv[n++] = "--prefix";
	argv[n++] = (char *)o->prefix;
	argv[n++] = "--token-env";
	argv[n++] = (char *)o->token_env;
	if (o->read_env) {
		argv[n++] = "--read-token-env";
		argv[n++] = (char *)o->read_env;
	}
	for (i = 0; o->repos[i]; i++) {
		argv[n++] = "--repo";
		argv[n++] = (char *)o->repos[i];
	}
	argv[n++] = "--lifetime";
	argv[n++] = "900";
	argv[n++] = "--parent";
	argv[n++] = parent;
	argv[n] = NULL;
	if (posix_spawnp(&s->pid, "python3", NULL, NULL, argv, environ)) {
		s->no_stub = 1;
		return 0;
	}
	/* python3 may start slowly (version-manager shims): wait up to 30 s. */
	for (i = 0; i < 300 && !file_exists(port_file); i++)
		usleep(100000);
	if (file_read(&b, port_file, 64, &err) < 0 || !b.len) {
		fprintf(stderr, "%s did not start: %s\n", o->script, err.msg);
		buf_release(&b);
		s->no_stub = 1;
		return 0;
	}
	buf_rtrim(&b);
	snprintf(s->host, sizeof(s->host), "127.0.0.1:%s", b.ptr);
	buf_release(&b);
	snprintf(s->base, sizeof(s->base), "http://%s", s->host);
	snprintf(s->api_url, sizeof(s->api_url), "%s%s", s->base, o->prefix);
	return http_client_new(&s->http, NULL, &err);
}

static inline void stubsrv_stop(struct stubsrv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	http_client_free(s->http);
	/* DOCKERBUMP_TEST_KEEP keeps the stand-in's files (its request log) for a look. */
	if (s->dir[0] && !getenv("DOCKERBUMP_TEST_KEEP"))
		gittest_sh("rm -rf '%s'", s->dir);
}

/* A branch with one commit of its own over main, pushed to the bare repository. */
static inline void stubsrv_branch(struct stubsrv *s, const char *name)
{
	gittest_sh("cd '%s' && git checkout -q -B '%s' main && git -c user.name=t "
	           "-c user.email=t@example.invalid commit -q --allow-empty -m '%s' && "
	           "git push -q -f '%s' '%s'",
	           s->work, name, name, s->bare, name);
}

/* A control call; the answer's JSON, or NULL. The caller decrefs it. */
static inline json_t *stubsrv_control(struct stubsrv *s, const char *method, const char *path,
                                      const char *body)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	struct buf url = BUF_INIT;
	struct http_request req = {0};
	json_t *out = NULL;

	buf_addf(&url, "%s%s", s->base, path);
	req.method = method;
	req.url = url.ptr;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	if (http_request(s->http, &res, &req, &err) == 0 && res.status / 100 == 2)
		out = json_loadb(res.body.ptr, res.body.len, 0, NULL);
	else
		fprintf(stderr, "stand-in control %s %s: %ld %s\n", method, path, res.status,
		        err.msg);
	http_response_release(&res);
	buf_release(&url);
	return out;
}

static inline void stubsrv_post(struct stubsrv *s, const char *path, const char *body)
{
	json_decref(stubsrv_control(s, "POST", path, body));
}

static inline void stubsrv_fault(struct stubsrv *s, const char *json)
{
	stubsrv_post(s, "/_stub/faults", json);
}

/* The requests the stand-in saw, optionally only those with this method and path. */
static inline json_t *stubsrv_requests(struct stubsrv *s, const char *method, const char *path)
{
	json_t *log = stubsrv_control(s, "GET", "/_stub/log", NULL), *out = json_array(), *e;
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

static inline size_t stubsrv_count(struct stubsrv *s, const char *method, const char *path)
{
	json_t *r = stubsrv_requests(s, method, path);
	size_t n = json_array_size(r);
	json_decref(r);
	return n;
}

/* Writes (anything but GET) the stand-in saw. */
static inline size_t stubsrv_writes(struct stubsrv *s)
{
	return stubsrv_count(s, NULL, NULL) - stubsrv_count(s, "GET", NULL);
}

static inline void stubsrv_capture_begin(struct stubsrv *s)
{
	int fd = open(s->capture, O_WRONLY | O_CREAT | O_APPEND, 0600);

	fflush(stderr);
	s->saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	log_setup(&(struct log_config){.level = LOG_DEBUG});
}

static inline void stubsrv_capture_end(struct stubsrv *s)
{
	log_setup(&(struct log_config){.level = LOG_INFO});
	fflush(stderr);
	dup2(s->saved_stderr, 2);
	close(s->saved_stderr);
}

/* Searches the whole file, NUL bytes and all. */
static inline void stubsrv_assert_file_lacks(const char *path, const char *secret)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	size_t i, n = strlen(secret);

	if (file_read(&b, path, 0, &err) == 0)
		for (i = 0; i + n <= b.len; i++)
			if (!memcmp(b.ptr + i, secret, n))
				fail_msg("the token appears in '%s'", path);
	buf_release(&b);
}

/* Before each test: a fresh stand-in state and capture file. */
static inline void stubsrv_reset(struct stubsrv *s)
{
	stubsrv_post(s, "/_stub/reset", "{}");
	unlink(s->capture);
}

/* After each test: the token is in nothing the client logged or the stand-in recorded. */
static inline void stubsrv_assert_no_token(struct stubsrv *s)
{
	stubsrv_assert_file_lacks(s->capture, s->token);
	stubsrv_assert_file_lacks(s->log, s->token);
}

/* --- the one stand-in of a test program, and the client under test ---------------------- */

static struct stubsrv srv;

#define NEED_STUB()                                                                                \
	do {                                                                                       \
		if (srv.no_stub)                                                                   \
			skip();                                                                    \
	} while (0)

/* Runs `call` with stderr captured and expects `code`; the message stays in `err` and never
 * holds the token. */
#define EXPECT_CODE(code, err, call)                                                               \
	do {                                                                                       \
		int ret_;                                                                          \
		stubsrv_capture_begin(&srv);                                                       \
		ret_ = (call);                                                                     \
		stubsrv_capture_end(&srv);                                                         \
		if (ret_ != (code))                                                                \
			fail_msg("%s: expected %d, got %d (%s)", #call, (code), ret_, (err)->msg); \
		assert_null(strstr((err)->msg, srv.token));                                        \
	} while (0)

static inline int forgetest_before(void **state)
{
	(void)state;
	if (!srv.no_stub)
		stubsrv_reset(&srv);
	return 0;
}

static inline int forgetest_after(void **state)
{
	(void)state;
	if (!srv.no_stub)
		stubsrv_assert_no_token(&srv);
	return 0;
}

/* A test run with a fresh stand-in state, and the token searched for afterwards. */
#define FORGETEST(test) cmocka_unit_test_setup_teardown(test, forgetest_before, forgetest_after)

/* A client of the stand-in with short waits: a Retry-After of 1 s waits 20 ms. */
static inline struct forge *forgetest_forge(enum forge_provider p, const char *token_env,
                                            const char *repo)
{
	struct forge_opts opts = {0};
	struct forge *f = NULL;
	struct db_err err = DB_ERR_INIT;

	opts.provider = p;
	opts.api_url = srv.api_url;
	opts.token_env = token_env;
	opts.repo = repo;
	opts.http.retries = 3;
	opts.http.retry_base_ms = 5;
	opts.http.retry_cap_ms = 20;
	opts.http.timeout_ms = 20000;
	opts.rate_retries = 3;
	opts.rate_wait_cap_ms = 20;
	opts.write_gap_ms = -1;
	if (forge_new(&f, &opts, &err) < 0)
		fail_msg("forge_new: %s", err.msg);
	return f;
}

/* A pull request's title and body as pullreq.c writes them. */
struct forgetest_text {
	struct buf title, body;
};

static inline struct forgetest_text forgetest_text(const struct pr_request *req)
{
	struct forgetest_text t = {BUF_INIT, BUF_INIT};

	pr_format_title(&t.title, req);
	pr_format_body(&t.body, req);
	return t;
}

static inline void forgetest_text_release(struct forgetest_text *t)
{
	buf_release(&t->title);
	buf_release(&t->body);
}

static inline struct forge_pr_spec forgetest_spec(const struct forgetest_text *t, const char *head,
                                                  const struct strlist *labels)
{
	struct forge_pr_spec s = {head, "main", t->title.ptr, t->body.ptr, labels, 0};
	return s;
}

static inline struct forge_pr forgetest_create(struct forge *f, const struct forge_pr_spec *s)
{
	struct forge_pr pr;
	struct db_err err = DB_ERR_INIT;

	EXPECT_CODE(0, &err, forge_pr_create(f, &pr, s, &err));
	return pr;
}

static inline struct forge_prs forgetest_list(struct forge *f, const char *label,
                                              const char *prefix)
{
	struct forge_prs prs = {0};
	struct db_err err = DB_ERR_INIT;

	EXPECT_CODE(0, &err, forge_list_prs(f, &prs, label, prefix, &err));
	return prs;
}

static inline int forgetest_has_label(const struct strlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], name))
			return 1;
	return 0;
}

/* A /_stub/seed entry: a pull request from `head` whose body is a real marker carrying
 * `item`, in `state` ("open", "merged", "closed"), with `label` (NULL: none). */
static inline void forgetest_seed_entry(json_t *list, const struct pr_item *item, const char *head,
                                        const char *state, long long created, long long merged,
                                        const char *label)
{
	struct pr_request req = {0};
	struct buf body = BUF_INIT;
	json_t *p;

	req.head = head;
	req.base = "main";
	req.group = strrchr(head, '-') ? strrchr(head, '-') + 1 : strrchr(head, '/') + 1;
	req.items = item;
	req.nr_items = 1;
	req.image = "demisto/python3";
	req.tag = "3.11.10.113941";
	pr_format_marker(&body, &req);
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "head", head, "base", "main", "title",
	              head, "body", body.ptr, "state", state, "created_at", (json_int_t)created,
	              "merged_at", (json_int_t)merged);
	if (label)
		json_object_set_new(p, "labels", json_pack("[s]", label));
	json_array_append_new(list, p);
	buf_release(&body);
}

/* The state of `pr` in a fresh listing; -1 when it is not listed. */
static inline int forgetest_listed_state(struct forge *f, const char *label, long number,
                                         long long *when)
{
	struct forge_prs prs = forgetest_list(f, label, "dockerbump/");
	size_t i;
	int state = -1;

	for (i = 0; i < prs.nr; i++)
		if (prs.v[i].number == number) {
			state = (int)prs.v[i].state;
			*when = state == FORGE_PR_MERGED   ? prs.v[i].merged_at
			        : state == FORGE_PR_CLOSED ? prs.v[i].closed_at
			                                   : prs.v[i].created_at;
		}
	forge_prs_release(&prs);
	return state;
}

/*
 * What a harness does as a human, through the stand-in's control endpoints, seen by the
 * client: the clock dates new pull requests; a merge at a given time, a close, and a label
 * taken off and put back show in the next listing; the log reads from an offset.
 */
static inline void forgetest_harness(struct forge *f, const char *repo,
                                     const struct forgetest_text *t, const struct strlist *labels)
{
	const char *label = labels->v[0];
	struct forge_pr_spec s;
	struct forge_pr a, b;
	long long when = 0;
	json_t *log;
	char body[256];
	size_t before;

	stubsrv_branch(&srv, "dockerbump/group-1");
	stubsrv_branch(&srv, "dockerbump/group-2");
	stubsrv_post(&srv, "/_stub/clock", "{\"now\": 1800000000}");
	s = forgetest_spec(t, "dockerbump/group-1", labels);
	a = forgetest_create(f, &s);
	s = forgetest_spec(t, "dockerbump/group-2", labels);
	b = forgetest_create(f, &s);
	assert_int_equal(forgetest_listed_state(f, label, a.number, &when), FORGE_PR_OPEN);
	assert_int_equal(when, 1800000000);

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"number\": %ld, \"merged_at\": %d}", repo,
	         a.number, 1800000000 + 86400 * 3);
	stubsrv_post(&srv, "/_stub/merge", body);
	assert_int_equal(forgetest_listed_state(f, label, a.number, &when), FORGE_PR_MERGED);
	assert_int_equal(when, 1800000000 + 86400 * 3);

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"number\": %ld, \"closed_at\": %d}", repo,
	         b.number, 1800000000 + 86400);
	stubsrv_post(&srv, "/_stub/close", body);
	assert_int_equal(forgetest_listed_state(f, label, b.number, &when), FORGE_PR_CLOSED);
	assert_int_equal(when, 1800000000 + 86400);

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"number\": %ld, \"remove\": [\"%s\"]}",
	         repo, b.number, label);
	stubsrv_post(&srv, "/_stub/labels", body);
	assert_int_equal(forgetest_listed_state(f, label, b.number, &when), -1);
	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"number\": %ld, \"add\": [\"%s\"]}", repo,
	         b.number, label);
	stubsrv_post(&srv, "/_stub/labels", body);
	assert_int_equal(forgetest_listed_state(f, label, b.number, &when), FORGE_PR_CLOSED);

	/* The log from an offset: only what came after. */
	before = stubsrv_count(&srv, NULL, NULL);
	assert_int_equal(forgetest_listed_state(f, label, a.number, &when), FORGE_PR_MERGED);
	snprintf(body, sizeof(body), "/_stub/log?since=%zu", before);
	log = stubsrv_control(&srv, "GET", body, NULL);
	assert_int_equal(json_array_size(log), 1);
	json_decref(log);
	stubsrv_post(&srv, "/_stub/clock", "{\"now\": null}");
	forge_pr_release(&a);
	forge_pr_release(&b);
}

/* Seeds `pulls` and `issues` (may be NULL) into `repo` at once. */
static inline void stubsrv_seed(struct stubsrv *s, const char *repo, json_t *pulls, json_t *issues)
{
	json_t *req = json_pack("{s:s, s:O, s:o}", "repo", repo, "pulls", pulls, "issues",
	                        issues ? json_incref(issues) : json_array());
	char *body = json_dumps(req, JSON_COMPACT);

	stubsrv_post(s, "/_stub/seed", body);
	free(body);
	json_decref(req);
}

#endif

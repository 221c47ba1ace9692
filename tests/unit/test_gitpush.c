#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <git2/sys/credential.h>

#include "common/err.h"
#include "updater/gitcred.h"
#include "updater/gitlocal.h"
#include "common/proc.h"
#include "testutil.h"
#include "updater/gitpush.h"
#include "updater/gitrepo.h"

#include "gittest.h"

#define PREFIX  "dockerbump/"
#define BRANCH  "dockerbump/group-17"
#define BRANCH2 "dockerbump/group-3"
#define REF     "refs/heads/" BRANCH

/*
 * Each test gets the fixture of gittest.h and an empty bare repository "remote.git" that keeps
 * a reflog of every ref, so that a test can tell whether a push updated a ref at all.
 */
struct fx {
	struct gittest t;
	char *remote;
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	gittest_init(&fx->t);
	fx->remote = xasprintf("%s/remote.git", fx->t.dir);
	gittest_sh("git init -q --bare '%s' && git -C '%s' config core.logAllRefUpdates always",
	           fx->remote, fx->remote);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	free(fx->remote);
	gittest_release(&fx->t);
	free(fx);
	return 0;
}

/* Commits `content` as the script's YAML on `branch` and moves the branch. */
static void commit_branch(struct fx *fx, struct gitrepo_commit *c, const char *branch,
                          const char *content)
{
	struct db_err err = DB_ERR_INIT;
	const struct gitrepo_change change = {"Packs/A/Scripts/S/S.yml", content, strlen(content)};
	const struct gitrepo_commit_spec spec = {
	    .branch = branch,
	    .branch_prefix = PREFIX,
	    .base = &fx->t.base.id,
	    .changes = &change,
	    .nr_changes = 1,
	    .message = "Bump",
	};

	if (gitrepo_build_commit(c, fx->t.repo, &spec, &err) < 0 ||
	    gitrepo_update_branch(fx->t.repo, c, &err) < 0)
		fail_msg("%s", err.msg);
}

static void commit_branch_once(struct fx *fx, const char *branch, const char *content)
{
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;

	commit_branch(fx, &c, branch, content);
	gitrepo_commit_release(&c);
}

static int push(struct fx *fx, const char *remote, struct gitpush_ref *refs, size_t nr,
                struct db_err *err)
{
	const struct gitpush_opts opts = {
	    .remote = remote, .branch_prefix = PREFIX, .timeout_s = 60};

	return gitpush(fx->t.repo, &opts, refs, nr, err);
}

static void push_ok(struct fx *fx, const char *remote, struct gitpush_ref *refs, size_t nr)
{
	struct db_err err = DB_ERR_INIT;

	if (push(fx, remote, refs, nr, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The value of `ref` in the repository at `dir`, or "" when it does not exist. */
static char *ref_value(const char *dir, const char *ref)
{
	return gittest_out("git -C '%s' rev-parse -q --verify '%s' || true", dir, ref);
}

static long reflog_length(const char *dir, const char *ref)
{
	char *out = gittest_out("git -C '%s' reflog show '%s' 2>/dev/null | wc -l", dir, ref);
	long n = strtol(out, NULL, 10);

	free(out);
	return n;
}

/* Pushes through `remote` twice: the second push sends nothing. */
static void check_push_twice(struct fx *fx, const char *remote)
{
	struct gitpush_ref refs[] = {{.branch = BRANCH}};
	char *local, *pushed;

	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	local = ref_value(fx->t.content, REF);

	push_ok(fx, remote, refs, 1);
	assert_int_equal(refs[0].result, GITPUSH_PUSHED);
	assert_string_equal(git_oid_tostr_s(&refs[0].local), local);
	assert_true(git_oid_is_zero(&refs[0].remote_old));
	pushed = ref_value(fx->remote, REF);
	assert_string_equal(pushed, local);
	free(pushed);
	assert_int_equal(reflog_length(fx->remote, REF), 1);

	push_ok(fx, remote, refs, 1);
	assert_int_equal(refs[0].result, GITPUSH_UP_TO_DATE);
	assert_string_equal(git_oid_tostr_s(&refs[0].remote_old), local);
	pushed = ref_value(fx->remote, REF);
	assert_string_equal(pushed, local);
	free(pushed);
	assert_int_equal(reflog_length(fx->remote, REF), 1);

	gitpush_refs_release(refs, 1);
	free(local);
}

static void test_push_path(void **state)
{
	struct fx *fx = *state;

	check_push_twice(fx, fx->remote);
}

static void test_push_file_url(void **state)
{
	struct fx *fx = *state;
	char *url = xasprintf("file://%s", fx->remote);

	check_push_twice(fx, url);
	free(url);
}

/* A configured remote (here with a path relative to the repository) and its tracking ref. */
static void test_push_named_remote(void **state)
{
	struct fx *fx = *state;
	char *tracking, *local;

	gittest_sh("git -C '%s' remote add origin ../remote.git", fx->t.content);
	check_push_twice(fx, "origin");
	tracking = ref_value(fx->t.content, "refs/remotes/origin/" BRANCH);
	local = ref_value(fx->t.content, REF);
	assert_string_equal(tracking, local);
	free(local);
	free(tracking);
}

/* A branch rebuilt on a new base replaces the remote's (a forced, non-fast-forward push). */
static void test_push_rebuilt_branch(void **state)
{
	struct fx *fx = *state;
	struct gitpush_ref refs[] = {{.branch = BRANCH}, {.branch = BRANCH2}};
	char *first, *second, *remote2;

	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	commit_branch_once(fx, BRANCH2, "dockerimage: demisto/python:2.7.18.24398\n");
	push_ok(fx, fx->remote, refs, 2);
	first = ref_value(fx->remote, REF);
	remote2 = ref_value(fx->remote, "refs/heads/" BRANCH2);

	gittest_sh("cd '%s' && echo more >> README.md && git commit -qam 'base moves'",
	           fx->t.content);
	gittest_rebase(&fx->t);
	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");

	push_ok(fx, fx->remote, refs, 2);
	assert_int_equal(refs[0].result, GITPUSH_PUSHED);
	assert_int_equal(refs[1].result, GITPUSH_UP_TO_DATE);
	assert_string_equal(git_oid_tostr_s(&refs[0].remote_old), first);
	second = ref_value(fx->remote, REF);
	assert_string_not_equal(second, first);
	free(second);
	second = gittest_out("git -C '%s' rev-parse " REF "^", fx->remote);
	assert_string_equal(second, fx->t.base.hex);
	assert_int_equal(reflog_length(fx->remote, REF), 2);
	assert_int_equal(reflog_length(fx->remote, "refs/heads/" BRANCH2), 1);
	free(second);
	second = ref_value(fx->remote, "refs/heads/" BRANCH2);
	assert_string_equal(second, remote2);

	gitpush_refs_release(refs, 2);
	free(second);
	free(remote2);
	free(first);
}

static void install_hook(const char *remote, const char *body)
{
	gittest_sh("printf '#!/bin/sh\\n%%s\\n' '%s' > '%s/hooks/pre-receive' && "
	           "chmod +x '%s/hooks/pre-receive'",
	           body, remote, remote);
}

/*
 * A pre-receive hook refuses the push: the error names the ref, the remote and the hook's
 * reason; the remote has nothing; and rolling back leaves the local branches as before.
 */
static void test_push_rejected_by_hook(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT;
	struct gitpush_ref refs[] = {{.branch = BRANCH}, {.branch = BRANCH2}};
	struct db_err err = DB_ERR_INIT;
	char *msg, *value, *before2;

	install_hook(fx->remote, "echo \"no bot pushes on Fridays\" >&2; exit 1");
	/* BRANCH2 existed before this run; BRANCH is new. */
	commit_branch_once(fx, BRANCH2, "dockerimage: demisto/python:2.7.18.24398\n");
	before2 = ref_value(fx->t.content, "refs/heads/" BRANCH2);
	commit_branch(fx, &c1, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	commit_branch(fx, &c2, BRANCH2, "dockerimage: demisto/python:2.7.18.26000\n");

	assert_int_equal(push(fx, fx->remote, refs, 2, &err), DB_ECONFLICT);
	msg = xasprintf("push of '" REF "' to '%s' rejected: pre-receive hook declined (remote: "
	                "no bot pushes on Fridays)",
	                fx->remote);
	assert_string_equal(err.msg, msg);
	free(msg);
	assert_int_equal(refs[0].result, GITPUSH_REJECTED);
	assert_int_equal(refs[1].result, GITPUSH_REJECTED);
	assert_string_equal(refs[0].reason, "pre-receive hook declined (remote: no bot pushes on "
	                                    "Fridays)");
	value = ref_value(fx->remote, REF);
	assert_string_equal(value, "");
	free(value);

	/* What `run` does with a rejected ref: roll it back. */
	db_err_clear(&err);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c1, &err), 0);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c2, &err), 0);
	value = ref_value(fx->t.content, REF);
	assert_string_equal(value, "");
	free(value);
	value = ref_value(fx->t.content, "refs/heads/" BRANCH2);
	assert_string_equal(value, before2);
	free(value);

	gitpush_refs_release(refs, 2);
	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
	free(before2);
}

/*
 * The hooks of a local remote run with our environment: it must not hold our secrets, and
 * must not point git at our repository.
 */
static void test_push_child_environment(void **state)
{
	struct fx *fx = *state;
	struct gitpush_ref refs[] = {{.branch = BRANCH}};
	char *env;

	install_hook(fx->remote, "env > \"$GIT_DIR/../hook-env.txt\"");
	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	setenv("DOCKERBUMP_GIT_TOKEN", "s3cr3t-token", 1);
	setenv("GITHUB_TOKEN", "s3cr3t-gh", 1);
	setenv("GIT_INDEX_FILE", "/nonexistent/index", 1);
	push_ok(fx, fx->remote, refs, 1);
	unsetenv("DOCKERBUMP_GIT_TOKEN");
	unsetenv("GITHUB_TOKEN");
	unsetenv("GIT_INDEX_FILE");
	assert_int_equal(refs[0].result, GITPUSH_PUSHED);
	env = gittest_out("cat '%s/hook-env.txt'", fx->t.dir);
	assert_null(strstr(env, "s3cr3t"));
	assert_null(strstr(env, "/nonexistent/index"));
	assert_non_null(strstr(env, "GIT_TERMINAL_PROMPT=0"));
	free(env);
	gitpush_refs_release(refs, 1);
}

static void expect_push_error(struct fx *fx, const char *remote, struct gitpush_ref *refs, int code,
                              const char *needle)
{
	struct db_err err = DB_ERR_INIT;

	assert_int_equal(push(fx, remote, refs, 1, &err), code);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	assert_int_equal(refs[0].result, GITPUSH_NOT_PUSHED);
	gitpush_refs_release(refs, 1);
}

static void test_push_errors(void **state)
{
	struct fx *fx = *state;
	struct gitpush_ref refs[] = {{.branch = BRANCH}};
	struct db_err err = DB_ERR_INIT;
	char *msg, *plain = xasprintf("%s/plain", fx->t.dir);

	expect_push_error(fx, fx->remote, refs, DB_ENOTFOUND, "'" REF "' does not exist in");
	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");

	msg = xasprintf("'nosuch' is neither a remote of '%s' nor a git repository", fx->t.content);
	expect_push_error(fx, "nosuch", refs, DB_ENOTFOUND, msg);
	/* With nothing to push, the remote is still checked, but not contacted. */
	assert_int_equal(push(fx, "nosuch", refs, 0, &err), DB_ENOTFOUND);
	assert_string_equal(err.msg, msg);
	db_err_clear(&err);
	gittest_sh("git -C '%s' remote add gone '%s/gone.git'", fx->t.content, fx->t.dir);
	assert_int_equal(push(fx, "gone", refs, 0, &err), 0);
	free(msg);
	gittest_sh("mkdir -p '%s'", plain);
	expect_push_error(fx, plain, refs, DB_ENOTFOUND, "nor a git repository");

	refs[0].branch = "main";
	expect_push_error(fx, fx->remote, refs, DB_EUSAGE,
	                  "not pushing 'refs/heads/main': only branches under 'dockerbump/'");
	refs[0].branch = PREFIX;
	expect_push_error(fx, fx->remote, refs, DB_EUSAGE, "only branches under");

	/* A remote that vanished: a transport error naming it, nothing pushed. */
	refs[0].branch = BRANCH;
	expect_push_error(fx, "gone", refs, DB_ENET, "'gone'");
	free(plain);
}

/* The URL helpers: which URLs are local, and user information kept out of messages. */
static void test_urls(void **state)
{
	struct {
		const char *url, *path;
	} local[] = {
	    {"/srv/r.git", "/srv/r.git"},
	    {"../r.git", "../r.git"},
	    {"file:///srv/r.git", "/srv/r.git"},
	    {"file://localhost/srv/r.git", "/srv/r.git"},
	    {"file:///srv/a%20b.git", "/srv/a b.git"},
	    {"./a:b.git", "./a:b.git"},
	    {"https://github.com/o/r.git", NULL},
	    {"git@github.com:o/r.git", NULL},
	    {"ssh://git@github.com/o/r.git", NULL},
	    {"file://", NULL},
	    {"", NULL},
	};
	struct {
		const char *url, *shown;
	} redact[] = {
	    {"https://x-access-token:s3cr3t@github.com/o/r.git", "https://github.com/o/r.git"},
	    {"https://github.com/o/r.git", "https://github.com/o/r.git"},
	    {"ssh://git@host:22/o/r.git", "ssh://host:22/o/r.git"},
	    {"https://u:p@host", "https://host"},
	    {"/srv/r.git", "/srv/r.git"},
	};
	struct buf b = BUF_INIT;
	size_t i;
	char *p;
	(void)state;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		p = gitlocal_path(local[i].url);
		if (local[i].path)
			assert_string_equal(p, local[i].path);
		else
			assert_null(p);
		free(p);
	}
	for (i = 0; i < sizeof(redact) / sizeof(redact[0]); i++) {
		buf_reset(&b);
		gitcred_redact_url(&b, redact[i].url);
		assert_string_equal(b.ptr, redact[i].shown);
	}
	buf_release(&b);
}

static void expect_userpass(git_credential *cred, const char *user, const char *pass)
{
	git_credential_userpass_plaintext *up = (git_credential_userpass_plaintext *)cred;

	assert_non_null(cred);
	assert_int_equal(cred->credtype, GIT_CREDENTIAL_USERPASS_PLAINTEXT);
	assert_string_equal(up->username, user);
	assert_string_equal(up->password, pass);
	git_credential_free(cred);
}

/*
 * The credential order over https: the token, then the helpers, then nothing (bounded); over
 * plain http the token is never offered; the helper runs without our secrets.
 */
static void test_credentials_https(void **state)
{
	struct fx *fx = *state;
	struct gitcred cred = {.repo_dir = fx->t.content, .timeout_ms = 30000};
	git_credential *out = NULL;
	const unsigned userpass = GIT_CREDENTIAL_USERPASS_PLAINTEXT;
	char *env;

	gittest_sh("git -C '%s' config credential.helper "
	           "'!f() { env > \"%s/helper-env.txt\"; test \"$1\" = get || exit 0; "
	           "echo username=helper-user; echo password=helper-pass; }; f'",
	           fx->t.content, fx->t.dir);
	setenv(GITPUSH_TOKEN_ENV, "s3cr3t-token", 1);
	assert_int_equal(gitcred_acquire(&out, &cred, "https://github.com/o/r.git", NULL, userpass),
	                 0);
	expect_userpass(out, "x-access-token", "s3cr3t-token");
	assert_int_equal(gitcred_acquire(&out, &cred, "https://github.com/o/r.git", NULL, userpass),
	                 0);
	expect_userpass(out, "helper-user", "helper-pass");
	assert_int_equal(gitcred_acquire(&out, &cred, "https://github.com/o/r.git", NULL, userpass),
	                 GIT_EAUTH);
	assert_true(cred.gave_up);
	env = gittest_out("cat '%s/helper-env.txt'", fx->t.dir);
	assert_null(strstr(env, "s3cr3t"));
	free(env);

	/* Plain http: straight to the helper. */
	memset(&cred, 0, sizeof(cred));
	cred.repo_dir = fx->t.content;
	cred.timeout_ms = 30000;
	assert_int_equal(
	    gitcred_acquire(&out, &cred, "http://127.0.0.1:8080/r.git", NULL, userpass), 0);
	expect_userpass(out, "helper-user", "helper-pass");
	unsetenv(GITPUSH_TOKEN_ENV);

	/* No token, no helper: nothing to offer at once. */
	gittest_sh("git -C '%s' config --unset credential.helper", fx->t.content);
	memset(&cred, 0, sizeof(cred));
	cred.repo_dir = fx->t.content;
	cred.timeout_ms = 30000;
	assert_int_equal(gitcred_acquire(&out, &cred, "https://github.com/o/r.git", NULL, userpass),
	                 GIT_EAUTH);
	assert_true(cred.gave_up);
}

static void test_credentials_ssh(void **state)
{
	struct fx *fx = *state;
	struct gitcred cred = {.repo_dir = fx->t.content, .timeout_ms = 30000};
	git_credential *out = NULL;
	unsigned i;

	assert_int_equal(
	    gitcred_acquire(&out, &cred, "ssh://host/o/r.git", NULL, GIT_CREDENTIAL_USERNAME), 0);
	assert_int_equal(out->credtype, GIT_CREDENTIAL_USERNAME);
	assert_string_equal(((git_credential_username *)out)->username, "git");
	git_credential_free(out);
	assert_int_equal(
	    gitcred_acquire(&out, &cred, "ssh://host/o/r.git", "deploy",
	                    GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_USERPASS_PLAINTEXT),
	    0);
	assert_int_equal(out->credtype, GIT_CREDENTIAL_SSH_KEY);
	git_credential_free(out);
	assert_int_equal(
	    gitcred_acquire(&out, &cred, "ssh://host/o/r.git", "deploy", GIT_CREDENTIAL_SSH_KEY),
	    GIT_EAUTH);

	/* However often libgit2 asks, the answers stop. */
	memset(&cred, 0, sizeof(cred));
	cred.repo_dir = fx->t.content;
	cred.timeout_ms = 30000;
	for (i = 0; i < 100; i++) {
		if (gitcred_acquire(&out, &cred, "ssh://host/o/r.git", NULL,
		                    GIT_CREDENTIAL_USERNAME | GIT_CREDENTIAL_SSH_KEY) < 0)
			break;
		git_credential_free(out);
	}
	assert_true(i <= GITCRED_MAX_CALLS);
}

/*
 * Over smart HTTP (tests/data/git/http_backend.py: git http-backend behind Basic
 * authentication): the code path of a push to GitHub, with 401s, the credential helpers and
 * side-band messages. Skipped without python3.
 */
struct http_server {
	pid_t pid;
	char *url; /* of the fixture's remote.git */
};

static void http_start(struct fx *fx, struct http_server *s)
{
	char *port_file = xasprintf("%s/port", fx->t.dir), *port;
	const struct timespec tick = {0, 50 * 1000 * 1000};
	int i, status;

	if (!proc_in_path("python3"))
		TEST_SKIP("python3 is not installed");
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execlp("python3", "python3", DOCKERBUMP_TEST_DATA "/git/http_backend.py", fx->t.dir,
		       port_file, "bot", "pa55word", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(port_file, R_OK) != 0; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid)
			fail_msg("the HTTP server exited with status %d", status);
		nanosleep(&tick, NULL);
	}
	port = gittest_out("cat '%s'", port_file);
	s->url = xasprintf("http://127.0.0.1:%s/remote.git", port);
	free(port);
	free(port_file);
}

static void http_stop(struct http_server *s)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};
	int i;

	kill(s->pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(s->pid, NULL, WNOHANG) != s->pid; i++)
		nanosleep(&tick, NULL);
	if (i == 100) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	free(s->url);
}

static long auth_failures(struct fx *fx)
{
	char *out = gittest_out("cat '%s/auth-failures.log' 2>/dev/null | wc -l", fx->t.dir);
	long n = strtol(out, NULL, 10);

	free(out);
	return n;
}

static void set_helper(struct fx *fx, const char *password)
{
	gittest_sh(
	    "git -C '%s' config credential.helper "
	    "'!f() { test \"$1\" = get || exit 0; echo username=bot; echo password=%s; }; f'",
	    fx->t.content, password);
}

static void test_push_http(void **state)
{
	struct fx *fx = *state;
	struct http_server s;

	http_start(fx, &s);
	set_helper(fx, "pa55word");
	check_push_twice(fx, s.url);
	/* Each connection is refused once without credentials, then accepted. */
	assert_true(auth_failures(fx) <= 4);
	http_stop(&s);
}

static void test_push_http_rejected_by_hook(void **state)
{
	struct fx *fx = *state;
	struct gitpush_ref refs[] = {{.branch = BRANCH}};
	struct db_err err = DB_ERR_INIT;
	struct http_server s;
	char *msg;

	http_start(fx, &s);
	set_helper(fx, "pa55word");
	install_hook(fx->remote, "echo \"no bot pushes on Fridays\" >&2; exit 1");
	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	assert_int_equal(push(fx, s.url, refs, 1, &err), DB_ECONFLICT);
	msg = xasprintf("push of '" REF "' to '%s' rejected: pre-receive hook declined (remote: "
	                "no bot pushes on Fridays)",
	                s.url);
	assert_string_equal(err.msg, msg);
	free(msg);
	gitpush_refs_release(refs, 1);
	http_stop(&s);
}

/* A refused password: DB_EAUTH after a bounded number of attempts, nothing pushed. */
static void test_push_http_wrong_password(void **state)
{
	struct fx *fx = *state;
	struct gitpush_ref refs[] = {{.branch = BRANCH}};
	struct db_err err = DB_ERR_INIT;
	struct http_server s;
	char *msg, *value;

	http_start(fx, &s);
	set_helper(fx, "wrong");
	commit_branch_once(fx, BRANCH, "dockerimage: demisto/python3:3.11.10.113941\n");
	setenv(GITPUSH_TOKEN_ENV, "s3cr3t-token", 1);
	assert_int_equal(push(fx, s.url, refs, 1, &err), DB_EAUTH);
	unsetenv(GITPUSH_TOKEN_ENV);
	msg = xasprintf("cannot connect to '%s': no credential was accepted", s.url);
	assert_string_equal(err.msg, msg);
	free(msg);
	assert_true(auth_failures(fx) <= GITCRED_MAX_CALLS + 1);
	assert_int_equal(refs[0].result, GITPUSH_NOT_PUSHED);
	value = ref_value(fx->remote, REF);
	assert_string_equal(value, "");
	free(value);
	gitpush_refs_release(refs, 1);
	http_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_push_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_file_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_named_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_rebuilt_branch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_rejected_by_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_child_environment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_http, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_http_rejected_by_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_http_wrong_password, setup, teardown),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test_setup_teardown(test_credentials_https, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_credentials_ssh, setup, teardown),
	};

	TEST_MAIN(tests);
}

/*
 * The provider-neutral front of the forge (updater/forge.c): the backend table, options and
 * their errors, repositories from remote URLs for both providers, and the arguments refused
 * before any request is sent. No server: the API URL points at a closed port, so a request
 * that slipped out would be a network error, not the usage error asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "updater/forge.h"

#define TOKEN_ENV "DOCKERBUMP_TEST_FORGE_TOKEN"
/* Nothing listens on port 1 of loopback. */
#define NOWHERE "http://127.0.0.1:1/api"

static struct forge *forge_ok(enum forge_provider p, const char *repo)
{
	struct forge_opts o = {0};
	struct forge *f = NULL;
	struct db_err err = DB_ERR_INIT;

	o.provider = p;
	o.api_url = NOWHERE;
	o.token_env = TOKEN_ENV;
	o.repo = repo;
	o.http.retries = -1;
	o.http.connect_timeout_ms = 500;
	if (forge_new(&f, &o, &err) < 0)
		fail_msg("forge_new: %s", err.msg);
	return f;
}

static void test_backends(void **state)
{
	(void)state;
	assert_string_equal(forge_provider_name(FORGE_GITHUB), "github");
	assert_string_equal(forge_provider_name(FORGE_GITLAB), "gitlab");
	assert_null(forge_provider_name(0));
	assert_int_equal(forge_provider_parse("github"), FORGE_GITHUB);
	assert_int_equal(forge_provider_parse("gitlab"), FORGE_GITLAB);
	assert_int_equal(forge_provider_parse("GitHub"), 0);
	assert_int_equal(forge_provider_parse(NULL), 0);
	assert_int_equal(forge_body_max(FORGE_GITHUB), PR_BODY_MAX);
	assert_int_equal(forge_body_max(FORGE_GITLAB), PR_BODY_MAX_GITLAB);
}

static const struct {
	enum forge_provider provider;
	const char *api_url, *token_env, *token, *repo;
	int code;
	const char *words;
} bad_opts[] = {
    {0, NOWHERE, TOKEN_ENV, "t", "o/r", DB_EUSAGE, "unknown pull request provider"},
    {FORGE_GITHUB, NOWHERE, TOKEN_ENV, "t", NULL, DB_EUSAGE, "--pr github needs a repository"},
    {FORGE_GITHUB, NOWHERE, TOKEN_ENV, "t", "g/sub/r", DB_EUSAGE,
     "pull_request.repo 'g/sub/r' is not 'owner/name'"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, "t", "content", DB_EUSAGE,
     "pull_request.repo 'content' is not 'group[/subgroup...]/name'"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, "t", "g/../r", DB_EUSAGE, "is not 'group"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, "t", "g//r", DB_EUSAGE, "is not 'group"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, "t", "g/r%2f..", DB_EUSAGE, "is not 'group"},
    {FORGE_GITLAB, "ftp://gitlab.example.com/api/v4", TOKEN_ENV, "t", "g/r", DB_EUSAGE,
     "is not an http(s) URL"},
    {FORGE_GITLAB, "https://me:pw@gitlab.example.com/api/v4", TOKEN_ENV, "t", "g/r", DB_EUSAGE,
     "(hidden: it has credentials)"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, NULL, "g/r", DB_EAUTH,
     "'DOCKERBUMP_TEST_FORGE_TOKEN' is unset or empty; --pr gitlab needs a token"},
    {FORGE_GITLAB, NOWHERE, TOKEN_ENV, "", "g/r", DB_EAUTH, "is unset or empty"},
    {FORGE_GITHUB, NOWHERE, TOKEN_ENV, "abc\r\nX-Injected: 1", "o/r", DB_EAUTH,
     "cannot go into an HTTP header"},
};

static void test_bad_options(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad_opts) / sizeof(*bad_opts); i++) {
		struct forge_opts o = {0};
		struct forge *f = (struct forge *)&o; /* must come back NULL */
		struct db_err err = DB_ERR_INIT;
		int ret;

		if (bad_opts[i].token)
			setenv(TOKEN_ENV, bad_opts[i].token, 1);
		else
			unsetenv(TOKEN_ENV);
		o.provider = bad_opts[i].provider;
		o.api_url = bad_opts[i].api_url;
		o.token_env = bad_opts[i].token_env;
		o.repo = bad_opts[i].repo;
		ret = forge_new(&f, &o, &err);
		if (ret != bad_opts[i].code || !strstr(err.msg, bad_opts[i].words))
			fail_msg("case %zu: got %d '%s'", i, ret, err.msg);
		assert_null(f);
		assert_null(strstr(err.msg, "X-Injected"));
		assert_null(strstr(err.msg, "pw@"));
	}
	setenv(TOKEN_ENV, "t", 1);
}

/* Without token_env and api_url, each provider takes its own defaults. */
static void test_defaults(void **state)
{
	struct forge_opts o = {0};
	struct forge *f = NULL;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	unsetenv("GITLAB_TOKEN");
	o.provider = FORGE_GITLAB;
	o.repo = "g/r";
	assert_int_equal(forge_new(&f, &o, &err), DB_EAUTH);
	assert_non_null(strstr(err.msg, "'GITLAB_TOKEN'"));
	setenv("GITLAB_TOKEN", "glpat-x", 1);
	db_err_clear(&err);
	assert_int_equal(forge_new(&f, &o, &err), 0);
	forge_free(f);
	unsetenv("GITLAB_TOKEN");

	unsetenv("GITHUB_TOKEN");
	o.provider = FORGE_GITHUB;
	o.repo = "o/r";
	db_err_clear(&err);
	assert_int_equal(forge_new(&f, &o, &err), DB_EAUTH);
	assert_non_null(strstr(err.msg, "'GITHUB_TOKEN'"));
	forge_free(NULL);
}

static const struct {
	enum forge_provider provider;
	const char *url, *repo;
} good_remotes[] = {
    {FORGE_GITHUB, "https://github.com/demisto/content.git", "demisto/content"},
    {FORGE_GITHUB, "git@github.com:demisto/content.git", "demisto/content"},
    {FORGE_GITLAB, "https://gitlab.com/xsoar/content.git", "xsoar/content"},
    {FORGE_GITLAB, "https://gitlab.com/xsoar/bots/content.git", "xsoar/bots/content"},
    {FORGE_GITLAB, "https://oauth2:glpat-secret@gitlab.example.com/a/b/c/d", "a/b/c/d"},
    {FORGE_GITLAB, "git@gitlab.example.com:a/b/c.git", "a/b/c"},
    {FORGE_GITLAB, "ssh://git@gitlab.example.com:2222/grp/my.project_1.git", "grp/my.project_1"},
    {FORGE_GITLAB, "http://gitlab.local/grp/sub/", "grp/sub"},
};

static const struct {
	enum forge_provider provider;
	const char *url, *words;
} bad_remotes[] = {
    {FORGE_GITHUB, "https://gitlab.com/xsoar/bots/content.git", "does not name a repository"},
    {FORGE_GITLAB, "https://gitlab.com/content.git", "does not name a project"},
    {FORGE_GITLAB, "https://gitlab.com/", "does not name a project"},
    {FORGE_GITLAB, "file:///srv/git/content.git", "does not name a project"},
    {FORGE_GITLAB, "/srv/git/content.git", "does not name a project"},
    {FORGE_GITLAB, "https://gitlab.com/g/../content", "does not name a project"},
    {FORGE_GITLAB, "https://gitlab.com/g/p?x=1", "does not name a project"},
    {FORGE_GITLAB, "https://bot:glpat-TOPSECRET@gitlab.com/only", "'https://bot:***@gitlab.com"},
};

static void test_repo_from_remote(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(good_remotes) / sizeof(*good_remotes); i++) {
		struct db_err err = DB_ERR_INIT;
		char *repo = NULL;

		if (forge_repo_from_remote(&repo, good_remotes[i].provider, good_remotes[i].url,
		                           &err))
			fail_msg("%s: %s", good_remotes[i].url, err.msg);
		assert_string_equal(repo, good_remotes[i].repo);
		free(repo);
	}
	for (i = 0; i < sizeof(bad_remotes) / sizeof(*bad_remotes); i++) {
		struct db_err err = DB_ERR_INIT;
		char *repo = NULL;
		int ret = forge_repo_from_remote(&repo, bad_remotes[i].provider, bad_remotes[i].url,
		                                 &err);

		if (ret != DB_EUSAGE || !strstr(err.msg, bad_remotes[i].words))
			fail_msg("'%s': got %d '%s'", bad_remotes[i].url, ret, err.msg);
		assert_null(repo);
		assert_non_null(strstr(err.msg, "remote URL '"));
		assert_null(strstr(err.msg, "TOPSECRET"));
	}
}

/* Arguments a caller got wrong are refused before any request. */
static void test_arguments_refused_before_any_request(void **state)
{
	struct forge *f = forge_ok(FORGE_GITLAB, "g/sub/r");
	struct forge_prs prs = {0};
	struct forge_pr pr = {0}, created_pr;
	struct forge_issue issue;
	struct forge_stats stats;
	struct forge_pr_spec spec = {"dockerbump/group-1", "main", "t", "b", NULL, 0};
	struct strlist none = {0}, one = {0};
	struct db_err err = DB_ERR_INIT;
	int changed, created;
	(void)state;

	strlist_push(&one, "a,b");
	assert_int_equal(forge_list_prs(f, &prs, "", "dockerbump/", &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "pull_request.labels must name at least one"));
	db_err_clear(&err);
	assert_int_equal(forge_dashboard(f, &issue, "t", "b", &none, &changed, &err), DB_EUSAGE);
	db_err_clear(&err);
	assert_int_equal(forge_dashboard(f, &issue, "", "b", &one, &changed, &err), DB_EUSAGE);
	db_err_clear(&err);
	spec.head = NULL;
	assert_int_equal(forge_pr_create(f, &pr, &spec, &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "needs a head, a base and a title"));
	spec.head = "dockerbump/group-1";
	pr.number = 4;
	pr.head = xstrdup("dockerbump/group-2");
	db_err_clear(&err);
	assert_int_equal(forge_pr_update(f, &pr, &spec, &changed, &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "is for branch 'dockerbump/group-2', not"));
	pr.number = 0;
	db_err_clear(&err);
	assert_int_equal(forge_pr_close(f, &pr, "c", &err), DB_EUSAGE);
	db_err_clear(&err);
	assert_int_equal(forge_label_ensure(f, "x", NULL, NULL, &created, &err), DB_EUSAGE);
	forge_get_stats(f, &stats);
	assert_int_equal(stats.reads + stats.writes, 0);

	/* A label with GitLab's separator in it cannot be sent. */
	spec.labels = &one;
	db_err_clear(&err);
	assert_int_equal(forge_pr_create(f, &created_pr, &spec, &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "label 'a,b' has a comma"));
	forge_get_stats(f, &stats);
	assert_int_equal(stats.reads + stats.writes, 0);

	forge_pr_release(&pr);
	forge_pr_release(&pr);
	forge_prs_release(&prs);
	forge_prs_release(NULL);
	forge_issue_release(NULL);
	strlist_clear(&one);
	forge_free(f);
}

/* The transport failing is a network error naming the host, never the token. */
static void test_unreachable(void **state)
{
	struct forge *f = forge_ok(FORGE_GITHUB, "o/r");
	struct db_err err = DB_ERR_INIT;
	char *branch = NULL;
	(void)state;

	setenv(TOKEN_ENV, "ghp_secret_never_shown", 1);
	forge_free(f);
	f = forge_ok(FORGE_GITHUB, "o/r");
	assert_int_equal(forge_check(f, &branch, &err), DB_ENET);
	assert_null(branch);
	assert_non_null(strstr(err.msg, "github at '127.0.0.1:1'"));
	assert_null(strstr(err.msg, "ghp_secret_never_shown"));
	forge_free(f);
	setenv(TOKEN_ENV, "t", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backends),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_repo_from_remote),
	    cmocka_unit_test(test_arguments_refused_before_any_request),
	    cmocka_unit_test(test_unreachable),
	};

	setenv(TOKEN_ENV, "t", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

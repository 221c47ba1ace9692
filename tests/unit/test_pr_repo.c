/*
 * Which GitHub repository a pull request goes to (updater/pullreq.c): "owner/name" from the
 * config, or parsed from the push remote's URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/err.h"
#include "updater/pullreq.h"

static const struct {
	const char *url, *host, *full;
} good_remotes[] = {
    {"https://github.com/demisto/content.git", "github.com", "demisto/content"},
    {"https://github.com/demisto/content", "github.com", "demisto/content"},
    {"https://github.com/demisto/content/", "github.com", "demisto/content"},
    {"http://github.com/demisto/content.git", "github.com", "demisto/content"},
    {"https://x-access-token:ghs_secret@github.com/demisto/content.git", "github.com",
     "demisto/content"},
    {"https://github.example.com:8443/team-a/my.repo_1.git", "github.example.com",
     "team-a/my.repo_1"},
    {"git@github.com:demisto/content.git", "github.com", "demisto/content"},
    {"git@github.com:demisto/content", "github.com", "demisto/content"},
    {"git@ghe.example.com:/org/repo.git", "ghe.example.com", "org/repo"},
    {"ghe.example.com:org/repo.git", "ghe.example.com", "org/repo"},
    {"ssh://git@github.com/demisto/content.git", "github.com", "demisto/content"},
    {"ssh://git@ghe.example.com:2222/org/repo", "ghe.example.com", "org/repo"},
    {"git+ssh://git@github.com/demisto/content.git", "github.com", "demisto/content"},
    {"ssh://git@[2001:db8::1]:22/org/repo.git", "[2001:db8::1]", "org/repo"},
    /* ".git" is stripped once: a repository may be called "x.git". */
    {"https://github.com/o/x.git.git", "github.com", "o/x.git"},
};

static void test_remote_urls(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(good_remotes) / sizeof(*good_remotes); i++) {
		struct pr_repo repo = PR_REPO_INIT;
		struct db_err err = DB_ERR_INIT;
		int ret = pr_repo_from_remote(&repo, good_remotes[i].url, &err);

		if (ret)
			fail_msg("%s: %s", good_remotes[i].url, err.msg);
		assert_string_equal(repo.host, good_remotes[i].host);
		assert_string_equal(repo.full, good_remotes[i].full);
		assert_int_equal(strlen(repo.owner) + 1 + strlen(repo.name), strlen(repo.full));
		pr_repo_release(&repo);
	}
}

static const char *const bad_remotes[] = {
    "https://github.com/demisto",
    "https://github.com/demisto/content/extra",
    "https://gitlab.example.com/group/sub/repo.git",
    "https://github.com/",
    "https://github.com",
    "git://github.com/demisto/content.git",
    "file:///srv/git/content.git",
    "ftp://github.com/demisto/content",
    "/srv/git/content.git",
    "../content",
    "content",
    "",
    "https://github.com/../content",
    "https://github.com/demisto/..",
    "https://github.com/demisto/content.git?ref=x",
    "https://github.com/demi sto/content",
    "git@github.com:demisto",
    "git@github.com:demisto/content/x",
    "./dir:with/colon",
    "https://bad host/o/r",
};

static void test_bad_remote_urls(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad_remotes) / sizeof(*bad_remotes); i++) {
		struct pr_repo repo = PR_REPO_INIT;
		struct db_err err = DB_ERR_INIT;
		int ret = pr_repo_from_remote(&repo, bad_remotes[i], &err);

		if (ret != DB_EUSAGE)
			fail_msg("'%s' was accepted as '%s'", bad_remotes[i],
			         repo.full ? repo.full : "?");
		assert_int_equal(err.code, DB_EUSAGE);
		/* The message names the URL it is about. */
		assert_non_null(strstr(err.msg, "remote URL '"));
		assert_null(repo.full);
		pr_repo_release(&repo);
	}
}

/* A password or token in a remote URL never reaches an error message. */
static void test_bad_remote_url_hides_password(void **state)
{
	struct pr_repo repo = PR_REPO_INIT;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	assert_int_equal(
	    pr_repo_from_remote(&repo, "https://bot:ghp_TOPSECRET@github.com/only-owner", &err),
	    DB_EUSAGE);
	assert_null(strstr(err.msg, "TOPSECRET"));
	assert_non_null(strstr(err.msg, "'https://bot:***@github.com/only-owner'"));
	db_err_clear(&err);
	assert_int_equal(pr_repo_from_remote(&repo, "git@github.com:only-owner", &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "'git@github.com:only-owner'"));
	db_err_clear(&err);
	/* Control characters are shown as '?', not sent to the terminal. */
	assert_int_equal(pr_repo_from_remote(&repo, "https://github.com/a\x1b[2J", &err),
	                 DB_EUSAGE);
	assert_non_null(strstr(err.msg, "'https://github.com/a?[2J'"));
	pr_repo_release(&repo);
}

static void test_owner_name(void **state)
{
	static const char *const bad[] = {
	    "demisto",  "demisto/", "/content", "a/b/c", "../x", "o/..",         "o/.",   "o/r?x=1",
	    "o/r#frag", "o/r name", "",         "o/r\n", "o//r", "o/r%2f..%2fx", "o\\r/x"};
	struct pr_repo repo = PR_REPO_INIT;
	struct db_err err = DB_ERR_INIT;
	size_t i;
	(void)state;

	assert_int_equal(pr_repo_parse(&repo, "demisto/content", &err), 0);
	assert_null(repo.host);
	assert_string_equal(repo.owner, "demisto");
	assert_string_equal(repo.name, "content");
	assert_string_equal(repo.full, "demisto/content");
	pr_repo_release(&repo);
	assert_int_equal(pr_repo_parse(&repo, "My-Org/repo.name_2", &err), 0);
	pr_repo_release(&repo);

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		db_err_clear(&err);
		if (pr_repo_parse(&repo, bad[i], &err) != DB_EUSAGE)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(err.msg, "pull_request.repo '"));
		assert_null(repo.full);
	}
	pr_repo_release(&repo);
	pr_repo_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remote_urls),
	    cmocka_unit_test(test_bad_remote_urls),
	    cmocka_unit_test(test_bad_remote_url_hides_password),
	    cmocka_unit_test(test_owner_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

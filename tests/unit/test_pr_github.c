/*
 * The GitHub backend of the forge (updater/pr_github.c through updater/forge.h), end to end
 * against tests/stubs/ghstub.py: an in-memory GitHub on loopback with its own bare repository,
 * started by this test and stopped by its PID.
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

#include <pthread.h>
#include <time.h>

#include "forgetest.h"
#include "updater/forge.h"
#include "updater/pr_github.h"

/* Distinctive, so that a search for it cannot match anything else. */
#define TOKEN      "ghp_dockerbumpTEST0token0Zq8Xv"
#define TOKEN_ENV  "DOCKERBUMP_TEST_GITHUB_TOKEN"
#define READ_TOKEN "ghp_dockerbumpREADonly0token0Ab"
#define READ_ENV   "DOCKERBUMP_TEST_GITHUB_READ_TOKEN"
#define REPO       "demisto/content"
#define LABEL      "docker-image-auto-update"
#define PREFIX     "dockerbump/"

static struct strlist labels;

static int start(void **state)
{
	(void)state;
	strlist_push(&labels, LABEL);
	strlist_push(&labels, "ready-for-review");
	return stubsrv_start(&srv, &(struct stubsrv_opts){.script = "ghstub.py",
	                                                  .prefix = "/api/v3",
	                                                  .token_env = TOKEN_ENV,
	                                                  .token = TOKEN,
	                                                  .read_env = READ_ENV,
	                                                  .read_token = READ_TOKEN,
	                                                  .repos = {REPO, "other/repo"}});
}

static int stop(void **state)
{
	(void)state;
	stubsrv_stop(&srv);
	strlist_clear(&labels);
	return 0;
}

/* --- the client under test ------------------------------------------------------------ */

static struct forge *forge_with(const char *token_env, const char *repo)
{
	return forgetest_forge(FORGE_GITHUB, token_env, repo);
}

static struct forge *client(void)
{
	return forge_with(TOKEN_ENV, REPO);
}

static const struct pr_item items[] = {
    {"HelloWorld", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld", NULL,
     "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
    {"Broken", "Packs/Tools/Scripts/Broken/Broken.yml", "Tools", NULL, "3.10.13.83255", NULL, "ok",
     "exception (ImportError)", 1, "ImportError: No module named 'six'\n"},
};

/* The title and body of group `group` on branch `head` with target `tag`. */
static struct forgetest_text text_for(const char *head, const char *group, const char *tag)
{
	struct pr_request req = {0};

	req.repo = REPO;
	req.head = head;
	req.base = "main";
	req.group = group;
	req.labels = &labels;
	req.items = items;
	req.nr_items = 2;
	req.image = "demisto/python3";
	req.tag = tag;
	return forgetest_text(&req);
}

static const json_t *pull_in_state(json_t *st, long number)
{
	const json_t *p;
	size_t i;

	json_array_foreach(
	    json_object_get(json_object_get(json_object_get(st, "repos"), REPO), "pulls"), i, p)
	{
		if (json_integer_value(json_object_get(p, "number")) == number)
			return p;
	}
	return NULL;
}

/* --- preflight ------------------------------------------------------------------------ */

static void test_check(void **state)
{
	struct forge *f;
	struct db_err err = DB_ERR_INIT;
	char *branch = NULL;
	(void)state;
	NEED_STUB();

	f = client();
	EXPECT_CODE(0, &err, forge_check(f, &branch, &err));
	assert_string_equal(branch, "main");
	free(branch);
	/* One authenticated read, and nothing else. */
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 1);
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content"), 1);
	forge_free(f);

	/* A token that may only read: refused before anything is written. */
	setenv(READ_ENV, READ_TOKEN, 1);
	f = forge_with(READ_ENV, REPO);
	EXPECT_CODE(DB_EAUTH, &err, forge_check(f, &branch, &err));
	assert_null(branch);
	assert_non_null(strstr(err.msg, "may not push to 'demisto/content'"));
	assert_non_null(strstr(err.msg, READ_ENV));
	/* Had it gone on, GitHub would have refused the write itself (403). */
	{
		struct forge_issue issue;
		int changed;
		struct strlist one = {0};
		strlist_push(&one, LABEL);
		db_err_clear(&err);
		EXPECT_CODE(
		    DB_EAUTH, &err,
		    forge_dashboard(f, &issue, "dockerbump dashboard", "x", &one, &changed, &err));
		assert_non_null(strstr(err.msg, "(403: Resource not accessible by personal access "
		                                "token)"));
		strlist_clear(&one);
	}
	forge_free(f);

	db_err_clear(&err);
	f = forge_with(TOKEN_ENV, "demisto/no-such-repo");
	EXPECT_CODE(DB_ENOTFOUND, &err, forge_check(f, &branch, &err));
	assert_non_null(strstr(err.msg, "repository 'demisto/no-such-repo' not found (404"));
	assert_non_null(strstr(err.msg, srv.host));
	forge_free(f);

	db_err_clear(&err);
	setenv("DOCKERBUMP_TEST_WRONG_TOKEN", "ghp_not_the_right_one", 1);
	f = forge_with("DOCKERBUMP_TEST_WRONG_TOKEN", REPO);
	EXPECT_CODE(DB_EAUTH, &err, forge_check(f, &branch, &err));
	assert_non_null(strstr(err.msg, "refused the token (401)"));
	assert_null(strstr(err.msg, "ghp_not_the_right_one"));
	forge_free(f);
	/* Only the refused write reached the stand-in. */
	assert_int_equal(stubsrv_writes(&srv), 1);
}

/* --- the life of one pull request ----------------------------------------------------- */

static void test_create_list_update_close(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	struct forgetest_text t2 = text_for("dockerbump/group-1", "1", "3.11.10.116949");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-1", &labels);
	struct forge_pr pr;
	struct forge_prs prs;
	struct db_err err = DB_ERR_INIT;
	json_t *st, *log;
	const json_t *p;
	int changed = -1;
	size_t writes;
	(void)state;
	NEED_STUB();

	stubsrv_branch(&srv, "dockerbump/group-1");
	f = client();
	pr = forgetest_create(f, &s);
	assert_true(pr.number > 0);
	assert_string_equal(pr.head, "dockerbump/group-1");
	assert_string_equal(pr.base, "main");
	assert_string_equal(pr.title, "Update demisto/python3 to 3.11.10.113941 (group 1)");
	assert_string_equal(pr.body, t.body.ptr);
	assert_int_equal(pr.state, FORGE_PR_OPEN);
	assert_true(forgetest_has_label(&pr.labels, LABEL) &&
	            forgetest_has_label(&pr.labels, "ready-for-review"));
	assert_string_equal(pr.marker.branch, "dockerbump/group-1");
	assert_string_equal(pr.marker.group, "1");
	assert_int_equal(pr.marker.nr, 1); /* the blocked item is not in the branch */
	assert_string_equal(pr.marker.v[0].tag, "3.11.10.113941");
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	p = pull_in_state(st, pr.number);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "body")), t.body.ptr);
	assert_false(json_is_true(json_object_get(p, "draft")));
	json_decref(st);
	/* GitHub's headers on every request. */
	log = stubsrv_requests(&srv, NULL, NULL);
	{
		size_t i;
		json_t *e;
		json_array_foreach(log, i, e)
		{
			const json_t *h = json_object_get(e, "headers");
			assert_string_equal(json_string_value(json_object_get(h, "accept")),
			                    "application/vnd.github+json");
			assert_string_equal(
			    json_string_value(json_object_get(h, "x-github-api-version")),
			    "2022-11-28");
			assert_string_equal(json_string_value(json_object_get(h, "authorization")),
			                    "[expected token]");
			assert_int_equal(
			    strncmp(json_string_value(json_object_get(h, "user-agent")),
			            "dockerbump/", 11),
			    0);
		}
	}
	json_decref(log);

	/* Read back: found by label and marker, open. */
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, 1);
	assert_int_equal(prs.v[0].number, pr.number);
	assert_string_equal(prs.v[0].head, "dockerbump/group-1");
	assert_string_equal(prs.v[0].base, "main");
	assert_int_equal(prs.v[0].state, FORGE_PR_OPEN);
	assert_true(prs.v[0].created_at > 0);

	/* The same plan writes nothing (one read to confirm the head). */
	writes = stubsrv_writes(&srv);
	EXPECT_CODE(0, &err, forge_pr_update(f, &prs.v[0], &s, &changed, &err));
	assert_int_equal(changed, 0);
	assert_int_equal(stubsrv_writes(&srv), writes);
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content/pulls/1"), 1);

	/* A newer tag: one PATCH with the new title and body, labels already there. */
	s = forgetest_spec(&t2, "dockerbump/group-1", &labels);
	EXPECT_CODE(0, &err, forge_pr_update(f, &prs.v[0], &s, &changed, &err));
	assert_int_equal(changed, 1);
	assert_int_equal(stubsrv_writes(&srv), writes + 1);
	assert_int_equal(stubsrv_count(&srv, "PATCH", "/repos/demisto/content/pulls/1"), 1);
	assert_string_equal(prs.v[0].title, "Update demisto/python3 to 3.11.10.116949 (group 1)");
	assert_string_equal(prs.v[0].marker.v[0].tag, "3.11.10.116949");

	/* Closed with a comment. */
	EXPECT_CODE(0, &err, forge_pr_close(f, &prs.v[0], "Closed: nothing pending", &err));
	assert_int_equal(prs.v[0].state, FORGE_PR_CLOSED);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/issues/1/comments"),
	                 1);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	p = pull_in_state(st, pr.number);
	assert_string_equal(json_string_value(json_object_get(p, "state")), "closed");
	assert_true(json_is_null(json_object_get(p, "merged_at")));
	{
		const json_t *repo = json_object_get(json_object_get(st, "repos"), REPO);
		const json_t *comments = json_object_get(json_object_get(repo, "comments"), "1");
		assert_int_equal(json_array_size(comments), 1);
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(comments, 0), "body")),
		    "Closed: nothing pending");
	}
	json_decref(st);
	/* Closing again writes nothing. */
	writes = stubsrv_writes(&srv);
	EXPECT_CODE(0, &err, forge_pr_close(f, &prs.v[0], "again", &err));
	assert_int_equal(stubsrv_writes(&srv), writes);
	/* An update of a closed one is refused. */
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_update(f, &prs.v[0], &s, &changed, &err));
	assert_non_null(strstr(err.msg, "no longer open"));

	forge_prs_release(&prs);
	forge_pr_release(&pr);
	forgetest_text_release(&t);
	forgetest_text_release(&t2);
	forge_free(f);
}

/* A draft is opened as one; an existing pull request's draft state is never touched. */
static void test_draft(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/canary", "canary", "3.11.10.113941");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/canary", &labels);
	struct forge_pr pr;
	json_t *post;
	(void)state;
	NEED_STUB();

	stubsrv_branch(&srv, "dockerbump/canary");
	s.draft = 1;
	f = client();
	pr = forgetest_create(f, &s);
	assert_true(pr.draft);
	assert_string_equal(pr.title, "Update demisto/python3 to 3.11.10.113941 (canary)");
	post = stubsrv_requests(&srv, "POST", "/repos/demisto/content/pulls");
	assert_true(json_is_true(
	    json_object_get(json_object_get(json_array_get(post, 0), "body"), "draft")));
	json_decref(post);
	forge_pr_release(&pr);
	forgetest_text_release(&t);
	forge_free(f);
}

/* What GitHub refuses, the stand-in refuses, and the client says clearly. */
static void test_refusals(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-2", "2", "3.11.10.113941");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-2", &labels);
	struct forge_pr pr, again;
	struct db_err err = DB_ERR_INIT;
	json_t *post, *st;
	int created = -1;
	(void)state;
	NEED_STUB();

	f = client();
	/* The head branch was never pushed. */
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_create(f, &pr, &s, &err));
	assert_non_null(strstr(err.msg, "(422: Validation Failed; head invalid)"));
	assert_null(pr.url);
	/* A base that does not exist ("origin/main" is what a clone calls it). */
	stubsrv_branch(&srv, "dockerbump/group-2");
	s.base = "origin/main";
	db_err_clear(&err);
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_create(f, &pr, &s, &err));
	assert_non_null(strstr(err.msg, "base invalid"));
	/* A head without commits over the base. */
	gittest_sh("cd '%s' && git push -q -f '%s' main:refs/heads/dockerbump/group-3", srv.work,
	           srv.bare);
	s.base = "main";
	s.head = "dockerbump/group-3";
	db_err_clear(&err);
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_create(f, &pr, &s, &err));
	assert_non_null(strstr(err.msg, "No commits between main and dockerbump/group-3"));

	/* A second pull request for the same head: GitHub answers 422, and the client takes the
	 * open one instead of failing or opening another. */
	s.head = "dockerbump/group-2";
	pr = forgetest_create(f, &s);
	again = forgetest_create(f, &s);
	assert_int_equal(again.number, pr.number);
	post = stubsrv_requests(&srv, "POST", "/repos/demisto/content/pulls");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(post, json_array_size(post) - 1), "status")),
	                 422);
	json_decref(post);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	assert_int_equal(json_array_size(json_object_get(
	                     json_object_get(json_object_get(st, "repos"), REPO), "pulls")),
	                 1);
	json_decref(st);

	/* A label colour GitHub does not take. */
	db_err_clear(&err);
	EXPECT_CODE(DB_EUSAGE, &err,
	            forge_label_ensure(f, "dockerbump", "blue", NULL, &created, &err));
	assert_non_null(strstr(err.msg, "refused the label 'dockerbump' with colour 'blue' (422"));
	assert_int_equal(created, 0);
	EXPECT_CODE(0, &err, forge_label_ensure(f, "dockerbump", "1d76db", "bot", &created, &err));
	assert_int_equal(created, 1);
	EXPECT_CODE(0, &err, forge_label_ensure(f, "dockerbump", "1d76db", "bot", &created, &err));
	assert_int_equal(created, 0);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/labels"), 2);

	/* A body over GitHub's limit never leaves the client. */
	{
		struct buf big = BUF_INIT;
		size_t n = stubsrv_count(&srv, NULL, NULL);
		buf_grow(&big, 70000);
		while (big.len < 70000)
			buf_adds(&big, "0123456789");
		s.body = big.ptr;
		db_err_clear(&err);
		forge_pr_release(&again);
		EXPECT_CODE(DB_ETOOBIG, &err, forge_pr_create(f, &again, &s, &err));
		assert_int_equal(stubsrv_count(&srv, NULL, NULL), n);
		buf_release(&big);
	}
	forge_pr_release(&pr);
	forge_pr_release(&again);
	forgetest_text_release(&t);
	forge_free(f);
}

/* Open, merged (with its merge time) and closed pull requests come back; others do not. */
static void test_list_states(void **state)
{
	struct forge *f;
	struct forge_prs prs;
	json_t *pulls = json_array(), *issues;
	(void)state;
	NEED_STUB();

	forgetest_seed_entry(pulls, &items[0], "dockerbump/group-1", "open", 1700000000, 0, LABEL);
	forgetest_seed_entry(pulls, &items[0], "dockerbump/canary", "merged", 1700000100,
	                     1700050000, LABEL);
	forgetest_seed_entry(pulls, &items[0], "dockerbump/group-2", "closed", 1700000200, 0,
	                     LABEL);
	/* Not the bot's: no label, another prefix, the label on a human's branch. */
	forgetest_seed_entry(pulls, &items[0], "dockerbump/group-3", "open", 1700000300, 0, NULL);
	forgetest_seed_entry(pulls, &items[0], "renovate/group-4", "open", 1700000400, 0, LABEL);
	json_array_append_new(pulls, json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "head", "feature/x",
	                                       "base", "main", "title", "a human's", "body",
	                                       "no marker here", "labels", LABEL));
	issues = json_pack("[{s:s, s:s, s:[s]}]", "title", "dockerbump dashboard", "body", "hi",
	                   "labels", LABEL);
	stubsrv_seed(&srv, REPO, pulls, issues);
	json_decref(pulls);
	json_decref(issues);

	f = client();
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, 3);
	/* Newest first. */
	assert_string_equal(prs.v[0].head, "dockerbump/group-2");
	assert_int_equal(prs.v[0].state, FORGE_PR_CLOSED);
	assert_true(prs.v[0].closed_at > 0);
	assert_int_equal(prs.v[0].merged_at, 0);
	assert_string_equal(prs.v[1].head, "dockerbump/canary");
	assert_int_equal(prs.v[1].state, FORGE_PR_MERGED);
	assert_int_equal(prs.v[1].merged_at, 1700050000);
	assert_string_equal(prs.v[1].marker.group, "canary");
	assert_string_equal(prs.v[2].head, "dockerbump/group-1");
	assert_int_equal(prs.v[2].state, FORGE_PR_OPEN);
	assert_int_equal(prs.v[2].created_at, 1700000000);
	/* One listing page, and one read for the labelled pull request without a marker. */
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content/issues"), 1);
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content/pulls/6"), 1);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 2);
	forge_prs_release(&prs);
	forge_free(f);
}

/*
 * Issue 9's cost: 350 bot pull requests over 4 pages are read with one request a page, and
 * a quiet night (the dashboard unchanged) reads nothing more and writes nothing.
 */
static void test_listing_cost(void **state)
{
	struct forge *f;
	struct forge_prs prs;
	struct forge_issue issue;
	struct forge_stats stats;
	struct db_err err = DB_ERR_INIT;
	struct timespec t0, t1;
	json_t *pulls = json_array(), *issues;
	char head[64];
	int changed = -1, i;
	const int n = 350;
	(void)state;
	NEED_STUB();

	for (i = 0; i < n; i++) {
		snprintf(head, sizeof(head), "dockerbump/group-%d", i);
		forgetest_seed_entry(pulls, &items[0], head, i % 3 ? "merged" : "open",
		                     1700000000 + i, i % 3 ? 1700100000 + i : 0, LABEL);
	}
	/* Noise the listing skips: unlabelled pull requests are not even sent. */
	for (i = 0; i < 50; i++) {
		snprintf(head, sizeof(head), "feature/%d", i);
		json_array_append_new(pulls, json_pack("{s:s, s:s}", "head", head, "base", "main"));
	}
	issues = json_pack("[{s:s, s:s, s:[s]}]", "title", "dockerbump dashboard", "body", "quiet",
	                   "labels", LABEL);
	stubsrv_seed(&srv, REPO, pulls, issues);
	json_decref(pulls);
	json_decref(issues);

	f = client();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prs = forgetest_list(f, LABEL, PREFIX);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(prs.nr, n);
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content/issues"), 4);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 4);
	forge_get_stats(f, &stats);
	assert_int_equal(stats.pages, 4);
	assert_int_equal(stats.reads, 4);
	print_message("github: %d pull requests, %lu pages, %lu reads (%.2f per page), listed in "
	              "%.3f s\n",
	              n, stats.pages, stats.reads, (double)stats.reads / (double)stats.pages,
	              (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

	/* The dashboard was in the listing: no request at all when it says the same. */
	{
		struct strlist one = {0};
		strlist_push(&one, LABEL);
		EXPECT_CODE(0, &err,
		            forge_dashboard(f, &issue, "dockerbump dashboard", "quiet", &one,
		                            &changed, &err));
		strlist_clear(&one);
	}
	assert_int_equal(changed, 0);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 4);
	assert_int_equal(stubsrv_writes(&srv), 0);
	forge_issue_release(&issue);
	forge_prs_release(&prs);
	forge_free(f);
}

/* A marker can say anything: before a write the real head is read, and a pull request whose
 * head is another branch, or a fork's, is not touched. */
static void test_refuses_foreign_heads(void **state)
{
	struct forge *f;
	struct forge_prs prs;
	struct forgetest_text t = text_for("dockerbump/group-7", "7", "3.11.10.113941");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-7", &labels);
	struct db_err err = DB_ERR_INIT;
	json_t *pulls = json_array(), *p;
	int changed = -1;
	size_t i;
	(void)state;
	NEED_STUB();

	/* A human's branch whose body claims to be group 7, and a fork's group-7. */
	p = json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "head", "feature/mine", "base", "main",
	              "title", "mine", "body", t.body.ptr, "labels", LABEL);
	json_array_append_new(pulls, p);
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "head", "dockerbump/group-7", "base",
	              "main", "title", "fork", "body", t.body.ptr, "fork", "evil/content", "labels",
	              LABEL);
	json_array_append_new(pulls, p);
	stubsrv_seed(&srv, REPO, pulls, NULL);
	json_decref(pulls);

	f = client();
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, 2);
	for (i = 0; i < prs.nr; i++) {
		/* Newest first: the fork's, then the human's. */
		const char *why = i == 0 ? "its head is 'dockerbump/group-7' of a fork"
		                         : "its head is 'feature/mine', not";
		assert_string_equal(prs.v[i].head, "dockerbump/group-7");
		db_err_clear(&err);
		EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_update(f, &prs.v[i], &s, &changed, &err));
		assert_non_null(strstr(err.msg, "refusing to write to pull request #"));
		assert_non_null(strstr(err.msg, why));
		db_err_clear(&err);
		EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_close(f, &prs.v[i], "bye", &err));
		assert_non_null(strstr(err.msg, why));
	}
	assert_int_equal(stubsrv_writes(&srv), 0);
	forge_prs_release(&prs);
	forgetest_text_release(&t);
	forge_free(f);
}

/* The dashboard: created once, edited only when its body changes, found again by a fresh
 * client without a listing. */
static void test_dashboard(void **state)
{
	struct forge *f;
	struct forge_issue a, b, c;
	struct db_err err = DB_ERR_INIT;
	struct strlist none = {0};
	int changed = -1;
	json_t *st, *issues;
	(void)state;
	NEED_STUB();

	f = client();
	EXPECT_CODE(DB_EUSAGE, &err,
	            forge_dashboard(f, &a, "dockerbump dashboard", "v1", &none, &changed, &err));
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &a, "dockerbump dashboard", "v1", &labels, &changed, &err));
	assert_int_equal(changed, 1);
	assert_true(a.number > 0);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/issues"), 1);
	forge_free(f);

	f = client();
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &b, "dockerbump dashboard", "v1", &labels, &changed, &err));
	assert_int_equal(changed, 0);
	assert_int_equal(b.number, a.number);
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &c, "dockerbump dashboard", "v2", &labels, &changed, &err));
	assert_int_equal(changed, 1);
	assert_int_equal(c.number, a.number);
	assert_int_equal(stubsrv_count(&srv, "PATCH", NULL), 1);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/issues"), 1);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	issues = json_object_get(json_object_get(json_object_get(st, "repos"), REPO), "issues");
	assert_int_equal(json_array_size(issues), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(issues, 0), "body")),
	                    "v2");
	json_decref(st);
	forge_issue_release(&a);
	forge_issue_release(&b);
	forge_issue_release(&c);
	forge_free(f);
}

/* Rate limits are waited out: 429 with retry-after, 403 with retry-after, 403 with the
 * primary limit's reset time. */
static void test_rate_limits(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-1", &labels);
	struct forge_pr pr;
	struct forge_prs prs;
	struct buf captured = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	(void)state;
	NEED_STUB();

	stubsrv_branch(&srv, "dockerbump/group-1");
	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", "
	                    "\"kind\": \"429\", \"times\": 2, \"retry_after\": 1}");
	stubsrv_fault(&srv, "{\"method\": \"POST\", \"path\": \"/repos/demisto/content/pulls\", "
	                    "\"kind\": \"403-retry\", \"retry_after\": 1}");
	stubsrv_fault(&srv, "{\"method\": \"POST\", \"path\": "
	                    "\"/repos/demisto/content/issues/1/labels\", \"kind\": \"403-reset\", "
	                    "\"reset_in\": 1}");
	f = client();
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(stubsrv_count(&srv, "GET", "/repos/demisto/content/issues"), 3);
	pr = forgetest_create(f, &s);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/pulls"), 2);
	assert_int_equal(stubsrv_count(&srv, "POST", "/repos/demisto/content/issues/1/labels"), 2);
	assert_int_equal(file_read(&captured, srv.capture, 0, &err), 0);
	assert_non_null(strstr(captured.ptr, "rate-limits POST"));
	buf_release(&captured);
	forge_pr_release(&pr);
	forge_prs_release(&prs);
	forgetest_text_release(&t);
	forge_free(f);
}

/* A fault on one request and the error it must turn into: code, words in the message, and
 * how many times the request was sent (no retry where a retry cannot help). */
static const struct {
	const char *fault, *method, *path;
	int code;
	const char *words;
	size_t sent;
} fault_cases[] = {
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": \"401\"}", "GET",
     "/repos/demisto/content/issues", DB_EAUTH, "refused the token (401)", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": \"403\"}", "GET",
     "/repos/demisto/content/issues", DB_EAUTH,
     "(403: Resource not accessible by personal access token)", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": \"404\"}", "GET",
     "/repos/demisto/content/issues", DB_ENOTFOUND, "repository 'demisto/content' not found", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": "
     "\"badjson\"}",
     "GET", "/repos/demisto/content/issues", DB_EPARSE, "with invalid JSON", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": "
     "\"link-loop\", \"times\": -1}",
     "GET", "/repos/demisto/content/issues", DB_ENET, "loop", 2},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": "
     "\"link-offsite\"}",
     "GET", "/repos/demisto/content/issues", DB_ENET, "on another host; not followed", 1},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": \"500\", "
     "\"times\": -1}",
     "GET", "/repos/demisto/content/issues", DB_ENET, "500", 4},
    {"{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", \"kind\": "
     "\"403-retry\", \"times\": -1}",
     "GET", "/repos/demisto/content/issues", DB_ENET, "keeps rate-limiting", 4},
};

static void test_faults_become_clear_errors(void **state)
{
	size_t i;
	(void)state;
	NEED_STUB();

	for (i = 0; i < sizeof(fault_cases) / sizeof(*fault_cases); i++) {
		struct forge_prs prs = {0};
		struct db_err err = DB_ERR_INIT;
		struct forge *f = client();
		json_t *pulls = json_array();

		stubsrv_reset(&srv);
		forgetest_seed_entry(pulls, &items[0], "dockerbump/group-1", "open", 1, 0, LABEL);
		stubsrv_seed(&srv, REPO, pulls, NULL);
		json_decref(pulls);
		stubsrv_fault(&srv, fault_cases[i].fault);
		stubsrv_capture_begin(&srv);
		if (forge_list_prs(f, &prs, LABEL, PREFIX, &err) != fault_cases[i].code)
			fail_msg("case %zu: got '%s'", i, err.msg);
		stubsrv_capture_end(&srv);
		if (!strstr(err.msg, fault_cases[i].words) || !strstr(err.msg, srv.host))
			fail_msg("case %zu: '%s' lacks '%s' or the host", i, err.msg,
			         fault_cases[i].words);
		assert_null(strstr(err.msg, "labels="));
		if (stubsrv_count(&srv, fault_cases[i].method, fault_cases[i].path) !=
		    fault_cases[i].sent)
			fail_msg("case %zu: %s '%s' was not sent %zu times", i,
			         fault_cases[i].method, fault_cases[i].path, fault_cases[i].sent);
		forge_prs_release(&prs);
		forge_free(f);
	}
}

/* A redirect to another host: libcurl does not send the token there, and the answer is not
 * trusted. */
static void test_redirect_to_another_host_is_refused(void **state)
{
	struct forge *f;
	struct forge_prs prs = {0};
	struct db_err err = DB_ERR_INIT;
	json_t *log, *e;
	size_t i, redirected = 0;
	(void)state;
	NEED_STUB();

	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"/repos/demisto/content/issues\", "
	                    "\"kind\": \"redirect\"}");
	f = client();
	EXPECT_CODE(DB_ENET, &err, forge_list_prs(f, &prs, LABEL, PREFIX, &err));
	assert_non_null(strstr(err.msg, "redirected to another host"));
	log = stubsrv_requests(&srv, "GET", "/repos/demisto/content/issues");
	json_array_foreach(log, i, e)
	{
		const char *host = json_string_value(json_object_get(e, "host"));
		if (strncmp(host, "localhost:", 10))
			continue;
		redirected++;
		assert_null(json_object_get(json_object_get(e, "headers"), "authorization"));
	}
	assert_true(redirected >= 1);
	json_decref(log);
	forge_prs_release(&prs);
	forge_free(f);
}

struct job {
	struct forge *f;
	struct forge_pr_spec s;
	struct forge_pr pr;
	struct db_err err;
	int ret;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->ret = forge_pr_create(j->f, &j->pr, &j->s, &j->err);
	return NULL;
}

/* Three threads opening pull requests at once: the stand-in never sees two writes in
 * flight. */
static void test_writes_never_overlap(void **state)
{
	struct forge *f;
	struct job jobs[3];
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	pthread_t th[3];
	char heads[3][64];
	json_t *st;
	int i;
	(void)state;
	NEED_STUB();

	f = client();
	for (i = 0; i < 3; i++) {
		snprintf(heads[i], sizeof(heads[i]), "dockerbump/group-%d", 10 + i);
		stubsrv_branch(&srv, heads[i]);
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].f = f;
		jobs[i].s = forgetest_spec(&t, heads[i], &labels);
	}
	stubsrv_capture_begin(&srv);
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, run_job, &jobs[i]);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	stubsrv_capture_end(&srv);
	for (i = 0; i < 3; i++) {
		if (jobs[i].ret)
			fail_msg("%s: %s", heads[i], jobs[i].err.msg);
		forge_pr_release(&jobs[i].pr);
	}
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	assert_int_equal(json_integer_value(json_object_get(st, "max_concurrent_writes")), 1);
	json_decref(st);
	forgetest_text_release(&t);
	forge_free(f);
}

static void test_missing_token(void **state)
{
	struct forge_opts opts = {0};
	struct forge *f = NULL;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
	opts.provider = FORGE_GITHUB;
	opts.api_url = "https://ghe.example.com/api/v3";
	opts.token_env = "DOCKERBUMP_TEST_NO_TOKEN";
	opts.repo = REPO;
	assert_int_equal(forge_new(&f, &opts, &err), DB_EAUTH);
	assert_null(f);
	assert_non_null(strstr(err.msg, "'DOCKERBUMP_TEST_NO_TOKEN'"));
	db_err_clear(&err);
	setenv("DOCKERBUMP_TEST_NO_TOKEN", "abc\r\nX-Injected: 1", 1);
	assert_int_equal(forge_new(&f, &opts, &err), DB_EAUTH);
	assert_null(strstr(err.msg, "X-Injected"));
	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
}

static void test_harness(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	(void)state;
	NEED_STUB();

	f = client();
	forgetest_harness(f, REPO, &t, &labels);
	forgetest_text_release(&t);
	forge_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FORGETEST(test_check),
	    FORGETEST(test_create_list_update_close),
	    FORGETEST(test_draft),
	    FORGETEST(test_refusals),
	    FORGETEST(test_list_states),
	    FORGETEST(test_listing_cost),
	    FORGETEST(test_refuses_foreign_heads),
	    FORGETEST(test_dashboard),
	    FORGETEST(test_harness),
	    FORGETEST(test_rate_limits),
	    FORGETEST(test_faults_become_clear_errors),
	    FORGETEST(test_redirect_to_another_host_is_refused),
	    FORGETEST(test_writes_never_overlap),
	    cmocka_unit_test(test_missing_token),
	};

	return cmocka_run_group_tests(tests, start, stop);
}

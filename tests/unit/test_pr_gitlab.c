/*
 * The GitLab backend of the forge (updater/pr_gitlab.c through updater/forge.h), end to end
 * against tests/stubs/glstub.py: an in-memory GitLab on loopback with its own bare
 * repository, started by this test and stopped by its PID. The project sits below nested
 * groups, as the vendor's own does.
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

#include <time.h>

#include "forgetest.h"
#include "updater/forge.h"

#define TOKEN      "glpat-dockerbumpTEST0token0Qw7"
#define TOKEN_ENV  "DOCKERBUMP_TEST_GITLAB_TOKEN"
#define READ_TOKEN "glpat-dockerbumpREADonly0Zx4"
#define READ_ENV   "DOCKERBUMP_TEST_GITLAB_READ_TOKEN"
#define PROJECT    "xsoar/bots/content"
#define PROJ       "/projects/xsoar%2Fbots%2Fcontent"
#define LABEL      "docker-image-auto-update"
#define PREFIX     "dockerbump/"

static struct strlist labels;

static int start(void **state)
{
	(void)state;
	strlist_push(&labels, LABEL);
	strlist_push(&labels, "ready-for-review");
	return stubsrv_start(&srv, &(struct stubsrv_opts){.script = "glstub.py",
	                                                  .prefix = "/api/v4",
	                                                  .token_env = TOKEN_ENV,
	                                                  .token = TOKEN,
	                                                  .read_env = READ_ENV,
	                                                  .read_token = READ_TOKEN,
	                                                  .repos = {PROJECT}});
}

static int stop(void **state)
{
	(void)state;
	stubsrv_stop(&srv);
	strlist_clear(&labels);
	return 0;
}

static struct forge *forge_with(const char *token_env, const char *project)
{
	return forgetest_forge(FORGE_GITLAB, token_env, project);
}

static struct forge *client(void)
{
	return forge_with(TOKEN_ENV, PROJECT);
}

static const struct pr_item items[] = {
    {"HelloWorld", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld", NULL,
     "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
};

static struct forgetest_text text_for(const char *head, const char *group, const char *tag)
{
	struct pr_request req = {0};

	req.repo = PROJECT;
	req.head = head;
	req.base = "main";
	req.group = group;
	req.items = items;
	req.nr_items = 1;
	req.image = "demisto/python3";
	req.tag = tag;
	req.body_max = forge_body_max(FORGE_GITLAB);
	return forgetest_text(&req);
}

static const json_t *project_state(json_t *st)
{
	return json_object_get(json_object_get(st, "projects"), PROJECT);
}

/* --- the tests ------------------------------------------------------------------------ */

static void test_check(void **state)
{
	struct forge *f;
	struct db_err err = DB_ERR_INIT;
	char *branch = NULL;
	json_t *log;
	(void)state;
	NEED_STUB();

	f = client();
	EXPECT_CODE(0, &err, forge_check(f, &branch, &err));
	assert_string_equal(branch, "main");
	free(branch);
	/* One authenticated read of the project by its URL-encoded path. */
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 1);
	assert_int_equal(stubsrv_count(&srv, "GET", PROJ), 1);
	log = stubsrv_requests(&srv, NULL, NULL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(log, 0), "headers"),
	                                      "private-token")),
	    "[expected token]");
	json_decref(log);
	forge_free(f);

	/* Reporter: may read, may not push. */
	f = forge_with(READ_ENV, PROJECT);
	EXPECT_CODE(DB_EAUTH, &err, forge_check(f, &branch, &err));
	assert_non_null(strstr(err.msg, "access level 20 in 'xsoar/bots/content'"));
	assert_non_null(strstr(err.msg, "Developer (30)"));
	/* Had it gone on, GitLab would have refused the write itself (403). */
	{
		struct forge_issue issue;
		int changed;
		db_err_clear(&err);
		EXPECT_CODE(DB_EAUTH, &err,
		            forge_dashboard(f, &issue, "dockerbump dashboard", "x", &labels,
		                            &changed, &err));
		assert_non_null(strstr(err.msg, "(403: 403 Forbidden)"));
	}
	forge_free(f);

	db_err_clear(&err);
	f = forge_with(TOKEN_ENV, "xsoar/bots/nothing");
	EXPECT_CODE(DB_ENOTFOUND, &err, forge_check(f, &branch, &err));
	assert_non_null(strstr(err.msg, "project 'xsoar/bots/nothing' not found (404"));
	forge_free(f);

	db_err_clear(&err);
	setenv("DOCKERBUMP_TEST_WRONG_TOKEN", "glpat-not-the-right-one", 1);
	f = forge_with("DOCKERBUMP_TEST_WRONG_TOKEN", PROJECT);
	EXPECT_CODE(DB_EAUTH, &err, forge_check(f, &branch, &err));
	assert_non_null(strstr(err.msg, "gitlab at '"));
	assert_non_null(strstr(err.msg, "refused the token (401)"));
	forge_free(f);
	/* Only the refused write reached the stand-in. */
	assert_int_equal(stubsrv_writes(&srv), 1);
}

static void test_create_list_update_close(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	struct forgetest_text t2 = text_for("dockerbump/group-1", "1", "3.11.10.116949");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-1", &labels);
	struct forge_pr pr;
	struct forge_prs prs;
	struct db_err err = DB_ERR_INIT;
	json_t *st, *post;
	const json_t *mr, *notes;
	int changed = -1;
	size_t writes;
	(void)state;
	NEED_STUB();

	stubsrv_branch(&srv, "dockerbump/group-1");
	f = client();
	pr = forgetest_create(f, &s);
	assert_int_equal(pr.number, 1);
	assert_string_equal(pr.head, "dockerbump/group-1");
	assert_string_equal(pr.base, "main");
	assert_string_equal(pr.title, "Update demisto/python3 to 3.11.10.113941 (group 1)");
	assert_string_equal(pr.body, t.body.ptr);
	assert_true(forgetest_has_label(&pr.labels, LABEL) &&
	            forgetest_has_label(&pr.labels, "ready-for-review"));
	assert_false(pr.draft);
	assert_string_equal(pr.marker.group, "1");
	assert_non_null(strstr(pr.url, "/xsoar/bots/content/-/merge_requests/1"));
	post = stubsrv_requests(&srv, "POST", PROJ "/merge_requests");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(post, 0), "body"), "labels")),
	                    LABEL ",ready-for-review");
	json_decref(post);

	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, 1);
	assert_string_equal(prs.v[0].head, "dockerbump/group-1");
	assert_int_equal(prs.v[0].state, FORGE_PR_OPEN);

	writes = stubsrv_writes(&srv);
	EXPECT_CODE(0, &err, forge_pr_update(f, &prs.v[0], &s, &changed, &err));
	assert_int_equal(changed, 0);
	assert_int_equal(stubsrv_writes(&srv), writes);

	s = forgetest_spec(&t2, "dockerbump/group-1", &labels);
	EXPECT_CODE(0, &err, forge_pr_update(f, &prs.v[0], &s, &changed, &err));
	assert_int_equal(changed, 1);
	assert_int_equal(stubsrv_count(&srv, "PUT", PROJ "/merge_requests/1"), 1);
	assert_string_equal(prs.v[0].title, "Update demisto/python3 to 3.11.10.116949 (group 1)");

	EXPECT_CODE(0, &err, forge_pr_close(f, &prs.v[0], "Closed: nothing pending", &err));
	assert_int_equal(prs.v[0].state, FORGE_PR_CLOSED);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	mr = json_array_get(json_object_get(project_state(st), "merge_requests"), 0);
	assert_string_equal(json_string_value(json_object_get(mr, "state")), "closed");
	notes = json_object_get(json_object_get(project_state(st), "notes"), "mr!1");
	assert_int_equal(json_array_size(notes), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 0), "body")),
	                    "Closed: nothing pending");
	json_decref(st);
	writes = stubsrv_writes(&srv);
	EXPECT_CODE(0, &err, forge_pr_close(f, &prs.v[0], "again", &err));
	assert_int_equal(stubsrv_writes(&srv), writes);

	forge_prs_release(&prs);
	forge_pr_release(&pr);
	forgetest_text_release(&t);
	forgetest_text_release(&t2);
	forge_free(f);
}

/* A draft is opened with GitLab's "Draft: " prefix and keeps it when its title is
 * rewritten. */
static void test_draft(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/canary", "canary", "3.11.10.113941");
	struct forgetest_text t2 = text_for("dockerbump/canary", "canary", "3.11.10.116949");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/canary", &labels);
	struct forge_pr pr;
	struct db_err err = DB_ERR_INIT;
	int changed = -1;
	size_t writes;
	(void)state;
	NEED_STUB();

	stubsrv_branch(&srv, "dockerbump/canary");
	s.draft = 1;
	f = client();
	pr = forgetest_create(f, &s);
	assert_true(pr.draft);
	assert_string_equal(pr.title, "Draft: Update demisto/python3 to 3.11.10.113941 (canary)");
	writes = stubsrv_writes(&srv);
	EXPECT_CODE(0, &err, forge_pr_update(f, &pr, &s, &changed, &err));
	assert_int_equal(changed, 0);
	assert_int_equal(stubsrv_writes(&srv), writes);
	s = forgetest_spec(&t2, "dockerbump/canary", &labels);
	EXPECT_CODE(0, &err, forge_pr_update(f, &pr, &s, &changed, &err));
	assert_int_equal(changed, 1);
	assert_true(pr.draft);
	assert_string_equal(pr.title, "Draft: Update demisto/python3 to 3.11.10.116949 (canary)");
	forge_pr_release(&pr);
	forgetest_text_release(&t);
	forgetest_text_release(&t2);
	forge_free(f);
}

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
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_create(f, &pr, &s, &err));
	assert_non_null(strstr(err.msg, "(400: source_branch does not exist)"));
	stubsrv_branch(&srv, "dockerbump/group-2");
	s.base = "origin/main";
	db_err_clear(&err);
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_create(f, &pr, &s, &err));
	assert_non_null(strstr(err.msg, "(400: target_branch does not exist)"));

	/* A second one for the same branches: GitLab's 409, and the open one is taken. */
	s.base = "main";
	pr = forgetest_create(f, &s);
	again = forgetest_create(f, &s);
	assert_int_equal(again.number, pr.number);
	post = stubsrv_requests(&srv, "POST", PROJ "/merge_requests");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(post, json_array_size(post) - 1), "status")),
	                 409);
	json_decref(post);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	assert_int_equal(json_array_size(json_object_get(project_state(st), "merge_requests")), 1);
	json_decref(st);

	db_err_clear(&err);
	EXPECT_CODE(DB_EUSAGE, &err,
	            forge_label_ensure(f, "dockerbump", "zzz", NULL, &created, &err));
	assert_non_null(strstr(err.msg, "(400: color must be a valid color code)"));
	EXPECT_CODE(0, &err, forge_label_ensure(f, "dockerbump", "1d76db", "bot", &created, &err));
	assert_int_equal(created, 1);
	EXPECT_CODE(0, &err, forge_label_ensure(f, "dockerbump", "1d76db", "bot", &created, &err));
	assert_int_equal(created, 0);
	post = stubsrv_requests(&srv, "POST", PROJ "/labels");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(post, 1), "body"), "color")),
	                    "#1d76db");
	json_decref(post);

	/* A description over GitLab's limit never leaves the client. */
	{
		struct buf big = BUF_INIT;
		size_t n = stubsrv_count(&srv, NULL, NULL);
		buf_grow(&big, PR_BODY_MAX_GITLAB + 10);
		while (big.len <= PR_BODY_MAX_GITLAB)
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

static void test_list_states(void **state)
{
	struct forge *f;
	struct forge_prs prs;
	json_t *mrs = json_array(), *p;
	(void)state;
	NEED_STUB();

	forgetest_seed_entry(mrs, &items[0], "dockerbump/group-1", "open", 1700000000, 0, LABEL);
	forgetest_seed_entry(mrs, &items[0], "dockerbump/canary", "merged", 1700000100, 1700050000,
	                     LABEL);
	forgetest_seed_entry(mrs, &items[0], "dockerbump/group-2", "closed", 1700000200, 0, LABEL);
	forgetest_seed_entry(mrs, &items[0], "dockerbump/group-3", "open", 1700000300, 0, NULL);
	forgetest_seed_entry(mrs, &items[0], "renovate/group-4", "open", 1700000400, 0, LABEL);
	/* A fork's merge request from a branch of the bot's name: never the bot's. */
	forgetest_seed_entry(mrs, &items[0], "dockerbump/group-5", "open", 1700000500, 0, LABEL);
	p = json_array_get(mrs, json_array_size(mrs) - 1);
	json_object_set_new(p, "fork", json_true());
	stubsrv_seed(&srv, PROJECT, mrs, NULL);
	json_decref(mrs);

	f = client();
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, 3);
	assert_string_equal(prs.v[0].head, "dockerbump/group-2");
	assert_int_equal(prs.v[0].state, FORGE_PR_CLOSED);
	assert_true(prs.v[0].closed_at > 0);
	assert_string_equal(prs.v[1].head, "dockerbump/canary");
	assert_int_equal(prs.v[1].state, FORGE_PR_MERGED);
	assert_int_equal(prs.v[1].merged_at, 1700050000);
	assert_string_equal(prs.v[2].head, "dockerbump/group-1");
	assert_int_equal(prs.v[2].state, FORGE_PR_OPEN);
	assert_int_equal(prs.v[2].created_at, 1700000000);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 1);
	forge_prs_release(&prs);
	forge_free(f);
}

/* Issue 9's cost on GitLab: 350 merge requests over 4 pages, one request a page; a quiet
 * night adds the dashboard's one read and writes nothing. Pages are followed by Link, and by
 * X-Next-Page when a proxy drops the Link header. */
static void test_listing_cost(void **state)
{
	struct forge *f;
	struct forge_prs prs;
	struct forge_issue issue;
	struct forge_stats stats;
	struct db_err err = DB_ERR_INIT;
	struct timespec t0, t1;
	json_t *mrs = json_array(), *issues;
	char head[64];
	int changed = -1, i;
	const int n = 350;
	(void)state;
	NEED_STUB();

	for (i = 0; i < n; i++) {
		snprintf(head, sizeof(head), "dockerbump/group-%d", i);
		forgetest_seed_entry(mrs, &items[0], head, i % 3 ? "merged" : "open",
		                     1700000000 + i, i % 3 ? 1700100000 + i : 0, LABEL);
	}
	issues = json_pack("[{s:s, s:s, s:[s, s]}]", "title", "dockerbump dashboard", "body",
	                   "quiet", "labels", LABEL, "ready-for-review");
	stubsrv_seed(&srv, PROJECT, mrs, issues);
	json_decref(mrs);
	json_decref(issues);

	f = client();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prs = forgetest_list(f, LABEL, PREFIX);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(prs.nr, n);
	assert_int_equal(stubsrv_count(&srv, "GET", PROJ "/merge_requests"), 4);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 4);
	forge_get_stats(f, &stats);
	assert_int_equal(stats.pages, 4);
	assert_int_equal(stats.reads, 4);
	print_message("gitlab: %d merge requests, %lu pages, %lu reads (%.2f per page), listed in "
	              "%.3f s\n",
	              n, stats.pages, stats.reads, (double)stats.reads / (double)stats.pages,
	              (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_CODE(
	    0, &err,
	    forge_dashboard(f, &issue, "dockerbump dashboard", "quiet", &labels, &changed, &err));
	assert_int_equal(changed, 0);
	assert_int_equal(stubsrv_count(&srv, NULL, NULL), 5);
	assert_int_equal(stubsrv_writes(&srv), 0);
	forge_issue_release(&issue);
	forge_prs_release(&prs);

	/* Without Link headers, X-Next-Page leads the way: the same 4 pages. */
	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"" PROJ "/merge_requests\", "
	                    "\"kind\": \"no-link\", \"times\": -1}");
	memset(&prs, 0, sizeof(prs));
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(prs.nr, n);
	assert_int_equal(stubsrv_count(&srv, "GET", PROJ "/merge_requests"), 8);
	forge_prs_release(&prs);
	forge_free(f);
}

/* A write to a merge request from a fork, or from another branch, is refused before
 * anything is written. */
static void test_refuses_foreign_heads(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-7", "7", "3.11.10.113941");
	struct forge_pr_spec s = forgetest_spec(&t, "dockerbump/group-7", &labels);
	struct forge_pr pr = {0};
	struct db_err err = DB_ERR_INIT;
	json_t *mrs = json_array(), *p;
	int changed = -1;
	(void)state;
	NEED_STUB();

	forgetest_seed_entry(mrs, &items[0], "dockerbump/group-7", "open", 1700000000, 0, LABEL);
	p = json_array_get(mrs, 0);
	json_object_set_new(p, "fork", json_true());
	forgetest_seed_entry(mrs, &items[0], "feature/mine", "open", 1700000001, 0, LABEL);
	stubsrv_seed(&srv, PROJECT, mrs, NULL);
	json_decref(mrs);

	f = client();
	pr.number = 1;
	pr.head = xstrdup("dockerbump/group-7");
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_update(f, &pr, &s, &changed, &err));
	assert_non_null(strstr(err.msg, "refusing to write to merge request !1"));
	assert_non_null(strstr(err.msg, "of a fork"));
	pr.number = 2;
	db_err_clear(&err);
	EXPECT_CODE(DB_ECONFLICT, &err, forge_pr_close(f, &pr, "bye", &err));
	assert_non_null(strstr(err.msg, "its head is 'feature/mine'"));
	assert_int_equal(stubsrv_writes(&srv), 0);
	forge_pr_release(&pr);
	forgetest_text_release(&t);
	forge_free(f);
}

static void test_dashboard(void **state)
{
	struct forge *f;
	struct forge_issue a, b, c;
	struct db_err err = DB_ERR_INIT;
	int changed = -1;
	json_t *st, *issues, *post;
	(void)state;
	NEED_STUB();

	f = client();
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &a, "dockerbump dashboard", "v1", &labels, &changed, &err));
	assert_int_equal(changed, 1);
	assert_int_equal(a.number, 1);
	post = stubsrv_requests(&srv, "POST", PROJ "/issues");
	assert_int_equal(json_array_size(post), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(post, 0), "body"), "labels")),
	                    LABEL ",ready-for-review");
	json_decref(post);
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &b, "dockerbump dashboard", "v1", &labels, &changed, &err));
	assert_int_equal(changed, 0);
	EXPECT_CODE(0, &err,
	            forge_dashboard(f, &c, "dockerbump dashboard", "v2", &labels, &changed, &err));
	assert_int_equal(changed, 1);
	assert_int_equal(c.number, 1);
	assert_int_equal(stubsrv_count(&srv, "PUT", PROJ "/issues/1"), 1);
	st = stubsrv_control(&srv, "GET", "/_stub/state", NULL);
	issues = json_object_get(project_state(st), "issues");
	assert_int_equal(json_array_size(issues), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(issues, 0), "description")), "v2");
	json_decref(st);
	forge_issue_release(&a);
	forge_issue_release(&b);
	forge_issue_release(&c);
	forge_free(f);
}

static void test_faults(void **state)
{
	struct forge *f;
	struct forge_prs prs = {0};
	struct db_err err = DB_ERR_INIT;
	(void)state;
	NEED_STUB();

	f = client();
	/* GitLab's 429 with Retry-After and RateLimit-* headers is waited out. */
	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"" PROJ "/merge_requests\", "
	                    "\"kind\": \"429\", \"times\": 2}");
	prs = forgetest_list(f, LABEL, PREFIX);
	assert_int_equal(stubsrv_count(&srv, "GET", PROJ "/merge_requests"), 3);
	forge_prs_release(&prs);

	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"" PROJ "/merge_requests\", "
	                    "\"kind\": \"500\", \"times\": -1}");
	EXPECT_CODE(DB_ENET, &err, forge_list_prs(f, &prs, LABEL, PREFIX, &err));
	assert_non_null(strstr(err.msg, "500"));
	assert_null(strstr(err.msg, "labels="));
	forge_prs_release(&prs);

	stubsrv_reset(&srv);
	db_err_clear(&err);
	stubsrv_fault(&srv, "{\"method\": \"GET\", \"path\": \"" PROJ "/merge_requests\", "
	                    "\"kind\": \"403\"}");
	EXPECT_CODE(DB_EAUTH, &err, forge_list_prs(f, &prs, LABEL, PREFIX, &err));
	assert_non_null(strstr(err.msg, "(403: 403 Forbidden)"));
	forge_prs_release(&prs);
	forge_free(f);
}

static void test_harness(void **state)
{
	struct forge *f;
	struct forgetest_text t = text_for("dockerbump/group-1", "1", "3.11.10.113941");
	(void)state;
	NEED_STUB();

	f = client();
	forgetest_harness(f, PROJECT, &t, &labels);
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
	    FORGETEST(test_faults),
	};

	return cmocka_run_group_tests(tests, start, stop);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "updater/gitrepo.h"

#include "gittest.h"

#define PREFIX "dockerbump/"
#define BRANCH "dockerbump/group-1"

static const char s_yml[] = "dockerimage: demisto/python3:3.11.10.113941\n";
static const char rn_md[] = "#### Scripts\n\n##### S\n\n- Updated the Docker image to: "
                            "*demisto/python3:3.11.10.113941*.\n";
static const char meta[] = "{\"currentVersion\": \"1.0.1\"}\n";

static const struct gitrepo_change changes[] = {
    {"Packs/A/Scripts/S/S.yml", s_yml, sizeof(s_yml) - 1},
    {"Packs/A/ReleaseNotes/1_0_1.md", rn_md, sizeof(rn_md) - 1},
    {"Packs/A/pack_metadata.json", meta, sizeof(meta) - 1},
};

static struct gitrepo_commit_spec spec_for(const git_oid *base, const struct gitrepo_change *v,
                                           size_t nr)
{
	struct gitrepo_commit_spec spec = {
	    .branch = BRANCH,
	    .branch_prefix = PREFIX,
	    .base = base,
	    .changes = v,
	    .nr_changes = nr,
	    .message = "Bump demisto/python3 to 3.11.10.113941",
	    .author_name = "dockerbump",
	    .author_email = "dockerbump@localhost",
	};
	return spec;
}

static struct gitrepo *open_ok(const char *dir)
{
	struct db_err err = DB_ERR_INIT;
	struct gitrepo *repo = NULL;

	if (gitrepo_open(&repo, dir, &err) < 0)
		fail_msg("%s", err.msg);
	return repo;
}

static void base_ok(struct gitrepo_base *base, struct gitrepo *repo, const char *spec)
{
	struct db_err err = DB_ERR_INIT;

	if (gitrepo_resolve_base(base, repo, spec, "origin", &err) < 0)
		fail_msg("%s", err.msg);
}

/* Builds the commit and moves the branch; fails the test on any error. */
static void commit_ok(struct gitrepo_commit *c, struct gitrepo *repo,
                      const struct gitrepo_commit_spec *spec)
{
	struct db_err err = DB_ERR_INIT;

	if (gitrepo_build_commit(c, repo, spec, &err) < 0 ||
	    gitrepo_update_branch(repo, c, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Each test gets the fixture of gittest.h and the spec of the three changes above on its base. */
struct fx {
	struct gittest t;
	struct gitrepo_commit_spec spec;
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	gittest_init(&fx->t);
	fx->spec = spec_for(&fx->t.base.id, changes, 3);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	gittest_release(&fx->t);
	free(fx);
	return 0;
}

static void test_open(void **state)
{
	struct fx *fx = *state;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo *repo = NULL;
	char *sub = xasprintf("%s/Packs/A", fx->t.content);
	char *bare = xasprintf("%s/bare.git", fx->t.dir);
	char *plain = xasprintf("%s/plain", fx->t.dir);
	char *msg;

	assert_string_equal(gitrepo_path(fx->t.repo), fx->t.content);
	repo = open_ok(sub);
	assert_string_equal(gitrepo_path(repo), fx->t.content);
	gitrepo_free(repo);

	gittest_sh("git clone -q --bare '%s' '%s'", fx->t.content, bare);
	repo = open_ok(bare);
	assert_non_null(strstr(gitrepo_path(repo), "bare.git"));
	gitrepo_free(repo);

	gittest_sh("mkdir -p '%s'", plain);
	repo = NULL;
	assert_int_equal(gitrepo_open(&repo, plain, &err), DB_ENOTFOUND);
	assert_null(repo);
	msg = xasprintf("'%s' is not a git repository", plain);
	assert_string_equal(err.msg, msg);
	free(msg);
	free(plain);
	free(bare);
	free(sub);
}

static void test_resolve_base(void **state)
{
	struct fx *fx = *state;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo_base base = GITREPO_BASE_INIT;
	struct gitrepo *repo;
	char *head, *first, *clone = xasprintf("%s/clone", fx->t.dir), *empty;

	gittest_sh("cd '%s' && git tag v1 && echo more >> README.md && git commit -qam second",
	           fx->t.content);
	head = gittest_out("git -C '%s' rev-parse HEAD", fx->t.content);
	first = gittest_out("git -C '%s' rev-parse HEAD~1", fx->t.content);

	base_ok(&base, fx->t.repo, NULL);
	assert_string_equal(base.hex, head);
	assert_string_equal(base.name, "HEAD");
	gitrepo_base_release(&base);

	base_ok(&base, fx->t.repo, "v1");
	assert_string_equal(base.hex, first);
	assert_non_null(strstr(base.desc, "v1 ("));
	gitrepo_base_release(&base);

	base_ok(&base, fx->t.repo, first);
	assert_string_equal(base.hex, first);
	gitrepo_base_release(&base);

	assert_int_equal(gitrepo_resolve_base(&base, fx->t.repo, "no-such-branch", "origin", &err),
	                 DB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'no-such-branch'"));
	db_err_clear(&err);
	assert_int_equal(gitrepo_resolve_base(&base, fx->t.repo, "HEAD:README.md", NULL, &err),
	                 DB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'HEAD:README.md'"));
	db_err_clear(&err);

	/* A clone: the default is what refs/remotes/origin/HEAD points at, not HEAD. */
	gittest_sh("git clone -q '%s' '%s' && cd '%s' && git checkout -q -b topic v1 && "
	           "echo local >> README.md && git commit -qam local",
	           fx->t.content, clone, clone);
	repo = open_ok(clone);
	base_ok(&base, repo, NULL);
	assert_string_equal(base.name, "origin/main");
	assert_string_equal(base.hex, head);
	gitrepo_base_release(&base);
	/* A remote without a HEAD symbolic ref locally: fall back to HEAD, no network. */
	gittest_sh("git -C '%s' remote set-head origin -d", clone);
	base_ok(&base, repo, NULL);
	assert_string_equal(base.name, "HEAD");
	gitrepo_base_release(&base);
	gitrepo_free(repo);

	empty = xasprintf("%s/empty", fx->t.dir);
	gittest_sh("git init -q '%s'", empty);
	repo = open_ok(empty);
	assert_int_equal(gitrepo_resolve_base(&base, repo, NULL, "origin", &err), DB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'HEAD'"));
	gitrepo_free(repo);

	free(empty);
	free(clone);
	free(first);
	free(head);
}

static void test_read_file(void **state)
{
	struct fx *fx = *state;
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	const git_oid *base = &fx->t.base.id;

	/* A dirty work tree is not what is read: the base commit is. */
	gittest_sh("echo dirty > '%s/Packs/A/pack_metadata.json'", fx->t.content);
	assert_int_equal(
	    gitrepo_read_file(&b, fx->t.repo, base, "Packs/A/pack_metadata.json", 0, &err), 0);
	assert_string_equal(b.ptr, "{\"currentVersion\": \"1.0.0\"}\n");
	buf_reset(&b);

	assert_int_equal(
	    gitrepo_read_file(&b, fx->t.repo, base, "Packs/C/pack_metadata.json", 0, &err),
	    DB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'Packs/C/pack_metadata.json' does not exist"));
	db_err_clear(&err);
	assert_int_equal(gitrepo_read_file(&b, fx->t.repo, base, "Packs/A", 0, &err), DB_ENOTFOUND);
	db_err_clear(&err);
	assert_int_equal(gitrepo_read_file(&b, fx->t.repo, base, "README.md", 3, &err), DB_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/*
 * A fingerprint of everything the commit must not touch: HEAD, the index file's bytes, every
 * work tree file with its content, the status, and every ref but the bot's.
 */
static char *worktree_fingerprint(const char *dir)
{
	return gittest_out("cd '%s' && cat .git/HEAD && sha1sum .git/index && "
	                   "find . -path ./.git -prune -o -type f -print | LC_ALL=C sort | "
	                   "xargs sha1sum && git --no-optional-locks status --porcelain=v1 && "
	                   "git for-each-ref --format='%%(refname) %%(objectname)' | "
	                   "grep -v '^refs/heads/dockerbump/' || true",
	                   dir);
}

static void test_commit_leaves_work_tree_alone(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	static const char run_sh[] = "#!/bin/sh\necho bumped\n";
	struct gitrepo_change v[4];
	char *before, *after, *out, *expect;
	const char *dir = fx->t.content;

	/* A checked-out feature branch, a staged change, an unstaged change, an untracked file. */
	gittest_sh("cd '%s' && git checkout -q -b feature && echo staged > staged.txt && "
	           "git add staged.txt && echo unstaged >> README.md && "
	           "echo untracked > Packs/A/untracked.txt && "
	           "echo 'dockerimage: local-edit' > Packs/A/Scripts/S/S.yml",
	           dir);
	before = worktree_fingerprint(dir);

	memcpy(v, changes, sizeof(changes));
	v[3] = (struct gitrepo_change){"tools/run.sh", run_sh, sizeof(run_sh) - 1};
	fx->spec.changes = v;
	fx->spec.nr_changes = 4;
	commit_ok(&c, fx->t.repo, &fx->spec);
	assert_int_equal(c.outcome, GITREPO_CREATED);
	assert_int_equal(c.updated, 1);
	assert_string_equal(c.ref, "refs/heads/" BRANCH);

	after = worktree_fingerprint(dir);
	assert_string_equal(before, after);

	out = gittest_out("git -C '%s' rev-parse " BRANCH "^", dir);
	assert_string_equal(out, fx->t.base.hex);
	free(out);
	out = gittest_out("git -C '%s' rev-parse " BRANCH, dir);
	assert_string_equal(out, git_oid_tostr_s(&c.id));
	free(out);
	out = gittest_out("git -C '%s' diff --name-only main " BRANCH, dir);
	assert_string_equal(out, "Packs/A/ReleaseNotes/1_0_1.md\nPacks/A/Scripts/S/S.yml\n"
	                         "Packs/A/pack_metadata.json\ntools/run.sh");
	free(out);
	out = gittest_out("git -C '%s' show " BRANCH ":Packs/A/Scripts/S/S.yml", dir);
	assert_string_equal(out, "dockerimage: demisto/python3:3.11.10.113941");
	free(out);
	out = gittest_out("git -C '%s' show " BRANCH ":Packs/A/ReleaseNotes/1_0_1.md", dir);
	expect = xstrndup(rn_md, sizeof(rn_md) - 2);
	assert_string_equal(out, expect);
	free(expect);
	free(out);
	/* The executable file stays executable; the new file is a regular file. */
	out = gittest_out("git -C '%s' ls-tree -r " BRANCH " | awk '{print $1, $4}' | "
	                  "grep -E 'run.sh|1_0_1.md'",
	                  dir);
	assert_string_equal(out, "100644 Packs/A/ReleaseNotes/1_0_1.md\n100755 tools/run.sh");
	free(out);
	out = gittest_out("git -C '%s' log -1 --format='%%an <%%ae>|%%cn <%%ce>|%%s' " BRANCH, dir);
	assert_string_equal(out, "dockerbump <dockerbump@localhost>|dockerbump "
	                         "<dockerbump@localhost>|Bump demisto/python3 to 3.11.10.113941");
	free(out);
	out = gittest_out("git -C '%s' reflog -1 --format=%%gs " BRANCH, dir);
	assert_non_null(strstr(out, "dockerbump: created on"));
	free(out);
	gittest_sh("git -C '%s' fsck --no-progress --strict 2>&1", dir);

	gitrepo_commit_release(&c);
	free(after);
	free(before);
}

static void test_idempotent_and_rebuilt(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT,
	                      c3 = GITREPO_COMMIT_INIT, c4 = GITREPO_COMMIT_INIT,
	                      st = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo_change v[3];
	const char *dir = fx->t.content;
	char *ref1, *out, *reflog1;
	long objects;
	static const char other[] = "dockerimage: demisto/python3:3.12.7.117934\n";

	/* What a dry run asks first: the branch would be created; nothing is written. */
	objects = gittest_object_count(dir);
	assert_int_equal(gitrepo_branch_status(&st, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(st.outcome, GITREPO_CREATED);
	assert_int_equal(gittest_object_count(dir), objects);
	gittest_sh("! git -C '%s' rev-parse -q --verify " BRANCH, dir);
	gitrepo_commit_release(&st);

	commit_ok(&c1, fx->t.repo, &fx->spec);
	assert_int_equal(c1.outcome, GITREPO_CREATED);
	ref1 = gittest_out("git -C '%s' rev-parse " BRANCH, dir);
	reflog1 = gittest_out("git -C '%s' reflog " BRANCH " | wc -l", dir);
	objects = gittest_object_count(dir);

	/* The dry-run check agrees and writes nothing. */
	assert_int_equal(gitrepo_branch_status(&st, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(st.outcome, GITREPO_UP_TO_DATE);
	assert_true(git_oid_equal(&st.id, &c1.id));
	gitrepo_commit_release(&st);

	/* Same inputs again (another message even): nothing written, the ref as it was. */
	fx->spec.message = "Bump demisto/python3 to 3.11.10.113941 (verification: 3 ok)";
	commit_ok(&c2, fx->t.repo, &fx->spec);
	assert_int_equal(c2.outcome, GITREPO_UP_TO_DATE);
	assert_int_equal(c2.updated, 0);
	assert_true(git_oid_equal(&c2.id, &c1.id));
	out = gittest_out("git -C '%s' rev-parse " BRANCH, dir);
	assert_string_equal(out, ref1);
	free(out);
	out = gittest_out("git -C '%s' reflog " BRANCH " | wc -l", dir);
	assert_string_equal(out, reflog1);
	free(out);
	assert_int_equal(gittest_object_count(dir), objects);

	/* The base moves: the branch is rebuilt on the new base. */
	gittest_sh("cd '%s' && echo more >> README.md && git commit -qam 'base moves'", dir);
	gittest_rebase(&fx->t);
	assert_int_equal(gitrepo_branch_status(&st, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(st.outcome, GITREPO_REBUILT);
	assert_int_equal(st.base_moved, 1);
	gitrepo_commit_release(&st);
	commit_ok(&c3, fx->t.repo, &fx->spec);
	assert_int_equal(c3.outcome, GITREPO_REBUILT);
	assert_int_equal(c3.base_moved, 1);
	assert_true(git_oid_equal(&c3.old, &c1.id));
	out = gittest_out("git -C '%s' rev-parse " BRANCH "^", dir);
	assert_string_equal(out, fx->t.base.hex);
	free(out);
	out = gittest_out("git -C '%s' diff --name-only HEAD " BRANCH " | wc -l", dir);
	assert_string_equal(out, "3");
	free(out);

	/* New content on the same base: a new commit, still on the base. */
	memcpy(v, changes, sizeof(changes));
	v[0].data = other;
	v[0].len = sizeof(other) - 1;
	fx->spec.changes = v;
	assert_int_equal(gitrepo_branch_status(&st, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(st.outcome, GITREPO_REBUILT);
	assert_int_equal(st.base_moved, 0);
	gitrepo_commit_release(&st);
	commit_ok(&c4, fx->t.repo, &fx->spec);
	assert_int_equal(c4.outcome, GITREPO_REBUILT);
	assert_int_equal(c4.base_moved, 0);
	assert_false(git_oid_equal(&c4.id, &c3.id));
	out = gittest_out("git -C '%s' rev-parse " BRANCH "^", dir);
	assert_string_equal(out, fx->t.base.hex);
	free(out);
	out = gittest_out("git -C '%s' show " BRANCH ":Packs/A/Scripts/S/S.yml", dir);
	assert_string_equal(out, "dockerimage: demisto/python3:3.12.7.117934");
	free(out);

	gitrepo_commit_release(&c4);
	gitrepo_commit_release(&c3);
	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
	free(reflog1);
	free(ref1);
}

/*
 * A fresh clone has the bot's branch only as a remote-tracking ref: when that holds exactly
 * the change, nothing is written and the local branch adopts it (so the push sends nothing);
 * when it does not, a new commit is built as before.
 */
static void test_upstream_adopted(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT,
	                      c3 = GITREPO_COMMIT_INIT, st = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo_change v[3];
	const char *dir = fx->t.content;
	static const char other[] = "dockerimage: demisto/python3:3.12.7.117934\n";
	char *ref1, *out;
	long objects;

	/* The branch as the remote has it: a remote-tracking ref, no local branch. */
	commit_ok(&c1, fx->t.repo, &fx->spec);
	ref1 = gittest_out("git -C '%s' rev-parse " BRANCH, dir);
	gittest_sh("git -C '%s' update-ref refs/remotes/origin/" BRANCH " " BRANCH " && "
	           "git -C '%s' update-ref -d refs/heads/" BRANCH,
	           dir, dir);
	objects = gittest_object_count(dir);
	fx->spec.upstream = "refs/remotes/origin/" BRANCH;

	assert_int_equal(gitrepo_branch_status(&st, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(st.outcome, GITREPO_UP_TO_DATE);
	assert_int_equal(st.adopt, 1);
	gitrepo_commit_release(&st);
	gittest_sh("! git -C '%s' rev-parse -q --verify refs/heads/" BRANCH, dir);

	commit_ok(&c2, fx->t.repo, &fx->spec);
	assert_int_equal(c2.outcome, GITREPO_UP_TO_DATE);
	assert_int_equal(c2.updated, 1);
	assert_int_equal(gittest_object_count(dir), objects);
	out = gittest_out("git -C '%s' rev-parse refs/heads/" BRANCH, dir);
	assert_string_equal(out, ref1);
	free(out);
	/* A rollback takes the adopted branch away again. */
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c2, &err), 0);
	gittest_sh("! git -C '%s' rev-parse -q --verify refs/heads/" BRANCH, dir);

	/* Other content: the remote's copy is not adopted; a new commit is built. */
	memcpy(v, changes, sizeof(changes));
	v[0].data = other;
	v[0].len = sizeof(other) - 1;
	fx->spec.changes = v;
	commit_ok(&c3, fx->t.repo, &fx->spec);
	assert_int_equal(c3.outcome, GITREPO_CREATED);
	assert_int_equal(c3.adopt, 0);
	assert_false(git_oid_equal(&c3.id, &c1.id));

	gitrepo_commit_release(&c3);
	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
	free(ref1);
}

/* A bot branch someone amended (same parent, one more file) is rebuilt. */
static void test_foreign_commit_rebuilt(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT;
	char *out;

	commit_ok(&c1, fx->t.repo, &fx->spec);
	gittest_sh("cd '%s' && git worktree add -q ../wt " BRANCH " && cd ../wt && "
	           "echo extra > extra.txt && git add extra.txt && git commit -q --amend -m x && "
	           "cd .. && git -C content worktree remove ../wt",
	           fx->t.content);
	commit_ok(&c2, fx->t.repo, &fx->spec);
	assert_int_equal(c2.outcome, GITREPO_REBUILT);
	assert_int_equal(c2.base_moved, 0);
	out = gittest_out("git -C '%s' diff --name-only main " BRANCH " | wc -l", fx->t.content);
	assert_string_equal(out, "3");
	free(out);

	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
}

static void test_no_change(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	static const char same[] = "content\n";
	const struct gitrepo_change v[] = {{"README.md", same, sizeof(same) - 1}};
	long objects = gittest_object_count(fx->t.content);

	fx->spec.changes = v;
	fx->spec.nr_changes = 1;
	commit_ok(&c, fx->t.repo, &fx->spec);
	assert_int_equal(c.outcome, GITREPO_NO_CHANGE);
	assert_int_equal(c.updated, 0);
	assert_int_equal(gittest_object_count(fx->t.content), objects);
	gittest_sh("! git -C '%s' rev-parse -q --verify " BRANCH, fx->t.content);
	gitrepo_commit_release(&c);
}

static void expect_build_error(struct gitrepo *repo, const struct gitrepo_commit_spec *spec,
                               int code, const char *needle)
{
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;

	assert_int_equal(gitrepo_build_commit(&c, repo, spec, &err), code);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	gitrepo_commit_release(&c);
}

static void test_bad_specs(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit_spec *spec = &fx->spec;
	struct gitrepo_change v[2] = {{"README.md", "x", 1}, {"README.md", "y", 1}};
	long objects;

	gittest_sh("cd '%s' && ln -s README.md link.md && git add link.md && git commit -qm link",
	           fx->t.content);
	gittest_rebase(&fx->t);
	objects = gittest_object_count(fx->t.content);

	spec->changes = v;
	spec->nr_changes = 2;
	expect_build_error(fx->t.repo, spec, DB_ERROR, "'README.md' is changed twice");
	spec->nr_changes = 1;
	spec->branch = "main";
	expect_build_error(fx->t.repo, spec, DB_EUSAGE, "branch 'main' is not under the prefix");
	spec->branch = PREFIX;
	expect_build_error(fx->t.repo, spec, DB_EUSAGE, "is not under the prefix");
	spec->branch = BRANCH;
	spec->branch_prefix = "";
	expect_build_error(fx->t.repo, spec, DB_EUSAGE, "prefix is empty");
	spec->branch_prefix = PREFIX;
	v[0].path = "Packs/../README.md";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "'Packs/../README.md' is not a valid");
	v[0].path = ".git/config";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "'.git/config' is not a valid");
	v[0].path = "/README.md";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "is not a valid");
	v[0].path = "Packs//A";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "is not a valid");
	v[0].path = "Packs/A";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "'Packs/A' is a directory in the base");
	v[0].path = "link.md";
	expect_build_error(fx->t.repo, spec, DB_ERROR, "'link.md' is a symbolic link");
	assert_int_equal(gittest_object_count(fx->t.content), objects);
}

static void test_checked_out_branch_refused(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo_change v[3];
	struct gitrepo *wt2;
	char *before, *out, *wt2_dir = xasprintf("%s/wt2", fx->t.dir);

	commit_ok(&c1, fx->t.repo, &fx->spec);
	gittest_sh("git -C '%s' worktree add -q '%s/wt' " BRANCH, fx->t.content, fx->t.dir);
	before = gittest_out("git -C '%s' rev-parse " BRANCH, fx->t.content);

	memcpy(v, changes, sizeof(changes));
	v[1].data = "changed\n";
	v[1].len = 8;
	fx->spec.changes = v;
	assert_int_equal(gitrepo_build_commit(&c2, fx->t.repo, &fx->spec, &err), 0);
	assert_int_equal(gitrepo_update_branch(fx->t.repo, &c2, &err), DB_ECONFLICT);
	assert_non_null(strstr(err.msg, "'refs/heads/" BRANCH "' is checked out"));
	out = gittest_out("git -C '%s' rev-parse " BRANCH, fx->t.content);
	assert_string_equal(out, before);
	free(out);
	gitrepo_commit_release(&c2);

	/* The main work tree on the bot's branch is refused as well, seen from a linked one. */
	gittest_sh("git -C '%s' worktree remove '%s/wt' && git -C '%s' worktree add -q '%s' "
	           "-b other && git -C '%s' checkout -q " BRANCH,
	           fx->t.content, fx->t.dir, fx->t.content, wt2_dir, fx->t.content);
	wt2 = open_ok(wt2_dir);
	db_err_clear(&err);
	assert_int_equal(gitrepo_build_commit(&c2, wt2, &fx->spec, &err), 0);
	assert_int_equal(gitrepo_update_branch(wt2, &c2, &err), DB_ECONFLICT);
	assert_non_null(strstr(err.msg, "is checked out"));

	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
	gitrepo_free(wt2);
	free(before);
	free(wt2_dir);
}

/* The compare-and-swap: a branch that moves between build and update is not overwritten. */
static void test_branch_moved_meanwhile(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;
	char *out;

	assert_int_equal(gitrepo_build_commit(&c, fx->t.repo, &fx->spec, &err), 0);
	gittest_sh("git -C '%s' branch " BRANCH " main", fx->t.content);
	assert_int_equal(gitrepo_update_branch(fx->t.repo, &c, &err), DB_ECONFLICT);
	assert_non_null(strstr(err.msg, "moved while its commit was built"));
	out = gittest_out("git -C '%s' rev-parse " BRANCH, fx->t.content);
	assert_string_equal(out, fx->t.base.hex);
	free(out);
	gitrepo_commit_release(&c);
}

static void test_rollback(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c1 = GITREPO_COMMIT_INIT, c2 = GITREPO_COMMIT_INIT;
	struct db_err err = DB_ERR_INIT;
	struct gitrepo_change v[3];
	char *out;

	/* A created branch rolls back to no branch. */
	commit_ok(&c1, fx->t.repo, &fx->spec);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c1, &err), 0);
	assert_int_equal(c1.updated, 0);
	gittest_sh("! git -C '%s' rev-parse -q --verify " BRANCH, fx->t.content);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c1, &err), 0);
	gitrepo_commit_release(&c1);

	/* A rebuilt branch rolls back to its old commit. */
	commit_ok(&c1, fx->t.repo, &fx->spec);
	memcpy(v, changes, sizeof(changes));
	v[1].data = "changed\n";
	v[1].len = 8;
	fx->spec.changes = v;
	commit_ok(&c2, fx->t.repo, &fx->spec);
	assert_int_equal(c2.outcome, GITREPO_REBUILT);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c2, &err), 0);
	out = gittest_out("git -C '%s' rev-parse " BRANCH, fx->t.content);
	assert_string_equal(out, git_oid_tostr_s(&c1.id));
	free(out);
	gitrepo_commit_release(&c2);

	/* Someone moved the branch since: the rollback leaves it alone. */
	commit_ok(&c2, fx->t.repo, &fx->spec);
	gittest_sh("git -C '%s' branch -f " BRANCH " main", fx->t.content);
	assert_int_equal(gitrepo_rollback_branch(fx->t.repo, &c2, &err), DB_ECONFLICT);
	out = gittest_out("git -C '%s' rev-parse " BRANCH, fx->t.content);
	assert_string_equal(out, fx->t.base.hex);
	free(out);

	gitrepo_commit_release(&c2);
	gitrepo_commit_release(&c1);
}

/* Author and committer: the config, else git config, else the bot identity. */
static void test_identity(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	char *out;
	struct {
		const char *name, *email, *git_name, *git_email, *expect;
	} cases[] = {
	    {"Bump Bot", "bot@example.com", "Repo User", "repo@example.com",
	     "Bump Bot <bot@example.com>|Bump Bot <bot@example.com>"},
	    {NULL, NULL, "Repo User", "repo@example.com",
	     "Repo User <repo@example.com>|Repo User <repo@example.com>"},
	    {NULL, "bot@example.com", "Repo User", NULL,
	     "Repo User <bot@example.com>|Repo User <bot@example.com>"},
	    {NULL, NULL, NULL, NULL,
	     "dockerbump <dockerbump@localhost>|dockerbump <dockerbump@localhost>"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Each case commits other content, so that each makes a new commit. */
		struct gitrepo_change v[] = {
		    {"README.md", cases[i].expect, strlen(cases[i].expect)}};

		gittest_sh("cd '%s' && { git config --unset-all user.name || true; } && "
		           "{ git config --unset-all user.email || true; }",
		           fx->t.content);
		if (cases[i].git_name)
			gittest_sh("git -C '%s' config user.name '%s'", fx->t.content,
			           cases[i].git_name);
		if (cases[i].git_email)
			gittest_sh("git -C '%s' config user.email '%s'", fx->t.content,
			           cases[i].git_email);
		fx->spec.changes = v;
		fx->spec.nr_changes = 1;
		fx->spec.author_name = cases[i].name;
		fx->spec.author_email = cases[i].email;
		commit_ok(&c, fx->t.repo, &fx->spec);
		out = gittest_out("git -C '%s' log -1 --format='%%an <%%ae>|%%cn <%%ce>' " BRANCH,
		                  fx->t.content);
		assert_string_equal(out, cases[i].expect);
		free(out);
		gitrepo_commit_release(&c);
	}
}

/* Lists every file and directory under DIR/.git with its mode, size and mtime. */
static char *gitdir_listing(const char *dir)
{
	return gittest_out("cd '%s/.git' && find . -exec ls -ld --time-style=+%%s {} + | "
	                   "awk '{print $1, $5, $6, $7}' | LC_ALL=C sort",
	                   dir);
}

/*
 * Runs `attempt` against a .git the process cannot write, and checks what it left: it must
 * fail with DB_ERROR naming the repository, move no ref and change not a byte under .git.
 * Root can write anywhere, so as root the attempt runs in a child that drops to nobody.
 */
static void expect_read_only_failure(struct fx *fx,
                                     int (*attempt)(struct fx *fx, struct db_err *err))
{
	struct db_err err = DB_ERR_INIT;
	char *before, *after, *needle;
	int fds[2], status, as_root = geteuid() == 0;
	ssize_t n;
	pid_t pid;

	if (as_root)
		gittest_sh("chmod -R go-w,a+rX '%s'", fx->t.dir);
	else
		gittest_sh("chmod -R a-w '%s/.git'", fx->t.content);
	before = gitdir_listing(fx->t.content);

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;

		close(fds[0]);
		if (as_root && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(99);
		rc = attempt(fx, &err);
		if (write(fds[1], err.msg, strlen(err.msg)) < 0)
			_exit(98);
		_exit(rc == DB_ERROR ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], err.msg, sizeof(err.msg) - 1);
	close(fds[0]);
	assert_true(n >= 0);
	err.msg[n] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("status %d, message '%s'", status, err.msg);
	needle = xasprintf("the repository '%s'", fx->t.content);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	free(needle);

	after = gitdir_listing(fx->t.content);
	assert_string_equal(before, after);
	gittest_sh("! git -C '%s' rev-parse -q --verify " BRANCH, fx->t.content);
	free(after);
	free(before);
}

static int commit_loose(struct fx *fx, struct db_err *err)
{
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	int rc = gitrepo_build_commit(&c, fx->t.repo, &fx->spec, err);
	if (rc == 0)
		rc = gitrepo_update_branch(fx->t.repo, &c, err);
	return rc;
}

/* A .git the process cannot write: the error names the repository and nothing changes. */
static void test_read_only_repository(void **state)
{
	expect_read_only_failure(*state, commit_loose);
}

/* ---- batches: one pack for many commits ------------------------------------------------- */

/* Loose objects and packs of the repository at `dir`. */
static void object_files(const char *dir, long *loose, long *packs)
{
	char *out = gittest_out("cd '%s/.git/objects' && find . -path ./pack -prune -o -type f "
	                        "-print | wc -l && ls pack | grep -c '\\.pack$' || true",
	                        dir);
	char *nl = strchr(out, '\n');
	*loose = strtol(out, NULL, 10);
	*packs = nl ? strtol(nl + 1, NULL, 10) : 0;
	free(out);
}

#define NBATCH 3

/* Three branches of different content, each its own spec over the fixture's base. */
static void batch_specs(struct fx *fx, struct gitrepo_commit_spec *specs,
                        struct gitrepo_change (*v)[3], char (*names)[64], char (*yml)[64])
{
	int i;
	for (i = 0; i < NBATCH; i++) {
		snprintf(names[i], sizeof(names[i]), PREFIX "group-%d", i + 1);
		snprintf(yml[i], sizeof(yml[i]), "dockerimage: demisto/python3:3.11.10.%d\n", i);
		v[i][0] =
		    (struct gitrepo_change){"Packs/A/Scripts/S/S.yml", yml[i], strlen(yml[i])};
		v[i][1] = changes[1];
		v[i][2] = changes[2];
		specs[i] = spec_for(&fx->t.base.id, v[i], 3);
		specs[i].branch = names[i];
	}
}

static void test_batch_writes_one_pack(void **state)
{
	struct fx *fx = *state;
	struct gitrepo_commit c[NBATCH], st = GITREPO_COMMIT_INIT;
	struct gitrepo_commit_spec specs[NBATCH];
	struct gitrepo_change v[NBATCH][3];
	char names[NBATCH][64], yml[NBATCH][64], *out;
	struct db_err err = DB_ERR_INIT;
	long loose0, packs0, loose, packs;
	int i;

	batch_specs(fx, specs, v, names, yml);
	object_files(fx->t.content, &loose0, &packs0);
	assert_int_equal(gitrepo_batch_begin(fx->t.repo, &err), 0);
	for (i = 0; i < NBATCH; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		if (gitrepo_build_commit(&c[i], fx->t.repo, &specs[i], &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(c[i].outcome, GITREPO_CREATED);
	}
	/* Everything is in memory: nothing on disk yet, and libgit2 reads it back. */
	object_files(fx->t.content, &loose, &packs);
	assert_int_equal(loose, loose0);
	assert_int_equal(packs, packs0);
	/* 3 blobs of S.yml, 2 shared ones, 3 x 5 trees (root, Packs, A, Scripts, S, ReleaseNotes
	 * share some), 3 commits: at least 3 + 2 + 3. */
	assert_true(gitrepo_batch_objects(fx->t.repo) >= 8);

	if (gitrepo_batch_write(fx->t.repo, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(gitrepo_batch_objects(fx->t.repo), 0);
	object_files(fx->t.content, &loose, &packs);
	assert_int_equal(loose, loose0);
	assert_int_equal(packs, packs0 + 1);
	for (i = 0; i < NBATCH; i++)
		if (gitrepo_update_branch(fx->t.repo, &c[i], &err) < 0)
			fail_msg("%s", err.msg);
	gitrepo_batch_end(fx->t.repo);

	gittest_sh("git -C '%s' fsck --no-progress --strict --no-dangling 2>&1", fx->t.content);
	gittest_sh("cd '%s/.git/objects/pack' && for i in *.idx; do git verify-pack \"$i\"; done",
	           fx->t.content);
	for (i = 0; i < NBATCH; i++) {
		out = gittest_out("git -C '%s' show %s:Packs/A/Scripts/S/S.yml", fx->t.content,
		                  names[i]);
		yml[i][strlen(yml[i]) - 1] = '\0';
		assert_string_equal(out, yml[i]);
		yml[i][strlen(yml[i])] = '\n';
		free(out);
		/* What a batch builds is what a build outside one would: up to date. */
		if (gitrepo_branch_status(&st, fx->t.repo, &specs[i], &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(st.outcome, GITREPO_UP_TO_DATE);
		gitrepo_commit_release(&st);
	}

	/* A second batch of the same: nothing to build, no pack written. */
	assert_int_equal(gitrepo_batch_begin(fx->t.repo, &err), 0);
	for (i = 0; i < NBATCH; i++) {
		gitrepo_commit_release(&c[i]);
		if (gitrepo_build_commit(&c[i], fx->t.repo, &specs[i], &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(c[i].outcome, GITREPO_UP_TO_DATE);
	}
	assert_int_equal(gitrepo_batch_objects(fx->t.repo), 0);
	assert_int_equal(gitrepo_batch_write(fx->t.repo, &err), 0);
	gitrepo_batch_end(fx->t.repo);
	object_files(fx->t.content, &loose, &packs);
	assert_int_equal(packs, packs0 + 1);

	/* Outside a batch, objects are loose as before. */
	gitrepo_commit_release(&c[0]);
	yml[0][0] = 'D';
	if (gitrepo_build_commit(&c[0], fx->t.repo, &specs[0], &err) < 0)
		fail_msg("%s", err.msg);
	object_files(fx->t.content, &loose, &packs);
	assert_true(loose > loose0);
	assert_int_equal(packs, packs0 + 1);
	for (i = 0; i < NBATCH; i++)
		gitrepo_commit_release(&c[i]);
}

static int commit_in_batch(struct fx *fx, struct db_err *err)
{
	struct gitrepo_commit c = GITREPO_COMMIT_INIT;
	int rc = gitrepo_batch_begin(fx->t.repo, err);

	if (rc == 0)
		rc = gitrepo_build_commit(&c, fx->t.repo, &fx->spec, err);
	if (rc == 0 && gitrepo_batch_objects(fx->t.repo) == 0)
		_exit(97); /* the objects must have been kept in memory */
	if (rc == 0)
		rc = gitrepo_batch_write(fx->t.repo, err);
	if (rc == 0)
		rc = gitrepo_update_branch(fx->t.repo, &c, err);
	gitrepo_batch_end(fx->t.repo);
	return rc;
}

/*
 * A batch whose pack cannot be written: the error names the repository, no ref moves, and
 * not a byte changes under .git, not even a temporary file.
 */
static void test_batch_failure_leaves_nothing(void **state)
{
	expect_read_only_failure(*state, commit_in_batch);
}

/*
 * Packs of every length modulo 64 (the SHA-1 padding), and one of many objects: git must find
 * each pack and its index sound, and read every object back byte for byte.
 */
static void test_batch_pack_sizes(void **state)
{
	struct fx *fx = *state;
	git_repository *git = gitrepo_git(fx->t.repo);
	struct db_err err = DB_ERR_INIT;
	struct buf data = BUF_INIT;
	git_oid id, ids[300];
	char *out;
	int k, i;

	for (k = 0; k < 70; k++) {
		buf_reset(&data);
		for (i = 0; i < k; i++)
			buf_addch(&data, 'a' + (i * 7 + k) % 26);
		assert_int_equal(gitrepo_batch_begin(fx->t.repo, &err), 0);
		assert_int_equal(git_blob_create_from_buffer(&id, git, data.ptr, data.len), 0);
		if (gitrepo_batch_write(fx->t.repo, &err) < 0)
			fail_msg("%d bytes: %s", k, err.msg);
		gitrepo_batch_end(fx->t.repo);
		out = gittest_out("git -C '%s' cat-file blob %s", fx->t.content,
		                  git_oid_tostr_s(&id));
		assert_string_equal(out, data.ptr);
		free(out);
	}
	/* Many objects, some large, some compressible and some not. */
	assert_int_equal(gitrepo_batch_begin(fx->t.repo, &err), 0);
	for (k = 0; k < 300; k++) {
		buf_reset(&data);
		for (i = 0; i < k * 97; i++)
			buf_addch(&data,
			          (int)((i * 2654435761u + (unsigned)k) >> (k % 2 ? 3 : 24)));
		assert_int_equal(git_blob_create_from_buffer(&ids[k], git, data.ptr, data.len), 0);
	}
	if (gitrepo_batch_write(fx->t.repo, &err) < 0)
		fail_msg("%s", err.msg);
	gitrepo_batch_end(fx->t.repo);
	gittest_sh("git -C '%s' fsck --no-progress --strict 2>&1 >/dev/null", fx->t.content);
	/* verify-pack checks each pack's and index's checksum, and every entry's CRC and id. */
	gittest_sh("cd '%s/.git/objects/pack' && test $(ls *.idx | wc -l) -ge 71 && "
	           "for i in *.idx; do git verify-pack \"$i\"; done",
	           fx->t.content);
	for (k = 0; k < 300; k += 37) {
		out = gittest_out("git -C '%s' cat-file -s %s", fx->t.content,
		                  git_oid_tostr_s(&ids[k]));
		assert_int_equal(strtol(out, NULL, 10), k * 97);
		free(out);
	}
	buf_release(&data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_leaves_work_tree_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idempotent_and_rebuilt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upstream_adopted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_commit_rebuilt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_specs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checked_out_branch_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_branch_moved_meanwhile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_repository, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_writes_one_pack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_failure_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_pack_sizes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The scanner (updater/scan.c): its glob, its shard hash and its image-reference split, table
 * by table; then whole scans of a small repository, from git objects and from the work tree,
 * cold, warm and with a damaged cache, which must all say the same; hostile pack metadata
 * (deeply nested JSON, an oversized file) and a hostile item (100k nested `[`), each handled
 * at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "updater/config.h"
#include "updater/scan.h"
#include "gittest.h"

static void test_glob(void **state)
{
	static const struct {
		const char *pattern, *path;
		int match;
	} cases[] = {
	    {"Packs/*/Scripts/*/*.yml", "Packs/A/Scripts/S/S.yml", 1},
	    {"Packs/*/Scripts/*/*.yml", "Packs/A/Scripts/S.yml", 0},
	    {"Packs/*/Scripts/*/*.yml", "Packs/A/B/Scripts/S/S.yml", 0},
	    {"Packs/*/Scripts/*.yml", "Packs/A/Scripts/script-S.yml", 1},
	    {"Packs/*/Scripts/*.yml", "Packs/A/Scripts/S/S.yml", 0},
	    {"Packs/*/Scripts/*.yml", "Packs/A/Scripts/.yml", 1},
	    {"Packs/*/Scripts/*.yml", "Packs//Scripts/x.yml", 1},
	    {"**/*.yml", "a.yml", 1},
	    {"**/*.yml", "a/b/c/d.yml", 1},
	    {"**/*.yml", "a/b/c/d.yaml", 0},
	    {"Packs/**/test_data/**", "Packs/A/Integrations/I/test_data/x.yml", 1},
	    {"Packs/**/test_data/**", "Packs/test_data/x", 1},
	    {"Packs/**/test_data/**", "Packs/A/test_data_not/x", 0},
	    {"Packs/**", "Packs/", 1},
	    {"Packs/**", "Packs", 0},
	    {"**", "", 1},
	    {"*", "", 1},
	    {"*", "a/b", 0},
	    {"a?c", "abc", 1},
	    {"a?c", "a/c", 0},
	    {"a?c", "ac", 0},
	    {"Packs/A*", "Packs/AB", 1},
	    {"Packs/A*", "Packs/B", 0},
	    {"*.yml", "x.yml.bak", 0},
	    {"", "", 1},
	    {"", "x", 0},
	    {"x", "", 0},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (path_glob_match(cases[i].pattern, cases[i].path) != cases[i].match)
			fail_msg("'%s' ~ '%s': want %d", cases[i].pattern, cases[i].path,
			         cases[i].match);
}

/*
 * A pack's group is FNV-1a of its name modulo git.groups: its branch and pull request hang on
 * it, so the values may never change. The values below (hash mod n, plus one) were computed
 * independently of group.c.
 */
static void test_shard(void **state)
{
	static const struct {
		const char *pack;
		int shard[5]; /* n = 1, 2, 3, 4, 7 */
	} cases[] = {
	    {"Base", {1, 1, 2, 1, 2}},    {"HelloWorld", {1, 2, 2, 2, 3}},
	    {"AWS-SQS", {1, 1, 3, 3, 7}}, {"CommonScripts", {1, 1, 2, 1, 3}},
	    {"", {1, 2, 2, 2, 3}},
	};
	static const int ns[5] = {1, 2, 3, 4, 7};
	size_t i, k, hits[4] = {0};
	char name[32];
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (k = 0; k < 5; k++)
			if ((int)(group_hash(cases[i].pack) % (unsigned long)ns[k]) + 1 !=
			    cases[i].shard[k])
				fail_msg("'%s' of %d: shard %d, want %d", cases[i].pack, ns[k],
				         (int)(group_hash(cases[i].pack) % (unsigned long)ns[k]) +
				             1,
				         cases[i].shard[k]);
	/* Every shard gets packs, and every answer is within 1..n. */
	for (i = 0; i < 1000; i++) {
		int s;
		snprintf(name, sizeof(name), "Pack%zu", i);
		s = (int)(group_hash(name) % 4) + 1;
		assert_true(s >= 1 && s <= 4);
		hits[s - 1]++;
	}
	for (k = 0; k < 4; k++)
		assert_true(hits[k] > 150);
}

static void test_image_ref_split(void **state)
{
	static const struct {
		const char *ref, *repo, *tag; /* repo NULL: refused */
	} cases[] = {
	    {"demisto/python3:3.10.13.83255", "demisto/python3", "3.10.13.83255"},
	    {"demisto/python3", "demisto/python3", NULL},
	    {"python", "python", NULL},
	    {"python:3", "python", "3"},
	    {"registry.example.com:5000/ns/repo:1.0", "registry.example.com:5000/ns/repo", "1.0"},
	    {"registry.example.com:5000/ns/repo", "registry.example.com:5000/ns/repo", NULL},
	    {"demisto/python3@sha256:abc", "demisto/python3", NULL},
	    {"demisto/python3:3.10@sha256:abc", "demisto/python3", "3.10"},
	    {"demisto/python3:", "demisto/python3", ""},
	    {"demisto/python:1.3-alpine", "demisto/python", "1.3-alpine"},
	    {"", NULL, NULL},
	    {":tag", NULL, NULL},
	    {"@sha256:abc", NULL, NULL},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *repo = (char *)"unset", *tag = (char *)"unset";
		int rc = image_ref_split(&repo, &tag, cases[i].ref);
		if (!cases[i].repo) {
			if (rc != -1 || repo || tag)
				fail_msg("'%s': accepted", cases[i].ref);
			continue;
		}
		if (rc || !repo || strcmp(repo, cases[i].repo))
			fail_msg("'%s': repository '%s'", cases[i].ref, repo ? repo : "(null)");
		if (cases[i].tag ? !tag || strcmp(tag, cases[i].tag) : tag != NULL)
			fail_msg("'%s': tag '%s'", cases[i].ref, tag ? tag : "(null)");
		free(repo);
		free(tag);
	}
}

/* ---- whole scans ------------------------------------------------------------------------ */

/* One line per item: everything the scan decides. */
static void describe(struct buf *out, const struct scan *s)
{
	size_t i, j;
	buf_reset(out);
	for (i = 0; i < s->nr; i++) {
		const struct item *it = &s->items[i];
		buf_addf(out,
		         "%s pack=%s hidden=%d %s %s image=%s tag=%s flag=%d opt=%s d45=%s "
		         "from=%s name=%s reason=%s alt=",
		         it->path, it->pack ? it->pack : "-", it->hidden_pack,
		         item_kind_name(it->kind), item_status_name(it->status),
		         it->image_ref ? it->image_ref : "-", it->tag ? it->tag : "-", it->flag,
		         opt_in_name(it->opt_in), it->dockerimage45 ? it->dockerimage45 : "-",
		         it->fromversion ? it->fromversion : "-", it->name ? it->name : "-",
		         it->reason ? it->reason : "-");
		for (j = 0; j < it->alt_images.nr; j++)
			buf_addf(out, "%s,", it->alt_images.v[j]);
		buf_addch(out, '\n');
	}
}

static void scan_into(struct buf *out, struct scan *s, struct gittest *t, int worktree,
                      int no_cache, const struct config *cfg)
{
	struct scan_opts o = {0};
	struct db_err err = DB_ERR_INIT;

	o.dir = t->content;
	o.worktree = worktree;
	o.commit = &t->base.id;
	o.repo = gitrepo_git(t->repo);
	o.no_cache = no_cache;
	scan_init(s);
	if (scan_run(s, &o, cfg, &err) < 0)
		fail_msg("scan: %s", err.msg);
	describe(out, s);
}

static const char *line_of(const char *all, const char *path)
{
	const char *p = strstr(all, path);
	if (!p)
		fail_msg("'%s' was not scanned:\n%s", path, all);
	return p;
}

static void expect_in_line(const char *all, const char *path, const char *what)
{
	const char *p = line_of(all, path), *e = strchr(p, '\n');
	char *line = xstrndup(p, (size_t)(e - p));
	if (!strstr(line, what))
		fail_msg("'%s' does not say '%s': %s", path, what, line);
	free(line);
}

/* Writes `data` at `rel` in the work tree, making its directories. */
static void put(struct gittest *t, const char *rel, const char *data, size_t len)
{
	char *full = xasprintf("%s/%s", t->content, rel), *slash = strrchr(full, '/');
	struct db_err err = DB_ERR_INIT;

	*slash = '\0';
	gittest_sh("mkdir -p '%s'", full);
	*slash = '/';
	if (file_write_atomic(full, data, len, &err) < 0)
		fail_msg("%s", err.msg);
	free(full);
}

static void puts_str(struct gittest *t, const char *rel, const char *data)
{
	put(t, rel, data, strlen(data));
}

static void test_scan_repository(void **state)
{
	struct gittest t;
	struct config cfg;
	struct scan cold, warm, nocache, wt, damaged;
	struct buf a = BUF_INIT, b = BUF_INIT, path = BUF_INIT, big = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char *cache_dir;
	size_t i;
	(void)state;

	gittest_init(&t);
	cache_dir = xasprintf("%s/cache", t.dir);
	setenv("XDG_CACHE_HOME", cache_dir, 1);
	/* Pack metadata: hidden; nested 100k deep (jansson refuses past 2048 levels, at once);
	 * over the 1 MiB cap (counts as absent); none. */
	puts_str(&t, "Packs/H/pack_metadata.json", "{\"hidden\": true}");
	puts_str(&t, "Packs/H/Scripts/S/S.yml", "name: h\ndockerimage: demisto/python3:3.10.1.1\n");
	buf_adds(&big, "{\"hidden\": true, \"x\": ");
	for (i = 0; i < 100000; i++)
		buf_addch(&big, '[');
	put(&t, "Packs/N/pack_metadata.json", big.ptr, big.len);
	puts_str(&t, "Packs/N/Scripts/S/S.yml", "dockerimage: demisto/python3:3.10.1.1\n");
	buf_reset(&big);
	buf_adds(&big, "{\"x\": \"");
	while (big.len < (1u << 20))
		buf_adds(&big, "aaaaaaaaaaaaaaaa");
	buf_adds(&big, "\", \"hidden\": true}");
	put(&t, "Packs/Big/pack_metadata.json", big.ptr, big.len);
	puts_str(&t, "Packs/Big/Scripts/S/S.yml", "dockerimage: demisto/python3:3.10.1.1\n");
	puts_str(&t, "Packs/None/Scripts/S/S.yml",
	         "dockerimage: demisto/python3:3.10.1.1\nautoUpdateDockerImage: false\n");
	/* One blob at two paths. */
	puts_str(&t, "Packs/Twin/Scripts/S1/S1.yml",
	         "name: twin\nalt_dockerimages:\n- demisto/a:1\n- b\n"
	         "dockerimage: demisto/python3:3.10.1.1\n");
	puts_str(&t, "Packs/Twin/Scripts/S2/S2.yml",
	         "name: twin\nalt_dockerimages:\n- demisto/a:1\n- b\n"
	         "dockerimage: demisto/python3:3.10.1.1\n");
	/* 100k nested `[` (issue 13): refused at once. */
	buf_reset(&big);
	buf_adds(&big, "dockerimage: demisto/python3:3.10.1.1\nx: ");
	for (i = 0; i < 100000; i++)
		buf_addch(&big, '[');
	put(&t, "Packs/Evil/Scripts/E/E.yml", big.ptr, big.len);
	/* Over the 16 MiB cap: refused from its size, before it is inflated. */
	buf_reset(&big);
	buf_adds(&big, "dockerimage: demisto/python3:3.10.1.1\ndescription: ");
	while (big.len <= (16u << 20))
		buf_adds(&big, "big big big big big big big big big big big big big big big big ");
	buf_addch(&big, '\n');
	put(&t, "Packs/Huge/Scripts/H/H.yml", big.ptr, big.len);
	/* An item the fast path leaves to libyaml (anchors), an integration. */
	puts_str(&t, "Packs/Anchor/Scripts/S/S.yml",
	         "x: &a 1\ny: *a\nscript:\n  dockerimage: demisto/python3:3.10.1.1\n"
	         "configuration:\n- name: c\n");
	gittest_sh("cd '%s' && git add -A && git commit -q -m more", t.content);
	gittest_rebase(&t);
	config_init(&cfg);

	scan_into(&a, &cold, &t, 0, 0, &cfg);
	assert_int_equal(cold.cache_hits, 0);
	assert_int_equal(cold.files_read, cold.nr);
	expect_in_line(a.ptr, "Packs/H/Scripts/S/S.yml", "hidden=1 script skipped");
	expect_in_line(a.ptr, "Packs/N/Scripts/S/S.yml", "hidden=0 script pending");
	expect_in_line(a.ptr, "Packs/Big/Scripts/S/S.yml", "hidden=0 script pending");
	expect_in_line(a.ptr, "Packs/None/Scripts/S/S.yml", "hidden=0 script opted-out");
	expect_in_line(a.ptr, "Packs/Twin/Scripts/S2/S2.yml",
	               "name=twin reason=- alt=demisto/a:1,b,");
	expect_in_line(a.ptr, "Packs/Evil/Scripts/E/E.yml",
	               "unparseable image=- tag=- flag=-1 opt=default d45=- from=- name=E "
	               "reason=nesting deeper than 64 levels at line 2");
	expect_in_line(a.ptr, "Packs/Huge/Scripts/H/H.yml",
	               "unparseable image=- tag=- flag=-1 opt=default d45=- from=- name=H "
	               "reason='Packs/Huge/Scripts/H/H.yml': larger than 16777216 bytes");
	expect_in_line(a.ptr, "Packs/Anchor/Scripts/S/S.yml",
	               "integration pending image=demisto/python3:3.10.1.1");

	/* Warm: every item from the cache, nothing read, the same answers. */
	scan_into(&b, &warm, &t, 0, 0, &cfg);
	assert_int_equal(warm.cache_hits, warm.nr);
	assert_int_equal(warm.files_read, 0);
	assert_string_equal(a.ptr, b.ptr);
	scan_into(&b, &nocache, &t, 0, 1, &cfg);
	assert_int_equal(nocache.cache_hits, 0);
	assert_string_equal(a.ptr, b.ptr);
	scan_into(&b, &wt, &t, 1, 0, &cfg);
	assert_string_equal(a.ptr, b.ptr);

	/* A damaged cache file: ignored whole, everything located again, same answers. */
	gittest_sh("cd '%s/dockerbump/scan' && for f in *.cache; do printf x >> \"$f\"; done",
	           cache_dir);
	scan_into(&b, &damaged, &t, 0, 0, &cfg);
	assert_int_equal(damaged.cache_hits, 0);
	assert_int_equal(damaged.files_read, damaged.nr);
	assert_string_equal(a.ptr, b.ptr);

	/* scan_read_item gives the bytes the item was located in. */
	assert_int_equal(scan_read_item(&path, &(struct scan_opts){.repo = gitrepo_git(t.repo)},
	                                &cold.items[0], &err),
	                 0);
	assert_true(path.len > 0);

	scan_release(&cold);
	scan_release(&warm);
	scan_release(&nocache);
	scan_release(&wt);
	scan_release(&damaged);
	config_release(&cfg);
	buf_release(&a);
	buf_release(&b);
	buf_release(&path);
	buf_release(&big);
	unsetenv("XDG_CACHE_HOME");
	free(cache_dir);
	gittest_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_shard),
	    cmocka_unit_test(test_image_ref_split),
	    cmocka_unit_test(test_scan_repository),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

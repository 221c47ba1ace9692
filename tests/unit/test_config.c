/*
 * The settings table (updater/config.c): the documented file, the file loader's refusals, flag
 * values, the checks that depend on several settings, "did you mean", and the JSON Schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "updater/config.h"
#include "updater/gitrepo.h"

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/dockerbump-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Loads `text` as a file of `origin`; returns the problems joined, or NULL when none. */
static char *load_as(struct config *cfg, const char *text, enum config_origin origin)
{
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	struct db_err err = DB_ERR_INIT;
	char *path = write_temp(text), *out = NULL;

	config_load_file(cfg, path, origin, &pr);
	if (config_problems_error(&pr, &err) == DB_EUSAGE)
		out = strdup(err.msg);
	config_problems_release(&pr);
	unlink(path);
	free(path);
	return out;
}

static char *load(struct config *cfg, const char *text)
{
	return load_as(cfg, text, CONFIG_FROM_OPERATOR);
}

static int same_field(const struct setting *s, const struct config *a, const struct config *b)
{
	const void *fa = (const char *)a + s->offset, *fb = (const char *)b + s->offset;

	switch (s->type) {
	case SETTING_LIST: {
		const struct strlist *la = fa, *lb = fb;
		if (la->nr != lb->nr)
			return 0;
		for (size_t i = 0; i < la->nr; i++)
			if (strcmp(la->v[i], lb->v[i]))
				return 0;
		return 1;
	}
	case SETTING_STR:
	case SETTING_STR_NULL: {
		const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
		return (!sa && !sb) || (sa && sb && !strcmp(sa, sb));
	}
	case SETTING_SECTION:
	case SETTING_SPECIAL:
	case SETTING_REMOVED:
		return 1;
	default:
		return !memcmp(fa, fb, s->size);
	}
}

/* Sets every keyed field of `cfg` to something that is not its default. */
static void scramble(struct config *cfg)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);

	for (i = 0; i < nr; i++) {
		void *f = (char *)cfg + t[i].offset;
		if (!t[i].key)
			continue;
		switch (t[i].type) {
		case SETTING_LIST:
			strlist_push(f, "scrambled");
			break;
		case SETTING_STR:
		case SETTING_STR_NULL:
			config_set_str(f, "scrambled");
			break;
		case SETTING_INT:
		case SETTING_BOOL:
		case SETTING_ENUM:
			if (t[i].size == sizeof(long))
				*(long *)f += 7;
			else
				*(int *)f += 7;
			break;
		default:
			break;
		}
	}
}

/* The documented file states exactly the defaults: every key, checked through the table. */
static void test_documented_file_is_the_defaults(void **state)
{
	struct config a, b;
	size_t nr, i, keys = 0;
	const struct setting *t = config_settings(&nr);
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	(void)state;

	config_init(&a);
	config_init(&b);
	scramble(&b);
	config_load_file(&b, DOCKERBUMP_SOURCE_DIR "/config/dockerbump.yml", CONFIG_FROM_OPERATOR,
	                 &pr);
	if (pr.v.nr)
		fail_msg("the documented file has problems: %s", pr.v.v[0]);
	for (i = 0; i < nr; i++) {
		if (!t[i].key || t[i].type == SETTING_REMOVED)
			continue;
		keys++;
		if (!same_field(&t[i], &a, &b))
			fail_msg("config/dockerbump.yml does not state the default of '%s'",
			         t[i].key);
	}
	assert_true(keys > 40);
	config_problems_release(&pr);
	config_release(&a);
	config_release(&b);
}

static void test_values_and_types(void **state)
{
	struct config cfg;
	char *why;
	(void)state;

	config_init(&cfg);
	why = load(&cfg, "strategy: same-minor\n"
	                 "images: [demisto/python3]\n"
	                 "git: {groups: 4, base: main, push: no}\n"
	                 "verify:\n  level: compile\n  timeout_s: 5\n  prune_images: false\n"
	                 "unknown_age: deny\n"
	                 "dockerimage45: ignore\n"
	                 "pull_request: {provider: gitlab, dashboard: false}\n"
	                 "rollout: {max_open: 3, canary_packs: [Base], cadence_hours: 0}\n");
	assert_null(why);
	assert_int_equal(cfg.strategy, STRATEGY_SAME_MINOR);
	assert_int_equal(cfg.images.nr, 1);
	assert_int_equal(cfg.git.groups, 4);
	assert_string_equal(cfg.git.base, "main");
	assert_int_equal(cfg.git.push, 0);
	assert_int_equal(cfg.verify.level, VERIFY_COMPILE);
	assert_int_equal(cfg.verify.timeout_s, 5);
	assert_int_equal(cfg.verify.prune_images, 0);
	assert_int_equal(cfg.unknown_age_deny, 1);
	assert_int_equal(cfg.dockerimage45_preserve, 0);
	assert_int_equal(cfg.pull_request.provider, PR_GITLAB);
	assert_int_equal(cfg.pull_request.dashboard, 0);
	assert_string_equal(config_forge_api_url(&cfg), "https://gitlab.com/api/v4");
	assert_string_equal(config_forge_token_env(&cfg), "GITLAB_TOKEN");
	assert_int_equal(cfg.rollout.max_open, 3);
	assert_string_equal(cfg.rollout.canary_packs.v[0], "Base");
	assert_int_equal(cfg.rollout.cadence_hours, 0);
	config_release(&cfg);
}

static void expect_problem(const char *text, const char *needle)
{
	struct config cfg;
	char *why;

	config_init(&cfg);
	why = load(&cfg, text);
	if (!why)
		fail_msg("no problem for: %s", text);
	if (!strstr(why, needle))
		fail_msg("problem '%s' does not contain '%s'", why, needle);
	free(why);
	config_release(&cfg);
}

static void test_problems_name_key_and_line(void **state)
{
	(void)state;
	expect_problem("images: [demisto/x]\nbogus: 1\n", "line 2: unknown key 'bogus'");
	expect_problem("git:\n  group: 3\n", "line 2: unknown key 'git.group' (did you mean "
	                                     "'git.groups'?)");
	expect_problem("strategi: same-minor\n", "did you mean 'strategy'?");
	expect_problem("\n\ngit:\n  groups: ten\n",
	               "line 4: key 'git.groups' must be a whole number");
	expect_problem("git:\n  groups: 0\n", "from 1 to");
	expect_problem("git:\n  batch_size: 10\n", "git.batch_size was replaced by git.groups");
	expect_problem("release_notes: maybe\n",
	               "line 1: key 'release_notes' must be true or false");
	expect_problem("release_notes: 'true'\n", "must be true or false (unquoted)");
	expect_problem("strategy: newest\n", "must be latest-build, same-minor or same-major");
	expect_problem("images: demisto/python3\n", "must be a list of strings");
	expect_problem("images: ['']\n", "must not be empty");
	expect_problem("images: ['Demisto/x']\n", "not an image name");
	expect_problem("registry: [1]\n", "must be a mapping");
	expect_problem("registry: {url: ftp://x}\n", "not an http or https URL");
	expect_problem("registry: {url: hub.docker.com}\n", "needs a scheme and a host");
	expect_problem("registry: {url: 'https://u:p@hub.docker.com'}\n", "carries a user name");
	expect_problem("git: {branch_prefix: ''}\n", "must not be empty");
	expect_problem("git: {branch_prefix: 'x..y/'}\n", "does not make valid branch names");
	expect_problem("git: {branch_prefix: bot}\n", "must end with '/' or '-'");
	expect_problem("git: {remote: --upload-pack=x}\n", "must not start with '-'");
	expect_problem("verify: {memory: 1 TB}\n", "not a memory size");
	expect_problem("pull_request: {token_env: 'A B'}\n", "not an environment variable name");
	expect_problem("pull_request: {repo: 'a/../b'}\n", "not owner/name");
	expect_problem("deny_tags: [demisto/python3]\n", "not IMAGE:TAG");
	expect_problem("a: [\n", "line 2");
	expect_problem("- 1\n", "must be a mapping");
	/* Refused before the document is built. */
	expect_problem("images: [a]\nimages: [b]\n", "key 'images' is given twice");
	expect_problem("git: {groups: 1, groups: 2}\n", "key 'git.groups' is given twice");
	expect_problem("strategy: same-minor\n---\nstrategy: same-major\n", "a second document");
	expect_problem("a: &x [1]\nb: *x\n", "aliases are not allowed");
	expect_problem("registry: {url: [[[[[[1]]]]]]}\n", "nested deeper than a config is");
}

/* Every problem of a file is listed, not only the first. */
static void test_every_problem_listed(void **state)
{
	struct config cfg;
	char *why;
	(void)state;

	config_init(&cfg);
	why = load(&cfg, "bogus: 1\nstrategy: newest\ngit: {groups: -1}\n");
	assert_non_null(why);
	assert_non_null(strstr(why, "bogus"));
	assert_non_null(strstr(why, "newest"));
	assert_non_null(strstr(why, "git.groups"));
	free(why);
	config_release(&cfg);
}

/* 100,000 nested brackets in 200 KB: refused by depth, without recursion or a tree. */
static void test_deep_nesting_is_cheap(void **state)
{
	struct config cfg;
	char *text = malloc(200010), *why;
	(void)state;

	memcpy(text, "images: ", 8);
	memset(text + 8, '[', 100000);
	memset(text + 100008, ']', 100000);
	text[200008] = '\n';
	text[200009] = '\0';
	config_init(&cfg);
	why = load(&cfg, text);
	assert_non_null(why);
	assert_non_null(strstr(why, "nested deeper"));
	free(why);
	free(text);
	config_release(&cfg);
}

/* A directory, /dev/zero and a missing file are problems naming the path (exit 2). */
static void test_unreadable_files(void **state)
{
	const char *paths[] = {"/tmp", "/dev/zero", "/nonexistent/dockerbump.yml"};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct config cfg;
		struct config_problems pr = CONFIG_PROBLEMS_INIT;
		struct db_err err = DB_ERR_INIT;

		config_init(&cfg);
		config_load_file(&cfg, paths[i], CONFIG_FROM_OPERATOR, &pr);
		assert_int_equal(config_problems_error(&pr, &err), DB_EUSAGE);
		if (!strstr(err.msg, paths[i]))
			fail_msg("'%s' is not named in: %s", paths[i], err.msg);
		config_problems_release(&pr);
		config_release(&cfg);
	}
}

/* The repository's own file may not set what runs programs or receives tokens. */
static void test_repository_file_is_not_the_operator(void **state)
{
	static const char *const keys[] = {
	    "verify: {runtime: ./evil.sh}\n",
	    "registry: {url: 'http://evil.example'}\n",
	    "pull_request: {api_url: 'http://evil.example/api'}\n",
	    "pull_request: {token_env: HOME}\n",
	    "git: {remote: 'https://evil.example/x.git'}\n",
	};
	struct config cfg;
	char *why;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		config_init(&cfg);
		why = load_as(&cfg, keys[i], CONFIG_FROM_REPO);
		if (!why || !strstr(why, "not read from the repository's own config"))
			fail_msg("the repository file set '%s': %s", keys[i],
			         why ? why : "accepted");
		free(why);
		/* Nothing of it was applied. */
		assert_string_equal(cfg.verify.runtime, "docker");
		assert_string_equal(cfg.registry.url, "https://hub.docker.com");
		assert_null(cfg.pull_request.api_url);
		assert_null(cfg.pull_request.token_env);
		assert_string_equal(cfg.git.remote, "origin");
		config_release(&cfg);

		/* The operator's file, or the repository's with --trust-repo-config, may. */
		config_init(&cfg);
		assert_null(why = load_as(&cfg, keys[i], CONFIG_FROM_OPERATOR));
		config_release(&cfg);
		config_init(&cfg);
		cfg.cli.trust_repo_config = 1;
		assert_null(why = load_as(&cfg, keys[i], CONFIG_FROM_REPO));
		config_release(&cfg);
	}
	/* Everything else is fine from the repository. */
	config_init(&cfg);
	assert_null(why = load_as(&cfg, "strategy: same-minor\nrollout: {max_open: 2}\n",
	                          CONFIG_FROM_REPO));
	config_release(&cfg);
}

static const struct setting *flag(const char *name, enum command cmd)
{
	size_t nr, i;
	const struct setting *t = config_settings(&nr);
	for (i = 0; i < nr; i++)
		if (t[i].flag && !strcmp(t[i].flag, name) && (t[i].commands & cmd))
			return &t[i];
	fail_msg("no flag --%s", name);
	return NULL;
}

static void expect_flag_problem(const char *name, enum command cmd, const char *value,
                                const char *needle)
{
	struct config cfg;
	struct config_problems pr = CONFIG_PROBLEMS_INIT;

	config_init(&cfg);
	config_set_flag(&cfg, flag(name, cmd), value, &pr);
	if (!pr.v.nr)
		fail_msg("--%s '%s' was accepted", name, value);
	if (!strstr(pr.v.v[0], needle))
		fail_msg("'%s' does not contain '%s'", pr.v.v[0], needle);
	config_problems_release(&pr);
	config_release(&cfg);
}

static void test_flags(void **state)
{
	struct config cfg;
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	(void)state;

	expect_flag_problem("image", CMD_RUN, "", "must not be empty");
	expect_flag_problem("image", CMD_RUN, "python3 ", "not an image name");
	expect_flag_problem("only", CMD_RUN, "", "must not be empty");
	expect_flag_problem("only", CMD_RUN, "/Packs", "never start with '/'");
	expect_flag_problem("jobs", CMD_RUN, "0", "from 1 to 64");
	expect_flag_problem("jobs", CMD_RUN, "65", "from 1 to 64");
	expect_flag_problem("shard", CMD_RUN, "3/2", "1 <= K <= N");
	expect_flag_problem("shard", CMD_RUN, "1", "takes K/N");
	expect_flag_problem("registry-url", CMD_RUN, "ftp://x", "not an http or https URL");
	expect_flag_problem("registry-url", CMD_SCAN, "localhost:5000", "needs a scheme");
	expect_flag_problem("verify", CMD_RUN, "full", "must be off, compile, load or tests");
	expect_flag_problem("level", CMD_VERIFY, "off", "the level is compile, load or tests");
	expect_flag_problem("batch-size", CMD_RUN, "10", "replaced by the config key git.groups");
	expect_flag_problem("pr", CMD_RUN, "gitea", "must be none, github or gitlab");
	expect_flag_problem("push", CMD_RUN, "--receive-pack=x", "must not start with '-'");
	expect_flag_problem("log-format", CMD_GLOBAL, "xml", "takes text or json");

	config_init(&cfg);
	config_set_flag(&cfg, flag("shard", CMD_RUN), "2/4", &pr);
	config_set_flag(&cfg, flag("image", CMD_RUN), "demisto/python3", &pr);
	config_set_flag(&cfg, flag("image", CMD_RUN), "demisto/python", &pr);
	config_set_flag(&cfg, flag("push", CMD_RUN), "upstream", &pr);
	config_set_flag(&cfg, flag("dry-run", CMD_RUN), NULL, &pr);
	config_set_flag(&cfg, flag("jobs", CMD_RUN), "8", &pr);
	assert_int_equal(pr.v.nr, 0);
	assert_int_equal(cfg.cli.shard_k, 2);
	assert_int_equal(cfg.cli.shard_n, 4);
	assert_int_equal(cfg.cli.images.nr, 2); /* repeatable: appends */
	assert_string_equal(cfg.git.remote, "upstream");
	assert_int_equal(cfg.cli.push_forced, 1);
	assert_int_equal(cfg.cli.dry_run, 1);
	assert_int_equal(cfg.verify.jobs, 8);
	/* What depends on several settings. */
	config_validate(&cfg, CMD_RUN, &pr);
	assert_int_equal(pr.v.nr, 1);
	assert_non_null(strstr(pr.v.v[0], "--dry-run pushes nothing"));
	config_problems_release(&pr);
	config_release(&cfg);
}

static void test_forge_checks(void **state)
{
	struct config cfg;
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	(void)state;

	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
	config_init(&cfg);
	cfg.pull_request.provider = PR_GITHUB;
	config_set_str(&cfg.pull_request.token_env, "DOCKERBUMP_TEST_NO_TOKEN");
	config_set_str(&cfg.pull_request.api_url, "http://github.example/api/v3");
	config_validate(&cfg, CMD_RUN, &pr);
	assert_int_equal(pr.v.nr, 2);
	assert_non_null(strstr(pr.v.v[0], "plain http"));
	assert_non_null(strstr(pr.v.v[1], "DOCKERBUMP_TEST_NO_TOKEN is not set"));
	config_problems_release(&pr);

	/* The bot's pull requests are found by their first label: there must be one. */
	strlist_clear(&cfg.pull_request.labels);
	config_validate(&cfg, CMD_SCAN, &pr);
	assert_int_equal(pr.v.nr, 1);
	assert_non_null(strstr(pr.v.v[0], "pull_request.labels is empty"));
	config_problems_release(&pr);
	strlist_push(&cfg.pull_request.labels, "dependencies");

	/* Loopback over http is fine (the test stand-ins), and a set token satisfies. */
	setenv("DOCKERBUMP_TEST_NO_TOKEN", "x", 1);
	config_set_str(&cfg.pull_request.api_url, "http://127.0.0.1:8080/api/v3");
	config_validate(&cfg, CMD_RUN, &pr);
	assert_int_equal(pr.v.nr, 0);
	unsetenv("DOCKERBUMP_TEST_NO_TOKEN");
	config_release(&cfg);
}

static void test_did_you_mean(void **state)
{
	const char *const words[] = {"dry-run", "registry-url", "registry-api", "report", "json"};
	(void)state;
	assert_string_equal(config_did_you_mean("dryrun", words, 5), "dry-run");
	assert_string_equal(config_did_you_mean("dry", words, 5), "dry-run");
	assert_string_equal(config_did_you_mean("registry-ulr", words, 5), "registry-url");
	assert_string_equal(config_did_you_mean("jsno", words, 5), "json");
	assert_null(config_did_you_mean("frobnicate", words, 5));
}

/* The schema parses, forbids unknown keys and knows every documented key. */
static void test_schema(void **state)
{
	char *text = config_schema_json();
	json_error_t jerr;
	json_t *s = json_loads(text, 0, &jerr), *props;
	(void)state;

	assert_non_null(s);
	assert_true(json_is_false(json_object_get(s, "additionalProperties")));
	props = json_object_get(s, "properties");
	assert_non_null(json_object_get(props, "images"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(json_object_get(props, "git"), "properties"),
	                        "groups"),
	        "type")),
	    "integer");
	assert_non_null(json_object_get(
	    json_object_get(json_object_get(props, "rollout"), "properties"), "cadence_hours"));
	assert_null(json_object_get(json_object_get(json_object_get(props, "git"), "properties"),
	                            "batch_size"));
	json_decref(s);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_documented_file_is_the_defaults),
	    cmocka_unit_test(test_values_and_types),
	    cmocka_unit_test(test_problems_name_key_and_line),
	    cmocka_unit_test(test_every_problem_listed),
	    cmocka_unit_test(test_deep_nesting_is_cheap),
	    cmocka_unit_test(test_unreadable_files),
	    cmocka_unit_test(test_repository_file_is_not_the_operator),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_forge_checks),
	    cmocka_unit_test(test_did_you_mean),
	    cmocka_unit_test(test_schema),
	};
	gitrepo_global_init(); /* the branch prefix is checked by libgit2 */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "updater/config.h"

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/dockerbump-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(struct config *cfg, const char *text, struct db_err *err)
{
	char *path = write_temp(text);
	int ret = config_load_file(cfg, path, err);
	unlink(path);
	free(path);
	return ret;
}

/* The documented file must be exactly the defaults: load it over a config that differs. */
static void test_documented_file_is_the_defaults(void **state)
{
	struct config a, b;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	config_init(&a);
	config_init(&b);
	b.strategy = STRATEGY_SAME_MAJOR;
	b.git.batch_size = 3;
	b.verify.level = VERIFY_OFF;
	b.release_notes = 0;
	assert_int_equal(config_load_file(&b, DOCKERBUMP_SOURCE_DIR "/config/dockerbump.yml", &err),
	                 0);
	assert_int_equal(a.strategy, b.strategy);
	assert_int_equal(a.git.batch_size, b.git.batch_size);
	assert_int_equal(a.verify.level, b.verify.level);
	assert_int_equal(a.release_notes, b.release_notes);
	assert_int_equal(a.registry.api, b.registry.api);
	assert_string_equal(a.registry.url, b.registry.url);
	assert_int_equal(a.include.nr, b.include.nr);
	for (size_t i = 0; i < a.include.nr; i++)
		assert_string_equal(a.include.v[i], b.include.v[i]);
	assert_null(b.git.base);
	assert_null(b.pull_request.repo);
	assert_string_equal(b.pull_request.labels.v[0], "docker-image-auto-update");
	assert_int_equal(a.cache.ttl_s, b.cache.ttl_s);
	config_release(&a);
	config_release(&b);
}

static void test_values_and_types(void **state)
{
	struct config cfg;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	config_init(&cfg);
	assert_int_equal(load(&cfg,
	                      "strategy: same-minor\n"
	                      "images: [demisto/python3]\n"
	                      "git: {batch_size: 4, base: main, push: no}\n"
	                      "verify:\n  level: compile\n  timeout_s: 5\n"
	                      "unknown_age: deny\n"
	                      "dockerimage45: ignore\n",
	                      &err),
	                 0);
	assert_int_equal(cfg.strategy, STRATEGY_SAME_MINOR);
	assert_int_equal(cfg.images.nr, 1);
	assert_int_equal(cfg.git.batch_size, 4);
	assert_string_equal(cfg.git.base, "main");
	assert_int_equal(cfg.git.push, 0);
	assert_int_equal(cfg.verify.level, VERIFY_COMPILE);
	assert_int_equal(cfg.verify.timeout_s, 5);
	assert_int_equal(cfg.unknown_age_deny, 1);
	assert_int_equal(cfg.dockerimage45_preserve, 0);
	config_release(&cfg);
}

static void expect_error(const char *text, const char *needle)
{
	struct config cfg;
	struct db_err err = DB_ERR_INIT;

	config_init(&cfg);
	if (load(&cfg, text, &err) != DB_EUSAGE)
		fail_msg("no usage error for: %s", text);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not contain '%s'", err.msg, needle);
	config_release(&cfg);
}

static void test_errors_name_key_and_line(void **state)
{
	(void)state;
	expect_error("images: [a]\nbogus: 1\n", "line 2: unknown key 'bogus'");
	expect_error("git:\n  batch: 3\n", "line 2: unknown key 'git.batch'");
	expect_error("\n\ngit:\n  batch_size: ten\n",
	             "line 4: key 'git.batch_size' must be a whole number");
	expect_error("git:\n  batch_size: 0\n", "from 1 to");
	expect_error("release_notes: maybe\n", "line 1: key 'release_notes' must be true or false");
	expect_error("release_notes: 'true'\n", "must be true or false");
	expect_error("strategy: newest\n", "one of latest-build, same-minor, same-major");
	expect_error("images: demisto/python3\n", "must be a list of strings");
	expect_error("registry: [1]\n", "must be a mapping");
	expect_error("a: [\n", "line 2");
	expect_error("- 1\n", "must be a mapping");
}

static void test_missing_file(void **state)
{
	struct config cfg;
	struct db_err err = DB_ERR_INIT;
	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, "/nonexistent/dockerbump.yml", &err), DB_EUSAGE);
	assert_non_null(strstr(err.msg, "/nonexistent/dockerbump.yml"));
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_documented_file_is_the_defaults),
	    cmocka_unit_test(test_values_and_types),
	    cmocka_unit_test(test_errors_name_key_and_line),
	    cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The shared primitives of common/ that the rest stands on: UTF-8 (common/utf8.h), string
 * lists (common/strlist.h), the clocks (common/clock.h) and child processes with their own
 * environment (common/proc.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/proc.h"
#include "common/strlist.h"
#include "common/utf8.h"

/* --- UTF-8 ------------------------------------------------------------------------------ */

static size_t decode(const char *s, size_t n, uint32_t *cp)
{
	*cp = 0xFFFFFFFF;
	return utf8_decode((const unsigned char *)s, n, cp);
}

static void test_utf8_decode(void **state)
{
	uint32_t cp;
	(void)state;

	/* The first and last code point of each length. */
	assert_int_equal(decode("\x00", 1, &cp), 1);
	assert_int_equal(cp, 0);
	assert_int_equal(decode("\x7f", 1, &cp), 1);
	assert_int_equal(cp, 0x7F);
	assert_int_equal(decode("\xc2\x80", 2, &cp), 2);
	assert_int_equal(cp, 0x80);
	assert_int_equal(decode("\xdf\xbf", 2, &cp), 2);
	assert_int_equal(cp, 0x7FF);
	assert_int_equal(decode("\xe0\xa0\x80", 3, &cp), 3);
	assert_int_equal(cp, 0x800);
	assert_int_equal(decode("\xef\xbf\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xFFFF);
	assert_int_equal(decode("\xf0\x90\x80\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x10000);
	assert_int_equal(decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10FFFF);

	/* What RFC 3629 forbids: overlong forms, surrogates, above U+10FFFF, stray bytes. */
	assert_int_equal(decode("\xc0\xaf", 2, &cp), 0);         /* overlong '/' */
	assert_int_equal(decode("\xc1\xbf", 2, &cp), 0);         /* overlong */
	assert_int_equal(decode("\xe0\x9f\xbf", 3, &cp), 0);     /* overlong U+07FF */
	assert_int_equal(decode("\xf0\x8f\xbf\xbf", 4, &cp), 0); /* overlong U+FFFF */
	assert_int_equal(decode("\xed\xa0\x80", 3, &cp), 0);     /* U+D800 */
	assert_int_equal(decode("\xed\xbf\xbf", 3, &cp), 0);     /* U+DFFF */
	assert_int_equal(decode("\xf4\x90\x80\x80", 4, &cp), 0); /* U+110000 */
	assert_int_equal(decode("\xf5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(decode("\x80", 1, &cp), 0); /* a continuation byte alone */
	assert_int_equal(decode("\xff", 1, &cp), 0);
	/* Truncated, and a lead byte followed by something else. */
	assert_int_equal(decode("\xe2\x82", 2, &cp), 0);
	assert_int_equal(decode("\xe2\x82\xac", 2, &cp), 0); /* n cuts the sequence */
	assert_int_equal(decode("\xc3\x41", 2, &cp), 0);
	assert_int_equal(decode("", 0, &cp), 0);
}

static void test_utf8_scan(void **state)
{
	/* Long ASCII runs go a word at a time: put the bad byte on every offset around them. */
	char s[64];
	size_t bad, high, i;
	(void)state;

	for (i = 0; i < 40; i++) {
		memset(s, 'a', sizeof(s));
		s[i] = '\xc3'; /* a lead byte followed by 'a' */
		bad = high = 12345;
		assert_int_equal(utf8_scan(s, sizeof(s), &bad, &high), 0);
		assert_int_equal(bad, i);
		assert_int_equal(high, i);
		assert_int_equal(utf8_valid(s, sizeof(s), NULL), 0);

		memcpy(s + i, "\xe2\x82\xac", 3); /* now a well-formed euro sign */
		assert_int_equal(utf8_scan(s, sizeof(s), &bad, &high), 1);
		assert_int_equal(high, i);
	}
	memset(s, 'a', sizeof(s));
	assert_int_equal(utf8_scan(s, sizeof(s), &bad, &high), 1);
	assert_int_equal(high, sizeof(s)); /* no non-ASCII byte: n */
	/* A sequence cut by the end of the input. */
	memcpy(s + sizeof(s) - 2, "\xe2\x82", 2);
	assert_int_equal(utf8_valid(s, sizeof(s), &bad), 0);
	assert_int_equal(bad, sizeof(s) - 2);
	/* The first bad byte after a good one. */
	assert_int_equal(utf8_valid("\xc3\xa9\xc3(", 4, &bad), 0);
	assert_int_equal(bad, 2);
}

static void test_utf8_sanitize(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	/* Each byte that starts no well-formed sequence is replaced; good ones stay (\x62: b). */
	assert_int_equal(utf8_sanitize(&b, "a\xff\x62\xc3\xa9\xed\xa0\x80", 8, "?"), 4);
	assert_string_equal(b.ptr, "a?b\xc3\xa9???");
	buf_reset(&b);
	assert_int_equal(utf8_sanitize(&b, "ok", 2, UTF8_REPLACEMENT), 0);
	assert_string_equal(b.ptr, "ok");
	buf_reset(&b);
	assert_int_equal(utf8_sanitize(&b, "\x80", 1, UTF8_REPLACEMENT), 1);
	assert_string_equal(b.ptr, UTF8_REPLACEMENT);
	buf_release(&b);

	assert_int_equal(utf8_width('a'), 1);
	assert_int_equal(utf8_width(0x80), 1);
	assert_int_equal(utf8_width(0xC3), 2);
	assert_int_equal(utf8_width(0xE2), 3);
	assert_int_equal(utf8_width(0xF0), 4);
}

/* --- string lists ----------------------------------------------------------------------- */

static void test_strlist(void **state)
{
	struct strlist a = STRLIST_INIT, b = STRLIST_INIT;
	char name[16];
	int i;
	(void)state;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "image-%d", i);
		strlist_push(&a, name);
	}
	snprintf(name, sizeof(name), "changed"); /* the list keeps its own copies */
	assert_int_equal(a.nr, 100);
	assert_string_equal(a.v[0], "image-0");
	assert_string_equal(a.v[99], "image-99");
	assert_true(strlist_has(&a, "image-42"));
	assert_false(strlist_has(&a, "image-100"));
	assert_false(strlist_has(&a, "changed"));

	strlist_push(&b, "stale");
	strlist_copy(&b, &a);
	assert_int_equal(b.nr, 100);
	assert_false(strlist_has(&b, "stale"));
	assert_ptr_not_equal(b.v[5], a.v[5]);
	assert_string_equal(b.v[5], a.v[5]);

	strlist_clear(&a);
	assert_int_equal(a.nr, 0);
	assert_false(strlist_has(&a, "image-1"));
	strlist_push(&a, "again"); /* reusable after clear */
	assert_true(strlist_has(&a, "again"));
	strlist_clear(&a);
	strlist_clear(&b);
}

/* --- clocks ----------------------------------------------------------------------------- */

static void test_clock(void **state)
{
	long long t0, t1;
	(void)state;

	setenv("DOCKERBUMP_NOW", "1800000000", 1);
	assert_int_equal(clock_wall_s(), 1800000000LL);
	setenv("DOCKERBUMP_NOW", "not a number", 1);
	assert_true(clock_wall_s() > 1700000000LL); /* ignored: the real time */
	unsetenv("DOCKERBUMP_NOW");
	assert_true(clock_wall_s() > 1700000000LL);

	/* The monotonic clock does not move with DOCKERBUMP_NOW and sleeps at least as asked. */
	t0 = clock_now_ms();
	setenv("DOCKERBUMP_NOW", "1", 1);
	clock_sleep_ms(30);
	t1 = clock_now_ms();
	unsetenv("DOCKERBUMP_NOW");
	assert_true(t1 - t0 >= 30);
	assert_true(t1 - t0 < 5000);
	clock_sleep_ms(-1); /* nothing */
}

/* --- child processes -------------------------------------------------------------------- */

static int drop_secret(const char *entry)
{
	return !strncmp(entry, "DOCKERBUMP_TEST_SECRET=", 23);
}

static void test_proc_run(void **state)
{
	struct proc_result r;
	struct db_err err = DB_ERR_INIT;
	const char *cat[] = {"cat", NULL};
	const char *fail[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
	const char *big[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
	const char *slow[] = {"sleep", "30", NULL};
	const char *none[] = {"dockerbump-no-such-program", NULL};
	long long t0;
	(void)state;

	/* stdin in, stdout out, exactly. */
	proc_result_init(&r);
	assert_int_equal(proc_run(&r, cat, "a\0b\n", 4, 10000, 1 << 20, &err), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out.len, 4);
	assert_memory_equal(r.out.ptr, "a\0b\n", 4);
	proc_result_release(&r);

	/* Exit code and both streams. */
	proc_result_init(&r);
	assert_int_equal(proc_run(&r, fail, NULL, 0, 10000, 1 << 20, &err), 0);
	assert_int_equal(r.code, 7);
	assert_string_equal(r.out.ptr, "out\n");
	assert_string_equal(r.err.ptr, "err\n");
	proc_result_release(&r);

	/* Output beyond the cap is dropped and said so. */
	proc_result_init(&r);
	assert_int_equal(proc_run(&r, big, NULL, 0, 10000, 1000, &err), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out.len, 1000);
	assert_true(r.truncated);
	proc_result_release(&r);

	/* The timeout kills the child. */
	proc_result_init(&r);
	t0 = clock_now_ms();
	assert_int_equal(proc_run(&r, slow, NULL, 0, 200, 1 << 20, &err), 0);
	assert_true(r.timed_out);
	assert_true(clock_now_ms() - t0 < 10000);
	proc_result_release(&r);

	/* A program that does not exist. */
	proc_result_init(&r);
	assert_true(proc_run(&r, none, NULL, 0, 1000, 1 << 20, &err) < 0);
	assert_non_null(strstr(err.msg, "dockerbump-no-such-program"));
	proc_result_release(&r);
	db_err_clear(&err);
}

static void test_proc_env(void **state)
{
	const char *add[] = {"DOCKERBUMP_TEST_ADDED=yes", NULL};
	const char *argv[] = {"sh", "-c",
	                      "echo \"[$DOCKERBUMP_TEST_SECRET][$DOCKERBUMP_TEST_ADDED]\"", NULL};
	struct db_err err = DB_ERR_INIT;
	struct proc p = PROC_INIT;
	struct buf out = BUF_INIT;
	char **env;
	size_t i;
	int found_secret = 0;
	long long deadline;
	(void)state;

	setenv("DOCKERBUMP_TEST_SECRET", "hunter2", 1);
	env = proc_env(drop_secret, add);
	for (i = 0; env[i]; i++)
		found_secret |= !strncmp(env[i], "DOCKERBUMP_TEST_SECRET=", 23);
	assert_false(found_secret);

	/* The child sees the environment it was given, not ours. */
	assert_int_equal(proc_spawn_env(&p, argv, env, PROC_STDOUT, &err), 0);
	deadline = clock_now_ms() + 10000;
	while (p.out_fd >= 0 && clock_now_ms() < deadline)
		if (proc_read(&p.out_fd, &out, 4096) == 0)
			clock_sleep_ms(5);
	assert_int_equal(proc_wait(&p, 10000), 1);
	assert_int_equal(proc_exit_code(&p), 0);
	assert_string_equal(out.ptr, "[][yes]\n");
	proc_release(&p);
	buf_release(&out);
	free(env);
	unsetenv("DOCKERBUMP_TEST_SECRET");

	assert_true(proc_in_path("sh"));
	assert_false(proc_in_path("dockerbump-no-such-program"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_decode),   cmocka_unit_test(test_utf8_scan),
	    cmocka_unit_test(test_utf8_sanitize), cmocka_unit_test(test_strlist),
	    cmocka_unit_test(test_clock),         cmocka_unit_test(test_proc_run),
	    cmocka_unit_test(test_proc_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

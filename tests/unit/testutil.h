/*
 * What every cmocka suite here shares: skipping that ctest can see.
 *
 * cmocka counts a skipped test as passed, so a suite whose tests need something absent (the
 * shared corpus in ../shared, a container engine) would report success. A suite uses
 * TEST_SKIP() instead of skip() and ends with TEST_MAIN(): when nothing failed but something
 * was skipped, the executable exits 77, which ctest shows as "Skipped" (SKIP_RETURN_CODE), and
 * tests/run.sh fails CI when a test skips where everything it needs is present.
 */
#ifndef DOCKERBUMP_TESTS_TESTUTIL_H
#define DOCKERBUMP_TESTS_TESTUTIL_H

static int testutil_skipped;

#define TEST_SKIP(why)                                                                             \
	do {                                                                                       \
		print_message("[ SKIPPED  ] %s\n", why);                                           \
		testutil_skipped++;                                                                \
		skip();                                                                            \
	} while (0)

static inline int testutil_exit(int failed)
{
	return failed ? failed : testutil_skipped ? 77 : 0;
}

#define TEST_MAIN(tests) return testutil_exit(cmocka_run_group_tests(tests, NULL, NULL))

#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/strnum.h"

static void test_empty_is_a_string(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	buf_release(&b);
	assert_string_equal(b.ptr, "");
}

static void test_add_and_format(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;
	(void)state;
	buf_adds(&b, "demisto/python3");
	buf_addch(&b, ':');
	buf_addf(&b, "%d.%d.%d.%lu", 3, 11, 10, 113941UL);
	assert_string_equal(b.ptr, "demisto/python3:3.11.10.113941");
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%zu", i);
	assert_int_equal(b.len, strlen(b.ptr));
	buf_release(&b);
}

static void test_splice(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	buf_adds(&b, "dockerimage: demisto/python3:3.10.13.83255\n");
	buf_splice(&b, 29, 13, "3.11.10.113941", 14);
	assert_string_equal(b.ptr, "dockerimage: demisto/python3:3.11.10.113941\n");
	buf_splice(&b, 0, 0, "  ", 2);
	assert_string_equal(b.ptr, "  dockerimage: demisto/python3:3.11.10.113941\n");
	buf_splice(&b, 2, 13, "", 0);
	assert_string_equal(b.ptr, "  demisto/python3:3.11.10.113941\n");
	buf_release(&b);
}

static void test_cap(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	buf_set_cap(&b, 8);
	assert_int_equal(buf_add_capped(&b, "12345", 5), 0);
	assert_int_equal(buf_add_capped(&b, "6789", 4), DB_ETOOBIG);
	assert_string_equal(b.ptr, "12345");
	assert_int_equal(buf_add_capped(&b, "678", 3), 0);
	assert_int_equal(buf_add_capped(&b, "", 0), 0);
	assert_int_equal(buf_add_capped(&b, "x", 1), DB_ETOOBIG);
	buf_release(&b);
}

static void test_json_string(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	buf_add_json_string(&b, "a\"b\\c\n\x01", 7);
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_release(&b);
}

static void test_parse_numbers(void **state)
{
	uint64_t v;
	long l;
	(void)state;
	assert_int_equal(parse_u64(&v, "113941", 6, UINT64_MAX), 0);
	assert_true(v == 113941);
	assert_int_equal(parse_u64(&v, "18446744073709551615", 20, UINT64_MAX), 0);
	assert_int_equal(parse_u64(&v, "18446744073709551616", 20, UINT64_MAX), -1);
	assert_int_equal(parse_u64(&v, "", 0, UINT64_MAX), -1);
	assert_int_equal(parse_u64(&v, "12a", 3, UINT64_MAX), -1);
	assert_int_equal(parse_u64(&v, "101", 3, 100), -1);
	assert_int_equal(parse_long(&l, "-5", -10, 10), 0);
	assert_int_equal(l, -5);
	assert_int_equal(parse_long(&l, "11", -10, 10), -1);
	assert_int_equal(parse_long(&l, "+1", -10, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_a_string),
	    cmocka_unit_test(test_add_and_format),
	    cmocka_unit_test(test_splice),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_parse_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "updater/relnotes.h"
#include "testutil.h"

static void bump(const char *in, const char *want_out, const char *want_version)
{
	struct buf out = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char version[64] = "";

	if (relnotes_bump_metadata(&out, version, in, strlen(in), "Packs/X/pack_metadata.json",
	                           &err))
		fail_msg("bump failed: %s", err.msg);
	assert_string_equal(out.ptr, want_out);
	assert_string_equal(version, want_version);
	buf_release(&out);
}

static void test_bump_edits_only_the_string(void **state)
{
	(void)state;
	bump("{\n    \"name\": \"AWS - SQS\",\n    \"currentVersion\": \"1.2.21\",\n    \"x\": "
	     "[]\n}",
	     "{\n    \"name\": \"AWS - SQS\",\n    \"currentVersion\": \"1.2.22\",\n    \"x\": "
	     "[]\n}",
	     "1.2.22");
	/* CRLF, no final newline, a nested decoy before the real key, 9 -> 10 */
	bump(
	    "{\r\n \"deps\": {\"currentVersion\": \"9.9.9\"},\r\n \"currentVersion\" : \"2.0.9\"}",
	    "{\r\n \"deps\": {\"currentVersion\": \"9.9.9\"},\r\n \"currentVersion\" : \"2.0.10\"}",
	    "2.0.10");
	/* an escaped quote inside an earlier string does not confuse the tokenizer */
	bump("{\"description\": \"a \\\"currentVersion\\\": \\\"0.0.1\\\"\", \"currentVersion\": "
	     "\"1.0.0\"}",
	     "{\"description\": \"a \\\"currentVersion\\\": \\\"0.0.1\\\"\", \"currentVersion\": "
	     "\"1.0.1\"}",
	     "1.0.1");
}

static void bump_fails(const char *in, const char *needle)
{
	struct buf out = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	char version[64];

	assert_int_equal(relnotes_bump_metadata(&out, version, in, strlen(in),
	                                        "Packs/X/pack_metadata.json", &err),
	                 DB_EPARSE);
	if (!strstr(err.msg, needle) || !strstr(err.msg, "Packs/X/pack_metadata.json"))
		fail_msg("'%s' lacks '%s'", err.msg, needle);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void test_bump_refuses(void **state)
{
	(void)state;
	bump_fails("{\"currentVersion\": \"1.2\"}", "is not x.y.z");
	bump_fails("{\"currentVersion\": \"1.2.3-rc\"}", "is not x.y.z");
	bump_fails("{\"currentVersion\": 3}", "no \"currentVersion\"");
	bump_fails("{\"name\": \"x\"}", "no \"currentVersion\"");
	bump_fails("{\"currentVersion\": \"1.2.3\"", "line");
	bump_fails("[1]", "not a JSON object");
	bump_fails("{\"currentVersion\": \"1.2.\\u0033\"}", "cannot be edited in place");
}

static void test_path(void **state)
{
	char *p = relnotes_path("OpenPhish", "2.0.25");
	(void)state;
	assert_string_equal(p, "Packs/OpenPhish/ReleaseNotes/2_0_25.md");
	free(p);
}

static void test_render(void **state)
{
	struct item a = {0}, b = {0}, c = {0};
	const struct item *items[] = {&a, &b, &c};
	struct buf out = BUF_INIT;
	(void)state;

	a.kind = ITEM_SCRIPT;
	a.name = "ZScript";
	a.path = "Packs/P/Scripts/ZScript/ZScript.yml";
	a.image = "demisto/python3";
	a.target = "3.11.10.113941";
	b.kind = ITEM_INTEGRATION;
	b.name = "OpenPhish_v2";
	b.display = "OpenPhish v2";
	b.path = "Packs/P/Integrations/OpenPhish_v2/OpenPhish_v2.yml";
	b.image = "demisto/python3";
	b.target = "3.11.10.113941";
	c.kind = ITEM_SCRIPT;
	c.name = "AScript";
	c.path = "Packs/P/Scripts/AScript/AScript.yml";
	c.image = "demisto/python3";
	c.target = "3.11.10.113941";
	relnotes_render(&out, items, 3);
	assert_string_equal(out.ptr,
	                    "\n#### Integrations\n\n##### OpenPhish v2\n\n"
	                    "- Updated the Docker image to: *demisto/python3:3.11.10.113941*.\n"
	                    "\n#### Scripts\n\n##### AScript\n\n"
	                    "- Updated the Docker image to: *demisto/python3:3.11.10.113941*.\n"
	                    "\n##### ZScript\n\n"
	                    "- Updated the Docker image to: *demisto/python3:3.11.10.113941*.\n"
	                    "\n");
	buf_release(&out);
}

/* Byte for byte what the SDK wrote for a real docker bump (skipped without ../shared). */
static void test_render_matches_the_sdk(void **state)
{
	const char *path = DOCKERBUMP_SOURCE_DIR
	    "/../shared/corpus/demisto-content/Packs/OpenPhish/ReleaseNotes/2_0_24.md";
	struct item a = {0};
	const struct item *items[] = {&a};
	struct buf out = BUF_INIT, want = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	(void)state;

	if (file_read(&want, path, 1 << 20, &err) < 0) {
		buf_release(&want);
		TEST_SKIP("the shared corpus is not there");
	}
	a.kind = ITEM_INTEGRATION;
	a.name = "OpenPhish_v2";
	a.display = "OpenPhish v2";
	a.image = "demisto/python3";
	a.target = "3.12.13.10116658";
	relnotes_render(&out, items, 1);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.ptr, want.ptr, want.len);
	buf_release(&out);
	buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bump_edits_only_the_string),
	    cmocka_unit_test(test_bump_refuses),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_render_matches_the_sdk),
	};
	TEST_MAIN(tests);
}

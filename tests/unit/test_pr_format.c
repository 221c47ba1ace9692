/*
 * The text of a pull request (updater/pullreq.c): title and Markdown body against golden
 * strings, escaping of hostile names and logs, and the size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "updater/pullreq.h"

#define ARROW "\xe2\x86\x92"

static const struct pr_item two_items[] = {
    {"Hello World", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld", NULL,
     "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
    {"Bar", "Packs/Tools/Scripts/Bar/Bar.yml", "Tools", NULL, "3.10.12.1", NULL, "error-entry",
     "error-entry", 0, NULL},
};

static struct pr_request request(const struct pr_item *items, size_t n)
{
	struct pr_request req = {"demisto/content",
	                         "dockerbump/demisto-python3-batch-1",
	                         "master",
	                         "demisto/python3",
	                         "3.11.10.113941",
	                         1,
	                         0,
	                         NULL,
	                         items,
	                         n};
	return req;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static const char footer[] =
    "\n---\n*Opened by dockerbump. A newer tag updates this pull request; edits to its title and "
    "body are overwritten.*\n";

static void test_title(void **state)
{
	struct pr_request req = request(two_items, 2);
	struct buf b = BUF_INIT;
	(void)state;

	pr_format_title(&b, &req);
	assert_string_equal(b.ptr, "Update demisto/python3 to 3.11.10.113941 (batch 1)");
	buf_reset(&b);
	req.batch = 0;
	pr_format_title(&b, &req);
	assert_string_equal(b.ptr, "Update demisto/python3 to 3.11.10.113941");
	buf_reset(&b);
	/* A title is plain text: control characters cannot forge anything. */
	req.tag = "1.2\n\x1b[31m";
	pr_format_title(&b, &req);
	assert_string_equal(b.ptr, "Update demisto/python3 to 1.2??[31m");
	buf_release(&b);
}

static void test_body_all_verified(void **state)
{
	struct pr_request req = request(two_items, 2);
	struct buf b = BUF_INIT, want = BUF_INIT;
	(void)state;

	buf_adds(&want,
	         "Updates the Docker image of 2 items to **demisto/python3:3.11.10.113941**.\n"
	         "\n#### demisto/python3\n\n"
	         "| Item | Pack | Old tag | New tag | Verification (old " ARROW " new) |\n"
	         "| --- | --- | --- | --- | --- |\n"
	         "| Hello World | HelloWorld | 3.10.13.83255 | 3.11.10.113941 | ok " ARROW " ok |\n"
	         "| Bar | Tools | 3.10.12.1 | 3.11.10.113941 | error-entry " ARROW
	         " error-entry |\n");
	buf_adds(&want, footer);
	pr_format_body(&b, &req);
	assert_string_equal(b.ptr, want.ptr);
	buf_release(&b);
	buf_release(&want);
}

static void test_body_blocked_and_grouped(void **state)
{
	static const struct pr_item items[] = {
	    {"Hello World", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld",
	     NULL, "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
	    {"Old", "Packs/Legacy/Scripts/script-Old.yml", "Legacy", "demisto/python", "2.7.18.1",
	     "2.7.18.2", NULL, NULL, 0, NULL},
	    {"Broken", "Packs/Tools/Scripts/Broken/Broken.yml", "Tools", NULL, "3.10.13.83255",
	     NULL, "ok", "exception (ImportError)", 1,
	     "Traceback (most recent call last):\nImportError: No module named 'six'\n"},
	    {"Quiet", "Packs/Tools/Scripts/Quiet/Quiet.yml", "Tools", NULL, "3.10.13.83255", NULL,
	     "ok", "timeout", 1, NULL},
	};
	struct pr_request req = request(items, 4);
	struct buf b = BUF_INIT, want = BUF_INIT;
	(void)state;

	buf_adds(&want,
	         "Updates the Docker images of 2 items, per image below. 2 items were blocked by "
	         "verification (the new image did worse than the old one) and left out.\n"
	         "\n#### demisto/python3\n\n"
	         "| Item | Pack | Old tag | New tag | Verification (old " ARROW " new) |\n"
	         "| --- | --- | --- | --- | --- |\n"
	         "| Hello World | HelloWorld | 3.10.13.83255 | 3.11.10.113941 | ok " ARROW " ok |\n"
	         "| Broken | Tools | 3.10.13.83255 | 3.11.10.113941 | **blocked**: ok " ARROW
	         " exception (ImportError) |\n"
	         "| Quiet | Tools | 3.10.13.83255 | 3.11.10.113941 | **blocked**: ok " ARROW
	         " timeout |\n"
	         "\n#### demisto/python\n\n"
	         "| Item | Pack | Old tag | New tag | Verification (old " ARROW " new) |\n"
	         "| --- | --- | --- | --- | --- |\n"
	         "| Old | Legacy | 2.7.18.1 | 2.7.18.2 | not verified |\n"
	         "\n<details>\n<summary>Verification logs of blocked items (2)</summary>\n"
	         "\n**Broken** (Packs/Tools/Scripts/Broken/Broken.yml)\n\n"
	         "<pre>\nTraceback (most recent call last):\n"
	         "ImportError: No module named 'six'\n</pre>\n"
	         "\n**Quiet** (Packs/Tools/Scripts/Quiet/Quiet.yml)\n\n"
	         "*No log was recorded.*\n"
	         "\n</details>\n");
	buf_adds(&want, footer);
	pr_format_body(&b, &req);
	assert_string_equal(b.ptr, want.ptr);
	buf_release(&b);
	buf_release(&want);
}

/* Names, outcomes and logs come from the repository and the container: nothing in them may
 * break the table, open HTML, close the <pre> or <details>, or be invalid UTF-8. */
static void test_body_escapes_hostile_text(void **state)
{
	static const struct pr_item items[] = {
	    {"a|b`c<d>&*x*_y_[z](u)\\", "Packs/P/Scripts/a/a.yml", "P|Q", NULL, "1.0.1", NULL, "ok",
	     "exception (<Err>|x)", 1,
	     "line `1` | </pre></details><script>\r\nbad \xff\xfe utf8 \xe2\x86\x92 ok\x01\n"},
	};
	struct pr_request req = request(items, 1);
	struct buf b = BUF_INIT;
	(void)state;

	pr_format_body(&b, &req);
	assert_non_null(strstr(b.ptr,
	                       "| a\\|b\\`c&lt;d&gt;&amp;\\*x\\*\\_y\\_\\[z\\](u)\\\\ | P\\|Q | "
	                       "1.0.1 | 3.11.10.113941 | **blocked**: ok " ARROW
	                       " exception (&lt;Err&gt;\\|x) |\n"));
	/* Inside <pre> only the HTML entities matter; line breaks stay, \r goes. */
	assert_non_null(strstr(b.ptr,
	                       "<pre>\nline `1` | &lt;/pre&gt;&lt;/details&gt;&lt;script&gt;\n"
	                       "bad \xef\xbf\xbd\xef\xbf\xbd utf8 " ARROW " ok \n</pre>\n"));
	assert_null(strstr(b.ptr, "<script>"));
	/* The only closing tags are the body's own. */
	assert_int_equal(count(b.ptr, "</pre>"), 1);
	assert_int_equal(count(b.ptr, "</details>"), 1);
	buf_release(&b);
}

static void test_md_escape(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	pr_md_escape(&b, "plain 3.11.10 demisto/python3");
	assert_string_equal(b.ptr, "plain 3.11.10 demisto/python3");
	buf_reset(&b);
	pr_md_escape(&b, "two\nlines\tand\x7f");
	assert_string_equal(b.ptr, "two lines and ");
	buf_reset(&b);
	/* Overlong '/', a lone continuation byte, a surrogate, a truncated sequence. */
	pr_md_escape(&b, "\xc0\xaf|\x80|\xed\xa0\x80|\xe2\x86");
	assert_string_equal(b.ptr,
	                    "\xef\xbf\xbd\xef\xbf\xbd\\|\xef\xbf\xbd\\|\xef\xbf\xbd\xef\xbf\xbd"
	                    "\xef\xbf\xbd\\|\xef\xbf\xbd\xef\xbf\xbd");
	buf_reset(&b);
	pr_md_escape(&b, NULL);
	assert_string_equal(b.ptr, "");
	buf_release(&b);
}

/* A huge log keeps its end (where the error is) and says how much was cut. */
static void test_long_log_keeps_its_tail(void **state)
{
	struct pr_item item = {
	    "Big", "Packs/P/Scripts/Big/Big.yml", "P", NULL, "1.0.1", NULL, "ok", "crash", 1, NULL};
	struct pr_request req = request(&item, 1);
	struct buf log = BUF_INIT, b = BUF_INIT;
	size_t i;
	(void)state;

	for (i = 0; i < 20000; i++)
		buf_addf(&log, "<%zu>\n", i);
	buf_adds(&log, "MemoryError: the last line\n");
	item.log = log.ptr;
	pr_format_body(&b, &req);
	assert_true(b.len <= PR_BODY_MAX);
	assert_non_null(strstr(b.ptr, "MemoryError: the last line\n</pre>"));
	assert_non_null(strstr(b.ptr, " bytes cut]\n"));
	assert_null(strstr(b.ptr, "&lt;0&gt;\n"));
	buf_release(&log);
	buf_release(&b);
}

/* A batch far larger than any table GitHub accepts: the body stays under the limit and says
 * how many rows it left out. */
static void test_body_stays_under_the_limit(void **state)
{
	size_t n = 3000, i;
	struct pr_item *items = xcalloc(n, sizeof(*items));
	char **names = xcalloc(n, sizeof(*names));
	struct buf b = BUF_INIT, log = BUF_INIT;
	struct pr_request req;
	(void)state;

	for (i = 0; i < 4000; i++)
		buf_adds(&log, "0123456789abcdef");
	for (i = 0; i < n; i++) {
		names[i] = xasprintf("Item%05zu", i);
		items[i] = (struct pr_item){names[i],     "Packs/P/Scripts/X/X.yml",
		                            "P",          NULL,
		                            "1.0.1",      NULL,
		                            "ok",         i % 2 ? "exception (KeyError)" : "ok",
		                            (int)(i % 2), log.ptr};
	}
	req = request(items, n);
	pr_format_body(&b, &req);
	assert_true(b.len <= PR_BODY_MAX);
	assert_non_null(strstr(b.ptr, "| Item00000 |"));
	assert_non_null(strstr(b.ptr, "more items are not listed here"));
	assert_non_null(strstr(b.ptr, "logs are left out for want of room"));
	assert_non_null(strstr(b.ptr, "</details>\n"));
	assert_non_null(strstr(b.ptr, "edits to its title and body are overwritten.*\n"));

	/* Appending to a buffer that already holds text does not count that text. */
	buf_reset(&b);
	buf_adds(&b, "prefix\n");
	req.nr_items = 1;
	pr_format_body(&b, &req);
	assert_int_equal(strncmp(b.ptr, "prefix\nUpdates the Docker image of 1 item to", 44), 0);

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(items);
	buf_release(&log);
	buf_release(&b);
}

static void test_outcome_names(void **state)
{
	struct pr_result res = PR_RESULT_INIT;
	(void)state;

	assert_string_equal(pr_outcome_name(PR_CREATED), "created");
	assert_string_equal(pr_outcome_name(PR_UPDATED), "updated");
	assert_string_equal(pr_outcome_name(PR_UNCHANGED), "unchanged");
	res.url = xstrdup("https://github.com/o/r/pull/1");
	pr_result_release(&res);
	assert_null(res.url);
	pr_result_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_title),
	    cmocka_unit_test(test_body_all_verified),
	    cmocka_unit_test(test_body_blocked_and_grouped),
	    cmocka_unit_test(test_body_escapes_hostile_text),
	    cmocka_unit_test(test_md_escape),
	    cmocka_unit_test(test_long_log_keeps_its_tail),
	    cmocka_unit_test(test_body_stays_under_the_limit),
	    cmocka_unit_test(test_outcome_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

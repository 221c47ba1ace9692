/*
 * The text of a pull request (updater/pullreq.c): title and Markdown body against golden
 * strings, escaping of hostile names and logs, the size limits, the closing comment, and the
 * machine marker: written, read back, and read safely out of hostile bodies.
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
	struct pr_request req = {0};

	req.repo = "demisto/content";
	req.head = "dockerbump/group-17";
	req.base = "master";
	req.group = "17";
	req.items = items;
	req.nr_items = n;
	req.image = "demisto/python3";
	req.tag = "3.11.10.113941";
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

static const char table_head[] =
    "\n| Item | Pack | Image | Old tag | New tag | Verification (old " ARROW " new) |\n"
    "| --- | --- | --- | --- | --- | --- |\n";

static void test_title(void **state)
{
	static const struct pr_item mixed[] = {
	    {"A", "Packs/A/Scripts/A/A.yml", "A", "demisto/python3", "3.10.13.1", "3.11.10.113941",
	     NULL, NULL, 0, NULL},
	    {"B", "Packs/B/Scripts/B/B.yml", "B", "demisto/python", "2.7.18.1", "2.7.18.24399",
	     NULL, NULL, 0, NULL},
	    {"C", "Packs/C/Scripts/C/C.yml", "C", "demisto/python3", "3.10.13.1", "3.10.14.100",
	     NULL, NULL, 0, NULL},
	    {"D", "Packs/D/Scripts/D/D.yml", "D", "demisto/python3", "3.10.13.1", "3.11.10.113941",
	     NULL, NULL, 0, NULL},
	};
	struct pr_request req = request(two_items, 2);
	struct pr_item reversed[4];
	struct buf a = BUF_INIT, b = BUF_INIT;
	(void)state;

	pr_format_title(&a, &req);
	assert_string_equal(a.ptr, "Update demisto/python3 to 3.11.10.113941 (group 17)");
	buf_reset(&a);
	req.group = "canary";
	pr_format_title(&a, &req);
	assert_string_equal(a.ptr, "Update demisto/python3 to 3.11.10.113941 (canary)");

	/* Two images: in name order, whatever the order of the items. */
	buf_reset(&a);
	req = request(mixed, 2);
	pr_format_title(&a, &req);
	assert_string_equal(a.ptr, "Update demisto/python to 2.7.18.24399 and demisto/python3 to "
	                           "3.11.10.113941 (group 17)");
	/* One image, two targets: newest first. */
	buf_reset(&a);
	req.items = mixed + 2;
	req.nr_items = 2;
	pr_format_title(&a, &req);
	assert_string_equal(a.ptr,
	                    "Update demisto/python3 to 3.11.10.113941 and 3.10.14.100 (group 17)");
	/* More: summed up, and stable under reordering. */
	buf_reset(&a);
	req = request(mixed, 4);
	pr_format_title(&a, &req);
	assert_string_equal(a.ptr, "Update demisto/python to 2.7.18.24399 and 2 more targets "
	                           "(group 17)");
	reversed[0] = mixed[3];
	reversed[1] = mixed[2];
	reversed[2] = mixed[1];
	reversed[3] = mixed[0];
	req.items = reversed;
	pr_format_title(&b, &req);
	assert_string_equal(a.ptr, b.ptr);

	/* A title is plain text: control characters cannot forge anything. */
	buf_reset(&a);
	req = request(two_items, 2);
	req.tag = "1.2\n\x1b[31m";
	pr_format_title(&a, &req);
	assert_string_equal(a.ptr, "Update demisto/python3 to 1.2??[31m (group 17)");
	buf_release(&a);
	buf_release(&b);
}

static void test_body_all_verified(void **state)
{
	struct pr_request req = request(two_items, 2);
	struct buf b = BUF_INIT, want = BUF_INIT;
	(void)state;

	buf_adds(&want, "Updates the Docker image of 2 items to "
	                "**demisto/python3:3.11.10.113941**.\n");
	buf_adds(&want, table_head);
	/* Rows by pack: HelloWorld before Tools. */
	buf_adds(&want, "| Hello World | HelloWorld | demisto/python3 | 3.10.13.83255 | "
	                "3.11.10.113941 | ok " ARROW " ok |\n"
	                "| Bar | Tools | demisto/python3 | 3.10.12.1 | 3.11.10.113941 | "
	                "error-entry " ARROW " error-entry |\n");
	buf_adds(&want, footer);
	buf_adds(&want,
	         "<!-- dockerbump:v1 {\"base\":\"master\",\"branch\":\"dockerbump/group-17\","
	         "\"group\":\"17\",\"images\":{\"demisto/python3\":\"3.11.10.113941\"}} -->\n");
	pr_format_body(&b, &req);
	assert_string_equal(b.ptr, want.ptr);
	buf_release(&b);
	buf_release(&want);
}

static void test_body_blocked_and_several_images(void **state)
{
	static const struct pr_item items[] = {
	    {"Quiet", "Packs/Tools/Scripts/Quiet/Quiet.yml", "Tools", NULL, "3.10.13.83255", NULL,
	     "ok", "timeout", 1, NULL},
	    {"Hello World", "Packs/HelloWorld/Integrations/HelloWorld/HelloWorld.yml", "HelloWorld",
	     NULL, "3.10.13.83255", NULL, "ok", "ok", 0, NULL},
	    {"Old", "Packs/Legacy/Scripts/script-Old.yml", "Legacy", "demisto/python", "2.7.18.1",
	     "2.7.18.2", NULL, NULL, 0, NULL},
	    {"Broken", "Packs/Tools/Scripts/Broken/Broken.yml", "Tools", NULL, "3.10.13.83255",
	     NULL, "ok", "exception (ImportError)", 1,
	     "Traceback (most recent call last):\nImportError: No module named 'six'\n"},
	};
	struct pr_request req = request(items, 4);
	struct buf b = BUF_INIT, want = BUF_INIT;
	(void)state;

	buf_adds(&want, "Updates the Docker images of 2 items to **demisto/python:2.7.18.2** and "
	                "**demisto/python3:3.11.10.113941**. 2 items were blocked by verification "
	                "(the new image did worse than the old one) and left out.\n");
	buf_adds(&want, table_head);
	buf_adds(&want,
	         "| Hello World | HelloWorld | demisto/python3 | 3.10.13.83255 | 3.11.10.113941 | "
	         "ok " ARROW " ok |\n"
	         "| Old | Legacy | demisto/python | 2.7.18.1 | 2.7.18.2 | not verified |\n"
	         "| Broken | Tools | demisto/python3 | 3.10.13.83255 | 3.11.10.113941 | "
	         "**blocked**: ok " ARROW " exception (ImportError) |\n"
	         "| Quiet | Tools | demisto/python3 | 3.10.13.83255 | 3.11.10.113941 | "
	         "**blocked**: ok " ARROW " timeout |\n"
	         "\n<details>\n<summary>Verification logs of blocked items (2)</summary>\n"
	         "\n**Broken** (Packs/Tools/Scripts/Broken/Broken.yml)\n\n"
	         "<pre>\nTraceback (most recent call last):\n"
	         "ImportError: No module named 'six'\n</pre>\n"
	         "\n**Quiet** (Packs/Tools/Scripts/Quiet/Quiet.yml)\n\n"
	         "*No log was recorded.*\n"
	         "\n</details>\n");
	buf_adds(&want, footer);
	/* Blocked items are not in the branch: not in the marker either. */
	buf_adds(&want,
	         "<!-- dockerbump:v1 {\"base\":\"master\",\"branch\":\"dockerbump/group-17\","
	         "\"group\":\"17\",\"images\":{\"demisto/python\":\"2.7.18.2\","
	         "\"demisto/python3\":\"3.11.10.113941\"}} -->\n");
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
	     "line `1` | </pre></details><script>\r\nbad \xff\xfe utf8 \xe2\x86\x92 ok\x01 -->\n"},
	};
	struct pr_request req = request(items, 1);
	struct buf b = BUF_INIT;
	(void)state;

	pr_format_body(&b, &req);
	assert_non_null(strstr(b.ptr,
	                       "| a\\|b\\`c&lt;d&gt;&amp;\\*x\\*\\_y\\_\\[z\\](u)\\\\ | P\\|Q | "
	                       "demisto/python3 | 1.0.1 | 3.11.10.113941 | **blocked**: ok " ARROW
	                       " exception (&lt;Err&gt;\\|x) |\n"));
	/* Inside <pre> only the HTML entities matter; line breaks stay, \r goes. */
	assert_non_null(strstr(b.ptr,
	                       "<pre>\nline `1` | &lt;/pre&gt;&lt;/details&gt;&lt;script&gt;\n"
	                       "bad \xef\xbf\xbd\xef\xbf\xbd utf8 " ARROW " ok  --&gt;\n</pre>\n"));
	assert_null(strstr(b.ptr, "<script>"));
	/* The only closing tags and comment ends are the body's own. */
	assert_int_equal(count(b.ptr, "</pre>"), 1);
	assert_int_equal(count(b.ptr, "</details>"), 1);
	assert_int_equal(count(b.ptr, "-->"), 1);
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

/* A group far larger than any table GitHub accepts: the body stays under the limit, says how
 * many rows it left out, and keeps its marker whole. GitLab's limit takes far more. */
static void test_body_stays_under_the_limit(void **state)
{
	size_t n = 3000, i, github_rows;
	struct pr_item *items = xcalloc(n, sizeof(*items));
	char **names = xcalloc(n, sizeof(*names));
	struct buf b = BUF_INIT, log = BUF_INIT;
	struct pr_marker m = PR_MARKER_INIT;
	struct db_err err = DB_ERR_INIT;
	struct pr_request req;
	(void)state;

	for (i = 0; i < 4000; i++)
		buf_adds(&log, "0123456789abcdef");
	for (i = 0; i < n; i++) {
		names[i] = xasprintf("Item%05zu", i);
		items[i] = (struct pr_item){
		    names[i],     names[i], "P",  NULL,
		    "1.0.1",      NULL,     "ok", i % 2 ? "exception (KeyError)" : "ok",
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
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), 0);
	assert_string_equal(m.branch, "dockerbump/group-17");
	pr_marker_release(&m);
	github_rows = count(b.ptr, "| P | demisto/python3 |");

	buf_reset(&b);
	req.body_max = PR_BODY_MAX_GITLAB;
	pr_format_body(&b, &req);
	assert_true(b.len <= PR_BODY_MAX_GITLAB);
	assert_int_equal(count(b.ptr, "| P | demisto/python3 |"), n);
	assert_true(github_rows < n);

	/* Appending to a buffer that already holds text does not count that text. */
	buf_reset(&b);
	buf_adds(&b, "prefix\n");
	req.nr_items = 1;
	req.body_max = 0;
	pr_format_body(&b, &req);
	assert_int_equal(strncmp(b.ptr, "prefix\nUpdates the Docker image of 1 item to", 44), 0);

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(items);
	buf_release(&log);
	buf_release(&b);
}

static void test_close_comment(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	pr_format_close_comment(&b, "every item of group 17 is up to date on master.");
	assert_string_equal(b.ptr, "Closed by dockerbump: every item of group 17 is up to date "
	                           "on master.\n\nIts branch is deleted. A later run opens a new "
	                           "pull request if these packs have bumps again.\n");
	buf_reset(&b);
	pr_format_close_comment(&b, "<b>pack `X`</b>\ngone");
	assert_non_null(strstr(b.ptr, "&lt;b&gt;pack \\`X\\`&lt;/b&gt; gone."));
	buf_release(&b);
}

/* --- the marker ----------------------------------------------------------------------- */

static void test_marker_round_trip(void **state)
{
	static const struct pr_item items[] = {
	    {"A", "Packs/A/A.yml", "A", "demisto/python3", "1", "3.10.14.100", NULL, NULL, 0, NULL},
	    {"B", "Packs/B/B.yml", "B", "demisto/python", "1", "2.7.18.24399", NULL, NULL, 0, NULL},
	    {"C", "Packs/C/C.yml", "C", "demisto/python3", "1", "3.11.10.113941", NULL, NULL, 0,
	     NULL},
	    {"D", "Packs/D/D.yml", "D", "demisto/auth-utils", "1", "1.0.0.1", NULL, NULL, 1, NULL},
	};
	struct pr_request req = request(items, 4);
	struct pr_marker m = PR_MARKER_INIT, copy;
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	(void)state;

	req.head = "dockerbump/canary";
	req.group = "canary";
	pr_format_marker(&b, &req);
	assert_string_equal(b.ptr, "<!-- dockerbump:v1 {\"base\":\"master\",\"branch\":"
	                           "\"dockerbump/canary\",\"group\":\"canary\",\"images\":"
	                           "{\"demisto/python\":\"2.7.18.24399\",\"demisto/python3\":"
	                           "[\"3.11.10.113941\",\"3.10.14.100\"]}} -->\n");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), 0);
	assert_string_equal(m.branch, "dockerbump/canary");
	assert_string_equal(m.group, "canary");
	assert_string_equal(m.base, "master");
	assert_int_equal(m.nr, 3);
	assert_string_equal(m.v[0].image, "demisto/python");
	assert_string_equal(m.v[1].image, "demisto/python3");
	assert_string_equal(m.v[1].tag, "3.11.10.113941");
	assert_string_equal(m.v[2].tag, "3.10.14.100");
	pr_marker_copy(&copy, &m);
	pr_marker_release(&m);
	assert_string_equal(copy.v[2].image, "demisto/python3");
	pr_marker_release(&copy);
	pr_marker_release(NULL);
	buf_release(&b);
}

/* Bodies from the forge, any of which a human or an attacker could have written. */
static const struct {
	const char *body;
	int code;
	const char *words;
} hostile[] = {
    {"", DB_ENOTFOUND, "none in the body"},
    {"a body a human wrote", DB_ENOTFOUND, "none in the body"},
    {"<!-- dockerbump:v1 {\"branch\":\"dockerbump/group-1\"}", DB_EPARSE, "not terminated"},
    {"<!-- dockerbump:v1 not json -->", DB_EPARSE, "not a JSON object"},
    {"<!-- dockerbump:v1 [\"branch\"] -->", DB_EPARSE, "not a JSON object"},
    {"<!-- dockerbump:v1 {} -->", DB_EPARSE, "'branch' is missing"},
    {"<!-- dockerbump:v1 {\"branch\":17} -->", DB_EPARSE, "'branch' is missing"},
    {"<!-- dockerbump:v1 {\"branch\":\"../../etc\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"a b\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"x.lock\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"x/.hidden\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"-x\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"a/\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"a@{1}\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"x\\u003cscript\"} -->", DB_EPARSE, "not a valid branch"},
    {"<!-- dockerbump:v1 {\"branch\":\"x\\u0000y\"} -->", DB_EPARSE, "not a JSON object"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"branch\":\"c\"} -->", DB_EPARSE, "not a JSON"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"group\":\"a/b\"} -->", DB_EPARSE, "'group'"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"base\":\"..\"} -->", DB_EPARSE, "'base'"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"base\":7} -->", DB_EPARSE, "'base'"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":[]} -->", DB_EPARSE, "'images' is not"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"Demisto/X\":\"1\"}} -->", DB_EPARSE,
     "not a valid image"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"../x\":\"1\"}} -->", DB_EPARSE,
     "not a valid image"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":\"1;rm -rf\"}} -->", DB_EPARSE,
     "not a valid tag"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":[]}} -->", DB_EPARSE,
     "not a valid tag"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":[1]}} -->", DB_EPARSE,
     "not a valid tag"},
    {"<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":{}}} -->", DB_EPARSE,
     "not a valid tag"},
    /* A value cannot end the comment early: raw "-->" inside a string cuts the JSON. */
    {"<!-- dockerbump:v1 {\"branch\":\"b -->\"} -->", DB_EPARSE, "not a JSON object"},
    {"<!-- dockerbump:v1 {\"branch\":\"b-->\"} -->", DB_EPARSE, "not a valid branch"},
};

static void test_marker_parser_on_hostile_bodies(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		struct pr_marker m = PR_MARKER_INIT;
		struct db_err err = DB_ERR_INIT;
		int ret = pr_marker_parse(&m, hostile[i].body, strlen(hostile[i].body), &err);

		if (ret != hostile[i].code || !strstr(err.msg, hostile[i].words))
			fail_msg("case %zu: got %d '%s'", i, ret, err.msg);
		assert_null(m.branch);
		assert_int_equal(m.nr, 0);
		/* Nothing of the body is quoted back. */
		assert_null(strstr(err.msg, "rm -rf"));
		assert_null(strstr(err.msg, "../"));
	}
	{
		struct pr_marker m;
		struct db_err err = DB_ERR_INIT;
		assert_int_equal(pr_marker_parse(&m, NULL, 0, &err), DB_ENOTFOUND);
	}
}

/* The last marker wins; NUL bytes and megabytes of anything before it do not matter; too
 * big a marker or too many targets are refused. */
static void test_marker_parser_limits(void **state)
{
	struct pr_marker m = PR_MARKER_INIT;
	struct db_err err = DB_ERR_INIT;
	struct buf b = BUF_INIT;
	size_t i;
	(void)state;

	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"dockerbump/old\"} -->\n");
	for (i = 0; i < 100000; i++)
		buf_add(&b, "x\0<!-- ", 7);
	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"dockerbump/group-2\",\"images\":"
	             "{\"demisto/python3\":\"3.11.10.113941\"}} -->\ntrailing text");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), 0);
	assert_string_equal(m.branch, "dockerbump/group-2");
	assert_null(m.group);
	assert_null(m.base);
	assert_int_equal(m.nr, 1);
	pr_marker_release(&m);

	/* Targets come back in one order whatever the body's (versions newest first, then
	 * names), and once each: the fuzzer found both. */
	buf_reset(&b);
	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":"
	             "[\"b\",\"2.0\",\"a\",\"10.0\",\"2.0\"]}} -->");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), 0);
	assert_int_equal(m.nr, 4);
	assert_string_equal(m.v[0].tag, "10.0");
	assert_string_equal(m.v[1].tag, "2.0");
	assert_string_equal(m.v[2].tag, "a");
	assert_string_equal(m.v[3].tag, "b");
	pr_marker_release(&m);

	/* JSON escapes decode before the value is checked. */
	buf_reset(&b);
	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"dockerbump/a=b\\u002bc\"} -->");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), 0);
	assert_string_equal(m.branch, "dockerbump/a=b+c");
	pr_marker_release(&m);

	buf_reset(&b);
	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"b\",\"pad\":\"");
	for (i = 0; i < PR_MARKER_MAX; i++)
		buf_addch(&b, 'x');
	buf_adds(&b, "\"} -->");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), DB_EPARSE);
	assert_non_null(strstr(err.msg, "larger than"));

	buf_reset(&b);
	db_err_clear(&err);
	buf_adds(&b, "<!-- dockerbump:v1 {\"branch\":\"b\",\"images\":{\"demisto/x\":[");
	for (i = 0; i <= PR_MARKER_MAX_TAGS; i++)
		buf_addf(&b, "%s\"1.%zu\"", i ? "," : "", i);
	buf_adds(&b, "]}} -->");
	assert_int_equal(pr_marker_parse(&m, b.ptr, b.len, &err), DB_EPARSE);
	assert_non_null(strstr(err.msg, "more image targets"));
	assert_null(m.v);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_title),
	    cmocka_unit_test(test_body_all_verified),
	    cmocka_unit_test(test_body_blocked_and_several_images),
	    cmocka_unit_test(test_body_escapes_hostile_text),
	    cmocka_unit_test(test_md_escape),
	    cmocka_unit_test(test_long_log_keeps_its_tail),
	    cmocka_unit_test(test_body_stays_under_the_limit),
	    cmocka_unit_test(test_close_comment),
	    cmocka_unit_test(test_marker_round_trip),
	    cmocka_unit_test(test_marker_parser_on_hostile_bodies),
	    cmocka_unit_test(test_marker_parser_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The scan cache (updater/scancache.c): entries survive a save and a load byte for byte; a file
 * that is foreign, truncated anywhere, damaged or edited is ignored as a whole with a warning;
 * and puts, saves, loads and gets cost O(n log n), not a sort per insert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "updater/scancache.h"

static char tmpdir[] = "/tmp/test_scancache.XXXXXX";

static char *cache_file(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void oid_of(git_oid *id, unsigned n)
{
	char hex[GIT_OID_HEXSZ + 1];
	snprintf(hex, sizeof(hex), "%08x%032x", n * 2654435761u, n);
	assert_int_equal(git_oid_fromstr(id, hex), 0);
}

/* A located with every kind of field, the awkward bytes included. */
static void sample(struct located *l, unsigned n)
{
	memset(l, 0, sizeof(*l));
	l->integration = n & 1;
	l->refused = (n % 7) == 3;
	if (l->refused)
		l->reason = xasprintf("duplicate key 'dockerimage' at line %u", n);
	l->image = xasprintf("demisto/python3:3.10.%u", n);
	l->flag = n % 3 ? xstrdup("false") : NULL;
	l->flag_quoted = n % 5 == 0;
	l->flag_script = n % 4 == 0 ? xstrdup("tab\there\nnew\\line\x1funit\rcr") : NULL;
	l->flag_script_quoted = n % 4 == 0;
	l->d45 = n % 2 ? xstrdup("") : NULL;
	l->fromversion = xstrdup("5.0.0");
	l->name = xasprintf("Item%u caf\xC3\xA9", n);
	l->display = n % 3 == 1 ? xstrdup("=starts with equals") : NULL;
	l->type = xstrdup("python");
	if (n % 2) {
		strlist_push(&l->alt, "demisto/a:1");
		strlist_push(&l->alt, "x\x1fy\\z\tw");
		strlist_push(&l->alt, "");
	}
}

static void assert_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_located_equal(const struct located *a, const struct located *b)
{
	size_t i;
	assert_int_equal(a->refused, b->refused);
	assert_str(a->reason, b->reason);
	assert_int_equal(a->integration, b->integration);
	assert_str(a->image, b->image);
	assert_str(a->flag, b->flag);
	assert_int_equal(a->flag_quoted, b->flag_quoted);
	assert_str(a->flag_script, b->flag_script);
	assert_int_equal(a->flag_script_quoted, b->flag_script_quoted);
	assert_str(a->d45, b->d45);
	assert_str(a->fromversion, b->fromversion);
	assert_str(a->deprecated, b->deprecated);
	assert_str(a->name, b->name);
	assert_str(a->display, b->display);
	assert_str(a->type, b->type);
	assert_int_equal(a->alt.nr, b->alt.nr);
	for (i = 0; i < a->alt.nr; i++)
		assert_string_equal(a->alt.v[i], b->alt.v[i]);
}

/* Saves `n` sample entries (all kept) to `path`. */
static void save_samples(const char *path, unsigned n)
{
	struct scancache *c = scancache_parse("", 0, "empty");
	git_oid *keep = xcalloc(n ? n : 1, sizeof(*keep));
	struct located l;
	unsigned i;

	for (i = 0; i < n; i++) {
		oid_of(&keep[i], i);
		sample(&l, i);
		scancache_put(c, &keep[i], &l);
		located_release(&l);
	}
	scancache_save(c, path, keep, n);
	scancache_free(c);
	free(keep);
}

/* Runs scancache_parse() on `data` with stderr captured into `warn`; returns the cache. */
static struct scancache *parse_capturing(const char *data, size_t len, struct buf *warn)
{
	char *path = cache_file("stderr");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), saved = dup(2);
	struct db_err err = DB_ERR_INIT;
	struct scancache *c;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	c = scancache_parse(data, len, "the-cache");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	buf_reset(warn);
	assert_int_equal(file_read(warn, path, 0, &err), 0);
	unlink(path);
	free(path);
	return c;
}

static void test_round_trip(void **state)
{
	char *path = cache_file("round-trip");
	struct scancache *c;
	struct located want, got;
	git_oid id;
	unsigned i;

	(void)state;
	save_samples(path, 50);
	c = scancache_load(path);
	assert_int_equal(scancache_size(c), 50);
	for (i = 0; i < 50; i++) {
		oid_of(&id, i);
		assert_int_equal(scancache_get(c, &id, &got), 1);
		sample(&want, i);
		assert_located_equal(&got, &want);
		located_release(&want);
		located_release(&got);
	}
	oid_of(&id, 50);
	assert_int_equal(scancache_get(c, &id, &got), 0);
	scancache_free(c);
	unlink(path);
	free(path);
}

static void test_save_keeps_only_what_is_asked_once(void **state)
{
	char *path = cache_file("keep");
	struct scancache *c = scancache_parse("", 0, "empty");
	struct buf data = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct located l;
	git_oid ids[4], keep[5];
	size_t lines = 0, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		oid_of(&ids[i], (unsigned)i);
		sample(&l, (unsigned)i);
		scancache_put(c, &ids[i], &l);
		if (i == 2) /* the same blob at two paths is put twice */
			scancache_put(c, &ids[i], &l);
		located_release(&l);
	}
	keep[0] = ids[2];
	keep[1] = ids[0];
	keep[2] = ids[2];
	oid_of(&keep[3], 99); /* in use, but never located: nothing to write */
	keep[4] = ids[0];
	scancache_save(c, path, keep, 5);
	scancache_free(c);

	assert_int_equal(file_read(&data, path, 0, &err), 0);
	for (i = 0; i < data.len; i++)
		lines += data.ptr[i] == '\n';
	assert_int_equal(lines, 1 + 2 + 1); /* header, ids 0 and 2 once each, end */
	c = scancache_parse(data.ptr, data.len, path);
	assert_int_equal(scancache_size(c), 2);
	assert_int_equal(scancache_get(c, &ids[1], &l), 0);
	assert_int_equal(scancache_get(c, &ids[2], &l), 1);
	located_release(&l);
	scancache_free(c);
	buf_release(&data);
	unlink(path);
	free(path);
}

/* Every damaged variant of a good file loads as empty and says why. */
static void expect_ignored(const char *what, const char *data, size_t len, const char *why)
{
	struct buf warn = BUF_INIT;
	struct scancache *c = parse_capturing(data, len, &warn);

	if (scancache_size(c) != 0)
		fail_msg("%s: %zu entries trusted", what, scancache_size(c));
	if (!strstr(warn.ptr, "ignoring the scan cache 'the-cache'") || !strstr(warn.ptr, why))
		fail_msg("%s: warning '%s' does not say '%s'", what, warn.ptr, why);
	scancache_free(c);
	buf_release(&warn);
}

static void test_untrusted_files_are_ignored_whole(void **state)
{
	char *path = cache_file("good");
	struct buf good = BUF_INIT, bad = BUF_INIT, warn = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct scancache *c;
	const char *end, *first_nl;
	size_t i;

	(void)state;
	save_samples(path, 20);
	assert_int_equal(file_read(&good, path, 0, &err), 0);
	c = parse_capturing(good.ptr, good.len, &warn);
	assert_int_equal(scancache_size(c), 20);
	assert_int_equal(warn.len, 0);
	scancache_free(c);

	/* Truncated anywhere, even between records: never a partial cache. */
	for (i = 0; i < good.len; i++) {
		struct scancache *t = scancache_parse(good.ptr, i, "cut");
		if (scancache_size(t))
			fail_msg("truncated at %zu of %zu: %zu entries trusted", i, good.len,
			         scancache_size(t));
		scancache_free(t);
	}
	expect_ignored("truncated", good.ptr, good.len / 2, "truncated");

	/* Another version, another libyaml, another program. */
	first_nl = memchr(good.ptr, '\n', good.len);
	buf_add(&bad, "dockerbump-scan-cache 1\n", 24);
	buf_add(&bad, first_nl + 1, good.len - (size_t)(first_nl + 1 - good.ptr));
	expect_ignored("version 1", bad.ptr, bad.len, "another version");
	buf_reset(&bad);
	buf_add(&bad, good.ptr, good.len);
	bad.ptr[(first_nl - good.ptr) - 1] ^= 1; /* the last character of libyaml's version */
	expect_ignored("libyaml", bad.ptr, bad.len, "another version");
	expect_ignored("json", "{\"version\": 2}\n", 15, "another version");

	/* One byte changed in a record's text: the checksum no longer matches. */
	buf_reset(&bad);
	buf_add(&bad, good.ptr, good.len);
	end = strstr(bad.ptr, "Item1");
	assert_non_null(end);
	bad.ptr[end - bad.ptr + 4] = '9';
	expect_ignored("edited", bad.ptr, bad.len, "end marker");

	/* A record dropped, with the rest intact: the count no longer matches. */
	buf_reset(&bad);
	buf_add(&bad, good.ptr, (size_t)(first_nl + 1 - good.ptr));
	end = memchr(first_nl + 1, '\n', good.len - (size_t)(first_nl + 1 - good.ptr));
	buf_add(&bad, end + 1, good.len - (size_t)(end + 1 - good.ptr));
	expect_ignored("a record dropped", bad.ptr, bad.len, "end marker");

	/* Anything after the end line. */
	buf_reset(&bad);
	buf_add(&bad, good.ptr, good.len);
	buf_adds(&bad, "x");
	expect_ignored("trailing bytes", bad.ptr, bad.len, "after its end");
	buf_setlen(&bad, good.len - 1);
	expect_ignored("no final newline", bad.ptr, bad.len, "truncated");

	buf_release(&warn);
	buf_release(&bad);
	buf_release(&good);
	unlink(path);
	free(path);
}

/*
 * Records that checksum fine but are not what save writes: a file written by hand (or by
 * something else) is not trusted either. Builds a file of this build's header, `records` and a
 * correct end line.
 */
static void build_file(struct buf *file, const char *records)
{
	struct buf head = BUF_INIT;
	char *path = cache_file("head");
	struct db_err err = DB_ERR_INIT;
	struct scancache *c = scancache_parse("", 0, "empty");
	uint64_t h = UINT64_C(14695981039346656037);
	const char *nl;
	size_t i, n = 0, body;

	scancache_save(c, path, NULL, 0);
	scancache_free(c);
	assert_int_equal(file_read(&head, path, 0, &err), 0);
	nl = strchr(head.ptr, '\n');
	buf_add(file, head.ptr, (size_t)(nl + 1 - head.ptr));
	body = file->len;
	for (const char *r = records; *r; r = strchr(r, '\n') + 1)
		n++;
	buf_adds(file, records);
	for (i = body; i < file->len; i++)
		h = (h ^ (unsigned char)file->ptr[i]) * UINT64_C(1099511628211);
	buf_addf(file, "end %zu %016llx\n", n, (unsigned long long)h);
	buf_release(&head);
	unlink(path);
	free(path);
}

static void expect_record_refused(const char *what, const char *records, const char *why)
{
	struct buf file = BUF_INIT;
	build_file(&file, records);
	expect_ignored(what, file.ptr, file.len, why);
	buf_release(&file);
}

#define OID1 "0123456789abcdef0123456789abcdef01234567"
#define OID2 "1123456789abcdef0123456789abcdef01234567"
/* oid, bits, reason, image, flag, flag_script, d45, fromversion, deprecated, name, display,
 * type, alt, and the empty field the line ends with. */
#define GOOD1 OID1 "\t0100\t\t=a:1\t\t\t\t\t\t\t\t\t\t\n"

static void test_hand_made_records_are_refused(void **state)
{
	struct buf file = BUF_INIT;
	struct scancache *c;
	struct located l;
	git_oid id;

	(void)state;
	/* The builder makes a file that loads, so each refusal below is the record's doing. */
	build_file(&file, GOOD1);
	c = scancache_parse(file.ptr, file.len, "built");
	assert_int_equal(scancache_size(c), 1);
	assert_int_equal(git_oid_fromstr(&id, OID1), 0);
	assert_int_equal(scancache_get(c, &id, &l), 1);
	assert_true(l.integration && !l.refused && !strcmp(l.image, "a:1") && !l.name);
	located_release(&l);
	scancache_free(c);
	buf_release(&file);

	expect_record_refused("two ids", GOOD1 GOOD1, "listed twice");
	expect_record_refused("bits", OID1 "\t01x0\t\t=a:1\t\t\t\t\t\t\t\t\t\t\n", "line 2");
	expect_record_refused("short oid", "0123\t0100\t\t=a:1\t\t\t\t\t\t\t\t\t\t\n", "line 2");
	expect_record_refused("fields", OID1 "\t0100\t\t=a:1\t\t\t\n", "line 2");
	expect_record_refused("escape", GOOD1 OID2 "\t0100\t\t=a\\q\t\t\t\t\t\t\t\t\t\t\n",
	                      "line 3");
	expect_record_refused("no '='", OID2 "\t0100\t\ta:1\t\t\t\t\t\t\t\t\t\t\n", "line 2");
	expect_record_refused("no reason", OID2 "\t1100\t\t=a:1\t\t\t\t\t\t\t\t\t\t\n", "line 2");
	expect_record_refused("dangling", OID2 "\t0100\t\t=a\\\t\t\t\t\t\t\t\t\t\t\n", "line 2");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A cold scan of n items: n gets that miss, n puts, one save, then a load and n gets that hit.
 * Printed for 25,000 and 100,000 items; the ratio is about 4 when the cost is n log n (it was
 * a sort per put: 4,500 puts took 0.38 s, 9,000 took 2.3 s, so 100,000 would take minutes).
 * No timed assert: the test's TIMEOUT (120 s) bounds it.
 */
static void test_cost_is_n_log_n(void **state)
{
	char *path = cache_file("big");
	double took[2];
	unsigned sizes[2] = {25000, 100000}, k, i;
	struct located l, got;

	(void)state;
	sample(&l, 1);
	for (k = 0; k < 2; k++) {
		unsigned n = sizes[k];
		git_oid *ids = xcalloc(n, sizeof(*ids));
		struct scancache *c = scancache_parse("", 0, "empty");
		double t = now();
		for (i = 0; i < n; i++) {
			oid_of(&ids[i], i);
			assert_int_equal(scancache_get(c, &ids[i], &got), 0);
			scancache_put(c, &ids[i], &l);
		}
		scancache_save(c, path, ids, n);
		scancache_free(c);
		c = scancache_load(path);
		assert_int_equal(scancache_size(c), n);
		for (i = 0; i < n; i++) {
			assert_int_equal(scancache_get(c, &ids[i], &got), 1);
			located_release(&got);
		}
		took[k] = now() - t;
		scancache_free(c);
		free(ids);
	}
	printf("scan cache, cold then warm: %u items %.3f s, %u items %.3f s (ratio %.1f for 4x "
	       "the items)\n",
	       sizes[0], took[0], sizes[1], took[1], took[1] / took[0]);
	located_release(&l);
	unlink(path);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_save_keeps_only_what_is_asked_once),
	    cmocka_unit_test(test_untrusted_files_are_ignored_whole),
	    cmocka_unit_test(test_hand_made_records_are_refused),
	    cmocka_unit_test(test_cost_is_n_log_n),
	};
	git_libgit2_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}

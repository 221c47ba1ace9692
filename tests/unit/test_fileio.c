/*
 * common/fileio: only regular files are read, and nothing at a cache path can block or
 * redirect a read or an atomic write (a FIFO, a directory, a device, symlinks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "scratch.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* file_read() must fail at once with `code`, name the path and say `what`; `out` unchanged. */
static void refused(const char *path, int code, const char *what)
{
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;

	buf_adds(&b, "kept");
	assert_int_equal(file_read(&b, path, 1 << 20, &err), code);
	assert_string_equal(b.ptr, "kept");
	assert_non_null(strstr(err.msg, path));
	if (what && !strstr(err.msg, what))
		fail_msg("'%s' lacks '%s'", err.msg, what);
	buf_release(&b);
}

static void test_read_regular_only(void **state)
{
	char *dir = scratch_new("fileio");
	char *file = xasprintf("%s/ok.json", dir), *fifo = xasprintf("%s/fifo.json", dir);
	char *sub = xasprintf("%s/dir.json", dir), *zero = xasprintf("%s/zero.json", dir);
	char *link = xasprintf("%s/link.json", dir), *gone = xasprintf("%s/gone.json", dir);
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	write_text(file, "{\"a\": 1}");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink("/dev/zero", zero), 0);
	assert_int_equal(symlink(file, link), 0);

	assert_int_equal(file_read(&b, file, 0, &err), 0);
	assert_string_equal(b.ptr, "{\"a\": 1}");
	buf_reset(&b);
	assert_int_equal(file_read(&b, link, 0, &err), 0); /* a symlink to a regular file */
	assert_string_equal(b.ptr, "{\"a\": 1}");
	refused(fifo, DB_ERROR, "a FIFO"); /* would block forever without O_NONBLOCK */
	refused(sub, DB_ERROR, "a directory");
	refused(zero, DB_ERROR, "a character device"); /* would never end */
	refused("/dev/zero", DB_ERROR, "a character device");
	refused(gone, DB_ENOTFOUND, NULL);
	buf_release(&b);

	scratch_remove(dir);
	free(file);
	free(fifo);
	free(sub);
	free(zero);
	free(link);
	free(gone);
}

static void test_read_cap(void **state)
{
	char *dir = scratch_new("fileio"), *file = xasprintf("%s/f", dir);
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;

	(void)state;
	write_text(file, "0123456789");
	assert_int_equal(file_read(&b, file, 4, &err), DB_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(file_read(&b, file, 10, &err), 0);
	assert_int_equal(b.len, 10);
	buf_release(&b);
	scratch_remove(dir);
	free(file);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_write_atomic_replaces_what_is_there(void **state)
{
	char *dir = scratch_new("fileio");
	char *fifo = xasprintf("%s/fifo", dir), *link = xasprintf("%s/link", dir);
	char *target = xasprintf("%s/target", dir);
	struct buf b = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct stat st;

	(void)state;
	/* a FIFO at the path is replaced, never opened for writing (that would block) */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(file_write_atomic(fifo, "new", 3, &err), 0);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(file_read(&b, fifo, 0, &err), 0);
	assert_string_equal(b.ptr, "new");

	/* a symlink at the path is replaced by the file; its target is left alone */
	write_text(target, "target");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(file_write_atomic(link, "mine", 4, &err), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	buf_reset(&b);
	assert_int_equal(file_read(&b, target, 0, &err), 0);
	assert_string_equal(b.ptr, "target");

	/* a directory at the path is an error naming it, and no temporary file is left */
	{
		char *sub = xasprintf("%s/sub", dir);
		assert_int_equal(mkdir(sub, 0700), 0);
		assert_int_equal(file_write_atomic(sub, "x", 1, &err), DB_ERROR);
		assert_non_null(strstr(err.msg, sub));
		assert_int_equal(count_entries(dir), 4); /* fifo, link, target, sub */
		free(sub);
	}
	buf_release(&b);
	scratch_remove(dir);
	free(fifo);
	free(link);
	free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_regular_only),
	    cmocka_unit_test(test_read_cap),
	    cmocka_unit_test(test_write_atomic_replaces_what_is_there),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/banned.h"

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

int file_read(struct buf *out, const char *path, size_t cap, struct db_err *err)
{
	int fd, ret = 0;
	struct stat st;
	char chunk[65536];
	ssize_t n;
	size_t start = out->len;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. Only regular files are read
	 * (fstat on what was opened, so a symlink is judged by its target), and O_NONBLOCK
	 * does not change how a regular file reads. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return db_err_set(err, errno == ENOENT ? DB_ENOTFOUND : DB_ERROR, "'%s': %s", path,
		                  strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = db_err_set(err, DB_ERROR, "'%s': is %s, not a regular file", path,
		                 file_kind(st.st_mode));
		goto out;
	}
	if (cap && (size_t)st.st_size > cap) {
		ret = db_err_set(err, DB_ETOOBIG, "'%s': larger than %zu bytes", path, cap);
		goto out;
	}
	buf_grow(out, (size_t)st.st_size);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
			goto out;
		}
		/* the file may grow while it is read: the cap holds for what is read */
		if (cap && out->len - start + (size_t)n > cap) {
			ret = db_err_set(err, DB_ETOOBIG, "'%s': larger than %zu bytes", path, cap);
			goto out;
		}
		buf_add(out, chunk, (size_t)n);
	}
out:
	if (ret)
		buf_setlen(out, start);
	close(fd);
	return ret;
}

/* A new temporary file beside `path`, created exclusively (O_EXCL, O_NOFOLLOW): a FIFO or a
 * symlink planted at a guessable name can neither block the write nor redirect it. The mode
 * is 0644 less the umask, as for any new file. */
static int open_temp(char **tmp, const char *path)
{
	struct timespec ts;
	int i, fd = -1;

	for (i = 0; i < 16 && fd < 0; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		free(*tmp);
		*tmp = xasprintf("%s.tmp.%ld.%lx%x", path, (long)getpid(),
		                 (unsigned long)ts.tv_nsec, (unsigned)i);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

int file_write_atomic(const char *path, const void *data, size_t len, struct db_err *err)
{
	char *tmp = NULL;
	const char *p = data;
	int fd, ret = 0;

	fd = open_temp(&tmp, path);
	if (fd < 0) {
		ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!ret && fsync(fd) < 0)
		ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
	if (close(fd) < 0 && !ret)
		ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
	if (!ret && rename(tmp, path) < 0)
		ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
out:
	free(tmp);
	return ret;
}

int mkdir_p(const char *path, int private_dir, struct db_err *err)
{
	char *p = xstrdup(path), *s;
	mode_t mode = private_dir ? 0700 : 0755;
	int ret = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = db_err_set(err, DB_ERROR, "'%s': %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

char *cache_dir_path(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return xasprintf("%s/dockerbump", xdg);
	return xasprintf("%s/.cache/dockerbump", home && *home ? home : "/tmp");
}

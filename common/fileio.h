/*
 * Whole-file reads and crash-safe writes.
 *
 *	struct buf data = BUF_INIT;
 *	if (file_read(&data, path, 1 << 20, &err) < 0) ...   // DB_ENOTFOUND when absent
 *	file_write_atomic(path, data.ptr, data.len, &err);
 *
 * file_read() reads regular files only: caches and configs live in directories others may
 * write to, so a FIFO (which would block the run), a device such as /dev/zero (endless), a
 * directory or a socket at the path is an error naming the path and what it is, found
 * without waiting (the file is opened O_NONBLOCK and judged by fstat, so a symlink is judged
 * by its target).
 *
 * file_write_atomic() writes to a new temporary file in the same directory (created
 * exclusively, never through a symlink), fsyncs it and renames it over the target, so a
 * reader sees the old content or the new one, never a mix, and a crash leaves the old file in
 * place.
 */
#ifndef DOCKERBUMP_COMMON_FILEIO_H
#define DOCKERBUMP_COMMON_FILEIO_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* Appends the regular file's content to `out`; files larger than `cap` (0: no cap) are
 * DB_ETOOBIG, a missing one DB_ENOTFOUND, anything else that is not a regular file DB_ERROR. */
int file_read(struct buf *out, const char *path, size_t cap, struct db_err *err);
int file_write_atomic(const char *path, const void *data, size_t len, struct db_err *err);
/* Creates `path` and its missing parents with mode 0755 (0700 when `private`). */
int mkdir_p(const char *path, int private_dir, struct db_err *err);
int file_exists(const char *path);
/* $XDG_CACHE_HOME/dockerbump, else $HOME/.cache/dockerbump; the caller frees the string. */
char *cache_dir_path(void);

#endif

/*
 * Whole-file reads and crash-safe writes.
 *
 * file_write_atomic() writes to a temporary file in the same directory, fsyncs it and renames
 * it over the target, so a reader sees the old content or the new one, never a mix, and a
 * crash leaves the old file in place.
 */
#ifndef DOCKERBUMP_COMMON_FILEIO_H
#define DOCKERBUMP_COMMON_FILEIO_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* Appends the file's content to `out`; files larger than `cap` (0: no cap) are DB_ETOOBIG. */
int file_read(struct buf *out, const char *path, size_t cap, struct db_err *err);
int file_write_atomic(const char *path, const void *data, size_t len, struct db_err *err);
/* Creates `path` and its missing parents with mode 0755 (0700 when `private`). */
int mkdir_p(const char *path, int private_dir, struct db_err *err);
int file_exists(const char *path);
/* $XDG_CACHE_HOME/dockerbump, else $HOME/.cache/dockerbump; the caller frees the string. */
char *cache_dir_path(void);

#endif

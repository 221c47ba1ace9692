/*
 * A growable byte buffer (git's strbuf invariants, curl's optional size cap).
 *
 * Invariants: `ptr` is never NULL and `ptr[len]` is always '\0', so a buffer can be passed
 * to any function that wants a C string (it may also hold NUL bytes in the middle; `len` is
 * the truth). A buffer initialised with BUF_INIT points at a shared empty string and
 * allocates on the first add.
 *
 * A cap (`buf_set_cap`) bounds the buffer for untrusted input: `buf_add_capped` refuses to
 * grow past it and returns DB_ETOOBIG. The plain adders ignore the cap; they are for data the
 * program builds itself.
 *
 *	struct buf b = BUF_INIT;
 *	buf_addf(&b, "%s:%s", image, tag);
 *	use(b.ptr, b.len);
 *	buf_release(&b);
 */
#ifndef DOCKERBUMP_COMMON_BUF_H
#define DOCKERBUMP_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

extern char buf_empty[];

struct buf {
	char *ptr;
	size_t len;
	size_t alloc; /* 0 while ptr is buf_empty */
	size_t cap;   /* 0: no cap */
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		buf_empty, 0, 0, 0                                                                 \
	}

void buf_init(struct buf *b, size_t hint);
void buf_release(struct buf *b);
/* Hands the heap string to the caller (free() it); the buffer is reset to empty. */
char *buf_detach(struct buf *b, size_t *len);
void buf_grow(struct buf *b, size_t extra);
/* Truncates (or, within what buf_grow() reserved, extends) to `len` bytes and terminates;
 * a length beyond the allocation aborts. */
void buf_setlen(struct buf *b, size_t len);
static inline void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}
void buf_set_cap(struct buf *b, size_t cap);

void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Adds unless the cap would be exceeded; then adds nothing and returns DB_ETOOBIG. */
int buf_add_capped(struct buf *b, const void *data, size_t len);
/* Replaces `del` bytes at `pos` with `len` bytes of `data` (git's strbuf_splice). */
void buf_splice(struct buf *b, size_t pos, size_t del, const void *data, size_t len);

/* Appends `s` as a JSON string literal, quotes included. */
void buf_add_json_string(struct buf *b, const char *s, size_t len);
/*
 * Appends `s` with every control byte written as an escape (\n, \r, \t, \x1b, ...): text that
 * came from elsewhere stays on one line and cannot drive a terminal.
 */
void buf_add_printable(struct buf *b, const char *s, size_t len);
/* Trims ASCII whitespace at the end. */
void buf_rtrim(struct buf *b);

#endif

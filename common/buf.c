#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/banned.h"

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
	b->ptr = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->ptr);
	buf_init(b, 0);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (!b->alloc)
		buf_grow(b, 0);
	p = b->ptr;
	if (len)
		*len = b->len;
	buf_init(b, 0);
	return p;
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;
	int fresh = !b->alloc;

	if (want < b->len)
		xrealloc(NULL, (size_t)-1); /* overflow: let the allocator die loudly */
	if (fresh)
		b->ptr = NULL;
	ALLOC_GROW(b->ptr, want, b->alloc);
	if (fresh)
		b->ptr[0] = '\0';
}

void buf_setlen(struct buf *b, size_t len)
{
	/* Past the allocation (or any length on the shared empty string) is a programming error:
	 * stop here rather than write out of bounds. */
	if (len >= (b->alloc ? b->alloc : 1))
		abort();
	if (!b->alloc)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

void buf_set_cap(struct buf *b, size_t cap)
{
	b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	char ch = (char)c;
	buf_add(b, &ch, 1);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (!b->alloc || (size_t)n >= b->alloc - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

int buf_add_capped(struct buf *b, const void *data, size_t len)
{
	if (b->cap && (len > b->cap || b->len > b->cap - len))
		return DB_ETOOBIG;
	buf_add(b, data, len);
	return 0;
}

void buf_splice(struct buf *b, size_t pos, size_t del, const void *data, size_t len)
{
	if (pos > b->len || del > b->len - pos)
		abort(); /* a caller bug, never input-dependent */
	if (len > del)
		buf_grow(b, len - del);
	memmove(b->ptr + pos + len, b->ptr + pos + del, b->len - pos - del);
	if (len)
		memcpy(b->ptr + pos, data, len);
	b->len = b->len + len - del;
	if (b->alloc)
		b->ptr[b->len] = '\0';
}

void buf_add_json_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addch(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_add(b, esc, 6);
			} else {
				buf_addch(b, c);
			}
		}
	}
	buf_addch(b, '"');
}

void buf_rtrim(struct buf *b)
{
	size_t n = b->len;
	while (n && strchr(" \t\r\n", b->ptr[n - 1]))
		n--;
	buf_setlen(b, n);
}

void buf_add_printable(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f)
			buf_addch(b, c);
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else
			buf_addf(b, "\\x%02x", c);
	}
}

#include "common/utf8.h"

#include <string.h>

#include "common/banned.h"

size_t utf8_width(unsigned char c)
{
	if (c < 0xC0)
		return 1;
	if (c < 0xE0)
		return 2;
	if (c < 0xF0)
		return 3;
	return 4;
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t w, i;

	if (!n)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		w = 2, c &= 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		w = 3, c &= 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		w = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (w > n)
		return 0;
	for (i = 1; i < w; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return w;
}

int utf8_scan(const void *data, size_t n, size_t *bad, size_t *first_high)
{
	const unsigned char *s = data;
	size_t i = 0, w;
	uint32_t cp;

	if (first_high)
		*first_high = n;
	for (;;) {
		while (i + 8 <= n) {
			uint64_t word;
			memcpy(&word, s + i, 8);
			if (word & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		while (i < n && s[i] < 0x80)
			i++;
		if (i >= n)
			return 1;
		if (first_high && *first_high == n)
			*first_high = i;
		w = utf8_decode(s + i, n - i, &cp);
		if (!w) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += w;
	}
}

int utf8_valid(const void *s, size_t n, size_t *bad)
{
	return utf8_scan(s, n, bad, NULL);
}

size_t utf8_sanitize(struct buf *out, const void *data, size_t n, const char *repl)
{
	const unsigned char *s = data;
	size_t i = 0, start = 0, replaced = 0, w;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		w = utf8_decode(s + i, n - i, &cp);
		if (w) {
			i += w;
			continue;
		}
		buf_add(out, s + start, i - start);
		buf_adds(out, repl);
		replaced++;
		start = ++i;
	}
	buf_add(out, s + start, n - start);
	return replaced;
}

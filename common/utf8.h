/*
 * UTF-8: the one decoder every module uses (the YAML editor maps libyaml's character marks to
 * bytes with it, the registry cleans hostile JSON, pull-request text and logs make untrusted
 * strings printable).
 *
 * Well formed means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF, no truncated sequence.
 *
 *	size_t w = utf8_decode(s, n, &cp);	// 0: not a well-formed sequence at s
 *	if (!utf8_valid(s, n, &bad)) ...	// the offset of the first bad byte
 *	utf8_sanitize(&out, s, n, "\xef\xbf\xbd");	// each bad byte becomes U+FFFD
 */
#ifndef DOCKERBUMP_COMMON_UTF8_H
#define DOCKERBUMP_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Bytes in the sequence a lead byte `c` announces (1 for ASCII and stray bytes, never 0). */
size_t utf8_width(unsigned char c);
/* Decodes the well-formed sequence at s[0..n): its length with `*cp` set, or 0. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 when s[0..n) is well formed; else 0 with the offset of the first bad byte in `*bad`
 * (may be NULL). ASCII runs are checked a word at a time. */
int utf8_valid(const void *s, size_t n, size_t *bad);
/* utf8_valid, and `*first_high` (may be NULL) is the offset of the first non-ASCII byte (n
 * when there is none): below it, characters and bytes are the same count. */
int utf8_scan(const void *s, size_t n, size_t *bad, size_t *first_high);
/* Appends s[0..n) with every byte that does not start a well-formed sequence replaced by
 * `repl`; returns how many bytes were replaced. */
size_t utf8_sanitize(struct buf *out, const void *s, size_t n, const char *repl);

#endif

/*
 * Checked number parsing: the whole string must be a number in range, no sign surprises,
 * no silent truncation (atoi and friends are banned).
 */
#ifndef DOCKERBUMP_COMMON_STRNUM_H
#define DOCKERBUMP_COMMON_STRNUM_H

#include <stddef.h>
#include <stdint.h>

/* 0 on success; -1 when `s` (of `len` bytes) is empty, not all digits, or above `max`. */
int parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max);
/* Like parse_u64 on a NUL-terminated string, allowing a leading '-'. */
int parse_long(long *out, const char *s, long min, long max);

#endif

#include "common/strnum.h"

#include <string.h>

#include "common/banned.h"

int parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max)
{
	uint64_t v = 0;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* v * 10 + d <= max, written so that nothing can wrap (d may exceed max). */
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_long(long *out, const char *s, long min, long max)
{
	uint64_t v;
	int neg = s[0] == '-';
	const char *digits = s + neg;

	if (parse_u64(&v, digits, strlen(digits), (uint64_t)9223372036854775807ULL))
		return -1;
	{
		long x = neg ? -(long)v : (long)v;
		if (x < min || x > max)
			return -1;
		*out = x;
	}
	return 0;
}

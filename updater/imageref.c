#include "updater/imageref.h"

#include <string.h>

#include "common/banned.h"

int image_name_valid(const char *image)
{
	const char *p = image;
	size_t len = strlen(image);

	if (!len || len > 255)
		return 0;
	for (;;) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			p++;
		if (!*p)
			return 1;
		if (*p == '_' && p[1] == '_')
			p += 2;
		else if (*p == '-')
			while (*p == '-')
				p++;
		else if (*p == '.' || *p == '_' || *p == '/')
			p++;
		else
			return 0;
	}
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int tag_name_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || len > TAG_NAME_MAX)
		return 0;
	if (!is_alnum((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

int tag_digest_valid(const char *s)
{
	const char *colon = strchr(s, ':'), *p;

	if (!colon || colon == s || !colon[1] || strlen(s) > 256)
		return 0;
	for (p = s; p < colon; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && !strchr("+._-", *p))
			return 0;
	for (p = colon + 1; *p; p++)
		if (!is_alnum((unsigned char)*p) && *p != '=' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

/*
 * Image references: what a valid repository name, tag and digest look like. Everything here
 * checks untrusted text (the repository's YAML, a registry's answers, a forge's marker, the
 * config) before it is written into a file, a branch name or a container engine's argv.
 *
 *	if (image_name_valid("demisto/python3") && tag_name_valid(tag, strlen(tag))) ...
 *
 * A leaf module: it includes nothing else of updater/.
 */
#ifndef DOCKERBUMP_UPDATER_IMAGEREF_H
#define DOCKERBUMP_UPDATER_IMAGEREF_H

#include <stddef.h>

#define TAG_NAME_MAX 128

/* 1 when `image` is a valid repository name ([a-z0-9]+ separated by '.', '_', '__' or '-',
 * components joined by '/', at most 255 bytes). */
int image_name_valid(const char *image);
/* 1 when the `len` bytes at `s` form a valid OCI tag name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at
 * most TAG_NAME_MAX bytes). */
int tag_name_valid(const char *s, size_t len);
/* 1 when `s` looks like an OCI digest ("sha256:<hex>": algorithm [a-z0-9+._-], ':', encoded
 * [A-Za-z0-9=_-], at most 256 bytes): anything else from a registry is dropped. */
int tag_digest_valid(const char *s);

#endif

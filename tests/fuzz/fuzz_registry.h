/*
 * Checks shared by the registry fuzz targets (fuzz_registry_*.c): an invariant that does not
 * hold aborts with its name, which libFuzzer reports as a crash with the input.
 */
#ifndef DOCKERBUMP_TESTS_FUZZ_REGISTRY_H
#define DOCKERBUMP_TESTS_FUZZ_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "updater/tagver.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_require(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "registry invariant broken: %s\n", what);
		abort();
	}
}

/* Warnings about hostile input are expected by the thousand: keep the output quiet. */
static inline void fuzz_quiet(void)
{
	log_setup(&(struct log_config){.level = LOG_ERROR});
}

static inline int fuzz_is_http_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* Every entry has a valid name, is found under it, and has a valid digest or none. */
static inline void fuzz_check_list(const struct taglist *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		const struct tag_entry *e = &l->v[i];
		fuzz_require(tag_name_valid(e->name, strlen(e->name)), "an invalid name was kept");
		fuzz_require(taglist_find(l, e->name) == e, "a name is not found at its entry");
		fuzz_require(!e->digest || tag_digest_valid(e->digest),
		             "an invalid digest was kept");
	}
}

/* Sorts and checks the order: candidates first, by build, newest first. */
static inline void fuzz_check_sorted(struct taglist *l)
{
	size_t i;

	taglist_sort(l);
	for (i = 1; i < l->nr; i++) {
		const struct tag_entry *a = &l->v[i - 1], *b = &l->v[i];
		fuzz_require(a->candidate || !b->candidate, "a candidate after a non-candidate");
		fuzz_require(!a->candidate || !b->candidate ||
		                 tagver_build(&a->ver) >= tagver_build(&b->ver),
		             "builds out of order");
	}
	fuzz_check_list(l);
}

/* A target that needs more set up defines FUZZ_OWN_INITIALIZE and its own
 * LLVMFuzzerInitialize(); the others get this one. */
#ifndef FUZZ_OWN_INITIALIZE
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}
#endif

#endif

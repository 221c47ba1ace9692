/*
 * libFuzzer target for the scan cache's parser (updater/scancache.c): a restored cache file is
 * untrusted input.
 *
 * For any input: parsing must not crash, leak or trip a sanitizer, and a file it accepts must
 * survive a round trip: saved again (every id kept) and parsed again, every entry reads the
 * same, field by field.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "updater/scancache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "scancache invariant broken: %s\n", what);
		abort();
	}
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same_located(const struct located *a, const struct located *b)
{
	size_t i;
	if (a->refused != b->refused || a->integration != b->integration ||
	    a->flag_quoted != b->flag_quoted || a->flag_script_quoted != b->flag_script_quoted ||
	    !same_str(a->reason, b->reason) || !same_str(a->image, b->image) ||
	    !same_str(a->flag, b->flag) || !same_str(a->flag_script, b->flag_script) ||
	    !same_str(a->d45, b->d45) || !same_str(a->fromversion, b->fromversion) ||
	    !same_str(a->deprecated, b->deprecated) || !same_str(a->name, b->name) ||
	    !same_str(a->display, b->display) || !same_str(a->type, b->type) ||
	    a->alt.nr != b->alt.nr)
		return 0;
	for (i = 0; i < a->alt.nr; i++)
		if (strcmp(a->alt.v[i], b->alt.v[i]))
			return 0;
	return 1;
}

/* The ids of the records in an accepted file: the first field of each line after the first. */
static size_t ids_of(git_oid **out, const char *data, size_t size)
{
	const char *p = memchr(data, '\n', size), *end = data + size, *nl;
	size_t n = 0, alloc = 0;

	*out = NULL;
	for (p = p ? p + 1 : end; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;
		ALLOC_GROW(*out, n + 1, alloc);
		if (nl - p >= GIT_OID_HEXSZ && git_oid_fromstrn(&(*out)[n], p, GIT_OID_HEXSZ) == 0)
			n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct scancache *c, *again;
	struct buf saved = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct located a, b;
	git_oid *ids;
	size_t n, i;

	if (!path[0]) {
		/* Warnings about damaged files are the expected answer, not news. */
		log_setup(&(struct log_config){.level = LOG_ERROR});
		snprintf(path, sizeof(path), "/tmp/fuzz_scancache.%ld", (long)getpid());
	}
	c = scancache_parse((const char *)data, size, "fuzz");
	if (scancache_size(c)) {
		n = ids_of(&ids, (const char *)data, size);
		require(n == scancache_size(c), "an accepted file's records and entries differ");
		scancache_save(c, path, ids, n);
		require(file_read(&saved, path, 0, &err) == 0, "the saved cache cannot be read");
		again = scancache_parse(saved.ptr, saved.len, "saved");
		require(scancache_size(again) == n, "the saved cache lost entries");
		for (i = 0; i < n; i++) {
			require(scancache_get(c, &ids[i], &a) && scancache_get(again, &ids[i], &b),
			        "an entry is missing");
			require(same_located(&a, &b), "an entry changed in a round trip");
			located_release(&a);
			located_release(&b);
		}
		scancache_free(again);
		unlink(path);
		free(ids);
	}
	scancache_free(c);
	buf_release(&saved);
	return 0;
}

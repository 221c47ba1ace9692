/*
 * libFuzzer target for the YAML locator, its fast path and its two edits (updater/yamledit.c,
 * updater/yamlfast.c).
 *
 * For any input: the fast event source, when it reads the input, gives exactly libyaml's events
 * (tests/unit/yamlevents.h) and the fast path locates exactly what the full parse locates,
 * positions and refusal included. The parse must not crash, leak or trip a sanitizer; a refused
 * file comes back with a reason and no values. For an accepted file, every tracked scalar that
 * can be spliced is spliced to a fixed text, and dockerimage45 is inserted after every
 * dockerimage that has none; each output must differ from the input only inside the replaced
 * range (or by one inserted run after the value), re-parse without refusal, read the new text
 * at the same path, and leave every other tracked value as it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/unit/yamlevents.h"
#include "updater/yamledit.h"

#define PLAIN_TEXT  "demisto/python3:3.11.10.113941"
#define QUOTED_TEXT "it's \"quoted\" \\ caf\xC3\xA9 #1: x"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what, const char *detail)
{
	if (!ok) {
		fprintf(stderr, "yamledit invariant broken: %s%s%s\n", what, detail ? ": " : "",
		        detail ? detail : "");
		abort();
	}
}

static const struct yaml_value *at(const struct yaml_doc *d, int side, int k)
{
	return side ? &d->script[k] : &d->top[k];
}

/* Every tracked value but (side, key) reads the same in both documents. */
static void require_others_same(const struct yaml_doc *a, const struct yaml_doc *b, int side,
                                int key)
{
	int s, k;
	for (s = 0; s < 2; s++)
		for (k = 0; k < YK__COUNT; k++)
			if (!(s == side && k == key))
				require(yaml_value_same(at(a, s, k), at(b, s, k)),
				        "another value changed", yaml_key_name(k));
}

static void fuzz_splice(const char *in, size_t len, const struct yaml_doc *doc, int side, int k)
{
	const struct yaml_value *v = at(doc, side, k), *nv;
	const char *text = v->style == YS_PLAIN ? PLAIN_TEXT : QUOTED_TEXT;
	struct db_err err = DB_ERR_INIT;
	struct buf out = BUF_INIT;
	struct yaml_doc redoc;
	size_t tail;

	if (v->kind != YV_SCALAR || v->start >= v->end)
		return;
	if (v->style != YS_PLAIN && v->style != YS_SINGLE && v->style != YS_DOUBLE)
		return;
	if (yaml_splice_scalar(&out, in, len, v, text, &err) < 0) {
		/* Only an anchored value may be refused (one glued to its anchor). */
		require(v->anchored && out.len == 0, "splice refused", err.msg);
		buf_release(&out);
		return;
	}
	tail = len - v->end;
	require(out.len >= v->start + tail && !memcmp(out.ptr, in, v->start) &&
	            !memcmp(out.ptr + out.len - tail, in + v->end, tail),
	        "bytes outside the value changed", yaml_key_name(k));

	yaml_doc_parse(&redoc, out.ptr, out.len);
	require(!redoc.refused, "the spliced file is refused", redoc.reason);
	nv = at(&redoc, side, k);
	require(nv->kind == YV_SCALAR && nv->style == v->style && nv->text_len == strlen(text) &&
	            !memcmp(nv->text, text, nv->text_len),
	        "the spliced value does not read back", yaml_key_name(k));
	require_others_same(doc, &redoc, side, k);
	yaml_doc_release(&redoc);
	buf_release(&out);
}

static void fuzz_insert(const char *in, size_t len, const struct yaml_doc *doc, int side)
{
	const struct yaml_value *v = at(doc, side, YK_DOCKERIMAGE), *n45;
	struct db_err err = DB_ERR_INIT;
	struct buf out = BUF_INIT;
	struct yaml_doc redoc;
	size_t i, added;

	if (v->kind != YV_SCALAR || at(doc, side, YK_DOCKERIMAGE45)->kind != YV_ABSENT ||
	    strlen(v->text) != v->text_len)
		return;
	if (yaml_insert_after(&out, in, len, v, "dockerimage45", v->text, &err) < 0) {
		require(out.len == 0, "a refused insertion wrote something", err.msg);
		buf_release(&out);
		return;
	}
	added = out.len - len;
	for (i = 0; i < len && out.ptr[i] == in[i]; i++)
		;
	require(i >= v->end && !memcmp(out.ptr + i + added, in + i, len - i),
	        "the insertion is not one run after the value", NULL);

	yaml_doc_parse(&redoc, out.ptr, out.len);
	require(!redoc.refused, "the file with dockerimage45 is refused", redoc.reason);
	n45 = at(&redoc, side, YK_DOCKERIMAGE45);
	require(n45->kind == YV_SCALAR && n45->style == v->style && !strcmp(n45->text, v->text),
	        "dockerimage45 does not read back", NULL);
	require_others_same(doc, &redoc, side, YK_DOCKERIMAGE45);
	yaml_doc_release(&redoc);
	buf_release(&out);
}

/* The fast path reads the input as libyaml does, or leaves it to the full parse. */
static void fuzz_fast_path(const char *in, size_t size)
{
	struct yaml_doc fast, full;
	char why[512];
	int took;

	require(yaml_events_check(in, size, why, sizeof(why)) >= 0,
	        "the fast event source differs from libyaml", why);
	yaml_doc_parse_full(&full, in, size);
	took = yaml_doc_parse_fast(&fast, in, size);
	require(!took || yaml_doc_identical(&fast, &full),
	        "the fast path and the full parse locate different values", NULL);
	yaml_doc_release(&fast);
	yaml_doc_release(&full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct yaml_doc doc;
	int side, k;

	fuzz_fast_path(in, size);
	yaml_doc_parse(&doc, in, size);
	if (doc.refused) {
		require(doc.reason[0] != '\0', "a refusal without a reason", NULL);
		for (side = 0; side < 2; side++)
			for (k = 0; k < YK__COUNT; k++)
				require(at(&doc, side, k)->kind == YV_ABSENT,
				        "a refused file has values", NULL);
	} else {
		for (side = 0; side < 2; side++) {
			for (k = 0; k < YK__COUNT; k++)
				fuzz_splice(in, size, &doc, side, k);
			fuzz_insert(in, size, &doc, side);
		}
	}
	yaml_doc_release(&doc);
	return 0;
}

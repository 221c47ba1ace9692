/*
 * A fast source of libyaml's parser events for the plain block-style YAML that item files are
 * written in, so that the locator (yamledit.h) need not run libyaml's tokenizer on them.
 *
 * yaml_fast_parse() accepts a strict subset of YAML and, for an input in that subset, emits
 * exactly the events yaml_parser_parse() emits for it, in the same order, with the same
 * types, scalar values, styles and flags, and the same start marks; for any other input it
 * declines and the caller parses with libyaml. An input it accepts is one libyaml parses
 * without an error. The subset (everything else is declined):
 *
 * - UTF-8 without a BOM; no control character but LF, and CR right before LF; no NEL, LS, PS,
 *   U+FEFF, U+FFFE or U+FFFF anywhere; no tab;
 * - one document, a block mapping at the top, optionally after a `---` line; comments;
 * - block mappings whose keys are simple words ([A-Za-z0-9_][A-Za-z0-9_./-]*, at most 1000
 *   bytes, `:` right after the word), block sequences (also flush with their key), entries
 *   `- key: value` that open a mapping;
 * - values: plain scalars (also over several lines), single- and double-quoted scalars on one
 *   line (every escape libyaml knows but the escaped line break), literal and folded block
 *   scalars without an indentation indicator, `[]`, `{}`, nothing (an empty scalar);
 * - no anchor, alias, tag, directive, `?` key, flow collection with content, `...`.
 *
 * The fuzz target (tests/fuzz/fuzz_yamledit.c) compares the two event streams on every
 * input, and the locator's tests run every golden file through both.
 *
 * Marks: `index` counts bytes, not characters as libyaml's do (the same below the first
 * non-ASCII byte); `line` is libyaml's; `column` is libyaml's in start marks (every event of
 * the subset starts after ASCII on its line) and counts bytes in end marks.
 *
 *	static int on_event(const yaml_event_t *ev, void *ctx) { ...; return 0; }	// 1: stop
 *	if (!yaml_fast_parse(data, len, on_event, ctx))
 *		... discard what on_event saw, parse with libyaml
 */
#ifndef DOCKERBUMP_UPDATER_YAMLFAST_H
#define DOCKERBUMP_UPDATER_YAMLFAST_H

#include <stddef.h>

#include <yaml.h>

/* Receives one event; the event and its strings are borrowed for the call. Nonzero stops. */
typedef int (*yaml_fast_emit_fn)(const yaml_event_t *ev, void *ctx);

/*
 * Emits the events of `data` from STREAM-START to STREAM-END and returns 1; or returns 0 when
 * the input is outside the subset or `emit` asked to stop, and then the events emitted so far
 * mean nothing. Linear in `len`; allocates only for scalars it has to decode.
 */
int yaml_fast_parse(const char *data, size_t len, yaml_fast_emit_fn emit, void *ctx);

#endif

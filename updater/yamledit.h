/*
 * The byte-exact YAML locator and splicer for XSOAR item files.
 *
 * The editor never re-emits YAML. It parses the file with libyaml's event API only to learn
 * where things are, as byte offsets into the original buffer, and then changes exactly the
 * bytes of one scalar (or inserts one sibling line). Every other byte of the file - comments,
 * quoting, key order, indentation, CRLF, a BOM, trailing spaces, a missing final newline -
 * is preserved because it is never touched.
 *
 * libyaml's marks count characters, not bytes, and skip a leading BOM; the locator converts
 * them to byte offsets.
 *
 *	struct yaml_doc doc;
 *	yaml_doc_parse(&doc, data, len);
 *	if (doc.refused)
 *		report(doc.reason);
 *	else if (doc.script[YK_DOCKERIMAGE].kind == YV_SCALAR)
 *		rc = yaml_splice_scalar(&out, data, len, &doc.script[YK_DOCKERIMAGE],
 *		                        "demisto/python3:3.11.10.1", &err);
 *	yaml_doc_release(&doc);
 *
 * A file is *refused* (the editor will not change it, `refused` is set and `reason` says why, with
 * line and column where there is one) when: the YAML has a syntax error; it holds more than one
 * document; it is not valid UTF-8; a key on a path the tool reads (see enum yaml_key, and
 * `commonfields` itself) appears twice in the same mapping of that path (the top level, `script:`,
 * `commonfields:`); collections nest deeper than YAML_MAX_NESTING anywhere; a value the tool
 * may rewrite (`dockerimage`, `dockerimage45`) is a block scalar, a mapping or a sequence,
 * carries an anchor, or is an alias. Two more cases make what a YAML loader sees differ from
 * what the event stream shows, and are refused on those same mappings: an alias used as a key,
 * and a merge key `<<`; and a top-level `script:` that is an alias (the image would sit inside
 * an anchored node). Values found elsewhere (a `dockerimage:` text inside a block scalar or a
 * comment, keys nested deeper) are never reported, and duplicates there do not matter.
 *
 * Reasons are short sentences meant for reports: "duplicate key 'dockerimage' at line 12",
 * "dockerimage is a block scalar (line 4)", "YAML syntax error at line 3, column 7: mapping
 * values are not allowed in this context", "invalid UTF-8 at byte 123", "more than one YAML
 * document". Lines and columns are 1-based; columns count characters, as editors do.
 */
#ifndef DOCKERBUMP_UPDATER_YAMLEDIT_H
#define DOCKERBUMP_UPDATER_YAMLEDIT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* The keys the tool reads, at the top level and (where they apply) under `script:`. */
enum yaml_key {
	YK_DOCKERIMAGE,
	YK_DOCKERIMAGE45,
	YK_ALT_DOCKERIMAGES,
	YK_AUTOUPDATE, /* autoUpdateDockerImage */
	YK_FROMVERSION,
	YK_DEPRECATED,
	YK_TYPE,
	YK_SUBTYPE,
	YK_NAME,
	YK_DISPLAY,
	YK_SCRIPT,
	YK_CONFIGURATION,
	YK_COMMONFIELDS_ID, /* top level only: commonfields.id */
	YK__COUNT
};

/* The YAML key spelled as in the file ("autoUpdateDockerImage"; "id" for YK_COMMONFIELDS_ID). */
const char *yaml_key_name(enum yaml_key k);

/*
 * What the locator's results depend on besides the input: the revision of its rules and
 * libyaml's version, e.g. "locator 2, libyaml 0.2.5". Results kept across runs (the scan
 * cache) are valid only under the same string.
 */
const char *yaml_locator_version(void);

/* Collections nested deeper than this make a file refused ("nesting deeper than 64 levels"). */
#define YAML_MAX_NESTING 64

enum yaml_kind { YV_ABSENT = 0, YV_SCALAR, YV_MAPPING, YV_SEQUENCE, YV_ALIAS };
enum yaml_style { YS_PLAIN = 0, YS_SINGLE, YS_DOUBLE, YS_LITERAL, YS_FOLDED, YS_FLOW };

/*
 * One located value. Offsets are bytes into the buffer given to yaml_doc_parse().
 *
 * - A scalar's [start, end) is its text as written, quotes included, without the properties
 *   (`&anchor`, `!tag`) before it, trailing blanks or a comment. An empty plain scalar (a key
 *   with no value) has start == end, right after the key's `:`; it cannot be spliced.
 * - A block scalar's range starts at its `|` or `>`.
 * - `text` may hold NUL bytes (a double-quoted `\0`): `text_len` is the truth.
 * - A collection's range starts at its first key or item (block) or bracket (flow) and ends
 *   after its last item (block) or closing bracket (flow).
 * - `line_start` is where the key's line begins: 0, or 3 on the first line of a file that
 *   starts with a BOM, or just after the previous line break.
 */
struct yaml_value {
	enum yaml_kind kind;
	enum yaml_style style; /* scalars; YS_FLOW for a flow mapping/sequence */
	size_t start, end;     /* bytes of the value as written, quotes included */
	size_t key_start;      /* byte offset of the key's first character */
	size_t line_start;     /* byte offset where the key's line begins */
	int line, column;      /* 1-based position of the value (column in characters) */
	int anchored;          /* the value carries an &anchor */
	int in_flow;           /* the key sits inside a flow mapping `{...}` */
	char *text;            /* decoded scalar, NUL-terminated; NULL unless YV_SCALAR */
	size_t text_len;
	char **items; /* YV_SEQUENCE: the decoded scalar items (other items are left out) */
	size_t nr_items;
};

struct yaml_doc {
	struct yaml_value top[YK__COUNT];    /* keys of the top-level mapping */
	struct yaml_value script[YK__COUNT]; /* keys under `script:` when it is a mapping */
	int refused;
	char reason[256];
	int bom;  /* the file starts with a UTF-8 BOM */
	int crlf; /* the first line ends in CRLF */
};

/*
 * Locates the values of enum yaml_key in `data` (`out` needs no initialisation). Never fails:
 * a file the editor cannot handle comes back with `refused` set and every value YV_ABSENT.
 * The values own their strings; release them with yaml_doc_release(), which accepts NULL and
 * a refused document. Linear in `len`; `data` is not kept.
 *
 * Most item files are read by a fast event source (yamlfast.h) instead of libyaml's
 * tokenizer; the result is the same (every field of every value, and the refusal) as
 * yaml_doc_parse_full() gives, which only ever uses libyaml. yaml_doc_parse_fast() is the
 * fast path alone: 1 with `out` filled, or 0 with `out` empty (nothing to release) when the
 * input is outside the fast source's subset or the file is refused. The tests and the fuzz
 * target hold the two paths to each other.
 */
void yaml_doc_parse(struct yaml_doc *out, const char *data, size_t len);
void yaml_doc_parse_full(struct yaml_doc *out, const char *data, size_t len);
int yaml_doc_parse_fast(struct yaml_doc *out, const char *data, size_t len);
void yaml_doc_release(struct yaml_doc *doc);

/*
 * Whether two located values read the same: kind, style, anchor, decoded text and items
 * (positions are not compared). After an edit, re-parse the output and compare every value
 * but the edited one to prove nothing else moved.
 */
int yaml_value_same(const struct yaml_value *a, const struct yaml_value *b);

/* Whether two parses agree on everything: every field of every value, the refusal and its
 * reason, the BOM and CRLF flags. */
int yaml_doc_identical(const struct yaml_doc *a, const struct yaml_doc *b);

/*
 * Appends to `out` a copy of `data` in which the scalar `v` reads `new_text`, written in the
 * scalar's own style (plain, single- or double-quoted). Only the bytes in [v->start, v->end)
 * change. DB_EPARSE (and nothing appended) when `v` is not a non-empty plain or quoted scalar,
 * or `new_text` cannot be written in that style without changing its meaning. The plain style
 * is deliberately strict: printable ASCII, no leading indicator, no `: ` or ` #`, no flow
 * indicators inside a flow collection, and nothing YAML 1.1 would read as null, a boolean, a
 * number or a date. Single quotes take any text without control characters or line breaks;
 * double quotes take anything (escaped). `new_text` must be UTF-8.
 */
int yaml_splice_scalar(struct buf *out, const char *data, size_t len, const struct yaml_value *v,
                       const char *new_text, struct db_err *err);

/*
 * Appends to `out` a copy of `data` with one new line `<indent><key>: <new_text>` inserted
 * right after the line where `after`'s value ends (after its trailing blanks and comment,
 * before its line break), with the indentation of `after`'s key, `new_text` written in
 * `after`'s style (as yaml_splice_scalar() would), and that line's own line break (CRLF stays
 * CRLF). When that line is the last one and has no break, the break of the line before it
 * (else LF) is added before the new line, and the file still ends without one. DB_EPARSE (and
 * nothing appended) when `after` is not a non-empty plain or quoted scalar, sits in a flow
 * mapping, spans several lines, or its key does not start its line (`? key`, `- key`); when
 * `key` is not a simple word ([A-Za-z0-9_][A-Za-z0-9_.-]*); or when `new_text` cannot be
 * written in the style. The caller makes sure `key` is not already in that mapping. Bytes before
 * the insertion point do not move, so `after` still locates its value in the output, e.g. to
 * bump dockerimage right after adding dockerimage45.
 */
int yaml_insert_after(struct buf *out, const char *data, size_t len, const struct yaml_value *after,
                      const char *key, const char *new_text, struct db_err *err);

#endif

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
 *	if (doc.refused) report(doc.reason);
 *	else if (doc.script[YK_DOCKERIMAGE].kind == YV_SCALAR)
 *		yaml_splice_scalar(&out, data, len, &doc.script[YK_DOCKERIMAGE],
 *"demisto/python3:3.11.10.1", &err); yaml_doc_release(&doc);
 *
 * A file is *refused* (the editor will not change it, `refused` is set and `reason` says why,
 * with line and column where there is one) when: the YAML has a syntax error; it holds more
 * than one document; it is not valid UTF-8; a key on a path the tool reads (see enum
 * yaml_key) appears twice in the same mapping; a value the tool may rewrite (`dockerimage`,
 * `dockerimage45`) is a block scalar, carries an anchor, or is an alias. Values found
 * elsewhere (a `dockerimage:` text inside a block scalar or a comment, keys nested deeper)
 * are never reported.
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

enum yaml_kind { YV_ABSENT = 0, YV_SCALAR, YV_MAPPING, YV_SEQUENCE, YV_ALIAS };
enum yaml_style { YS_PLAIN = 0, YS_SINGLE, YS_DOUBLE, YS_LITERAL, YS_FOLDED, YS_FLOW };

struct yaml_value {
	enum yaml_kind kind;
	enum yaml_style style; /* scalars; YS_FLOW for a flow mapping/sequence */
	size_t start, end;     /* bytes of the value as written, quotes included */
	size_t key_start;      /* byte offset of the key's first character */
	size_t line_start;     /* byte offset where the key's line begins */
	int line, column;      /* 1-based position of the value */
	int anchored;          /* the value carries an &anchor */
	int in_flow;           /* the key sits inside a flow mapping `{...}` */
	char *text;            /* decoded scalar, NUL-terminated; NULL unless YV_SCALAR */
	size_t text_len;
	char **items; /* YV_SEQUENCE of scalars: the decoded items */
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
 * Locates the values of enum yaml_key in `data`. Never fails: a file the editor cannot handle
 * comes back with `refused` set. Release with yaml_doc_release().
 */
void yaml_doc_parse(struct yaml_doc *out, const char *data, size_t len);
void yaml_doc_release(struct yaml_doc *doc);

/*
 * Appends to `out` a copy of `data` in which the scalar `v` reads `new_text`, written in the
 * scalar's own style (plain, single- or double-quoted). DB_EPARSE when `v` is not a plain or
 * quoted scalar or `new_text` cannot be written in that style without changing its meaning.
 */
int yaml_splice_scalar(struct buf *out, const char *data, size_t len, const struct yaml_value *v,
                       const char *new_text, struct db_err *err);

/*
 * Appends to `out` a copy of `data` with one new line `<indent><key>: <new_text>` inserted
 * right after the line that holds `after` (after its trailing comment, if any), with the
 * indentation of `after`'s key, `new_text` quoted as `after`'s value is, and the line ending
 * the file uses. DB_EPARSE when `after` sits in a flow mapping or spans several lines.
 */
int yaml_insert_after(struct buf *out, const char *data, size_t len, const struct yaml_value *after,
                      const char *key, const char *new_text, struct db_err *err);

#endif

#include "updater/yamledit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/alloc.h"
#include "common/utf8.h"
#include "updater/yamlfast.h"
#include "common/banned.h"

static const char *const key_names[YK__COUNT] = {
    [YK_DOCKERIMAGE] = "dockerimage",
    [YK_DOCKERIMAGE45] = "dockerimage45",
    [YK_ALT_DOCKERIMAGES] = "alt_dockerimages",
    [YK_AUTOUPDATE] = "autoUpdateDockerImage",
    [YK_FROMVERSION] = "fromversion",
    [YK_DEPRECATED] = "deprecated",
    [YK_TYPE] = "type",
    [YK_SUBTYPE] = "subtype",
    [YK_NAME] = "name",
    [YK_DISPLAY] = "display",
    [YK_SCRIPT] = "script",
    [YK_CONFIGURATION] = "configuration",
    [YK_COMMONFIELDS_ID] = "id",
};

const char *yaml_key_name(enum yaml_key k)
{
	if ((unsigned)k >= YK__COUNT)
		return "?";
	return key_names[k];
}

/* Raise when the locator's results change for some input (rules, reasons, limits). */
#define LOCATOR_REVISION 2

static char locator_version[80];

static void set_locator_version(void)
{
	snprintf(locator_version, sizeof(locator_version), "locator %d, libyaml %s",
	         LOCATOR_REVISION, yaml_get_version_string());
}

const char *yaml_locator_version(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, set_locator_version);
	return locator_version;
}

/* ---- bytes and characters ------------------------------------------------------------------ */

/*
 * YAML 1.1 line breaks, as libyaml reads them: LF, CR, NEL (U+0085), LS (U+2028), PS (U+2029).
 * Returns the width of the break that starts at s[i], or 0. CRLF counts as one break.
 */
static size_t break_at(const unsigned char *s, size_t n, size_t i)
{
	if (i >= n)
		return 0;
	if (s[i] == '\r')
		return (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
	if (s[i] == '\n')
		return 1;
	if (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x85)
		return 2;
	if (s[i] == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
		return 3;
	return 0;
}

/* The width of the line break that ends right before s[i] (the mirror of break_at), or 0. */
static size_t break_before(const unsigned char *s, size_t i)
{
	if (i >= 1 && s[i - 1] == '\n')
		return (i >= 2 && s[i - 2] == '\r') ? 2 : 1;
	if (i >= 1 && s[i - 1] == '\r')
		return 1;
	if (i >= 2 && s[i - 2] == 0xC2 && s[i - 1] == 0x85)
		return 2;
	if (i >= 3 && s[i - 3] == 0xE2 && s[i - 2] == 0x80 &&
	    (s[i - 1] == 0xA8 || s[i - 1] == 0xA9))
		return 3;
	return 0;
}

/* Whether s[b..e) holds a line break. */
static int has_break(const unsigned char *s, size_t n, size_t b, size_t e)
{
	for (; b < e; b++)
		if (break_at(s, n, b))
			return 1;
	return 0;
}

/*
 * libyaml's marks count characters of the text after a leading BOM (a CRLF is two). The map
 * turns them into byte offsets of the original buffer with a cursor that walks the UTF-8
 * forward (and, rarely and briefly, back): the marks the locator asks for come in document
 * order, so the whole file is walked at most once. Below the first non-ASCII byte a character
 * is a byte and no walking is needed.
 */
struct charmap {
	const unsigned char *s;
	size_t n;
	size_t base;      /* bytes before character 0: the BOM, or 0 */
	size_t ascii_end; /* characters [0, ascii_end) are single bytes */
	size_t ch, byte;  /* the cursor: character `ch` starts at `byte` */
};

static size_t charmap_byte(struct charmap *m, size_t index)
{
	if (index < m->ascii_end)
		return m->base + index;
	if (m->ch < m->ascii_end) {
		m->ch = m->ascii_end;
		m->byte = m->base + m->ascii_end;
	}
	while (m->ch < index && m->byte < m->n) {
		m->byte += utf8_width(m->s[m->byte]);
		m->ch++;
	}
	while (m->ch > index) {
		do
			m->byte--;
		while ((m->s[m->byte] & 0xC0) == 0x80);
		m->ch--;
	}
	return m->byte < m->n ? m->byte : m->n;
}

/* ---- the locator ------------------------------------------------------------------------- */

enum path {
	P_NONE,         /* a collection nobody reads inside (kept only to close its value) */
	P_TOP,          /* the top-level mapping */
	P_SCRIPT,       /* the mapping under top-level `script:` */
	P_COMMONFIELDS, /* the mapping under top-level `commonfields:` */
	P_ALT,          /* the sequence under `alt_dockerimages:` */
};

#define K_NONE         (-1)
#define K_COMMONFIELDS YK__COUNT /* not a value anyone reads, but a key on the path */

struct frame {
	enum path path;
	int is_map;
	int flow;
	int want_value;         /* mapping: the next node is the value of `key` */
	int key;                /* tracked key of the pending value, or K_NONE */
	unsigned seen;          /* tracked keys met so far in this mapping */
	size_t key_start;       /* byte offset of the pending key */
	struct yaml_value *val; /* the record this collection closes, or NULL */
};

/*
 * The tracked paths are at most three collections deep (top, script, alt_dockerimages), plus
 * the value frame of a tracked key; anything deeper is skipped with a counter, so an
 * adversarially deep file costs no memory here.
 */
#define MAX_FRAMES 4

struct locator {
	struct yaml_doc *doc;
	const unsigned char *s;
	size_t n;
	struct charmap map;
	struct frame stack[MAX_FRAMES];
	int depth;
	size_t skip;    /* nesting depth inside a subtree nobody reads */
	size_t nesting; /* collections open, tracked or not (at most YAML_MAX_NESTING) */
	int documents;
	yaml_mark_t last; /* where the content of the last completed node ends */
	size_t alt_alloc; /* items allocated in the alt_dockerimages being read */
};

static void refuse(struct locator *lc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct locator *lc, const char *fmt, ...)
{
	va_list ap;
	if (lc->doc->refused)
		return;
	lc->doc->refused = 1;
	va_start(ap, fmt);
	vsnprintf(lc->doc->reason, sizeof(lc->doc->reason), fmt, ap);
	va_end(ap);
}

/* 1-based line and character column of byte `off` (for reader errors, which give bytes). */
static void line_col_of(const unsigned char *s, size_t n, size_t off, int *line, int *col)
{
	size_t i = 0, w;
	int l = 1, c = 1;
	if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < off && i < n) {
		w = break_at(s, n, i);
		if (w) {
			l++, c = 1, i += w;
			continue;
		}
		c++;
		i += utf8_width(s[i]);
	}
	*line = l, *col = c;
}

static void refuse_syntax(struct locator *lc, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	int line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		refuse(lc, "YAML parser ran out of memory");
		return;
	case YAML_READER_ERROR:
		line_col_of(lc->s, lc->n, p->problem_offset, &line, &col);
		refuse(lc, "YAML syntax error at line %d, column %d: %s", line, col, problem);
		return;
	default:
		refuse(lc, "YAML syntax error at line %zu, column %zu: %s",
		       p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
	}
}

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Characters of an anchor name, as libyaml 0.2 scans them. */
static int is_anchor_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-';
}

/*
 * A node's event starts at its properties (`&anchor`, `!tag`), which may be separated from
 * the content by blanks, comments and line breaks. Steps over them to the content, never past
 * `end`, keeping `line`/`col` (1-based) in step. The rules are libyaml's: an anchor name ends
 * at the first character outside [0-9A-Za-z_-] (`&a:b` is the anchor `a` on the scalar `:b`),
 * a tag at a blank or a line break.
 */
static size_t skip_properties(const unsigned char *s, size_t n, size_t b, size_t end, int *line,
                              int *col)
{
	size_t w;
	if (end > n)
		end = n;
	while (b < end && (s[b] == '&' || s[b] == '!')) {
		if (s[b] == '&') {
			for (b++, (*col)++; b < end && is_anchor_char(s[b]); b++)
				(*col)++;
		} else {
			while (b < end && !is_blank(s[b]) && !break_at(s, n, b)) {
				b += utf8_width(s[b]);
				(*col)++;
			}
		}
		for (;;) {
			if (b < end && is_blank(s[b])) {
				b++, (*col)++;
			} else if ((w = break_at(s, n, b)) != 0 && b + w <= end) {
				b += w, (*line)++, *col = 1;
				/* libyaml skips a BOM at the start of any line, as white space. */
				if (b + 3 <= end && !memcmp(s + b, "\xEF\xBB\xBF", 3))
					b += 3, (*col)++;
			} else if (b < end && s[b] == '#') {
				while (b < end && !break_at(s, n, b))
					b++;
			} else {
				break;
			}
		}
	}
	return b < end ? b : end;
}

static int key_lookup(enum path path, const char *k, size_t len)
{
	int i;
	if (path == P_COMMONFIELDS)
		return (len == 2 && !memcmp(k, "id", 2)) ? YK_COMMONFIELDS_ID : K_NONE;
	if (path == P_TOP && len == 12 && !memcmp(k, "commonfields", 12))
		return K_COMMONFIELDS;
	for (i = 0; i < YK__COUNT; i++) {
		if (i == YK_COMMONFIELDS_ID)
			continue;
		if (strlen(key_names[i]) == len && !memcmp(key_names[i], k, len))
			return i;
	}
	return K_NONE;
}

static const char *key_label(int k)
{
	return k == K_COMMONFIELDS ? "commonfields" : key_names[k];
}

static struct yaml_value *slot(struct locator *lc, enum path path, int k)
{
	if (k < 0 || k >= YK__COUNT)
		return NULL;
	switch (path) {
	case P_TOP:
		return &lc->doc->top[k];
	case P_SCRIPT:
		return &lc->doc->script[k];
	case P_COMMONFIELDS:
		return &lc->doc->top[YK_COMMONFIELDS_ID];
	default:
		return NULL;
	}
}

static int is_image_key(int k)
{
	return k == YK_DOCKERIMAGE || k == YK_DOCKERIMAGE45;
}

static struct frame *push(struct locator *lc, enum path path, int is_map, int flow,
                          struct yaml_value *val)
{
	struct frame *f;
	if (lc->depth >= MAX_FRAMES) /* cannot happen: the paths are fixed and shallow */
		abort();
	f = &lc->stack[lc->depth++];
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->is_map = is_map;
	f->flow = flow || (lc->depth > 1 && lc->stack[lc->depth - 2].flow);
	f->key = K_NONE;
	f->val = val;
	return f;
}

/* The node that was the pending key or value of the innermost frame is complete. */
static void node_done(struct locator *lc)
{
	struct frame *f;
	if (!lc->depth)
		return;
	f = &lc->stack[lc->depth - 1];
	if (!f->is_map)
		return;
	f->want_value = !f->want_value;
	if (!f->want_value)
		f->key = K_NONE;
}

static int tracked_map(const struct frame *f)
{
	return f->is_map && (f->path == P_TOP || f->path == P_SCRIPT || f->path == P_COMMONFIELDS);
}

/* Fills the position fields every kind of value shares. */
static void place_value(struct locator *lc, struct frame *f, struct yaml_value *v,
                        const yaml_event_t *ev, int has_props)
{
	size_t b = charmap_byte(&lc->map, ev->start_mark.index);
	size_t e = charmap_byte(&lc->map, ev->end_mark.index);
	size_t ls = f->key_start;

	v->line = (int)ev->start_mark.line + 1;
	v->column = (int)ev->start_mark.column + 1;
	if (has_props)
		b = skip_properties(lc->s, lc->n, b, e, &v->line, &v->column);
	v->start = b;
	v->end = e;
	v->key_start = f->key_start;
	while (ls > lc->map.base && !break_before(lc->s, ls))
		ls--;
	v->line_start = ls;
	v->in_flow = f->flow;
}

static void record_scalar(struct locator *lc, struct frame *f, int k, const yaml_event_t *ev)
{
	struct yaml_value *v = slot(lc, f->path, k);
	const unsigned char *s = lc->s;
	size_t len = ev->data.scalar.length, b, e;
	int ok;

	if (!v)
		return;
	v->kind = YV_SCALAR;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		v->style = YS_SINGLE;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		v->style = YS_DOUBLE;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		v->style = YS_LITERAL;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		v->style = YS_FOLDED;
		break;
	default:
		v->style = YS_PLAIN;
	}
	v->anchored = ev->data.scalar.anchor != NULL;
	place_value(lc, f, v, ev, ev->data.scalar.anchor || ev->data.scalar.tag);
	v->text = xmalloc(len + 1);
	memcpy(v->text, ev->data.scalar.value, len);
	v->text[len] = '\0';
	v->text_len = len;

	if (is_image_key(k)) {
		if (v->style == YS_LITERAL || v->style == YS_FOLDED) {
			refuse(lc, "%s is a block scalar (line %d)", key_names[k], v->line);
			return;
		}
		if (v->anchored) {
			refuse(lc, "%s carries an anchor (line %d)", key_names[k], v->line);
			return;
		}
	}

	/* The value's bytes come from marks; re-check them against the text before trusting. */
	b = v->start, e = v->end;
	switch (v->style) {
	case YS_SINGLE:
		ok = e >= b + 2 && s[b] == '\'' && s[e - 1] == '\'';
		break;
	case YS_DOUBLE:
		ok = e >= b + 2 && s[b] == '"' && s[e - 1] == '"';
		break;
	case YS_LITERAL:
		ok = e > b && s[b] == '|';
		break;
	case YS_FOLDED:
		ok = e > b && s[b] == '>';
		break;
	default:
		/*
		 * A plain scalar on one line is its text; one on several lines keeps at least
		 * its first and last characters (line folding changes the middle).
		 */
		ok = (e == b && len == 0) ||
		     (e > b && len > 0 && s[b] == ev->data.scalar.value[0] &&
		      s[e - 1] == ev->data.scalar.value[len - 1] && !is_blank(s[b]) &&
		      !break_at(s, lc->n, b) && !is_blank(s[e - 1]) && !break_before(s, e));
		if (ok && e > b && !has_break(s, lc->n, b, e))
			ok = e - b == len && !memcmp(s + b, ev->data.scalar.value, len);
	}
	if (!ok)
		refuse(lc, "cannot locate the value of '%s' (line %d)", key_names[k], v->line);
}

static void handle_key(struct locator *lc, struct frame *f, const yaml_event_t *ev)
{
	int k;

	if (ev->type == YAML_ALIAS_EVENT) {
		refuse(lc, "alias used as a key at line %zu", ev->start_mark.line + 1);
		return;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag &&
	    ev->data.scalar.length == 2 && !memcmp(ev->data.scalar.value, "<<", 2)) {
		refuse(lc, "merge key '<<' at line %zu", ev->start_mark.line + 1);
		return;
	}
	k = key_lookup(f->path, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	f->key = k;
	if (k == K_NONE)
		return;
	if (f->seen & (1u << k)) {
		refuse(lc, "duplicate key '%s' at line %zu", key_label(k), ev->start_mark.line + 1);
		return;
	}
	f->seen |= 1u << k;
	if (k != K_COMMONFIELDS) {
		size_t b = charmap_byte(&lc->map, ev->start_mark.index);
		if (ev->data.scalar.anchor || ev->data.scalar.tag) {
			int line = 0, col = 0;
			b = skip_properties(lc->s, lc->n, b,
			                    charmap_byte(&lc->map, ev->end_mark.index), &line,
			                    &col);
		}
		f->key_start = b;
	}
}

/* A scalar or alias that is a value (or a sequence item) in the innermost frame. */
static void handle_leaf_value(struct locator *lc, struct frame *f, const yaml_event_t *ev)
{
	struct yaml_value *v;

	if (f->path == P_ALT && ev->type == YAML_SCALAR_EVENT) {
		struct yaml_value *alt = f->val;
		size_t len = ev->data.scalar.length;
		char *item = xmalloc(len + 1);
		memcpy(item, ev->data.scalar.value, len);
		item[len] = '\0';
		ALLOC_GROW(alt->items, alt->nr_items + 1, lc->alt_alloc);
		alt->items[alt->nr_items++] = item;
		return;
	}
	if (!tracked_map(f) || f->key == K_NONE || f->key == K_COMMONFIELDS)
		return;
	if (ev->type == YAML_SCALAR_EVENT) {
		record_scalar(lc, f, f->key, ev);
		return;
	}
	v = slot(lc, f->path, f->key);
	v->kind = YV_ALIAS;
	place_value(lc, f, v, ev, 0);
	/* A top-level `script: *x` hides an integration's image inside an anchored node. */
	if (is_image_key(f->key) || (f->path == P_TOP && f->key == YK_SCRIPT))
		refuse(lc, "%s is an alias (line %d)", key_names[f->key], v->line);
}

/* A mapping or sequence starts as a value (or item) of the innermost frame. */
static void handle_collection_start(struct locator *lc, const yaml_event_t *ev)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	int flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
	                  : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	const yaml_char_t *anchor =
	    is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	struct frame *f;
	struct yaml_value *v;
	enum path path = P_NONE;
	int k;

	if (!lc->depth) {
		if (is_map)
			push(lc, P_TOP, 1, flow, NULL);
		else
			lc->skip = 1;
		return;
	}
	f = &lc->stack[lc->depth - 1];
	k = f->key;
	if (!tracked_map(f) || !f->want_value || k == K_NONE) {
		lc->skip = 1; /* a complex key, an unread value, or an item of a sequence */
		return;
	}
	if (k == K_COMMONFIELDS) {
		if (is_map)
			push(lc, P_COMMONFIELDS, 1, flow, NULL);
		else
			lc->skip = 1;
		return;
	}
	v = slot(lc, f->path, k);
	v->kind = is_map ? YV_MAPPING : YV_SEQUENCE;
	v->style = flow ? YS_FLOW : YS_PLAIN;
	v->anchored = anchor != NULL;
	place_value(lc, f, v, ev, anchor || tag);
	if (is_image_key(k)) {
		refuse(lc, "%s is a %s, not a string (line %d)", key_names[k],
		       is_map ? "mapping" : "sequence", v->line);
		return;
	}
	if (is_map && f->path == P_TOP && k == YK_SCRIPT)
		path = P_SCRIPT;
	else if (!is_map && k == YK_ALT_DOCKERIMAGES)
		path = P_ALT, lc->alt_alloc = 0;
	push(lc, path, is_map, flow, v);
}

static void handle_collection_end(struct locator *lc, const yaml_event_t *ev)
{
	struct frame *f;

	/*
	 * A flow collection ends at its bracket; a block one where libyaml ends it, which is the
	 * next token (past trailing comments), so it ends with its last child instead.
	 */
	if (ev->end_mark.index > ev->start_mark.index)
		lc->last = ev->end_mark;
	if (lc->skip) {
		if (--lc->skip == 0)
			node_done(lc);
		return;
	}
	if (!lc->depth)
		return;
	f = &lc->stack[--lc->depth];
	if (f->val)
		f->val->end = charmap_byte(&lc->map, lc->last.index);
	node_done(lc);
}

static void handle_event(struct locator *lc, const yaml_event_t *ev)
{
	struct frame *f;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++lc->documents > 1)
			refuse(lc, "more than one YAML document");
		return;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		/*
		 * Bounded because libyaml's cost per token grows with the flow nesting depth (it
		 * checks every open level for a pending simple key), so an unbounded depth makes
		 * a file quadratic; real items nest about eight levels.
		 */
		if (++lc->nesting > YAML_MAX_NESTING) {
			refuse(lc, "nesting deeper than %d levels at line %zu", YAML_MAX_NESTING,
			       ev->start_mark.line + 1);
			return;
		}
		if (lc->skip)
			lc->skip++;
		else
			handle_collection_start(lc, ev);
		return;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		lc->nesting--;
		handle_collection_end(lc, ev);
		return;
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		lc->last = ev->end_mark;
		if (lc->skip || !lc->depth)
			return;
		f = &lc->stack[lc->depth - 1];
		if (f->is_map && !f->want_value) {
			if (tracked_map(f))
				handle_key(lc, f, ev);
		} else {
			handle_leaf_value(lc, f, ev);
		}
		node_done(lc);
		return;
	default:
		return;
	}
}

static void value_release(struct yaml_value *v)
{
	size_t i;
	free(v->text);
	for (i = 0; i < v->nr_items; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static void values_release(struct yaml_doc *doc)
{
	int k;
	for (k = 0; k < YK__COUNT; k++) {
		value_release(&doc->top[k]);
		value_release(&doc->script[k]);
	}
}

/* Starts a locator on `data` for `out`, and the file-level facts every path needs. */
static void locator_init(struct locator *lc, struct yaml_doc *out, const unsigned char *s,
                         size_t len)
{
	const unsigned char *nl = len ? memchr(s, '\n', len) : NULL;

	memset(out, 0, sizeof(*out));
	memset(lc, 0, sizeof(*lc));
	lc->doc = out;
	lc->s = s;
	lc->n = len;
	out->bom = len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3);
	out->crlf = nl && nl > s && nl[-1] == '\r';
	lc->map.s = s;
	lc->map.n = len;
	lc->map.base = out->bom ? 3 : 0;
}

static int fast_event(const yaml_event_t *ev, void *arg)
{
	struct locator *lc = arg;
	handle_event(lc, ev);
	return lc->doc->refused;
}

int yaml_doc_parse_fast(struct yaml_doc *out, const char *data, size_t len)
{
	struct locator lc;

	if (!data)
		data = "", len = 0;
	locator_init(&lc, out, (const unsigned char *)data, len);
	/* The fast source's marks count bytes: every index maps to itself. */
	lc.map.ascii_end = SIZE_MAX;
	if (yaml_fast_parse(data, len, fast_event, &lc) && !out->refused)
		return 1;
	/* Declined, or refused: the full parse says it (and why) the same way every time. */
	values_release(out);
	memset(out, 0, sizeof(*out));
	return 0;
}

void yaml_doc_parse_full(struct yaml_doc *out, const char *data, size_t len)
{
	struct locator lc;
	yaml_parser_t parser;
	yaml_event_t ev;
	const unsigned char *s;
	size_t bad = 0, first_high;
	int done = 0;

	if (!data) /* libyaml wants a non-NULL input even when it is empty */
		data = "", len = 0;
	s = (const unsigned char *)data;
	locator_init(&lc, out, s, len);
	if (!utf8_scan(s + lc.map.base, len - lc.map.base, &bad, &first_high)) {
		refuse(&lc, "invalid UTF-8 at byte %zu", lc.map.base + bad);
		return;
	}
	lc.map.ascii_end = first_high;
	lc.map.ch = first_high;
	lc.map.byte = lc.map.base + first_high;

	/*
	 * libyaml has no way to reset a parser for the next input, so each file pays for one
	 * initialisation (a few small buffers); everything after that is the event loop.
	 */
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, s, len);
	while (!done && !out->refused) {
		if (!yaml_parser_parse(&parser, &ev)) {
			refuse_syntax(&lc, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		handle_event(&lc, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (out->refused)
		values_release(out);
}

void yaml_doc_parse(struct yaml_doc *out, const char *data, size_t len)
{
	if (!yaml_doc_parse_fast(out, data, len))
		yaml_doc_parse_full(out, data, len);
}

int yaml_value_same(const struct yaml_value *a, const struct yaml_value *b)
{
	size_t i;
	if (a->kind != b->kind || a->style != b->style || a->anchored != b->anchored ||
	    a->text_len != b->text_len || a->nr_items != b->nr_items)
		return 0;
	if (a->text_len && memcmp(a->text, b->text, a->text_len))
		return 0;
	for (i = 0; i < a->nr_items; i++)
		if (strcmp(a->items[i], b->items[i]))
			return 0;
	return 1;
}

/* Every field, positions included. */
static int value_identical(const struct yaml_value *a, const struct yaml_value *b)
{
	return yaml_value_same(a, b) && a->start == b->start && a->end == b->end &&
	       a->key_start == b->key_start && a->line_start == b->line_start &&
	       a->line == b->line && a->column == b->column && a->in_flow == b->in_flow;
}

int yaml_doc_identical(const struct yaml_doc *a, const struct yaml_doc *b)
{
	int k;
	if (a->refused != b->refused || strcmp(a->reason, b->reason) || a->bom != b->bom ||
	    a->crlf != b->crlf)
		return 0;
	for (k = 0; k < YK__COUNT; k++)
		if (!value_identical(&a->top[k], &b->top[k]) ||
		    !value_identical(&a->script[k], &b->script[k]))
			return 0;
	return 1;
}

void yaml_doc_release(struct yaml_doc *doc)
{
	if (!doc)
		return;
	values_release(doc);
}

/* ---- writing a scalar back --------------------------------------------------------------- */

/* Code points that may not appear literally inside a quoted scalar written by this module. */
static int quoted_literal_ok(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return 0; /* controls (including NEL, a line break in YAML 1.1) */
	if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
		return 0; /* LS, PS (line breaks), the BOM, non-characters */
	return 1;
}

static int ascii_lower_eq(const char *s, size_t n, const char *word)
{
	size_t i;
	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

/*
 * Whether `s` reads back as the same string when written as a plain scalar (in flow context
 * when `flow`). Deliberately stricter than YAML: printable ASCII only, no indicator at the
 * start, none of the sequences that end a plain scalar, and nothing a YAML 1.1 loader would
 * resolve to another type (null, booleans, numbers, timestamps, merge and value keys).
 */
static int plain_ok(const char *s, size_t n, int flow)
{
	static const char *const words[] = {"null", "~",   "true", "false", "yes", "no",
	                                    "on",   "off", "y",    "n",     "=",   "<<"};
	size_t i, j;
	int numeric = 1;

	if (!n || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		return 0;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7E)
			return 0;
		if (c == ':' && i + 1 < n && (s[i + 1] == ' ' || (flow && s[i + 1] == '?')))
			return 0;
		if (c == '#' && s[i - 1] == ' ')
			return 0;
		if (flow && strchr(",[]{}", c))
			return 0;
	}
	for (j = 0; j < sizeof(words) / sizeof(words[0]); j++)
		if (ascii_lower_eq(s, n, words[j]))
			return 0;
	/* Numbers of every YAML 1.1 form, .inf/.nan, and dates start with a sign, digit or dot. */
	i = (s[0] == '+') ? 1 : 0;
	if (i < n && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
		for (j = i; j < n; j++)
			if (!strchr("0123456789abcdefABCDEFxXoO_.:+-", s[j]))
				numeric = 0;
		if (numeric || s[i] == '.')
			return 0;
		if (n >= 5 && s[4] == '-' && strspn(s, "0123456789") == 4)
			return 0;
	}
	return 1;
}

/* Appends `s` written in `style`; DB_EPARSE when it cannot be written so. */
static int add_styled(struct buf *out, enum yaml_style style, int flow, const char *s,
                      struct db_err *err)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, w;
	uint32_t cp;

	for (i = 0; i < n; i += w) {
		w = utf8_decode(u + i, n - i, &cp);
		if (!w)
			return db_err_set(err, DB_EPARSE, "'%s': not valid UTF-8", s);
		if (style == YS_SINGLE && !quoted_literal_ok(cp))
			return db_err_set(err, DB_EPARSE,
			                  "'%s' cannot be written as a single-quoted scalar", s);
	}
	switch (style) {
	case YS_PLAIN:
		if (!plain_ok(s, n, flow))
			return db_err_set(err, DB_EPARSE,
			                  "'%s' cannot be written as a plain scalar", s);
		buf_add(out, s, n);
		return 0;
	case YS_SINGLE:
		buf_addch(out, '\'');
		for (i = 0; i < n; i++) {
			if (s[i] == '\'')
				buf_addch(out, '\'');
			buf_addch(out, s[i]);
		}
		buf_addch(out, '\'');
		return 0;
	case YS_DOUBLE:
		buf_addch(out, '"');
		for (i = 0; i < n; i += w) {
			w = utf8_decode(u + i, n - i, &cp);
			if (cp == '"' || cp == '\\') {
				buf_addch(out, '\\');
				buf_addch(out, (char)cp);
			} else if (cp == '\t') {
				buf_adds(out, "\\t");
			} else if (cp == '\n') {
				buf_adds(out, "\\n");
			} else if (!quoted_literal_ok(cp)) {
				buf_addf(out, "\\u%04X", (unsigned)cp);
			} else {
				buf_add(out, s + i, w);
			}
		}
		buf_addch(out, '"');
		return 0;
	default:
		return db_err_set(err, DB_EPARSE, "a block scalar cannot be rewritten");
	}
}

static int check_scalar(const char *data, size_t len, const struct yaml_value *v,
                        struct db_err *err)
{
	(void)data;
	if (v->kind != YV_SCALAR)
		return db_err_set(err, DB_EPARSE, "the value at line %d is not a scalar", v->line);
	if (v->style != YS_PLAIN && v->style != YS_SINGLE && v->style != YS_DOUBLE)
		return db_err_set(err, DB_EPARSE, "the value at line %d is a block scalar",
		                  v->line);
	if (v->start >= v->end || v->end > len)
		return db_err_set(err, DB_EPARSE, "the value at line %d is empty", v->line);
	return 0;
}

int yaml_splice_scalar(struct buf *out, const char *data, size_t len, const struct yaml_value *v,
                       const char *new_text, struct db_err *err)
{
	size_t keep = out->len;
	int rc;

	if ((rc = check_scalar(data, len, v, err)) < 0)
		return rc;
	/* `&a:b` is the anchor `a` on `:b`; other text there would extend the anchor's name. */
	if (v->anchored && v->start > 0 && !is_blank((unsigned char)data[v->start - 1]) &&
	    !break_before((const unsigned char *)data, v->start))
		return db_err_set(err, DB_EPARSE, "the value at line %d is glued to its anchor",
		                  v->line);
	buf_grow(out, len + strlen(new_text) + 8);
	buf_add(out, data, v->start);
	if ((rc = add_styled(out, v->style, v->in_flow, new_text, err)) < 0) {
		buf_setlen(out, keep);
		return rc;
	}
	buf_add(out, data + v->end, len - v->end);
	return 0;
}

int yaml_insert_after(struct buf *out, const char *data, size_t len, const struct yaml_value *after,
                      const char *key, const char *new_text, struct db_err *err)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t keep = out->len, i, eol, w;
	const char *nl = "\n";
	size_t nl_len = 1;
	int rc;

	if ((rc = check_scalar(data, len, after, err)) < 0)
		return rc;
	if (after->in_flow)
		return db_err_set(err, DB_EPARSE,
		                  "cannot add a key after line %d: it is inside a flow mapping",
		                  after->line);
	if (after->line_start > after->key_start || after->key_start > after->start)
		return db_err_set(err, DB_EPARSE, "cannot add a key after line %d", after->line);
	for (i = after->line_start; i < after->key_start; i++)
		if (s[i] != ' ')
			return db_err_set(err, DB_EPARSE,
			                  "cannot add a key after line %d: the key does not start "
			                  "its line",
			                  after->line);
	if (has_break(s, len, after->start, after->end))
		return db_err_set(err, DB_EPARSE,
		                  "cannot add a key after line %d: the value spans several "
		                  "lines",
		                  after->line);
	if (!key[0] ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                "0123456789_") == 0 ||
	    key[strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
		return db_err_set(err, DB_EPARSE, "'%s' is not a simple key", key);

	/* The end of the value's line: past trailing blanks and a comment, before the break. */
	for (eol = after->end; eol < len && !break_at(s, len, eol); eol++)
		;
	if ((w = break_at(s, len, eol)) != 0) {
		nl = data + eol, nl_len = w;
	} else {
		/* The last line has no break: end it with the one the line before uses. */
		for (i = after->start; i > 0 && !break_before(s, i); i--)
			;
		if ((w = break_before(s, i)) != 0)
			nl = data + i - w, nl_len = w;
	}

	buf_grow(out,
	         len + after->key_start - after->line_start + strlen(key) + strlen(new_text) + 16);
	buf_add(out, data, eol);
	buf_add(out, nl, nl_len);
	buf_add(out, data + after->line_start, after->key_start - after->line_start);
	buf_adds(out, key);
	buf_adds(out, ": ");
	if ((rc = add_styled(out, after->style, 0, new_text, err)) < 0) {
		buf_setlen(out, keep);
		return rc;
	}
	buf_add(out, data + eol, len - eol);
	return 0;
}

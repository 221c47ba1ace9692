#include "updater/yamlfast.h"

#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/banned.h"

/*
 * How it works. Item files are block YAML whose every line is one of a few shapes: a blank or
 * comment line, `key: value`, `key:`, `- value`, `- key: value`, `-`, or the content of a
 * block scalar or of a plain scalar continued from the line before. The reader walks the
 * lines once, keeps the stack of open block collections by column, and emits for each line
 * the events libyaml's scanner and parser produce for it. Wherever libyaml's rules get subtle
 * (tabs, flow collections with content, properties, explicit keys, escaped line breaks,
 * quoted scalars over several lines, indentation indicators) it declines instead of guessing.
 *
 * The rules it follows, from libyaml's scanner (scanner.c) and parser (parser.c):
 * - a block collection starts where its first key or `-` is; an indentation decrease closes
 *   the collections deeper than the new line (their END events sit at the next token); a
 *   sequence may be flush with its mapping key ("indentless"), and then ends at the next key
 *   of that mapping;
 * - a missing value is an empty plain scalar, marked right after the `:` or `-`;
 * - a plain scalar ends at `: `, at ` #`, or at the end of its line unless the next non-blank
 *   line is indented deeper than the collection it belongs to (then it goes on, lines joined
 *   by a space, blank lines kept as line feeds); its end mark follows its last non-blank;
 * - a block scalar's indentation is that of its first non-empty line (at least one more than
 *   its collection's, and at least that of the blank lines before it); it ends at the first
 *   non-empty line indented less, and its end mark is the start of that line.
 */

#define MAX_DEPTH 64   /* deeper files go to libyaml (and the locator's nesting limit) */
#define MAX_KEY   1000 /* libyaml's simple keys must end within 1024 characters */

struct frame {
	size_t col;
	int seq;        /* a block sequence; else a block mapping */
	int indentless; /* a sequence flush with its key: ends at that mapping's next key */
};

enum pending { NONE, AFTER_KEY, AFTER_DASH };

struct fast {
	const unsigned char *s;
	size_t n;
	yaml_fast_emit_fn emit;
	void *ctx;
	/* The line being read: its start, the end of its content (before LF or CR LF), the start
	 * of the next line (n at the end), and its number. */
	size_t ls, le, next, line;
	/* Where reading goes on: past the current line, or past the lines a value took. */
	size_t resume, resume_line;
	struct frame st[MAX_DEPTH];
	int depth;
	int doc;  /* DOCUMENT-START was emitted */
	int root; /* the top-level mapping was opened */
	enum pending pending;
	size_t pending_col;       /* the column of the key or `-` waiting for a value */
	yaml_mark_t pending_mark; /* where its empty scalar would be */
	struct buf text;          /* a scalar that had to be decoded */
};

/* ---- the bytes ------------------------------------------------------------------------------ */

/*
 * The width of the non-ASCII character at s[0..n) when it is valid UTF-8 and one libyaml
 * reads as an ordinary printable character; else 0. Left out: C1 controls (NEL is a line
 * break to libyaml), LS and PS (line breaks), U+FEFF (skipped as a BOM at a line start),
 * U+FFFE and U+FFFF (refused by libyaml), overlong forms and surrogates.
 */
static size_t plain_char_width(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xC2 && c <= 0xDF) {
		if (n < 2 || (s[1] & 0xC0) != 0x80 || (c == 0xC2 && s[1] < 0xA0))
			return 0;
		return 2;
	}
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0;
		if (c == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
			return 0;
		if (c == 0xEF && ((s[1] == 0xBB && s[2] == 0xBF) ||
		                  (s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Whether every byte is printable ASCII, LF, CR before LF, or a character plain_char_width()
 * accepts. Runs of printable ASCII are checked eight bytes at a time.
 */
static int bytes_ok(const unsigned char *s, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	size_t i = 0, w;

	while (i < n) {
		while (i + 8 <= n) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			/* A byte below 0x20, or of 0x7F and above, sets its high bit in one term.
			 */
			if ((((x - 0x20 * ones) & ~x) | (x + ones) | x) & highs)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (s[i] >= 0x20 && s[i] < 0x7F) {
			i++;
		} else if (s[i] == '\n') {
			i++;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			i += 2;
		} else if (s[i] >= 0x80 && (w = plain_char_width(s + i, n - i)) != 0) {
			i += w;
		} else {
			return 0; /* a control character (tab included), DEL, or not UTF-8 */
		}
	}
	return 1;
}

/* The line that starts at `pos`: the end of its content and the start of the next. */
static void line_at(const struct fast *f, size_t pos, size_t *le, size_t *next)
{
	const unsigned char *nl = memchr(f->s + pos, '\n', f->n - pos);

	if (!nl) {
		*le = *next = f->n;
		return;
	}
	*le = (size_t)(nl - f->s);
	*next = *le + 1;
	if (*le > pos && f->s[*le - 1] == '\r')
		(*le)--;
}

static yaml_mark_t mark_at(size_t index, size_t line, size_t column)
{
	yaml_mark_t m;
	m.index = index;
	m.line = line;
	m.column = column;
	return m;
}

/* A mark on the current line. */
static yaml_mark_t mark(const struct fast *f, size_t pos)
{
	return mark_at(pos, f->line, pos - f->ls);
}

static int is_indicator(unsigned char c)
{
	switch (c) {
	case '-':
	case '?':
	case ':':
	case ',':
	case '[':
	case ']':
	case '{':
	case '}':
	case '#':
	case '&':
	case '*':
	case '!':
	case '|':
	case '>':
	case '\'':
	case '"':
	case '%':
	case '@':
	case '`':
		return 1;
	default:
		return 0;
	}
}

static int is_key_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int is_key_char(unsigned char c)
{
	return is_key_start(c) || c == '.' || c == '/' || c == '-';
}

/* Nothing but blanks from `i` to the end of the line, or blanks and then a comment. */
static int rest_is_blank(const struct fast *f, size_t i)
{
	size_t j = i;
	while (j < f->le && f->s[j] == ' ')
		j++;
	return j == f->le || (f->s[j] == '#' && j > i);
}

/* The offset of the `:` when a simple key starts at `p` (followed by a blank or the end of the
 * line); else 0. */
static size_t key_end(const struct fast *f, size_t p)
{
	size_t i = p;

	if (!is_key_start(f->s[i]))
		return 0;
	for (i++; i < f->le && is_key_char(f->s[i]); i++)
		;
	if (i >= f->le || f->s[i] != ':' || i - p > MAX_KEY)
		return 0;
	if (i + 1 < f->le && f->s[i + 1] != ' ')
		return 0;
	return i;
}

/* ---- the events ----------------------------------------------------------------------------- */

static int send(struct fast *f, yaml_event_t *ev, yaml_event_type_t type, yaml_mark_t a,
                yaml_mark_t b)
{
	ev->type = type;
	ev->start_mark = a;
	ev->end_mark = b;
	return f->emit(ev, f->ctx) ? -1 : 0;
}

static int emit_simple(struct fast *f, yaml_event_type_t type, yaml_mark_t a, yaml_mark_t b)
{
	yaml_event_t ev;
	memset(&ev, 0, sizeof(ev));
	switch (type) {
	case YAML_STREAM_START_EVENT:
		ev.data.stream_start.encoding = YAML_UTF8_ENCODING;
		break;
	case YAML_DOCUMENT_START_EVENT:
		/* Implicit unless it is a `---`, which has a width. */
		ev.data.document_start.implicit = a.index == b.index;
		break;
	case YAML_DOCUMENT_END_EVENT:
		ev.data.document_end.implicit = 1;
		break;
	default:
		break;
	}
	return send(f, &ev, type, a, b);
}

static int emit_start(struct fast *f, int seq, int flow, yaml_mark_t a, yaml_mark_t b)
{
	yaml_event_t ev;
	memset(&ev, 0, sizeof(ev));
	if (seq) {
		ev.data.sequence_start.implicit = 1;
		ev.data.sequence_start.style =
		    flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE;
		return send(f, &ev, YAML_SEQUENCE_START_EVENT, a, b);
	}
	ev.data.mapping_start.implicit = 1;
	ev.data.mapping_start.style = flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE;
	return send(f, &ev, YAML_MAPPING_START_EVENT, a, b);
}

static int emit_end(struct fast *f, int seq, yaml_mark_t a, yaml_mark_t b)
{
	return emit_simple(f, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, a, b);
}

static int emit_scalar(struct fast *f, const void *value, size_t len, yaml_scalar_style_t style,
                       yaml_mark_t a, yaml_mark_t b)
{
	yaml_event_t ev;
	memset(&ev, 0, sizeof(ev));
	/* The locator only reads the value; libyaml's own events own theirs. */
	ev.data.scalar.value = (yaml_char_t *)(uintptr_t)value;
	ev.data.scalar.length = len;
	ev.data.scalar.style = style;
	ev.data.scalar.plain_implicit = style == YAML_PLAIN_SCALAR_STYLE;
	ev.data.scalar.quoted_implicit = style != YAML_PLAIN_SCALAR_STYLE;
	return send(f, &ev, YAML_SCALAR_EVENT, a, b);
}

/* Opens a block collection whose first key or `-` is at `p` on the current line. */
static int open_block(struct fast *f, int seq, size_t p)
{
	if (f->depth == MAX_DEPTH)
		return -1;
	if (emit_start(f, seq, 0, mark(f, p), mark(f, p)))
		return -1;
	f->st[f->depth].col = p - f->ls;
	f->st[f->depth].seq = seq;
	f->st[f->depth].indentless = 0;
	f->depth++;
	return 0;
}

static int emit_pending(struct fast *f)
{
	f->pending = NONE;
	return emit_scalar(f, "", 0, YAML_PLAIN_SCALAR_STYLE, f->pending_mark, f->pending_mark);
}

static void set_pending(struct fast *f, enum pending what, size_t col, yaml_mark_t at)
{
	f->pending = what;
	f->pending_col = col;
	f->pending_mark = at;
}

/* ---- values ------------------------------------------------------------------------------- */

/*
 * One line's run of a plain scalar from `i`: sets `*last` past its last non-blank and
 * `*comment` when ` #` ends it. -1 at `: ` (a key where a value was, or a syntax error).
 */
static int plain_run(const struct fast *f, size_t i, size_t le, size_t *last, int *comment)
{
	const unsigned char *s = f->s;

	*last = i;
	*comment = 0;
	while (i < le) {
		if (s[i] == ' ') {
			size_t j = i + 1;
			while (j < le && s[j] == ' ')
				j++;
			if (j < le && s[j] == '#') {
				*comment = 1;
				return 0;
			}
			i = j;
			continue;
		}
		if (s[i] == ':' && (i + 1 == le || s[i + 1] == ' '))
			return -1;
		*last = ++i;
	}
	return 0;
}

/* A plain scalar from `q`, continued on the lines indented deeper than `parent`. */
static int plain(struct fast *f, size_t q, size_t parent)
{
	const unsigned char *s = f->s;
	size_t last, pos = f->next, line = f->line, blanks = 0, le, next, p;
	yaml_mark_t end;
	int comment, copied = 0;

	if (plain_run(f, q, f->le, &last, &comment))
		return -1;
	end = mark(f, last);
	while (!comment && pos < f->n) {
		line++;
		line_at(f, pos, &le, &next);
		for (p = pos; p < le && s[p] == ' '; p++)
			;
		if (p == le) { /* a blank line: kept if more of the scalar follows */
			blanks++;
			pos = next;
			continue;
		}
		if (p - pos < parent + 1 || s[p] == '#')
			break;
		if (is_indicator(s[p]))
			return -1;
		if (!copied) {
			buf_reset(&f->text);
			buf_add(&f->text, s + q, last - q);
			copied = 1;
		}
		if (plain_run(f, p, le, &last, &comment))
			return -1;
		if (!blanks)
			buf_addch(&f->text, ' ');
		for (; blanks; blanks--)
			buf_addch(&f->text, '\n');
		buf_add(&f->text, s + p, last - p);
		end = mark_at(last, line, last - pos);
		f->resume = next;
		f->resume_line = line + (next > le);
		pos = next;
	}
	if (copied)
		return emit_scalar(f, f->text.ptr, f->text.len, YAML_PLAIN_SCALAR_STYLE, mark(f, q),
		                   end);
	return emit_scalar(f, s + q, last - q, YAML_PLAIN_SCALAR_STYLE, mark(f, q), end);
}

/* Appends code point `cp` as UTF-8. */
static void add_utf8(struct buf *b, uint32_t cp)
{
	if (cp <= 0x7F) {
		buf_addch(b, (int)cp);
	} else if (cp <= 0x7FF) {
		buf_addch(b, (int)(0xC0 | (cp >> 6)));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	} else if (cp <= 0xFFFF) {
		buf_addch(b, (int)(0xE0 | (cp >> 12)));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	} else {
		buf_addch(b, (int)(0xF0 | (cp >> 18)));
		buf_addch(b, (int)(0x80 | ((cp >> 12) & 0x3F)));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	}
}

/* Decodes the escape at s[*i] (a backslash) into f->text, as libyaml does; -1 to decline. */
static int escape(struct fast *f, size_t *i)
{
	static const char simple[] = "0\0a\ab\bt\tn\nv\vf\fr\re\x1b  \"\"//\\\\";
	const unsigned char *s = f->s;
	size_t j = *i + 1, k, digits;
	uint32_t cp = 0;

	if (j >= f->le)
		return -1; /* an escaped line break: the scalar goes on, declined */
	for (k = 0; k + 1 < sizeof(simple); k += 2)
		if (s[j] == (unsigned char)simple[k]) {
			buf_addch(&f->text, simple[k + 1]);
			*i = j + 1;
			return 0;
		}
	switch (s[j]) {
	case 'N':
		cp = 0x85;
		break;
	case '_':
		cp = 0xA0;
		break;
	case 'L':
		cp = 0x2028;
		break;
	case 'P':
		cp = 0x2029;
		break;
	case 'x':
	case 'u':
	case 'U':
		digits = s[j] == 'x' ? 2 : s[j] == 'u' ? 4 : 8;
		if (f->le - (j + 1) < digits)
			return -1;
		for (k = 0; k < digits; k++) {
			static const char hex[] = "0123456789abcdef0123456789ABCDEF";
			const char *h = s[j + 1 + k] ? memchr(hex, s[j + 1 + k], 32) : NULL;
			if (!h)
				return -1;
			cp = (cp << 4) | (uint32_t)((h - hex) & 15);
		}
		if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return -1;
		j += digits;
		break;
	default:
		return -1;
	}
	add_utf8(&f->text, cp);
	*i = j + 1;
	return 0;
}

/* A single- or double-quoted scalar that closes on its own line. */
static int quoted(struct fast *f, size_t q, int single)
{
	const unsigned char *s = f->s;
	const unsigned char quote = single ? '\'' : '"';
	size_t i = q + 1, run;

	buf_reset(&f->text);
	for (;;) {
		for (run = i; i < f->le && s[i] != quote && (single || s[i] != '\\'); i++)
			;
		buf_add(&f->text, s + run, i - run);
		if (i >= f->le)
			return -1; /* it goes on on the next line: declined */
		if (s[i] == '\\') {
			if (escape(f, &i))
				return -1;
		} else if (single && i + 1 < f->le && s[i + 1] == '\'') {
			buf_addch(&f->text, '\'');
			i += 2;
		} else {
			break;
		}
	}
	if (!rest_is_blank(f, i + 1))
		return -1;
	return emit_scalar(f, f->text.ptr, f->text.len,
	                   single ? YAML_SINGLE_QUOTED_SCALAR_STYLE
	                          : YAML_DOUBLE_QUOTED_SCALAR_STYLE,
	                   mark(f, q), mark(f, i + 1));
}

/* `[]` or `{}`: an empty flow collection. */
static int empty_flow(struct fast *f, size_t q)
{
	int seq = f->s[q] == '[';

	if (q + 1 >= f->le || f->s[q + 1] != (seq ? ']' : '}') || !rest_is_blank(f, q + 2))
		return -1;
	if (emit_start(f, seq, 1, mark(f, q), mark(f, q + 1)))
		return -1;
	return emit_end(f, seq, mark(f, q + 1), mark(f, q + 2));
}

/*
 * Block-scalar state between lines: where reading is, the start of that line, its number,
 * the indentation (0 until known), and the end mark so far.
 */
struct block_state {
	size_t pos, ls, line, indent, parent, trail;
	yaml_mark_t end;
};

/*
 * libyaml's block scalar breaks: eats the indentation and the empty lines that follow, counting
 * their line feeds in `trail`, and fixes the indentation if it is not known yet. Leaves `pos`
 * at the first character of a non-empty line (or at the end of the input).
 */
static void block_breaks(const struct fast *f, struct block_state *b)
{
	size_t max = 0, le, next, col;

	b->end = mark_at(b->pos, b->line, b->pos - b->ls);
	for (;;) {
		line_at(f, b->ls, &le, &next);
		col = b->pos - b->ls;
		while ((!b->indent || col < b->indent) && b->pos < le && f->s[b->pos] == ' ')
			b->pos++, col++;
		if (col > max)
			max = col;
		if (b->pos < le || next == le) /* a non-empty line, or the end */
			break;
		b->trail++;
		b->pos = b->ls = next;
		b->line++;
		b->end = mark_at(b->pos, b->line, 0);
	}
	if (!b->indent) {
		b->indent = max;
		if (b->indent < b->parent + 1)
			b->indent = b->parent + 1;
	}
}

/* A literal or folded block scalar whose header is at `q`, under a collection at `parent`. */
static int block(struct fast *f, size_t q, size_t parent)
{
	const unsigned char *s = f->s;
	int literal = s[q] == '|', chomping = 0, lead_break = 0, leading_blank = 0;
	struct block_state b;
	size_t i = q + 1, le, next;

	if (i < f->le && (s[i] == '+' || s[i] == '-'))
		chomping = s[i++] == '+' ? 1 : -1;
	if (i < f->le && s[i] >= '0' && s[i] <= '9')
		return -1; /* an indentation indicator: declined */
	if (!rest_is_blank(f, i))
		return -1;
	memset(&b, 0, sizeof(b));
	b.parent = parent;
	if (f->next > f->le) {
		b.pos = b.ls = f->next;
		b.line = f->line + 1;
	} else { /* the header ends the input */
		b.pos = f->n;
		b.ls = f->ls;
		b.line = f->line;
	}
	buf_reset(&f->text);
	block_breaks(f, &b);
	while (b.pos - b.ls == b.indent && b.pos < f->n) {
		int trailing_blank = s[b.pos] == ' ';
		if (!literal && lead_break && !leading_blank && !trailing_blank) {
			if (!b.trail)
				buf_addch(&f->text, ' ');
		} else if (lead_break) {
			buf_addch(&f->text, '\n');
		}
		lead_break = 0;
		for (; b.trail; b.trail--)
			buf_addch(&f->text, '\n');
		leading_blank = trailing_blank;
		line_at(f, b.ls, &le, &next);
		buf_add(&f->text, s + b.pos, le - b.pos);
		if (next > le) {
			lead_break = 1;
			b.pos = b.ls = next;
			b.line++;
		} else {
			b.pos = le;
		}
		block_breaks(f, &b);
	}
	if (chomping != -1 && lead_break)
		buf_addch(&f->text, '\n');
	if (chomping == 1)
		for (; b.trail; b.trail--)
			buf_addch(&f->text, '\n');
	/* Reading goes on at the line that ended the scalar (all of it: the caller skips its
	 * indentation again), or at the end of the input. */
	f->resume = b.pos < f->n ? b.ls : f->n;
	f->resume_line = b.line;
	return emit_scalar(f, f->text.ptr, f->text.len,
	                   literal ? YAML_LITERAL_SCALAR_STYLE : YAML_FOLDED_SCALAR_STYLE,
	                   mark(f, q), b.end);
}

/* The value that starts at `q` on the current line, in a collection at column `parent`. */
static int value(struct fast *f, size_t q, size_t parent)
{
	const unsigned char *s = f->s;

	switch (s[q]) {
	case '\'':
		return quoted(f, q, 1);
	case '"':
		return quoted(f, q, 0);
	case '|':
	case '>':
		return block(f, q, parent);
	case '[':
	case '{':
		return empty_flow(f, q);
	default:
		break;
	}
	/* `-x` starts a plain scalar; the other indicators are declined. */
	if (is_indicator(s[q]) && !(s[q] == '-' && q + 1 < f->le && s[q + 1] != ' '))
		return -1;
	return plain(f, q, parent);
}

/* ---- lines -------------------------------------------------------------------------------- */

/* `key:` with the key at `p` and its `:` at `ke`, and what follows on the line. */
static int key_line(struct fast *f, size_t p, size_t ke)
{
	size_t q = ke + 1;

	if (emit_scalar(f, f->s + p, ke - p, YAML_PLAIN_SCALAR_STYLE, mark(f, p), mark(f, ke)))
		return -1;
	while (q < f->le && f->s[q] == ' ')
		q++;
	if (q == f->le || f->s[q] == '#') {
		set_pending(f, AFTER_KEY, p - f->ls, mark(f, ke + 1));
		return 0;
	}
	return value(f, q, p - f->ls);
}

/* `-` at `p` and what follows on the line. */
static int dash_line(struct fast *f, size_t p)
{
	size_t q = p + 1, ke;

	while (q < f->le && f->s[q] == ' ')
		q++;
	if (q == f->le || f->s[q] == '#') {
		set_pending(f, AFTER_DASH, p - f->ls, mark(f, p + 1));
		return 0;
	}
	if (f->s[q] == '-' && (q + 1 == f->le || f->s[q + 1] == ' '))
		return -1; /* `- -`: declined */
	if ((ke = key_end(f, q)) != 0) {
		if (open_block(f, 0, q))
			return -1;
		return key_line(f, q, ke);
	}
	return value(f, q, p - f->ls);
}

/* A line whose first token is at `p`. */
static int content_line(struct fast *f, size_t p)
{
	const unsigned char *s = f->s;
	size_t c = p - f->ls, ke = 0;
	int dash = 0;

	if (c == 0 && f->le - p >= 3 && (p + 3 == f->le || s[p + 3] == ' ') &&
	    (!memcmp(s + p, "---", 3) || !memcmp(s + p, "...", 3))) {
		/* Only a `---` before the top-level mapping. */
		if (s[p] == '.' || f->doc || !rest_is_blank(f, p + 3))
			return -1;
		f->doc = 1;
		return emit_simple(f, YAML_DOCUMENT_START_EVENT, mark(f, p), mark(f, p + 3));
	}
	if (s[p] == '-' && (p + 1 == f->le || s[p + 1] == ' '))
		dash = 1;
	else if (!(ke = key_end(f, p)))
		return -1;

	if (!f->root) {
		if (dash)
			return -1; /* a sequence at the top: declined */
		if (!f->doc && emit_simple(f, YAML_DOCUMENT_START_EVENT, mark(f, p), mark(f, p)))
			return -1;
		f->doc = f->root = 1;
		if (open_block(f, 0, p))
			return -1;
		return key_line(f, p, ke);
	}
	if (f->pending != NONE) {
		if (c > f->pending_col) { /* the value is a collection below its key or `-` */
			f->pending = NONE;
			if (open_block(f, dash, p))
				return -1;
			return dash ? dash_line(f, p) : key_line(f, p, ke);
		}
		if (f->pending == AFTER_KEY && c == f->pending_col && dash) {
			f->pending = NONE;
			if (f->depth == MAX_DEPTH ||
			    emit_start(f, 1, 0, mark(f, p), mark(f, p + 1)))
				return -1;
			f->st[f->depth].col = c;
			f->st[f->depth].seq = 1;
			f->st[f->depth].indentless = 1;
			f->depth++;
			return dash_line(f, p);
		}
		if (emit_pending(f))
			return -1;
	}
	while (f->depth) {
		const struct frame *t = &f->st[f->depth - 1];
		if (!(t->col > c || (t->indentless && t->col == c && !dash)))
			break;
		if (emit_end(f, t->seq, mark(f, p), mark(f, p)))
			return -1;
		f->depth--;
	}
	if (!f->depth || f->st[f->depth - 1].col != c || f->st[f->depth - 1].seq != dash)
		return -1; /* a line that fits no open collection, or a second top-level node */
	return dash ? dash_line(f, p) : key_line(f, p, ke);
}

/*
 * The end of the input: what is pending, the open collections, the document, the stream.
 * libyaml closes the collections indented deeper than where the input ends first, at that
 * point of the last line; then it starts a new line (unless the input ends at the start of
 * one) and closes the others there.
 */
static int finish(struct fast *f)
{
	size_t ls = f->n, col = 0, i;
	yaml_mark_t at, end;

	while (ls > 0 && f->s[ls - 1] != '\n')
		ls--;
	for (i = ls; i < f->n; i++) /* libyaml's columns count characters */
		col += (f->s[i] & 0xC0) != 0x80;
	at = mark_at(f->n, f->line, col);
	end = mark_at(f->n, f->line + (col != 0), 0);

	if (!f->root) {
		if (f->doc)
			return -1; /* `---` and nothing: declined */
		return emit_simple(f, YAML_STREAM_END_EVENT, end, end);
	}
	if (f->pending != NONE && emit_pending(f))
		return -1;
	for (; f->depth; f->depth--) {
		const struct frame *t = &f->st[f->depth - 1];
		if (emit_end(f, t->seq, t->col > col ? at : end, t->col > col ? at : end))
			return -1;
	}
	if (emit_simple(f, YAML_DOCUMENT_END_EVENT, end, end))
		return -1;
	return emit_simple(f, YAML_STREAM_END_EVENT, end, end);
}

static int run(struct fast *f)
{
	const yaml_mark_t zero = {0, 0, 0};
	size_t pos = 0, p;

	if (emit_simple(f, YAML_STREAM_START_EVENT, zero, zero))
		return -1;
	/* Invariant: `pos` starts line number `f->line`. */
	while (pos < f->n) {
		f->ls = pos;
		line_at(f, pos, &f->le, &f->next);
		f->resume = f->next;
		f->resume_line = f->line + (f->next > f->le);
		for (p = pos; p < f->le && f->s[p] == ' '; p++)
			;
		if (p < f->le && f->s[p] != '#' && content_line(f, p))
			return -1;
		pos = f->resume;
		f->line = f->resume_line;
	}
	return finish(f);
}

int yaml_fast_parse(const char *data, size_t len, yaml_fast_emit_fn emit, void *ctx)
{
	struct fast f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.s = data ? (const unsigned char *)data : (const unsigned char *)"";
	f.n = data ? len : 0;
	f.emit = emit;
	f.ctx = ctx;
	if (!bytes_ok(f.s, f.n))
		return 0;
	buf_init(&f.text, 0);
	rc = run(&f);
	buf_release(&f.text);
	return rc == 0;
}

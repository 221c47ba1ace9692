/*
 * Holds the fast event source (updater/yamlfast.h) to libyaml on one input: when the fast
 * source accepts it, libyaml must parse it without an error and both must give the same
 * events: types, scalar values, lengths and styles, the implicit flags, and the marks once
 * libyaml's character indexes are turned into byte offsets (start marks: index, line and
 * column; end marks: index and line). Shared by test_yamledit and the fuzz target.
 *
 *	char why[256];
 *	switch (yaml_events_check(data, len, why, sizeof(why))) {
 *	case 1:	 the fast source read it, and agrees with libyaml
 *	case 0:	 the fast source declined it
 *	case -1: they differ; `why` says where
 *	}
 */
#ifndef DOCKERBUMP_TESTS_YAMLEVENTS_H
#define DOCKERBUMP_TESTS_YAMLEVENTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/alloc.h"
#include "updater/yamlfast.h"

struct yaml_events {
	yaml_event_t *v;
	size_t nr, alloc;
};

/* Keeps a copy of `ev` (its scalar value only: the fast source has no anchors or tags). */
static inline void yaml_events_add(struct yaml_events *e, const yaml_event_t *ev)
{
	yaml_event_t *c;
	ALLOC_GROW(e->v, e->nr + 1, e->alloc);
	c = &e->v[e->nr++];
	*c = *ev;
	c->data = ev->data;
	if (ev->type == YAML_SCALAR_EVENT) {
		c->data.scalar.value = xmalloc(ev->data.scalar.length + 1);
		memcpy(c->data.scalar.value, ev->data.scalar.value, ev->data.scalar.length);
		c->data.scalar.anchor = c->data.scalar.tag = NULL;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		c->data.mapping_start.anchor = c->data.mapping_start.tag = NULL;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		c->data.sequence_start.anchor = c->data.sequence_start.tag = NULL;
	} else if (ev->type == YAML_DOCUMENT_START_EVENT) {
		c->data.document_start.version_directive = NULL;
		c->data.document_start.tag_directives.start = NULL;
		c->data.document_start.tag_directives.end = NULL;
	}
}

static inline void yaml_events_clear(struct yaml_events *e)
{
	size_t i;
	for (i = 0; i < e->nr; i++)
		if (e->v[i].type == YAML_SCALAR_EVENT)
			free(e->v[i].data.scalar.value);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static inline int yaml_events_record(const yaml_event_t *ev, void *ctx)
{
	yaml_events_add(ctx, ev);
	return 0;
}

/* Whether libyaml's event `b` (marks in characters, `bytes` maps them) is the fast `a`. */
static inline int yaml_event_matches(const yaml_event_t *a, const yaml_event_t *b,
                                     const size_t *bytes)
{
	if (a->type != b->type || a->start_mark.index != bytes[b->start_mark.index] ||
	    a->start_mark.line != b->start_mark.line ||
	    a->start_mark.column != b->start_mark.column ||
	    a->end_mark.index != bytes[b->end_mark.index] || a->end_mark.line != b->end_mark.line)
		return 0;
	switch (a->type) {
	case YAML_SCALAR_EVENT:
		return a->data.scalar.length == b->data.scalar.length &&
		       !memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) &&
		       a->data.scalar.style == b->data.scalar.style &&
		       a->data.scalar.plain_implicit == b->data.scalar.plain_implicit &&
		       a->data.scalar.quoted_implicit == b->data.scalar.quoted_implicit &&
		       !b->data.scalar.anchor && !b->data.scalar.tag;
	case YAML_MAPPING_START_EVENT:
		return a->data.mapping_start.style == b->data.mapping_start.style &&
		       a->data.mapping_start.implicit == b->data.mapping_start.implicit &&
		       !b->data.mapping_start.anchor && !b->data.mapping_start.tag;
	case YAML_SEQUENCE_START_EVENT:
		return a->data.sequence_start.style == b->data.sequence_start.style &&
		       a->data.sequence_start.implicit == b->data.sequence_start.implicit &&
		       !b->data.sequence_start.anchor && !b->data.sequence_start.tag;
	case YAML_DOCUMENT_START_EVENT:
		return a->data.document_start.implicit == b->data.document_start.implicit &&
		       !b->data.document_start.version_directive;
	case YAML_DOCUMENT_END_EVENT:
		return a->data.document_end.implicit == b->data.document_end.implicit;
	case YAML_STREAM_START_EVENT:
		return a->data.stream_start.encoding == b->data.stream_start.encoding;
	default:
		return 1;
	}
}

static inline int yaml_events_check(const char *data, size_t len, char *why, size_t whylen)
{
	struct yaml_events fast = {0}, slow = {0};
	yaml_parser_t parser;
	size_t *bytes, i, n = 0;
	int ret = 1, done = 0;

	if (!yaml_fast_parse(data, len, yaml_events_record, &fast)) {
		yaml_events_clear(&fast);
		return 0;
	}
	/* Character index -> byte offset (the fast source accepts only UTF-8 without a BOM). */
	bytes = xcalloc(len + 2, sizeof(*bytes));
	for (i = 0; i < len; i++)
		if (((unsigned char)data[i] & 0xC0) != 0x80)
			bytes[n++] = i;
	bytes[n] = len;
	for (i = n + 1; i < len + 2; i++)
		bytes[i] = len + 1; /* past the end: never a match */

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)(len ? data : ""), len);
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(why, whylen,
			         "the fast source accepts what libyaml refuses: %s at line %zu",
			         parser.problem ? parser.problem : "?",
			         parser.problem_mark.line + 1);
			ret = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_events_add(&slow, &ev);
		yaml_event_delete(&ev);
	}
	for (i = 0; ret == 1 && (i < fast.nr || i < slow.nr); i++) {
		const yaml_event_t *a = &fast.v[i], *b = &slow.v[i];
		if (i >= fast.nr || i >= slow.nr) {
			snprintf(why, whylen, "%zu events, libyaml %zu", fast.nr, slow.nr);
			ret = -1;
		} else if (!yaml_event_matches(a, b, bytes)) {
			snprintf(
			    why, whylen,
			    "event %zu: type %d at %zu (line %zu, column %zu) to %zu, "
			    "libyaml type %d at %zu (line %zu, column %zu) to %zu%s%.*s%s%.*s",
			    i, a->type, a->start_mark.index, a->start_mark.line,
			    a->start_mark.column, a->end_mark.index, b->type,
			    bytes[b->start_mark.index], b->start_mark.line, b->start_mark.column,
			    bytes[b->end_mark.index], a->type == YAML_SCALAR_EVENT ? ": '" : "",
			    a->type == YAML_SCALAR_EVENT ? (int)a->data.scalar.length : 0,
			    a->type == YAML_SCALAR_EVENT ? (const char *)a->data.scalar.value : "",
			    b->type == YAML_SCALAR_EVENT ? "' vs '" : "",
			    b->type == YAML_SCALAR_EVENT ? (int)b->data.scalar.length : 0,
			    b->type == YAML_SCALAR_EVENT ? (const char *)b->data.scalar.value : "");
			ret = -1;
		}
	}
	yaml_parser_delete(&parser);
	free(bytes);
	yaml_events_clear(&fast);
	yaml_events_clear(&slow);
	return ret;
}

#endif

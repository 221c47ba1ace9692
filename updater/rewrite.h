/*
 * The byte-exact rewrite of one item (SPEC §1 dockerimage45 rule, §2).
 *
 * rewrite_item() changes the tag bytes of the item's dockerimage and, when the rule applies,
 * inserts a `dockerimage45: <old image>` line right after it. It then re-parses the result
 * and checks that the new value sits on the right path, that the file is still one the editor
 * accepts, that every other value the scanner reads is unchanged, and that the length changed
 * by exactly the inserted bytes; any mismatch is an error and the file is not used.
 */
#ifndef DOCKERBUMP_UPDATER_REWRITE_H
#define DOCKERBUMP_UPDATER_REWRITE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/config.h"
#include "updater/scan.h"

/* Appends the rewritten file to `out`; `*d45_added` says whether dockerimage45 was inserted. */
int rewrite_item(struct buf *out, int *d45_added, const char *data, size_t len,
                 const struct item *it, const struct config *cfg, struct db_err *err);

/* Compares dotted numeric versions ("4.5.0" < "5.0.0" < "6.10.0"); missing parts count as 0. */
int version_compare(const char *a, const char *b);

/* Whether the SPEC §1 rule asks for a new dockerimage45 line for this item. */
int needs_dockerimage45(const struct item *it, const struct config *cfg);

#endif

/*
 * Release notes as the XSOAR SDK writes them for a docker bump (SPEC §1).
 *
 * For one pack on one branch: `currentVersion` in pack_metadata.json goes from x.y.z to
 * x.y.(z+1) with only that string's bytes changed, and ReleaseNotes/x_y_(z+1).md lists the
 * bumped items under `#### Integrations` / `#### Scripts`, one `##### <display or name>`
 * heading each, with `- Updated the Docker image to: *image:tag*.`. Branches are always built
 * from the base, so a rerun writes the same file instead of bumping twice.
 */
#ifndef DOCKERBUMP_UPDATER_RELNOTES_H
#define DOCKERBUMP_UPDATER_RELNOTES_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/scan.h"

/*
 * Appends to `out` the metadata with currentVersion raised by one revision, and stores the new
 * version ("1.2.4") in `new_version` (size >= 64). DB_EPARSE naming `path` when the file is not
 * a JSON object with a top-level "currentVersion": "x.y.z".
 */
int relnotes_bump_metadata(struct buf *out, char *new_version, const char *data, size_t len,
                           const char *path, struct db_err *err);

/* The release-note path for a pack and version: Packs/<pack>/ReleaseNotes/1_2_4.md. */
char *relnotes_path(const char *pack, const char *version);

/* Appends the release note for `items` (pointers to the pack's bumped items) to `out`. */
void relnotes_render(struct buf *out, const struct item *const *items, size_t nr);

#endif

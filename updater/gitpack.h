/*
 * Many objects written as one pack. An object database backend that, while a batch is open,
 * keeps in memory what libgit2 writes (blobs, trees, commits), each compressed as the entry it
 * will be in the pack, and then writes all of it to the repository as a single pack and its
 * index in objects/pack/, each under a temporary name and renamed, the pack first. A failure
 * at any point leaves no pack that git or libgit2 would read (they find packs by their index)
 * and nothing else behind.
 *
 * Writing loose objects costs a file (and a directory scan) per object: a run that commits
 * 300 branches writes 15,000 of them. One pack is one file.
 *
 *	struct gitpack *p;
 *	gitpack_attach(&p, odb, &err);	// once per object database; it owns `p`
 *	gitpack_begin(p);		// writes go to memory from now on
 *	... git_blob_create_from_buffer(), git_tree_create_updated(), git_commit_create() ...
 *	gitpack_write(p, repo, path, &err);	// all of it, as one pack; the batch is emptied
 *	gitpack_end(p);			// writes go to the loose objects again
 *
 * Outside a batch the backend holds nothing and passes every write on, so code that never
 * opens a batch writes loose objects as before. Safe to use from several threads.
 */
#ifndef DOCKERBUMP_UPDATER_GITPACK_H
#define DOCKERBUMP_UPDATER_GITPACK_H

#include <stddef.h>

#include <git2.h>

#include "common/err.h"

struct gitpack;

/* Adds the backend to `odb`, in front of every other one; freed with `odb`. */
int gitpack_attach(struct gitpack **out, git_odb *odb, struct db_err *err);
void gitpack_begin(struct gitpack *p);
/* The number of objects waiting to be written. */
size_t gitpack_count(struct gitpack *p);
/*
 * Writes the objects of the batch as one pack with its index into the objects of `repo`
 * (nothing when there are none) and returns 0 once both are in place; the objects are then
 * read from it. Whatever the result, the batch holds nothing afterwards: on an error (`path`
 * names the repository in the message) its objects are gone and nothing is left on disk. No
 * writes while it runs.
 */
int gitpack_write(struct gitpack *p, git_repository *repo, const char *path, struct db_err *err);
void gitpack_end(struct gitpack *p);

#endif

/*
 * The Python an item runs, for verification: the code of a split item (`<Name>.py` beside
 * the YAML) or the inline `script:` of a unified file, the files of the item's folder for the
 * `tests` level, and the repository's shared modules (CommonServerPython,
 * CommonServerUserPython, demistomock) that the server makes available to every script.
 *
 * Reads from the base commit's tree through libgit2, or from the files on disk when
 * `opts->worktree` is set.
 *
 *	struct item_code c;
 *	item_code_init(&c);
 *	if (item_code_load(&c, scan_opts, repo, item, with_files, &err) == 0)
 *		use(c.name, c.code, c.files, c.nr_files);
 *	item_code_release(&c);
 */
#ifndef DOCKERBUMP_UPDATER_ITEMCODE_H
#define DOCKERBUMP_UPDATER_ITEMCODE_H

#include <stddef.h>

#include "common/err.h"
#include "updater/gitrepo.h"
#include "updater/scan.h"
#include "updater/verify.h"

/* Where the server's shared modules live in a content repository. */
#define ITEMCODE_CSP_PATH  "Packs/Base/Scripts/CommonServerPython/CommonServerPython.py"
#define ITEMCODE_CSUP_PATH "Packs/Base/Scripts/CommonServerUserPython/CommonServerUserPython.py"
#define ITEMCODE_MOCK_PATH "Tests/demistomock/demistomock.py"

/* The item folder's files sent for the tests level, at most this many bytes together. */
#define ITEMCODE_FILES_MAX (8u << 20)

struct item_code {
	char *name;      /* the item's file name without .yml, e.g. "CheckEmailAuthenticity" */
	char *code;      /* the Python source */
	char *code_path; /* where it came from: "<dir>/<Name>.py" or the YAML's path */
	struct verify_file *files; /* the item's folder, for the tests level; paths relative */
	size_t nr_files, alloc_files;
};

struct item_modules {
	char *common_server_python; /* NULL when the repository has none */
	char *common_server_user_python;
	char *demistomock;
};

/*
 * Appends the file at repository path `path` (from the base commit, or the disk with
 * opts->worktree) to `out`. DB_ENOTFOUND when absent, DB_ETOOBIG above `cap`.
 */
int item_read_path(struct buf *out, const struct scan_opts *opts, struct gitrepo *repo,
                   const char *path, size_t cap, struct db_err *err);

void item_code_init(struct item_code *c);
void item_code_release(struct item_code *c);
/* `repo` may be NULL with opts->worktree. DB_ENOTFOUND names the missing code file. */
int item_code_load(struct item_code *out, const struct scan_opts *opts, struct gitrepo *repo,
                   const struct item *it, int with_files, struct db_err *err);

void item_modules_init(struct item_modules *m);
void item_modules_release(struct item_modules *m);
int item_modules_load(struct item_modules *out, const struct scan_opts *opts, struct gitrepo *repo,
                      struct db_err *err);

/*
 * A PATH given to `verify` (an item YAML or a folder, relative to `dir` or absolute) as the
 * scanner's include glob, repository-relative ("**" below a folder). DB_ENOTFOUND when it does
 * not exist, DB_EUSAGE when it resolves outside the repository. The caller frees `*out`.
 */
int item_path_glob(char **out, const char *dir, const char *path, struct db_err *err);

/*
 * The verification options a command runs with: the config's `verify` keys, --no-cache, and
 * the repository's modules (loaded into `mods`, which must outlive `o`).
 */
int item_verify_opts(struct verify_opts *o, struct item_modules *mods, const struct config *cfg,
                     const struct scan_opts *opts, struct gitrepo *repo, struct db_err *err);

#endif

/*
 * Scanning: every integration and script of the content repository, with its image, tag,
 * opt-in state and the status that can be known without a registry (SPEC §1, §6).
 *
 * The repository is read from git objects (the tree of the base commit; nothing is checked
 * out) or, with `worktree` set, from the files on disk. Item YAMLs are the files matching the
 * include globs and none of the exclude globs; each blob is read once. The locator results
 * are cached by blob id (content-addressed, so a hit is exact), which makes a scan of an
 * unchanged repository cheap.
 *
 *	struct scan s;
 *	scan_init(&s);
 *	if (scan_run(&s, &opts, cfg, &err) < 0) ...
 *	for (i = 0; i < s.nr; i++) use(&s.items[i]);
 *	scan_release(&s);
 */
#ifndef DOCKERBUMP_UPDATER_SCAN_H
#define DOCKERBUMP_UPDATER_SCAN_H

#include <stddef.h>

#include <git2.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/config.h"
#include "updater/group.h"

enum item_kind { ITEM_SCRIPT = 0, ITEM_INTEGRATION };

/* SPEC §6, in report order of precedence. */
enum item_status {
	STATUS_PENDING = 0, /* eligible; the target is not known yet */
	STATUS_BUMPED,
	STATUS_UP_TO_DATE,
	STATUS_OPTED_OUT,
	STATUS_NOT_OPTED_IN,
	STATUS_NOT_ALLOWED,
	STATUS_NO_IMAGE,
	STATUS_SKIPPED,
	STATUS_UNPARSEABLE,
	STATUS_VERIFY_FAILED,
	STATUS_WAITING,  /* rollout: its group's turn, or the tag's release, has not come */
	STATUS_DECLINED, /* a pull request with this target was closed unmerged */
	STATUS_ERROR,
	STATUS__COUNT
};

enum opt_in {
	OPT_DEFAULT = 0, /* a default image, no flag */
	OPT_OUT,         /* autoUpdateDockerImage is false */
	OPT_IN,          /* autoUpdateDockerImage is true */
	OPT_NOT_IN,      /* a non-default image without the flag */
	OPT_MISPLACED,   /* the flag sits under script: (honoured, with a warning) */
};

const char *item_status_name(enum item_status s);
const char *item_kind_name(enum item_kind k);
const char *opt_in_name(enum opt_in o);

struct item {
	char *path; /* repository path of the YAML */
	char *pack; /* NULL outside Packs/ */
	char *name;
	char *display;
	enum item_kind kind;
	char *image_ref;     /* the dockerimage value as written; NULL when absent */
	char *image;         /* its repository, e.g. "demisto/python3" */
	char *tag;           /* NULL when the reference has no tag */
	int image_in_script; /* found under script: (integrations) rather than at the top */
	enum opt_in opt_in;
	int flag;            /* autoUpdateDockerImage: -1 absent, 0 false, 1 true */
	char *dockerimage45; /* NULL when absent */
	struct strlist alt_images;
	char *fromversion;
	int deprecated;
	int hidden_pack;
	char *script_type; /* python, javascript, powershell, ... */
	enum item_status status;
	char *reason; /* why: for skipped, unparseable, error */
	struct strlist warnings;
	char *target;             /* target tag once resolved */
	git_oid blob;             /* the YAML's blob (git mode) */
	struct group_id group_id; /* the pack's group (group.h) */
	char group[16];           /* its name: "17", "canary" */

	/* Filled by `run`. */
	enum { D45_NONE = 0, D45_KEPT, D45_ADDED } d45;
	const char *branch;                  /* borrowed from the plan */
	const char *verify_old, *verify_new; /* outcome names; NULL when not verified */
	int regressed;
	char *verify_detail; /* the exception type or the reason of a regression */
};

struct scan_opts {
	const char *dir;       /* the content repository */
	int worktree;          /* read files on disk instead of git objects */
	const git_oid *commit; /* git mode: the base commit */
	git_repository *repo;  /* git mode */
	int no_cache;
	int shard_k, shard_n;          /* --shard K/N (1-based); 0/0 for all */
	const struct strlist *only;    /* --only globs on repository paths (may be NULL) */
	const struct strlist *exclude; /* --exclude globs */
};

struct scan {
	struct item *items;
	size_t nr, alloc;
	size_t files_read;
	size_t cache_hits;
};

void scan_init(struct scan *s);
int scan_run(struct scan *s, const struct scan_opts *opts, const struct config *cfg,
             struct db_err *err);
void scan_release(struct scan *s);

/* Reads an item's YAML again (from the blob or the file): for the rewrite and verify steps. */
int scan_read_item(struct buf *out, const struct scan_opts *opts, const struct item *it,
                   struct db_err *err);

/* Splits "host/ns/repo:tag" into repository and tag (either may be NULL); 0 or -1. */
int image_ref_split(char **repo, char **tag, const char *ref);

/* fnmatch-style glob on repository paths: '*' stays within a path segment, '**' crosses. */
int path_glob_match(const char *pattern, const char *path);

#endif

/*
 * Pull requests, the provider-neutral part: what one update branch's pull request says, and
 * which repository it belongs to (SPEC §4 step 8).
 *
 * `run` describes each pushed branch as a `struct pr_request` (borrowed strings, nothing is
 * copied) and hands it to a provider (pr_github.h), which opens or updates the pull request.
 * The text is built here so that every provider, the tests and a dry run show the same title
 * and body:
 *
 *	struct pr_request req = {.repo = "demisto/content", .head = branch, .base = "master",
 *	                         .image = "demisto/python3", .tag = "3.11.10.113941", .batch = 1,
 *	                         .labels = &cfg.pull_request.labels, .items = items, .nr_items = n};
 *	pr_format_title(&title, &req);	// Update demisto/python3 to 3.11.10.113941 (batch 1)
 *	pr_format_body(&body, &req);	// Markdown: one table per image, logs of blocked items
 *
 * Every string that comes from the content repository or a container (item names, packs,
 * paths, verification outcomes, logs) is escaped for Markdown and made valid UTF-8 before it
 * reaches the body; the body stays under GitHub's 65536-character limit (PR_BODY_MAX), the
 * logs giving way first.
 *
 * The repository is "owner/name": `pull_request.repo` from the config, else parsed from the
 * push remote's URL by pr_repo_from_remote().
 */
#ifndef DOCKERBUMP_UPDATER_PULLREQ_H
#define DOCKERBUMP_UPDATER_PULLREQ_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/config.h"

/* The longest body pr_format_body() writes, in bytes (GitHub counts characters; bytes are
 * never fewer). */
#define PR_BODY_MAX 60000

/* One item of the batch, bumped or blocked by verification. */
struct pr_item {
	const char *name;    /* display name, else the item's name */
	const char *path;    /* repository path of its YAML */
	const char *pack;    /* may be NULL */
	const char *image;   /* "demisto/python3"; NULL: the request's image */
	const char *old_tag; /* the tag before the bump */
	const char *new_tag; /* NULL: the request's tag */
	/* Verification outcomes in the old and the new image ("ok", "exception (ImportError)",
	 * ...); NULL when verification was off for this item. */
	const char *verify_old;
	const char *verify_new;
	int blocked;     /* the new outcome regressed: the item is not in the branch */
	const char *log; /* blocked items: a short excerpt of the new image's log; may be NULL */
};

/* One update branch and what its pull request should say. All strings are borrowed. */
struct pr_request {
	const char *repo;  /* "owner/name" */
	const char *head;  /* the update branch, "dockerbump/demisto-python3-batch-1" */
	const char *base;  /* the branch the pull request merges into */
	const char *image; /* "demisto/python3" */
	const char *tag;   /* the target tag */
	int batch;         /* 1-based batch number named in the title; 0: none */
	int draft;         /* open as a draft (existing pull requests keep their state) */
	const struct strlist *labels; /* may be NULL: no labels */
	const struct pr_item *items;
	size_t nr_items;
};

enum pr_outcome {
	PR_CREATED = 1, /* a new pull request was opened */
	PR_UPDATED,     /* an open one was found and its title, body, base or labels changed */
	PR_UNCHANGED,   /* an open one already said all this: nothing was written */
};

/* What happened to one branch's pull request. `url` is the pull request's web page. */
struct pr_result {
	long number;
	char *url;
	enum pr_outcome outcome;
};

#define PR_RESULT_INIT                                                                             \
	{                                                                                          \
		0, NULL, 0                                                                         \
	}

void pr_result_release(struct pr_result *res);
/* "created", "updated", "unchanged" (for logs and the report). */
const char *pr_outcome_name(enum pr_outcome outcome);

/* Appends the title, e.g. "Update demisto/python3 to 3.11.10.113941 (batch 1)". */
void pr_format_title(struct buf *out, const struct pr_request *req);
/* Appends the Markdown body: per image, a table of item, pack, old tag, new tag and
 * verification outcome; then, collapsed, the logs of blocked items. At most PR_BODY_MAX
 * bytes. */
void pr_format_body(struct buf *out, const struct pr_request *req);

/*
 * Appends `s` as Markdown inline text, safe inside a table cell: the characters inline
 * Markdown gives a meaning to (`\` `` ` `` `*` `_` `[` `]` `|` `~`) are backslash-escaped,
 * `<` `>` `&` become entities (no HTML can open), line breaks and other control characters
 * become spaces, and invalid UTF-8 becomes U+FFFD.
 */
void pr_md_escape(struct buf *out, const char *s);

/* A GitHub repository. The fields belong to the struct; pr_repo_release() frees them. */
struct pr_repo {
	char *host;  /* "github.com"; NULL when parsed from "owner/name" alone */
	char *owner; /* "demisto" */
	char *name;  /* "content" */
	char *full;  /* "demisto/content" */
};

#define PR_REPO_INIT                                                                               \
	{                                                                                          \
		NULL, NULL, NULL, NULL                                                             \
	}

void pr_repo_release(struct pr_repo *repo);
/* Parses "owner/name" (pull_request.repo). DB_EUSAGE names the value when it is not one. */
int pr_repo_parse(struct pr_repo *out, const char *owner_name, struct db_err *err);
/*
 * Parses the repository out of a git remote URL: "https://github.com/o/r.git",
 * "http://host/o/r", "git@github.com:o/r.git", "ssh://git@host[:port]/o/r", on github.com or a
 * GitHub Enterprise host. Anything else (one or three path segments, git://, file://, local
 * paths) is DB_EUSAGE naming the URL with any user and password removed.
 */
int pr_repo_from_remote(struct pr_repo *out, const char *url, struct db_err *err);

#endif

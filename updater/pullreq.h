/*
 * Pull requests, the provider-neutral part: what one bot branch's pull request (GitHub) or
 * merge request (GitLab) says, the machine marker that lets the bot read its own pull
 * requests back, and which repository they belong to (SPEC §4 steps 5 and 10).
 *
 * The branch unit is a pack group (`dockerbump/group-17`, `dockerbump/canary`): one pull
 * request carries every pending bump of its packs, on one or several images and targets.
 * `run` describes it as a `struct pr_request` (borrowed strings, nothing is copied) and builds
 * the text here, so that every provider, the tests and a dry run show the same title and body:
 *
 *	struct pr_request req = {.repo = "demisto/content", .head = "dockerbump/group-17",
 *	                         .base = "master", .group = "17", .items = items, .nr_items = n,
 *	                         .body_max = forge_body_max(forge)};
 *	pr_format_title(&title, &req);	// Update demisto/python3 to 3.11.10.113941 (group 17)
 *	pr_format_body(&body, &req);	// Markdown table, logs of blocked items, the marker
 *	...
 *	pr_format_close_comment(&comment, "every item of this group is up to date on master");
 *
 * The body ends with a machine marker, an HTML comment that GitHub and GitLab do not render:
 *
 *	<!-- dockerbump:v1 {"branch":"dockerbump/group-17","group":"17","base":"master",
 *	                    "images":{"demisto/python3":"3.11.10.113941"}} -->
 *
 * It names the branch, the group, the base and every image with the target(s) the pull
 * request carries (blocked items are not in the branch, so not in the marker; an image with
 * several targets maps to a list). Reading the bot's pull requests back (forge.h) relies on
 * it, and the forge is untrusted: pr_marker_parse() takes any body, reads only the last
 * marker, caps its size, parses it with jansson and validates every value (branch and group
 * names, image names, tag names) before anything reaches the caller.
 *
 * Every string that comes from the content repository or a container (item names, packs,
 * paths, verification outcomes, logs) is escaped for Markdown and made valid UTF-8 before it
 * reaches the body; the body stays under `body_max` bytes (GitHub takes 65,536 characters,
 * GitLab 1,000,000), the rows and logs giving way first, never the marker.
 *
 * The repository is "owner/name" on GitHub and "group[/subgroup...]/name" on GitLab:
 * `pull_request.repo` from the config, else parsed from the push remote's URL
 * (forge_repo_from_remote() in forge.h; pr_repo_from_remote() below for GitHub).
 */
#ifndef DOCKERBUMP_UPDATER_PULLREQ_H
#define DOCKERBUMP_UPDATER_PULLREQ_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/config.h"

/* The longest body pr_format_body() writes by default, in bytes: GitHub's limit is 65,536
 * characters, and bytes are never fewer than characters. */
#define PR_BODY_MAX 60000
/* GitLab's description limit (characters; the same bound in bytes is safe). */
#define PR_BODY_MAX_GITLAB 1000000

/* One item of the group, bumped or blocked by verification. */
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

/* One bot branch and what its pull request should say. All strings are borrowed. */
struct pr_request {
	const char *repo;  /* "owner/name" (GitLab: "group/.../name") */
	const char *head;  /* the bot branch, "dockerbump/group-17" */
	const char *base;  /* the branch the pull request merges into, "master" */
	const char *group; /* "17", "canary" */
	int draft;         /* open as a draft (existing pull requests keep their state) */
	const struct strlist *labels; /* may be NULL: no labels */
	const struct pr_item *items;
	size_t nr_items;
	/* Defaults for items that name no image or new tag (a one-image request). */
	const char *image;
	const char *tag;
	size_t body_max; /* the body's limit in bytes; 0: PR_BODY_MAX */
};

/*
 * Appends the title: short and stable, the same plan giving the same title whatever the
 * order of its items. Images in name order, each with its targets (newest first); more than
 * two image:target pairs are summed up. Examples:
 *	Update demisto/python3 to 3.11.10.113941 (group 17)
 *	Update demisto/python to 2.7.18.24399 and demisto/python3 to 3.11.10.113941 (canary)
 *	Update demisto/python3 to 3.11.10.113941 and 3 more targets (group 5)
 */
void pr_format_title(struct buf *out, const struct pr_request *req);
/*
 * Appends the Markdown body: one line of summary, a table of item, pack, image, old tag, new
 * tag and verification outcome (rows ordered by pack, then path), then, collapsed, the logs of
 * blocked items, a footer, and the machine marker last. At most `req->body_max` bytes.
 */
void pr_format_body(struct buf *out, const struct pr_request *req);
/* Appends only the marker line ("<!-- dockerbump:v1 {...} -->\n"). */
void pr_format_marker(struct buf *out, const struct pr_request *req);
/* Appends a short closing comment: why the bot closes the pull request (`reason`, plain text
 * from the caller, escaped here) and that its branch goes away. */
void pr_format_close_comment(struct buf *out, const char *reason);

/*
 * Appends `s` as Markdown inline text, safe inside a table cell: the characters inline
 * Markdown gives a meaning to (`\` `` ` `` `*` `_` `[` `]` `|` `~`) are backslash-escaped,
 * `<` `>` `&` become entities (no HTML can open), line breaks and other control characters
 * become spaces, and invalid UTF-8 becomes U+FFFD.
 */
void pr_md_escape(struct buf *out, const char *s);

/* --- the marker ----------------------------------------------------------------------- */

/* The most bytes of marker JSON pr_marker_parse() reads, and the most images it keeps. */
#define PR_MARKER_MAX      65536
#define PR_MARKER_MAX_TAGS 256

struct pr_marker_target {
	char *image; /* valid (image_name_valid) */
	char *tag;   /* valid (tag_name_valid) */
};

/* A parsed marker; every string is owned and validated. */
struct pr_marker {
	char *branch;               /* a valid git branch name */
	char *group;                /* [A-Za-z0-9._-], at most 64 bytes */
	char *base;                 /* a valid git branch name, or NULL when the marker has none */
	struct pr_marker_target *v; /* ordered by image, then tag */
	size_t nr;
};

#define PR_MARKER_INIT                                                                             \
	{                                                                                          \
		NULL, NULL, NULL, NULL, 0                                                          \
	}

/*
 * Reads the last marker of `body` (`len` bytes, any content). 0 and `*out` filled; DB_ENOTFOUND
 * when the body has no marker; DB_EPARSE when the last one is malformed, too big or carries
 * an invalid value (the message says which, never quoting more than a short, printable
 * excerpt). On error `*out` is left empty.
 */
int pr_marker_parse(struct pr_marker *out, const char *body, size_t len, struct db_err *err);
void pr_marker_release(struct pr_marker *m);
/* Deep copy; `dst` is overwritten (release it first). */
void pr_marker_copy(struct pr_marker *dst, const struct pr_marker *src);

/* --- repositories ------------------------------------------------------------------- */

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

/*
 * The same parsing for any number of path segments: `*path` gets "a/b/c" (no ".git", no
 * slashes at either end) when the URL's path has between `min_segs` and `max_segs` valid
 * segments; `kind` names what was expected in the message ("GitHub repository"), `forms`
 * shows the accepted forms. `*path` belongs to the caller.
 */
int pr_remote_path(char **path, const char *url, size_t min_segs, size_t max_segs, const char *kind,
                   const char *forms, struct db_err *err);
/*
 * Checks a repository path given in the config: between `min_segs` and `max_segs` valid
 * segments separated by '/'. DB_EUSAGE naming the value and `forms` otherwise.
 */
int pr_repo_path_check(const char *path, size_t min_segs, size_t max_segs, const char *forms,
                       struct db_err *err);

#endif

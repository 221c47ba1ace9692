/*
 * The forge: GitHub or GitLab, behind one provider-neutral interface (SPEC §4 steps 1, 5
 * and 10). Everything the bot asks of the forge goes through here: the preflight read, the
 * bot's own pull requests read back (its only state), opening, updating and closing them,
 * and the dashboard issue. `--pr github` and `--pr gitlab` differ only in the backend
 * (pr_github.c, pr_gitlab.c) that forge_new() picks from its table.
 *
 *	struct forge *f;
 *	struct forge_prs prs = {0};
 *	char *base;
 *	forge_new(&f, &(struct forge_opts){.provider = FORGE_GITLAB, .repo = "grp/sub/content"},
 *	          &err);
 *	forge_check(f, &base, &err);                         // one authenticated read
 *	forge_list_prs(f, &prs, "docker-image-auto-update", "dockerbump/", &err);
 *	...decide...
 *	forge_pr_create(f, &pr, &(struct forge_pr_spec){.head = "dockerbump/group-17",
 *	                .base = base, .title = t, .body = b, .labels = &labels}, &err);
 *	forge_pr_update(f, &prs.v[i], &spec, &changed, &err); // writes only what differs
 *	forge_pr_close(f, &prs.v[j], comment, &err);
 *	forge_dashboard(f, &issue, "dockerbump dashboard", body, &labels, &changed, &err);
 *	forge_prs_release(&prs);
 *	forge_free(f);
 *
 * Reading the bot's pull requests. GitHub's pulls list cannot filter by label (a real content
 * repository has ~40k pull requests), so the GitHub backend reads the issues list filtered by
 * label (`state=all`, 100 a page: one request per page), where a pull request carries
 * `pull_request.merged_at`, and takes the head branch from the machine marker the bot writes
 * in every body (pullreq.h). Before it writes to a pull request found that way it confirms the
 * real head with `GET /repos/o/r/pulls/{n}` and refuses (DB_ECONFLICT) when the head is not
 * the marker's branch, comes from a fork, or the pull request is no longer open. GitLab
 * filters merge requests by label itself and names `source_branch`; merge requests from a fork
 * are never listed. On GitHub the labelled listing also holds the dashboard issue, so a quiet
 * night reads one page per 100 pull requests and nothing else; GitLab needs one more read
 * (its issues). Pages follow the documented pagination (`Link: rel="next"`, GitLab's
 * `X-Next-Page`), at most `max_pages`, the next URL kept to the API's origin, a loop refused.
 *
 * The token is read from the environment variable `token_env` when the client is made. It is
 * sent to the API host only (GitHub `Authorization: Bearer`, GitLab `PRIVATE-TOKEN`): an answer
 * that comes from another host after a redirect is refused. It never appears in a log line,
 * an error message or a result.
 *
 * Rate limits (GitHub's secondary limits and an exhausted primary limit, GitLab's 429): a 403
 * or 429 with `retry-after`, or with a remaining count of 0 and a reset time, or one whose
 * message names a rate limit, is retried after the wait it asks for (at least a minute when
 * it names none, doubling), each wait capped at `rate_wait_cap_ms`, at most `rate_retries`
 * times; a wait longer than what is left of `rate_wait_budget_ms` is an error at once.
 * Connection errors, 429 and 5xx are also retried by the HTTP layer (common/http.h).
 * Calls on one client are serialised, and writes are `write_gap_ms` apart, as GitHub asks of
 * integrations (tests against the stand-ins may set DOCKERBUMP_TEST_WRITE_GAP_MS; tests only).
 *
 * Errors: DB_EAUTH when the token is missing, refused (401) or lacks a permission (403 that
 * is not a rate limit, or a preflight that finds no push access); DB_ENOTFOUND when the
 * repository or project is not found (404, naming it and the host); DB_ECONFLICT when the
 * forge refuses a write (GitHub 422, GitLab 400/409/422: a branch that does not exist, no
 * commits between base and head) or the bot refuses to touch a pull request that is not its
 * own; DB_ETOOBIG for a body over the provider's limit; DB_ENET when the server keeps
 * failing or rate-limiting (naming the URL without its query); DB_EPARSE for an answer that
 * is not what the API documents; DB_EUSAGE for bad options or arguments.
 */
#ifndef DOCKERBUMP_UPDATER_FORGE_H
#define DOCKERBUMP_UPDATER_FORGE_H

#include <stddef.h>

#include "common/err.h"
#include "common/http.h"
#include "updater/config.h"
#include "updater/pullreq.h"

enum forge_provider { FORGE_GITHUB = 1, FORGE_GITLAB };
enum forge_pr_state { FORGE_PR_OPEN = 0, FORGE_PR_MERGED, FORGE_PR_CLOSED };

struct forge_opts {
	enum forge_provider provider;
	const char *api_url;      /* NULL: https://api.github.com / https://gitlab.com/api/v4 */
	const char *token_env;    /* NULL: GITHUB_TOKEN / GITLAB_TOKEN */
	const char *repo;         /* GitHub "owner/name"; GitLab "group[/subgroup...]/name" */
	struct http_opts http;    /* timeouts and transport retries; zero fields take defaults */
	int rate_retries;         /* retries after a rate-limit answer; default 4 */
	long rate_wait_cap_ms;    /* one rate-limit wait at most; default 120000 */
	long rate_wait_budget_ms; /* all rate-limit waits of one call; default 600000 */
	long write_gap_ms;        /* pause between two writes; default 1000, negative: none */
	int max_pages;            /* pages of one listing at most; default 100 (10,000 entries) */
};

/* One pull request (GitHub) or merge request (GitLab). Owned strings; forge_pr_release(). */
struct forge_pr {
	long number;       /* GitHub number, GitLab iid */
	char *url;         /* web page */
	char *head, *base; /* branch names (never "origin/main"); base NULL when unknown */
	char *title, *body;
	enum forge_pr_state state;
	long long created_at, updated_at, merged_at, closed_at; /* unix s, 0: unknown */
	struct strlist labels;
	int draft;
	/* The machine marker of the body, when it has a valid one (marker.branch NULL
	 * otherwise): the group and the image targets the pull request carries. */
	struct pr_marker marker;
};

struct forge_prs {
	struct forge_pr *v;
	size_t nr, alloc;
};

/* What a pull request should say. Borrowed strings. */
struct forge_pr_spec {
	const char *head, *base, *title, *body;
	const struct strlist *labels; /* may be NULL */
	int draft;                    /* at creation only */
};

struct forge_issue {
	long number; /* GitHub number, GitLab iid */
	char *url;
	char *title;
	char *body;
};

/* Requests one client sent (attempts, retries included), for tests and benchmarks. */
struct forge_stats {
	unsigned long reads, writes; /* API requests by method: GET, and anything else */
	unsigned long pages;         /* listing pages read */
};

struct forge;

/*
 * `*out` belongs to the caller; free it with forge_free(). DB_EAUTH when the token variable is
 * unset or empty; DB_EUSAGE when `api_url` is not an http(s) URL without credentials, or
 * `repo` is not a repository path for the provider.
 */
int forge_new(struct forge **out, const struct forge_opts *opts, struct db_err *err);
void forge_free(struct forge *f);
/* "github", "gitlab"; NULL for anything else. */
const char *forge_provider_name(enum forge_provider p);
/* FORGE_GITHUB, FORGE_GITLAB from "github", "gitlab"; 0 for anything else. */
enum forge_provider forge_provider_parse(const char *name);
/* The longest body the provider takes, in bytes (pr_request.body_max). */
size_t forge_body_max(enum forge_provider p);
void forge_get_stats(const struct forge *f, struct forge_stats *out);

/*
 * Preflight: ONE authenticated read; the repository exists and the token may push and open
 * pull requests there (GitHub GET /repos/o/r `permissions.push`; GitLab GET /projects/:id,
 * Developer or higher). Sets *default_branch (the caller frees it).
 */
int forge_check(struct forge *f, char **default_branch, struct db_err *err);

/*
 * Every pull/merge request of the bot in every state (open, merged with merged_at, closed
 * unmerged), found by `label` AND a head branch under `prefix`, newest first. `out` is
 * appended to (it may start zeroed); the caller releases it with forge_prs_release().
 */
int forge_list_prs(struct forge *f, struct forge_prs *out, const char *label, const char *prefix,
                   struct db_err *err);

/*
 * Opens a pull request saying `s`, with its labels, and fills `*out` (the caller releases it).
 * When the forge says one is already open for `s->head` (another run won a race, or a human
 * took the label off), that one is found and brought to say `s` instead.
 */
int forge_pr_create(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
                    struct db_err *err);
/*
 * An open one brought to say `s` (title, body, base; missing labels added, never removed;
 * draft state left alone); writes only what differs; *changed = 1 if it wrote. `pr` is
 * updated to what the forge now holds. `s->head` must be `pr->head`.
 */
int forge_pr_update(struct forge *f, struct forge_pr *pr, const struct forge_pr_spec *s,
                    int *changed, struct db_err *err);
/* A comment saying `comment`, then closed (not merged). A pull request that is no longer
 * open is left alone (0, nothing written); `pr->state` says what it is. */
int forge_pr_close(struct forge *f, struct forge_pr *pr, const char *comment, struct db_err *err);

/*
 * The dashboard: the bot's open issue with `title` carrying `labels` (at least one: the issue
 * is found by them); created when missing, its body edited only when different, missing labels
 * added; *changed = 1 if it wrote. `out` belongs to the caller (forge_issue_release()).
 */
int forge_dashboard(struct forge *f, struct forge_issue *out, const char *title, const char *body,
                    const struct strlist *labels, int *changed, struct db_err *err);

/*
 * A label that exists in the repository: created with `color` ("RRGGBB", hex without '#')
 * and `description` (may be NULL) when missing; *created = 1 if it wrote. Applying a missing
 * label to a pull request also creates it (grey), so this is only for a chosen colour.
 * DB_EUSAGE when the forge refuses the colour.
 */
int forge_label_ensure(struct forge *f, const char *name, const char *color,
                       const char *description, int *created, struct db_err *err);

/* The repository of a git remote URL for this provider (GitLab: nested groups). `*out`
 * belongs to the caller. */
int forge_repo_from_remote(char **out, enum forge_provider p, const char *url, struct db_err *err);

void forge_pr_release(struct forge_pr *pr);
void forge_prs_release(struct forge_prs *l);
void forge_issue_release(struct forge_issue *i);

#endif

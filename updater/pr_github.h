/*
 * GitHub and GitHub Enterprise (`--pr github`): the GitHub backend of forge.h, and the
 * one-call-per-branch flow `run` used before the forge interface (pr_github_submit()).
 *
 * The backend (pr_github_backend, picked by forge_new()) speaks the REST API
 * (`X-GitHub-Api-Version: 2022-11-28`, `Authorization: Bearer`):
 *	preflight        GET  /repos/{o}/{r}                   permissions.push, default_branch
 *	list             GET  /repos/{o}/{r}/issues?labels=L&state=all&per_page=100 (+ pages):
 *	                 pull requests carry `pull_request.merged_at`; the head comes from the
 *	                 marker (GET /repos/{o}/{r}/pulls/{n} for a body without one)
 *	create           POST /repos/{o}/{r}/pulls, then POST /repos/{o}/{r}/issues/{n}/labels;
 *	                 a 422 "already exists" finds the open one
 *	                 (GET /repos/{o}/{r}/pulls?head={o}:{branch}&state=open) and updates it
 *	update, close    GET /repos/{o}/{r}/pulls/{n} first: the real head must be the bot's
 *	                 branch of this repository, else nothing is written (DB_ECONFLICT);
 *	                 PATCH /repos/{o}/{r}/pulls/{n}; POST .../issues/{n}/comments
 *	dashboard        found in the labelled listing (or GET .../issues?labels=...&state=open);
 *	                 POST /repos/{o}/{r}/issues, PATCH /repos/{o}/{r}/issues/{n}
 *	labels           GET /repos/{o}/{r}/labels/{name}, POST /repos/{o}/{r}/labels
 *
 * pr_github_submit() keeps the old calling sequence working until `run` moves to forge.h:
 *
 *	struct pr_github *gh;
 *	struct pr_result res = PR_RESULT_INIT;
 *	pr_github_new(&gh, &(struct pr_github_opts){.api_url = ..., .token_env = ...}, &err);
 *	for each branch:
 *		pr_github_submit(gh, &res, &req, &err);	// see pullreq.h for `req`
 *		report(res.number, res.url, pr_outcome_name(res.outcome));
 *		pr_result_release(&res);
 *	pr_github_free(gh);
 *
 * It finds the branch's open pull request (`GET /repos/{o}/{r}/pulls?head={o}:{branch}`),
 * opens one when there is none, and otherwise updates it (title, body, base, missing labels)
 * only when it says something else. Errors, rate limits and the token's handling are
 * forge.h's.
 */
#ifndef DOCKERBUMP_UPDATER_PR_GITHUB_H
#define DOCKERBUMP_UPDATER_PR_GITHUB_H

#include "common/err.h"
#include "common/http.h"
#include "updater/pullreq.h"

/* The backend's table, for forge.c. */
struct forge_backend;
extern const struct forge_backend pr_github_backend;

struct pr_github_opts {
	const char *api_url;      /* default "https://api.github.com"; GHE: "https://HOST/api/v3" */
	const char *token_env;    /* the variable holding the token; default "GITHUB_TOKEN" */
	struct http_opts http;    /* timeouts and transport retries; zero fields take defaults */
	int rate_retries;         /* retries after a rate-limit answer; default 4 */
	long rate_wait_cap_ms;    /* one rate-limit wait at most; default 120000 */
	long rate_wait_budget_ms; /* all rate-limit waits of one call; default 600000 */
	long write_gap_ms;        /* pause between two writes; default 1000, negative: none */
};

struct pr_github;

/*
 * `*out` belongs to the caller; free it with pr_github_free(). `opts` may be NULL (all
 * defaults). DB_EAUTH when the token variable is unset or empty, DB_EUSAGE when `api_url` is
 * not an http(s) URL.
 */
int pr_github_new(struct pr_github **out, const struct pr_github_opts *opts, struct db_err *err);
void pr_github_free(struct pr_github *gh);

/*
 * Opens or updates the pull request of `req->head` in `req->repo`. `out` is filled on success
 * and belongs to the caller (pr_result_release()); on error it is left empty.
 */
int pr_github_submit(struct pr_github *gh, struct pr_result *out, const struct pr_request *req,
                     struct db_err *err);

#endif

/*
 * Pull requests on GitHub and GitHub Enterprise (`--pr github`, SPEC §4 step 8).
 *
 * One client per run; `run` calls pr_github_submit() once per pushed branch:
 *
 *	struct pr_github *gh;
 *	struct pr_result res = PR_RESULT_INIT;
 *	if (pr_github_new(&gh, &(struct pr_github_opts){.api_url = cfg.pull_request.api_url,
 *	                  .token_env = cfg.pull_request.token_env}, &err) < 0) ...
 *	for each branch:
 *		pr_github_submit(gh, &res, &req, &err);	// see pullreq.h for `req`
 *		report(res.number, res.url, pr_outcome_name(res.outcome));
 *		pr_result_release(&res);
 *	pr_github_free(gh);
 *
 * pr_github_submit() finds the branch's open pull request
 * (`GET /repos/{o}/{r}/pulls?head={o}:{branch}&state=open`). When there is none it opens one
 * (`POST /repos/{o}/{r}/pulls`); a 422 "A pull request already exists" (another run won a
 * race) is resolved by finding that one. An open pull request is updated
 * (`PATCH /repos/{o}/{r}/pulls/{n}`: title, body, and base when it moved) only when it says
 * something else, so a rerun with the same plan writes nothing and a newer tag updates the
 * same pull request. Configured labels it lacks are added
 * (`POST /repos/{o}/{r}/issues/{n}/labels`); labels are never removed, and the draft state
 * of an existing pull request is left alone.
 *
 * The token is read from the environment variable named by `token_env` when the client is
 * made. It is sent as `Authorization: Bearer` to the API host only: an answer that comes from
 * another host after a redirect is refused (libcurl already withholds the header from other
 * hosts). It never appears in a log line, an error message or a result.
 *
 * Rate limits (GitHub's "secondary rate limits" and an exhausted primary limit): a 403 or 429
 * with `retry-after`, or with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or one whose
 * message names a rate limit, is retried after the wait it asks for (at least a minute when it
 * names none, doubling), each wait capped at `rate_wait_cap_ms`, at most `rate_retries` times;
 * a wait longer than what is left of `rate_wait_budget_ms` is an error at once, naming the
 * wait asked for. Connection errors, 429 and 5xx are also retried by the HTTP layer
 * (common/http.h).
 *
 * Writes go out one at a time: the client serialises pr_github_submit() calls with a lock
 * and pauses `write_gap_ms` between writes, as GitHub asks of integrations.
 *
 * Errors: DB_EAUTH when the token is missing or refused (401: "github at 'HOST' refused the
 * token (401)"; 403 without a rate limit: the token lacks a permission); DB_ENOTFOUND when
 * the repository is not found (404, naming owner/name and the host); DB_ECONFLICT for another
 * 422 (GitHub's message, e.g. no commits between base and head); DB_ENET when the server
 * keeps failing or rate-limiting (naming the URL without its query); DB_EPARSE for an answer
 * that is not the JSON GitHub sends.
 */
#ifndef DOCKERBUMP_UPDATER_PR_GITHUB_H
#define DOCKERBUMP_UPDATER_PR_GITHUB_H

#include "common/err.h"
#include "common/http.h"
#include "updater/pullreq.h"

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

/*
 * GitHub and GitHub Enterprise (`--pr github`): the GitHub backend of forge.h.
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
 * Errors, rate limits and the token's handling are forge.h's.
 */
#ifndef DOCKERBUMP_UPDATER_PR_GITHUB_H
#define DOCKERBUMP_UPDATER_PR_GITHUB_H

/* The backend's table, for forge.c. */
struct forge_backend;
extern const struct forge_backend pr_github_backend;

#endif

/*
 * GitLab, gitlab.com or self-hosted (`--pr gitlab`): the GitLab backend of forge.h, through
 * the REST API v4 (`PRIVATE-TOKEN` header; api_url such as "https://gitlab.example.com/api/v4").
 *
 * The project is addressed by its URL-encoded path ("group/sub/content" ->
 * /projects/group%2Fsub%2Fcontent), nested groups and all:
 *	preflight        GET  /projects/:id                    default_branch, permissions
 *	                 (Developer, access level 30, or higher: push and open merge requests)
 *	list             GET  /projects/:id/merge_requests?labels=L&state=all&per_page=100
 *	                 (+ pages by Link or X-Next-Page); `source_branch` is the head, merge
 *	                 requests from a fork are left out
 *	create           POST /projects/:id/merge_requests (source_branch, target_branch, title,
 *	                 description, labels); a draft is opened with the "Draft: " title prefix,
 *	                 the documented way; a 409 (one is open for the branch) finds that one
 *	                 (?source_branch=...&state=opened) and updates it
 *	update, close    GET /projects/:id/merge_requests/:iid first (the real source branch and
 *	                 project, still open); PUT (title, description, target_branch,
 *	                 add_labels; state_event=close); POST .../notes for the closing comment.
 *	                 A draft keeps its "Draft: " prefix when its title is rewritten.
 *	dashboard        GET /projects/:id/issues?labels=...&state=opened&search=TITLE&in=title;
 *	                 POST /projects/:id/issues, PUT /projects/:id/issues/:iid
 *	labels           GET /projects/:id/labels/:name, POST /projects/:id/labels
 *
 * Descriptions may hold 1,000,000 characters (PR_BODY_MAX_GITLAB). GitLab answers a missing
 * branch with 400, a second open merge request for a branch with 409, a bad label colour with
 * 400: forge.h turns them into DB_ECONFLICT (DB_EUSAGE for the colour).
 */
#ifndef DOCKERBUMP_UPDATER_PR_GITLAB_H
#define DOCKERBUMP_UPDATER_PR_GITLAB_H

/* The backend's table, for forge.c. */
struct forge_backend;
extern const struct forge_backend pr_gitlab_backend;

#endif

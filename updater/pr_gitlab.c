#include "updater/pr_gitlab.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/forge.h"
#include "updater/forge_int.h"
#include "common/banned.h"

/* GitLab's roles: Developer may push branches and open merge requests. */
#define ACCESS_DEVELOPER 30
#define DRAFT_PREFIX     "Draft: "

static void gl_set_repo(struct forge *f)
{
	char *id = http_escape(f->repo);

	f->repo_path = xasprintf("/projects/%s", id);
	free(id);
}

/* The title without a draft prefix GitLab recognises ("Draft:", "[Draft]", "(Draft)", any
 * case), for comparing with what the bot wants. */
static const char *undrafted(const char *title)
{
	static const char *const prefixes[] = {"draft:", "[draft]", "(draft)"};
	size_t i, n;

	for (i = 0; title && i < sizeof(prefixes) / sizeof(*prefixes); i++) {
		n = strlen(prefixes[i]);
		if (!strncasecmp(title, prefixes[i], n)) {
			title += n;
			while (*title == ' ')
				title++;
			return title;
		}
	}
	return title;
}

static int gl_pr_foreign(const struct forge *f, const json_t *mr)
{
	const json_t *src = json_object_get(mr, "source_project_id");
	const json_t *dst = json_object_get(mr, "target_project_id");

	(void)f;
	return src && dst && json_integer_value(src) != json_integer_value(dst);
}

static long gl_pr_number(const json_t *mr)
{
	return (long)json_integer_value(json_object_get(mr, "iid"));
}

static const char *gl_pr_head(const json_t *mr)
{
	return forge_json_str(mr, "source_branch");
}

/* Fills `pr` from a merge request object; -1 when it is unusable. */
static int pr_from_mr(struct forge_pr *pr, const json_t *m)
{
	const char *state = forge_json_str(m, "state");
	json_int_t iid = json_integer_value(json_object_get(m, "iid"));

	if (iid <= 0 || !state || !forge_json_str(m, "source_branch"))
		return -1;
	pr->number = (long)iid;
	forge_set_str(&pr->url, forge_json_str(m, "web_url"));
	forge_set_str(&pr->head, forge_json_str(m, "source_branch"));
	forge_set_str(&pr->base, forge_json_str(m, "target_branch"));
	forge_pr_fill(pr, m, "description");
	/* "locked" is a merge in progress: still open until it says "merged". */
	pr->state = !strcmp(state, "merged")   ? FORGE_PR_MERGED
	            : !strcmp(state, "closed") ? FORGE_PR_CLOSED
	                                       : FORGE_PR_OPEN;
	return 0;
}

/* "a,b" from a label list; DB_EUSAGE for a name with a comma (GitLab's separator). */
static int join_labels(struct buf *out, const struct strlist *labels, const struct strlist *skip,
                       struct db_err *err)
{
	size_t i;

	for (i = 0; labels && i < labels->nr; i++) {
		if (strchr(labels->v[i], ','))
			return db_err_set(err, DB_EUSAGE,
			                  "label '%s' has a comma; GitLab cannot take it",
			                  labels->v[i]);
		if (skip && forge_has_label(skip, labels->v[i]))
			continue;
		buf_addf(out, "%s%s", out->len ? "," : "", labels->v[i]);
	}
	return 0;
}

static int gl_check(struct forge *f, char **default_branch, struct db_err *err)
{
	json_t *project = NULL, *perms;
	const char *branch;
	json_int_t level = 0, group;
	int ret;

	if ((ret = forge_get_object(f, &project, "", err)) < 0)
		return ret;
	branch = forge_json_str(project, "default_branch");
	perms = json_object_get(project, "permissions");
	level = json_integer_value(
	    json_object_get(json_object_get(perms, "project_access"), "access_level"));
	group = json_integer_value(
	    json_object_get(json_object_get(perms, "group_access"), "access_level"));
	if (group > level)
		level = group;
	if (!branch || !*branch)
		ret = db_err_set(err, DB_EPARSE,
		                 "%s at '%s': project '%s' has no default branch (is it empty?)",
		                 FORGE_WHO(f), f->repo);
	else if (level < ACCESS_DEVELOPER)
		ret = db_err_set(
		    err, DB_EAUTH,
		    "%s at '%s': the token in '%s' has access level %" JSON_INTEGER_FORMAT
		    " in '%s'; pushing branches and opening merge requests needs "
		    "Developer (30) or higher",
		    FORGE_WHO(f), f->token_env, level, f->repo);
	else
		*default_branch = xstrdup(branch);
	json_decref(project);
	return ret;
}

struct listing {
	struct forge_prs *out;
	const char *prefix;
};

static int list_one(struct forge *f, void *ctx, json_t *e, struct db_err *err)
{
	struct listing *l = ctx;
	struct forge_pr *pr = forge_prs_push(l->out);

	(void)err;
	if (gl_pr_foreign(f, e) || pr_from_mr(pr, e) < 0 ||
	    !forge_under_prefix(pr->head, l->prefix))
		forge_pr_release(&l->out->v[--l->out->nr]);
	return 0;
}

static int gl_list_prs(struct forge *f, struct forge_prs *out, const char *label,
                       const char *prefix, struct db_err *err)
{
	struct listing l = {out, prefix};
	char *escaped = http_escape(label);
	char *url = xasprintf("%s%s/merge_requests?labels=%s&state=all&per_page=100"
	                      "&order_by=created_at&sort=desc",
	                      f->api_url, f->repo_path, escaped);
	int ret = forge_list_pages(f, url, list_one, &l, err);

	if (!ret)
		forge_prs_sort(out);
	free(escaped);
	free(url);
	return ret;
}

static int gl_pr_open(const json_t *mr)
{
	const char *state = forge_json_str(mr, "state");
	return state && (!strcmp(state, "opened") || !strcmp(state, "locked"));
}

/* Brings the open merge request `mr` (confirmed ours) to say `s`, into `pr`: one PUT with
 * what differs, nothing when nothing does. */
static int gl_pr_apply(struct forge *f, const json_t *mr, struct forge_pr *pr,
                       const struct forge_pr_spec *s, int *changed, struct db_err *err)
{
	json_t *put = json_object(), *answer = NULL;
	struct buf add = BUF_INIT;
	const char *title, *base;
	char *path = NULL, *want = NULL;
	int ret;

	forge_pr_release(pr);
	if (pr_from_mr(pr, mr) < 0) {
		ret = db_err_set(err, DB_EPARSE,
		                 "%s at '%s': merge request is not one GitLab sends", FORGE_WHO(f));
		goto out;
	}
	title = forge_json_str(mr, "title");
	base = forge_json_str(mr, "target_branch");
	/* A draft stays a draft: its prefix is part of the title GitLab keeps. */
	if (!title || strcmp(pr->draft ? undrafted(title) : title, s->title) ||
	    (pr->draft && undrafted(title) == title)) {
		want = pr->draft ? xasprintf(DRAFT_PREFIX "%s", s->title) : xstrdup(s->title);
		json_object_set_new(put, "title", json_string(want));
	}
	if (!forge_same_text(forge_json_str(mr, "description"), s->body ? s->body : ""))
		json_object_set_new(put, "description", json_string(s->body ? s->body : ""));
	if (!base || strcmp(base, s->base))
		json_object_set_new(put, "target_branch", json_string(s->base));
	if ((ret = join_labels(&add, s->labels, &pr->labels, err)) < 0)
		goto out;
	if (add.len)
		json_object_set_new(put, "add_labels", json_string(add.ptr));
	if (!json_object_size(put))
		goto out;
	path = xasprintf("%s/merge_requests/%ld", f->repo_path, pr->number);
	if ((ret = forge_write_json(f, &answer, "PUT", path, json_incref(put), err)) < 0)
		goto out;
	*changed = 1;
	if (json_is_object(answer) &&
	    json_integer_value(json_object_get(answer, "iid")) == pr->number) {
		forge_pr_release(pr);
		if (pr_from_mr(pr, answer) < 0)
			ret = db_err_set(err, DB_EPARSE,
			                 "%s at '%s': PUT '%s' did not answer a merge "
			                 "request",
			                 FORGE_WHO(f), path);
	}
out:
	json_decref(put);
	json_decref(answer);
	buf_release(&add);
	free(path);
	free(want);
	return ret;
}

/* The open merge request from `head` of this project; `*found` a new reference or NULL. */
static int find_open(struct forge *f, json_t **found, const char *head, const char *base,
                     struct db_err *err)
{
	char *path = xasprintf("%s/merge_requests", f->repo_path), *escaped = http_escape(head);
	char *query = xasprintf("source_branch=%s&state=opened&per_page=100", escaped);
	json_t *list = NULL, *m, *best = NULL;
	size_t i;
	int ret;

	*found = NULL;
	if ((ret = forge_get_array(f, &list, path, query, err)) < 0)
		goto out;
	json_array_foreach(list, i, m)
	{
		const char *src = gl_pr_head(m), *into = forge_json_str(m, "target_branch");

		if (!src || strcmp(src, head) || gl_pr_foreign(f, m) || !gl_pr_open(m) ||
		    gl_pr_number(m) <= 0)
			continue;
		if (!best || (into && !strcmp(into, base)))
			best = m;
	}
	if (best)
		*found = json_incref(best);
out:
	json_decref(list);
	free(path);
	free(escaped);
	free(query);
	return ret;
}

static int gl_pr_create(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
                        struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	struct buf labels = BUF_INIT;
	char *path = xasprintf("%s/merge_requests", f->repo_path), *json = NULL, *title;
	json_t *mr = NULL;
	int ret, changed = 0;

	title = s->draft ? xasprintf(DRAFT_PREFIX "%s", s->title) : xstrdup(s->title);
	if ((ret = join_labels(&labels, s->labels, NULL, err)) < 0)
		goto out;
	json = forge_dump(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "source_branch", s->head,
	                            "target_branch", s->base, "title", title, "description",
	                            s->body ? s->body : "", "labels", labels.ptr,
	                            "remove_source_branch", 0));
	if (!json) {
		ret = db_err_set(err, DB_EPARSE, "the merge request for '%s' is not valid UTF-8",
		                 s->head);
		goto out;
	}
	if ((ret = forge_call(f, &r, "POST", path, NULL, json, err)) < 0)
		goto out;
	if (r.http.status == 409) {
		/* One is open for this branch already: another run won a race, or its label
		 * was taken off. */
		if ((ret = find_open(f, &mr, s->head, s->base, err)) < 0)
			goto out;
		if (!mr) {
			ret = forge_status_error(f, &r, "POST", path, err);
			goto out;
		}
		log_info(
		    "%s at '%s': a merge request for '%s' was open already (!%" JSON_INTEGER_FORMAT
		    "); updating it",
		    FORGE_WHO(f), s->head, json_integer_value(json_object_get(mr, "iid")));
		ret = gl_pr_apply(f, mr, out, s, &changed, err);
		goto out;
	}
	if (!forge_is_2xx(&r)) {
		ret = forge_status_error(f, &r, "POST", path, err);
		goto out;
	}
	if (pr_from_mr(out, r.json) < 0 || strcmp(out->head, s->head)) {
		ret = db_err_set(err, DB_EPARSE,
		                 "%s at '%s': POST '%s%s' did not answer a merge request of '%s'",
		                 FORGE_WHO(f), f->api_url, path, s->head);
		goto out;
	}
out:
	forge_reply_release(&r);
	json_decref(mr);
	buf_release(&labels);
	free(path);
	free(json);
	free(title);
	if (ret < 0)
		forge_pr_release(out);
	return ret;
}

struct search {
	const char *title;
	json_t *found; /* the open issue with the lowest iid and this exact title */
};

static int match_issue(struct forge *f, void *ctx, json_t *e, struct db_err *err)
{
	struct search *sr = ctx;
	const char *t = forge_json_str(e, "title"), *state = forge_json_str(e, "state");
	long n = gl_pr_number(e);

	(void)f;
	(void)err;
	if (!t || strcmp(t, sr->title) || !state || strcmp(state, "opened") || n <= 0)
		return 0;
	if (!sr->found || n < gl_pr_number(sr->found)) {
		json_decref(sr->found);
		sr->found = json_incref(e);
	}
	return 0;
}

static int gl_dashboard(struct forge *f, struct forge_issue *out, const char *title,
                        const char *body, const struct strlist *labels, int *changed,
                        struct db_err *err)
{
	struct search sr = {title, NULL};
	struct strlist have = {0};
	struct buf joined = BUF_INIT, add = BUF_INIT;
	char *escaped = NULL, *search = NULL, *url = NULL, *path = NULL;
	json_t *answer = NULL, *put = NULL;
	int ret;

	if ((ret = join_labels(&joined, labels, NULL, err)) < 0)
		goto out;
	escaped = http_escape(joined.ptr);
	search = http_escape(title);
	url = xasprintf("%s%s/issues?labels=%s&state=opened&search=%s&in=title&per_page=100",
	                f->api_url, f->repo_path, escaped, search);
	if ((ret = forge_list_pages(f, url, match_issue, &sr, err)) < 0)
		goto out;
	if (!sr.found) {
		path = xasprintf("%s/issues", f->repo_path);
		if ((ret = forge_write_json(f, &answer, "POST", path,
		                            json_pack("{s:s, s:s, s:s}", "title", title,
		                                      "description", body, "labels", joined.ptr),
		                            err)) < 0)
			goto out;
		*changed = 1;
		if (!json_is_object(answer) || gl_pr_number(answer) <= 0) {
			ret = db_err_set(err, DB_EPARSE,
			                 "%s at '%s': POST '%s%s' did not answer an issue",
			                 FORGE_WHO(f), f->api_url, path);
			goto out;
		}
		sr.found = json_incref(answer);
	} else {
		put = json_object();
		forge_set_labels(&have, json_object_get(sr.found, "labels"));
		if (!forge_same_text(forge_json_str(sr.found, "description"), body))
			json_object_set_new(put, "description", json_string(body));
		if ((ret = join_labels(&add, labels, &have, err)) < 0)
			goto out;
		if (add.len)
			json_object_set_new(put, "add_labels", json_string(add.ptr));
		if (json_object_size(put)) {
			path = xasprintf("%s/issues/%ld", f->repo_path, gl_pr_number(sr.found));
			if ((ret = forge_write_json(f, NULL, "PUT", path, json_incref(put), err)) <
			    0)
				goto out;
			*changed = 1;
		}
	}
	out->number = gl_pr_number(sr.found);
	out->url =
	    xstrdup(forge_json_str(sr.found, "web_url") ? forge_json_str(sr.found, "web_url") : "");
	out->title = xstrdup(title);
	out->body = xstrdup(body);
out:
	json_decref(sr.found);
	json_decref(answer);
	json_decref(put);
	strlist_clear(&have);
	buf_release(&joined);
	buf_release(&add);
	free(escaped);
	free(search);
	free(url);
	free(path);
	return ret;
}

static const char *const gl_headers[] = {"Accept: application/json", NULL};

const struct forge_backend pr_gitlab_backend = {
    .name = "gitlab",
    .default_api_url = "https://gitlab.com/api/v4",
    .default_token_env = "GITLAB_TOKEN",
    .auth_prefix = "PRIVATE-TOKEN: ",
    .headers = gl_headers,
    .repo_min_segs = 2,
    .repo_max_segs = 21, /* a project below 20 levels of groups */
    .repo_forms = "'group[/subgroup...]/name'",
    .repo_kind = "project",
    .body_max = PR_BODY_MAX_GITLAB,
    .pr_dir = "/merge_requests/",
    .comment_dir = "/merge_requests/",
    .comment_tail = "/notes",
    .pr_word = "merge request !",
    .close_method = "PUT",
    .close_key = "state_event",
    .close_value = "close",
    .color_prefix = "#",
    .label_refused = 400,
    .set_repo = gl_set_repo,
    .release = NULL,
    .check = gl_check,
    .list_prs = gl_list_prs,
    .pr_create = gl_pr_create,
    .dashboard = gl_dashboard,
    .pr_number = gl_pr_number,
    .pr_head = gl_pr_head,
    .pr_open = gl_pr_open,
    .pr_foreign = gl_pr_foreign,
    .pr_fill = pr_from_mr,
    .pr_apply = gl_pr_apply,
};

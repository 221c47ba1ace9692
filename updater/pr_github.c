#include "updater/pr_github.h"

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

/* Labelled pull requests whose body has no marker (a human edited it): their head is read
 * from the pulls API, at most this many per listing. */
#define UNMARKED_MAX 50

static const char *const gh_headers[] = {"Accept: application/vnd.github+json",
                                         "X-GitHub-Api-Version: 2022-11-28", NULL};

/* The backend's state: the open issues of the last labelled listing, where the dashboard
 * is found without another request. */
struct gh_state {
	char *label;
	json_t *issues;
};

static void gh_forget(struct forge *f)
{
	struct gh_state *st = f->priv;

	if (!st)
		return;
	free(st->label);
	json_decref(st->issues);
	st->label = NULL;
	st->issues = NULL;
}

static void gh_release(struct forge *f)
{
	gh_forget(f);
	free(f->priv);
	f->priv = NULL;
}

static void gh_set_repo(struct forge *f)
{
	/* The path was checked: two segments of [A-Za-z0-9._-], nothing to escape. */
	f->repo_path = xasprintf("/repos/%s", f->repo);
	gh_forget(f);
}

static const char *sub_str(const json_t *obj, const char *key, const char *sub)
{
	return json_string_value(json_object_get(json_object_get(obj, key), sub));
}

/* Fills `pr` from a pulls API object (GET/PATCH /pulls/{n}, POST /pulls); -1 when it is
 * not one. */
static int pr_from_pull(struct forge_pr *pr, const json_t *p)
{
	const char *state = forge_json_str(p, "state");

	if (json_integer_value(json_object_get(p, "number")) <= 0 || !state ||
	    !sub_str(p, "head", "ref"))
		return -1;
	pr->number = (long)json_integer_value(json_object_get(p, "number"));
	forge_set_str(&pr->url, forge_json_str(p, "html_url"));
	forge_set_str(&pr->head, sub_str(p, "head", "ref"));
	forge_set_str(&pr->base, sub_str(p, "base", "ref"));
	forge_pr_fill(pr, p, "body");
	pr->state = !strcmp(state, "open") ? FORGE_PR_OPEN
	            : pr->merged_at        ? FORGE_PR_MERGED
	                                   : FORGE_PR_CLOSED;
	return 0;
}

/* Fills `pr` from an issues API entry that is a pull request; -1 when it is unusable. The
 * head and base come from the body's marker (none without one). */
static int pr_from_issue(struct forge_pr *pr, const json_t *is)
{
	const json_t *pull = json_object_get(is, "pull_request");
	const char *state = forge_json_str(is, "state");
	const char *url = forge_json_str(pull, "html_url");
	json_int_t number = json_integer_value(json_object_get(is, "number"));

	if (number <= 0 || !state)
		return -1;
	pr->number = (long)number;
	forge_set_str(&pr->url, url ? url : forge_json_str(is, "html_url"));
	forge_pr_fill(pr, is, "body");
	pr->merged_at = forge_json_time(pull, "merged_at");
	pr->state = !strcmp(state, "open") ? FORGE_PR_OPEN
	            : pr->merged_at        ? FORGE_PR_MERGED
	                                   : FORGE_PR_CLOSED;
	if (pr->marker.branch) {
		forge_set_str(&pr->head, pr->marker.branch);
		forge_set_str(&pr->base, pr->marker.base);
	}
	return 0;
}

/* Does this pulls object come from a branch of another repository (a fork)? A fork that
 * was deleted has no repository at all. */
static int gh_pr_foreign(const struct forge *f, const json_t *pull)
{
	const char *full = json_string_value(
	    json_object_get(json_object_get(json_object_get(pull, "head"), "repo"), "full_name"));
	return !full || strcasecmp(full, f->repo) != 0;
}

static long gh_pr_number(const json_t *pull)
{
	return (long)json_integer_value(json_object_get(pull, "number"));
}

static const char *gh_pr_head(const json_t *pull)
{
	return sub_str(pull, "head", "ref");
}

static int gh_pr_open(const json_t *pull)
{
	const char *state = forge_json_str(pull, "state");
	return state && !strcmp(state, "open");
}

/* Adds the labels of `want` that `pr` lacks (one request, never an empty list: GitHub reads
 * that as "remove every label"). */
static int add_labels(struct forge *f, struct forge_pr *pr, const struct strlist *want,
                      int *changed, struct db_err *err)
{
	json_t *missing = json_array(), *answer = NULL;
	char *path = NULL;
	size_t i;
	int ret = 0;

	for (i = 0; want && i < want->nr; i++)
		if (!forge_has_label(&pr->labels, want->v[i]))
			json_array_append_new(missing, json_string(want->v[i]));
	if (!json_array_size(missing))
		goto out;
	path = xasprintf("%s/issues/%ld/labels", f->repo_path, pr->number);
	if ((ret = forge_write_json(f, &answer, "POST", path, json_pack("{s:O}", "labels", missing),
	                            err)) < 0)
		goto out;
	*changed = 1;
	if (json_is_array(answer))
		forge_set_labels(&pr->labels, answer);
	else
		for (i = 0; i < json_array_size(missing); i++)
			strlist_push(&pr->labels, json_string_value(json_array_get(missing, i)));
out:
	json_decref(missing);
	json_decref(answer);
	free(path);
	return ret;
}

/* Brings the open pull request `pull` (a pulls object, confirmed ours) to say `s`, into `pr`. */
static int gh_pr_apply(struct forge *f, const json_t *pull, struct forge_pr *pr,
                       const struct forge_pr_spec *s, int *changed, struct db_err *err)
{
	json_t *patch = json_object(), *answer = NULL;
	const char *base = sub_str(pull, "base", "ref");
	char *path = NULL;
	int ret = 0;

	forge_pr_release(pr);
	pr_from_pull(pr, pull);
	if (!forge_same_text(forge_json_str(pull, "title"), s->title))
		json_object_set_new(patch, "title", json_string(s->title));
	if (!forge_same_text(forge_json_str(pull, "body"), s->body ? s->body : ""))
		json_object_set_new(patch, "body", json_string(s->body ? s->body : ""));
	if (!base || strcmp(base, s->base))
		json_object_set_new(patch, "base", json_string(s->base));
	if (json_object_size(patch)) {
		path = xasprintf("%s/pulls/%ld", f->repo_path, pr->number);
		ret = forge_write_json(f, &answer, "PATCH", path, json_incref(patch), err);
		if (ret < 0)
			goto out;
		*changed = 1;
		if (json_is_object(answer) &&
		    json_integer_value(json_object_get(answer, "number")) == pr->number) {
			forge_pr_release(pr);
			pr_from_pull(pr, answer);
		}
	}
	ret = add_labels(f, pr, s->labels, changed, err);
out:
	json_decref(patch);
	json_decref(answer);
	free(path);
	return ret;
}

/*
 * The open pull request from `head` of this repository (GET /pulls?head=owner:head), into
 * `base` when there are several; `*found` a new reference or NULL.
 */
static int find_open(struct forge *f, json_t **found, const char *head, const char *base,
                     struct db_err *err)
{
	char *path = xasprintf("%s/pulls", f->repo_path);
	char *owner = xstrndup(f->repo, strcspn(f->repo, "/"));
	char *label = xasprintf("%s:%s", owner, head), *escaped = http_escape(label);
	char *query = xasprintf("head=%s&state=open&per_page=100", escaped);
	json_t *list = NULL, *p, *best = NULL;
	size_t i;
	int ret;

	*found = NULL;
	if ((ret = forge_get_array(f, &list, path, query, err)) < 0)
		goto out;
	json_array_foreach(list, i, p)
	{
		const char *ref = gh_pr_head(p), *into = sub_str(p, "base", "ref");

		if (!ref || strcmp(ref, head) || !gh_pr_open(p) || gh_pr_number(p) <= 0 ||
		    !forge_json_str(p, "html_url") || gh_pr_foreign(f, p))
			continue;
		if (!best || (into && !strcmp(into, base)))
			best = p;
	}
	if (best)
		*found = json_incref(best);
out:
	json_decref(list);
	free(path);
	free(owner);
	free(label);
	free(escaped);
	free(query);
	return ret;
}

/* --- the backend ------------------------------------------------------------------------ */

static int gh_check(struct forge *f, char **default_branch, struct db_err *err)
{
	json_t *repo = NULL, *perms;
	const char *branch;
	int ret;

	if ((ret = forge_get_object(f, &repo, "", err)) < 0)
		return ret;
	branch = forge_json_str(repo, "default_branch");
	perms = json_object_get(repo, "permissions");
	if (!branch || !*branch) {
		ret = db_err_set(err, DB_EPARSE, "%s at '%s': GET '%s%s' names no default branch",
		                 FORGE_WHO(f), f->api_url, f->repo_path);
	} else if (json_is_object(perms) && !json_is_true(json_object_get(perms, "push"))) {
		ret = db_err_set(err, DB_EAUTH,
		                 "%s at '%s': the token in '%s' may not push to '%s' "
		                 "(permissions.push is false); it needs Contents and Pull requests "
		                 "write access",
		                 FORGE_WHO(f), f->token_env, f->repo);
	} else {
		if (!json_is_object(perms))
			log_debug("%s at '%s': GET '%s' lists no permissions; assuming push access",
			          FORGE_WHO(f), f->repo_path);
		*default_branch = xstrdup(branch);
	}
	json_decref(repo);
	return ret;
}

/* A labelled entry without a marker: its head from the pulls API. 1 when it is not usable
 * (a fork, or gone). */
static int read_head(struct forge *f, struct forge_pr *pr, struct db_err *err)
{
	json_t *pull = NULL;
	char *what = xasprintf("/pulls/%ld", pr->number);
	int ret = forge_get_object(f, &pull, what, err);

	free(what);
	if (ret < 0)
		return ret;
	if (gh_pr_foreign(f, pull) || !gh_pr_head(pull)) {
		json_decref(pull);
		return 1;
	}
	forge_set_str(&pr->head, sub_str(pull, "head", "ref"));
	forge_set_str(&pr->base, sub_str(pull, "base", "ref"));
	json_decref(pull);
	return 0;
}

struct listing {
	struct forge_prs *out;
	const char *label, *prefix;
	json_t *issues; /* the open issues met on the way */
	size_t unmarked;
};

static int list_one(struct forge *f, void *ctx, json_t *e, struct db_err *err)
{
	struct listing *l = ctx;
	struct forge_pr *pr;
	int dropped, ret = 0;

	if (!json_is_object(e))
		return 0;
	if (!json_object_get(e, "pull_request")) {
		const char *state = forge_json_str(e, "state");
		if (state && !strcmp(state, "open") && forge_json_str(e, "title"))
			json_array_append(l->issues, e);
		return 0;
	}
	pr = forge_prs_push(l->out);
	dropped = pr_from_issue(pr, e) < 0;
	if (!dropped && !pr->head) {
		if (l->unmarked++ < UNMARKED_MAX) {
			ret = read_head(f, pr, err);
			dropped = ret != 0;
		} else {
			log_warn(
			    "%s at '%s': pull request #%ld has the label '%s' but no dockerbump "
			    "marker; left out",
			    FORGE_WHO(f), pr->number, l->label);
			dropped = 1;
		}
	}
	if (dropped || !forge_under_prefix(pr->head, l->prefix))
		forge_pr_release(&l->out->v[--l->out->nr]);
	return ret < 0 ? ret : 0;
}

static int gh_list_prs(struct forge *f, struct forge_prs *out, const char *label,
                       const char *prefix, struct db_err *err)
{
	struct gh_state *st = f->priv ? f->priv : (f->priv = xcalloc(1, sizeof(struct gh_state)));
	struct listing l = {out, label, prefix, json_array(), 0};
	char *escaped = http_escape(label);
	char *url = xasprintf("%s%s/issues?labels=%s&state=all&per_page=100&sort=created"
	                      "&direction=desc",
	                      f->api_url, f->repo_path, escaped);
	int ret = forge_list_pages(f, url, list_one, &l, err);

	if (!ret) {
		gh_forget(f);
		st->label = xstrdup(label);
		st->issues = json_incref(l.issues);
		forge_prs_sort(out);
	}
	json_decref(l.issues);
	free(escaped);
	free(url);
	return ret;
}

static int create(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
                  int *adopted, struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	char *path = xasprintf("%s/pulls", f->repo_path), *json;
	json_t *obj, *pull = NULL;
	int ret, changed = 0;

	*adopted = 0;
	obj = json_pack("{s:s, s:s, s:s, s:s, s:b}", "title", s->title, "head", s->head, "base",
	                s->base, "body", s->body ? s->body : "", "draft", s->draft);
	json = forge_dump(obj);
	if (!json) {
		ret = db_err_set(err, DB_EPARSE, "the pull request for '%s' is not valid UTF-8",
		                 s->head);
		goto out;
	}
	ret = forge_call(f, &r, "POST", path, NULL, json, err);
	free(json);
	if (ret < 0)
		goto out;
	if (r.http.status == 422 && forge_mentions(r.json, "already exists")) {
		/* Open already: another run won a race, or its label was taken off. */
		if ((ret = find_open(f, &pull, s->head, s->base, err)) < 0)
			goto out;
		if (!pull) {
			ret =
			    db_err_set(err, DB_ECONFLICT,
			               "%s at '%s' says a pull request for '%s' already exists in "
			               "'%s' but does not list it as open",
			               FORGE_WHO(f), s->head, f->repo);
			goto out;
		}
		log_info(
		    "%s at '%s': a pull request for '%s' was open already (#%" JSON_INTEGER_FORMAT
		    "); updating it",
		    FORGE_WHO(f), s->head, json_integer_value(json_object_get(pull, "number")));
		*adopted = 1;
		ret = gh_pr_apply(f, pull, out, s, &changed, err);
		goto out;
	}
	if (!forge_is_2xx(&r)) {
		ret = forge_status_error(f, &r, "POST", path, err);
		goto out;
	}
	if (!json_is_object(r.json) || json_integer_value(json_object_get(r.json, "number")) <= 0 ||
	    !sub_str(r.json, "head", "ref") || strcmp(sub_str(r.json, "head", "ref"), s->head)) {
		ret = db_err_set(err, DB_EPARSE,
		                 "%s at '%s': POST '%s%s' did not answer a pull request of '%s'",
		                 FORGE_WHO(f), f->api_url, path, s->head);
		goto out;
	}
	pr_from_pull(out, r.json);
	ret = add_labels(f, out, s->labels, &changed, err);
out:
	json_decref(pull);
	forge_reply_release(&r);
	free(path);
	if (ret < 0)
		forge_pr_release(out);
	return ret;
}

static int gh_pr_create(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
                        struct db_err *err)
{
	int adopted;
	return create(f, out, s, &adopted, err);
}

static int keep_issue(struct forge *f, void *ctx, json_t *e, struct db_err *err)
{
	(void)f;
	(void)err;
	if (json_is_object(e) && !json_object_get(e, "pull_request"))
		json_array_append(ctx, e);
	return 0;
}

/* Open issues (not pull requests) carrying every label of `labels`. */
static int list_issues(struct forge *f, json_t *out, const struct strlist *labels,
                       struct db_err *err)
{
	struct buf joined = BUF_INIT;
	char *escaped, *url;
	size_t i;
	int ret;

	for (i = 0; i < labels->nr; i++)
		buf_addf(&joined, "%s%s", i ? "," : "", labels->v[i]);
	escaped = http_escape(joined.ptr);
	url = xasprintf("%s%s/issues?labels=%s&state=open&per_page=100", f->api_url, f->repo_path,
	                escaped);
	ret = forge_list_pages(f, url, keep_issue, out, err);
	free(url);
	free(escaped);
	buf_release(&joined);
	return ret;
}

static int gh_dashboard(struct forge *f, struct forge_issue *out, const char *title,
                        const char *body, const struct strlist *labels, int *changed,
                        struct db_err *err)
{
	struct gh_state *st = f->priv ? f->priv : (f->priv = xcalloc(1, sizeof(struct gh_state)));
	json_t *issues, *e, *found = NULL, *answer = NULL;
	struct forge_pr as_pr = {0};
	char *path = NULL;
	size_t i;
	int ret = 0;

	if (st->issues && forge_has_label(labels, st->label)) {
		issues = json_incref(st->issues);
	} else {
		issues = json_array();
		if ((ret = list_issues(f, issues, labels, err)) < 0)
			goto out;
	}
	json_array_foreach(issues, i, e)
	{
		const char *t = forge_json_str(e, "title"), *state = forge_json_str(e, "state");
		json_int_t n = json_integer_value(json_object_get(e, "number"));

		if (!t || strcmp(t, title) || !state || strcmp(state, "open") || n <= 0)
			continue;
		if (!found || n < json_integer_value(json_object_get(found, "number")))
			found = e;
	}
	if (!found) {
		json_t *names = json_array();
		for (i = 0; i < labels->nr; i++)
			json_array_append_new(names, json_string(labels->v[i]));
		path = xasprintf("%s/issues", f->repo_path);
		if ((ret = forge_write_json(f, &answer, "POST", path,
		                            json_pack("{s:s, s:s, s:O}", "title", title, "body",
		                                      body, "labels", names),
		                            err)) < 0) {
			json_decref(names);
			goto out;
		}
		json_decref(names);
		*changed = 1;
		if (!json_is_object(answer) ||
		    json_integer_value(json_object_get(answer, "number")) <= 0) {
			ret = db_err_set(err, DB_EPARSE,
			                 "%s at '%s': POST '%s%s' did not answer an "
			                 "issue",
			                 FORGE_WHO(f), f->api_url, path);
			goto out;
		}
		if (st->issues && forge_has_label(labels, st->label))
			json_array_append(st->issues, answer);
		found = answer;
	} else {
		as_pr.number = (long)json_integer_value(json_object_get(found, "number"));
		forge_set_labels(&as_pr.labels, json_object_get(found, "labels"));
		if (!forge_same_text(forge_json_str(found, "body"), body)) {
			path = xasprintf("%s/issues/%ld", f->repo_path, as_pr.number);
			if ((ret = forge_write_json(f, &answer, "PATCH", path,
			                            json_pack("{s:s}", "body", body), err)) < 0)
				goto out;
			*changed = 1;
			json_object_set_new(found, "body", json_string(body));
		}
		if ((ret = add_labels(f, &as_pr, labels, changed, err)) < 0)
			goto out;
	}
	out->number = (long)json_integer_value(json_object_get(found, "number"));
	out->url =
	    xstrdup(forge_json_str(found, "html_url") ? forge_json_str(found, "html_url") : "");
	out->title = xstrdup(title);
	out->body = xstrdup(body);
out:
	forge_pr_release(&as_pr);
	json_decref(issues);
	json_decref(answer);
	free(path);
	return ret;
}

const struct forge_backend pr_github_backend = {
    .name = "github",
    .default_api_url = "https://api.github.com",
    .default_token_env = "GITHUB_TOKEN",
    .auth_prefix = "Authorization: Bearer ",
    .headers = gh_headers,
    .repo_min_segs = 2,
    .repo_max_segs = 2,
    .repo_forms = "'owner/name'",
    .repo_kind = "repository",
    .body_max = PR_BODY_MAX,
    .pr_dir = "/pulls/",
    .comment_dir = "/issues/",
    .comment_tail = "/comments",
    .pr_word = "pull request #",
    .close_method = "PATCH",
    .close_key = "state",
    .close_value = "closed",
    .color_prefix = "",
    .label_refused = 422,
    .set_repo = gh_set_repo,
    .release = gh_release,
    .check = gh_check,
    .list_prs = gh_list_prs,
    .pr_create = gh_pr_create,
    .dashboard = gh_dashboard,
    .pr_number = gh_pr_number,
    .pr_head = gh_pr_head,
    .pr_open = gh_pr_open,
    .pr_foreign = gh_pr_foreign,
    .pr_fill = pr_from_pull,
    .pr_apply = gh_pr_apply,
};

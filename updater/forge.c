#include "updater/forge.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/forge_int.h"
#include "updater/pr_github.h"
#include "updater/pr_gitlab.h"
#include "updater/tagver.h"
#include "common/banned.h"

static const struct {
	enum forge_provider provider;
	const struct forge_backend *be;
} backends[] = {
    {FORGE_GITHUB, &pr_github_backend},
    {FORGE_GITLAB, &pr_gitlab_backend},
};

static const struct forge_backend *backend_of(enum forge_provider p)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (backends[i].provider == p)
			return backends[i].be;
	return NULL;
}

const char *forge_provider_name(enum forge_provider p)
{
	const struct forge_backend *be = backend_of(p);
	return be ? be->name : NULL;
}

enum forge_provider forge_provider_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(backends) / sizeof(*backends); i++)
		if (!strcmp(backends[i].be->name, name))
			return backends[i].provider;
	return 0;
}

size_t forge_body_max(enum forge_provider p)
{
	const struct forge_backend *be = backend_of(p);
	return be ? be->body_max : PR_BODY_MAX;
}

static int api_host(struct buf *host, const char *url)
{
	const char *auth, *end;

	if (!strncasecmp(url, "https://", 8))
		auth = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		auth = url + 7;
	else
		return -1;
	end = auth + strcspn(auth, "/?#");
	if (end == auth || memchr(auth, '@', (size_t)(end - auth)))
		return -1;
	buf_add(host, auth, (size_t)(end - auth));
	return 0;
}

/* --- the client ------------------------------------------------------------------------ */

int forge_set_repo(struct forge *f, const char *repo, struct db_err *err)
{
	int ret;

	if (!repo)
		return db_err_set(err, DB_EUSAGE, "--pr %s needs a repository (pull_request.repo)",
		                  f->be->name);
	if ((ret = pr_repo_path_check(repo, f->be->repo_min_segs, f->be->repo_max_segs,
	                              f->be->repo_forms, err)) < 0)
		return ret;
	if (f->repo && !strcmp(f->repo, repo))
		return 0;
	free(f->repo);
	free(f->repo_path);
	f->repo = xstrdup(repo);
	f->repo_path = NULL;
	f->be->set_repo(f);
	return 0;
}

int forge_open(struct forge **out, const struct forge_opts *opts, int need_repo, struct db_err *err)
{
	const struct forge_backend *be = backend_of(opts->provider);
	struct forge *f;
	struct buf host = BUF_INIT;
	const char *api_url, *env, *tok, *p;
	size_t len;
	int ret = 0;

	*out = NULL;
	if (!be)
		return db_err_set(err, DB_EUSAGE, "unknown pull request provider %d",
		                  (int)opts->provider);
	f = xcalloc(1, sizeof(*f));
	f->provider = opts->provider;
	f->be = be;
	pthread_mutex_init(&f->lock, NULL);
	api_url = opts->api_url ? opts->api_url : be->default_api_url;
	env = opts->token_env ? opts->token_env : be->default_token_env;
	tok = getenv(env);
	f->token_env = xstrdup(env);
	if (api_host(&host, api_url) < 0) {
		ret = db_err_set(
		    err, DB_EUSAGE,
		    "pull_request.api_url '%s' is not an http(s) URL without credentials",
		    strchr(api_url, '@') ? "(hidden: it has credentials)" : api_url);
		goto out;
	}
	if (!tok || !*tok) {
		ret = db_err_set(err, DB_EAUTH,
		                 "the environment variable '%s' is unset or empty; --pr %s needs a "
		                 "token that may write pull requests and issues",
		                 env, be->name);
		goto out;
	}
	for (p = tok; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			ret = db_err_set(
			    err, DB_EAUTH,
			    "the token in '%s' has a character that cannot go into an HTTP header",
			    env);
			goto out;
		}
	len = strlen(api_url);
	while (len && api_url[len - 1] == '/')
		len--;
	f->api_url = xstrndup(api_url, len);
	f->host = buf_detach(&host, NULL);
	f->auth_header = xasprintf("%s%s", be->auth_prefix, tok);
	f->rate_retries = opts->rate_retries > 0 ? opts->rate_retries : 4;
	f->rate_wait_cap_ms = opts->rate_wait_cap_ms > 0 ? opts->rate_wait_cap_ms : 120000;
	f->rate_wait_budget_ms = opts->rate_wait_budget_ms > 0 ? opts->rate_wait_budget_ms : 600000;
	f->write_gap_ms = opts->write_gap_ms ? opts->write_gap_ms : 1000;
	{
		/* Tests only: a stand-in needs no pause between writes (a month of nights would
		 * spend most of its time waiting). */
		const char *gap = getenv("DOCKERBUMP_TEST_WRITE_GAP_MS");
		long v;
		if (gap && parse_long(&v, gap, -1, 60000) == 0)
			f->write_gap_ms = v ? v : -1;
	}
	f->max_pages = opts->max_pages > 0 ? opts->max_pages : 100;
	if ((need_repo || opts->repo) && (ret = forge_set_repo(f, opts->repo, err)) < 0)
		goto out;
	ret = http_client_new(&f->http, &opts->http, err);
out:
	buf_release(&host);
	if (ret < 0)
		forge_free(f);
	else
		*out = f;
	return ret;
}

int forge_new(struct forge **out, const struct forge_opts *opts, struct db_err *err)
{
	return forge_open(out, opts, 1, err);
}

void forge_free(struct forge *f)
{
	if (!f)
		return;
	if (f->be->release)
		f->be->release(f);
	http_client_free(f->http);
	if (f->auth_header) {
		/* The token should not outlive the client in freed memory. */
		volatile char *p = f->auth_header;
		while (*p)
			*p++ = '\0';
		free(f->auth_header);
	}
	free(f->api_url);
	free(f->host);
	free(f->token_env);
	free(f->repo);
	free(f->repo_path);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void forge_get_stats(const struct forge *f, struct forge_stats *out)
{
	*out = f->stats;
}

/* --- one call --------------------------------------------------------------------------- */

static int confirm_head(struct forge *f, json_t **obj, const struct forge_pr *pr, const char *head,
                        struct db_err *err)
{
	const struct forge_backend *be = f->be;
	struct buf real = BUF_INIT;
	char *what = xasprintf("%s%ld", be->pr_dir, pr->number);
	const char *h;
	int ret;

	if ((ret = forge_get_object(f, obj, what, err)) < 0)
		goto out;
	h = be->pr_head(*obj);
	if (h && !strcmp(h, head) && !be->pr_foreign(f, *obj) && be->pr_number(*obj) == pr->number)
		goto out;
	forge_add_shown(&real, h);
	ret = db_err_set(err, DB_ECONFLICT,
	                 "%s at '%s': refusing to write to %s%ld of '%s': its head is '%s'%s, "
	                 "not the bot's branch '%s' of this repository",
	                 FORGE_WHO(f), be->pr_word, pr->number, f->repo, real.ptr,
	                 be->pr_foreign(f, *obj) ? " of a fork" : "", head);
	json_decref(*obj);
	*obj = NULL;
out:
	buf_release(&real);
	free(what);
	return ret;
}

static int pr_update(struct forge *f, struct forge_pr *pr, const struct forge_pr_spec *s,
                     int *changed, struct db_err *err)
{
	json_t *obj = NULL;
	int ret;

	if ((ret = confirm_head(f, &obj, pr, s->head, err)) < 0)
		return ret;
	if (f->be->pr_open(obj)) {
		ret = f->be->pr_apply(f, obj, pr, s, changed, err);
	} else {
		forge_pr_release(pr);
		f->be->pr_fill(pr, obj);
		ret = db_err_set(err, DB_ECONFLICT,
		                 "%s at '%s': %s%ld of '%s' is no longer open; "
		                 "not updated",
		                 FORGE_WHO(f), f->be->pr_word, pr->number, f->repo);
	}
	json_decref(obj);
	return ret;
}

static int pr_close(struct forge *f, struct forge_pr *pr, const char *comment, struct db_err *err)
{
	const struct forge_backend *be = f->be;
	json_t *obj = NULL, *answer = NULL;
	char *path = NULL;
	int ret;

	if ((ret = confirm_head(f, &obj, pr, pr->head, err)) < 0)
		return ret;
	if (be->pr_open(obj)) {
		if (comment && *comment) {
			path = xasprintf("%s%s%ld%s", f->repo_path, be->comment_dir, pr->number,
			                 be->comment_tail);
			if ((ret = forge_write_json(f, NULL, "POST", path,
			                            json_pack("{s:s}", "body", comment), err)) < 0)
				goto out;
			free(path);
		}
		path = xasprintf("%s%s%ld", f->repo_path, be->pr_dir, pr->number);
		if ((ret = forge_write_json(f, &answer, be->close_method, path,
		                            json_pack("{s:s}", be->close_key, be->close_value),
		                            err)) < 0)
			goto out;
		log_info("%s at '%s': closed %s%ld (%s)", FORGE_WHO(f), be->pr_word, pr->number,
		         pr->head);
	}
	forge_pr_release(pr);
	if (!json_is_object(answer) || be->pr_fill(pr, answer) < 0) {
		forge_pr_release(pr);
		be->pr_fill(pr, obj);
		if (answer)
			pr->state = FORGE_PR_CLOSED;
	}
out:
	json_decref(obj);
	json_decref(answer);
	free(path);
	return ret;
}

static int label_ensure(struct forge *f, const char *name, const char *color,
                        const char *description, int *created, struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	struct buf msg = BUF_INIT;
	char *escaped = http_escape(name), *path = xasprintf("%s/labels/%s", f->repo_path, escaped);
	char *json = NULL, *colour = xasprintf("%s%s", f->be->color_prefix, color);
	json_t *obj;
	int ret;

	if ((ret = forge_call(f, &r, "GET", path, NULL, NULL, err)) < 0 || forge_is_2xx(&r))
		goto out;
	if (r.http.status != 404) {
		ret = forge_status_error(f, &r, "GET", path, err);
		goto out;
	}
	free(path);
	path = xasprintf("%s/labels", f->repo_path);
	obj = json_pack("{s:s, s:s}", "name", name, "color", colour);
	if (obj && description)
		json_object_set_new(obj, "description", json_string(description));
	if (!(json = forge_dump(obj))) {
		ret = db_err_set(err, DB_EPARSE, "label '%s' is not valid UTF-8", name);
		goto out;
	}
	if ((ret = forge_call(f, &r, "POST", path, NULL, json, err)) < 0)
		goto out;
	if (forge_is_2xx(&r)) {
		*created = 1;
	} else if (r.http.status == 409 || forge_mentions(r.json, "already_exists") ||
	           forge_mentions(r.json, "already exists")) {
		/* Created meanwhile by someone else: it exists. */
	} else if (r.http.status == f->be->label_refused) {
		forge_server_message(&msg, r.json);
		ret = db_err_set(err, DB_EUSAGE,
		                 "%s at '%s' refused the label '%s' with colour '%s' (%ld: %s); a "
		                 "colour is six hex digits",
		                 FORGE_WHO(f), name, color, r.http.status, msg.ptr);
	} else {
		ret = forge_status_error(f, &r, "POST", path, err);
	}
out:
	forge_reply_release(&r);
	buf_release(&msg);
	free(escaped);
	free(path);
	free(json);
	free(colour);
	return ret;
}

/* --- the interface: one call at a time per client --------------------------------------- */

static int need_repo(struct forge *f, struct db_err *err)
{
	if (f->repo)
		return 0;
	return db_err_set(err, DB_EUSAGE, "--pr %s needs a repository (pull_request.repo)",
	                  f->be->name);
}

#define DISPATCH(f, err, call)                                                                     \
	do {                                                                                       \
		int ret_;                                                                          \
		if ((ret_ = need_repo(f, err)) < 0)                                                \
			return ret_;                                                               \
		pthread_mutex_lock(&(f)->lock);                                                    \
		ret_ = (call);                                                                     \
		pthread_mutex_unlock(&(f)->lock);                                                  \
		if (ret_ < 0)                                                                      \
			forge_scrub(f, (err)->msg);                                                \
		return ret_;                                                                       \
	} while (0)

int forge_check(struct forge *f, char **default_branch, struct db_err *err)
{
	*default_branch = NULL;
	DISPATCH(f, err, f->be->check(f, default_branch, err));
}

int forge_list_prs(struct forge *f, struct forge_prs *out, const char *label, const char *prefix,
                   struct db_err *err)
{
	if (!label || !*label)
		return db_err_set(err, DB_EUSAGE,
		                  "the bot's pull requests are found by their label: "
		                  "pull_request.labels must name at least one");
	DISPATCH(f, err, f->be->list_prs(f, out, label, prefix ? prefix : "", err));
}

static int spec_ok(const struct forge *f, const struct forge_pr_spec *s, struct db_err *err)
{
	size_t n = s->body ? strlen(s->body) : 0;

	if (!s->head || !*s->head || !s->base || !*s->base || !s->title || !*s->title)
		return db_err_set(err, DB_EUSAGE,
		                  "a pull request in '%s' needs a head, a base and a title",
		                  f->repo);
	if (n > f->be->body_max)
		return db_err_set(err, DB_ETOOBIG,
		                  "the body of the pull request for '%s' has %zu bytes; %s takes "
		                  "%zu at most",
		                  s->head, n, f->be->name, f->be->body_max);
	return 0;
}

int forge_pr_create(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
                    struct db_err *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = spec_ok(f, s, err)) < 0)
		return ret;
	DISPATCH(f, err, f->be->pr_create(f, out, s, err));
}

int forge_pr_update(struct forge *f, struct forge_pr *pr, const struct forge_pr_spec *s,
                    int *changed, struct db_err *err)
{
	int ret;

	*changed = 0;
	if ((ret = spec_ok(f, s, err)) < 0)
		return ret;
	if (!pr->head || strcmp(pr->head, s->head))
		return db_err_set(err, DB_EUSAGE, "pull request #%ld is for branch '%s', not '%s'",
		                  pr->number, pr->head ? pr->head : "(unknown)", s->head);
	DISPATCH(f, err, pr_update(f, pr, s, changed, err));
}

int forge_pr_close(struct forge *f, struct forge_pr *pr, const char *comment, struct db_err *err)
{
	if (!pr->number || !pr->head)
		return db_err_set(err, DB_EUSAGE,
		                  "a pull request to close needs its number and head");
	DISPATCH(f, err, pr_close(f, pr, comment, err));
}

int forge_dashboard(struct forge *f, struct forge_issue *out, const char *title, const char *body,
                    const struct strlist *labels, int *changed, struct db_err *err)
{
	memset(out, 0, sizeof(*out));
	*changed = 0;
	if (!labels || !labels->nr)
		return db_err_set(err, DB_EUSAGE,
		                  "the dashboard is found by its labels: pull_request.labels must "
		                  "name at least one");
	if (!title || !*title || !body)
		return db_err_set(err, DB_EUSAGE, "the dashboard needs a title and a body");
	if (strlen(body) > f->be->body_max)
		return db_err_set(err, DB_ETOOBIG,
		                  "the dashboard's body has %zu bytes; %s takes %zu at most",
		                  strlen(body), f->be->name, f->be->body_max);
	DISPATCH(f, err, f->be->dashboard(f, out, title, body, labels, changed, err));
}

int forge_label_ensure(struct forge *f, const char *name, const char *color,
                       const char *description, int *created, struct db_err *err)
{
	*created = 0;
	if (!name || !*name || !color)
		return db_err_set(err, DB_EUSAGE, "a label needs a name and a colour");
	DISPATCH(f, err, label_ensure(f, name, color, description, created, err));
}

int forge_repo_from_remote(char **out, enum forge_provider p, const char *url, struct db_err *err)
{
	const struct forge_backend *be = backend_of(p);

	*out = NULL;
	if (!be)
		return db_err_set(err, DB_EUSAGE, "unknown pull request provider %d", (int)p);
	return pr_remote_path(out, url, be->repo_min_segs, be->repo_max_segs, be->repo_kind,
	                      be->repo_forms, err);
}

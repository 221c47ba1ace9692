/*
 * Internals shared by the forge front (forge.c) and its backends (pr_github.c, pr_gitlab.c).
 * Not for other modules: they use forge.h.
 *
 * forge.c owns the client (token, HTTP, rate limits, the lock, pagination) and dispatches
 * through the backend's table; a backend speaks its API with forge_call() and turns the
 * answers into forge_pr / forge_issue:
 *
 *	struct forge_reply r = FORGE_REPLY_INIT;
 *	if ((ret = forge_call(f, &r, "GET", path, query, NULL, err)) < 0) ...
 *	if (!forge_is_2xx(&r)) ret = forge_status_error(f, &r, "GET", path, err);
 *	... r.json ...
 *	forge_reply_release(&r);
 *
 * The public functions of forge.h hold `f->lock` while a backend runs, so a backend never
 * sees two calls at once and its writes never overlap.
 */
#ifndef DOCKERBUMP_UPDATER_FORGE_INT_H
#define DOCKERBUMP_UPDATER_FORGE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#include "common/buf.h"
#include "common/http.h"
#include "updater/forge.h"

struct forge_backend {
	const char *name;              /* "github" */
	const char *default_api_url;   /* "https://api.github.com" */
	const char *default_token_env; /* "GITHUB_TOKEN" */
	const char *auth_prefix;       /* the token's header up to the token */
	const char *const *headers;    /* sent with every request; NULL-terminated */
	size_t repo_min_segs, repo_max_segs;
	const char *repo_forms; /* "'owner/name'", for messages */
	const char *repo_kind;  /* "GitHub repository", for messages */
	size_t body_max;        /* the longest body the forge takes, in bytes */

	/* A pull request below repo_path is pr_dir + number ("/pulls/12", "/merge_requests/12");
	 * its comments comment_dir + number + comment_tail ("/issues/12/comments",
	 * "/merge_requests/12/notes"). */
	const char *pr_dir;
	const char *comment_dir, *comment_tail;
	const char *pr_word;      /* "pull request #", "merge request !" */
	const char *close_method; /* "PATCH", "PUT" */
	const char *close_key;    /* {"state": "closed"}, {"state_event": "close"} */
	const char *close_value;
	const char *color_prefix; /* a label colour as the API takes it: "", "#" */
	long label_refused;       /* the status of a refused label colour: 422, 400 */

	/* Sets f->repo_path for f->repo. */
	void (*set_repo)(struct forge *f);
	/* Frees f->priv; may be NULL. */
	void (*release)(struct forge *f);
	int (*check)(struct forge *f, char **default_branch, struct db_err *err);
	int (*list_prs)(struct forge *f, struct forge_prs *out, const char *label,
	                const char *prefix, struct db_err *err);
	int (*pr_create)(struct forge *f, struct forge_pr *out, const struct forge_pr_spec *s,
	                 struct db_err *err);
	int (*dashboard)(struct forge *f, struct forge_issue *out, const char *title,
	                 const char *body, const struct strlist *labels, int *changed,
	                 struct db_err *err);

	/* One pull request object of the API (GET pr_dir + number): its number, head branch and
	 * state, whether its head is in another repository, and `pr` filled from it (-1 when
	 * it is not one the API sends). */
	long (*pr_number)(const json_t *obj);
	const char *(*pr_head)(const json_t *obj);
	int (*pr_open)(const json_t *obj);
	int (*pr_foreign)(const struct forge *f, const json_t *obj);
	int (*pr_fill)(struct forge_pr *pr, const json_t *obj);
	/* Brings the open pull request `obj` (confirmed the bot's) to say `s`, into `pr`,
	 * writing only what differs. */
	int (*pr_apply)(struct forge *f, const json_t *obj, struct forge_pr *pr,
	                const struct forge_pr_spec *s, int *changed, struct db_err *err);
};

struct forge {
	enum forge_provider provider;
	const struct forge_backend *be;
	struct http_client *http;
	char *api_url;     /* no trailing '/' */
	char *host;        /* host[:port], for messages */
	char *token_env;   /* the variable's name, for messages */
	char *auth_header; /* the only copy of the token, wiped on free */
	char *repo;        /* "owner/name", "group/sub/name"; NULL until set */
	char *repo_path;   /* below api_url: "/repos/o/r", "/projects/g%2Fp" */
	int rate_retries;
	long rate_wait_cap_ms, rate_wait_budget_ms, write_gap_ms;
	int max_pages;
	long long last_write_ms; /* clock_now_ms() of the last write; 0: none yet */
	int wrote;
	pthread_mutex_t lock;
	struct forge_stats stats;
	void *priv; /* the backend's own state */
};

/* A client without a repository (forge_set_repo() later), for the old pr_github_submit(). */
int forge_open(struct forge **out, const struct forge_opts *opts, int need_repo,
               struct db_err *err);
/* Sets or replaces the repository; DB_EUSAGE when `repo` is not one for the provider. */
int forge_set_repo(struct forge *f, const char *repo, struct db_err *err);

/* One API call's answer, parsed. */
struct forge_reply {
	struct http_response http;
	json_t *json; /* NULL when the body was empty or (on an error status) not JSON */
};

#define FORGE_REPLY_INIT                                                                           \
	{                                                                                          \
		HTTP_RESPONSE_INIT, NULL                                                           \
	}

void forge_reply_release(struct forge_reply *r);

/*
 * Sends one request to `path` (below api_url; or an absolute URL from forge_next_page()) with
 * an optional `query` and JSON `body`, and parses the answer. Rate limits are waited out here;
 * any other status is for the caller. A 2xx answer that is not JSON is DB_EPARSE.
 */
int forge_call(struct forge *f, struct forge_reply *r, const char *method, const char *path,
               const char *query, const char *body, struct db_err *err);
/* The error for a status the caller did not expect (forge.h lists them). */
int forge_status_error(struct forge *f, const struct forge_reply *r, const char *method,
                       const char *path, struct db_err *err);
int forge_is_2xx(const struct forge_reply *r);
/* Appends the server's message(s), printable and capped. */
void forge_server_message(struct buf *out, const json_t *json);
/* 1 when the server's message contains `what` (lower case), ignoring case. */
int forge_mentions(const json_t *json, const char *what);

/*
 * The next page of a listing whose page `url` answered `r`: `Link: <...>; rel="next"`, else
 * GitLab's `X-Next-Page` put into `url`. `*next` is NULL on the last page, else an absolute
 * URL with the API's origin (the caller frees it). `seen` (the URLs read so far) detects a
 * loop; more than f->max_pages pages is an error.
 */
int forge_next_page(struct forge *f, const struct forge_reply *r, const char *url,
                    struct strlist *seen, char **next, struct db_err *err);

/* --- small pieces the backends share ------------------------------------------------------ */

const char *forge_json_str(const json_t *obj, const char *key);
/* An ISO 8601 time at `key` in unix seconds; 0 when absent or not one. */
long long forge_json_time(const json_t *obj, const char *key);
/* `obj` as compact JSON (stolen); NULL when a string in it was not valid UTF-8. */
char *forge_dump(json_t *obj);
/* Equal as text, a CRLF on either side counting as LF (forges may hand CRLF back). */
int forge_same_text(const char *a, const char *b);
/* Case-insensitive membership (GitHub and GitLab compare label names without case). */
int forge_has_label(const struct strlist *l, const char *name);
/* Sets pr->body (copied) and pr->marker from it. */
void forge_pr_set_body(struct forge_pr *pr, const char *body);
/* The fields every API names alike: title, the body at `body_key` (and its marker),
 * created/updated/merged/closed times, labels, draft. */
void forge_pr_fill(struct forge_pr *pr, const json_t *obj, const char *body_key);
/* A zeroed new element at the end of `l`. */
struct forge_pr *forge_prs_push(struct forge_prs *l);
/* Newest first: by created_at, then number. */
void forge_prs_sort(struct forge_prs *l);
/* Overwrites every copy of the token in `s` with '*'. */
void forge_scrub(const struct forge *f, char *s);
/* Text from the forge in a message: printable, at most 100 bytes ("(none)" for NULL). */
void forge_add_shown(struct buf *out, const char *s);
/* Replaces `*dst` with a copy of `s` (NULL allowed). */
void forge_set_str(char **dst, const char *s);
/* `out` becomes the label names of a JSON list (objects with "name", or strings). */
void forge_set_labels(struct strlist *out, const json_t *labels);
/* 1 when `head` is a branch below `prefix` (and not `prefix` itself). */
int forge_under_prefix(const char *head, const char *prefix);
/* GET of one object below the repository (`what`: "/pulls/12", "" for the repository
 * itself); `*out` a new reference. */
int forge_get_object(struct forge *f, json_t **out, const char *what, struct db_err *err);
/* A write (`path` below api_url) whose answer must be 2xx; `*out` (may be NULL) gets the
 * answer's JSON. `body` is stolen. */
int forge_write_json(struct forge *f, json_t **out, const char *method, const char *path,
                     json_t *body, struct db_err *err);
/* A GET that must answer an array; `*out` a new reference. */
int forge_get_array(struct forge *f, json_t **out, const char *path, const char *query,
                    struct db_err *err);
/* Reads every page of the listing at `url` (absolute, from f->api_url), calling `each` with
 * every element of every page; `each` returns 0, or an error that ends the listing. */
int forge_list_pages(struct forge *f, const char *url,
                     int (*each)(struct forge *f, void *ctx, json_t *e, struct db_err *err),
                     void *ctx, struct db_err *err);
/* "github at 'HOST'" prefix pieces for messages. */
#define FORGE_WHO(f) (f)->be->name, (f)->host

#endif

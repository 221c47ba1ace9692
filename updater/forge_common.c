/*
 * What the forge backends share (forge_int.h): the client's HTTP calls with rate limits and
 * pagination, error messages, the JSON and pull request helpers. The front (forge.c) picks a
 * backend and runs the provider-neutral flows; neither this file nor a backend calls it.
 */
#include "updater/forge_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/tagver.h"
#include "common/banned.h"

/* The forge's own messages go into ours; a hostile server gets this many bytes of say. */
#define SERVER_MSG_MAX 300

/* --- the token never leaves this file, but for the header ------------------------------ */

static const char *token(const struct forge *f)
{
	return f->auth_header + strlen(f->be->auth_prefix);
}

/* A last line of defence: no message is built from the token, but one may quote a server
 * that echoed it. */
void forge_scrub(const struct forge *f, char *s)
{
	const char *t = token(f);
	size_t n = strlen(t);

	while (n && s && (s = strstr(s, t))) {
		memset(s, '*', n);
		s += n;
	}
}

/*
 * Checks that api_url is an http(s) URL without a user name or password (credentials belong
 * in the token, not in the URL) and puts its "host[:port]" into `host`, for messages.
 */
void forge_reply_release(struct forge_reply *r)
{
	http_response_release(&r->http);
	json_decref(r->json);
	r->json = NULL;
}

int forge_is_2xx(const struct forge_reply *r)
{
	return r->http.status >= 200 && r->http.status < 300;
}

static void add_sep(struct buf *out, size_t start)
{
	if (out->len > start)
		buf_adds(out, "; ");
}

/* GitLab's "message" may be a string, a list of strings, or field -> list of strings. */
static void add_message_value(struct buf *out, size_t start, const char *field, const json_t *v)
{
	const json_t *e;
	const char *key;
	size_t i;

	if (json_is_string(v)) {
		add_sep(out, start);
		if (field)
			buf_addf(out, "%s ", field);
		buf_adds(out, json_string_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			add_message_value(out, start, field, e);
		}
	} else if (json_is_object(v) && !field) {
		json_object_foreach((json_t *)v, key, e)
		{
			add_message_value(out, start, key, e);
		}
	}
}

void forge_server_message(struct buf *out, const json_t *json)
{
	const json_t *errors = json_object_get(json, "errors"), *e;
	size_t start = out->len, i;
	const char *s, *field;

	add_message_value(out, start, NULL, json_object_get(json, "message"));
	add_message_value(out, start, NULL, json_object_get(json, "error"));
	/* GitHub's validation errors: a message, or a field and a code. */
	json_array_foreach(errors, i, e)
	{
		s = json_string_value(json_object_get(e, "message"));
		field = json_string_value(json_object_get(e, "field"));
		if (s) {
			add_sep(out, start);
			buf_adds(out, s);
		} else if ((s = json_string_value(json_object_get(e, "code")))) {
			add_sep(out, start);
			if (field)
				buf_addf(out, "%s ", field);
			buf_adds(out, s);
		}
	}
	if (out->len == start)
		buf_adds(out, "no message");
	if (out->len - start > SERVER_MSG_MAX) {
		buf_setlen(out, start + SERVER_MSG_MAX);
		buf_adds(out, "...");
	}
	for (i = start; i < out->len; i++)
		if ((unsigned char)out->ptr[i] < 0x20 || out->ptr[i] == 0x7f)
			out->ptr[i] = '?';
}

int forge_mentions(const json_t *json, const char *what)
{
	struct buf msg = BUF_INIT;
	size_t i;
	int found;

	forge_server_message(&msg, json);
	for (i = 0; i < msg.len; i++)
		msg.ptr[i] = (char)tolower((unsigned char)msg.ptr[i]);
	found = strstr(msg.ptr, what) != NULL;
	buf_release(&msg);
	return found;
}

static const char *header2(const struct forge_reply *r, const char *a, const char *b)
{
	const char *v = http_response_header(&r->http, a);
	return v ? v : http_response_header(&r->http, b);
}

/*
 * Is this answer a rate limit (403 or 429 with retry-after, or a remaining count of 0, or a
 * message saying so) rather than a refusal?
 */
static int rate_limited(const struct forge_reply *r)
{
	const char *remaining = header2(r, "x-ratelimit-remaining", "ratelimit-remaining");

	if (r->http.status != 403 && r->http.status != 429)
		return 0;
	return http_response_header(&r->http, "retry-after") ||
	       (remaining && !strcmp(remaining, "0")) || forge_mentions(r->json, "rate limit");
}

/* How long the server asks us to wait before try `attempt` (0-based), in ms. */
static long rate_wait_ms(const struct forge_reply *r, int attempt)
{
	const char *after = http_response_header(&r->http, "retry-after");
	const char *remaining = header2(r, "x-ratelimit-remaining", "ratelimit-remaining");
	const char *reset = header2(r, "x-ratelimit-reset", "ratelimit-reset");
	long secs;

	if (after && !parse_long(&secs, after, 0, 86400))
		return secs * 1000;
	if (remaining && !strcmp(remaining, "0") && reset &&
	    !parse_long(&secs, reset, 0, 4102444800L)) {
		time_t now = time(NULL);
		/* The reset time has a one-second grain: wait a second more. */
		return (time_t)secs >= now ? (long)((time_t)secs - now + 1) * 1000 : 1000;
	}
	/* A secondary limit that names no time: a minute, doubling (GitHub's advice). */
	return 60000L << (attempt < 5 ? attempt : 5);
}

static int parse_reply(struct forge *f, struct forge_reply *r, const char *method,
                       const char *shown, struct db_err *err)
{
	json_error_t jerr;

	if (!r->http.body.len)
		return 0;
	r->json = json_loadb(r->http.body.ptr, r->http.body.len, 0, &jerr);
	if (!r->json && forge_is_2xx(r))
		return db_err_set(err, DB_EPARSE,
		                  "%s at '%s': %s '%s' answered HTTP %ld with invalid JSON "
		                  "(line %d: %s)",
		                  FORGE_WHO(f), method, shown, r->http.status, jerr.line,
		                  jerr.text);
	return 0; /* an error page that is not JSON says what it has to say by its status */
}

int forge_call(struct forge *f, struct forge_reply *r, const char *method, const char *path,
               const char *query, const char *body, struct db_err *err)
{
	const char *headers[8];
	struct http_request req = {0};
	struct buf url = BUF_INIT;
	int absolute = !strncmp(path, "http://", 7) || !strncmp(path, "https://", 8);
	char *shown;
	long waited = 0, wait;
	int attempt, ret = 0, is_write = strcmp(method, "GET") != 0;
	size_t nh = 0, i;

	for (i = 0; f->be->headers && f->be->headers[i] && nh < 5; i++)
		headers[nh++] = f->be->headers[i];
	headers[nh++] = f->auth_header;
	if (body)
		headers[nh++] = "Content-Type: application/json";
	headers[nh] = NULL;

	if (absolute)
		buf_adds(&url, path);
	else
		buf_addf(&url, "%s%s", f->api_url, path);
	if (query)
		buf_addf(&url, "%c%s", strchr(url.ptr, '?') ? '&' : '?', query);
	shown = http_redact_url(url.ptr);
	req.method = method;
	req.url = url.ptr;
	req.headers = headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;

	for (attempt = 0;; attempt++) {
		struct db_err http_err = DB_ERR_INIT;

		if (is_write && f->wrote && f->write_gap_ms > 0)
			clock_sleep_ms(f->write_gap_ms - (long)(clock_now_ms() - f->last_write_ms));
		forge_reply_release(r);
		ret = http_request(f->http, &r->http, &req, &http_err);
		if (is_write) {
			f->last_write_ms = clock_now_ms();
			f->wrote = 1;
			f->stats.writes +=
			    r->http.attempts > 0 ? (unsigned long)r->http.attempts : 1;
		} else {
			f->stats.reads +=
			    r->http.attempts > 0 ? (unsigned long)r->http.attempts : 1;
		}
		/* http.c gives up on a 429 it retried to the end: that may still be a limit we
		 * know how to wait out. Every other transport error is final. */
		if (ret < 0 && !(ret == DB_ENET && r->http.status == 429)) {
			db_err_set(err, ret, "%s at '%s': %s", FORGE_WHO(f), http_err.msg);
			goto out;
		}
		ret = 0;
		/* libcurl withholds the token's header from another host; an answer from there
		 * is not the forge's answer either. */
		if (r->http.effective_url && !http_same_origin(r->http.effective_url, f->api_url)) {
			ret = db_err_set(
			    err, DB_ENET,
			    "%s at '%s': %s '%s' was redirected to another host; the answer is "
			    "ignored (is pull_request.api_url right?)",
			    FORGE_WHO(f), method, shown);
			goto out;
		}
		if ((ret = parse_reply(f, r, method, shown, err)) < 0)
			goto out;
		if (!rate_limited(r))
			goto out;

		wait = rate_wait_ms(r, attempt);
		if (attempt >= f->rate_retries || waited + wait > f->rate_wait_budget_ms) {
			ret = db_err_set(err, DB_ENET,
			                 "%s at '%s' keeps rate-limiting %s '%s' (HTTP %ld, %d "
			                 "tries; next wait %ld s); try again later",
			                 FORGE_WHO(f), method, shown, r->http.status, attempt + 1,
			                 wait / 1000);
			goto out;
		}
		if (wait > f->rate_wait_cap_ms)
			wait = f->rate_wait_cap_ms;
		log_info("%s at '%s' rate-limits %s '%s' (HTTP %ld); waiting %.1f s", FORGE_WHO(f),
		         method, shown, r->http.status, (double)wait / 1000);
		clock_sleep_ms(wait);
		waited += wait;
	}
out:
	if (ret < 0)
		forge_scrub(f, err->msg);
	buf_release(&url);
	free(shown);
	return ret;
}

int forge_status_error(struct forge *f, const struct forge_reply *r, const char *method,
                       const char *path, struct db_err *err)
{
	struct buf msg = BUF_INIT, url = BUF_INIT;
	long status = r->http.status;
	char *shown;
	int ret;

	if (!strncmp(path, "http://", 7) || !strncmp(path, "https://", 8))
		buf_adds(&url, path);
	else
		buf_addf(&url, "%s%s", f->api_url, path);
	shown = http_redact_url(url.ptr);
	forge_server_message(&msg, r->json);
	if (status == 401)
		ret = db_err_set(err, DB_EAUTH, "%s at '%s' refused the token (401); check '%s'",
		                 FORGE_WHO(f), f->token_env);
	else if (status == 403)
		ret = db_err_set(err, DB_EAUTH,
		                 "%s at '%s' denied %s '%s' (403: %s); the token in '%s' needs "
		                 "write access to pull requests and issues of '%s'",
		                 FORGE_WHO(f), method, shown, msg.ptr, f->token_env, f->repo);
	else if (status == 404)
		ret = db_err_set(err, DB_ENOTFOUND,
		                 "%s at '%s': %s '%s' not found (404 on %s '%s'); check "
		                 "pull_request.repo and that the token in '%s' can see it",
		                 FORGE_WHO(f), f->be->repo_kind, f->repo, method, shown,
		                 f->token_env);
	else if (status == 400 || status == 409 || status == 422)
		ret = db_err_set(err, DB_ECONFLICT, "%s at '%s' rejected %s '%s' (%ld: %s)",
		                 FORGE_WHO(f), method, shown, status, msg.ptr);
	else
		ret = db_err_set(err, status >= 500 || status == 429 ? DB_ENET : DB_ERROR,
		                 "%s at '%s': %s '%s' answered HTTP %ld (%s)", FORGE_WHO(f), method,
		                 shown, status, msg.ptr);
	forge_scrub(f, err->msg);
	buf_release(&msg);
	buf_release(&url);
	free(shown);
	return ret;
}

/* --- pagination ------------------------------------------------------------------------- */

/* The target of `rel="next"` in a Link header, or NULL; the caller frees it. */
static char *link_next(const char *link)
{
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *end;
		if (!lt || !(gt = strchr(lt, '>')))
			return NULL;
		end = strchr(gt, ',');
		if (!end)
			end = gt + strlen(gt);
		/* The parameters of this link: rel="next" (or rel=next) among them. */
		{
			char *params = xstrndup(gt + 1, (size_t)(end - gt - 1));
			int next = strstr(params, "rel=\"next\"") || strstr(params, "rel=next");
			free(params);
			if (next)
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/* `url` with its `page` parameter set to `page`. */
static char *with_page(const char *url, const char *page)
{
	struct buf b = BUF_INIT;
	const char *q = strchr(url, '?'), *p;

	if (!q) {
		buf_addf(&b, "%s?page=%s", url, page);
		return buf_detach(&b, NULL);
	}
	buf_add(&b, url, (size_t)(q - url));
	buf_addch(&b, '?');
	for (p = q + 1; *p;) {
		size_t n = strcspn(p, "&");
		if (!(n >= 5 && !strncmp(p, "page=", 5))) {
			buf_add(&b, p, n);
			buf_addch(&b, '&');
		}
		p += n;
		if (*p)
			p++;
	}
	buf_addf(&b, "page=%s", page);
	return buf_detach(&b, NULL);
}

int forge_next_page(struct forge *f, const struct forge_reply *r, const char *url,
                    struct strlist *seen, char **next, struct db_err *err)
{
	const char *link = http_response_header(&r->http, "link");
	const char *xnext = http_response_header(&r->http, "x-next-page");
	char *n = NULL, *abs, *shown;
	long page;

	*next = NULL;
	f->stats.pages++;
	strlist_push(seen, url);
	if (link)
		n = link_next(link);
	if (!n && xnext && *xnext) {
		if (parse_long(&page, xnext, 1, 1000000))
			return db_err_set(err, DB_EPARSE,
			                  "%s at '%s': X-Next-Page '%.20s' is no page",
			                  FORGE_WHO(f), xnext);
		n = with_page(url, xnext);
	}
	if (!n)
		return 0;
	abs = http_resolve_url(url, n);
	free(n);
	shown = http_redact_url(url);
	if (!abs || !http_same_origin(abs, f->api_url)) {
		db_err_set(err, DB_ENET,
		           "%s at '%s': the next page of '%s' is on another host; not followed",
		           FORGE_WHO(f), shown);
		goto fail;
	}
	if (strlist_has(seen, abs)) {
		db_err_set(err, DB_ENET, "%s at '%s': the pages of '%s' loop", FORGE_WHO(f), shown);
		goto fail;
	}
	if (seen->nr >= (size_t)f->max_pages) {
		db_err_set(err, DB_ETOOBIG, "%s at '%s': '%s' has more than %d pages", FORGE_WHO(f),
		           shown, f->max_pages);
		goto fail;
	}
	free(shown);
	*next = abs;
	return 0;
fail:
	free(abs);
	free(shown);
	return err->code;
}

/* --- small pieces the backends share ------------------------------------------------------ */

const char *forge_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long forge_json_time(const json_t *obj, const char *key)
{
	const char *s = forge_json_str(obj, key);
	struct timespec ts;

	if (!s || tagtime_parse(&ts, s) < 0)
		return 0;
	return (long long)ts.tv_sec;
}

char *forge_dump(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	return s;
}

int forge_same_text(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	while (*a || *b) {
		if (*a == '\r' && a[1] == '\n')
			a++;
		if (*b == '\r' && b[1] == '\n')
			b++;
		if (*a != *b)
			return 0;
		if (*a)
			a++, b++;
	}
	return 1;
}

int forge_has_label(const struct strlist *l, const char *name)
{
	size_t i;

	for (i = 0; l && i < l->nr; i++)
		if (!strcasecmp(l->v[i], name))
			return 1;
	return 0;
}

void forge_pr_set_body(struct forge_pr *pr, const char *body)
{
	struct db_err err = DB_ERR_INIT;

	free(pr->body);
	pr_marker_release(&pr->marker);
	pr->body = body ? xstrdup(body) : NULL;
	if (body && pr_marker_parse(&pr->marker, body, strlen(body), &err) == DB_EPARSE)
		log_debug("pull request #%ld: %s", pr->number, err.msg);
}

void forge_pr_fill(struct forge_pr *pr, const json_t *obj, const char *body_key)
{
	forge_set_str(&pr->title, forge_json_str(obj, "title"));
	forge_pr_set_body(pr, forge_json_str(obj, body_key));
	pr->created_at = forge_json_time(obj, "created_at");
	pr->updated_at = forge_json_time(obj, "updated_at");
	pr->merged_at = forge_json_time(obj, "merged_at");
	pr->closed_at = forge_json_time(obj, "closed_at");
	forge_set_labels(&pr->labels, json_object_get(obj, "labels"));
	/* GitLab before 14 says work_in_progress. */
	pr->draft = json_is_true(json_object_get(obj, "draft")) ||
	            json_is_true(json_object_get(obj, "work_in_progress"));
}

struct forge_pr *forge_prs_push(struct forge_prs *l)
{
	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->v = xreallocarray(l->v, l->alloc, sizeof(*l->v));
	}
	memset(&l->v[l->nr], 0, sizeof(*l->v));
	return &l->v[l->nr++];
}

static int newest_first(const void *a, const void *b)
{
	const struct forge_pr *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? 1 : -1;
	return (x->number < y->number) - (x->number > y->number);
}

void forge_prs_sort(struct forge_prs *l)
{
	if (l->nr > 1)
		qsort(l->v, l->nr, sizeof(*l->v), newest_first);
}

void forge_pr_release(struct forge_pr *pr)
{
	if (!pr)
		return;
	free(pr->url);
	free(pr->head);
	free(pr->base);
	free(pr->title);
	free(pr->body);
	strlist_clear(&pr->labels);
	pr_marker_release(&pr->marker);
	memset(pr, 0, sizeof(*pr));
}

void forge_prs_release(struct forge_prs *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++)
		forge_pr_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void forge_issue_release(struct forge_issue *i)
{
	if (!i)
		return;
	free(i->url);
	free(i->title);
	free(i->body);
	memset(i, 0, sizeof(*i));
}

void forge_add_shown(struct buf *out, const char *s)
{
	size_t i;

	if (!s) {
		buf_adds(out, "(none)");
		return;
	}
	for (i = 0; s[i] && i < 100; i++)
		buf_addch(out, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
	if (s[i])
		buf_adds(out, "...");
}

void forge_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

void forge_set_labels(struct strlist *out, const json_t *labels)
{
	const json_t *l;
	const char *name;
	size_t i;

	strlist_clear(out);
	json_array_foreach(labels, i, l)
	{
		/* GitHub gives objects, GitLab names (objects with with_labels_details). */
		name = json_is_string(l) ? json_string_value(l) : forge_json_str(l, "name");
		if (name)
			strlist_push(out, name);
	}
}

int forge_under_prefix(const char *head, const char *prefix)
{
	return head && !strncmp(head, prefix, strlen(prefix)) && strlen(head) > strlen(prefix);
}

int forge_get_object(struct forge *f, json_t **out, const char *what, struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	char *path = xasprintf("%s%s", f->repo_path, what);
	int ret;

	*out = NULL;
	if ((ret = forge_call(f, &r, "GET", path, NULL, NULL, err)) < 0)
		goto out;
	if (!forge_is_2xx(&r)) {
		ret = forge_status_error(f, &r, "GET", path, err);
		goto out;
	}
	if (!json_is_object(r.json)) {
		ret = db_err_set(err, DB_EPARSE, "%s at '%s': GET '%s%s' did not answer an object",
		                 FORGE_WHO(f), f->api_url, path);
		goto out;
	}
	*out = json_incref(r.json);
out:
	forge_reply_release(&r);
	free(path);
	return ret;
}

int forge_write_json(struct forge *f, json_t **out, const char *method, const char *path,
                     json_t *body, struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	char *json = forge_dump(body);
	int ret;

	if (out)
		*out = NULL;
	if (!json)
		return db_err_set(err, DB_EPARSE, "%s: a value for %s '%s' is not valid UTF-8",
		                  f->be->name, method, path);
	if ((ret = forge_call(f, &r, method, path, NULL, json, err)) < 0)
		goto out;
	if (!forge_is_2xx(&r)) {
		ret = forge_status_error(f, &r, method, path, err);
		goto out;
	}
	if (out)
		*out = json_incref(r.json);
out:
	forge_reply_release(&r);
	free(json);
	return ret;
}

int forge_get_array(struct forge *f, json_t **out, const char *path, const char *query,
                    struct db_err *err)
{
	struct forge_reply r = FORGE_REPLY_INIT;
	int ret;

	*out = NULL;
	if ((ret = forge_call(f, &r, "GET", path, query, NULL, err)) < 0)
		goto out;
	if (!forge_is_2xx(&r)) {
		ret = forge_status_error(f, &r, "GET", path, err);
		goto out;
	}
	if (!json_is_array(r.json)) {
		ret = db_err_set(err, DB_EPARSE, "%s at '%s': GET '%s%s' did not answer a list",
		                 FORGE_WHO(f), f->api_url, path);
		goto out;
	}
	*out = json_incref(r.json);
out:
	forge_reply_release(&r);
	return ret;
}

int forge_list_pages(struct forge *f, const char *url,
                     int (*each)(struct forge *f, void *ctx, json_t *e, struct db_err *err),
                     void *ctx, struct db_err *err)
{
	struct strlist seen = {0};
	char *page = xstrdup(url), *next = NULL;
	json_t *e;
	size_t i;
	int ret = 0;

	while (page && !ret) {
		json_t *list = NULL;
		struct forge_reply r = FORGE_REPLY_INIT;

		if ((ret = forge_call(f, &r, "GET", page, NULL, NULL, err)) < 0)
			goto page_out;
		if (!forge_is_2xx(&r)) {
			ret = forge_status_error(f, &r, "GET", page, err);
			goto page_out;
		}
		list = r.json;
		if (!json_is_array(list)) {
			char *shown = http_redact_url(page);
			ret =
			    db_err_set(err, DB_EPARSE, "%s at '%s': GET '%s' did not answer a list",
			               FORGE_WHO(f), shown);
			free(shown);
			goto page_out;
		}
		json_array_foreach(list, i, e)
		{
			if ((ret = each(f, ctx, e, err)) < 0)
				goto page_out;
		}
		ret = forge_next_page(f, &r, page, &seen, &next, err);
	page_out:
		forge_reply_release(&r);
		free(page);
		page = next;
		next = NULL;
	}
	free(page);
	strlist_clear(&seen);
	return ret;
}

/* --- what every backend does the same way ----------------------------------------------- */

/*
 * Before a write: the pull request's real state, read from the forge. Its head must be
 * `head` of this repository (a marker can say anything, a fork can carry any branch name),
 * or nothing is written (DB_ECONFLICT). `*obj` is a new reference.
 */

#include "updater/pullreq.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

/* Room kept after the tables for the logs section's skeleton, its notes and the footer. */
#define BODY_RESERVE 2048
/* Room kept after the logs for closing their section, the note on left-out logs and the
 * footer. */
#define FOOTER_RESERVE 512
/* A log excerpt never gets more than this, however much room is left. */
#define LOG_MAX 8192
/* ...and a log that would get less than this is left out. */
#define LOG_MIN 256

void pr_result_release(struct pr_result *res)
{
	if (!res)
		return;
	free(res->url);
	res->url = NULL;
	res->number = 0;
	res->outcome = 0;
}

const char *pr_outcome_name(enum pr_outcome outcome)
{
	switch (outcome) {
	case PR_CREATED:
		return "created";
	case PR_UPDATED:
		return "updated";
	case PR_UNCHANGED:
		return "unchanged";
	}
	return "none";
}

/*
 * The length of the well-formed UTF-8 sequence at `s` (of `n` bytes), or 0 when it is not one
 * (bad lead byte, truncated, overlong, a surrogate, above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

#define REPLACEMENT_CHAR "\xef\xbf\xbd"

/*
 * The one escaper behind both contexts. Inline text (`pre` == 0) backslash-escapes Markdown's
 * inline punctuation and flattens line breaks; text inside <pre> (`pre` == 1) keeps line
 * breaks and tabs and needs only the HTML entities, since nothing else is markup there. In
 * both, `<` is always an entity, so nothing in `s` can open or close an HTML block.
 */
static void escape(struct buf *out, const char *str, size_t n, int pre)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		if (c >= 0x80) {
			len = utf8_len(s + i, n - i);
			if (len)
				buf_add(out, s + i, len);
			else
				buf_adds(out, REPLACEMENT_CHAR);
			i += len ? len : 1;
			continue;
		}
		i++;
		switch (c) {
		case '<':
			buf_adds(out, "&lt;");
			continue;
		case '>':
			buf_adds(out, "&gt;");
			continue;
		case '&':
			buf_adds(out, "&amp;");
			continue;
		case '\n':
		case '\t':
			buf_addch(out, pre ? c : ' ');
			continue;
		case '\r':
			if (!pre)
				buf_addch(out, ' ');
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_addch(out, ' ');
			continue;
		}
		if (!pre && strchr("\\`*_[]|~", c))
			buf_addch(out, '\\');
		buf_addch(out, c);
	}
}

void pr_md_escape(struct buf *out, const char *s)
{
	if (s)
		escape(out, s, strlen(s), 0);
}

static void plural(struct buf *out, size_t n, const char *one, const char *many)
{
	buf_addf(out, "%zu %s", n, n == 1 ? one : many);
}

/*
 * Text that is not Markdown (titles, error messages): valid UTF-8 with every control
 * character shown as '?', so a hostile value cannot forge lines or terminal escapes.
 */
static void add_printable(struct buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n) {
		if (s[i] >= 0x80 && (len = utf8_len(s + i, n - i))) {
			buf_add(out, s + i, len);
			i += len;
			continue;
		}
		buf_addch(out, s[i] < 0x20 || s[i] >= 0x7f ? '?' : s[i]);
		i++;
	}
}

void pr_format_title(struct buf *out, const struct pr_request *req)
{
	buf_adds(out, "Update ");
	add_printable(out, req->image, strlen(req->image));
	buf_adds(out, " to ");
	add_printable(out, req->tag, strlen(req->tag));
	if (req->batch > 0)
		buf_addf(out, " (batch %d)", req->batch);
}

static const char *item_image(const struct pr_request *req, const struct pr_item *it)
{
	return it->image ? it->image : req->image;
}

static void add_verification(struct buf *out, const struct pr_item *it)
{
	if (it->blocked)
		buf_adds(out, "**blocked**: ");
	if (!it->verify_old && !it->verify_new) {
		buf_adds(out, "not verified");
		return;
	}
	pr_md_escape(out, it->verify_old ? it->verify_old : "n/a");
	buf_adds(out, " \xe2\x86\x92 "); /* → */
	pr_md_escape(out, it->verify_new ? it->verify_new : "n/a");
}

static void add_row(struct buf *out, const struct pr_request *req, const struct pr_item *it)
{
	buf_adds(out, "| ");
	pr_md_escape(out, it->name);
	buf_adds(out, " | ");
	pr_md_escape(out, it->pack);
	buf_adds(out, " | ");
	pr_md_escape(out, it->old_tag);
	buf_adds(out, " | ");
	pr_md_escape(out, it->new_tag ? it->new_tag : req->tag);
	buf_adds(out, " | ");
	add_verification(out, it);
	buf_adds(out, " |\n");
}

/* Has an earlier item the same image? Then its group has been written already. */
static int image_seen_before(const struct pr_request *req, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(item_image(req, &req->items[j]), item_image(req, &req->items[i])))
			return 1;
	return 0;
}

static size_t nr_images(const struct pr_request *req)
{
	size_t i, n = 0;

	for (i = 0; i < req->nr_items; i++)
		n += !image_seen_before(req, i);
	return n;
}

/* One table per image, in the order the images first appear; rows in input order. */
static void add_tables(struct buf *out, size_t start, const struct pr_request *req)
{
	size_t i, j, cut = 0, row_start;

	for (i = 0; i < req->nr_items; i++) {
		const char *image = item_image(req, &req->items[i]);

		if (image_seen_before(req, i))
			continue;
		buf_adds(out, "\n#### ");
		pr_md_escape(out, image);
		buf_adds(out, "\n\n| Item | Pack | Old tag | New tag | Verification (old "
		              "\xe2\x86\x92 new) |\n"
		              "| --- | --- | --- | --- | --- |\n");
		for (j = i; j < req->nr_items; j++) {
			if (strcmp(item_image(req, &req->items[j]), image))
				continue;
			row_start = out->len;
			add_row(out, req, &req->items[j]);
			if (cut || out->len - start > PR_BODY_MAX - BODY_RESERVE) {
				buf_setlen(out, row_start);
				cut++;
			}
		}
	}
	if (cut) {
		buf_adds(out, "\n*");
		plural(out, cut, "more item is", "more items are");
		buf_adds(out, " not listed here; the run's report has them all.*\n");
	}
}

/*
 * Appends the end of `log`, escaped for <pre>, in at most `room` bytes: the end of a log is
 * where the error is. Cutting the raw text (never the escaped one) keeps entities and UTF-8
 * sequences whole.
 */
static void add_log_tail(struct buf *out, const char *log, size_t room)
{
	struct buf tmp = BUF_INIT;
	size_t n = strlen(log), start = 0, excess;

	/* Escaping never turns a byte into less than one, but for '\r' (dropped): the last
	 * `room` bytes are the most that can fit. */
	if (n > room)
		start = n - room;
	for (;;) {
		while (start < n && ((unsigned char)log[start] & 0xc0) == 0x80)
			start++;
		buf_reset(&tmp);
		escape(&tmp, log + start, n - start, 1);
		if (tmp.len <= room)
			break;
		/* Dropping excess/5 raw bytes drops at most `excess` escaped ones: never too
		 * many, and the excess shrinks every round. */
		excess = tmp.len - room;
		start += excess / 5 ? excess / 5 : 1;
	}
	if (start)
		buf_addf(out, "[%zu bytes cut]\n", start);
	buf_add(out, tmp.ptr, tmp.len);
	if (tmp.len && tmp.ptr[tmp.len - 1] != '\n')
		buf_addch(out, '\n');
	buf_release(&tmp);
}

static void add_logs(struct buf *out, size_t start, const struct pr_request *req, size_t nr_blocked)
{
	/* Everything up to the end of the logs fits here; the rest is for closing the section,
	 * the note on left-out logs and the footer. */
	const size_t limit = PR_BODY_MAX - FOOTER_RESERVE;
	size_t i, room = 0, share, used, left_out = 0;

	if (!nr_blocked)
		return;
	buf_addf(out, "\n<details>\n<summary>Verification logs of blocked items (%zu)</summary>\n",
	         nr_blocked);
	used = out->len - start;
	share = limit > used ? (limit - used) / nr_blocked : 0;
	for (i = 0; i < req->nr_items; i++) {
		const struct pr_item *it = &req->items[i];
		size_t entry_start = out->len;

		if (!it->blocked)
			continue;
		buf_adds(out, "\n**");
		pr_md_escape(out, it->name);
		buf_adds(out, "** (");
		pr_md_escape(out, it->path);
		buf_adds(out, ")\n\n");
		if (!it->log || !*it->log) {
			buf_adds(out, "*No log was recorded.*\n");
		} else {
			/* The share covers this entry's heading and tags too. */
			used =
			    out->len - entry_start + sizeof("<pre>\n</pre>\n[99999999 bytes cut]");
			room = share > used ? share - used : 0;
			if (room >= LOG_MIN) {
				buf_adds(out, "<pre>\n");
				add_log_tail(out, it->log, room < LOG_MAX ? room : LOG_MAX);
				buf_adds(out, "</pre>\n");
			}
		}
		/* An entry whose log has no room to say anything is no use either. */
		if (out->len - start > limit || (it->log && *it->log && room < LOG_MIN)) {
			buf_setlen(out, entry_start);
			left_out++;
		}
	}
	if (left_out) {
		buf_addch(out, '\n');
		buf_adds(out, "*");
		plural(out, left_out, "log is", "logs are");
		buf_adds(out, " left out for want of room; the run's report has them.*\n");
	}
	buf_adds(out, "\n</details>\n");
}

void pr_format_body(struct buf *out, const struct pr_request *req)
{
	size_t i, nr_blocked = 0, start = out->len;

	for (i = 0; i < req->nr_items; i++)
		nr_blocked += req->items[i].blocked != 0;

	if (nr_images(req) > 1) {
		buf_adds(out, "Updates the Docker images of ");
		plural(out, req->nr_items - nr_blocked, "item", "items");
		buf_adds(out, ", per image below.");
	} else {
		buf_adds(out, "Updates the Docker image of ");
		plural(out, req->nr_items - nr_blocked, "item", "items");
		buf_adds(out, " to **");
		pr_md_escape(out, req->image);
		buf_addch(out, ':');
		pr_md_escape(out, req->tag);
		buf_adds(out, "**.");
	}
	if (nr_blocked) {
		buf_addch(out, ' ');
		plural(out, nr_blocked, "item was", "items were");
		buf_adds(out, " blocked by verification (the new image did worse than the old one) "
		              "and left out.");
	}
	buf_addch(out, '\n');

	/* The limit is for this body, whatever `out` held before: sizes count from `start`. */
	add_tables(out, start, req);
	add_logs(out, start, req, nr_blocked);

	buf_adds(out, "\n---\n*Opened by dockerbump. A newer tag updates this pull request; "
	              "edits to its title and body are overwritten.*\n");
}

/* --- repositories --------------------------------------------------------------------- */

void pr_repo_release(struct pr_repo *repo)
{
	if (!repo)
		return;
	free(repo->host);
	free(repo->owner);
	free(repo->name);
	free(repo->full);
	repo->host = repo->owner = repo->name = repo->full = NULL;
}

/*
 * GitHub account names are letters, digits and hyphens (GitHub Enterprise adds `_` and `.`
 * for names from LDAP/SAML); repository names add `.` and `_`. Neither may be "." or "..",
 * and nothing here can leave its path segment when it is put into a URL.
 */
static int valid_segment(const char *s, size_t n, size_t max)
{
	size_t i;

	if (!n || n > max || (n <= 2 && !strncmp(s, "..", n)))
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* Splits "owner/name" (exactly two valid segments) into `out`; 0, or -1 when it is not one. */
static int split_owner_name(struct pr_repo *out, const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t owner_len;

	if (!slash)
		return -1;
	owner_len = (size_t)(slash - s);
	if (!valid_segment(s, owner_len, 100) || !valid_segment(slash + 1, n - owner_len - 1, 100))
		return -1;
	out->owner = xstrndup(s, owner_len);
	out->name = xstrndup(slash + 1, n - owner_len - 1);
	out->full = xstrndup(s, n);
	return 0;
}

int pr_repo_parse(struct pr_repo *out, const char *owner_name, struct db_err *err)
{
	memset(out, 0, sizeof(*out));
	if (split_owner_name(out, owner_name, strlen(owner_name)) < 0) {
		struct buf shown = BUF_INIT;
		add_printable(&shown, owner_name, strlen(owner_name));
		db_err_set(err, DB_EUSAGE, "pull_request.repo '%s' is not 'owner/name'", shown.ptr);
		buf_release(&shown);
		return DB_EUSAGE;
	}
	return 0;
}

/* Where the host starts in an authority [s, end): after the last '@', if any. */
static const char *after_userinfo(const char *s, const char *end)
{
	const char *host = s;

	for (; s < end; s++)
		if (*s == '@')
			host = s + 1;
	return host;
}

/*
 * The URL for messages: a password in it ("https://user:TOKEN@host/...") is replaced by
 * "***"; a bare user name ("git@host:o/r") is kept, it is no secret.
 */
static void add_redacted_url(struct buf *out, const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *auth = scheme_end ? scheme_end + 3 : url;
	const char *host = after_userinfo(auth, auth + strcspn(auth, "/"));
	const char *colon = memchr(auth, ':', (size_t)(host - auth));

	if (colon) {
		add_printable(out, url, (size_t)(colon - url));
		buf_adds(out, ":***@");
		url = host;
	}
	add_printable(out, url, strlen(url));
}

static int not_a_repo_url(const char *url, struct db_err *err)
{
	struct buf shown = BUF_INIT;

	add_redacted_url(&shown, url);
	db_err_set(err, DB_EUSAGE,
	           "remote URL '%s' does not name a GitHub repository "
	           "(https://HOST/OWNER/NAME or git@HOST:OWNER/NAME); set pull_request.repo",
	           shown.ptr);
	buf_release(&shown);
	return DB_EUSAGE;
}

static int host_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:",
		            s[i]))
			return 0;
	return 1;
}

int pr_repo_from_remote(struct pr_repo *out, const char *url, struct db_err *err)
{
	const char *host, *host_end, *path, *scheme_end = strstr(url, "://");
	size_t path_len;

	memset(out, 0, sizeof(*out));
	if (scheme_end) {
		static const char *const schemes[] = {"https", "http", "ssh", "git+ssh", "ssh+git"};
		size_t i, slen = (size_t)(scheme_end - url);
		const char *auth = scheme_end + 3, *auth_end = auth + strcspn(auth, "/");

		for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
			if (strlen(schemes[i]) == slen && !strncmp(url, schemes[i], slen))
				break;
		if (i == sizeof(schemes) / sizeof(*schemes) || !*auth_end)
			return not_a_repo_url(url, err);
		host = after_userinfo(auth, auth_end);
		host_end = auth_end;
		if (*host == '[') { /* [v6]:port */
			const char *close = memchr(host, ']', (size_t)(host_end - host));
			if (!close)
				return not_a_repo_url(url, err);
			host_end = close + 1;
		} else {
			const char *colon = memchr(host, ':', (size_t)(host_end - host));
			if (colon)
				host_end = colon;
		}
		path = auth_end + 1;
	} else {
		/* git's scp-like syntax: [user@]host:path, with no '/' before the ':'. */
		const char *colon = strchr(url, ':'), *slash = strchr(url, '/');

		if (!colon || (slash && slash < colon))
			return not_a_repo_url(url, err);
		host = after_userinfo(url, colon);
		host_end = colon;
		path = colon + 1;
		if (*path == '/')
			path++;
	}
	if (!host_ok(host, (size_t)(host_end - host)))
		return not_a_repo_url(url, err);

	path_len = strlen(path);
	while (path_len && path[path_len - 1] == '/')
		path_len--;
	if (path_len > 4 && !strncmp(path + path_len - 4, ".git", 4))
		path_len -= 4;
	if (split_owner_name(out, path, path_len) < 0)
		return not_a_repo_url(url, err);
	out->host = xstrndup(host, (size_t)(host_end - host));
	return 0;
}

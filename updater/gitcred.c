#include "updater/gitcred.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/proc.h"
#include "updater/gitlocal.h"

#include "common/banned.h"

enum {
	TRIED_USERNAME = 1,
	TRIED_AGENT = 2,
	TRIED_TOKEN = 4,
	TRIED_HELPER = 8,
};

/* The helper's answer is a few short lines; anything longer is not what we asked for. */
#define HELPER_OUTPUT_CAP 16384

void gitcred_redact_url(struct buf *out, const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;

	if (!scheme) {
		buf_adds(out, url);
		return;
	}
	host = scheme + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	buf_add(out, url, (size_t)(host - url));
	buf_adds(out, at ? at + 1 : host);
}

/* The parts of a URL that `git credential` wants. */
struct url_parts {
	struct buf protocol, host, path;
};

static int url_split(struct url_parts *u, const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;
	size_t hostlen;

	if (!scheme)
		return -1;
	buf_add(&u->protocol, url, (size_t)(scheme - url));
	host = scheme + 3;
	slash = strchr(host, '/');
	hostlen = slash ? (size_t)(slash - host) : strlen(host);
	at = memchr(host, '@', hostlen);
	if (at) {
		hostlen -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	buf_add(&u->host, host, hostlen);
	if (slash)
		buf_adds(&u->path, slash + 1);
	return 0;
}

/* Whether `s` can go into a `key=value` line of the credential protocol. */
static int credential_value_ok(const char *s, size_t len)
{
	return !memchr(s, '\n', len) && !memchr(s, '\0', len);
}

/* Erases a buffer that may hold a secret, then releases it. */
static void buf_wipe(struct buf *b)
{
	if (b->alloc)
		explicit_bzero(b->ptr, b->alloc);
	buf_release(b);
}

/*
 * Asks the git credential helpers through `git -C <repo> credential fill`, with no shell and
 * no prompt. Fills `user` and `pass` (heap; the caller wipes and frees them) and returns 0,
 * or returns -1 when no helper had an answer.
 */
static int helper_fill(struct gitcred *c, const char *url, const char *username, char **user,
                       char **pass)
{
	const char *argv[] = {"git", "-C", c->repo_dir, "credential", "fill", NULL};
	struct url_parts u = {BUF_INIT, BUF_INIT, BUF_INIT};
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	struct db_err err = DB_ERR_INIT;
	struct proc p = PROC_INIT;
	char chunk[1024], *line, *end;
	long n;
	int status = -1, rc = -1;

	*user = *pass = NULL;
	if (url_split(&u, url) < 0 || !credential_value_ok(u.host.ptr, u.host.len) ||
	    !credential_value_ok(u.path.ptr, u.path.len))
		goto out;
	buf_addf(&in, "protocol=%s\nhost=%s\n", u.protocol.ptr, u.host.ptr);
	if (u.path.len)
		buf_addf(&in, "path=%s\n", u.path.ptr);
	if (username && credential_value_ok(username, strlen(username)))
		buf_addf(&in, "username=%s\n", username);
	buf_addch(&in, '\n');

	if (gitlocal_spawn(&p, argv, &err) < 0) {
		log_debug("no credential helper: %s", err.msg);
		goto out;
	}
	if (proc_write_all(&p, in.ptr, in.len, c->timeout_ms, "git credential", &err) == 0) {
		proc_close_stdin(&p);
		while ((n = proc_read_wait(&p, chunk, sizeof(chunk), c->timeout_ms,
		                           "git credential", &err)) > 0 &&
		       out.len + (size_t)n <= HELPER_OUTPUT_CAP)
			buf_add(&out, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof(chunk));
	}
	proc_close_stdin(&p);
	if (proc_wait(&p, c->timeout_ms))
		status = proc_exit_code(&p);
	if (status != 0 || err.code) {
		buf_add(&why, p.err.ptr, p.err.len < 300 ? p.err.len : 300);
		buf_rtrim(&why);
		log_debug("'git credential fill' had no credential (status %d): %s%s", status,
		          err.code ? err.msg : "", why.ptr);
		proc_release(&p);
		goto out;
	}
	proc_release(&p);

	for (line = out.ptr; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (!strncmp(line, "username=", 9) && !*user)
			*user = xstrndup(line + 9, (size_t)(end - line - 9));
		else if (!strncmp(line, "password=", 9) && !*pass)
			*pass = xstrndup(line + 9, (size_t)(end - line - 9));
	}
	if (*user && *pass) {
		rc = 0;
	} else {
		free(*user);
		if (*pass)
			explicit_bzero(*pass, strlen(*pass));
		free(*pass);
		*user = *pass = NULL;
	}
out:
	buf_wipe(&out);
	buf_release(&why);
	buf_release(&in);
	buf_release(&u.path);
	buf_release(&u.host);
	buf_release(&u.protocol);
	return rc;
}

int gitcred_acquire(git_credential **out, struct gitcred *c, const char *url,
                    const char *username_from_url, unsigned int allowed)
{
	struct buf shown = BUF_INIT;
	const char *token = getenv(GITCRED_TOKEN_ENV);
	const char *user = username_from_url && *username_from_url ? username_from_url : NULL;
	char *helper_user = NULL, *helper_pass = NULL;
	int rc;

	gitcred_redact_url(&shown, url);
	if (++c->calls > GITCRED_MAX_CALLS)
		goto give_up;

	/* ssh asks for the user name first when the URL has none; git's hosts use "git". */
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !(c->tried & TRIED_USERNAME)) {
		c->tried |= TRIED_USERNAME;
		rc = git_credential_username_new(out, user ? user : "git");
		goto out;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !(c->tried & TRIED_AGENT)) {
		c->tried |= TRIED_AGENT;
		log_debug("offering the ssh-agent's keys to '%s'", shown.ptr);
		rc = git_credential_ssh_key_from_agent(out, user ? user : "git");
		goto out;
	}
	if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		goto give_up;
	if (!(c->tried & TRIED_TOKEN)) {
		c->tried |= TRIED_TOKEN;
		if (token && *token && strncmp(url, "https://", 8) == 0) {
			log_debug("offering %s to '%s'", GITCRED_TOKEN_ENV, shown.ptr);
			rc = git_credential_userpass_plaintext_new(out, "x-access-token", token);
			goto out;
		}
		if (token && *token)
			log_warn("not sending %s to '%s': the URL is not https", GITCRED_TOKEN_ENV,
			         shown.ptr);
	}
	if (!(c->tried & TRIED_HELPER)) {
		c->tried |= TRIED_HELPER;
		if (helper_fill(c, url, user, &helper_user, &helper_pass) == 0) {
			log_debug("offering the credential helper's answer to '%s'", shown.ptr);
			rc = git_credential_userpass_plaintext_new(out, helper_user, helper_pass);
			goto out;
		}
	}
give_up:
	c->gave_up = 1;
	git_error_set_str(GIT_ERROR_NET, "no credential left to offer");
	rc = GIT_EAUTH;
out:
	if (helper_pass)
		explicit_bzero(helper_pass, strlen(helper_pass));
	free(helper_pass);
	free(helper_user);
	buf_release(&shown);
	return rc;
}

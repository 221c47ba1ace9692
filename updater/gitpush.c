#include "updater/gitpush.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "updater/gitcred.h"
#include "updater/gitlocal.h"
#include "common/proc.h"

#include "common/banned.h"

#define DEFAULT_TIMEOUT_S 300
/* What the remote prints while receiving (hook output): enough for a reason, never a flood. */
#define SIDEBAND_CAP 8192
#define REASON_CAP   400

struct push_ctx {
	struct gitrepo *repo;
	char *shown; /* the remote as messages name it: its name, or its URL without user info */
	struct gitpush_ref *refs;
	char **refnames; /* "refs/heads/<branch>" of each ref */
	size_t nr;
	struct buf sideband;
	struct gitcred cred;
	int timeout_ms;
	int named; /* a configured remote, not a URL or a path */
	int local; /* served by `git receive-pack` (gitlocal.h) */
};

void gitpush_refs_release(struct gitpush_ref *refs, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(refs[i].reason);
		refs[i].reason = NULL;
	}
}

static int cb_sideband(const char *str, int len, void *payload)
{
	struct push_ctx *ctx = payload;
	size_t room = SIDEBAND_CAP - ctx->sideband.len;

	if (len > 0 && room > 0)
		buf_add(&ctx->sideband, str, (size_t)len < room ? (size_t)len : room);
	return 0;
}

static int cb_credentials(git_credential **out, const char *url, const char *username_from_url,
                          unsigned int allowed_types, void *payload)
{
	struct push_ctx *ctx = payload;

	return gitcred_acquire(out, &ctx->cred, url, username_from_url, allowed_types);
}

static int cb_transport(git_transport **out, git_remote *owner, void *payload)
{
	struct push_ctx *ctx = payload;

	return gitlocal_transport_new(out, owner, ctx->timeout_ms);
}

/* Git's own progress lines, which say nothing about why a push was refused. */
static int is_progress(const char *line, size_t len)
{
	static const char *const titles[] = {"Resolving deltas", "Unpacking objects",
	                                     "Counting objects", "Compressing objects",
	                                     "Writing objects",  "Total "};
	size_t i, n;

	for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		n = strlen(titles[i]);
		if (len >= n && memcmp(line, titles[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * What the remote said on its progress channel (a hook's stderr, mostly), as one line: the
 * last state of each line ("\r" redraws), without git's progress lines and control
 * characters, joined with "; ".
 */
static void remote_said(struct buf *out, const struct buf *sideband)
{
	const char *line = sideband->ptr, *end, *cr, *p;
	size_t start = out->len, len;

	while (line < sideband->ptr + sideband->len) {
		end = memchr(line, '\n', (size_t)(sideband->ptr + sideband->len - line));
		if (!end)
			end = sideband->ptr + sideband->len;
		for (cr = end; cr > line && cr[-1] == '\r'; cr--)
			;
		len = (size_t)(cr - line);
		p = len ? memchr(line, '\r', len) : NULL;
		while (p) {
			len -= (size_t)(p + 1 - line);
			line = p + 1;
			p = memchr(line, '\r', len);
		}
		while (len && (*line == ' ' || *line == '\t'))
			line++, len--;
		if (len && !is_progress(line, len) && out->len - start < REASON_CAP) {
			if (out->len > start)
				buf_adds(out, "; ");
			for (p = line; p < line + len; p++)
				buf_addch(out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
		}
		line = end + 1;
	}
	buf_rtrim(out);
}

static struct gitpush_ref *find_ref(struct push_ctx *ctx, const char *refname)
{
	size_t i;

	for (i = 0; i < ctx->nr; i++)
		if (strcmp(ctx->refnames[i], refname) == 0)
			return &ctx->refs[i];
	return NULL;
}

/* libgit2 reports a server-side refusal only here: `status` is the remote's reason. */
static int cb_update_reference(const char *refname, const char *status, void *payload)
{
	struct push_ctx *ctx = payload;
	struct gitpush_ref *ref = find_ref(ctx, refname);
	struct buf said = BUF_INIT;

	if (!ref)
		return 0;
	if (!status) {
		ref->result = GITPUSH_PUSHED;
		return 0;
	}
	ref->result = GITPUSH_REJECTED;
	remote_said(&said, &ctx->sideband);
	free(ref->reason);
	ref->reason = said.len ? xasprintf("%s (remote: %s)", status, said.ptr) : xstrdup(status);
	buf_release(&said);
	return 0;
}

/* The error of a failed connect or upload. */
static int transport_error(struct push_ctx *ctx, int rc, const char *what, struct db_err *err)
{
	if (ctx->cred.gave_up || rc == GIT_EAUTH)
		return db_err_set(err, DB_EAUTH, "%s '%s': no credential was accepted", what,
		                  ctx->shown);
	if (rc == GIT_ECERTIFICATE)
		return db_err_git(err, DB_ENET, "%s '%s': untrusted certificate", what, ctx->shown);
	return db_err_git(err, DB_ENET, "%s '%s'", what, ctx->shown);
}

/*
 * Opens the remote `name`: a configured remote, else an anonymous one for a URL or a path.
 * Sets ctx->shown and ctx->local.
 */
static int open_remote(git_remote **out, struct push_ctx *ctx, const char *name, struct db_err *err)
{
	git_repository *git = gitrepo_git(ctx->repo), *probe = NULL;
	struct buf shown = BUF_INIT;
	const char *url;
	char *path = NULL, *abs = NULL;
	int rc;

	rc = git_remote_lookup(out, git, name);
	if (rc == 0) {
		url = git_remote_pushurl(*out) ? git_remote_pushurl(*out) : git_remote_url(*out);
		if (!url) {
			rc = db_err_set(err, DB_EUSAGE, "remote '%s' has no URL", name);
			goto out;
		}
		buf_adds(&shown, name);
		ctx->named = 1;
		/* A relative path is relative to the repository, as for `git -C DIR push`. */
		path = gitlocal_path(url);
		if (path && path[0] != '/' && strncmp(url, "file://", 7) != 0) {
			abs = xasprintf("%s/%s", gitrepo_path(ctx->repo), path);
			if (git_remote_set_instance_pushurl(*out, abs) < 0) {
				rc = db_err_git(err, DB_ERROR, "remote '%s'", name);
				goto out;
			}
		}
	} else if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
		path = gitlocal_path(name);
		if (path && git_repository_open_ext(&probe, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
		                                    NULL) < 0) {
			rc = db_err_set(err, DB_ENOTFOUND,
			                "'%s' is neither a remote of '%s' nor a git repository",
			                name, gitrepo_path(ctx->repo));
			goto out;
		}
		if (git_remote_create_anonymous(out, git, name) < 0) {
			gitcred_redact_url(&shown, name);
			rc = db_err_git(err, DB_EUSAGE, "'%s' is not a remote URL", shown.ptr);
			goto out;
		}
		gitcred_redact_url(&shown, name);
	} else {
		rc = db_err_git(err, DB_ERROR, "cannot read remote '%s'", name);
		goto out;
	}
	ctx->shown = buf_detach(&shown, NULL);
	ctx->local = path != NULL;
	if (ctx->local && !proc_in_path("git")) {
		log_warn("'git' is not in PATH: pushing to '%s' without running its hooks",
		         ctx->shown);
		ctx->local = 0;
	}
	rc = 0;
out:
	if (rc < 0) {
		git_remote_free(*out);
		*out = NULL;
	}
	git_repository_free(probe);
	buf_release(&shown);
	free(abs);
	free(path);
	return rc;
}

/* Checks the refs and reads their local values. */
static int check_refs(struct push_ctx *ctx, const char *prefix, struct db_err *err)
{
	git_repository *git = gitrepo_git(ctx->repo);
	size_t i, plen = prefix ? strlen(prefix) : 0;
	int valid, rc;

	if (!plen)
		return db_err_set(err, DB_EUSAGE, "the branch prefix is empty");
	for (i = 0; i < ctx->nr; i++) {
		const char *b = ctx->refs[i].branch;

		ctx->refnames[i] = xasprintf("refs/heads/%s", b);
		if (strncmp(b, prefix, plen) != 0 || !b[plen] ||
		    git_reference_name_is_valid(&valid, ctx->refnames[i]) < 0 || !valid)
			return db_err_set(
			    err, DB_EUSAGE,
			    "not pushing '%s': only branches under '%s' are the bot's",
			    ctx->refnames[i], prefix);
		if (ctx->refs[i].delete)
			continue; /* deleted on the remote: the local branch may be gone already */
		rc = git_reference_name_to_id(&ctx->refs[i].local, git, ctx->refnames[i]);
		if (rc == GIT_ENOTFOUND)
			return db_err_set(err, DB_ENOTFOUND, "'%s' does not exist in '%s'",
			                  ctx->refnames[i], gitrepo_path(ctx->repo));
		if (rc < 0)
			return db_err_git(err, DB_ERROR, "cannot read '%s'", ctx->refnames[i]);
	}
	return 0;
}

/*
 * Compares each ref with the remote's value: equal ones are up to date; the others are
 * added to `specs` as forced refspecs.
 */
static int plan_push(struct push_ctx *ctx, git_remote *remote, git_strarray *specs,
                     struct db_err *err)
{
	const git_remote_head **heads;
	struct gitpush_ref *ref;
	size_t nheads, i;

	if (git_remote_ls(&heads, &nheads, remote) < 0)
		return db_err_git(err, DB_ENET, "cannot list the refs of '%s'", ctx->shown);
	for (i = 0; i < nheads; i++)
		if ((ref = find_ref(ctx, heads[i]->name)))
			git_oid_cpy(&ref->remote_old, &heads[i]->oid);
	specs->strings = xcalloc(ctx->nr + 1, sizeof(*specs->strings));
	for (i = 0; i < ctx->nr; i++) {
		ref = &ctx->refs[i];
		if (git_oid_equal(&ref->local, &ref->remote_old)) {
			/* (for a deletion: both zero, the remote has no such branch) */
			ref->result = GITPUSH_UP_TO_DATE;
			log_info("'%s' on '%s' is up to date", ctx->refnames[i], ctx->shown);
			continue;
		}
		specs->strings[specs->count++] =
		    ref->delete ? xasprintf(":%s", ctx->refnames[i])
		                : xasprintf("+%s:%s", ctx->refnames[i], ctx->refnames[i]);
	}
	return 0;
}

/*
 * Logs every ref's result and sets the error: the first ref the remote refused (naming it and
 * the remote's reason), else the first ref it said nothing about.
 */
static int collect_results(struct push_ctx *ctx, struct db_err *err)
{
	struct gitpush_ref *ref;
	size_t i;
	int rc = 0;

	for (i = 0; i < ctx->nr; i++) {
		ref = &ctx->refs[i];
		if (ref->result == GITPUSH_PUSHED && ref->delete)
			log_info("deleted '%s' on '%s'", ctx->refnames[i], ctx->shown);
		else if (ref->result == GITPUSH_PUSHED)
			log_info("pushed '%s' to '%s' (%.10s)", ctx->refnames[i], ctx->shown,
			         git_oid_tostr_s(&ref->local));
		else if (ref->result == GITPUSH_REJECTED && !rc)
			rc = db_err_set(err, DB_ECONFLICT, "push of '%s' to '%s' rejected: %s",
			                ctx->refnames[i], ctx->shown, ref->reason);
	}
	for (i = 0; i < ctx->nr && !rc; i++)
		if (ctx->refs[i].result == GITPUSH_NOT_PUSHED)
			rc = db_err_set(err, DB_ENET, "'%s' sent no status for '%s'", ctx->shown,
			                ctx->refnames[i]);
	return rc;
}

int gitpush(struct gitrepo *repo, const struct gitpush_opts *opts, struct gitpush_ref *refs,
            size_t nr, struct db_err *err)
{
	struct push_ctx ctx = {.repo = repo, .refs = refs, .nr = nr, .sideband = BUF_INIT};
	git_remote_callbacks cbs;
	git_remote_connect_options copts;
	git_push_options popts;
	git_strarray specs = {NULL, 0};
	git_remote *remote = NULL;
	size_t i;
	int rc;

	ctx.timeout_ms = 1000 * (opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S);
	ctx.cred.repo_dir = gitrepo_path(repo);
	ctx.cred.timeout_ms = ctx.timeout_ms;
	ctx.refnames = xcalloc(nr + 1, sizeof(*ctx.refnames));
	for (i = 0; i < nr; i++) {
		free(refs[i].reason);
		refs[i].reason = NULL;
		refs[i].result = GITPUSH_NOT_PUSHED;
		memset(&refs[i].local, 0, sizeof(refs[i].local));
		memset(&refs[i].remote_old, 0, sizeof(refs[i].remote_old));
	}
	if ((rc = check_refs(&ctx, opts->branch_prefix, err)) < 0)
		goto out;
	/* The remote is checked even with nothing to push: a bad --push is an error either way. */
	if ((rc = open_remote(&remote, &ctx, opts->remote, err)) < 0 || nr == 0)
		goto out;

	/* The *_INIT macros leave fields out, which -Wextra refuses; the functions do the same. */
	git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
	git_remote_connect_options_init(&copts, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	git_push_options_init(&popts, GIT_PUSH_OPTIONS_VERSION);
	cbs.sideband_progress = cb_sideband;
	cbs.credentials = cb_credentials;
	cbs.push_update_reference = cb_update_reference;
	if (ctx.local)
		cbs.transport = cb_transport;
	cbs.payload = &ctx;
	copts.callbacks = cbs;
	popts.callbacks = cbs;

	if ((rc = git_remote_connect_ext(remote, GIT_DIRECTION_PUSH, &copts)) < 0) {
		rc = transport_error(&ctx, rc, "cannot connect to", err);
		goto out;
	}
	if ((rc = plan_push(&ctx, remote, &specs, err)) < 0 || specs.count == 0)
		goto out;
	if ((rc = git_remote_upload(remote, &specs, &popts)) < 0) {
		rc = transport_error(&ctx, rc, "cannot push to", err);
		goto out;
	}
	/* Remote-tracking refs (refs/remotes/<name>/...) follow, as after `git push`. */
	if (ctx.named &&
	    git_remote_update_tips(remote, &cbs, 0, GIT_REMOTE_DOWNLOAD_TAGS_UNSPECIFIED, NULL) < 0)
		log_warn("pushed to '%s', but its remote-tracking refs were not updated: %s",
		         ctx.shown, db_git_last());
	rc = collect_results(&ctx, err);
out:
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	for (i = 0; i < specs.count; i++)
		free(specs.strings[i]);
	free(specs.strings);
	for (i = 0; i < nr; i++)
		free(ctx.refnames[i]);
	free(ctx.refnames);
	free(ctx.shown);
	buf_release(&ctx.sideband);
	return rc;
}

/*
 * Helpers for the git tests: a scratch directory per test holding a small content repository
 * (opened, with its HEAD as the base), shell commands run with the git command line to build
 * fixtures and check results, and a libgit2 set up so that no configuration of the machine
 * (the user's ~/.gitconfig, /etc/gitconfig) leaks in.
 *
 * The shell is used here, in tests only, because fixtures read best as the git commands a
 * person would type; the product itself never runs a shell.
 */
#ifndef DOCKERBUMP_TESTS_GITTEST_H
#define DOCKERBUMP_TESTS_GITTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "updater/gitrepo.h"

struct gittest {
	char *dir;                /* the scratch directory */
	char *home;               /* $HOME for git commands: empty, so no user config applies */
	char *content;            /* the content repository's work tree, DIR/content */
	struct gitrepo *repo;     /* opened */
	struct gitrepo_base base; /* its HEAD */
};

static inline void gittest_vcmd(struct buf *out, int *status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static inline void gittest_vcmd(struct buf *out, int *status, const char *fmt, va_list ap)
{
	struct buf cmd = BUF_INIT;
	int fds[2];
	pid_t pid;
	char chunk[4096];
	ssize_t n;

	buf_vaddf(&cmd, fmt, ap);
	if (pipe(fds) < 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-ec", cmd.ptr, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && out)
			buf_add(out, chunk, (size_t)n);
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	buf_release(&cmd);
}

/* Runs a shell command; the test fails unless it exits 0. */
static inline void gittest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void gittest_sh(const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	gittest_vcmd(NULL, &status, fmt, ap);
	va_end(ap);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "command failed (status %d): ", status);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
		abort();
	}
}

/* Runs a shell command and returns its stdout without the trailing newlines (free it). */
static inline char *gittest_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *gittest_out(const char *fmt, ...)
{
	struct buf out = BUF_INIT;
	va_list ap;
	int status;

	va_start(ap, fmt);
	gittest_vcmd(&out, &status, fmt, ap);
	va_end(ap);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "command failed (status %d): %s\n", status, out.ptr);
		abort();
	}
	buf_rtrim(&out);
	return buf_detach(&out, NULL);
}

/*
 * A work tree at DIR/<name> with a small content repository on `main`:
 *	Packs/A/Scripts/S/S.yml, Packs/A/pack_metadata.json, Packs/B/Integrations/I/I.yml,
 *	tools/run.sh (executable), README.md
 */
static inline char *gittest_content_repo(struct gittest *t, const char *name)
{
	char *path = xasprintf("%s/%s", t->dir, name);

	gittest_sh(
	    "git init -q -b main '%s' && cd '%s' && "
	    "mkdir -p Packs/A/Scripts/S Packs/B/Integrations/I tools && "
	    "printf 'dockerimage: demisto/python3:3.10.13.83255\\n' > Packs/A/Scripts/S/S.yml && "
	    "printf '{\"currentVersion\": \"1.0.0\"}\\n' > Packs/A/pack_metadata.json && "
	    "printf 'script:\\n  dockerimage: demisto/python3:3.10.13.83255\\n' "
	    "> Packs/B/Integrations/I/I.yml && "
	    "printf '#!/bin/sh\\necho hi\\n' > tools/run.sh && chmod +x tools/run.sh && "
	    "printf 'content\\n' > README.md && "
	    "git add -A && git commit -q -m 'initial content'",
	    path, path);
	return path;
}

/*
 * Creates the scratch directory with the content repository, points git (command line and
 * libgit2) at an empty home, so that only the configuration a test writes applies, and opens
 * the repository.
 */
static inline void gittest_init(struct gittest *t)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/dbgit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	struct db_err err = DB_ERR_INIT;

	if (!mkdtemp(tmpl))
		abort();
	t->dir = tmpl;
	t->home = xasprintf("%s/home", t->dir);
	gittest_sh("mkdir -p '%s'", t->home);
	setenv("HOME", t->home, 1);
	setenv("XDG_CONFIG_HOME", t->home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Fixture", 1);
	setenv("GIT_AUTHOR_EMAIL", "fixture@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Fixture", 1);
	setenv("GIT_COMMITTER_EMAIL", "fixture@example.com", 1);
	unsetenv("GIT_DIR");
	unsetenv("DOCKERBUMP_GIT_TOKEN");
	gitrepo_global_init();
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, t->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, t->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, t->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, t->home);
	t->content = gittest_content_repo(t, "content");
	if (gitrepo_open(&t->repo, t->content, &err) < 0 ||
	    gitrepo_resolve_base(&t->base, t->repo, NULL, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
}

/* Resolves the base again, after a test committed to the content repository. */
static inline void gittest_rebase(struct gittest *t)
{
	struct db_err err = DB_ERR_INIT;

	gitrepo_base_release(&t->base);
	if (gitrepo_resolve_base(&t->base, t->repo, NULL, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
}

static inline void gittest_release(struct gittest *t)
{
	gitrepo_base_release(&t->base);
	gitrepo_free(t->repo);
	gittest_sh("chmod -R u+w '%s' && rm -rf '%s'", t->dir, t->dir);
	free(t->content);
	free(t->dir);
	free(t->home);
	git_libgit2_shutdown();
}

/* Number of objects in the repository at `dir` (loose and packed). */
static inline long gittest_object_count(const char *dir)
{
	char *out = gittest_out("git -C '%s' count-objects -v | "
	                        "awk '/^count:|^in-pack:/ { n += $2 } END { print n }'",
	                        dir);
	long n = strtol(out, NULL, 10);

	free(out);
	return n;
}

#endif

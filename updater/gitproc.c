#include "updater/gitproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"

#include "common/banned.h"

extern char **environ;

/* Variables that point git at a repository; git drops the same ones for a local transport. */
static const char *const repo_env[] = {
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_TERMINAL_PROMPT",
    "GIT_ASKPASS",
    "GITHUB_TOKEN",
    "GH_TOKEN",
};

static int env_dropped(const char *entry)
{
	size_t i, len = strcspn(entry, "=");

	if (strncmp(entry, "DOCKERBUMP_", 11) == 0)
		return 1;
	for (i = 0; i < sizeof(repo_env) / sizeof(repo_env[0]); i++)
		if (strlen(repo_env[i]) == len && strncmp(entry, repo_env[i], len) == 0)
			return 1;
	return 0;
}

/* The child's environment: a NULL-terminated array whose strings are borrowed from environ. */
static char **child_env(void)
{
	static char prompt[] = "GIT_TERMINAL_PROMPT=0", askpass[] = "GIT_ASKPASS=";
	size_t n = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 3, sizeof(*env));
	n = 0;
	for (i = 0; environ[i]; i++)
		if (!env_dropped(environ[i]))
			env[n++] = environ[i];
	env[n++] = prompt;
	env[n++] = askpass;
	return env;
}

int gitproc_start(struct gitproc *p, const char *const argv[], int timeout_ms, struct db_err *err)
{
	posix_spawn_file_actions_t fa;
	int sv[2] = {-1, -1}, rc;
	char **env = NULL;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->timeout_ms = timeout_ms;
	p->what = xasprintf("%s %s", argv[0], argv[1] ? argv[1] : "");
	if (!(p->err = tmpfile())) {
		rc = db_err_set(err, DB_ERROR, "'%s': cannot create a temporary file: %s", p->what,
		                strerror(errno));
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = db_err_set(err, DB_ERROR, "'%s': socketpair: %s", p->what, strerror(errno));
		goto fail;
	}

	env = child_env();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(p->err), 2);
	rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	close(sv[1]);
	p->fd = sv[0];
	if (rc != 0) {
		p->pid = 0;
		rc = db_err_set(err, DB_ERROR, "cannot run '%s': %s", p->what, strerror(rc));
		goto fail;
	}
	return 0;
fail:
	gitproc_release(p);
	return rc;
}

/* Waits until `fd` is ready for `events`; DB_ENET after the timeout. */
static int wait_fd(struct gitproc *p, short events, struct db_err *err)
{
	struct pollfd pfd = {.fd = p->fd, .events = events};
	int rc;

	if (p->fd < 0)
		return db_err_set(err, DB_ENET, "'%s' has ended", p->what);
	do
		rc = poll(&pfd, 1, p->timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return db_err_set(err, DB_ENET, "'%s' did not answer within %d s", p->what,
		                  p->timeout_ms / 1000);
	if (rc < 0)
		return db_err_set(err, DB_ENET, "'%s': poll: %s", p->what, strerror(errno));
	return 0;
}

int gitproc_write(struct gitproc *p, const void *data, size_t len, struct db_err *err)
{
	const char *d = data;
	ssize_t n;
	int rc;

	while (len > 0) {
		if ((rc = wait_fd(p, POLLOUT, err)) < 0)
			return rc;
		/* MSG_NOSIGNAL: a child that went away is an error here, not a SIGPIPE. */
		n = send(p->fd, d, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return db_err_set(err, DB_ENET, "'%s' stopped reading: %s", p->what,
			                  strerror(errno));
		d += n;
		len -= (size_t)n;
	}
	return 0;
}

long gitproc_read(struct gitproc *p, void *buf, size_t size, struct db_err *err)
{
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = wait_fd(p, POLLIN, err)) < 0)
			return rc;
		n = recv(p->fd, buf, size, 0);
		if (n >= 0)
			return (long)n;
		if (errno != EINTR && errno != EAGAIN)
			return db_err_set(err, DB_ENET, "'%s': read: %s", p->what, strerror(errno));
	}
}

void gitproc_close_input(struct gitproc *p)
{
	if (p->fd >= 0)
		shutdown(p->fd, SHUT_WR);
}

void gitproc_finish(struct gitproc *p, int *status)
{
	const struct timespec tick = {0, 10 * 1000 * 1000};
	int st = -1, waited = 0;
	pid_t rc;

	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->pid > 0) {
		for (;;) {
			rc = waitpid(p->pid, &st, WNOHANG);
			if (rc == p->pid || (rc < 0 && errno != EINTR))
				break;
			if (waited >= p->timeout_ms) {
				kill(p->pid, SIGKILL);
				while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
					;
				st = -1;
				break;
			}
			nanosleep(&tick, NULL);
			waited += 10;
		}
		p->pid = 0;
	}
	if (status)
		*status = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void gitproc_stderr(struct gitproc *p, struct buf *out, size_t cap)
{
	char chunk[1024];
	size_t n, start = out->len;

	if (!p->err || fseek(p->err, 0, SEEK_SET) != 0)
		return;
	while (out->len - start < cap && (n = fread(chunk, 1, sizeof(chunk), p->err)) > 0)
		buf_add(out, chunk, n < cap - (out->len - start) ? n : cap - (out->len - start));
	buf_rtrim(out);
}

void gitproc_release(struct gitproc *p)
{
	gitproc_finish(p, NULL);
	if (p->err)
		fclose(p->err);
	p->err = NULL;
	free(p->what);
	p->what = NULL;
}

int gitproc_in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;
	char *file;
	int found = 0;

	for (p = path ? path : ""; *p && !found; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			continue;
		file = xasprintf("%.*s/%s", (int)(end - p), p, name);
		found = stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0;
		free(file);
	}
	return found;
}

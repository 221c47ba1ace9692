/* pipe2() */
#define _GNU_SOURCE

#include "common/proc.h"

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
#include "common/clock.h"
#include "common/banned.h"

extern char **environ;

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int proc_spawn(struct proc *p, const char *const *argv, unsigned flags, struct db_err *err)
{
	return proc_spawn_env(p, argv, NULL, flags, err);
}

int proc_spawn_env(struct proc *p, const char *const *argv, char *const *env, unsigned flags,
                   struct db_err *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	short spawn_flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int rc, ret = 0;

	*p = (struct proc)PROC_INIT;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (((flags & PROC_STDIN) && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) ||
	    ((flags & PROC_STDOUT) && pipe2(out, O_CLOEXEC) < 0) ||
	    ((flags & PROC_STDERR) && pipe2(errp, O_CLOEXEC) < 0)) {
		ret = db_err_set(err, DB_ERROR, "'%s': cannot create pipes: %s", argv[0],
		                 strerror(errno));
		goto out;
	}
	rc = (flags & PROC_STDIN)
	         ? posix_spawn_file_actions_adddup2(&fa, in[1], 0)
	         : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = (flags & PROC_STDOUT)
		         ? posix_spawn_file_actions_adddup2(&fa, out[1], 1)
		         : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!rc)
		rc = (flags & PROC_STDERR)
		         ? posix_spawn_file_actions_adddup2(&fa, errp[1], 2)
		         : posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGQUIT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGCHLD);
	if (flags & PROC_PGROUP) {
		spawn_flags |= POSIX_SPAWN_SETPGROUP;
		posix_spawnattr_setpgroup(&attr, 0);
	}
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, spawn_flags);
	if (!rc)
		rc = posix_spawnp(&p->pid, argv[0], &fa, &attr, (char *const *)argv,
		                  env ? env : environ);
	if (rc) {
		p->pid = -1;
		ret = db_err_set(err, rc == ENOENT || rc == EACCES ? DB_ENOTFOUND : DB_ERROR,
		                 "'%s': cannot run: %s", argv[0], strerror(rc));
		goto out;
	}
	p->pgroup = !!(flags & PROC_PGROUP);
	p->in_fd = in[0];
	p->out_fd = out[0];
	p->err_fd = errp[0];
	in[0] = out[0] = errp[0] = -1;
	if ((p->in_fd >= 0 && set_nonblock(p->in_fd) < 0) ||
	    (p->out_fd >= 0 && set_nonblock(p->out_fd) < 0) ||
	    (p->err_fd >= 0 && set_nonblock(p->err_fd) < 0)) {
		ret = db_err_set(err, DB_ERROR, "'%s': fcntl: %s", argv[0], strerror(errno));
		proc_release(p);
	}
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return ret;
}

ssize_t proc_write(struct proc *p, const void *data, size_t len)
{
	ssize_t n;

	if (p->in_fd < 0)
		return -1;
	do
		n = send(p->in_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	close_fd(&p->in_fd);
	return -1;
}

void proc_close_stdin(struct proc *p)
{
	close_fd(&p->in_fd);
}

ssize_t proc_read(int *fd, struct buf *into, size_t max)
{
	ssize_t n;

	if (*fd < 0)
		return -1;
	buf_grow(into, max);
	do
		n = read(*fd, into->ptr + into->len, max);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		buf_setlen(into, into->len + (size_t)n);
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	close_fd(fd);
	return -1;
}

void proc_kill(struct proc *p, int sig)
{
	/* Until it is reaped the pid (and so the group id) cannot be reused. */
	if (p->pid <= 0 || p->reaped)
		return;
	if (p->pgroup)
		kill(-p->pid, sig);
	else
		kill(p->pid, sig);
}

int proc_wait(struct proc *p, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	long nap_us = 500;
	pid_t r;

	if (p->pid <= 0 || p->reaped)
		return 1;
	for (;;) {
		r = waitpid(p->pid, &p->status, timeout_ms < 0 ? 0 : WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			if (r < 0)
				p->status = 0;
			p->reaped = 1;
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return 0;
		if (deadline >= 0 && clock_now_ms() >= deadline)
			return 0;
		/* No SIGCHLD handler (that would be process-wide state): poll with a growing nap.
		 */
		usleep((useconds_t)nap_us);
		if (nap_us < 20000)
			nap_us *= 2;
	}
}

int proc_exit_code(const struct proc *p)
{
	if (!p->reaped)
		return -1;
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	if (WIFSIGNALED(p->status))
		return 128 + WTERMSIG(p->status);
	return -1;
}

void proc_release(struct proc *p)
{
	if (!p)
		return;
	if (p->pid > 0 && !p->reaped) {
		proc_kill(p, SIGKILL);
		proc_wait(p, -1);
	}
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	buf_release(&p->err);
}

void proc_result_init(struct proc_result *r)
{
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
	r->code = -1;
	r->timed_out = 0;
	r->truncated = 0;
}

void proc_result_release(struct proc_result *r)
{
	if (!r)
		return;
	buf_release(&r->out);
	buf_release(&r->err);
}

/* Reads what `*fd` has, keeping at most `cap` bytes in `into`. */
static void drain(int *fd, struct buf *into, size_t cap, int *truncated)
{
	struct buf scratch = BUF_INIT;
	ssize_t n;

	while ((n = proc_read(fd, &scratch, 65536)) > 0) {
		size_t room = into->len < cap ? cap - into->len : 0;
		size_t take = (size_t)n < room ? (size_t)n : room;

		buf_add(into, scratch.ptr, take);
		if (take < (size_t)n)
			*truncated = 1;
		buf_reset(&scratch);
	}
	buf_release(&scratch);
}

int proc_run(struct proc_result *r, const char *const *argv, const void *input, size_t input_len,
             int timeout_ms, size_t max_output, struct db_err *err)
{
	struct proc p;
	long long deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	size_t sent = 0;
	int ret;

	ret = proc_spawn(&p, argv, PROC_STDIN | PROC_STDOUT | PROC_STDERR | PROC_PGROUP, err);
	if (ret < 0)
		return ret;
	if (!input_len)
		proc_close_stdin(&p);
	while (p.out_fd >= 0 || p.err_fd >= 0) {
		struct pollfd fds[3];
		nfds_t n = 0;
		int wait_ms = -1;

		if (deadline >= 0) {
			long long left = deadline - clock_now_ms();
			if (left <= 0) {
				r->timed_out = 1;
				break;
			}
			wait_ms = left > 1000 ? 1000 : (int)left;
		}
		if (p.out_fd >= 0)
			fds[n++] = (struct pollfd){p.out_fd, POLLIN, 0};
		if (p.err_fd >= 0)
			fds[n++] = (struct pollfd){p.err_fd, POLLIN, 0};
		if (p.in_fd >= 0)
			fds[n++] = (struct pollfd){p.in_fd, POLLOUT, 0};
		if (poll(fds, n, wait_ms) < 0 && errno != EINTR)
			break;
		if (p.in_fd >= 0) {
			ssize_t w = proc_write(&p, (const char *)input + sent, input_len - sent);
			if (w > 0)
				sent += (size_t)w;
			if (w < 0 || sent == input_len)
				proc_close_stdin(&p);
		}
		drain(&p.out_fd, &r->out, max_output, &r->truncated);
		drain(&p.err_fd, &r->err, max_output, &r->truncated);
	}
	if (r->timed_out) {
		proc_kill(&p, SIGKILL);
		proc_wait(&p, -1);
		r->code = -1;
	} else {
		long long left = deadline < 0 ? -1 : deadline - clock_now_ms();
		if (!proc_wait(&p, deadline < 0 ? -1 : (int)(left > 0 ? left : 0))) {
			r->timed_out = 1;
			proc_kill(&p, SIGKILL);
			proc_wait(&p, -1);
			r->code = -1;
		} else {
			r->code = proc_exit_code(&p);
		}
	}
	proc_release(&p);
	return 0;
}

char **proc_env(int (*drop)(const char *entry), const char *const *add)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	for (i = 0; add && add[i]; i++)
		k++;
	env = xcalloc(n + k + 1, sizeof(*env));
	for (n = 0, i = 0; environ[i]; i++)
		if (!drop || !drop(environ[i]))
			env[n++] = environ[i];
	for (i = 0; i < k; i++)
		env[n++] = (char *)add[i];
	return env;
}

/*
 * Waits until `fd` is ready for `events` while keeping the child's stderr drained into `p->err`
 * (a child blocked on a full stderr pipe would never answer). 0, or DB_ENET after `timeout_ms`.
 */
static int wait_ready(struct proc *p, int fd, short events, int timeout_ms, const char *what,
                      struct db_err *err)
{
	long long deadline = clock_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd fds[2] = {{fd, events, 0}, {p->err_fd, POLLIN, 0}};
		long long left = deadline - clock_now_ms();
		int rc;

		if (left <= 0)
			return db_err_set(err, DB_ENET, "'%s' did not answer within %d s", what,
			                  timeout_ms / 1000);
		rc = poll(fds, p->err_fd >= 0 ? 2 : 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return db_err_set(err, DB_ENET, "'%s': poll: %s", what, strerror(errno));
		if (p->err_fd >= 0 && fds[1].revents) {
			struct buf scratch = BUF_INIT;
			while (proc_read(&p->err_fd, &scratch, 4096) > 0) {
				if (p->err.len < PROC_STDERR_CAP)
					buf_add(&p->err, scratch.ptr,
					        scratch.len < PROC_STDERR_CAP - p->err.len
					            ? scratch.len
					            : PROC_STDERR_CAP - p->err.len);
				buf_reset(&scratch);
			}
			buf_release(&scratch);
		}
		if (rc > 0 && fds[0].revents)
			return 0;
	}
}

int proc_write_all(struct proc *p, const void *data, size_t len, int timeout_ms, const char *what,
                   struct db_err *err)
{
	const char *d = data;
	int rc;

	while (len > 0) {
		ssize_t n;
		if (p->in_fd < 0)
			return db_err_set(err, DB_ENET, "'%s' stopped reading", what);
		if ((rc = wait_ready(p, p->in_fd, POLLOUT, timeout_ms, what, err)) < 0)
			return rc;
		n = proc_write(p, d, len);
		if (n < 0)
			return db_err_set(err, DB_ENET, "'%s' stopped reading", what);
		d += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t proc_read_wait(struct proc *p, void *out, size_t size, int timeout_ms, const char *what,
                       struct db_err *err)
{
	int rc;

	for (;;) {
		ssize_t n;
		if (p->out_fd < 0)
			return 0;
		if ((rc = wait_ready(p, p->out_fd, POLLIN, timeout_ms, what, err)) < 0)
			return rc;
		do
			n = read(p->out_fd, out, size);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		close_fd(&p->out_fd);
		return 0;
	}
}

int proc_in_path(const char *name)
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

/*
 * Child processes, never through a shell: posix_spawnp() with an argv array, pipes for the
 * standard streams, non-blocking reads for a poll() loop, timeouts and kill.
 *
 * The child's stdin is one end of a socketpair rather than a pipe, so that writing to a
 * child that went away fails with EPIPE instead of raising SIGPIPE in this process (which
 * would need a process-wide signal disposition). The parent's ends are close-on-exec and,
 * for stdout and stderr, non-blocking. The child starts with default signal dispositions and
 * an empty signal mask, and inherits the environment (DOCKER_HOST and friends pass through).
 * A stream that is not piped is connected to /dev/null.
 *
 * Run to completion, output captured, bounded in time and size:
 *
 *	struct proc_result r;
 *	const char *argv[] = {"docker", "image", "inspect", image, NULL};
 *	proc_result_init(&r);
 *	if (proc_run(&r, argv, NULL, 0, 30000, 1 << 20, &err) < 0) ...	// could not start
 *	if (r.code == 0) use(r.out.ptr);
 *	proc_result_release(&r);
 *
 * A long-lived child driven by the caller's poll loop:
 *
 *	struct proc p;
 *	proc_spawn(&p, argv, PROC_STDIN | PROC_STDOUT | PROC_STDERR, &err);
 *	poll p.out_fd / p.err_fd for POLLIN, then proc_read(&p.out_fd, &b, 65536);
 *	proc_write(&p, data, len) returns what the child took without blocking;
 *	proc_kill(&p, SIGKILL); proc_wait(&p, 5000);
 *	proc_release(&p);	// kills and reaps a child still running, closes the fds
 */
#ifndef DOCKERBUMP_COMMON_PROC_H
#define DOCKERBUMP_COMMON_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"

enum proc_flags {
	PROC_STDIN = 1 << 0,  /* in_fd: a socket connected to the child's stdin */
	PROC_STDOUT = 1 << 1, /* out_fd: a pipe from the child's stdout */
	PROC_STDERR = 1 << 2, /* err_fd: a pipe from the child's stderr */
	PROC_PGROUP = 1 << 3, /* the child leads a new process group (proc_kill hits it all) */
};

/* What proc_read_wait() and proc_write_all() keep of the child's stderr. */
#define PROC_STDERR_CAP 65536

struct proc {
	pid_t pid;      /* -1 before spawn */
	int in_fd;      /* -1 when not piped or closed */
	int out_fd;     /* -1 when not piped or at end of file */
	int err_fd;     /* -1 when not piped or at end of file */
	int pgroup;     /* spawned with PROC_PGROUP */
	int reaped;     /* the wait status below is valid */
	int status;     /* as from waitpid() */
	struct buf err; /* stderr drained by the blocking helpers below, capped */
};

#define PROC_INIT                                                                                  \
	{                                                                                          \
		-1, -1, -1, -1, 0, 0, 0, BUF_INIT                                                  \
	}

/* DB_ENOTFOUND when argv[0] cannot be found or executed, DB_ERROR for other failures. */
int proc_spawn(struct proc *p, const char *const *argv, unsigned flags, struct db_err *err);
/* The same with the environment `env` (NULL-terminated "NAME=value"; NULL: ours). */
int proc_spawn_env(struct proc *p, const char *const *argv, char *const *env, unsigned flags,
                   struct db_err *err);
/*
 * Our environment without the entries `drop` returns 1 for, plus `add` (may be NULL): a
 * NULL-terminated array whose strings are borrowed; free() the array alone.
 */
char **proc_env(int (*drop)(const char *entry), const char *const *add);

/*
 * A conversation with a child over its stdin and stdout (git's receive-pack, a credential
 * helper): each call waits at most `timeout_ms` and meanwhile keeps the child's stderr drained
 * into `p->err`. `what` names the child in errors. proc_read_wait() returns the bytes read, 0
 * at the end of the output, or DB_ENET.
 */
int proc_write_all(struct proc *p, const void *data, size_t len, int timeout_ms, const char *what,
                   struct db_err *err);
ssize_t proc_read_wait(struct proc *p, void *out, size_t size, int timeout_ms, const char *what,
                       struct db_err *err);
/* Whether an executable `name` is in PATH. */
int proc_in_path(const char *name);

/*
 * Writes as much of `data` as the child takes without blocking: the number of bytes written
 * (possibly 0), or -1 when the child closed its stdin (then in_fd is closed and set to -1).
 */
ssize_t proc_write(struct proc *p, const void *data, size_t len);
/* Closes the child's stdin: it reads end of file. */
void proc_close_stdin(struct proc *p);

/*
 * Appends up to `max` available bytes of `*fd` to `into`: the number read, 0 when nothing is
 * available now, or -1 at end of file or on an error (then `*fd` is closed and set to -1).
 */
ssize_t proc_read(int *fd, struct buf *into, size_t max);

/* Sends `sig` to the child (to its whole group with PROC_PGROUP); a reaped child is left alone. */
void proc_kill(struct proc *p, int sig);
/* Waits up to `timeout_ms` (-1: forever, 0: just check) for the child: 1 reaped, 0 running. */
int proc_wait(struct proc *p, int timeout_ms);
/* The exit code, 128 + the signal number for a killed child, -1 when not reaped. */
int proc_exit_code(const struct proc *p);
/* Kills (SIGKILL) and reaps a child still running, then closes every fd. Accepts PROC_INIT. */
void proc_release(struct proc *p);

struct proc_result {
	struct buf out; /* stdout, capped */
	struct buf err; /* stderr, capped */
	int code;       /* exit code, 128 + signal, or -1 when killed at the timeout */
	int timed_out;
	int truncated; /* some output beyond the cap was dropped */
};

void proc_result_init(struct proc_result *r);
void proc_result_release(struct proc_result *r);

/*
 * Runs `argv` to completion, feeding it `input` (may be NULL) on stdin and capturing at most
 * `max_output` bytes of each of stdout and stderr (more is read and dropped). A child still
 * running after `timeout_ms` (-1: no limit) is killed with its process group. Returns 0 when
 * the child ran, whatever its exit code (see `r->code`); < 0 only when it could not start.
 */
int proc_run(struct proc_result *r, const char *const *argv, const void *input, size_t input_len,
             int timeout_ms, size_t max_output, struct db_err *err);

#endif

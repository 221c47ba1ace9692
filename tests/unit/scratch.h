/*
 * A scratch directory for a unit test: created fresh under /tmp, removed with everything in
 * it at the end (by `rm -rf` run directly, no shell).
 *
 *	char *dir = scratch_new("registry");
 *	...
 *	scratch_remove(dir);	// frees `dir`
 */
#ifndef DOCKERBUMP_TESTS_SCRATCH_H
#define DOCKERBUMP_TESTS_SCRATCH_H

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"

static inline char *scratch_new(const char *what)
{
	char *dir = xasprintf("/tmp/dockerbump-test-%s.XXXXXX", what);

	if (!mkdtemp(dir))
		abort();
	return dir;
}

static inline void scratch_remove(char *dir)
{
	char *argv[] = {"rm", "-rf", dir, NULL};
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(dir);
}

#endif

#include "updater/gitlocal.h"

#include <stdlib.h>
#include <string.h>

#include <git2/sys/transport.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/proc.h"

#include "common/banned.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *gitlocal_path(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/'), *p;
	struct buf path = BUF_INIT;

	if (strncmp(url, "file://", 7) == 0) {
		p = url + 7;
		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		for (; *p; p++) {
			if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				buf_addch(&path, hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				buf_addch(&path, *p);
			}
		}
		if (!path.len || memchr(path.ptr, '\0', path.len)) {
			buf_release(&path);
			return NULL;
		}
		return buf_detach(&path, NULL);
	}
	/* git's rule: a colon before any slash makes a URL ("host:path", "https://..."). */
	if (!*url || (colon && (!slash || colon < slash)))
		return NULL;
	return xstrdup(url);
}

/* Variables that point git at a repository (git drops the same ones for a local transport),
 * that would make it wait for a person, and this program's secrets. */
static const char *const dropped_env[] = {
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
    "GITLAB_TOKEN",
};

static int env_dropped(const char *entry)
{
	size_t i, len = strcspn(entry, "=");

	if (strncmp(entry, "DOCKERBUMP_", 11) == 0)
		return 1;
	for (i = 0; i < sizeof(dropped_env) / sizeof(dropped_env[0]); i++)
		if (strlen(dropped_env[i]) == len && strncmp(entry, dropped_env[i], len) == 0)
			return 1;
	return 0;
}

int gitlocal_spawn(struct proc *p, const char *const *argv, struct db_err *err)
{
	static const char *const add[] = {"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", NULL};
	char **env = proc_env(env_dropped, add);
	int rc = proc_spawn_env(p, argv, env, PROC_STDIN | PROC_STDOUT | PROC_STDERR, err);

	free(env);
	return rc;
}

struct local_sub;

struct local_stream {
	git_smart_subtransport_stream parent;
	struct local_sub *sub;
	struct proc proc;
	const char *what; /* "git receive-pack", for messages */
};

struct local_sub {
	git_smart_subtransport parent;
	int timeout_ms;
	struct local_stream *stream; /* the running child, if any */
};

static int stream_read(git_smart_subtransport_stream *stream, char *buffer, size_t size,
                       size_t *bytes_read)
{
	struct local_stream *s = (struct local_stream *)stream;
	struct db_err err = DB_ERR_INIT;
	struct buf msg = BUF_INIT;
	long n;

	n = proc_read_wait(&s->proc, buffer, size, s->sub->timeout_ms, s->what, &err);
	if (n > 0) {
		*bytes_read = (size_t)n;
		return 0;
	}
	if (n == 0) {
		/* The child stopped talking; it says why on stderr. */
		proc_close_stdin(&s->proc);
		proc_wait(&s->proc, s->sub->timeout_ms);
		buf_addf(&msg, "'%s' ended early", s->what);
		if (s->proc.err.len) {
			buf_adds(&msg, ": ");
			buf_add(&msg, s->proc.err.ptr,
			        s->proc.err.len < 500 ? s->proc.err.len : 500);
			buf_rtrim(&msg);
		}
		git_error_set_str(GIT_ERROR_NET, msg.ptr);
	} else {
		git_error_set_str(GIT_ERROR_NET, err.msg);
	}
	buf_release(&msg);
	return -1;
}

static int stream_write(git_smart_subtransport_stream *stream, const char *buffer, size_t len)
{
	struct local_stream *s = (struct local_stream *)stream;
	struct db_err err = DB_ERR_INIT;

	if (proc_write_all(&s->proc, buffer, len, s->sub->timeout_ms, s->what, &err) < 0) {
		git_error_set_str(GIT_ERROR_NET, err.msg);
		return -1;
	}
	return 0;
}

static void stream_free(git_smart_subtransport_stream *stream)
{
	struct local_stream *s = (struct local_stream *)stream;

	if (s->sub->stream == s)
		s->sub->stream = NULL;
	/* Closing its input lets the child finish; one that does not within the timeout is
	 * killed by proc_release(). */
	proc_close_stdin(&s->proc);
	proc_wait(&s->proc, s->sub->timeout_ms);
	proc_release(&s->proc);
	free(s);
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *subtransport,
                      const char *url, git_smart_service_t action)
{
	struct local_sub *sub = (struct local_sub *)subtransport;
	struct db_err err = DB_ERR_INIT;
	struct local_stream *s;
	const char *argv[4] = {"git", NULL, NULL, NULL};
	char *path;
	int rc;

	switch (action) {
	case GIT_SERVICE_UPLOADPACK_LS:
	case GIT_SERVICE_UPLOADPACK:
		argv[1] = "upload-pack";
		break;
	case GIT_SERVICE_RECEIVEPACK_LS:
	case GIT_SERVICE_RECEIVEPACK:
		argv[1] = "receive-pack";
		break;
	default:
		git_error_set_str(GIT_ERROR_NET, "unknown service");
		return -1;
	}
	/* The listing and the operation after it share one child, as over ssh. */
	if (sub->stream &&
	    (action == GIT_SERVICE_UPLOADPACK || action == GIT_SERVICE_RECEIVEPACK)) {
		*out = &sub->stream->parent;
		return 0;
	}
	if (sub->stream)
		stream_free(&sub->stream->parent);

	if (!(path = gitlocal_path(url))) {
		git_error_set_str(GIT_ERROR_NET, "not a local repository URL");
		return -1;
	}
	argv[2] = path;
	s = xcalloc(1, sizeof(*s));
	s->what = argv[1][0] == 'r' ? "git receive-pack" : "git upload-pack";
	rc = gitlocal_spawn(&s->proc, argv, &err);
	free(path);
	if (rc < 0) {
		git_error_set_str(GIT_ERROR_NET, err.msg);
		free(s);
		return -1;
	}
	s->sub = sub;
	s->parent.subtransport = subtransport;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	sub->stream = s;
	*out = &s->parent;
	return 0;
}

static int sub_close(git_smart_subtransport *subtransport)
{
	struct local_sub *sub = (struct local_sub *)subtransport;

	if (sub->stream)
		stream_free(&sub->stream->parent);
	return 0;
}

static void sub_free(git_smart_subtransport *subtransport)
{
	sub_close(subtransport);
	free(subtransport);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	struct local_sub *sub = xcalloc(1, sizeof(*sub));

	(void)owner;
	sub->timeout_ms = *(const int *)param;
	sub->parent.action = sub_action;
	sub->parent.close = sub_close;
	sub->parent.free = sub_free;
	*out = &sub->parent;
	return 0;
}

int gitlocal_transport_new(git_transport **out, git_remote *owner, int timeout_ms)
{
	/* rpc = 0: one child serves the whole exchange, like git:// and ssh. */
	git_smart_subtransport_definition def = {sub_new, 0, &timeout_ms};

	return git_transport_smart(out, owner, &def);
}

/*
 * Containers for verification: one per distinct image, `jobs` at once, driven by one poll()
 * loop (no threads). Each worker owns one container at a time and walks through the runs of
 * its image:
 *
 *   BOOT     the container starts; the loop source is streamed in; waiting for "hello"
 *   BUSY     a run request was sent; messages are recorded and requests answered until
 *            "completed"; then the next run, or
 *   CLOSING  {"type":"exit"} was sent and stdin closed; waiting for the container to end
 *
 * Every state has a deadline. A BUSY deadline is the item's timeout plus a grace period: the
 * loop enforces the timeout itself, so reaching it means the loop no longer answers, and the
 * container is killed (the backstop) and restarted for the runs left.
 *
 * Every line the loop writes is accounted for: one that does not parse, or a message out of
 * place, ends the item as a crash (a protocol violation) and the container is replaced, as
 * its stream can no longer be trusted. A container that ends while an item runs is asked
 * about: out of memory (the engine's "oom" event), the item crashed; else it was ended from
 * outside (killed, removed, the engine restarted), and the item is run again once in a new
 * container, then recorded as an error (could not verify), never blamed on the image. After
 * an item killed by SIGKILL (most likely the memory limit) the container is replaced too, so
 * that a later "oom" event is that later item's. Three deaths in a row without a completed
 * item end the image with errors. The interpreter is `python3` (or `python` for
 * demisto/python) with the other one as a fallback when the first is missing from the image.
 *
 * No container outlives verify_engine_run(): containers are started with --rm and a name of
 * this session's own (dockerbump-verify-SESSION-N, labelled dockerbump.verify.session), and
 * every path that gives up on one removes it by name (`RUNTIME rm -f NAME`); nothing here
 * touches another run's containers.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/proc.h"
#include "updater/verify_int.h"
#include "common/banned.h"

#define START_TIMEOUT_MS  120000
#define BACKSTOP_GRACE_MS 15000
#define CLOSE_TIMEOUT_MS  10000
#define CLI_TIMEOUT_MS    60000
#define EVENTS_TIMEOUT_MS 10000
#define PULL_TIMEOUT_MS   (30 * 60 * 1000)
#define MAX_DEATHS        3
#define STDERR_CAP        (16u << 10)
#define READ_CHUNK        65536
/* Slack over max_output for the protocol framing before the backstop cuts a run off. */
#define OUTPUT_SLACK (256u << 10)
#define PODMAN_NPROC 16384ULL

/*
 * Reads a decimal length and a newline, then that many bytes of loop source, with unbuffered
 * os.read() calls so nothing of the protocol that follows is consumed; Python 2 and 3 alike.
 */
const char verify_bootstrap[] = "import os\n"
                                "h=b''\n"
                                "while h[-1:]!=b'\\n':\n"
                                " c=os.read(0,1)\n"
                                " if not c:raise SystemExit(3)\n"
                                " h+=c\n"
                                "n=int(h);_dockerbump_loop_source=b''\n"
                                "while len(_dockerbump_loop_source)<n:\n"
                                " c=os.read(0,n-len(_dockerbump_loop_source))\n"
                                " if not c:raise SystemExit(3)\n"
                                " _dockerbump_loop_source+=c\n"
                                "exec(compile(_dockerbump_loop_source,'dockerbump-loop.py',"
                                "'exec'))\n";

struct job {
	const char *image;
	struct vrun **runs;
	size_t nr, alloc;
	size_t next;  /* next run to send */
	int attempt;  /* interpreter: 0 the preferred one, 1 the fallback */
	int deaths;   /* containers that died in a row without completing a run */
	int finished; /* every run has a record */
	long long started;
};

enum wstate { W_FREE = 0, W_BOOT, W_BUSY, W_CLOSING };

struct worker {
	struct job *job;
	enum wstate state;
	struct proc proc;
	char name[96];
	struct buf rx, tx, errtxt;
	size_t tx_off;
	long long deadline;
	struct vrun *cur;
	size_t cur_bytes;
	int sent_modules;
	int completed; /* runs completed by this container */
	unsigned gen;  /* changes when the buffers are reset for another container */
};

struct engine {
	const struct vengine_opts *eo;
	const struct verify_opts *o;
	size_t total, done;
};

/* ---- small helpers ------------------------------------------------------------------- */

struct argv {
	const char **v;
	char **owned;
	size_t nr, alloc, nr_owned, alloc_owned;
};

static void argv_push(struct argv *a, const char *s)
{
	ALLOC_GROW(a->v, a->nr + 2, a->alloc);
	a->v[a->nr++] = s;
	a->v[a->nr] = NULL;
}

static void argv_pushf_owned(struct argv *a, char *s)
{
	ALLOC_GROW(a->owned, a->nr_owned + 1, a->alloc_owned);
	a->owned[a->nr_owned++] = s;
	argv_push(a, s);
}

static void argv_release(struct argv *a)
{
	size_t i;

	for (i = 0; i < a->nr_owned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int is_podman(const char *runtime)
{
	const char *base = strrchr(runtime, '/');

	base = base ? base + 1 : runtime;
	return !strncmp(base, "podman", 6);
}

/* The last non-empty line of a tool's stderr, for error messages. */
static void last_line(char *out, size_t size, const struct buf *b)
{
	size_t end = b->len, start;

	while (end &&
	       (b->ptr[end - 1] == '\n' || b->ptr[end - 1] == '\r' || b->ptr[end - 1] == ' '))
		end--;
	start = end;
	while (start && b->ptr[start - 1] != '\n')
		start--;
	snprintf(out, size, "%.*s", (int)(end - start), b->ptr + start);
	if (!out[0])
		snprintf(out, size, "no message");
}

/* Milliseconds of the wall clock, for the engine's event times. */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *verify_python_for(const char *image, int attempt)
{
	const char *slash = strrchr(image, '/'), *base = slash ? slash + 1 : image;
	size_t n = strcspn(base, ":@");
	int py2 = n == 6 && !strncmp(base, "python", 6);

	/* demisto/python images are Python 2 and have only `python`. */
	if (attempt == 0)
		return py2 ? "python" : "python3";
	return py2 ? "python3" : "python";
}

/* ---- engine and images --------------------------------------------------------------- */

static int run_cli(struct proc_result *r, const struct verify_opts *o, const char *const *args,
                   int timeout_ms, struct db_err *err)
{
	struct argv a = {0};
	int ret;

	argv_push(&a, o->runtime);
	for (; *args; args++)
		argv_push(&a, *args);
	ret = proc_run(r, a.v, NULL, 0, timeout_ms, 1 << 20, err);
	argv_release(&a);
	return ret;
}

int verify_engine_check(const struct verify_opts *o, struct db_err *err)
{
	static const char *const version[] = {"version", "--format", "{{.Server.Version}}", NULL};
	const char *const local[] = {o->local_python, "-c", "import json, select", NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	char why[512];
	int ret = 0;

	proc_result_init(&r);
	if (o->local_python) {
		if (proc_run(&r, local, NULL, 0, CLI_TIMEOUT_MS, 1 << 16, &sub) < 0 || r.code != 0)
			ret = db_err_set(err, DB_EVERIFY, "'%s': the local python does not run: %s",
			                 o->local_python, sub.msg[0] ? sub.msg : r.err.ptr);
		goto out;
	}
	if (run_cli(&r, o, version, CLI_TIMEOUT_MS, &sub) < 0) {
		ret = db_err_set(err, DB_EVERIFY,
		                 "container runtime '%s' is not installed (%s); install docker or "
		                 "podman, set verify.runtime or --runtime, or pass --verify off",
		                 o->runtime, sub.msg);
		goto out;
	}
	if (r.code != 0) {
		if (r.timed_out)
			snprintf(why, sizeof(why), "no answer within %d s", CLI_TIMEOUT_MS / 1000);
		else
			last_line(why, sizeof(why), &r.err);
		ret =
		    db_err_set(err, DB_EVERIFY,
		               "no container engine reachable through '%s' (%s); start one (e.g. "
		               "'dockerd &' or 'systemctl start docker'), point DOCKER_HOST or the "
		               "docker context at one, or pass --verify off",
		               o->runtime, why);
	}
out:
	proc_result_release(&r);
	return ret;
}

static int inspect_id(char **id, const struct verify_opts *o, const char *image)
{
	const char *const args[] = {"image", "inspect", "--format", "{{.Id}}", image, NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	int found = 0;

	proc_result_init(&r);
	if (run_cli(&r, o, args, CLI_TIMEOUT_MS, &sub) == 0 && r.code == 0) {
		buf_rtrim(&r.out);
		if (r.out.len && !memchr(r.out.ptr, '\n', r.out.len)) {
			*id = xstrdup(r.out.ptr);
			found = 1;
		}
	}
	proc_result_release(&r);
	return found;
}

int verify_engine_pull(char **id, int *pulled, const struct verify_opts *o, const char *image,
                       struct db_err *err)
{
	const char *const pull[] = {"pull", "--quiet", image, NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	char why[512];
	int ret = 0;

	*id = NULL;
	*pulled = 0;
	if (o->local_python) {
		*id = xasprintf("local:%s", o->local_python);
		return 0;
	}
	/* Registry data is untrusted: nothing but a reference reaches the runtime's argv. */
	if (!image[0] || image[0] == '-' ||
	    strspn(image, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/@") !=
	        strlen(image))
		return db_err_set(err, DB_EPARSE, "'%s': not an image reference", image);
	if (inspect_id(id, o, image))
		return 0;
	log_info("pulling '%s'", image);
	proc_result_init(&r);
	if (run_cli(&r, o, pull, PULL_TIMEOUT_MS, &sub) < 0) {
		ret = db_err_set(err, DB_ENOTFOUND, "'%s': cannot pull: %s", image, sub.msg);
		goto out;
	}
	if (r.code != 0) {
		if (r.timed_out)
			snprintf(why, sizeof(why), "no answer within %d s", PULL_TIMEOUT_MS / 1000);
		else
			last_line(why, sizeof(why), &r.err);
		ret = db_err_set(err, DB_ENOTFOUND, "'%s': pull failed: %s", image, why);
		goto out;
	}
	*pulled = 1;
	if (!inspect_id(id, o, image))
		ret = db_err_set(err, DB_ENOTFOUND, "'%s': pulled, but the engine does not show it",
		                 image);
out:
	proc_result_release(&r);
	return ret;
}

int verify_engine_image_id(char **id, const struct verify_opts *o, const char *image,
                           struct db_err *err)
{
	int pulled;

	return verify_engine_pull(id, &pulled, o, image, err);
}

void vlocal_release(struct vlocal *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].ref);
		free(l->v[i].id);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *vlocal_find(const struct vlocal *l, const char *ref)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].ref, ref))
			return l->v[i].id;
	return NULL;
}

void verify_engine_local_images(struct vlocal *out, const struct verify_opts *o)
{
	static const char *const args[] = {"images", "--no-trunc", "--format",
	                                   "{{.Repository}}:{{.Tag}} {{.ID}}", NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (o->local_python)
		return;
	proc_result_init(&r);
	if (run_cli(&r, o, args, CLI_TIMEOUT_MS, &sub) == 0 && r.code == 0 && !r.truncated) {
		for (p = r.out.ptr; *p;) {
			size_t n = strcspn(p, "\n");
			const char *sp = memchr(p, ' ', n);
			if (sp && sp + 1 < p + n) {
				char *ref = xstrndup(p, (size_t)(sp - p));
				if (strstr(ref, "<none>")) {
					free(ref);
				} else {
					ALLOC_GROW(out->v, out->nr + 1, out->alloc);
					out->v[out->nr].ref = ref;
					out->v[out->nr].id =
					    xstrndup(sp + 1, (size_t)(p + n - sp - 1));
					out->nr++;
				}
			}
			p += n + (p[n] == '\n');
		}
	}
	proc_result_release(&r);
}

int verify_engine_remove_image(const struct verify_opts *o, const char *image, struct db_err *err)
{
	const char *const args[] = {"image", "rm", image, NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	char why[512];
	int ret = 0;

	proc_result_init(&r);
	if (run_cli(&r, o, args, CLI_TIMEOUT_MS, &sub) < 0) {
		ret = db_err_set(err, DB_ERROR, "'%s': %s", image, sub.msg);
	} else if (r.code != 0) {
		last_line(why, sizeof(why), &r.err);
		ret = db_err_set(err, DB_ERROR, "'%s': %s", image, why);
	}
	proc_result_release(&r);
	return ret;
}

/* ---- one container ------------------------------------------------------------------- */

static void build_argv(struct argv *a, const struct engine *e, struct worker *w)
{
	const struct verify_opts *o = e->o;
	const char *python = verify_python_for(w->job->image, w->job->attempt);

	if (o->local_python) {
		argv_push(a, o->local_python);
		argv_push(a, "-c");
		argv_push(a, verify_bootstrap);
		return;
	}
	argv_push(a, o->runtime);
	argv_push(a, "run");
	argv_push(a, "--rm");
	argv_push(a, "-i");
	argv_push(a, "--name");
	argv_push(a, w->name);
	argv_push(a, "--label");
	argv_push(a, "dockerbump.verify=1");
	argv_push(a, "--label");
	argv_pushf_owned(a, xasprintf("dockerbump.verify.session=%s", e->eo->session));
	argv_push(a, "--pull");
	argv_push(a, "never");
	argv_push(a, "--network");
	argv_push(a, "none");
	argv_push(a, "--read-only");
	argv_push(a, "--tmpfs");
	argv_push(a, "/tmp:rw,nosuid,nodev");
	argv_push(a, "--workdir");
	argv_push(a, "/tmp");
	argv_push(a, "--log-driver");
	argv_push(a, "none");
	/* The loop runs as root with only what it needs to run items as another user, to
	 * signal their processes and to remove what they leave behind; item code has none. */
	argv_push(a, "--user");
	argv_push(a, "0:0");
	argv_push(a, "--cap-drop");
	argv_push(a, "ALL");
	{
		static const char *const caps[] = {"CHOWN", "DAC_OVERRIDE", "FOWNER",
		                                   "KILL",  "SETGID",       "SETUID"};
		size_t i;
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			argv_push(a, "--cap-add");
			argv_push(a, caps[i]);
		}
	}
	argv_push(a, "--security-opt");
	argv_push(a, "no-new-privileges");
	argv_push(a, "--memory");
	argv_push(a, o->memory);
	argv_push(a, "--memory-swap");
	argv_push(a, o->memory);
	argv_push(a, "--pids-limit");
	argv_pushf_owned(a, xasprintf("%d", o->pids));
	argv_push(a, "--cpus");
	argv_push(a, o->cpus);
	if (is_podman(o->runtime)) {
		/* podman asks runc for its own default rlimits, which a confined host refuses:
		 * ask for this process's open-file limit, and a process limit that such hosts
		 * grant (the pids limit is the real bound). */
		struct rlimit nofile, nproc;
		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
			argv_push(a, "--ulimit");
			argv_pushf_owned(a, xasprintf("nofile=%llu:%llu",
			                              (unsigned long long)nofile.rlim_cur,
			                              (unsigned long long)nofile.rlim_max));
		}
		if (getrlimit(RLIMIT_NPROC, &nproc) == 0) {
			unsigned long long n =
			    nproc.rlim_cur < PODMAN_NPROC ? nproc.rlim_cur : PODMAN_NPROC;
			argv_push(a, "--ulimit");
			argv_pushf_owned(a, xasprintf("nproc=%llu:%llu", n, n));
		}
	}
	argv_push(a, "--");
	argv_push(a, w->job->image);
	argv_push(a, python);
	argv_push(a, "-c");
	argv_push(a, verify_bootstrap);
	argv_push(a, "isolate=" VERIFY_ITEM_USER);
}

static void job_fail_rest(struct engine *e, struct job *j, enum verify_outcome outcome,
                          const char *msg)
{
	for (; j->next < j->nr; j->next++) {
		vrec_fail(j->runs[j->next]->rec, outcome, "%s", msg);
		e->done++;
	}
	j->finished = 1;
}

static void worker_reset(struct worker *w)
{
	proc_release(&w->proc);
	w->proc = (struct proc)PROC_INIT;
	buf_reset(&w->rx);
	buf_reset(&w->tx);
	buf_reset(&w->errtxt);
	w->tx_off = 0;
	w->cur = NULL;
	w->cur_bytes = 0;
	w->sent_modules = 0;
	w->completed = 0;
	w->state = W_FREE;
	w->gen++;
}

/* Kills the container (by name: killing the CLI alone may leave it running) and its CLI. */
static void container_kill(struct engine *e, struct worker *w)
{
	if (!e->o->local_python && w->name[0]) {
		const char *const rm[] = {"rm", "-f", w->name, NULL};
		struct proc_result r;
		struct db_err sub = DB_ERR_INIT;
		proc_result_init(&r);
		/* Gone already (--rm, or whoever ended it): nothing is left behind. */
		if (run_cli(&r, e->o, rm, CLI_TIMEOUT_MS, &sub) < 0 ||
		    (r.code != 0 && !strstr(r.err.ptr, "No such container") &&
		     !strstr(r.err.ptr, "no such container")))
			log_warn("container '%s' may be left behind: %s", w->name,
			         sub.msg[0] ? sub.msg : r.err.ptr);
		proc_result_release(&r);
	}
	proc_kill(&w->proc, SIGKILL);
	proc_wait(&w->proc, -1);
}

static void container_start(struct engine *e, struct worker *w)
{
	struct argv a = {0};
	struct db_err sub = DB_ERR_INIT;

	worker_reset(w);
	snprintf(w->name, sizeof(w->name), "dockerbump-verify-%s-%u", e->eo->session,
	         (*e->eo->seq)++);
	build_argv(&a, e, w);
	if (proc_spawn(&w->proc, a.v,
	               PROC_STDIN | PROC_STDOUT | PROC_STDERR |
	                   (e->o->local_python ? PROC_PGROUP : 0),
	               &sub) < 0) {
		job_fail_rest(e, w->job, VERIFY_OUTCOME_ERROR, sub.msg);
		argv_release(&a);
		return;
	}
	argv_release(&a);
	e->eo->stats->containers_started++;
	buf_addf(&w->tx, "%zu\n", e->eo->loop_len);
	buf_add(&w->tx, e->eo->loop, e->eo->loop_len);
	w->state = W_BOOT;
	w->deadline = clock_now_ms() + START_TIMEOUT_MS;
	log_debug("verify: started '%s' for '%s'", w->name, w->job->image);
}

static void progress(struct engine *e, const struct job *j)
{
	if (e->o->progress)
		progress_update("verify", e->done, e->total, j->image);
}

/* Asks the loop to exit; the container then ends by itself. */
static void close_container(struct worker *w)
{
	buf_adds(&w->tx, "{\"type\":\"exit\"}\n");
	w->state = W_CLOSING;
	w->deadline = clock_now_ms() + CLOSE_TIMEOUT_MS;
}

/* Sends the next run, or asks the loop to exit when there is none for this container. */
static void dispatch(struct engine *e, struct worker *w)
{
	struct job *j = w->job;
	struct vrun *run;

	if (j->next >= j->nr || (e->o->no_reuse && w->completed)) {
		close_container(w);
		return;
	}
	run = j->runs[j->next++];
	run->started_ms = wall_ms();
	w->cur = run;
	w->cur_bytes = 0;
	if (e->eo->modules && !w->sent_modules) {
		/* The modules travel once per container; the loop keeps them. */
		buf_addch(&w->tx, '{');
		buf_adds(&w->tx, e->eo->modules);
		buf_addch(&w->tx, ',');
		buf_adds(&w->tx, run->request + 1);
		w->sent_modules = 1;
	} else {
		buf_adds(&w->tx, run->request);
	}
	buf_addch(&w->tx, '\n');
	w->state = W_BUSY;
	w->deadline = clock_now_ms() + e->o->timeout_s * 1000 +
	              (e->o->backstop_ms > 0 ? e->o->backstop_ms : BACKSTOP_GRACE_MS);
}

static void run_completed(struct engine *e, struct worker *w)
{
	int killed = w->cur->rec->crash_signal == SIGKILL;

	w->cur = NULL;
	w->completed++;
	w->job->deaths = 0;
	e->done++;
	progress(e, w->job);
	/* Most likely the memory limit: a new container, so that an "oom" event of the
	 * engine is always about the item that runs. */
	if (killed && !e->o->local_python)
		close_container(w);
	else
		dispatch(e, w);
}

static void protocol_violation(struct engine *e, struct worker *w);
static void carry_on(struct engine *e, struct worker *w);

static void handle_line(struct engine *e, struct worker *w, const char *line, size_t len)
{
	json_t *msg;
	const char *type;
	int ret;

	if (w->state == W_BUSY && w->cur) {
		ret = verify_proto_line(w->cur->rec, line, len, &w->tx);
		if (ret > 0)
			run_completed(e, w);
		else if (ret < 0)
			protocol_violation(e, w);
		return;
	}
	msg = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(msg, "type"));
	if (w->state == W_BOOT && type && !strcmp(type, "hello")) {
		dispatch(e, w);
	} else if (w->state == W_BOOT) {
		char why[256];
		snprintf(why, sizeof(why),
		         "'%s': the loop did not start: a line of %zu bytes that is not its "
		         "greeting",
		         w->job->image, len);
		container_kill(e, w);
		job_fail_rest(e, w->job, VERIFY_OUTCOME_ERROR, why);
		carry_on(e, w);
	}
	/* Closing: the loop has nothing more to say, and nothing it says matters. */
	json_decref(msg);
}

static int missing_interpreter(const struct worker *w)
{
	int code = proc_exit_code(&w->proc);

	return code == 127 || strstr(w->errtxt.ptr, "executable file not found") ||
	       strstr(w->errtxt.ptr, "no such file or directory");
}

/* After a container ended or was killed: a new one for the runs left, else the image is done. */
static void carry_on(struct engine *e, struct worker *w)
{
	struct job *j = w->job;

	if (j->next < j->nr && !j->finished) {
		container_start(e, w);
		return;
	}
	j->finished = 1;
	log_info("verify: '%s': %zu item(s) in %lld ms", j->image, j->nr,
	         clock_now_ms() - j->started);
	worker_reset(w);
}

/*
 * Whether the engine saw the container run out of memory while the current item ran: its
 * "oom" event. The CLI has exited, so the "die" event and any "oom" before it are recorded.
 */
static int container_oom(struct engine *e, struct worker *w)
{
	const char *fmt = is_podman(e->o->runtime) ? "{{.Status}}" : "{{.Action}}";
	long long since = w->cur ? w->cur->started_ms / 1000 - 1 : 0, until = wall_ms() + 500;
	char *filter = xasprintf("container=%s", w->name);
	char *since_s = xasprintf("%lld", since);
	char *until_s = xasprintf("%lld.%03lld", until / 1000, until % 1000);
	const char *const args[] = {"events",   "--since", since_s,    "--until", until_s,
	                            "--filter", filter,    "--format", fmt,       NULL};
	struct proc_result r;
	struct db_err sub = DB_ERR_INIT;
	int oom = 0;

	proc_result_init(&r);
	if (run_cli(&r, e->o, args, EVENTS_TIMEOUT_MS, &sub) == 0 && r.code == 0) {
		const char *p;
		for (p = r.out.ptr; *p;) {
			size_t n = strcspn(p, "\n");
			if ((n == 3 && !strncmp(p, "oom", 3)))
				oom = 1;
			p += n + (p[n] == '\n');
		}
	}
	proc_result_release(&r);
	free(filter);
	free(since_s);
	free(until_s);
	return oom;
}

/* The container's output ended: it exited, or its CLI did. */
static void container_ended(struct engine *e, struct worker *w)
{
	struct job *j = w->job;
	char why[512], msg[768];
	int code;

	if (!proc_wait(&w->proc, CLOSE_TIMEOUT_MS))
		container_kill(e, w);
	code = proc_exit_code(&w->proc);
	last_line(why, sizeof(why), &w->errtxt);
	switch (w->state) {
	case W_CLOSING:
		break;
	case W_BOOT:
		if (missing_interpreter(w) && j->attempt == 0) {
			j->attempt = 1;
			container_start(e, w);
			return;
		}
		container_kill(e, w);
		if (++j->deaths < MAX_DEATHS && code != 125 && code != 126 && code != 127) {
			log_warn("verify: the container of '%s' ended before the loop started "
			         "(status %d: %s); starting another",
			         j->image, code, why);
			break;
		}
		snprintf(msg, sizeof(msg), "'%s': the container did not start (status %d): %s",
		         j->image, code, why);
		job_fail_rest(e, j, VERIFY_OUTCOME_ERROR, msg);
		break;
	case W_BUSY:
		if (!e->o->local_python && container_oom(e, w)) {
			vrec_fail(w->cur->rec, VERIFY_OUTCOME_CRASH,
			          "the container of '%s' ran out of memory while the item ran "
			          "(status %d)",
			          j->image, code);
			e->done++;
		} else if (w->cur->attempts++ == 0) {
			/* Not the image's doing: the same item again, in a new container. */
			log_warn("verify: the container '%s' of '%s' ended from outside while '%s' "
			         "ran (status %d: %s); running it again in a new container",
			         w->name, j->image, w->cur->image, code, why);
			e->eo->stats->retries++;
			j->next--;
			j->runs[j->next] = w->cur;
		} else {
			vrec_fail(w->cur->rec, VERIFY_OUTCOME_ERROR,
			          "the container of '%s' ended from outside twice while the item "
			          "ran (status %d: %s)",
			          j->image, code, why);
			e->done++;
		}
		w->cur = NULL;
		container_kill(e, w);
		if (++j->deaths >= MAX_DEATHS) {
			snprintf(msg, sizeof(msg), "'%s': %d containers in a row died; giving up",
			         j->image, MAX_DEATHS);
			job_fail_rest(e, j, VERIFY_OUTCOME_ERROR, msg);
		}
		break;
	case W_FREE:
		break;
	}
	carry_on(e, w);
}

/* A line of the loop did not parse, or said what no loop says: the item is a crash and the
 * container's stream can no longer be trusted. */
static void protocol_violation(struct engine *e, struct worker *w)
{
	log_warn("verify: '%s': %s; the container is replaced", w->job->image,
	         w->cur->rec->message);
	e->done++;
	w->cur = NULL;
	container_kill(e, w);
	carry_on(e, w);
}

/* Deadline passed: kill the container, record why, and go on with the runs left. */
static void worker_expired(struct engine *e, struct worker *w)
{
	struct job *j = w->job;
	char msg[512];

	container_kill(e, w);
	switch (w->state) {
	case W_BOOT:
		snprintf(msg, sizeof(msg), "'%s': the loop did not start within %d s", j->image,
		         START_TIMEOUT_MS / 1000);
		job_fail_rest(e, j, VERIFY_OUTCOME_ERROR, msg);
		break;
	case W_BUSY:
		vrec_fail(w->cur->rec, VERIFY_OUTCOME_TIMEOUT,
		          "the loop did not end the item within %ld s; the container was killed",
		          e->o->timeout_s);
		e->done++;
		break;
	default:
		break;
	}
	carry_on(e, w);
}

static void split_lines(struct engine *e, struct worker *w)
{
	size_t start = 0;
	char *nl;

	while (w->state != W_FREE &&
	       (nl = memchr(w->rx.ptr + start, '\n', w->rx.len - start)) != NULL) {
		size_t len = (size_t)(nl - (w->rx.ptr + start));
		unsigned gen = w->gen;
		if (w->state == W_BUSY)
			w->cur_bytes += len + 1;
		handle_line(e, w, w->rx.ptr + start, len);
		if (w->gen != gen)
			return; /* another container: what was read belongs to the last one */
		start += len + 1;
	}
	if (start) {
		memmove(w->rx.ptr, w->rx.ptr + start, w->rx.len - start);
		buf_setlen(&w->rx, w->rx.len - start);
	}
}

static void worker_io(struct engine *e, struct worker *w)
{
	size_t limit = e->o->max_output + OUTPUT_SLACK;
	ssize_t n;
	int eof = 0;

	if (w->tx_off < w->tx.len) {
		n = proc_write(&w->proc, w->tx.ptr + w->tx_off, w->tx.len - w->tx_off);
		if (n > 0)
			w->tx_off += (size_t)n;
		if (w->tx_off == w->tx.len || n < 0) {
			buf_reset(&w->tx);
			w->tx_off = 0;
		}
	}
	if (w->state == W_CLOSING && w->tx_off == w->tx.len)
		proc_close_stdin(&w->proc);
	while ((n = proc_read(&w->proc.err_fd, &w->errtxt, READ_CHUNK)) > 0) {
		/* Keep the tail: the last lines say why a container ended. */
		if (w->errtxt.len > STDERR_CAP) {
			size_t drop = w->errtxt.len - STDERR_CAP;
			memmove(w->errtxt.ptr, w->errtxt.ptr + drop, STDERR_CAP);
			buf_setlen(&w->errtxt, STDERR_CAP);
		}
	}
	while ((n = proc_read(&w->proc.out_fd, &w->rx, READ_CHUNK)) > 0) {
		split_lines(e, w);
		if (w->state == W_FREE)
			return;
		if (w->state == W_BUSY && w->cur_bytes + w->rx.len > limit) {
			/* The loop caps an item's output; past that, it is not in control. */
			container_kill(e, w);
			vrec_fail(w->cur->rec, VERIFY_OUTCOME_CRASH,
			          "the item sent more than %zu bytes; the container was killed",
			          e->o->max_output);
			e->done++;
			w->cur = NULL;
			carry_on(e, w);
			return;
		}
	}
	if (n < 0)
		eof = 1;
	/* Written to while reading: flush answers right away. */
	if (w->tx_off < w->tx.len) {
		n = proc_write(&w->proc, w->tx.ptr + w->tx_off, w->tx.len - w->tx_off);
		if (n > 0)
			w->tx_off += (size_t)n;
	}
	if (eof)
		container_ended(e, w);
}

/* ---- the loop over all workers ------------------------------------------------------- */

static struct job *group_by_image(struct vrun *runs, size_t nr, size_t *nr_jobs)
{
	struct job *jobs = NULL;
	size_t alloc = 0, n = 0, i, k;

	for (i = 0; i < nr; i++) {
		for (k = 0; k < n; k++)
			if (!strcmp(jobs[k].image, runs[i].image))
				break;
		if (k == n) {
			ALLOC_GROW(jobs, n + 1, alloc);
			memset(&jobs[n], 0, sizeof(jobs[n]));
			jobs[n].image = runs[i].image;
			n++;
		}
		ALLOC_GROW(jobs[k].runs, jobs[k].nr + 1, jobs[k].alloc);
		jobs[k].runs[jobs[k].nr++] = &runs[i];
	}
	*nr_jobs = n;
	return jobs;
}

int verify_engine_run(const struct vengine_opts *eo, struct vrun *runs, size_t nr,
                      struct db_err *err)
{
	struct engine e = {eo, eo->opts, nr, 0};
	size_t nr_jobs, next_job = 0, nw = (size_t)(eo->opts->jobs > 0 ? eo->opts->jobs : 1), i;
	struct job *jobs = group_by_image(runs, nr, &nr_jobs);
	struct worker *workers = xcalloc(nw, sizeof(*workers));
	struct pollfd *fds = xcalloc(nw * 3, sizeof(*fds));
	struct worker **owner = xcalloc(nw * 3, sizeof(*owner));

	(void)err;
	for (i = 0; i < nw; i++) {
		workers[i].proc = (struct proc)PROC_INIT;
		buf_init(&workers[i].rx, 0);
		buf_init(&workers[i].tx, 0);
		buf_init(&workers[i].errtxt, 0);
	}
	for (;;) {
		long long now = clock_now_ms(), wait = 1000;
		nfds_t n = 0;
		int active = 0;

		for (i = 0; i < nw; i++) {
			struct worker *w = &workers[i];
			while (w->state == W_FREE && next_job < nr_jobs) {
				w->job = &jobs[next_job++];
				w->job->started = now;
				log_debug("verify: '%s': %zu item(s)", w->job->image, w->job->nr);
				container_start(&e, w);
			}
			if (w->state == W_FREE)
				continue;
			active = 1;
			if (w->deadline - now < wait)
				wait = w->deadline - now;
			if (w->proc.out_fd >= 0) {
				fds[n] = (struct pollfd){w->proc.out_fd, POLLIN, 0};
				owner[n++] = w;
			}
			if (w->proc.err_fd >= 0) {
				fds[n] = (struct pollfd){w->proc.err_fd, POLLIN, 0};
				owner[n++] = w;
			}
			if (w->proc.in_fd >= 0 && w->tx_off < w->tx.len) {
				fds[n] = (struct pollfd){w->proc.in_fd, POLLOUT, 0};
				owner[n++] = w;
			}
		}
		if (!active)
			break;
		if (poll(fds, n, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < nw; i++) {
			struct worker *w = &workers[i];
			if (w->state == W_FREE)
				continue;
			worker_io(&e, w);
			if (w->state != W_FREE && clock_now_ms() >= w->deadline)
				worker_expired(&e, w);
			if (w->state == W_FREE && w->job && !w->job->finished &&
			    w->job->next >= w->job->nr)
				w->job->finished = 1;
		}
	}
	for (i = 0; i < nw; i++) {
		if (workers[i].proc.pid > 0 && !workers[i].proc.reaped)
			container_kill(&e, &workers[i]);
		worker_reset(&workers[i]);
		buf_release(&workers[i].rx);
		buf_release(&workers[i].tx);
		buf_release(&workers[i].errtxt);
	}
	for (i = 0; i < nr; i++)
		if (runs[i].rec->outcome == VERIFY_OUTCOME_NOT_RUN)
			vrec_fail(runs[i].rec, VERIFY_OUTCOME_ERROR, "'%s': the item was not run",
			          runs[i].image);
	if (eo->opts->progress)
		progress_done();
	for (i = 0; i < nr_jobs; i++)
		free(jobs[i].runs);
	free(jobs);
	free(owner);
	free(fds);
	free(workers);
	return 0;
}

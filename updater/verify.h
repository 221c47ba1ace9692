/*
 * Verification (SPEC §5): run each bumped item in its new image, and in its old image when
 * the new outcome is not clean, and tell which bumps regress.
 *
 * dockerbump plays the XSOAR server. For every distinct image it starts one long-lived
 * container (`docker run --rm -i --network none --read-only --tmpfs /tmp --user 0:0
 * --cap-drop ALL --cap-add <the six the loop needs> --memory ... --pids-limit ... --cpus ...
 * IMAGE python3 -c BOOTSTRAP isolate=65534:65534`, no shell anywhere) and streams
 * docker/loop.py into it on stdin; every item that needs the image then runs through that
 * container, one after another, each as an unprivileged user in a process of its own forked
 * from a warm parent that imported CommonServerPython once (see loop.py). Up to `jobs`
 * images run at once. dockerbump answers the code's synchronous requests with neutral
 * answers, records logs, results, exceptions and test outcomes, and enforces the per-item
 * timeout twice: the loop kills the item, and a backstop kills the whole container when the
 * loop itself stops answering (the container is then restarted for the items left). No
 * container of ours survives verify_session_run() or verify_session_free(), on any path.
 *
 * Integrity: every line from the loop is accounted for; one that does not parse ends that
 * run as a crash (a protocol violation) and the container is replaced. A container that
 * dies from outside while an item runs (killed, engine restarted; not out of memory) is
 * retried once in a new container, then the item is `error` ("could not verify"), never a
 * regression.
 *
 * The differential is lazy: the new image first; the old image only for items whose new
 * outcome is not clean (ok, or skipped), and then from the outcome cache when it knows it.
 * Outcomes, best to worst: ok < error-entry < exception < timeout < crash. A bump regresses
 * when the new outcome is worse than the old one, when both raised with different exception
 * types, or (tests level) when a test that passes in the old image fails or errors in the
 * new one. Outcomes are cached on disk per (image id, hash of code + modules + level +
 * loop), so a rerun of an unchanged plan starts no container; images are pulled only when a
 * run needs them, `jobs` at a time, and with `prune_images` the images a run pulled are
 * removed when it ends.
 *
 *	struct verify_opts opts;
 *	struct verify_session *s;
 *	verify_opts_init(&opts);
 *	opts.level = VERIFY_LOAD;
 *	opts.common_server_python = csp_source;	// NULL when the repository has none
 *	if (verify_session_new(&s, &opts, &err) < 0) ...
 *	verify_session_add(s, &i, &(struct verify_item){ .id = path, .name = "Foo",
 *		.code = code, .integration = 1,
 *		.image_old = "demisto/python3:3.10.13.83255",
 *		.image_new = "demisto/python3:3.11.10.113941" }, &err);
 *	if (verify_session_run(s, &err) < 0) ...	// DB_EVERIFY: no engine reachable
 *	r = verify_session_result(s, i);		// r->regressed, r->why, r->old.outcome, ...
 *	verify_junit_write(s, "verify.xml", &err);
 *	verify_session_free(s);
 *
 * Protocol between this side and docker/loop.py (one JSON object per line each way; the
 * comment at the top of loop.py is the reference):
 *
 *	loop -> us    {"type":"hello","args":{"protocol":2,"python":"3.11.2",...}}
 *	us -> loop    {"type":"run","script":CODE,"integration":B,"name":N,"level":L,
 *	               "timeout":S,"max_output":B,"modules":{...},"files":B64TAR,"test":F}
 *	loop -> us    {"type":"entryLog","args":{"message":M,"source":"log|output|garbage"}}
 *	              {"type":"result","args":{"results":ENTRY_OR_LIST}}
 *	              {"type":NAME,"sync":true,"id":N,"args":{...}}   -> us: {"id":N,"result":V}
 *	              {"type":"tests","args":{"tests":[{"id":T,"outcome":O}...]}}
 *	              then at most one of exception / timeout / crash / skipped / error, and
 *	              always {"type":"completed","args":{"duration_ms":N,"warm":B}}
 *	us -> loop    {"type":"ping"} -> {"type":"pong"};  {"type":"exit"} or EOF ends the loop
 */
#ifndef DOCKERBUMP_UPDATER_VERIFY_H
#define DOCKERBUMP_UPDATER_VERIFY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"
#include "updater/config.h" /* enum verify_level */

/* The first five are ordered from best to worst; the regression rule compares them. */
enum verify_outcome {
	VERIFY_OUTCOME_OK = 0,
	VERIFY_OUTCOME_ERROR_ENTRY, /* the code reported an error entry (e.g. return_error) */
	VERIFY_OUTCOME_EXCEPTION,   /* uncaught exception; its type is recorded */
	VERIFY_OUTCOME_TIMEOUT,     /* killed at the timeout (by the loop or the backstop) */
	VERIFY_OUTCOME_CRASH,       /* the interpreter died: os._exit, a signal, output limit */
	VERIFY_OUTCOME_SKIPPED,     /* tests level without pytest or without a test file */
	VERIFY_OUTCOME_ERROR,       /* not run: the pull failed, no python in the image, ... */
	VERIFY_OUTCOME_NOT_RUN,     /* no image given for this side */
};

/* "ok", "error-entry", "exception", "timeout", "crash", "skipped", "error", "not-run". */
const char *verify_outcome_name(enum verify_outcome o);

/* One test of the tests level: a pytest node id and "passed", "failed", "error" or
 * "skipped". */
struct verify_test {
	const char *id;
	const char *outcome;
};

/* A file of the item's folder, for the tests level (path relative to the folder). */
struct verify_file {
	const char *path;
	const void *data;
	size_t len;
};

/* One item to verify. Everything is copied by verify_session_add(). */
struct verify_item {
	const char *id;        /* the caller's key, e.g. the YAML's repository path */
	const char *name;      /* item name: the file name in tracebacks, "<name>_test.py" */
	const char *code;      /* the Python code */
	int integration;       /* 1: an integration (command test-module), 0: a script */
	const char *image_old; /* full references, registry host included where it is not */
	const char
	    *image_new; /*   Docker Hub; NULL: that side is not run (VERIFY_OUTCOME_NOT_RUN) */
	const struct verify_file *files; /* tests level: the item's folder; may be NULL */
	size_t nr_files;
	const char *test_file; /* tests level: path among `files`; NULL: "<name>_test.py" */
};

struct verify_opts {
	enum verify_level level; /* VERIFY_COMPILE, VERIFY_LOAD (default) or VERIFY_TESTS */
	const char *runtime;     /* "docker" (default), "podman", or a path to a compatible CLI */
	long timeout_s;          /* per item (60) */
	const char *memory;      /* --memory ("512m") */
	int pids;                /* --pids-limit (256) */
	const char *cpus;        /* --cpus ("1") */
	int jobs;                /* images verified at once (2) */
	size_t max_output;       /* bytes one item may send, all messages together (4 MiB) */
	int prune_images;        /* remove the images a run pulled when it ends (1) */
	/* Outcome cache; NULL: $XDG_CACHE_HOME/dockerbump/verify; "": no cache. */
	const char *cache_dir;
	/* The repository's modules (source text), made importable inside the loop; NULL: none. */
	const char *common_server_python;
	const char *common_server_user_python;
	const char *demistomock;
	int progress; /* a progress line per image on stderr */
	/*
	 * Not user-facing. `no_reuse`: one container per item and image (the benchmark's
	 * baseline). `local_python`: run the loop under this interpreter on the host instead of
	 * in containers, image names then only label the results (protocol tests, benchmark).
	 * `backstop_ms`: how long past the timeout a silent loop is given before its container
	 * is killed (0: 15 s).
	 */
	int no_reuse;
	const char *local_python;
	long backstop_ms;
};

/* The outcome of an item in one image. Strings are owned by the session. */
struct verify_side {
	enum verify_outcome outcome;
	const char *image;          /* the reference it ran in; NULL for VERIFY_OUTCOME_NOT_RUN */
	const char *exception_type; /* "ImportError" for exceptions, else NULL */
	const char *message;        /* exception message, or why timeout/crash/skipped/error */
	const char *traceback;      /* the traceback lines joined by newlines, or NULL */
	const char *log;            /* logs, printed output and results, capped; never NULL */
	const struct verify_test *tests; /* tests level: every test pytest reported */
	size_t nr_tests;
	long duration_ms;
	int cached; /* read from the on-disk cache; no container ran */
};

struct verify_result {
	const char *id;
	const char *name;
	struct verify_side old; /* VERIFY_OUTCOME_NOT_RUN (image set) when the new one was clean */
	struct verify_side new;
	int regressed; /* verify_regressed(&old, &new) */
	/* Tests that pass in the old image and fail or error in the new one. */
	const char *const *regressed_tests;
	size_t nr_regressed_tests;
	/* Why the bump regressed or blocks, naming the outcomes, the exception (type and
	 * message, e.g. the missing module) and the regressed tests; NULL when it does not. */
	const char *why;
};

struct verify_stats {
	unsigned containers_started; /* `docker run` invocations (restarts included) */
	unsigned items_run;          /* item runs that went through a container (not cached) */
	unsigned old_runs;           /* of those, runs in an old image */
	unsigned cache_hits;
	unsigned pulls;          /* images pulled */
	unsigned images_removed; /* pulled images removed at the end (prune_images) */
	unsigned retries;        /* runs retried after their container died from outside */
	long wall_ms;            /* of the last verify_session_run() */
	/* Labels our containers (dockerbump.verify.session) and names them. */
	char session[24];
};

struct verify_session;

/* Fills the SPEC defaults (config `verify:`). The strings are static. */
void verify_opts_init(struct verify_opts *opts);

/* `*out` belongs to the caller, freed with verify_session_free(). `opts` is copied. */
int verify_session_new(struct verify_session **out, const struct verify_opts *opts,
                       struct db_err *err);
/* Queues an item; `*index` (may be NULL) is its place for verify_session_result(). */
int verify_session_add(struct verify_session *s, size_t *index, const struct verify_item *item,
                       struct db_err *err);
/*
 * Runs every queued item not run yet. Per-item problems (a failed pull, an image without
 * python, a crashed container) become VERIFY_OUTCOME_ERROR results, not errors. Returns
 * DB_EVERIFY when no container engine can be reached at all, the runtime included (the
 * message says how to start one or to pass --verify off); nothing has run then, and a later
 * call tries again.
 */
int verify_session_run(struct verify_session *s, struct db_err *err);
size_t verify_session_count(const struct verify_session *s);
/* Borrowed; valid until verify_session_free(). */
const struct verify_result *verify_session_result(const struct verify_session *s, size_t index);
void verify_session_stats(const struct verify_session *s, struct verify_stats *out);
void verify_session_free(struct verify_session *s);

/* SPEC §5: new worse than old (ok < error-entry < exception < timeout < crash), both raised
 * with different exception types, or a test that passes in the old side fails or errors in
 * the new one (or is gone from a new side that did not pass). Skipped, error and not-run
 * sides never regress. */
int verify_regressed(const struct verify_side *old_side, const struct verify_side *new_side);
/* Whether the bump must not be committed: it regressed, or the new image could not be run. */
int verify_result_blocks(const struct verify_result *r);

/* What `verify` prints (verify_print.c): text, every outside value escaped, or JSON with the
 * refused items (`refused`: an array, borrowed). */
void verify_print_text(FILE *out, const struct verify_session *s);
void verify_print_json(FILE *out, const struct verify_session *s, json_t *refused);

/* JUnit XML: one testsuite, one testcase per item and image; regressions are failures. */
int verify_junit_write(const struct verify_session *s, const char *path, struct db_err *err);

#endif

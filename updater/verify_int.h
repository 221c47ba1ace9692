/*
 * Internals shared by the verification files (not part of the API in verify.h):
 *
 *   verify.c         the session: items, requests, the outcome cache, the differential
 *   verify_engine.c  containers: start, stream the loop, feed runs, answer, backstop
 *   verify_proto.c   one protocol message into a run record; neutral answers
 *   verify_junit.c   JUnit XML
 *
 * The session turns each (item, image) pair that the cache cannot answer into a `struct
 * vrun` with its request already encoded, and hands them to verify_engine_run(), which
 * groups them by image and fills in each run's record.
 */
#ifndef DOCKERBUMP_UPDATER_VERIFY_INT_H
#define DOCKERBUMP_UPDATER_VERIFY_INT_H

#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "updater/verify.h"

/* Caps on what is kept of one run (the protocol stream itself is capped by max_output). */
#define VERIFY_LOG_CAP       (64u << 10)
#define VERIFY_TRACEBACK_CAP (32u << 10)

/* Caps on the tests kept of one run, and on a test id. */
#define VERIFY_TESTS_CAP   10000
#define VERIFY_TEST_ID_CAP 1024

/* What the protocol told about one item in one image. */
struct vrec {
	enum verify_outcome outcome;
	char *exception_type;
	char *message;
	char *traceback;
	struct buf log;
	struct verify_test *tests; /* owned strings */
	size_t nr_tests, alloc_tests;
	long duration_ms;
	int cached;
	/* Filled while messages arrive; vrec_finish() turns them into `outcome`. */
	int error_entry, exception, timeout, crash, skipped, completed, error;
	int crash_signal; /* the signal the loop saw kill the item, or 0 */
	int violation;    /* a line that does not parse, or a message out of place */
	int cacheable;    /* decided by the loop, not by an infrastructure failure */
	int warm;         /* run by the loop's warm parent */
};

void vrec_init(struct vrec *r);
void vrec_release(struct vrec *r);
/* Appends a log line, keeping the log under VERIFY_LOG_CAP. */
void vrec_log(struct vrec *r, const char *prefix, const char *text);
/* Sets the outcome from what was recorded: error > crash > timeout > exception > skipped >
 * error-entry > ok. */
void vrec_finish(struct vrec *r);
/* Records a test outcome (copied). */
void vrec_add_test(struct vrec *r, const char *id, const char *outcome);
/* Records an outcome the engine decided itself (backstop, container failure, pull). */
void vrec_fail(struct vrec *r, enum verify_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Handles one message of the loop for the run `r`. Returns 1 for "completed", 0 otherwise,
 * -1 for a message no loop sends (`r` then ends as a protocol violation). When the message
 * is a synchronous request, the answer line (newline included) is appended to `answer`.
 */
int verify_proto_message(struct vrec *r, json_t *msg, struct buf *answer);
/*
 * The same for one raw line (without its newline). A line that is not a JSON object (jansson
 * refuses lone surrogates, invalid UTF-8, NUL, ...) ends the run as a crash: -1.
 */
int verify_proto_line(struct vrec *r, const char *line, size_t len, struct buf *answer);

/* The neutral answer the server side gives to a synchronous request, or NULL for an error
 * answer (`*error` then says why). New reference. */
json_t *verify_neutral_answer(const char *name, json_t *args, const char **error);

struct vrun {
	const char *image;   /* reference to run in */
	const char *request; /* the run request: one JSON object, no newline, no "modules" */
	struct vrec *rec;    /* filled by the engine */
	int index;           /* position in the session, for progress */
	int attempts;        /* containers that died from outside while it ran */
	long long started_ms;
};

struct vengine_opts {
	const struct verify_opts *opts;
	const char *loop; /* docker/loop.py source */
	size_t loop_len;
	const char *modules; /* `"modules":{...}` fragment for a container's first run, or NULL */
	const char *session; /* names and labels the containers */
	unsigned *seq;       /* numbers them: never twice in a session */
	struct verify_stats *stats;
};

/*
 * Checks that the engine answers: DB_EVERIFY with a how-to message when it does not. In local
 * mode (opts->local_python) it checks that the interpreter runs.
 */
int verify_engine_check(const struct verify_opts *opts, struct db_err *err);

/*
 * Resolves `image` to its id, pulling it when it is missing. 0 and `*id` (caller frees); or
 * DB_ENOTFOUND with `err` naming the image and the runtime's reason.
 */
int verify_engine_image_id(char **id, const struct verify_opts *opts, const char *image,
                           struct db_err *err);

/* What the engine holds: "repository:tag" and id of every local image, from one listing. */
struct vlocal {
	struct vlocal_image {
		char *ref, *id;
	} * v;
	size_t nr, alloc;
};

void vlocal_release(struct vlocal *l);
/* The id of `ref` among the local images, or NULL. */
const char *vlocal_find(const struct vlocal *l, const char *ref);
/* Lists the local images (in local mode: none). An engine that does not answer leaves `out`
 * empty: every image is then inspected or pulled on its own. */
void verify_engine_local_images(struct vlocal *out, const struct verify_opts *opts);

/* Makes `image` present, pulling it when the engine does not hold it (`*pulled` says
 * whether it did), and returns its id (caller frees): 0, or DB_EPARSE for a string that is
 * not an image reference, DB_ENOTFOUND naming the image and the runtime's reason. */
int verify_engine_pull(char **id, int *pulled, const struct verify_opts *opts, const char *image,
                       struct db_err *err);
/* Removes the image reference (never forced: an image in use stays). */
int verify_engine_remove_image(const struct verify_opts *opts, const char *image,
                               struct db_err *err);

/* Runs every run, one container per distinct image, opts->jobs images at a time. Never fails
 * for a single image or item: those become records with VERIFY_OUTCOME_ERROR. */
int verify_engine_run(const struct vengine_opts *eo, struct vrun *runs, size_t nr,
                      struct db_err *err);

/* The `python -c` program that reads the loop from stdin and runs it. */
extern const char verify_bootstrap[];
/* The user item code runs as inside containers ("UID:GID"), never the loop's root. */
#define VERIFY_ITEM_USER "65534:65534"

/* The interpreter tried first for an image: "python" for demisto/python (Python 2 images),
 * else "python3"; the other one is the fallback. */
const char *verify_python_for(const char *image, int attempt);

/* Appends `data` to `out` as base64 (RFC 4648, padded). */
void verify_base64(struct buf *out, const void *data, size_t len);
/*
 * The item folder's files as the loop takes them: {"relative/path": "base64 of its bytes"}.
 * NULL and DB_EPARSE for a path that could leave the folder ("..", absolute, empty parts) or
 * is given twice. A new reference.
 */
json_t *verify_files_json(const struct verify_file *files, size_t nr, struct db_err *err);

#endif

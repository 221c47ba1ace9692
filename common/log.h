/*
 * Diagnostics on stderr: leveled log lines (text or one JSON object per line) and a live
 * progress line.
 *
 * Results go to stdout; everything here goes to stderr. The logger is the one piece of
 * process-wide state outside main.c: every module logs, and threading a logger through every
 * call would add a parameter to most functions without making anything safer. main.c
 * configures it once with log_setup() before any other call; it is safe to call from several
 * threads (one lock around each line).
 *
 *	log_setup(&(struct log_config){ .level = LOG_INFO, .json = 0 });
 *	log_info("resolved '%s': %zu tags", image, n);
 *	log_fields(LOG_DEBUG, "{\"url\": \"...\"}", "rate limit remaining %ld", left);
 *	progress_update("verify", done, total, "demisto/python3");  // no-op unless stderr is a TTY
 *	progress_done();
 *
 * Secrets never reach this module: callers redact before they log.
 */
#ifndef DOCKERBUMP_COMMON_LOG_H
#define DOCKERBUMP_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

struct log_config {
	enum log_level level;
	int json;     /* --log-format json */
	int color;    /* ANSI colour on a TTY unless NO_COLOR */
	int progress; /* live progress line: stderr is a TTY and not json */
};

void log_setup(const struct log_config *cfg);
const struct log_config *log_get_config(void);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `fields_json` is a JSON object (or NULL) merged into the json line, or shown as key=value. */
void log_fields(enum log_level level, const char *fields_json, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Live progress: redraws one line on a TTY; plain mode logs only every 10% at debug level. */
void progress_update(const char *step, size_t done, size_t total, const char *what);
void progress_done(void);

#endif

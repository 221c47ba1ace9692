/*
 * Diagnostics on stderr: leveled log lines (text, or one JSON object per line) and progress.
 *
 * Results go to stdout; everything here goes to stderr. The logger is the one piece of
 * process-wide state outside main.c: every module logs, and threading a logger through every
 * call would add a parameter to most functions without making anything safer. main.c
 * configures it once with log_setup() before any other call; it is safe to call from several
 * threads (one lock around each line).
 *
 *	log_setup(&(struct log_config){ .level = LOG_INFO, .json = 0 });
 *	log_info("resolved '%s': %zu tags", image, n);
 *	log_at(LOG_INFO, LOG_FIELDS("branch", name, "duration_ms", "120"), "%s: created", name);
 *	progress_update("verify", done, total, "demisto/python3");
 *	progress_done();
 *
 * Fields. A JSON line always has "time", "level" and "message", plus the fields given to
 * log_at() (item, image, branch, url, step, duration_ms, ...: a value that is a whole number is
 * written as a number). Text lines show the message only: it already names its subject.
 *
 * Untrusted text. Messages quote repository data, registry answers and container output, so a
 * text line never carries a raw control byte: newlines, carriage returns, ESC and the rest are
 * written as \n, \r, \x1b, so no value can start a line of its own or drive the terminal.
 *
 * Progress: on a terminal, one live line redrawn in place; otherwise (a cron log, CI) a plain
 * line at info level when a step has run for 5 s since the last one, so a long step shows it is
 * alive and a quick one prints nothing.
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

/* Key/value pairs of strings for log_at(), ended by the macro's NULL. */
#define LOG_FIELDS(...)                                                                            \
	(const char *const[])                                                                      \
	{                                                                                          \
		__VA_ARGS__, NULL                                                                  \
	}

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line with structured fields (`fields`: key, value, key, value, ..., NULL; may be NULL). */
void log_at(enum log_level level, const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Progress of `step`: `done` of `total` (0: unknown), working on `what` (may be NULL). */
void progress_update(const char *step, size_t done, size_t total, const char *what);
void progress_done(void);

#endif

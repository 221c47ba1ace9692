#include "common/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/strnum.h"
#include "common/utf8.h"
#include "common/banned.h"

/* A plain progress line at most this often (ms), when stderr is not a terminal. */
#define PLAIN_PROGRESS_MS 5000

static struct log_config config = {LOG_INFO, 0, 0, 0};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int progress_shown;
static long long plain_progress_at;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(const struct log_config *cfg)
{
	config = *cfg;
}

const struct log_config *log_get_config(void)
{
	return &config;
}

int log_enabled(enum log_level level)
{
	return level <= config.level;
}

static void clear_progress_locked(void)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = 0;
	}
}

static void format_time(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	size_t k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

static json_t *json_text(const char *s, size_t n)
{
	struct buf clean = BUF_INIT;
	json_t *j = json_stringn(s, n);

	if (j)
		return j;
	utf8_sanitize(&clean, s, n, UTF8_REPLACEMENT);
	j = json_stringn(clean.ptr, clean.len);
	buf_release(&clean);
	return j ? j : json_string("");
}

static void emit(enum log_level level, const char *const *fields, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void emit(enum log_level level, const char *const *fields, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT, line = BUF_INIT;
	char when[40];

	buf_vaddf(&msg, fmt, ap);
	if (config.json) {
		json_t *obj = json_object();
		char *text;

		format_time(when, sizeof(when));
		json_object_set_new(obj, "time", json_string(when));
		json_object_set_new(obj, "level", json_string(level_names[level]));
		json_object_set_new(obj, "message", json_text(msg.ptr, msg.len));
		for (; fields && fields[0] && fields[1]; fields += 2) {
			long v;
			if (parse_long(&v, fields[1], -2147483647L, 9007199254740991L) == 0)
				json_object_set_new(obj, fields[0], json_integer(v));
			else
				json_object_set_new(obj, fields[0],
				                    json_text(fields[1], strlen(fields[1])));
		}
		text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
		if (text)
			buf_adds(&line, text);
		free(text);
		json_decref(obj);
	} else {
		const char *color = "", *reset = "";
		if (config.color && level <= LOG_WARN) {
			color = level == LOG_ERROR ? "\033[31m" : "\033[33m";
			reset = "\033[0m";
		}
		if (level != LOG_INFO)
			buf_addf(&line, "%s%s:%s ", color, level_names[level], reset);
		buf_add_printable(&line, msg.ptr, msg.len);
	}
	buf_addch(&line, '\n');

	pthread_mutex_lock(&lock);
	clear_progress_locked();
	fwrite(line.ptr, 1, line.len, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&lock);

	buf_release(&msg);
	buf_release(&line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void log_at(enum log_level level, const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, fields, fmt, ap);
	va_end(ap);
}

void progress_update(const char *step, size_t done, size_t total, const char *what)
{
	struct buf text = BUF_INIT;

	if (config.level < LOG_INFO)
		return;
	if (total)
		buf_addf(&text, "%s %zu/%zu", step, done, total);
	else
		buf_addf(&text, "%s %zu", step, done);
	if (what) {
		buf_addch(&text, ' ');
		buf_add_printable(&text, what, strlen(what));
	}
	if (config.progress && !config.json) {
		pthread_mutex_lock(&lock);
		fprintf(stderr, "\r\033[K%s", text.ptr);
		fflush(stderr);
		progress_shown = 1;
		pthread_mutex_unlock(&lock);
	} else {
		long long now = clock_now_ms(), at;
		pthread_mutex_lock(&lock);
		if (!plain_progress_at)
			plain_progress_at = now;
		at = plain_progress_at;
		if (now - at >= PLAIN_PROGRESS_MS)
			plain_progress_at = now;
		pthread_mutex_unlock(&lock);
		if (now - at >= PLAIN_PROGRESS_MS) {
			char n[24], t[24];
			snprintf(n, sizeof(n), "%zu", done);
			snprintf(t, sizeof(t), "%zu", total);
			log_at(LOG_INFO, LOG_FIELDS("step", step, "done", n, "total", t),
			       "progress: %s", text.ptr);
		}
	}
	buf_release(&text);
}

void progress_done(void)
{
	pthread_mutex_lock(&lock);
	clear_progress_locked();
	plain_progress_at = 0;
	pthread_mutex_unlock(&lock);
}

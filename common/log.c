#include "common/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/banned.h"

static struct log_config config = {LOG_INFO, 0, 0, 0};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int progress_shown;

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

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void emit(enum log_level level, const char *fields_json, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT, line = BUF_INIT;
	char when[40];

	buf_vaddf(&msg, fmt, ap);
	if (config.json) {
		json_t *obj = NULL;
		char *text;

		if (fields_json)
			obj = json_loads(fields_json, 0, NULL);
		if (!json_is_object(obj)) {
			json_decref(obj);
			obj = json_object();
		}
		format_time(when, sizeof(when));
		json_object_set_new(obj, "time", json_string(when));
		json_object_set_new(obj, "level", json_string(level_names[level]));
		json_object_set_new(obj, "message", json_stringn(msg.ptr, msg.len));
		text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
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
		buf_add(&line, msg.ptr, msg.len);
		if (fields_json)
			buf_addf(&line, " %s", fields_json);
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

void log_fields(enum log_level level, const char *fields_json, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, fields_json, fmt, ap);
	va_end(ap);
}

void progress_update(const char *step, size_t done, size_t total, const char *what)
{
	if (!config.progress || config.json || config.level < LOG_INFO)
		return;
	pthread_mutex_lock(&lock);
	if (total)
		fprintf(stderr, "\r\033[K%s %zu/%zu %s", step, done, total, what ? what : "");
	else
		fprintf(stderr, "\r\033[K%s %zu %s", step, done, what ? what : "");
	fflush(stderr);
	progress_shown = 1;
	pthread_mutex_unlock(&lock);
}

void progress_done(void)
{
	pthread_mutex_lock(&lock);
	clear_progress_locked();
	pthread_mutex_unlock(&lock);
}

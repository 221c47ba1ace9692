/*
 * The server's half of the loop protocol for one run: what each message means for the
 * outcome, and the neutral answers to synchronous requests.
 *
 * A neutral answer is what an empty, healthy server would return: no incidents beyond a
 * placeholder, empty contexts, and for executeCommand an error entry saying the command is
 * not available, which is what the server answers for a command without an instance. Code
 * then takes the same path in the old and the new image, which is all the differential
 * needs. Methods the server would not know get an error answer, which the loop raises in the
 * code (as the server's "$$##" error answers do).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "updater/verify_int.h"
#include "common/banned.h"

/* entryTypes['error'] in CommonServerPython. */
#define ENTRY_TYPE_ERROR 4

void vrec_init(struct vrec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->log, 0);
	r->outcome = VERIFY_OUTCOME_NOT_RUN;
}

void vrec_release(struct vrec *r)
{
	size_t i;

	if (!r)
		return;
	free(r->exception_type);
	free(r->message);
	free(r->traceback);
	for (i = 0; i < r->nr_tests; i++) {
		free((char *)r->tests[i].id);
		free((char *)r->tests[i].outcome);
	}
	free(r->tests);
	buf_release(&r->log);
	vrec_init(r);
}

void vrec_add_test(struct vrec *r, const char *id, const char *outcome)
{
	if (r->nr_tests >= VERIFY_TESTS_CAP)
		return;
	ALLOC_GROW(r->tests, r->nr_tests + 1, r->alloc_tests);
	r->tests[r->nr_tests].id = xstrndup(id, VERIFY_TEST_ID_CAP);
	r->tests[r->nr_tests].outcome = xstrdup(outcome);
	r->nr_tests++;
}

void vrec_log(struct vrec *r, const char *prefix, const char *text)
{
	static const char cut[] = "[log truncated]\n";
	size_t need = (prefix ? strlen(prefix) : 0) + strlen(text) + 1;

	if (r->log.len >= VERIFY_LOG_CAP)
		return;
	if (r->log.len + need + sizeof(cut) > VERIFY_LOG_CAP) {
		buf_adds(&r->log, cut);
		return;
	}
	if (prefix)
		buf_adds(&r->log, prefix);
	buf_adds(&r->log, text);
	buf_addch(&r->log, '\n');
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void vrec_finish(struct vrec *r)
{
	if (r->error)
		r->outcome = VERIFY_OUTCOME_ERROR;
	else if (r->crash)
		r->outcome = VERIFY_OUTCOME_CRASH;
	else if (r->timeout)
		r->outcome = VERIFY_OUTCOME_TIMEOUT;
	else if (r->exception)
		r->outcome = VERIFY_OUTCOME_EXCEPTION;
	else if (r->skipped)
		r->outcome = VERIFY_OUTCOME_SKIPPED;
	else if (r->error_entry)
		r->outcome = VERIFY_OUTCOME_ERROR_ENTRY;
	else
		r->outcome = VERIFY_OUTCOME_OK;
}

void vrec_fail(struct vrec *r, enum verify_outcome outcome, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->outcome = outcome;
	r->cacheable = 0;
	set_str(&r->message, msg);
	vrec_log(r, "[dockerbump] ", msg);
}

static const char *str_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Logs a compact form of `v` (a result, a request's arguments). */
static void log_json(struct vrec *r, const char *prefix, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		return;
	if (strlen(text) > 2048)
		memcpy(text + 2040, "...", 4);
	vrec_log(r, prefix, text);
	free(text);
}

static int is_error_entry(json_t *entry)
{
	json_t *type = json_object_get(entry, "Type");

	if (!type)
		type = json_object_get(entry, "type");
	return json_is_integer(type) && json_integer_value(type) == ENTRY_TYPE_ERROR;
}

static void on_result(struct vrec *r, json_t *args)
{
	json_t *results = json_object_get(args, "results"), *entry;
	size_t i;

	if (json_is_array(results)) {
		json_array_foreach(results, i, entry)
		{
			if (is_error_entry(entry))
				r->error_entry = 1;
		}
	} else if (is_error_entry(results)) {
		r->error_entry = 1;
	}
	log_json(r, "[result] ", results);
}

static void on_exception(struct vrec *r, json_t *args)
{
	json_t *lines = json_object_get(args, "exception"), *line;
	struct buf tb = BUF_INIT;
	size_t i;

	r->exception = 1;
	set_str(&r->exception_type, str_of(args, "type") ? str_of(args, "type") : "Exception");
	set_str(&r->message, str_of(args, "message"));
	json_array_foreach(lines, i, line)
	{
		if (!json_is_string(line) || tb.len > VERIFY_TRACEBACK_CAP)
			continue;
		if (tb.len)
			buf_addch(&tb, '\n');
		buf_adds(&tb, json_string_value(line));
	}
	free(r->traceback);
	r->traceback = tb.len ? buf_detach(&tb, NULL) : NULL;
	buf_release(&tb);
	vrec_log(r, "[exception] ", r->exception_type);
}

static void on_crash(struct vrec *r, json_t *args)
{
	const char *reason = str_of(args, "reason");
	json_t *sig = json_object_get(args, "signal"), *code = json_object_get(args, "exitcode");
	char msg[256];

	r->crash = 1;
	if (json_is_integer(sig))
		r->crash_signal = (int)json_integer_value(sig);
	if (reason && !strcmp(reason, "output-limit"))
		snprintf(msg, sizeof(msg), "the item exceeded the output limit and was killed");
	else if (json_is_integer(sig))
		snprintf(msg, sizeof(msg), "the interpreter was killed by signal %lld",
		         (long long)json_integer_value(sig));
	else if (json_is_integer(code))
		snprintf(msg, sizeof(msg), "the interpreter exited with status %lld",
		         (long long)json_integer_value(code));
	else
		snprintf(msg, sizeof(msg), "the interpreter could not run (%s)",
		         reason ? reason : "unknown");
	set_str(&r->message, msg);
	vrec_log(r, "[crash] ", msg);
}

static void on_sync(struct vrec *r, const char *name, json_t *msg, struct buf *answer)
{
	json_t *args = json_object_get(msg, "args"), *reply, *value;
	const char *error = NULL;
	char *line;

	if (!strcmp(name, "info") || !strcmp(name, "debug") || !strcmp(name, "error")) {
		char prefix[16];
		snprintf(prefix, sizeof(prefix), "[%s] ", name);
		vrec_log(r, prefix, str_of(args, "message") ? str_of(args, "message") : "");
	} else {
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "[%.80s] ", name);
		log_json(r, prefix, args);
	}
	value = verify_neutral_answer(name, args, &error);
	reply = json_object();
	json_object_set(reply, "id", json_object_get(msg, "id"));
	if (value)
		json_object_set_new(reply, "result", value);
	else
		json_object_set_new(reply, "error", json_string(error));
	line = json_dumps(reply, JSON_COMPACT);
	buf_adds(answer, line);
	buf_addch(answer, '\n');
	free(line);
	json_decref(reply);
}

/* The outcome of each test the loop saw pytest report. */
static void on_tests(struct vrec *r, json_t *args)
{
	static const char *const known[] = {"passed", "failed", "error", "skipped"};
	json_t *tests = json_object_get(args, "tests"), *t;
	size_t i, k;

	json_array_foreach(tests, i, t)
	{
		const char *id = str_of(t, "id"), *outcome = str_of(t, "outcome");
		for (k = 0; id && outcome && k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(outcome, known[k])) {
				vrec_add_test(r, id, known[k]);
				break;
			}
	}
}

/* Ends the run as a crash: the loop said something no loop says. */
static void violation(struct vrec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(struct vrec *r, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->violation = 1;
	r->crash = 1;
	vrec_fail(r, VERIFY_OUTCOME_CRASH, "protocol violation: %s", why);
}

int verify_proto_line(struct vrec *r, const char *line, size_t len, struct buf *answer)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, 0, &jerr);
	char *p;
	int ret;

	if (!msg) {
		/* jansson quotes the bytes it stopped at: printable ASCII only goes on. */
		for (p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		violation(r, "a line of %zu bytes that does not parse (%s at byte %d)", len,
		          jerr.text, jerr.position);
		return -1;
	}
	if (!json_is_object(msg)) {
		violation(r, "a line of %zu bytes that is not a JSON object", len);
		json_decref(msg);
		return -1;
	}
	ret = verify_proto_message(r, msg, answer);
	json_decref(msg);
	return ret;
}

int verify_proto_message(struct vrec *r, json_t *msg, struct buf *answer)
{
	const char *type = str_of(msg, "type");
	json_t *args = json_object_get(msg, "args");

	if (!type) {
		violation(r, "a message without a type");
		return -1;
	}
	if (json_is_true(json_object_get(msg, "sync")) &&
	    json_is_integer(json_object_get(msg, "id"))) {
		on_sync(r, type, msg, answer);
	} else if (!strcmp(type, "entryLog")) {
		const char *source = str_of(args, "source"), *text = str_of(args, "message");
		const char *prefix = !source                      ? ""
		                     : !strcmp(source, "log")     ? "[log] "
		                     : !strcmp(source, "garbage") ? "[garbage] "
		                                                  : "";
		vrec_log(r, prefix, text ? text : "");
	} else if (!strcmp(type, "result")) {
		on_result(r, args);
	} else if (!strcmp(type, "exception")) {
		on_exception(r, args);
	} else if (!strcmp(type, "timeout")) {
		r->timeout = 1;
		set_str(&r->message, "the item ran past the timeout and was killed");
		vrec_log(r, "[timeout] ", r->message);
	} else if (!strcmp(type, "crash")) {
		on_crash(r, args);
	} else if (!strcmp(type, "skipped")) {
		r->skipped = 1;
		set_str(&r->message, str_of(args, "reason") ? str_of(args, "reason") : "skipped");
	} else if (!strcmp(type, "tests")) {
		on_tests(r, args);
	} else if (!strcmp(type, "error")) {
		r->error = 1;
		set_str(&r->message, str_of(args, "message") ? str_of(args, "message")
		                                             : "the loop could not run the item");
		vrec_log(r, "[error] ", r->message);
	} else if (!strcmp(type, "completed")) {
		json_t *ms = json_object_get(args, "duration_ms");
		if (json_is_integer(ms))
			r->duration_ms = (long)json_integer_value(ms);
		r->warm = json_is_true(json_object_get(args, "warm"));
		r->completed = 1;
		/* The loop decided the outcome and would decide it again; a timeout may
		 * depend on the load of the machine. */
		r->cacheable = !r->timeout && !r->error && !r->violation;
		vrec_finish(r);
		return 1;
	} else if (strcmp(type, "pong")) {
		violation(r, "a message of type '%.40s' in the middle of a run", type);
		return -1;
	}
	return 0;
}

/* Answers by method name; anything else is an error answer. */
static const struct {
	const char *name;
	const char *json;
} neutral[] = {
    {"info", "null"},
    {"debug", "null"},
    {"error", "null"},
    {"incidents", "[{\"id\": \"1\", \"name\": \"dockerbump verification\", \"type\": "
                  "\"Unclassified\", \"labels\": [], \"CustomFields\": {}}]"},
    {"context", "{}"},
    {"setContext", "null"},
    {"getLastRun", "{}"},
    {"setLastRun", "null"},
    {"getIntegrationContext", "{}"},
    {"setIntegrationContext", "null"},
    {"getIntegrationContextVersioned", "{\"context\": {}, \"version\": -1}"},
    {"setIntegrationContextVersioned", "null"},
    {"demistoUrls", "{\"server\": \"https://localhost\", \"investigation\": "
                    "\"https://localhost/#/Details/1\", \"warRoom\": "
                    "\"https://localhost/#/WarRoom/1\"}"},
    {"demistoVersion", "{\"version\": \"8.0.0\", \"buildNumber\": \"0\"}"},
    {"investigation", "{\"id\": \"1\", \"type\": 1}"},
    {"getAllSupportedCommands", "{}"},
    {"getModules", "{}"},
    {"getLicenseID", "\"\""},
    {"getLicenseCustomField", "null"},
    {"addEntry", "null"},
    {"updateModuleHealth", "null"},
    {"mirrorInvestigation", "null"},
    {"createIncidents", "[]"},
    {"createIndicators", "null"},
    {"searchIndicators", "{\"iocs\": [], \"total\": 0}"},
    {"searchRelationships", "{\"data\": []}"},
    {"findUser", "{}"},
    {"dt", "null"},
    {"mapObject", "{}"},
    {"getIndexHash", "\"\""},
    {"parentEntry", "{}"},
};

json_t *verify_neutral_answer(const char *name, json_t *args, const char **error)
{
	size_t i;

	*error = NULL;
	if (!strcmp(name, "executeCommand")) {
		const char *cmd = str_of(args, "command");
		char msg[256];
		snprintf(msg, sizeof(msg),
		         "Unsupported Command: %.120s is not available during verification",
		         cmd ? cmd : "");
		return json_pack("[{s:i, s:s, s:s}]", "Type", ENTRY_TYPE_ERROR, "ContentsFormat",
		                 "text", "Contents", msg);
	}
	if (!strcmp(name, "getFilePath")) {
		json_t *a = json_object_get(args, "args");
		json_t *id = json_object_get(args, "id");
		if (!id && json_is_array(a))
			id = json_array_get(a, 0);
		return json_pack("{s:O?, s:s, s:s}", "id", id, "path", "/nonexistent", "name", "");
	}
	for (i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++)
		if (!strcmp(name, neutral[i].name))
			return json_loads(neutral[i].json, JSON_DECODE_ANY, NULL);
	*error = "not available during verification";
	return NULL;
}

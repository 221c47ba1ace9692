/*
 * `dockerbump verify PATH...`: run items in a container and print the outcome, the logs and
 * the exception (SPEC §3, §5). With --old-image it runs each item in both images and applies
 * the regression rule, as `run` does for a bump.
 *
 * PATHs are item YAMLs or folders of them, relative to the repository (-C DIR), read from
 * the files on disk. Exit status: 0 every item verified (no regression with --old-image,
 * else ok or skipped), 3 some did not, 1 an item could not be verified at all (no engine, an
 * image that cannot be pulled).
 */
#include "updater/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strnum.h"
#include "updater/itemcode.h"
#include "updater/job.h"
#include "updater/verify.h"
#include "common/banned.h"

static const char help[] =
    "usage: dockerbump [-C DIR] verify [OPTIONS] PATH...\n"
    "\n"
    "Run integrations and scripts in a container, as the XSOAR server would, and print each\n"
    "outcome (ok, error-entry, exception, timeout, crash), the logs and the exception.\n"
    "PATH is an item YAML or a folder of them, relative to the repository.\n"
    "\n"
    "options:\n"
    "  --image IMAGE:TAG      run in this image instead of the item's own dockerimage\n"
    "  --old-image IMAGE:TAG  also run in this image and report a regression (SPEC 5)\n"
    "  --level L              compile, load (default) or tests\n"
    "  --runtime R            docker (default), podman, or the path of a compatible CLI\n"
    "  --timeout S            seconds per item (default 60)\n"
    "  --jobs N               images verified at once (default 2)\n"
    "  --no-cache             neither read nor write the outcome cache\n"
    "  --json                 print the results as JSON\n"
    "  --junit FILE           write JUnit XML, one testcase per item and image\n"
    "  -h, --help             this help\n"
    "\n"
    "exit status: 0 verified, 3 an outcome (or with --old-image a regression) blocks, 1 an\n"
    "item could not be verified (no engine, an image that cannot be pulled), 2 usage.\n"
    "\n"
    "examples:\n"
    "  dockerbump -C content verify Packs/Phishing/Scripts/CheckEmailAuthenticity\n"
    "  dockerbump -C content verify --image demisto/python3:3.11.10.113941 \\\n"
    "      --old-image demisto/python3:3.10.13.83255 --junit verify.xml Packs/Phishing\n";

enum {
	OPT_V_IMAGE = OPT_JOB__LAST + 1,
	OPT_V_OLD_IMAGE,
	OPT_V_LEVEL,
	OPT_V_RUNTIME,
	OPT_V_TIMEOUT,
	OPT_V_JOBS,
	OPT_V_NO_CACHE,
	OPT_V_JSON,
	OPT_V_JUNIT,
	OPT_V_NO_REUSE,
};

struct verify_cli {
	const char *image, *old_image, *level, *runtime, *junit;
	long timeout_s, jobs;
	int no_cache, json, no_reuse;
};

/* A PATH as the scanner's include glob: repository-relative, a folder matching below it. */
static int path_to_glob(char **out, const char *dir, const char *path, struct db_err *err)
{
	char top[PATH_MAX], full[PATH_MAX];
	char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
	size_t n;
	int is_dir;

	if (!realpath(dir, top) || !realpath(joined, full)) {
		free(joined);
		return db_err_set(err, DB_ENOTFOUND, "'%s': no such file or folder", path);
	}
	free(joined);
	n = strlen(top);
	if (strncmp(full, top, n) || (full[n] && full[n] != '/'))
		return db_err_set(err, DB_EUSAGE, "'%s' is outside the repository '%s' (see -C)",
		                  path, dir);
	is_dir = !strstr(full + n, ".yml") && !strstr(full + n, ".yaml");
	if (!full[n])
		*out = xstrdup("**");
	else if (is_dir)
		*out = xasprintf("%s/**", full + n + 1);
	else
		*out = xstrdup(full + n + 1);
	return 0;
}

static int parse_args(struct verify_cli *c, struct strlist *paths, int argc, char **argv,
                      struct db_err *err)
{
	static const struct option longopts[] = {
	    {"image", required_argument, NULL, OPT_V_IMAGE},
	    {"old-image", required_argument, NULL, OPT_V_OLD_IMAGE},
	    {"level", required_argument, NULL, OPT_V_LEVEL},
	    {"runtime", required_argument, NULL, OPT_V_RUNTIME},
	    {"timeout", required_argument, NULL, OPT_V_TIMEOUT},
	    {"jobs", required_argument, NULL, OPT_V_JOBS},
	    {"no-cache", no_argument, NULL, OPT_V_NO_CACHE},
	    {"json", no_argument, NULL, OPT_V_JSON},
	    {"junit", required_argument, NULL, OPT_V_JUNIT},
	    {"no-reuse", no_argument, NULL, OPT_V_NO_REUSE}, /* benchmark baseline; not in help */
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_print_help(help);
			return 1;
		case 'V':
			cli_print_version();
			return 1;
		case OPT_V_IMAGE:
			c->image = optarg;
			break;
		case OPT_V_OLD_IMAGE:
			c->old_image = optarg;
			break;
		case OPT_V_LEVEL:
			c->level = optarg;
			break;
		case OPT_V_RUNTIME:
			c->runtime = optarg;
			break;
		case OPT_V_TIMEOUT:
			if (parse_long(&c->timeout_s, optarg, 1, 86400) < 0)
				return cli_usage_error(
				    err, "verify", "--timeout takes 1..86400, not '%s'", optarg);
			break;
		case OPT_V_JOBS:
			if (parse_long(&c->jobs, optarg, 1, 64) < 0)
				return cli_usage_error(err, "verify",
				                       "--jobs takes 1..64, not '%s'", optarg);
			break;
		case OPT_V_NO_CACHE:
			c->no_cache = 1;
			break;
		case OPT_V_JSON:
			c->json = 1;
			break;
		case OPT_V_JUNIT:
			c->junit = optarg;
			break;
		case OPT_V_NO_REUSE:
			c->no_reuse = 1;
			break;
		default:
			return cli_usage_error(err, "verify", "unknown or incomplete option '%s'",
			                       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "verify", "which item? give a PATH");
	for (; optind < argc; optind++)
		strlist_push(paths, argv[optind]);
	return 0;
}

static json_t *side_json(const struct verify_side *v)
{
	json_t *tests = json_array();
	size_t i;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN && !v->image) {
		json_decref(tests);
		return json_null();
	}
	for (i = 0; i < v->nr_tests; i++)
		json_array_append_new(tests, json_pack("{s:s, s:s}", "id", v->tests[i].id,
		                                       "outcome", v->tests[i].outcome));
	return json_pack("{s:s?, s:s, s:s?, s:s?, s:s?, s:s, s:o, s:I, s:b}", "image", v->image,
	                 "outcome", verify_outcome_name(v->outcome), "exception_type",
	                 v->exception_type, "message", v->message, "traceback", v->traceback, "log",
	                 v->log, "tests", tests, "duration_ms", (json_int_t)v->duration_ms,
	                 "cached", v->cached);
}

static void print_json(const struct verify_session *s, json_t *refused)
{
	json_t *doc = json_object(), *items = json_array();
	struct verify_stats st;
	size_t i, k;

	for (i = 0; i < verify_session_count(s); i++) {
		const struct verify_result *r = verify_session_result(s, i);
		json_t *tests = json_array();
		for (k = 0; k < r->nr_regressed_tests; k++)
			json_array_append_new(tests, json_string(r->regressed_tests[k]));
		json_array_append_new(items,
		                      json_pack("{s:s, s:s, s:o, s:o, s:b, s:o, s:s?, s:b}", "id",
		                                r->id, "name", r->name, "old", side_json(&r->old),
		                                "new", side_json(&r->new), "regressed",
		                                r->regressed, "regressed_tests", tests, "why",
		                                r->why, "blocked", verify_result_blocks(r)));
	}
	verify_session_stats(s, &st);
	json_object_set_new(doc, "items", items);
	json_object_set_new(doc, "refused", json_incref(refused));
	json_object_set_new(doc, "stats",
	                    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:s}",
	                              "containers_started", (int)st.containers_started, "items_run",
	                              (int)st.items_run, "old_runs", (int)st.old_runs, "cache_hits",
	                              (int)st.cache_hits, "pulls", (int)st.pulls, "images_removed",
	                              (int)st.images_removed, "retries", (int)st.retries, "wall_ms",
	                              (json_int_t)st.wall_ms, "session", st.session));
	json_dumpf(doc, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(doc);
}

static void print_indented(const char *text)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		printf("    %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void print_side(const struct verify_side *v, const char *label, int details)
{
	size_t i;

	if (v->outcome == VERIFY_OUTCOME_NOT_RUN)
		return;
	printf("  %s%s%s: %s", label, *label ? " " : "", v->image, verify_outcome_name(v->outcome));
	if (v->exception_type)
		printf(" %s", v->exception_type);
	if (v->message && *v->message)
		printf(": %s", v->message);
	printf("%s\n", v->cached ? " (cached)" : "");
	if (!details)
		return;
	if (v->log && *v->log) {
		printf("   log:\n");
		print_indented(v->log);
	}
	if (v->traceback) {
		printf("   exception:\n");
		print_indented(v->traceback);
	}
	for (i = 0; i < v->nr_tests; i++)
		printf("   test %s: %s\n", v->tests[i].id, v->tests[i].outcome);
}

static void print_text(const struct verify_session *s)
{
	size_t i, n = verify_session_count(s);

	for (i = 0; i < n; i++) {
		const struct verify_result *r = verify_session_result(s, i);
		int diff = r->old.outcome != VERIFY_OUTCOME_NOT_RUN;
		printf("%s (%s)%s\n", r->id, r->name,
		       diff ? (r->regressed ? ": REGRESSED" : ": no regression") : "");
		print_side(&r->old, "old", n == 1 || r->old.outcome != VERIFY_OUTCOME_OK);
		print_side(&r->new, diff ? "new" : "",
		           n == 1 || r->new.outcome != VERIFY_OUTCOME_OK);
		if (r->why)
			printf("  %s\n", r->why);
	}
}

/* 0, 3 (blocked), or the first error of an item that could not run. */
static int exit_status(const struct verify_session *s, struct db_err *err)
{
	size_t i;
	int status = 0;

	for (i = 0; i < verify_session_count(s); i++) {
		const struct verify_result *r = verify_session_result(s, i);
		const struct verify_side *v = r->new.outcome == VERIFY_OUTCOME_ERROR   ? &r->new
		                              : r->old.outcome == VERIFY_OUTCOME_ERROR ? &r->old
		                                                                       : NULL;
		if (v)
			return db_err_set(err, DB_EVERIFY, "%s", v->message ? v->message : "error");
		if (r->old.outcome != VERIFY_OUTCOME_NOT_RUN
		        ? verify_result_blocks(r)
		        : r->new.outcome != VERIFY_OUTCOME_OK &&
		              r->new.outcome != VERIFY_OUTCOME_SKIPPED)
			status = 3;
	}
	return status;
}

static void apply_config(struct verify_opts *o, const struct config *cfg,
                         const struct verify_cli *c)
{
	verify_opts_init(o);
	o->level = cfg->verify.level;
	o->runtime = c->runtime ? c->runtime : cfg->verify.runtime;
	o->timeout_s = c->timeout_s ? c->timeout_s : cfg->verify.timeout_s;
	o->jobs = c->jobs ? (int)c->jobs : cfg->verify.jobs;
	o->memory = cfg->verify.memory;
	o->pids = cfg->verify.pids;
	o->cpus = cfg->verify.cpus;
	o->cache_dir = c->no_cache ? "" : NULL;
	o->no_reuse = c->no_reuse;
	o->progress = log_get_config() && log_get_config()->progress;
}

/*
 * Queues every python item the scan found; 0 or an error for a PATH with nothing to run. An
 * item whose code cannot be read as it must (a symbolic link, a file outside the repository)
 * is refused: logged, listed in `refused`, its first error kept in `first`; the others go on.
 */
static int add_items(struct verify_session *s, const struct job *job, const struct verify_cli *c,
                     int level, json_t *refused, struct db_err *first, struct db_err *err)
{
	size_t i, added = 0;
	int ret = 0;

	for (i = 0; i < job->scan.nr && !ret; i++) {
		const struct item *it = &job->scan.items[i];
		const char *image = c->image ? c->image : it->image_ref;
		struct db_err ierr = DB_ERR_INIT;
		struct item_code d;
		if (it->script_type && strcmp(it->script_type, "python")) {
			log_info("'%s': a %s item; nothing to verify", it->path, it->script_type);
			continue;
		}
		if (!image) {
			log_warn("'%s': no dockerimage; pass --image", it->path);
			continue;
		}
		item_code_init(&d);
		ret = item_code_load(&d, &job->scan_opts, NULL, it, level == VERIFY_TESTS, &ierr);
		if (ret) {
			log_error("%s", ierr.msg);
			json_array_append_new(
			    refused, json_pack("{s:s, s:s}", "id", it->path, "error", ierr.msg));
			db_err_set(first, ret, "%s", ierr.msg);
			ret = 0;
		} else {
			ret = verify_session_add(s, NULL,
			                         &(struct verify_item){it->path, d.name, d.code,
			                                               it->kind == ITEM_INTEGRATION,
			                                               c->old_image, image, d.files,
			                                               d.nr_files, NULL},
			                         err);
		}
		item_code_release(&d);
		added++;
	}
	if (!ret && !added)
		ret = db_err_set(err, DB_ENOTFOUND,
		                 "no python integration or script to verify there");
	return ret;
}

int cmd_verify(const struct cli_global *g, int argc, char **argv, struct db_err *err)
{
	struct verify_cli c;
	struct strlist paths = {0};
	struct job job;
	struct item_modules mods;
	struct verify_opts o;
	struct verify_session *s = NULL;
	struct db_err first = DB_ERR_INIT;
	json_t *refused = json_array();
	enum verify_level level;
	size_t i;
	int ret;

	memset(&c, 0, sizeof(c));
	item_modules_init(&mods);
	job_init(&job);
	ret = parse_args(&c, &paths, argc, argv, err);
	if (ret) {
		ret = ret > 0 ? 0 : ret; /* --help, --version */
		goto out;
	}
	if ((ret = job_load_config(&job, g, "verify", err)))
		goto out;
	level = job.cfg.verify.level;
	if (c.level && (verify_level_parse(&level, c.level) < 0 || level == VERIFY_OFF)) {
		ret = cli_usage_error(err, "verify",
		                      "--level takes compile, load or tests, not '%s'", c.level);
		goto out;
	}
	job.cfg.verify.level = level == VERIFY_OFF ? VERIFY_LOAD : level;
	/* The PATHs are the include globs; nothing else filters what was asked for. */
	strlist_clear(&job.cfg.include);
	strlist_clear(&job.cfg.exclude);
	for (i = 0; i < paths.nr; i++) {
		char *glob;
		if ((ret = path_to_glob(&glob, g->dir, paths.v[i], err)))
			goto out;
		strlist_push(&job.cfg.include, glob);
		free(glob);
	}
	job.cfg.skip_deprecated = 0;
	job.cfg.skip_hidden_packs = 0;
	job.opts.worktree = 1;
	job.opts.no_cache = 1;
	if ((ret = job_scan(&job, g, err)))
		goto out;
	if ((ret = item_modules_load(&mods, &job.scan_opts, NULL, err)))
		goto out;
	apply_config(&o, &job.cfg, &c);
	o.common_server_python = mods.common_server_python;
	o.common_server_user_python = mods.common_server_user_python;
	o.demistomock = mods.demistomock;
	if ((ret = verify_session_new(&s, &o, err)) ||
	    (ret = add_items(s, &job, &c, job.cfg.verify.level, refused, &first, err)) ||
	    (ret = verify_session_run(s, err)))
		goto out;
	if (c.json)
		print_json(s, refused);
	else
		print_text(s);
	fflush(stdout);
	if (c.junit && (ret = verify_junit_write(s, c.junit, err)))
		goto out;
	ret = exit_status(s, err);
	if (ret >= 0 && first.code) /* could not verify: before a block */
		ret = db_err_set(err, DB_EVERIFY, "%zu item(s) refused; the first: %s",
		                 json_array_size(refused), first.msg);
out:
	json_decref(refused);
	verify_session_free(s);
	item_modules_release(&mods);
	job_release(&job);
	strlist_clear(&paths);
	return ret;
}

/*
 * `dockerbump verify PATH...`: run items in a container and print the outcome, the logs and
 * the exception (SPEC §3, §5). With --old-image it runs each item in both images and applies
 * the regression rule, as `run` does for a bump.
 *
 * PATHs are item YAMLs or folders of them, relative to the repository (-C DIR), read from
 * the files on disk. Exit status: 0 every item verified (no regression with --old-image,
 * else ok or skipped), 3 some did not, 1 an item could not be verified at all (no engine, an
 * image that cannot be pulled, a file of the item that is a symbolic link: refused, by path).
 */
#include "updater/cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/log.h"
#include "updater/itemcode.h"
#include "updater/job.h"
#include "updater/verify.h"
#include "common/banned.h"

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

static void apply_config(struct verify_opts *o, const struct config *cfg)
{
	verify_opts_init(o);
	o->level = cfg->verify.level;
	o->runtime = cfg->verify.runtime;
	o->timeout_s = cfg->verify.timeout_s;
	o->jobs = cfg->verify.jobs;
	o->memory = cfg->verify.memory;
	o->pids = cfg->verify.pids;
	o->cpus = cfg->verify.cpus;
	o->prune_images = cfg->verify.prune_images;
	o->cache_dir = cfg->cli.no_cache ? "" : NULL;
	o->no_reuse = cfg->cli.no_reuse;
	o->progress = log_get_config() && log_get_config()->progress;
}

/*
 * Queues every python item the scan found; 0 or an error for a PATH with nothing to run. An
 * item whose code cannot be read as it must (a symbolic link, a file outside the repository)
 * is refused: logged, listed in `refused`, its first error kept in `first`; the others go on.
 */
static int add_items(struct verify_session *s, const struct job *job, int level, json_t *refused,
                     struct db_err *first, struct db_err *err)
{
	size_t i, added = 0;
	int ret = 0;

	for (i = 0; i < job->scan.nr && !ret; i++) {
		const struct item *it = &job->scan.items[i];
		const char *image =
		    job->cfg->cli.verify_image ? job->cfg->cli.verify_image : it->image_ref;
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
			ret = verify_session_add(
			    s, NULL,
			    &(struct verify_item){
			        it->path, d.name, d.code, it->kind == ITEM_INTEGRATION,
			        job->cfg->cli.verify_old_image, image, d.files, d.nr_files, NULL},
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

int cmd_verify(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	struct job job;
	struct item_modules mods;
	struct verify_opts o;
	struct verify_session *s = NULL;
	struct db_err first = DB_ERR_INIT;
	json_t *refused = json_array();
	size_t i;
	int ret = 0;

	item_modules_init(&mods);
	job_init(&job, cfg);
	if (!args->nr_words) {
		ret = cli_usage_error(err, "verify", "which item? give a PATH");
		goto out;
	}
	if (cfg->verify.level == VERIFY_OFF)
		cfg->verify.level = VERIFY_LOAD; /* a config that turns `run`'s verification off */
	/* The PATHs are the include globs; nothing else filters what was asked for. */
	strlist_clear(&cfg->include);
	strlist_clear(&cfg->exclude);
	for (i = 0; i < args->nr_words; i++) {
		char *glob;
		if ((ret = path_to_glob(&glob, cfg->cli.dir, args->words[i], err)))
			goto out;
		strlist_push(&cfg->include, glob);
		free(glob);
	}
	cfg->skip_deprecated = 0;
	cfg->skip_hidden_packs = 0;
	cfg->cli.worktree = 1;
	{
		/* The scan cache is for git blobs; the outcome cache follows --no-cache. */
		int no_cache = cfg->cli.no_cache;
		cfg->cli.no_cache = 1;
		ret = job_scan(&job, err);
		cfg->cli.no_cache = no_cache;
	}
	if (ret)
		goto out;
	if ((ret = item_modules_load(&mods, &job.scan_opts, NULL, err)))
		goto out;
	apply_config(&o, cfg);
	o.common_server_python = mods.common_server_python;
	o.common_server_user_python = mods.common_server_user_python;
	o.demistomock = mods.demistomock;
	if ((ret = verify_session_new(&s, &o, err)) ||
	    (ret = add_items(s, &job, cfg->verify.level, refused, &first, err)) ||
	    (ret = verify_session_run(s, err)))
		goto out;
	if (cfg->cli.json)
		print_json(s, refused);
	else
		print_text(s);
	fflush(stdout);
	if (cfg->cli.junit && (ret = verify_junit_write(s, cfg->cli.junit, err)))
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
	return ret;
}

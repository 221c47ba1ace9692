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
		if ((ret = item_path_glob(&glob, cfg->cli.dir, args->words[i], err)))
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
	if ((ret = item_verify_opts(&o, &mods, cfg, &job.scan_opts, NULL, err)))
		goto out;
	if ((ret = verify_session_new(&s, &o, err)) ||
	    (ret = add_items(s, &job, cfg->verify.level, refused, &first, err)) ||
	    (ret = verify_session_run(s, err)))
		goto out;
	if (cfg->cli.json)
		verify_print_json(stdout, s, refused);
	else
		verify_print_text(stdout, s);
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

/*
 * `dockerbump scan`: every integration and script with its image, tag, opt-in state and
 * target tag, as a table or the report's JSON. Writes nothing but the report.
 */
#include "updater/cli.h"

#include <stdio.h>
#include <string.h>

#include "updater/job.h"
#include "updater/report.h"
#include "common/banned.h"

int cmd_scan(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	struct job job;
	struct report *report = NULL;
	int ret, resolve_err = 0;

	if (args->nr_words)
		return cli_usage_error(err, "scan", "unexpected argument '%s'", args->words[0]);
	job_init(&job, cfg);
	if ((ret = job_open(&job, err)) || (ret = job_scan(&job, err)))
		goto out;
	/* A registry error marks that image's items `error`; the table still shows everything. */
	if (!cfg->cli.offline)
		resolve_err = job_resolve_targets(&job, err);

	report = report_new(job.repo ? job.base_hex : NULL, 1);
	report_set_images(report, job.images);
	report_add_items(report, job.scan.items, job.scan.nr);
	if (cfg->cli.report && strcmp(cfg->cli.report, "-") &&
	    (ret = report_write(report, cfg->cli.report, err)))
		goto out;
	/* --json and --report - print the report, and only it, on stdout. */
	if (cfg->cli.json || (cfg->cli.report && !strcmp(cfg->cli.report, "-")))
		ret = report_write(report, NULL, err);
	else
		report_print_table(stdout, job.scan.items, job.scan.nr, cfg->cli.wide);
	report_log_summary("scan", job.scan.items, job.scan.nr, NULL);
	if (!ret)
		ret = resolve_err;
out:
	report_free(report);
	job_release(&job);
	return ret;
}

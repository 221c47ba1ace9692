/*
 * `dockerbump run`: the scheduled job (updater/run.h does it); this file prints its results
 * and picks the exit status.
 */
#include "updater/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "updater/run.h"
#include "common/banned.h"

int cmd_run(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	struct run_result res;
	const char *report = cfg->cli.report;
	int to_stdout = cfg->cli.json || (report && !strcmp(report, "-"));
	int ret;

	if (args->nr_words)
		return cli_usage_error(err, "run", "unexpected argument '%s'", args->words[0]);
	/* --json and --report - print only the report: the dry run's diff stays out of it. */
	ret = run_job(&res, cfg, to_stdout ? NULL : stdout, err);
	if (res.report) {
		struct db_err rerr = DB_ERR_INIT;
		if (report && strcmp(report, "-") && report_write(res.report, report, &rerr) < 0)
			log_error("%s", rerr.msg);
		if (to_stdout && report_write(res.report, NULL, &rerr) < 0)
			log_error("%s", rerr.msg);
	}
	if (!ret && res.errors)
		ret = db_err_set(err, DB_ERROR,
		                 "%zu item%s in error (the report lists them); first: %s",
		                 res.errors, res.errors == 1 ? "" : "s",
		                 res.first_error ? res.first_error : "see the log");
	if (!ret && res.blocked)
		ret = 3;
	run_result_release(&res);
	return ret;
}

#include "updater/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "updater/job.h"
#include "updater/report.h"
#include "common/banned.h"

static const char help[] =
    "usage: dockerbump [-C DIR] scan [OPTIONS]\n"
    "\n"
    "List every integration and script with its image, tag, opt-in state and target tag.\n"
    "Reads the base commit from git objects (nothing is checked out) and writes nothing.\n"
    "\n"
    "options:\n"
    "  --base REF            the commit to scan (default: the remote's default branch, else HEAD)\n"
    "  --worktree            scan the files on disk instead (e.g. a repository without commits)\n"
    "  --offline             never contact a registry; targets stay unknown\n"
    "  --only GLOB           only repository paths matching GLOB (repeatable)\n"
    "  --exclude GLOB        skip repository paths matching GLOB (repeatable)\n"
    "  --shard K/N           only the packs in shard K of N\n"
    "  --strategy S          latest-build (default), same-minor or same-major\n"
    "  --registry-url URL    the registry (default: https://hub.docker.com)\n"
    "  --registry-api API    hub (default) or v2\n"
    "  --no-cache            do not read or write the tag and scan caches\n"
    "  --json                print the report JSON (SPEC §6 shape) instead of the table\n"
    "  --report FILE         also write the report JSON to FILE\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  dockerbump -C content scan --offline\n"
    "  dockerbump -C content scan --json --only 'Packs/AWS-*/**'\n";

int cmd_scan(const struct cli_global *g, int argc, char **argv, struct db_err *err)
{
	static const struct option longopts[] = {
	    JOB_LONG_OPTIONS,
	    {"offline", no_argument, NULL, OPT_OFFLINE},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct job job;
	struct report *report = NULL;
	int c, ret = 0, resolve_err = 0;

	job_init(&job);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			cli_print_help(help);
			goto out;
		}
		if (c == 'V') {
			cli_print_version();
			goto out;
		}
		if (c == '?' || c == ':') {
			ret = cli_usage_error(err, "scan", "unknown or incomplete option '%s'",
			                      argv[optind - 1]);
			goto out;
		}
		ret = job_parse_option(&job.opts, c, optarg, "scan", err);
		if (ret < 0)
			goto out;
		ret = 0;
	}
	if (optind < argc) {
		ret = cli_usage_error(err, "scan", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if ((ret = job_load_config(&job, g, "scan", err)) || (ret = job_open(&job, g, err)) ||
	    (ret = job_scan(&job, g, err)))
		goto out;
	/* A registry error marks that image's items `error`; the table still shows everything. */
	if (!job.opts.offline)
		resolve_err = job_resolve_targets(&job, err);

	report = report_new(job.repo ? job.base_hex : NULL, 1);
	report_set_images(report, job.images);
	report_add_items(report, job.scan.items, job.scan.nr);
	if (job.opts.report && (ret = report_write(report, job.opts.report, err)))
		goto out;
	if (job.opts.json)
		ret = report_write(report, NULL, err);
	else
		report_print_table(stdout, job.scan.items, job.scan.nr);
	report_log_summary("scan", job.scan.items, job.scan.nr);
	if (!ret)
		ret = resolve_err;
out:
	report_free(report);
	job_release(&job);
	return ret;
}

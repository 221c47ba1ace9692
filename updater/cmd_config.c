/*
 * `dockerbump config check|schema`. By the time this runs, the config file and the flags
 * were read and checked (cli_load_config()); `check` adds what needs the repository: the base,
 * the push remote, the forge repository.
 */
#include "updater/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "updater/job.h"
#include "updater/pullreq.h"
#include "common/banned.h"

static void check_repository(const struct config *cfg, struct config_problems *pr)
{
	struct job job;
	struct db_err err = DB_ERR_INIT;

	job_init(&job, cfg);
	if (job_open(&job, &err) < 0) {
		config_problem(pr, "%s", err.msg);
		goto out;
	}
	if (gitrepo_is_shallow(job.repo) && cfg->git.push)
		config_problem(pr,
		               "'%s' is a shallow clone: pushes need the whole history ('git "
		               "fetch --unshallow')",
		               gitrepo_path(job.repo));
	if (cfg->pull_request.provider != PR_NONE) {
		struct pr_repo repo = PR_REPO_INIT;
		char *url = gitrepo_remote_url(job.repo, cfg->git.remote);
		if (!job.base_branch)
			config_problem(pr,
			               "the base '%s' is not a branch a pull request can target",
			               job.base_ref);
		if (cfg->pull_request.repo)
			pr_repo_parse(&repo, cfg->pull_request.repo, &err);
		else
			pr_repo_from_remote(&repo, url ? url : cfg->git.remote, &err);
		if (err.code)
			config_problem(pr, "the forge repository: %s (set pull_request.repo)",
			               err.msg);
		free(url);
		pr_repo_release(&repo);
	}
out:
	job_release(&job);
}

int cmd_config(struct config *cfg, const struct cli_args *args, struct db_err *err)
{
	struct config_problems pr = CONFIG_PROBLEMS_INIT;
	int ret;

	if (args->nr_words != 1 ||
	    (strcmp(args->words[0], "check") && strcmp(args->words[0], "schema")))
		return cli_usage_error(err, "config", "say 'config check' or 'config schema'");
	if (!strcmp(args->words[0], "schema")) {
		char *text = config_schema_json();
		printf("%s\n", text);
		free(text);
		return 0;
	}
	check_repository(cfg, &pr);
	ret = config_problems_error(&pr, err);
	config_problems_release(&pr);
	if (!ret)
		printf("the configuration is good\n");
	return ret;
}

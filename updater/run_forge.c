/*
 * The forge's part of the run (SPEC §4 steps 1, 5 and 10): the preflight read, the bot's pull
 * requests read back and turned into rollout decisions, then the pull requests closed, opened
 * and updated, and the dashboard. Without a forge (pull_request.provider: none) there is no
 * state to roll out from: every pending group is proposed, and nothing here writes.
 */
#include "updater/run_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "updater/dashboard.h"
#include "updater/pullreq.h"
#include "common/banned.h"

static enum forge_provider provider_of(const struct config *cfg)
{
	return cfg->pull_request.provider == PR_GITLAB ? FORGE_GITLAB : FORGE_GITHUB;
}

/* The forge repository: pull_request.repo, else the push remote's URL. */
static int forge_repo(struct run *r, struct db_err *err)
{
	const struct config *cfg = r->cfg;
	char *url;
	int ret;

	if (cfg->pull_request.repo) {
		r->forge_repo = xstrdup(cfg->pull_request.repo);
		return 0;
	}
	url = gitrepo_remote_url(r->repo, cfg->git.remote);
	ret = forge_repo_from_remote(&r->forge_repo, provider_of(cfg), url ? url : cfg->git.remote,
	                             err);
	if (ret)
		db_err_prefix(err, "the forge repository (set pull_request.repo)");
	free(url);
	return ret;
}

int run_forge_open(struct run *r, struct db_err *err)
{
	const struct config *cfg = r->cfg;
	const char *token = getenv(config_forge_token_env(cfg));
	struct forge_opts fo = {0};
	char *dflt = NULL, *tracking;
	int ret;

	if (cfg->pull_request.provider == PR_NONE)
		return 0;
	if (cfg->cli.dry_run && (!token || !*token)) {
		log_warn(
		    "%s is not set: the dry run cannot read the forge's state, so it shows the "
		    "plan without the rollout",
		    config_forge_token_env(cfg));
		return 0;
	}
	if (!r->job.base_branch)
		return db_err_set(
		    err, DB_EUSAGE,
		    "the base '%s' is not a branch, so no pull request can target it: "
		    "pass --base BRANCH",
		    r->job.base_ref);
	if ((ret = forge_repo(r, err)))
		return ret;
	fo.provider = provider_of(cfg);
	fo.api_url = config_forge_api_url(cfg);
	fo.token_env = config_forge_token_env(cfg);
	fo.repo = r->forge_repo;
	if ((ret = forge_new(&r->forge, &fo, err)) || (ret = forge_check(r->forge, &dflt, err)))
		return ret;
	/* The base must be a branch of the forge: its default one, or one the remote has. */
	tracking = xasprintf("refs/remotes/%s/%s", cfg->git.remote, r->job.base_branch);
	if (strcmp(dflt, r->job.base_branch) && !gitrepo_ref_exists(r->repo, tracking))
		ret = db_err_set(
		    err, DB_EUSAGE,
		    "the base '%s' is not a branch of '%s' (its default branch is '%s'): "
		    "pass --base with a branch that exists there",
		    r->job.base_branch, r->forge_repo, dflt);
	free(tracking);
	free(dflt);
	r->rollout_on = !ret;
	return ret;
}

int run_forge_plan(struct run *r, struct db_err *err)
{
	const struct config *cfg = r->cfg;
	size_t i, k;
	int ret;

	if (!r->rollout_on) {
		plan_build(&r->plan, r->job.scan.items, r->job.scan.nr, cfg);
		return 0;
	}
	ret = forge_list_prs(r->forge, &r->prs, cfg->pull_request.labels.v[0],
	                     cfg->git.branch_prefix, err);
	if (ret)
		return ret;
	rollout_init(&r->ro, cfg, clock_wall_s());
	for (i = 0; i < r->prs.nr; i++) {
		const struct forge_pr *fp = &r->prs.v[i];
		struct rollout_pr pr = {0};
		for (k = 0; k < fp->marker.nr; k++) {
			char *pair = xasprintf("%s:%s", fp->marker.v[k].image, fp->marker.v[k].tag);
			strlist_push(&pr.carried, pair);
			free(pair);
		}
		pr.number = fp->number;
		pr.url = fp->url;
		pr.branch = fp->head;
		pr.state = fp->state == FORGE_PR_MERGED   ? ROLLOUT_PR_MERGED
		           : fp->state == FORGE_PR_CLOSED ? ROLLOUT_PR_CLOSED
		                                          : ROLLOUT_PR_OPEN;
		pr.merged_at = fp->merged_at;
		pr.handle = &r->prs.v[i];
		rollout_add_pr(&r->ro, &pr);
		strlist_clear(&pr.carried);
	}
	rollout_targets(&r->ro, r->job.scan.items, r->job.scan.nr, r->job.tags, r->job.nr_tags);
	plan_build(&r->plan, r->job.scan.items, r->job.scan.nr, cfg);
	rollout_slots(&r->ro, &r->plan, r->job.scan.items);
	log_info("forge: %zu pull request%s of the bot; %zu to close, %zu slot%s", r->prs.nr,
	         r->prs.nr == 1 ? "" : "s", r->ro.nr_close, r->ro.slots,
	         r->ro.slots == 1 ? "" : "s");
	return 0;
}

/* Groups whose open pull request lost every item to verification are closed too. */
static void close_emptied(struct run *r)
{
	size_t g;

	for (g = 0; g < r->plan.nr; g++)
		if (r->ro.actions[g] == ROLLOUT_ACT_UPDATE && !r->plan.groups[g].nr) {
			ALLOC_GROW(r->ro.close, r->ro.nr_close + 1, r->ro.alloc_close);
			r->ro.close[r->ro.nr_close].pr = r->ro.open_pr[g];
			r->ro.close[r->ro.nr_close++].reason =
			    xstrdup("every bump of this group was blocked by verification (the "
			            "dashboard and the run's report say why)");
			r->ro.actions[g] = ROLLOUT_ACT_NONE;
		}
}

size_t run_forge_doomed(struct run *r, struct gitpush_ref **out)
{
	size_t i, n = 0;

	*out = NULL;
	if (!r->rollout_on)
		return 0;
	close_emptied(r);
	*out = xcalloc(r->ro.nr_close ? r->ro.nr_close : 1, sizeof(**out));
	for (i = 0; i < r->ro.nr_close; i++) {
		const char *branch = r->ro.prs[r->ro.close[i].pr].branch;
		if (branch && !strncmp(branch, r->cfg->git.branch_prefix,
		                       strlen(r->cfg->git.branch_prefix))) {
			(*out)[n].branch = branch;
			(*out)[n++].delete = 1;
		}
	}
	return n;
}

/* The pull request text of group `g`: its items and its blocked ones. */
static void group_request(struct run *r, size_t g, struct buf *title, struct buf *body)
{
	const struct plan_group *pg = &r->plan.groups[g];
	struct pr_item *items = xcalloc(r->job.scan.nr ? r->job.scan.nr : 1, sizeof(*items));
	struct pr_request req = {0};
	size_t i, n = 0;

	for (i = 0; i < r->job.scan.nr; i++) {
		const struct item *it = &r->job.scan.items[i];
		int in_group = it->branch && !strcmp(it->branch, pg->branch);
		int blocked = it->status == STATUS_VERIFY_FAILED && it->group_id.k == pg->id.k;
		if (!in_group && !blocked)
			continue;
		items[n++] = (struct pr_item){it->display ? it->display : it->name,
		                              it->path,
		                              it->pack,
		                              it->image,
		                              it->tag,
		                              it->target,
		                              it->verify_old,
		                              it->verify_new,
		                              blocked,
		                              it->verify_detail};
	}
	req.repo = r->forge_repo;
	req.head = pg->branch;
	req.base = r->job.base_branch;
	req.group = pg->name;
	req.draft = r->cfg->pull_request.draft;
	req.labels = &r->cfg->pull_request.labels;
	req.items = items;
	req.nr_items = n;
	req.body_max = forge_body_max(provider_of(r->cfg));
	pr_format_title(title, &req);
	pr_format_body(body, &req);
	free(items);
}

static int write_group(struct run *r, size_t g, struct db_err *err)
{
	const struct plan_group *pg = &r->plan.groups[g];
	struct group_work *w = &r->work[g];
	struct buf title = BUF_INIT, body = BUF_INIT;
	struct forge_pr_spec spec = {0};
	struct forge_pr created = {0};
	int ret, changed = 0;

	group_request(r, g, &title, &body);
	spec.head = pg->branch;
	spec.base = r->job.base_branch;
	spec.title = title.ptr;
	spec.body = body.ptr;
	spec.labels = &r->cfg->pull_request.labels;
	spec.draft = r->cfg->pull_request.draft;
	if (r->ro.open_pr[g] != SIZE_MAX) {
		struct forge_pr *pr = r->ro.prs[r->ro.open_pr[g]].handle;
		ret = forge_pr_update(r->forge, pr, &spec, &changed, err);
		if (!ret) {
			w->pr_number = pr->number;
			w->pr_url = xstrdup(pr->url);
			w->pr_outcome = changed ? "updated" : "unchanged";
		}
	} else {
		ret = forge_pr_create(r->forge, &created, &spec, err);
		if (!ret) {
			changed = 1;
			w->pr_number = created.number;
			w->pr_url = xstrdup(created.url);
			w->pr_outcome = "created";
		}
		forge_pr_release(&created);
	}
	if (!ret) {
		r->res->forge_writes += changed;
		log_at(LOG_INFO, LOG_FIELDS("branch", pg->branch, "url", w->pr_url),
		       "%s: pull request #%ld %s (%s)", pg->branch, w->pr_number, w->pr_outcome,
		       w->pr_url);
	}
	buf_release(&title);
	buf_release(&body);
	return ret;
}

static int write_dashboard(struct run *r, struct db_err *err)
{
	struct dashboard_group *dg = xcalloc(r->plan.nr + r->ro.nr_close + 1, sizeof(*dg));
	struct buf title = BUF_INIT, body = BUF_INIT;
	struct forge_issue issue = {0};
	size_t g, n = 0, i;
	int ret, changed = 0;

	for (g = 0; g < r->plan.nr; g++) {
		const struct plan_group *pg = &r->plan.groups[g];
		const struct group_work *w = &r->work[g];
		size_t nr = pg->nr;
		if (r->ro.actions[g] == ROLLOUT_ACT_WAIT)
			for (i = 0, nr = 0; i < r->job.scan.nr; i++)
				nr += r->job.scan.items[i].status == STATUS_WAITING &&
				      r->job.scan.items[i].group_id.k == pg->id.k;
		if (!nr)
			continue;
		dg[n++] = (struct dashboard_group){pg->name,
		                                   pg->branch,
		                                   w->pr_number,
		                                   w->pr_url,
		                                   r->ro.actions[g] == ROLLOUT_ACT_WAIT ? "waiting"
		                                   : w->pr_outcome                      ? "open"
		                                                   : "not opened",
		                                   nr};
	}
	dashboard_title(&title, r->cfg);
	dashboard_render(&body, &r->ro, r->job.scan.items, r->job.scan.nr, dg, n,
	                 forge_body_max(provider_of(r->cfg)));
	ret = forge_dashboard(r->forge, &issue, title.ptr, body.ptr, &r->cfg->pull_request.labels,
	                      &changed, err);
	if (!ret) {
		r->res->forge_writes += changed;
		log_at(LOG_INFO, LOG_FIELDS("url", issue.url), "dashboard #%ld %s (%s)",
		       issue.number, changed ? "written" : "unchanged", issue.url);
	}
	forge_issue_release(&issue);
	buf_release(&title);
	buf_release(&body);
	free(dg);
	return ret;
}

int run_forge_write(struct run *r, struct db_err *err)
{
	size_t i, g;
	int ret = 0;

	if (!r->forge || !r->rollout_on || r->cfg->cli.dry_run)
		return 0;
	if (!r->push) {
		log_info("not writing pull requests: nothing was pushed (--no-push or git.push)");
		return 0;
	}
	for (i = 0; i < r->ro.nr_close && !ret; i++) {
		struct forge_pr *pr = r->ro.prs[r->ro.close[i].pr].handle;
		struct buf comment = BUF_INIT;
		pr_format_close_comment(&comment, r->ro.close[i].reason);
		ret = forge_pr_close(r->forge, pr, comment.ptr, err);
		if (!ret) {
			r->res->forge_writes++;
			log_at(LOG_INFO, LOG_FIELDS("branch", pr->head, "url", pr->url),
			       "%s: pull request #%ld closed: %s", pr->head, pr->number,
			       r->ro.close[i].reason);
		}
		buf_release(&comment);
	}
	for (g = 0; g < r->plan.nr && !ret; g++) {
		const struct group_work *w = &r->work[g];
		if (!r->plan.groups[g].nr || !w->built ||
		    (r->ro.actions[g] != ROLLOUT_ACT_OPEN &&
		     r->ro.actions[g] != ROLLOUT_ACT_UPDATE) ||
		    w->push == GITPUSH_NOT_PUSHED || w->push == GITPUSH_REJECTED)
			continue;
		ret = write_group(r, g, err);
	}
	if (!ret && r->cfg->pull_request.dashboard)
		ret = write_dashboard(r, err);
	return ret;
}

void run_forge_print(struct run *r)
{
	size_t g, i;

	if (!r->diff || !r->rollout_on)
		return;
	fprintf(r->diff, "rollout: %zu of %d pull request slots for this shard\n", r->ro.slots,
	        r->cfg->rollout.max_open);
	for (g = 0; g < r->plan.nr; g++) {
		const struct plan_group *pg = &r->plan.groups[g];
		if (r->ro.actions[g] == ROLLOUT_ACT_NONE)
			continue;
		fprintf(r->diff, "  group %s (%s): %s", pg->name, pg->branch,
		        r->ro.actions[g] == ROLLOUT_ACT_OPEN     ? "open a pull request"
		        : r->ro.actions[g] == ROLLOUT_ACT_UPDATE ? "update"
		                                                 : "waits for a slot");
		if (r->ro.open_pr[g] != SIZE_MAX)
			fprintf(r->diff, " #%ld", r->ro.prs[r->ro.open_pr[g]].number);
		fputc('\n', r->diff);
	}
	for (i = 0; i < r->ro.nr_close; i++)
		fprintf(r->diff, "  close #%ld (%s): %s\n", r->ro.prs[r->ro.close[i].pr].number,
		        r->ro.prs[r->ro.close[i].pr].branch, r->ro.close[i].reason);
}

void run_forge_close(struct run *r)
{
	forge_prs_release(&r->prs);
	forge_free(r->forge);
	free(r->forge_repo);
	rollout_release(&r->ro);
}

#include "updater/dashboard.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "updater/pullreq.h"
#include "common/banned.h"

/* Room kept for the closing lines when the item lists are cut. */
#define DASHBOARD_TAIL 256

void dashboard_title(struct buf *out, const struct config *cfg)
{
	buf_adds(out, "dockerbump dashboard");
	if (cfg->cli.shard_n > 0)
		buf_addf(out, " (shard %d/%d)", cfg->cli.shard_k, cfg->cli.shard_n);
}

static void images_table(struct buf *out, const struct rollout *ro)
{
	size_t i;

	if (!ro->nr_images)
		return;
	buf_adds(out, "\n### Images\n\n| image | newest | released | canary | merged | open | "
	              "waiting |\n| --- | --- | --- | --- | --- | --- | --- |\n");
	for (i = 0; i < ro->nr_images; i++) {
		const struct rollout_image *ri = &ro->images[i];
		char when[32] = "-";
		if (ri->canary_merged_at) {
			time_t t = (time_t)ri->canary_merged_at;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		}
		buf_adds(out, "| ");
		pr_md_escape(out, ri->image);
		buf_adds(out, " | ");
		pr_md_escape(out, ri->newest ? ri->newest : "-");
		buf_adds(out, " | ");
		pr_md_escape(out, ri->released ? ri->released : "none yet");
		buf_addf(out, " | %s | %s | %zu | %zu |\n", ri->canary, when, ri->open,
		         ri->waiting);
	}
}

static void groups_table(struct buf *out, const struct dashboard_group *g, size_t n)
{
	size_t i;

	if (!n)
		return;
	buf_adds(out, "\n### Groups\n\n| group | branch | pull request | state | items |\n"
	              "| --- | --- | --- | --- | --- |\n");
	for (i = 0; i < n; i++) {
		buf_addf(out, "| %s | `", g[i].name);
		pr_md_escape(out, g[i].branch);
		buf_adds(out, "` | ");
		if (g[i].pr_number && g[i].pr_url) {
			buf_addf(out, "[#%ld](", g[i].pr_number);
			pr_md_escape(out, g[i].pr_url);
			buf_adds(out, ")");
		} else {
			buf_adds(out, "-");
		}
		buf_addf(out, " | %s | %zu |\n", g[i].state, g[i].items);
	}
}

/* The items of one status, each with its reason; cut (with a count) past `limit` bytes. */
static void item_list(struct buf *out, const struct item *items, size_t nr, enum item_status st,
                      const char *title, size_t limit)
{
	size_t i, shown = 0, total = 0;

	for (i = 0; i < nr; i++)
		total += items[i].status == st;
	if (!total)
		return;
	buf_addf(out, "\n### %s (%zu)\n\n", title, total);
	for (i = 0; i < nr; i++) {
		const struct item *it = &items[i];
		size_t mark = out->len;
		if (it->status != st)
			continue;
		buf_adds(out, "- `");
		pr_md_escape(out, it->path);
		buf_adds(out, "`");
		if (it->image) {
			buf_adds(out, " (");
			pr_md_escape(out, it->image);
			buf_adds(out, ")");
		}
		if (it->reason) {
			buf_adds(out, ": ");
			pr_md_escape(out, it->reason);
		}
		buf_addch(out, '\n');
		if (out->len > limit) {
			buf_setlen(out, mark);
			break;
		}
		shown++;
	}
	if (shown < total)
		buf_addf(out, "- ... and %zu more (the run's report lists them all)\n",
		         total - shown);
}

void dashboard_render(struct buf *out, const struct rollout *ro, const struct item *items,
                      size_t nr, const struct dashboard_group *groups, size_t ngroups,
                      size_t max_bytes)
{
	static const struct {
		enum item_status status;
		const char *title;
	} lists[] = {
	    {STATUS_VERIFY_FAILED, "Blocked by verification"},
	    {STATUS_ERROR, "Errors"},
	    {STATUS_DECLINED, "Declined"},
	    {STATUS_UNPARSEABLE, "Unparseable"},
	    {STATUS_WAITING, "Waiting"},
	};
	size_t start = out->len, limit, i;

	if (!max_bytes || max_bytes > PR_BODY_MAX)
		max_bytes = PR_BODY_MAX;
	limit = start + max_bytes - DASHBOARD_TAIL;
	buf_adds(out,
	         "This issue is kept up to date by dockerbump: the rollout of new Docker image "
	         "tags, pack group by pack group, and every item that needs a look.\n");
	images_table(out, ro);
	groups_table(out, groups, ngroups);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		item_list(out, items, nr, lists[i].status, lists[i].title, limit);
	/* The tables alone past the limit (thousands of groups): a hard cut, the marker kept. */
	if (out->len > start + max_bytes - 40)
		buf_setlen(out, start + max_bytes - 40);
	buf_adds(out, "\n<!-- dockerbump:dashboard -->\n");
}

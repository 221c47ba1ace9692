#include "updater/rollout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "updater/report.h"
#include "common/banned.h"

void rollout_init(struct rollout *ro, const struct config *cfg, long long now)
{
	memset(ro, 0, sizeof(*ro));
	ro->cfg = cfg;
	ro->now = now;
	ro->shard_k = cfg->cli.shard_k;
	ro->shard_n = cfg->cli.shard_n;
}

void rollout_release(struct rollout *ro)
{
	size_t i;

	for (i = 0; i < ro->nr_prs; i++)
		strlist_clear(&ro->prs[i].carried);
	free(ro->prs);
	for (i = 0; i < ro->nr_images; i++) {
		free(ro->images[i].image);
		free(ro->images[i].newest);
		free(ro->images[i].released);
	}
	free(ro->images);
	free(ro->actions);
	free(ro->open_pr);
	for (i = 0; i < ro->nr_close; i++)
		free(ro->close[i].reason);
	free(ro->close);
	memset(ro, 0, sizeof(*ro));
}

void rollout_add_pr(struct rollout *ro, const struct rollout_pr *pr)
{
	struct rollout_pr *p;
	size_t plen = strlen(ro->cfg->git.branch_prefix);
	const char *rest;

	ALLOC_GROW(ro->prs, ro->nr_prs + 1, ro->alloc_prs);
	p = &ro->prs[ro->nr_prs++];
	*p = *pr;
	p->carried = (struct strlist)STRLIST_INIT;
	strlist_copy(&p->carried, &pr->carried);
	p->known = 0;
	if (!pr->branch || strncmp(pr->branch, ro->cfg->git.branch_prefix, plen))
		return;
	rest = pr->branch + plen;
	if (!strcmp(rest, "canary"))
		p->known = group_parse(&p->group, "canary", ro->cfg) == 0;
	else if (!strncmp(rest, "group-", 6))
		p->known = group_parse(&p->group, rest + 6, ro->cfg) == 0;
}

/* Whether `pr` carried image:tag. */
static int carried(const struct rollout_pr *pr, const char *image, const char *tag)
{
	char *pair = xasprintf("%s:%s", image, tag);
	int has = strlist_has(&pr->carried, pair);
	free(pair);
	return has;
}

static struct rollout_image *image_info(struct rollout *ro, const char *image)
{
	struct rollout_image *ri;
	size_t i;

	for (i = 0; i < ro->nr_images; i++)
		if (!strcmp(ro->images[i].image, image))
			return &ro->images[i];
	ALLOC_GROW(ro->images, ro->nr_images + 1, ro->alloc_images);
	ri = &ro->images[ro->nr_images++];
	memset(ri, 0, sizeof(*ri));
	ri->image = xstrdup(image);
	return ri;
}

static const struct taglist *tags_of(struct taglist *const *tags, size_t nr, const char *image)
{
	size_t i;
	for (i = 0; i < nr; i++)
		if (tags[i]->image && !strcmp(tags[i]->image, image))
			return tags[i];
	return NULL;
}

static void set_status(struct item *it, enum item_status s, char *reason)
{
	it->status = s;
	free(it->reason);
	it->reason = reason;
}

/* Whether an item takes part in its image's rollout, in this shard or another. */
static int eligible(const struct item *it)
{
	if (it->status == STATUS_BUMPED || it->status == STATUS_UP_TO_DATE)
		return 1;
	/* Another shard's items are skipped here, but their groups count for the canary. */
	return it->status == STATUS_SKIPPED && it->reason && !strcmp(it->reason, "another shard") &&
	       it->image && it->opt_in != OPT_OUT && it->opt_in != OPT_NOT_IN && !it->deprecated &&
	       !it->hidden_pack;
}

/*
 * The canary group of `image`: the group "canary" when it has items of the image, else the
 * first group in rollout order with an item of it, in any shard. -2 when there is none.
 */
static int canary_of(const struct item *items, size_t nr, const char *image)
{
	int best = -2;
	size_t i;

	for (i = 0; i < nr; i++) {
		const struct item *it = &items[i];
		if (!it->image || strcmp(it->image, image) || !eligible(it))
			continue;
		if (it->group_id.k == GROUP_CANARY)
			return GROUP_CANARY;
		if (best == -2 || it->group_id.k < best)
			best = it->group_id.k;
	}
	return best;
}

/*
 * Whether every item of the canary on `image` is already on `tag` or newer in the base. Every
 * shard sees the canary's items (another shard's are scanned, only skipped), so every shard
 * decides the same.
 */
static int canary_holds(const struct item *items, size_t nr, const char *image, int canary,
                        const char *tag)
{
	size_t i, seen = 0;

	for (i = 0; i < nr; i++) {
		const struct item *it = &items[i];
		if (!it->image || strcmp(it->image, image) || it->group_id.k != canary ||
		    !eligible(it))
			continue;
		seen++;
		if (!it->tag || tagver_is_upgrade(it->tag, tag))
			return 0;
	}
	return seen > 0;
}

/* The tags of `image` released tonight, as a tag list (those of `all` only). */
static struct taglist *released_tags(struct rollout *ro, const struct taglist *all,
                                     const struct item *items, size_t nr, const char *image,
                                     int canary, struct rollout_image *ri)
{
	struct taglist *out = taglist_new();
	long long cadence = (long long)ro->cfg->rollout.cadence_hours * 3600;
	size_t i, p;

	out->image = xstrdup(image);
	for (i = 0; all && i < all->nr; i++) {
		const struct tag_entry *t = &all->v[i];
		long long by_canary = 0, by_other = 0;
		int released;
		/*
		 * The canary's own merge puts the tag on trial for cadence_hours (the earliest
		 * merge counts). Any other tag is released by a canary that runs it (bumped by
		 * hand), or by another group's merge cadence_hours old; such a merge of a tag
		 * released by the canary never takes the release back.
		 */
		for (p = 0; p < ro->nr_prs; p++) {
			const struct rollout_pr *pr = &ro->prs[p];
			long long *first =
			    pr->known && pr->group.k == canary ? &by_canary : &by_other;
			if (pr->state == ROLLOUT_PR_MERGED && carried(pr, image, t->name) &&
			    (!*first || pr->merged_at < *first))
				*first = pr->merged_at;
		}
		if (by_canary)
			released = by_canary + cadence <= ro->now;
		else
			released =
			    (by_other && by_other + cadence <= ro->now) ||
			    (canary != -2 && canary_holds(items, nr, image, canary, t->name));
		if (!released)
			continue;
		taglist_add(out, t->name, t->has_time ? &t->updated : NULL, t->digest);
		if (t->candidate && (!ri->released || tagver_is_upgrade(ri->released, t->name))) {
			free(ri->released);
			ri->released = xstrdup(t->name);
		}
	}
	return out;
}

/* Whether a pull request of `group` that was closed unmerged carried image:tag. */
static const struct rollout_pr *declined_by(const struct rollout *ro, const struct group_id *g,
                                            const char *image, const char *tag)
{
	size_t p;
	for (p = 0; p < ro->nr_prs; p++) {
		const struct rollout_pr *pr = &ro->prs[p];
		if (pr->state == ROLLOUT_PR_CLOSED && pr->known && pr->group.k == g->k &&
		    carried(pr, image, tag))
			return pr;
	}
	return NULL;
}

void rollout_targets(struct rollout *ro, struct item *items, size_t nr, struct taglist *const *tags,
                     size_t nr_tags)
{
	const struct config *cfg = ro->cfg;
	struct tagver_policy policy = {cfg->strategy, cfg->min_age_days, cfg->unknown_age_deny,
	                               &cfg->deny_tags, 0};
	struct strlist images = STRLIST_INIT;
	size_t i, m;

	for (i = 0; i < nr; i++)
		if (items[i].status == STATUS_BUMPED && !strlist_has(&images, items[i].image))
			strlist_push(&images, items[i].image);
	for (m = 0; m < images.nr; m++) {
		const char *image = images.v[m];
		struct rollout_image *ri = image_info(ro, image);
		int canary = canary_of(items, nr, image);
		struct taglist *released;
		struct group_id cg = {canary};

		group_name(ri->canary, sizeof(ri->canary), &cg);
		released =
		    released_tags(ro, tags_of(tags, nr_tags, image), items, nr, image, canary, ri);
		for (i = 0; i < nr; i++) {
			struct item *it = &items[i];
			const struct rollout_pr *no;
			if (it->status != STATUS_BUMPED || strcmp(it->image, image))
				continue;
			if (it->group_id.k == canary) {
				if (!ri->newest || tagver_is_upgrade(ri->newest, it->target)) {
					free(ri->newest);
					ri->newest = xstrdup(it->target);
				}
			} else {
				const struct tag_entry *t =
				    tagver_pick(released, image, it->tag, &policy);
				if (!t || !tagver_is_upgrade(it->tag, t->name)) {
					set_status(
					    it, STATUS_WAITING,
					    xasprintf("waiting for %s:%s to be released by the "
					              "canary (group %s)",
					              image, it->target, ri->canary));
					ri->waiting++;
					continue;
				}
				free(it->target);
				it->target = xstrdup(t->name);
			}
			if ((no = declined_by(ro, &it->group_id, image, it->target)))
				set_status(it, STATUS_DECLINED,
				           xasprintf("pull request #%ld proposing %s:%s was closed "
				                     "unmerged; waiting for a newer tag",
				                     no->number, image, it->target));
		}
		/* When did the newest tag reach the base through the canary? */
		for (i = 0; ri->newest && i < ro->nr_prs; i++)
			if (ro->prs[i].state == ROLLOUT_PR_MERGED &&
			    carried(&ro->prs[i], image, ri->newest))
				ri->canary_merged_at = ro->prs[i].merged_at;
		taglist_free(released);
	}
	strlist_clear(&images);
}

static void add_close(struct rollout *ro, size_t pr, char *reason)
{
	ALLOC_GROW(ro->close, ro->nr_close + 1, ro->alloc_close);
	ro->close[ro->nr_close].pr = pr;
	ro->close[ro->nr_close++].reason = reason;
}

static int pr_in_shard(const struct rollout *ro, const struct rollout_pr *pr)
{
	if (!pr->known) /* branches of no group: shard 1 cleans them up */
		return ro->shard_n <= 0 || ro->shard_k == 1;
	return group_in_shard(&pr->group, ro->shard_k, ro->shard_n);
}

void rollout_slots(struct rollout *ro, struct plan *plan, struct item *items)
{
	const struct config *cfg = ro->cfg;
	size_t g, p, used = 0, max = (size_t)cfg->rollout.max_open;
	size_t n = ro->shard_n > 0 ? (size_t)ro->shard_n : 1,
	       k = ro->shard_n > 0 ? (size_t)ro->shard_k : 1;

	ro->slots = max / n + (k - 1 < max % n ? 1 : 0);
	ro->nr_groups = plan->nr;
	ro->actions = xcalloc(plan->nr ? plan->nr : 1, sizeof(*ro->actions));
	ro->open_pr = xcalloc(plan->nr ? plan->nr : 1, sizeof(*ro->open_pr));
	for (g = 0; g < plan->nr; g++)
		ro->open_pr[g] = SIZE_MAX;

	/* Open pull requests: kept by their group, or closed when it has nothing left. */
	for (p = 0; p < ro->nr_prs; p++) {
		const struct rollout_pr *pr = &ro->prs[p];
		struct plan_group *pg = NULL;
		if (pr->state != ROLLOUT_PR_OPEN || !pr_in_shard(ro, pr))
			continue;
		for (g = 0; pr->known && g < plan->nr && !pg; g++)
			if (plan->groups[g].id.k == pr->group.k && plan->groups[g].nr)
				pg = &plan->groups[g];
		if (!pr->known) {
			add_close(ro, p,
			          xstrdup("this branch belongs to no pack group of the current "
			                  "configuration (git.groups or the branch prefix "
			                  "changed); its packs are proposed on their new "
			                  "branches"));
		} else if (!pg) {
			add_close(ro, p,
			          xstrdup("nothing of this group is pending any more: its "
			                  "items are up to date, opted out, declined or "
			                  "gone"));
		} else if (ro->open_pr[pg - plan->groups] != SIZE_MAX) {
			add_close(ro, p,
			          xasprintf("a duplicate of pull request #%ld for the same "
			                    "branch",
			                    ro->prs[ro->open_pr[pg - plan->groups]].number));
		} else {
			ro->open_pr[pg - plan->groups] = p;
			ro->actions[pg - plan->groups] = ROLLOUT_ACT_UPDATE;
			used++;
		}
	}
	/* The free slots go to the other groups in rollout order; the rest wait. */
	for (g = 0; g < plan->nr; g++) {
		struct plan_group *pg = &plan->groups[g];
		if (!pg->nr || ro->actions[g] == ROLLOUT_ACT_UPDATE)
			continue;
		if (used < ro->slots) {
			ro->actions[g] = ROLLOUT_ACT_OPEN;
			used++;
			continue;
		}
		ro->actions[g] = ROLLOUT_ACT_WAIT;
		while (pg->nr) {
			struct item *it = &items[pg->items[0]];
			struct rollout_image *ri = image_info(ro, it->image);
			set_status(it, STATUS_WAITING,
			           xasprintf("group %s waits for a pull request slot "
			                     "(rollout.max_open: %d)",
			                     pg->name, cfg->rollout.max_open));
			it->branch = NULL;
			ri->waiting++;
			plan_group_drop(pg, pg->items[0]);
		}
	}
	for (g = 0; g < plan->nr; g++) {
		struct plan_group *pg = &plan->groups[g];
		struct strlist seen = STRLIST_INIT;
		size_t i;
		if (ro->actions[g] != ROLLOUT_ACT_OPEN && ro->actions[g] != ROLLOUT_ACT_UPDATE)
			continue;
		for (i = 0; i < pg->nr; i++) {
			const char *image = items[pg->items[i]].image;
			if (!strlist_has(&seen, image)) {
				strlist_push(&seen, image);
				image_info(ro, image)->open++;
			}
		}
		strlist_clear(&seen);
	}
}

json_t *rollout_json(const struct rollout *ro)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < ro->nr_images; i++) {
		const struct rollout_image *ri = &ro->images[i];
		json_t *im = json_object();
		char when[32] = "";
		struct buf canary = BUF_INIT;
		struct group_id g;

		if (ri->canary_merged_at) {
			time_t t = (time_t)ri->canary_merged_at;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		if (group_parse(&g, ri->canary, ro->cfg) == 0)
			group_branch(&canary, ro->cfg, &g);
		json_object_set_new(im, "target", report_string(ri->newest));
		json_object_set_new(im, "released", report_string(ri->released));
		json_object_set_new(im, "canary", report_string(canary.len ? canary.ptr : NULL));
		json_object_set_new(im, "canary_merged_at", report_string(when[0] ? when : NULL));
		json_object_set_new(im, "open", json_integer((json_int_t)ri->open));
		json_object_set_new(im, "waiting", json_integer((json_int_t)ri->waiting));
		json_object_set_new(o, ri->image, im);
		buf_release(&canary);
	}
	return o;
}

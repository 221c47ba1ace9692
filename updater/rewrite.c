#include "updater/rewrite.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strnum.h"
#include "updater/yamledit.h"
#include "common/banned.h"

int version_compare(const char *a, const char *b)
{
	while (*a || *b) {
		uint64_t x = 0, y = 0;
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		if (la)
			parse_u64(&x, a, la, UINT64_MAX);
		if (lb)
			parse_u64(&y, b, lb, UINT64_MAX);
		if (x != y)
			return x < y ? -1 : 1;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return 0;
}

int needs_dockerimage45(const struct item *it, const struct config *cfg)
{
	return cfg->dockerimage45_preserve && !it->dockerimage45 &&
	       (!it->fromversion || version_compare(it->fromversion, "5.0.0") < 0);
}

static const struct yaml_value *image_value(const struct yaml_doc *doc, const struct item *it,
                                            enum yaml_key k)
{
	return it->image_in_script ? &doc->script[k] : &doc->top[k];
}

/* Every value the scanner reads is as before, but for dockerimage (and dockerimage45 when added).
 */
static int check_result(const struct yaml_doc *before, const struct yaml_doc *after,
                        const struct item *it, const char *new_ref, const char *added_d45,
                        struct db_err *err)
{
	const struct yaml_value *img = image_value(after, it, YK_DOCKERIMAGE);
	int k, side;

	if (after->refused)
		return db_err_set(err, DB_EPARSE, "'%s': the rewritten file is refused: %s",
		                  it->path, after->reason);
	if (img->kind != YV_SCALAR || strcmp(img->text, new_ref))
		return db_err_set(err, DB_EPARSE,
		                  "'%s': the rewritten dockerimage does not read '%s'", it->path,
		                  new_ref);
	if (added_d45) {
		const struct yaml_value *d45 = image_value(after, it, YK_DOCKERIMAGE45);
		if (d45->kind != YV_SCALAR || strcmp(d45->text, added_d45))
			return db_err_set(err, DB_EPARSE,
			                  "'%s': the new dockerimage45 does not read '%s'",
			                  it->path, added_d45);
	}
	for (side = 0; side < 2; side++) {
		const struct yaml_value *b = side ? before->script : before->top;
		const struct yaml_value *a = side ? after->script : after->top;
		for (k = 0; k < YK__COUNT; k++) {
			int is_image =
			    (side == (it->image_in_script ? 1 : 0)) &&
			    (k == YK_DOCKERIMAGE || (k == YK_DOCKERIMAGE45 && added_d45));
			if (is_image)
				continue;
			if (!yaml_value_same(&b[k], &a[k]))
				return db_err_set(err, DB_EPARSE,
				                  "'%s': the rewrite changed '%s%s' unexpectedly",
				                  it->path, side ? "script." : "",
				                  yaml_key_name((enum yaml_key)k));
		}
	}
	return 0;
}

int rewrite_item(struct buf *out, int *d45_added, const char *data, size_t len,
                 const struct item *it, const struct config *cfg, struct db_err *err)
{
	struct yaml_doc before, after;
	struct buf step = BUF_INIT, new_ref = BUF_INIT;
	const struct yaml_value *img;
	const char *added = NULL;
	size_t start = out->len;
	int ret = 0;

	*d45_added = 0;
	yaml_doc_parse(&before, data, len);
	memset(&after, 0, sizeof(after));
	if (before.refused) {
		ret = db_err_set(err, DB_EPARSE, "'%s': %s", it->path, before.reason);
		goto out;
	}
	img = image_value(&before, it, YK_DOCKERIMAGE);
	if (img->kind != YV_SCALAR || !it->image_ref || strcmp(img->text, it->image_ref)) {
		ret = db_err_set(err, DB_EPARSE, "'%s': dockerimage changed since the scan",
		                 it->path);
		goto out;
	}
	buf_addf(&new_ref, "%s:%s", it->image, it->target);

	/* The insertion lands after the dockerimage line, so the value's offsets stay valid. */
	if (needs_dockerimage45(it, cfg)) {
		ret = yaml_insert_after(&step, data, len, img, "dockerimage45", it->image_ref, err);
		if (ret)
			goto out;
		added = it->image_ref;
	} else {
		buf_add(&step, data, len);
	}
	ret = yaml_splice_scalar(out, step.ptr, step.len, img, new_ref.ptr, err);
	if (ret)
		goto out;

	yaml_doc_parse(&after, out->ptr + start, out->len - start);
	ret = check_result(&before, &after, it, new_ref.ptr, added, err);
	if (!ret)
		*d45_added = added != NULL;
out:
	if (ret)
		buf_setlen(out, start);
	yaml_doc_release(&before);
	yaml_doc_release(&after);
	buf_release(&step);
	buf_release(&new_ref);
	return ret;
}

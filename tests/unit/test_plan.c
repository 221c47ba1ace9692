#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "updater/plan.h"

struct spec {
	const char *path, *pack, *image, *target;
	enum item_status status;
};

static struct item *make_items(const struct spec *s, size_t n)
{
	struct item *items = calloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].path = (char *)s[i].path;
		items[i].pack = (char *)s[i].pack;
		items[i].image = (char *)s[i].image;
		items[i].target = (char *)s[i].target;
		items[i].status = s[i].status;
	}
	return items;
}

static void test_batches_keep_packs_together(void **state)
{
	static const struct spec s[] = {
	    {"Packs/B/Scripts/b1.yml", "B", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/A/Scripts/a1.yml", "A", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/A/Scripts/a2.yml", "A", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/C/Scripts/c1.yml", "C", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/C/Scripts/c2.yml", "C", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/C/Scripts/c3.yml", "C", "demisto/python3", "3.11.1.5", STATUS_BUMPED},
	    {"Packs/D/Scripts/d1.yml", "D", "demisto/python3", "3.11.1.5", STATUS_UP_TO_DATE},
	    {"Packs/E/Scripts/e1.yml", "E", "demisto/python", "2.7.18.9", STATUS_BUMPED},
	};
	struct item *items = make_items(s, 8);
	struct config cfg;
	struct plan p;
	(void)state;

	config_init(&cfg);
	cfg.git.batch_size = 3;
	plan_build(&p, items, 8, &cfg);
	/* demisto/python first (sorted by image), then python3: A(2)+B(1) fill batch 1, C(3) batch
	 * 2 */
	assert_int_equal(p.nr, 3);
	assert_string_equal(p.batches[0].branch, "dockerbump/demisto-python-batch-1");
	assert_int_equal(p.batches[0].nr, 1);
	assert_string_equal(p.batches[1].branch, "dockerbump/demisto-python3-batch-1");
	assert_int_equal(p.batches[1].nr, 3);
	assert_int_equal(p.batches[1].items[0], 1);
	assert_int_equal(p.batches[1].items[1], 2);
	assert_int_equal(p.batches[1].items[2], 0);
	assert_string_equal(p.batches[2].branch, "dockerbump/demisto-python3-batch-2");
	assert_int_equal(p.batches[2].nr, 3);
	assert_string_equal(items[3].branch, "dockerbump/demisto-python3-batch-2");
	assert_null(items[6].branch);

	batch_drop_item(&p.batches[2], 4);
	assert_int_equal(p.batches[2].nr, 2);
	assert_int_equal(p.batches[2].items[1], 5);
	plan_release(&p);

	/* A pack larger than the batch size gets a batch of its own, not split. */
	cfg.git.batch_size = 2;
	plan_build(&p, items, 8, &cfg);
	assert_int_equal(p.nr, 4);
	assert_int_equal(p.batches[1].nr, 2); /* A */
	assert_int_equal(p.batches[2].nr, 1); /* B */
	assert_int_equal(p.batches[3].nr, 3); /* C, whole */
	plan_release(&p);
	config_release(&cfg);
	free(items);
}

static void test_two_targets_number_on(void **state)
{
	static const struct spec s[] = {
	    {"Packs/A/a.yml", "A", "demisto/python3", "3.10.9.20", STATUS_BUMPED},
	    {"Packs/B/b.yml", "B", "demisto/python3", "3.11.1.21", STATUS_BUMPED},
	};
	struct item *items = make_items(s, 2);
	struct config cfg;
	struct plan p;
	(void)state;

	config_init(&cfg);
	config_set_str(&cfg.git.branch_prefix, "bot/");
	plan_build(&p, items, 2, &cfg);
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.batches[0].branch, "bot/demisto-python3-batch-1");
	assert_string_equal(p.batches[0].target, "3.10.9.20");
	assert_string_equal(p.batches[1].branch, "bot/demisto-python3-batch-2");
	plan_release(&p);
	config_release(&cfg);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batches_keep_packs_together),
	    cmocka_unit_test(test_two_targets_number_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

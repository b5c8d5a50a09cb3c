// SPDX-License-Identifier: Apache-2.0
/* --iommu and --device: QEMU's spellings, and clear refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/config.h"

static int parse_with(struct vm_config *cfg, const char *flag, const char *val)
{
	char *argv[] = { "run", "--kernel", "/bin/sh", (char *)flag, (char *)val, NULL };

	return config_parse_run(cfg, val ? 5 : 4, argv);
}

static void accepted(void **state)
{
	static struct vm_config cfg;

	(void)state;
	assert_int_equal(parse_with(&cfg, "--iommu", "intel"), 0);
	assert_true(cfg.iommu);
	assert_false(cfg.iommu_intremap);
	assert_false(cfg.edu);
	assert_int_equal(parse_with(&cfg, "--iommu", "intel,intremap=on,eim=off"), 0);
	assert_true(cfg.iommu && cfg.iommu_intremap);
	assert_int_equal(parse_with(&cfg, "--iommu=intel,intremap=off", NULL), 0);
	assert_true(cfg.iommu);
	assert_false(cfg.iommu_intremap);
	assert_int_equal(parse_with(&cfg, "--device", "edu"), 0);
	assert_true(cfg.edu);
	assert_false(cfg.iommu);
	assert_int_equal(parse_with(&cfg, "-device", "edu"), 0);
	assert_true(cfg.edu);
	/* Off by default. */
	assert_int_equal(parse_with(&cfg, "--rng", NULL), 0);
	assert_false(cfg.iommu || cfg.iommu_intremap || cfg.edu);
}

static void refused(void **state)
{
	static const char *const bad[][2] = {
		{ "--iommu", "amd" },
		{ "--iommu", "" },
		{ "--iommu", "intelx" },
		{ "--iommu", "intel,intremap" },
		{ "--iommu", "intel,intremap=yes" },
		{ "--iommu", "intel,eim=on" },
		{ "--iommu", "intel,caching-mode=on" },
		{ "--device", "intel-iommu" },
		{ "--device", "edu,dma_mask=0xff" },
		{ "--device", "" },
	};
	static struct vm_config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("%s %s\n", bad[i][0], bad[i][1]);
		assert_int_equal(parse_with(&cfg, bad[i][0], bad[i][1]), -1);
	}
	/* A flag that needs its value. */
	assert_int_equal(parse_with(&cfg, "--iommu", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* The virtio flags of `kiln run`: --disk, --rng, --virtio-console. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"

static char kernel[64] = "/tmp/kiln-cli-kernel-XXXXXX";
static char image[64] = "/tmp/kiln-cli-disk-XXXXXX";

static int setup(void **state)
{
	int k = mkstemp(kernel), d = mkstemp(image);

	(void)state;
	if (k < 0 || d < 0 || ftruncate(k, 4096) || ftruncate(d, 1 << 20))
		return -1;
	close(k);
	close(d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel);
	unlink(image);
	return 0;
}

/* Parses "run --kernel K" plus up to six more arguments. */
static int parse(struct vm_config *cfg, const char *a, const char *b, const char *c,
		 const char *d, const char *e, const char *f)
{
	char *argv[10] = { "run", "--kernel", kernel };
	const char *more[] = { a, b, c, d, e, f };
	int argc = 3;

	for (unsigned int i = 0; i < 6 && more[i]; i++)
		argv[argc++] = (char *)more[i];
	return config_parse_run(cfg, argc, argv);
}

static void test_disks(void **state)
{
	struct vm_config cfg;
	char spec[128];

	(void)state;
	snprintf(spec, sizeof(spec), "%s,ro,id=root,aio=threads", image);
	assert_int_equal(parse(&cfg, "--disk", image, "--disk", spec, NULL, NULL), 0);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, image);
	assert_false(cfg.disks[0].read_only);
	assert_null(cfg.disks[0].id);
	assert_string_equal(cfg.disks[0].aio, "auto");
	assert_true(cfg.disks[1].read_only);
	assert_string_equal(cfg.disks[1].id, "root");
	assert_string_equal(cfg.disks[1].aio, "threads");
	assert_false(cfg.rng);
	assert_int_equal(cfg.hvc, HVC_NONE);
	config_release(&cfg);
}

/* A failed parse may keep disks it had parsed: release them. */
#define FAILS(...) do {							\
		assert_int_equal(parse(&cfg, __VA_ARGS__), -1);		\
		config_release(&cfg);					\
	} while (0)

static void test_disk_errors(void **state)
{
	struct vm_config cfg;
	char spec[128];

	(void)state;
	FAILS("--disk", "/nonexistent/kiln.img", NULL, NULL, NULL, NULL);
	snprintf(spec, sizeof(spec), "%s,rw", image);
	FAILS("--disk", spec, NULL, NULL, NULL, NULL);
	snprintf(spec, sizeof(spec), "%s,id=123456789012345678901", image);
	FAILS("--disk", spec, NULL, NULL, NULL, NULL);
	snprintf(spec, sizeof(spec), "%s,aio=posix", image);
	FAILS("--disk", spec, NULL, NULL, NULL, NULL);
	FAILS("--disk", ",ro", NULL, NULL, NULL, NULL);
	/* Too small to hold a sector. */
	assert_int_equal(truncate(image, 100), 0);
	FAILS("--disk", image, NULL, NULL, NULL, NULL);
	assert_int_equal(truncate(image, 1 << 20), 0);
}

static void test_rng_and_console(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, "--rng", "--virtio-console", "stdio", NULL, NULL, NULL), 0);
	assert_true(cfg.rng);
	assert_int_equal(cfg.hvc, HVC_STDIO);
	assert_int_equal(parse(&cfg, "--virtio-console=file=/tmp/x", NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(cfg.hvc, HVC_FILE);
	assert_string_equal(cfg.hvc_path, "/tmp/x");
	assert_int_equal(parse(&cfg, "--virtio-console", "socket=/tmp/s", NULL, NULL, NULL, NULL), 0);
	assert_int_equal(cfg.hvc, HVC_SOCKET);
	assert_int_equal(parse(&cfg, "--virtio-console", "tty", NULL, NULL, NULL, NULL), -1);
	assert_int_equal(parse(&cfg, "--virtio-console", "file=", NULL, NULL, NULL, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_disk_errors),
		cmocka_unit_test(test_rng_and_console),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cli/config.h"
#include "config_args.h"

static void sizes_follow_qemu(void **state)
{
	u64 v;

	(void)state;
	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_size("2g", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_size("256", &v), 0);
	assert_int_equal(v, 256 * MiB);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_int_equal(v, GiB);
	assert_int_equal(parse_size("4096K", &v), 0);
	assert_int_equal(v, 4 * MiB);
	assert_int_equal(parse_size("99T", &v), 0);
	assert_int_equal(v, 99 * TiB);
	assert_int_equal(parse_size("", &v), -1);
	assert_int_equal(parse_size("-1G", &v), -1);
	assert_int_equal(parse_size("1X", &v), -1);
	assert_int_equal(parse_size("1Gx", &v), -1);
	assert_int_equal(parse_size("99999999999999999999", &v), -1);
	assert_int_equal(parse_size("17179869184T", &v), -1);
}

static void affinity_pairs(void **state)
{
	int aff[4] = { -1, -1, -1, -1 };

	(void)state;
	assert_int_equal(parse_cpu_affinity("0=1,1=0", aff, 2), 0);
	assert_int_equal(aff[0], 1);
	assert_int_equal(aff[1], 0);
	assert_int_equal(parse_cpu_affinity("2=0", aff, 2), -1);
	assert_int_equal(parse_cpu_affinity("0=100000", aff, 2), -1);
	assert_int_equal(parse_cpu_affinity("0=1,", aff, 2), -1);
	assert_int_equal(parse_cpu_affinity("0:1", aff, 2), -1);
	assert_int_equal(parse_cpu_affinity("=1", aff, 2), -1);
	assert_int_equal(parse_cpu_affinity("", aff, 2), -1);
}

static void run_flags(void **state)
{
	static struct vm_config cfg;

	(void)state;
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "-m", "1G",
					       "-smp", "cpus=2", "--accel=soft",
					       "--cmdline", "console=ttyS0", NULL }), 0);
	assert_int_equal(cfg.mem_size, GiB);
	assert_int_equal(cfg.nr_cpus, 2);
	assert_string_equal(cfg.accel, "soft");
	assert_string_equal(cfg.cmdline, "console=ttyS0");
	assert_int_equal(cfg.cpu_affinity[0], -1);
}

static void bad_flags_refused(void **state)
{
	static struct vm_config cfg;

	(void)state;
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/nonexistent", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/tmp", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--mem", "0", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--mem", "99T", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--cpus", "0", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--cpus", "10000", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--bogus", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--accel", "xen", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--cpus", "2",
						  "--cpu-affinity", "5=0", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", NULL }), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_follow_qemu),
		cmocka_unit_test(affinity_pairs),
		cmocka_unit_test(run_flags),
		cmocka_unit_test(bad_flags_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The memory switches: --mem-backing parsing, the checks against the RAM
 * size, the kiln run flags, the hugetlb pool arithmetic and its message,
 * the pool read from a (fake) sysfs tree, and the KSM share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "config_args.h"
#include "mem/hugetlb.h"
#include "mem/ksm.h"
#include "mem/ram.h"

static int backing(const char *spec, struct ram_options *o, char *err)
{
	memset(o, 0, sizeof(*o));
	err[0] = '\0';
	return ram_parse_backing(spec, o, err, 256);
}

static void backing_specs(void **state)
{
	struct ram_options o;
	char err[256];

	(void)state;
	assert_int_equal(backing("anon", &o, err), 0);
	assert_int_equal(o.backing, RAM_BACKING_ANON);
	assert_int_equal(ram_page_size(&o), 4096);
	assert_int_equal(backing("thp", &o, err), 0);
	assert_int_equal(o.backing, RAM_BACKING_THP);
	assert_int_equal(ram_page_size(&o), 4096);
	assert_int_equal(backing("hugetlb", &o, err), 0);
	assert_int_equal(o.backing, RAM_BACKING_HUGETLB);
	assert_int_equal(ram_page_size(&o), 2 * MiB);		/* the default size */
	assert_null(o.hugetlbfs_dir);
	assert_int_equal(backing("hugetlb,size=1G", &o, err), 0);
	assert_int_equal(ram_page_size(&o), GiB);
	assert_int_equal(backing("hugetlb,size=2M", &o, err), 0);
	assert_int_equal(ram_page_size(&o), 2 * MiB);
	assert_int_equal(backing("hugetlb,size=1gib", &o, err), 0);
	assert_int_equal(ram_page_size(&o), GiB);
	assert_int_equal(backing("hugetlb,size=1G,path=/dev/hugepages1G", &o, err), 0);
	assert_string_equal(o.hugetlbfs_dir, "/dev/hugepages1G");
	assert_int_equal(backing("hugetlb,path=/mnt/huge", &o, err), 0);
	assert_string_equal(o.hugetlbfs_dir, "/mnt/huge");
	assert_int_equal(o.page_size, 0);		/* from the mount, at check time */
}

static void bad_backing_specs(void **state)
{
	static const char *const bad[] = {
		"", "huge", "hugetlbfs", "thp,size=2M", "anon,", "hugetlb,", "hugetlb,size=",
		"hugetlb,size=3M", "hugetlb,size=4K", "hugetlb,size=2M,", "hugetlb,,size=2M",
		"hugetlb,path=", "hugetlb,path=/a,size=2M", "hugetlb,bogus",
		"hugetlb,size=2Mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct ram_options o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (backing(bad[i], &o, err) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(err, "--mem-backing"));
	}
	backing("hugetlb,size=3M", &o, err);
	assert_non_null(strstr(err, "size=2M or size=1G"));
}

static int check(u64 size, const char *spec, bool ksm, char *err)
{
	struct ram_options o;

	assert_int_equal(backing(spec, &o, err), 0);
	o.ksm = ksm;
	return ram_check_options(size, &o, err, 256);
}

static void sizes_must_fit_the_page(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(check(256 * MiB, "hugetlb", false, err), 0);
	assert_int_equal(check(6 * MiB, "hugetlb", false, err), 0);
	assert_int_equal(check(255 * MiB, "hugetlb", false, err), -1);
	assert_string_equal(err, "--mem 255 MiB is not a multiple of the 2M page size of "
			    "--mem-backing (try --mem 256M)");
	assert_int_equal(check(3 * GiB, "hugetlb,size=1G", false, err), 0);
	assert_int_equal(check(1536 * MiB, "hugetlb,size=1G", false, err), -1);
	assert_non_null(strstr(err, "1G page size"));
	assert_non_null(strstr(err, "try --mem 2048M"));
	/* 4 KiB pages: any 4K multiple (the CLI's own check). */
	assert_int_equal(check(255 * MiB + 4096, "anon", false, err), 0);
	assert_int_equal(check(255 * MiB + 4096, "thp", true, err), 0);
	/* KSM cannot merge hugetlb pages. */
	assert_int_equal(check(256 * MiB, "hugetlb", true, err), -1);
	assert_non_null(strstr(err, "--ksm cannot merge hugetlb pages"));
	/* path= must be a hugetlbfs mount. */
	assert_int_equal(check(256 * MiB, "hugetlb,path=/tmp", false, err), -1);
	assert_non_null(strstr(err, "not a hugetlbfs mount"));
}

static void run_flags(void **state)
{
	static struct vm_config cfg;

	(void)state;
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", NULL }), 0);
	assert_int_equal(cfg.ram.backing, RAM_BACKING_ANON);
	assert_false(cfg.ram.ksm);
	assert_false(cfg.ram.prealloc);
	config_release(&cfg);

	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "--ksm",
					       "--mem-backing", "thp", "--mem-prealloc", NULL }), 0);
	assert_int_equal(cfg.ram.backing, RAM_BACKING_THP);
	assert_true(cfg.ram.ksm);
	assert_true(cfg.ram.prealloc);
	config_release(&cfg);

	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh", "-m", "3G",
					       "--mem-backing=hugetlb,size=1G", "-mem-prealloc",
					       NULL }), 0);
	assert_int_equal(cfg.ram.backing, RAM_BACKING_HUGETLB);
	assert_int_equal(cfg.ram.page_size, GiB);
	assert_true(cfg.ram.prealloc);
	config_release(&cfg);

	/* The page-size check runs with the final --mem, whatever the order. */
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh",
					       "--mem-backing", "hugetlb", "--mem", "257M",
					       NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh",
					       "--mem-backing", "hugetlb", "--ksm", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh",
					       "--mem-backing", "zram", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh",
					       "--mem-backing", NULL }), -1);
	assert_int_equal(parse_args(&cfg, (const char *[]){ "run", "--kernel", "/bin/sh",
					       "--ksm=1", NULL }), -1);
}

static void pool_arithmetic(void **state)
{
	struct hugetlb_pool pool = {
		.page_size = 2 * MiB, .total = 300, .free = 200, .resv = 50,
	};
	char err[512];

	(void)state;
	assert_int_equal(hugetlb_pages_needed(256 * MiB, 2 * MiB), 128);
	assert_int_equal(hugetlb_pages_needed(GiB + 2 * MiB, GiB), 2);	/* rounds up */
	assert_int_equal(hugetlb_pages_needed(16 * GiB, GiB), 16);
	assert_int_equal(hugetlb_pages_needed(0, GiB), 0);

	/* Reserved pages are free but promised: 150 can be had. */
	assert_int_equal(hugetlb_pool_available(&pool), 150);
	assert_int_equal(hugetlb_pool_check(&pool, 300 * MiB, err, sizeof(err)), 0);
	assert_int_equal(hugetlb_pool_check(&pool, 302 * MiB, err, sizeof(err)), -1);
	assert_string_equal(err, "--mem-backing hugetlb: 302 MiB of guest RAM needs 151 huge "
			    "pages of 2M, but the host's pool has 150 free (300 pages in all, "
			    "200 unused, 50 of those reserved by other mappings); add at least 1 "
			    "to /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");

	/* Overcommitted pages may be allocated on demand, less those in use. */
	pool.overcommit = 20;
	pool.surplus = 5;
	assert_int_equal(hugetlb_pool_available(&pool), 165);
	/* More reserved than free (cannot happen, but never wraps). */
	pool = (struct hugetlb_pool){ .page_size = GiB, .free = 1, .resv = 3 };
	assert_int_equal(hugetlb_pool_available(&pool), 0);
	assert_int_equal(hugetlb_pool_check(&pool, 2 * GiB, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs 2 huge pages of 1G, but the host's pool has 0 free"));
	assert_non_null(strstr(err, "hugepages-1048576kB"));
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void pool_read_from_sysfs(void **state)
{
	char root[] = "/tmp/kiln-hugetlb-XXXXXX", dir[PATH_MAX];
	struct hugetlb_pool pool;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/hugepages-2048kB", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	/* Without the two required files it is not a pool. */
	assert_int_equal(hugetlb_pool_read(root, 2 * MiB, &pool), -1);
	write_file(dir, "nr_hugepages", "64\n");
	write_file(dir, "free_hugepages", "40\n");
	assert_int_equal(hugetlb_pool_read(root, 2 * MiB, &pool), 0);
	assert_int_equal(pool.total, 64);
	assert_int_equal(pool.free, 40);
	assert_int_equal(pool.resv, 0);
	write_file(dir, "resv_hugepages", "8\n");
	write_file(dir, "nr_overcommit_hugepages", "2\n");
	write_file(dir, "surplus_hugepages", "1\n");
	assert_int_equal(hugetlb_pool_read(root, 2 * MiB, &pool), 0);
	assert_int_equal(pool.page_size, 2 * MiB);
	assert_int_equal(hugetlb_pool_available(&pool), 40 - 8 + 2 - 1);
	/* No 1G pool in this tree. */
	assert_int_equal(hugetlb_pool_read(root, GiB, &pool), -1);

	write_file(dir, "free_hugepages", "lots\n");
	assert_int_equal(hugetlb_pool_read(root, 2 * MiB, &pool), -1);

	for (const char *const *n = (const char *const[]){ "nr_hugepages", "free_hugepages",
			"resv_hugepages", "nr_overcommit_hugepages", "surplus_hugepages", NULL };
	     *n; n++) {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
	rmdir(root);
}

static void ksm_share_and_size_names(void **state)
{
	char name[16];

	(void)state;
	assert_int_equal(ksm_merged_permille(0, 256 * MiB), 0);
	assert_int_equal(ksm_merged_permille(65536, 256 * MiB), 1000);
	assert_int_equal(ksm_merged_permille(32768, 256 * MiB), 500);
	assert_int_equal(ksm_merged_permille(51216, 512 * MiB), 390);
	assert_int_equal(ksm_merged_permille(1 << 30, 256 * MiB), 1000);	/* capped */
	assert_int_equal(ksm_merged_permille(5, 0), 0);
	assert_string_equal(hugetlb_size_name(2 * MiB, name, sizeof(name)), "2M");
	assert_string_equal(hugetlb_size_name(GiB, name, sizeof(name)), "1G");
	assert_string_equal(hugetlb_size_name(64 * KiB, name, sizeof(name)), "64K");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backing_specs),
		cmocka_unit_test(bad_backing_specs),
		cmocka_unit_test(sizes_must_fit_the_page),
		cmocka_unit_test(run_flags),
		cmocka_unit_test(pool_arithmetic),
		cmocka_unit_test(pool_read_from_sysfs),
		cmocka_unit_test(ksm_share_and_size_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon through the test driver: inflating returns the pages to
 * the host (mincore and RSS show it), deflating, bad PFNs (outside RAM, in
 * the PCI hole) skipped and counted, malformed requests, the statistics
 * round trip and the control-API hooks, free page reporting, reset with
 * the statistics buffer held, and --balloon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/hooks.h"
#include "cli/config.h"
#include "machine/layout.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_dev.h"
#include "virtio_stat.h"
#include "virtio_test_driver.h"

#define INFLATE		0
#define DEFLATE		1
#define STATS		2
#define REPORTING	3
#define QSIZE		128
#define PAGE		4096ULL
#define CONFIG_VECTOR	4
#define GROUP		"virtio-balloon"

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	u64 buf;	/* 64 KiB for PFN lists and statistics */
};

static struct fixture fx;

static int setup(void **state)
{
	struct virtio_balloon_options o = {
		.target_mib = 16, .deflate_on_oom = true, .free_page_reporting = true,
	};

	memset(&fx, 0, sizeof(fx));
	fx.vm = vtd_vm_create();
	if (!fx.vm || !virtio_balloon_create(fx.vm, &o) ||
	    vtd_probe(fx.vm, VIRTIO_ID_BALLOON, &fx.d) || vtd_negotiate(&fx.d, ~0ULL))
		return -1;
	vtd_enable_msix(&fx.d);
	vtd_common_write(&fx.d, VIRTIO_PCI_COMMON_MSIX, CONFIG_VECTOR, 2);
	for (unsigned int q = 0; q < 4; q++)
		if (vtd_setup_queue(&fx.d, q, QSIZE, q))
			return -1;
	vtd_driver_ok(&fx.d);
	fx.buf = vtd_alloc(fx.vm, 64 * KiB, 4096);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vtd_vm_destroy(f->vm);
	return 0;
}

static bool needs_reset(struct fixture *f)
{
	return vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* Guest RAM the host has resident in [gpa, gpa + len), in pages. */
static u64 resident_pages(struct fixture *f, u64 gpa, u64 len)
{
	unsigned char vec[4096];
	u64 n = 0;

	assert_true(len / PAGE <= sizeof(vec));
	assert_int_equal(mincore(vtd_hva(f->vm, gpa), len, vec), 0);
	for (u64 i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

/* The process's resident set, in bytes. */
static u64 rss_bytes(void)
{
	unsigned long size, resident;
	FILE *fp = fopen("/proc/self/statm", "r");

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%lu %lu", &size, &resident), 2);
	fclose(fp);
	return (u64)resident * sysconf(_SC_PAGESIZE);
}

/* Sends n PFNs in one request on queue q and waits for it. */
static void send_pfns(struct fixture *f, unsigned int q, const u32 *pfns, unsigned int n)
{
	struct vtd_buf b = { f->buf, n * 4, false };
	u32 id, len;

	vtd_mem_write(f->vm, f->buf, pfns, n * 4);
	vtd_add_chain(&f->d, q, &b, 1, false);
	vtd_kick(&f->d, q);
	assert_int_equal(vtd_wait_used(&f->d, q, 2000, &id, &len), 0);
}

/* Writes a pattern into every page of [gpa, gpa + len): the host commits them. */
static void touch(struct fixture *f, u64 gpa, u64 len)
{
	for (u64 off = 0; off < len; off += PAGE)
		memset(vtd_hva(f->vm, gpa + off), 0x5a, PAGE);
}

static void test_config_and_features(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 4), 16 * 256);	/* num_pages */
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + 4, 4), 0);		/* actual */
	assert_true(f->d.features & 1ULL << VIRTIO_BALLOON_F_STATS_VQ);
	assert_true(f->d.features & 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	assert_true(f->d.features & 1ULL << VIRTIO_BALLOON_F_REPORTING);
	assert_false(f->d.features & 1ULL << VIRTIO_BALLOON_F_MUST_TELL_HOST);
	assert_false(f->d.features & 1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT);
	assert_false(f->d.features & 1ULL << VIRTIO_BALLOON_F_PAGE_POISON);
}

/* 8 MiB of touched guest RAM, inflated in requests of 256 PFNs, leaves the host. */
static void test_inflate_returns_memory(void **state)
{
	struct fixture *f = *state;
	const u64 len = 8 * MiB;
	u64 gpa = vtd_alloc(f->vm, len, 2 * MiB), rss0, rss1;
	u32 pfns[256];

	touch(f, gpa, len);
	assert_int_equal(resident_pages(f, gpa, len), len / PAGE);
	rss0 = rss_bytes();
	for (u64 done = 0; done < len / PAGE; done += 256) {
		for (unsigned int i = 0; i < 256; i++)
			pfns[i] = (gpa >> 12) + done + i;
		send_pfns(f, INFLATE, pfns, 256);
	}
	rss1 = rss_bytes();
	assert_int_equal(resident_pages(f, gpa, len), 0);
	print_message("inflating 8 MiB: RSS %llu -> %llu KiB\n", (unsigned long long)rss0 >> 10,
		      (unsigned long long)rss1 >> 10);
	assert_true(rss0 - rss1 >= 7 * MiB);
	assert_int_equal(vm_stat(f->vm, GROUP, "inflated_pages"), len / PAGE);
	assert_int_equal(vm_stat(f->vm, GROUP, "discarded_bytes"), len);
	/* A page the guest takes back reads as zeroes. */
	assert_int_equal(*(u8 *)vtd_hva(f->vm, gpa + 5 * PAGE), 0);

	for (unsigned int i = 0; i < 256; i++)
		pfns[i] = (gpa >> 12) + i;
	send_pfns(f, DEFLATE, pfns, 256);
	assert_int_equal(vm_stat(f->vm, GROUP, "deflated_pages"), 256);
	assert_false(needs_reset(f));
}

/* Only the named pages go: every other page of a range. */
static void test_inflate_scattered(void **state)
{
	struct fixture *f = *state;
	u64 gpa = vtd_alloc(f->vm, 64 * PAGE, PAGE);
	unsigned char vec[64];
	u32 pfns[32];

	touch(f, gpa, 64 * PAGE);
	for (unsigned int i = 0; i < 32; i++)
		pfns[i] = (gpa >> 12) + 2 * i;
	send_pfns(f, INFLATE, pfns, 32);
	assert_int_equal(mincore(vtd_hva(f->vm, gpa), 64 * PAGE, vec), 0);
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(vec[i] & 1, i % 2);
	assert_int_equal(*(u8 *)vtd_hva(f->vm, gpa + PAGE), 0x5a);	/* untouched */
}

/* PFNs that are not RAM are skipped and counted; the good one still goes. */
static void test_bad_pfns(void **state)
{
	struct fixture *f = *state;
	u64 gpa = vtd_alloc(f->vm, PAGE, PAGE);
	const u32 pfns[] = {
		VTD_RAM_SIZE >> 12,				/* just past RAM */
		(u32)(LAYOUT_MMIO_HOLE_START >> 12) + 16,	/* the PCI hole */
		0xffffffff,					/* 16 TiB */
		gpa >> 12,
	};

	touch(f, gpa, PAGE);
	send_pfns(f, INFLATE, pfns, ARRAY_SIZE(pfns));
	assert_int_equal(vm_stat(f->vm, GROUP, "bad_pfns"), 3);
	assert_int_equal(vm_stat(f->vm, GROUP, "inflated_pages"), 1);
	assert_int_equal(resident_pages(f, gpa, PAGE), 0);
	assert_false(needs_reset(f));
}

static void malformed_request(struct fixture *f, u32 len, bool write)
{
	struct vtd_buf b = { f->buf, len, write };

	vtd_add_chain(&f->d, INFLATE, &b, 1, false);
	vtd_kick(&f->d, INFLATE);
	assert_true(needs_reset(f));
	assert_int_equal(vtd_used_idx(&f->d, INFLATE), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "inflated_pages"), 0);
}

static void test_huge_pfn_count(void **state)
{
	malformed_request(*state, 4097 * 4, false);
}

static void test_ragged_pfn_list(void **state)
{
	malformed_request(*state, 6, false);
}

static void test_writable_pfn_list(void **state)
{
	malformed_request(*state, 16, true);
}

/* --- statistics and the control API --- */

struct figures {
	u64 target_mib, actual_mib, free_memory, total_memory, major_faults, updates;
	bool has_free, has_unknown;
};

static void grab(void *ctx, const char *group, const char *name, u64 value)
{
	struct figures *g = ctx;

	assert_string_equal(group, "balloon");
	if (!strcmp(name, "target_mib"))
		g->target_mib = value;
	else if (!strcmp(name, "actual_mib"))
		g->actual_mib = value;
	else if (!strcmp(name, "free_memory"))
		g->free_memory = value, g->has_free = true;
	else if (!strcmp(name, "total_memory"))
		g->total_memory = value;
	else if (!strcmp(name, "major_faults"))
		g->major_faults = value;
	else if (!strcmp(name, "stats_updates"))
		g->updates = value;
	else if (strcmp(name, "target_pages") && strcmp(name, "actual_pages"))
		g->has_unknown = true;
}

static struct figures report(struct fixture *f)
{
	struct figures g = { 0 };
	struct stats_visitor v = { .emit = grab, .ctx = &g };

	assert_non_null(f->vm->balloon_ops);
	f->vm->balloon_ops->report(f->vm->balloon, &v);
	return g;
}

/* The driver's statistics buffer: (tag, value) pairs, then kick. */
static u16 give_stats(struct fixture *f, u64 free_mem, u64 faults)
{
	u8 raw[4 * 10];
	const struct { u16 tag; u64 val; } s[4] = {
		{ VIRTIO_BALLOON_S_MEMFREE, free_mem }, { VIRTIO_BALLOON_S_MEMTOT, 512 * MiB },
		{ VIRTIO_BALLOON_S_MAJFLT, faults }, { 99, 1 },		/* a tag from the future */
	};
	struct vtd_buf b = { f->buf + 32 * KiB, sizeof(raw), false };
	u16 head;

	for (int i = 0; i < 4; i++) {
		memcpy(raw + 10 * i, &s[i].tag, 2);
		memcpy(raw + 10 * i + 2, &s[i].val, 8);
	}
	vtd_mem_write(f->vm, b.gpa, raw, sizeof(raw));
	head = vtd_add_chain(&f->d, STATS, &b, 1, false);
	vtd_kick(&f->d, STATS);
	return head;
}

static void test_stats_round_trip(void **state)
{
	struct fixture *f = *state;
	struct figures g;
	u16 head = give_stats(f, 123456789, 7);
	u32 id, len;

	/* The device keeps the buffer until it wants new figures. */
	assert_int_equal(vtd_used_idx(&f->d, STATS), 0);
	g = report(f);
	assert_int_equal(g.target_mib, 16);
	assert_int_equal(g.actual_mib, 0);
	assert_true(g.has_free);
	assert_int_equal(g.free_memory, 123456789);
	assert_int_equal(g.total_memory, 512 * MiB);
	assert_int_equal(g.major_faults, 7);
	assert_int_equal(g.updates, 1);
	assert_false(g.has_unknown);
	/* Reading them asked the guest for new ones: the buffer came back. */
	assert_int_equal(vtd_wait_used(&f->d, STATS, 2000, &id, &len), 0);
	assert_int_equal(id, head);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(STATS)), 1);
	/* A second report before the guest answers asks nothing more. */
	report(f);
	assert_int_equal(vtd_used_idx(&f->d, STATS), 1);
	give_stats(f, 1000, 8);
	g = report(f);
	assert_int_equal(g.free_memory, 1000);
	assert_int_equal(g.major_faults, 8);
	assert_int_equal(g.updates, 2);
}

static void test_writable_stats_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf, 40, true };

	vtd_add_chain(&f->d, STATS, &b, 1, false);
	vtd_kick(&f->d, STATS);
	assert_true(needs_reset(f));
}

static void test_set_target_and_actual(void **state)
{
	struct fixture *f = *state;
	char err[128] = "";
	unsigned int before = vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR));
	u8 gen = vtd_common_read(&f->d, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	struct figures g;

	assert_int_equal(f->vm->balloon_ops->set_target(f->vm->balloon, 32, err, sizeof(err)), 0);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 4), 32 * 256);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR)), before + 1);
	assert_int_not_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen);
	/* The driver reports progress in actual; num_pages is not its to write. */
	vtd_bar_write(&f->d, f->d.device + 4, 20 * 256, 4);
	vtd_bar_write(&f->d, f->d.device, 1, 4);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 4), 32 * 256);
	g = report(f);
	assert_int_equal(g.target_mib, 32);
	assert_int_equal(g.actual_mib, 20);
	/* A reset hands every page back: actual reads 0 again. */
	assert_int_equal(vtd_reset(&f->d), 0);
	assert_int_equal(report(f).actual_mib, 0);
	assert_int_equal(report(f).target_mib, 32);
}

/* Reported free ranges leave the host, whole pages only. */
static void test_free_page_reporting(void **state)
{
	struct fixture *f = *state;
	u64 gpa = vtd_alloc(f->vm, 4 * MiB, 2 * MiB);
	struct vtd_buf b[2] = {
		{ gpa, 2 * MiB, true },
		{ gpa + 2 * MiB + 100, 3 * PAGE, true },	/* unaligned: 2 whole pages */
	};
	u32 id, len;

	touch(f, gpa, 4 * MiB);
	vtd_add_chain(&f->d, REPORTING, b, 2, false);
	vtd_kick(&f->d, REPORTING);
	assert_int_equal(vtd_wait_used(&f->d, REPORTING, 2000, &id, &len), 0);
	assert_int_equal(resident_pages(f, gpa, 2 * MiB), 0);
	assert_int_equal(resident_pages(f, gpa + 2 * MiB, PAGE), 1);	/* partly reported */
	assert_int_equal(resident_pages(f, gpa + 2 * MiB + PAGE, 2 * PAGE), 0);
	assert_int_equal(resident_pages(f, gpa + 2 * MiB + 3 * PAGE, PAGE), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "reported_bytes"), 2 * MiB + 2 * PAGE);
	assert_false(needs_reset(f));
}

/* The held statistics buffer does not hold up a reset. */
static void test_reset_with_stats_held(void **state)
{
	struct fixture *f = *state;

	give_stats(f, 1, 1);
	assert_int_equal(vtd_used_idx(&f->d, STATS), 0);
	assert_int_equal(vtd_reset(&f->d), 0);
}

/* Without STATS_VQ the reporting queue is queue 2 (§5.5.2). */
static void test_queue_numbering_without_stats(void **state)
{
	struct fixture *f = *state;
	u64 gpa = vtd_alloc(f->vm, 2 * MiB, 2 * MiB);
	struct vtd_buf b = { gpa, 2 * MiB, true };
	u32 id, len;

	assert_int_equal(vtd_negotiate(&f->d, ~(1ULL << VIRTIO_BALLOON_F_STATS_VQ)), 0);
	for (unsigned int q = 0; q < 3; q++)
		assert_int_equal(vtd_setup_queue(&f->d, q, QSIZE, q), 0);
	vtd_driver_ok(&f->d);
	touch(f, gpa, 2 * MiB);
	vtd_add_chain(&f->d, 2, &b, 1, false);
	vtd_kick(&f->d, 2);
	assert_int_equal(vtd_wait_used(&f->d, 2, 2000, &id, &len), 0);
	assert_int_equal(resident_pages(f, gpa, 2 * MiB), 0);
}

/* --- --balloon --- */

static int parse(struct vm_config *cfg, const char *a, const char *b, const char *c)
{
	char *argv[8] = { "run", "--kernel", "/proc/self/exe", "--mem", "256M" };
	const char *more[] = { a, b, c };
	int argc = 5;

	for (unsigned int i = 0; i < 3 && more[i]; i++)
		argv[argc++] = (char *)more[i];
	return config_parse_run(cfg, argc, argv);
}

static void test_cli(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, "--balloon", NULL, NULL), 0);
	assert_true(cfg.balloon.enabled);
	assert_int_equal(cfg.balloon.size_mib, 0);
	assert_false(cfg.balloon.deflate_on_oom);
	config_release(&cfg);
	/* The value is optional: a following flag is not taken for it. */
	assert_int_equal(parse(&cfg, "--balloon", "--rng", NULL), 0);
	assert_true(cfg.balloon.enabled && cfg.rng);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon", "size=64,deflate-on-oom,free-page-reporting",
			       NULL), 0);
	assert_int_equal(cfg.balloon.size_mib, 64);
	assert_true(cfg.balloon.deflate_on_oom && cfg.balloon.free_page_reporting);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon=size=128M", NULL, NULL), 0);
	assert_int_equal(cfg.balloon.size_mib, 128);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon", "size=257", NULL), -1);	/* > --mem */
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon", "size=1K", NULL), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon", "inflate", NULL), -1);
	config_release(&cfg);
	assert_int_equal(parse(&cfg, "--balloon", "--balloon", NULL), -1);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflate_returns_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflate_scattered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pfns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_pfn_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ragged_pfn_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_pfn_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_stats_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_target_and_actual, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_page_reporting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_stats_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_numbering_without_stats, setup, teardown),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

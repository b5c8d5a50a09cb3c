/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hand-made struct vm for the boot loader and ACPI tests: the machine's
 * skeleton with guest RAM laid out as the machine does, a vm_config, and a
 * temporary directory for the synthetic kernel, initrd and other files.
 */
#ifndef KILN_TESTS_TEST_BOOT_VM_H
#define KILN_TESTS_TEST_BOOT_VM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cpu_state.h"
#include "lib/log.h"
#include "machine/boot/boot.h"
#include "machine/boot/boot_params.h"
#include "machine/boot/entry_state.h"
#include "machine/layout.h"
#include "machine/memmap.h"
#include "machine/vm.h"

struct test_vm {
	struct vm vm;
	struct vm_config cfg;
	char dir[64];
	char paths[8][128];
	unsigned int nr_paths;
	struct cpu_state st;
};

static inline int test_vm_init(struct test_vm *t, u64 ram_size)
{
	memset(t, 0, sizeof(*t));
	t->cfg.mem_size = ram_size;
	t->cfg.nr_cpus = 1;
	if (vm_skeleton_init(&t->vm, &t->cfg) || vm_skeleton_add_ram(&t->vm))
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/kiln-test-boot-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	if (getenv("KILN_TEST_VERBOSE"))
		log_threshold = LOG_DEBUG;
	return 0;
}

/* Writes a file in the test directory; returns its path (owned by t). */
static inline const char *test_vm_file(struct test_vm *t, const char *name,
				       const void *data, size_t len)
{
	char want[sizeof(t->paths[0])];
	char *path = NULL;
	FILE *f;

	snprintf(want, sizeof(want), "%s/%s", t->dir, name);
	for (unsigned int i = 0; i < t->nr_paths && !path; i++)
		if (!strcmp(t->paths[i], want))
			path = t->paths[i];
	if (!path) {
		if (t->nr_paths == 8)
			return NULL;
		path = t->paths[t->nr_paths++];
		memcpy(path, want, sizeof(want));
	}
	f = fopen(path, "wb");
	if (!f)
		return NULL;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	return path;
}

static inline void test_vm_destroy(struct test_vm *t)
{
	for (unsigned int i = 0; i < t->nr_paths; i++)
		unlink(t->paths[i]);
	rmdir(t->dir);
	vm_skeleton_release(&t->vm);
}

/* Writes kernel as the VM's --kernel and runs the boot loader. */
static inline int test_boot(struct test_vm *t, const void *kernel, size_t len)
{
	t->cfg.kernel_path = test_vm_file(t, "kernel", kernel, len);
	memset(&t->st, 0, sizeof(t->st));
	return boot_load(&t->vm, &t->st);
}

/* A cmocka setup: a heap test_vm with ram_size of RAM and --cmdline cmdline. */
static inline int test_vm_setup(void **state, u64 ram_size, const char *cmdline)
{
	struct test_vm *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	if (test_vm_init(t, ram_size)) {
		test_vm_destroy(t);
		free(t);
		return -1;
	}
	t->cfg.cmdline = cmdline;
	*state = t;
	return 0;
}

static inline int test_vm_teardown(void **state)
{
	test_vm_destroy(*state);
	free(*state);
	return 0;
}

static inline void *test_gpa(struct test_vm *t, u64 gpa, u64 len)
{
	return gpa_to_hva(&t->vm.mem, gpa, len);
}

/* Every byte of guest [gpa, gpa + len) is zero: a bss the loader cleared. */
static inline void test_check_zeroed(struct test_vm *t, u64 gpa, u64 len)
{
	const u8 *p = test_gpa(t, gpa, len);

	assert_non_null(p);
	for (u64 i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
}

/* Walks the guest's 4-level page tables from cr3; -1 when va is unmapped. */
static inline int test_walk(struct test_vm *t, u64 cr3, u64 va, u64 *pa)
{
	u64 table = cr3 & ~0xfffULL;

	for (int level = 3; level >= 0; level--) {
		unsigned int shift = 12 + 9 * level;
		u64 e;

		if (guest_read(&t->vm.mem, table + ((va >> shift) & 511) * 8, &e, 8))
			return -1;
		if (!(e & 1))
			return -1;
		if (level == 0 || (level <= 2 && (e & 0x80))) {
			u64 mask = (1ULL << shift) - 1;

			*pa = (e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
			return 0;
		}
		table = e & 0x000ffffffffff000ULL;
	}
	return -1;
}

/*
 * Linux's 64-bit entry state: long mode with __BOOT_CS/__BOOT_DS from the
 * GDT in guest memory, RSI = boot_params, 0..4 GiB identity-mapped.
 */
static inline void test_check_long_mode(struct test_vm *t, u64 rip)
{
	const struct cpu_state *st = &t->st;
	static const u64 probes[] = {
		0, 0x1000, 0x100000, 0x1000000, 0x3fffffff, 0x40000000, 0xbfffffff,
		LAYOUT_IOAPIC_BASE, LAYOUT_LAPIC_BASE, 0xffffffff,
	};
	u64 gdt[BOOT_GDT_SIZE / 8], pa;
	struct segment seg;

	assert_int_equal(st->rip, rip);
	assert_int_equal(st->gpr[GPR_RSI], LAYOUT_BOOT_PARAMS);
	assert_int_equal(st->rflags, RFLAGS_FIXED);
	assert_true(st->cr0 & CR0_PE);
	assert_true(st->cr0 & CR0_PG);
	assert_true(st->cr4 & CR4_PAE);
	assert_int_equal(st->efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);

	assert_int_equal(st->cs.selector, 0x10);
	assert_int_equal(st->cs.l, 1);
	assert_int_equal(st->cs.db, 0);
	assert_int_equal(st->cs.present, 1);
	assert_int_equal(st->cs.s, 1);
	assert_int_equal(st->cs.dpl, 0);
	assert_int_equal(st->cs.type & 0x8, 0x8);	/* code */
	assert_int_equal(st->cs.limit, 0xffffffff);
	assert_int_equal(st->ds.selector, 0x18);
	assert_int_equal(st->ss.selector, 0x18);
	assert_int_equal(st->es.selector, 0x18);
	assert_int_equal(st->ds.type & 0xa, 0x2);	/* data, writable */
	assert_int_equal(st->ds.present, 1);
	assert_int_equal(st->ds.limit, 0xffffffff);
	assert_int_equal(st->tr.type, 0xb);		/* busy TSS */
	assert_int_equal(st->tr.present, 1);
	assert_int_equal(st->tr.s, 0);

	/* The hidden parts match what the GDT in guest memory says. */
	assert_int_equal(st->gdt.base, LAYOUT_GDT);
	assert_int_equal(st->gdt.limit, BOOT_GDT_SIZE - 1);
	assert_int_equal(guest_read(&t->vm.mem, LAYOUT_GDT, gdt, sizeof(gdt)), 0);
	seg = segment_from_descriptor(gdt[0x10 / 8], 0x10);
	assert_memory_equal(&seg, &st->cs, sizeof(seg));
	seg = segment_from_descriptor(gdt[0x18 / 8], 0x18);
	assert_memory_equal(&seg, &st->ds, sizeof(seg));

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_int_equal(test_walk(t, st->cr3, probes[i], &pa), 0);
		assert_int_equal(pa, probes[i]);
	}
}

/* What every Linux-style boot_params holds, whatever the kernel format. */
static inline void test_check_boot_params(struct test_vm *t, const struct boot_params *bp,
					  const char *cmdline)
{
	const char *guest_cmdline;

	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & LOADFLAG_CAN_USE_HEAP);
	assert_true(bp->hdr.loadflags & LOADFLAG_LOADED_HIGH);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	guest_cmdline = test_gpa(t, bp->hdr.cmd_line_ptr, strlen(cmdline) + 1);
	assert_non_null(guest_cmdline);
	assert_string_equal(guest_cmdline, cmdline);

	assert_int_equal(bp->e820_entries, t->vm.memmap.nr_e820);
	for (unsigned int i = 0; i < t->vm.memmap.nr_e820; i++) {
		assert_int_equal(bp->e820_table[i].addr, t->vm.memmap.e820[i].addr);
		assert_int_equal(bp->e820_table[i].size, t->vm.memmap.e820[i].size);
		assert_int_equal(bp->e820_table[i].type, t->vm.memmap.e820[i].type);
	}
	assert_int_equal(bp->sentinel, 0);
}

/* Hides the loader's expected error messages during long loops. */
static inline void test_quiet(bool quiet)
{
	static int saved = -1;

	fflush(stderr);
	if (quiet && saved < 0) {
		int null = open("/dev/null", O_WRONLY);

		saved = dup(2);
		dup2(null, 2);
		close(null);
	} else if (!quiet && saved >= 0) {
		dup2(saved, 2);
		close(saved);
		saved = -1;
	}
}

#endif

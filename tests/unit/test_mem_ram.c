// SPDX-License-Identifier: Apache-2.0
/*
 * The guest RAM allocator: mappings are aligned for huge pages, lazy
 * unless asked (nothing resident until touched), pre-allocated when asked,
 * marked mergeable for KSM and huge for THP (as the kernel's smaps shows
 * the mapping's flags), and a pre-allocation bigger than the host refuses
 * cleanly; guest RAM is not inherited by fork() and stays a mapping of its
 * own. Also the resident-bytes count the stats use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/ram.h"

#define RAM (64 * MiB)

/* The "VmFlags:" line of the smaps entry that starts at p, or "". */
static void vm_flags(const void *p, char *out, size_t len)
{
	char line[512];
	bool in_entry = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in_entry = lo == (unsigned long)p;
		else if (in_entry && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
	char copy[512], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", flags);
	for (char *tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

static void lazy_and_aligned(void **state)
{
	struct ram_options opts = { .backing = RAM_BACKING_ANON };
	u8 *ram = ram_create(RAM, &opts);
	u64 resident = ~0ULL;

	(void)state;
	assert_non_null(ram);
	assert_int_equal((uintptr_t)ram % (2 * MiB), 0);
	assert_int_equal(ram_resident_bytes(ram, RAM, &resident), 0);
	assert_int_equal(resident, 0);
	/* Exactly the touched pages, whatever the host's THP default. */
	assert_int_equal(madvise(ram, RAM, MADV_NOHUGEPAGE), 0);
	for (int i = 0; i < 10; i++)
		ram[i * 3 * RAM_PAGE_SIZE + 5] = 1;
	ram[RAM - 1] = 1;
	assert_int_equal(ram_resident_bytes(ram, RAM, &resident), 0);
	assert_int_equal(resident, 11 * RAM_PAGE_SIZE);
	ram_free(ram, RAM);

	/* ram_alloc() is the same lazy mapping. */
	ram = ram_alloc(RAM);
	assert_non_null(ram);
	assert_int_equal((uintptr_t)ram % (2 * MiB), 0);
	assert_int_equal(ram_resident_bytes(ram, RAM, &resident), 0);
	assert_int_equal(resident, 0);
	ram_free(ram, RAM);
}

static void prealloc_commits_everything(void **state)
{
	struct ram_options opts = { .backing = RAM_BACKING_ANON, .prealloc = true };
	u8 *ram = ram_create(RAM, &opts);
	u64 resident = 0;

	(void)state;
	assert_non_null(ram);
	assert_int_equal(ram_resident_bytes(ram, RAM, &resident), 0);
	assert_int_equal(resident, RAM);
	ram_free(ram, RAM);
}

static void prealloc_beyond_the_host_refused(void **state)
{
	struct ram_options opts = { .backing = RAM_BACKING_ANON, .prealloc = true };

	(void)state;
	/* 1 TiB: more than this host has; refused before touching anything. */
	assert_null(ram_create(TiB, &opts));
}

static void ksm_and_thp_mark_the_mapping(void **state)
{
	struct ram_options opts = { .backing = RAM_BACKING_THP, .ksm = true };
	u8 *ram = ram_create(RAM, &opts);
	char flags[512];

	(void)state;
	assert_non_null(ram);
	vm_flags(ram, flags, sizeof(flags));
	print_message("# VmFlags of guest RAM (thp, ksm):%s", flags);
	assert_true(has_flag(flags, "hg"));	/* MADV_HUGEPAGE */
	assert_true(has_flag(flags, "mg"));	/* MADV_MERGEABLE */
	ram_free(ram, RAM);

	opts = (struct ram_options){ .backing = RAM_BACKING_ANON };
	ram = ram_create(RAM, &opts);
	assert_non_null(ram);
	vm_flags(ram, flags, sizeof(flags));
	assert_true(flags[0]);
	assert_false(has_flag(flags, "hg"));
	assert_false(has_flag(flags, "mg"));
	ram_free(ram, RAM);
}

/* The size of the smaps entry that starts at p, or 0. */
static unsigned long mapping_size(const void *p)
{
	char line[512];
	unsigned long lo, hi, size = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && lo == (unsigned long)p)
			size = hi - lo;
	fclose(f);
	return size;
}

static void guest_ram_stays_its_own_mapping(void **state)
{
	u8 *ram = ram_alloc(RAM);
	char flags[512];
	void *next;

	(void)state;
	assert_non_null(ram);
	vm_flags(ram, flags, sizeof(flags));
	assert_true(has_flag(flags, "dc"));	/* MADV_DONTFORK */
	/* An anonymous neighbour with the same protection does not merge with it. */
	next = mmap(ram + RAM, 2 * MiB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	assert_true(next == ram + RAM);
	assert_int_equal(mapping_size(ram), RAM);
	munmap(next, 2 * MiB);
	ram_free(ram, RAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lazy_and_aligned),
		cmocka_unit_test(prealloc_commits_everything),
		cmocka_unit_test(prealloc_beyond_the_host_refused),
		cmocka_unit_test(ksm_and_thp_mark_the_mapping),
		cmocka_unit_test(guest_ram_stays_its_own_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

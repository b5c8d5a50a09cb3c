// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "machine/layout.h"
#include "machine/memmap.h"
#include "mem/guest_mem.h"
#include "mem/ram.h"

#define TEST_RAM (4ULL * GiB)	/* straddles the PCI hole: two regions */

struct fixture {
	struct guest_mem mem;
	struct memmap map;
	u8 *ram;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.ram = ram_alloc(TEST_RAM);
	if (!f.ram || memmap_build(&f.map, &f.mem, f.ram, TEST_RAM))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ram_free(f->ram, TEST_RAM);
	return 0;
}

static void regions_split_around_hole(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->mem.nr_regions, 2);
	assert_int_equal(f->mem.regions[0].gpa, 0);
	assert_int_equal(f->mem.regions[0].size, LAYOUT_MMIO_HOLE_START);
	assert_int_equal(f->mem.regions[1].gpa, LAYOUT_MMIO_HOLE_END);
	assert_int_equal(f->mem.regions[1].size, TEST_RAM - LAYOUT_MMIO_HOLE_START);
	assert_int_equal(f->mem.ram_size, TEST_RAM);
}

static void last_byte_of_each_region(void **state)
{
	struct fixture *f = *state;
	u64 low_end = LAYOUT_MMIO_HOLE_START;
	u64 high_end = LAYOUT_MMIO_HOLE_END + TEST_RAM - LAYOUT_MMIO_HOLE_START;

	assert_ptr_equal(gpa_to_hva(&f->mem, low_end - 1, 1), f->ram + low_end - 1);
	assert_null(gpa_to_hva(&f->mem, low_end - 1, 2));
	assert_null(gpa_to_hva(&f->mem, low_end, 1));
	assert_ptr_equal(gpa_to_hva(&f->mem, high_end - 1, 1), f->ram + TEST_RAM - 1);
	assert_null(gpa_to_hva(&f->mem, high_end - 1, 2));
	assert_null(gpa_to_hva(&f->mem, high_end, 1));
}

static void range_straddling_hole_is_refused(void **state)
{
	struct fixture *f = *state;
	u8 buf[16] = { 0 };

	assert_null(gpa_to_hva(&f->mem, LAYOUT_MMIO_HOLE_START - 8, 16));
	assert_int_equal(guest_read(&f->mem, LAYOUT_MMIO_HOLE_START - 8, buf, 16), -1);
	assert_int_equal(guest_write(&f->mem, LAYOUT_MMIO_HOLE_END - 8, buf, 16), -1);
	/* The whole hole, from below to above, is not RAM either. */
	assert_null(gpa_to_hva(&f->mem, 0, LAYOUT_MMIO_HOLE_END + 1));
}

static void wraparound_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_null(gpa_to_hva(&f->mem, ~0ULL, 2));
	assert_null(gpa_to_hva(&f->mem, ~0ULL - 7, 16));
	assert_null(gpa_to_hva(&f->mem, 0x1000, ~0ULL));
	assert_null(gpa_to_hva(&f->mem, 0x1000, ~0ULL - 0xfff + 1));
	assert_null(gpa_to_hva(&f->mem, LAYOUT_MMIO_HOLE_END, ~0ULL - LAYOUT_MMIO_HOLE_END + 2));
}

static void zero_length(void **state)
{
	struct fixture *f = *state;

	assert_non_null(gpa_to_hva(&f->mem, 0, 0));
	assert_non_null(gpa_to_hva(&f->mem, LAYOUT_MMIO_HOLE_START, 0));
	assert_null(gpa_to_hva(&f->mem, LAYOUT_MMIO_HOLE_START + 0x1000, 0));
	assert_null(gpa_to_hva(&f->mem, ~0ULL, 0));
}

static void read_write_round_trip(void **state)
{
	struct fixture *f = *state;
	const char msg[] = "kiln";
	char back[sizeof(msg)];

	assert_int_equal(guest_write(&f->mem, LAYOUT_MMIO_HOLE_END + 100, msg, sizeof(msg)), 0);
	assert_int_equal(guest_read(&f->mem, LAYOUT_MMIO_HOLE_END + 100, back, sizeof(back)), 0);
	assert_string_equal(back, msg);
	assert_memory_equal(f->ram + LAYOUT_MMIO_HOLE_START + 100, msg, sizeof(msg));
}

static void overlapping_region_is_refused(void **state)
{
	struct guest_mem mem = { 0 };
	static u8 backing[8192];

	(void)state;
	assert_int_equal(guest_mem_add_region(&mem, 0x1000, 0x1000, backing), 0);
	assert_int_equal(guest_mem_add_region(&mem, 0x1800, 0x1000, backing), -1);
	assert_int_equal(guest_mem_add_region(&mem, 0x0, 0x1001, backing), -1);
	assert_int_equal(guest_mem_add_region(&mem, ~0ULL - 0xff, 0x1000, backing), -1);
	assert_int_equal(guest_mem_add_region(&mem, 0x2000, 0, backing), -1);
	assert_int_equal(guest_mem_add_region(&mem, 0x2000, 0x1000, backing + 4096), 0);
}

static void e820_describes_pc_layout(void **state)
{
	struct fixture *f = *state;
	const struct e820_entry *e = f->map.e820;

	assert_int_equal(f->map.nr_e820, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[1].addr + e[1].size, 0x100000);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].addr + e[2].size, LAYOUT_MMIO_HOLE_START);
	assert_int_equal(e[2].type, E820_RAM);
	assert_int_equal(e[3].addr, 4 * GiB);
	assert_int_equal(e[3].size, TEST_RAM - LAYOUT_MMIO_HOLE_START);
}

static void small_guest_has_no_high_region(void **state)
{
	struct guest_mem mem = { 0 };
	struct memmap map;
	u8 *ram = ram_alloc(64 * MiB);

	(void)state;
	assert_non_null(ram);
	assert_int_equal(memmap_build(&map, &mem, ram, 64 * MiB), 0);
	assert_int_equal(mem.nr_regions, 1);
	assert_int_equal(map.nr_e820, 3);
	assert_int_equal(map.e820[2].addr + map.e820[2].size, 64 * MiB);
	assert_int_equal(memmap_build(&map, &mem, ram, 1 * MiB), -1);
	ram_free(ram, 64 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(regions_split_around_hole),
		cmocka_unit_test(last_byte_of_each_region),
		cmocka_unit_test(range_straddling_hole_is_refused),
		cmocka_unit_test(wraparound_is_refused),
		cmocka_unit_test(zero_length),
		cmocka_unit_test(read_write_round_trip),
		cmocka_unit_test(overlapping_region_is_refused),
		cmocka_unit_test(e820_describes_pc_layout),
		cmocka_unit_test(small_guest_has_no_high_region),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

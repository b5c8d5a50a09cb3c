// SPDX-License-Identifier: Apache-2.0
#include "machine/memmap.h"

#include "machine/layout.h"

static void e820_add(struct memmap *map, u64 addr, u64 size, u32 type)
{
	if (size == 0 || map->nr_e820 >= E820_MAX_ENTRIES)
		return;
	map->e820[map->nr_e820++] = (struct e820_entry){
		.addr = addr, .size = size, .type = type,
	};
}

int memmap_build(struct memmap *map, struct guest_mem *mem, u8 *hva, u64 ram_size)
{
	u64 low = MIN(ram_size, LAYOUT_MMIO_HOLE_START);
	u64 high = ram_size - low;

	map->nr_e820 = 0;
	if (ram_size < 2 * MiB || ram_size > LAYOUT_MAX_RAM)
		return -1;

	/*
	 * Low RAM is one host-backed region from 0, the legacy hole included,
	 * so that the RSDP and option-ROM area exist as memory; e820 is what
	 * tells the guest which parts it may use.
	 */
	if (guest_mem_add_region(mem, 0, low, hva))
		return -1;
	if (high && guest_mem_add_region(mem, LAYOUT_MMIO_HOLE_END, high, hva + low))
		return -1;

	e820_add(map, 0, LAYOUT_LOW_RAM_END, E820_RAM);
	e820_add(map, LAYOUT_EBDA_START, LAYOUT_HIGH_RAM_START - LAYOUT_EBDA_START,
		 E820_RESERVED);
	e820_add(map, LAYOUT_HIGH_RAM_START, low - LAYOUT_HIGH_RAM_START, E820_RAM);
	e820_add(map, LAYOUT_MMIO_HOLE_END, high, E820_RAM);
	return 0;
}

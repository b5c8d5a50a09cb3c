/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_MEMMAP_H
#define KILN_MACHINE_MEMMAP_H

#include "lib/types.h"
#include "mem/guest_mem.h"

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
};

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));

#define E820_MAX_ENTRIES 8

struct memmap {
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int nr_e820;
};

/*
 * Lays out ram_size bytes of guest RAM: below the PCI hole from 0, and the
 * rest from 4 GiB. Registers the regions in mem against the mapping at hva
 * (ram_size bytes) and builds the e820 table the guest sees.
 */
int memmap_build(struct memmap *map, struct guest_mem *mem, u8 *hva, u64 ram_size);

#endif

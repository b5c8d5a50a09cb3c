// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/placement.h"

#include "machine/layout.h"
#include "machine/vm.h"

_Static_assert(BOOT_LOW_LOAD_START == 0x8000 && LAYOUT_LOW_RAM_END == 0x9fc00 &&
	       LAYOUT_CMDLINE == 0x20000 && LAYOUT_CMDLINE_MAX == 0x10000,
	       "BOOT_USABLE_LOW_TOO names these ranges");

u64 boot_low_ram_end(const struct vm *vm)
{
	const struct mem_region *r = guest_mem_find(&vm->mem, LAYOUT_HIGH_RAM_START);

	return r ? r->gpa + r->size : 0;
}

/* [addr, addr + len) lies in one e820 RAM entry and is backed by guest RAM. */
static bool in_e820_ram(const struct vm *vm, u64 addr, u64 len)
{
	for (unsigned int i = 0; i < vm->memmap.nr_e820; i++) {
		const struct e820_entry *e = &vm->memmap.e820[i];

		if (e->type == E820_RAM && addr >= e->addr &&
		    addr + len <= e->addr + e->size)
			return gpa_range_is_ram(&vm->mem, addr, len);
	}
	return false;
}

bool boot_range_usable(const struct vm *vm, u64 addr, u64 len)
{
	if (addr < LAYOUT_HIGH_RAM_START || addr + len < addr)
		return false;
	return in_e820_ram(vm, addr, len);
}

bool boot_low_range_usable(const struct vm *vm, u64 addr, u64 len)
{
	u64 end = addr + len;

	if (addr < BOOT_LOW_LOAD_START || end < addr || end > LAYOUT_LOW_RAM_END)
		return false;
	if (addr < LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX && end > LAYOUT_CMDLINE)
		return false;
	return in_e820_ram(vm, addr, len);
}

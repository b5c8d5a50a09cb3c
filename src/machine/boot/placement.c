// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/placement.h"

#include "machine/layout.h"
#include "machine/vm.h"

u64 boot_low_ram_end(const struct vm *vm)
{
	const struct mem_region *r = guest_mem_find(&vm->mem, LAYOUT_HIGH_RAM_START);

	return r ? r->gpa + r->size : 0;
}

bool boot_range_usable(const struct vm *vm, u64 addr, u64 len)
{
	if (addr < LAYOUT_HIGH_RAM_START || addr + len < addr)
		return false;
	for (unsigned int i = 0; i < vm->memmap.nr_e820; i++) {
		const struct e820_entry *e = &vm->memmap.e820[i];

		if (e->type == E820_RAM && addr >= e->addr &&
		    addr + len <= e->addr + e->size)
			return gpa_range_is_ram(&vm->mem, addr, len);
	}
	return false;
}

// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/boot_params.h"

#include "lib/log.h"
#include "machine/boot/cmdline.h"
#include "machine/boot/entry_state.h"
#include "machine/acpi/acpi.h"
#include "machine/boot/placement.h"
#include "machine/layout.h"
#include "machine/vm.h"

/*
 * The setup code's stack and heap end, relative to the start of the
 * real-mode code, as boot.rst advises for a 64 KiB setup segment. Only
 * the real-mode entry uses it; set for kernels that look anyway.
 */
#define BOOT_HEAP_END	0xfe00

void boot_params_fill(struct boot_params *bp, const struct vm *vm,
		      const struct initrd_info *initrd)
{
	struct setup_header *hdr = &bp->hdr;
	u64 high_kib;

	hdr->type_of_loader = BOOT_LOADER_UNDEFINED;
	hdr->loadflags |= LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
	hdr->loadflags &= ~LOADFLAG_KEEP_SEGMENTS;
	hdr->heap_end_ptr = BOOT_HEAP_END;
	hdr->cmd_line_ptr = (u32)LAYOUT_CMDLINE;
	bp->ext_cmd_line_ptr = (u32)(LAYOUT_CMDLINE >> 32);
	if (initrd->present) {
		hdr->ramdisk_image = (u32)initrd->addr;
		hdr->ramdisk_size = (u32)initrd->size;
		bp->ext_ramdisk_image = (u32)(initrd->addr >> 32);
		bp->ext_ramdisk_size = (u32)(initrd->size >> 32);
	}
	/* Before 2.14 the field is padding the kernel expects zero. */
	if (hdr->version >= BOOT_PROTOCOL_RSDP)
		bp->acpi_rsdp_addr = acpi_rsdp_addr();

	high_kib = (boot_low_ram_end(vm) - LAYOUT_HIGH_RAM_START) >> 10;
	bp->alt_mem_k = (u32)MIN(high_kib, (u64)UINT32_MAX);

	bp->e820_entries = (u8)MIN(vm->memmap.nr_e820, BOOT_E820_MAX);
	for (unsigned int i = 0; i < bp->e820_entries; i++) {
		const struct e820_entry *e = &vm->memmap.e820[i];

		bp->e820_table[i] = (struct boot_e820_entry){
			.addr = e->addr, .size = e->size, .type = e->type,
		};
	}
}

int boot_params_write(const struct vm *vm, const struct boot_params *bp)
{
	if (guest_write(&vm->mem, LAYOUT_BOOT_PARAMS, bp, sizeof(*bp))) {
		pr_err("boot: no guest RAM for boot_params at %#llx", LAYOUT_BOOT_PARAMS);
		return -1;
	}
	return 0;
}

int boot_linux64(struct vm *vm, struct boot_params *bp, u64 kernel_end,
		 u64 initrd_end, u64 rip, struct cpu_state *bsp)
{
	struct initrd_info initrd;

	if (boot_cmdline_write(vm, NULL, bp->hdr.cmdline_size))
		return -1;
	if (initrd_load(vm, kernel_end, initrd_end, true, &initrd))
		return -1;
	boot_params_fill(bp, vm, &initrd);
	if (boot_params_write(vm, bp))
		return -1;
	return entry_setup_long_mode(&vm->mem, bsp, rip, LAYOUT_BOOT_PARAMS);
}

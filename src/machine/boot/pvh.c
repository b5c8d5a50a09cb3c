// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/pvh.h"

#include <inttypes.h>

#include "lib/log.h"
#include "machine/acpi/acpi.h"
#include "machine/boot/cmdline.h"
#include "machine/boot/elf.h"
#include "machine/boot/entry_state.h"
#include "machine/boot/initrd.h"
#include "machine/boot/placement.h"
#include "machine/layout.h"
#include "machine/vm.h"

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry layout");
_Static_assert(PVH_MODLIST >= PVH_START_INFO + sizeof(struct hvm_start_info), "layout");
_Static_assert(PVH_MEMMAP >= PVH_MODLIST + sizeof(struct hvm_modlist_entry), "layout");
_Static_assert(PVH_MEMMAP + E820_MAX_ENTRIES * sizeof(struct hvm_memmap_table_entry) <=
	       LAYOUT_BOOT_PARAMS + 0x1000, "layout");

static int write_start_info(struct vm *vm, const struct initrd_info *initrd)
{
	struct hvm_memmap_table_entry map[E820_MAX_ENTRIES];
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = LAYOUT_CMDLINE,
		.rsdp_paddr = acpi_rsdp_addr(),
		.memmap_paddr = PVH_MEMMAP,
		.memmap_entries = vm->memmap.nr_e820,
	};
	struct hvm_modlist_entry mod = {
		.paddr = initrd->addr,
		.size = initrd->size,
	};

	for (unsigned int i = 0; i < vm->memmap.nr_e820; i++)
		map[i] = (struct hvm_memmap_table_entry){
			.addr = vm->memmap.e820[i].addr,
			.size = vm->memmap.e820[i].size,
			.type = vm->memmap.e820[i].type,
		};
	if (initrd->present) {
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST;
	}
	if (guest_write(&vm->mem, PVH_START_INFO, &si, sizeof(si)) ||
	    guest_write(&vm->mem, PVH_MODLIST, &mod, sizeof(mod)) ||
	    guest_write(&vm->mem, PVH_MEMMAP, map, vm->memmap.nr_e820 * sizeof(map[0]))) {
		pr_err("boot: no guest RAM for the PVH start info at %#llx", PVH_START_INFO);
		return -1;
	}
	return 0;
}

int pvh_load(struct vm *vm, const struct elf_file *elf, const u8 *desc, u32 desc_len,
	     struct cpu_state *bsp)
{
	struct initrd_info initrd;
	u64 entry, end;

	/* The note holds a 32-bit address, stored in a pointer-sized field. */
	if (desc_len < 4) {
		pr_err("kernel %s: PVH entry note is %u bytes, too short",
		       elf->img->path, desc_len);
		return -1;
	}
	entry = desc_len >= 8 ? get_le64(desc) : get_le32(desc);
	if (entry > UINT32_MAX) {
		pr_err("kernel %s: PVH entry %#" PRIx64 " is above 4 GiB", elf->img->path, entry);
		return -1;
	}
	if (elf_load_segments(vm, elf, false, &end))
		return -1;
	if (boot_cmdline_write(vm, NULL, LAYOUT_CMDLINE_MAX - 1))
		return -1;
	if (initrd_load(vm, end, boot_low_ram_end(vm), true, &initrd))
		return -1;
	if (write_start_info(vm, &initrd))
		return -1;
	if (entry_setup_protected_mode(&vm->mem, bsp, (u32)entry))
		return -1;
	bsp->gpr[GPR_RBX] = PVH_START_INFO;
	pr_debug("PVH kernel, entry %#" PRIx64, entry);
	return 0;
}

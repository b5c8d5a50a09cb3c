/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_PVH_H
#define KILN_MACHINE_BOOT_PVH_H

#include "engine/cpu_state.h"
#include "lib/types.h"

struct vm;
struct elf_file;

/*
 * The PVH boot ABI (Xen's arch-x86/hvm/start_info.h): a 32-bit entry with
 * EBX pointing at hvm_start_info. Layouts written from the public ABI.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578
#define HVM_START_VERSION		1	/* has the memory map */

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	u64 memmap_paddr;
	u32 memmap_entries;
	u32 reserved;
};

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
};

struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
};

/* Where Kiln puts them, in the boot_params page the PVH path does not use. */
#define PVH_START_INFO	LAYOUT_BOOT_PARAMS
#define PVH_MODLIST	(PVH_START_INFO + 0x40)
#define PVH_MEMMAP	(PVH_START_INFO + 0x80)

/* Loads an ELF whose PHYS32_ENTRY note gave desc; enters it the PVH way. */
int pvh_load(struct vm *vm, const struct elf_file *elf, const u8 *desc, u32 desc_len,
	     struct cpu_state *bsp);

#endif

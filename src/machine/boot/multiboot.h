/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_MULTIBOOT_H
#define KILN_MACHINE_BOOT_MULTIBOOT_H

#include "lib/types.h"
#include "machine/layout.h"

/* Multiboot v1 (the Multiboot Specification 0.6.96), as kvm-unit-tests use it. */
#define MB_HEADER_MAGIC		0x1badb002
#define MB_BOOT_MAGIC		0x2badb002	/* in EAX at the entry */
#define MB_SEARCH_LIMIT		8192	/* the header lies in the first 8 KiB */

/* Header flags: bits 0-15 are requirements a loader must meet or refuse. */
#define MB_HF_PAGE_ALIGN	(1U << 0)
#define MB_HF_MEMORY_INFO	(1U << 1)
#define MB_HF_VIDEO_MODE	(1U << 2)
#define MB_HF_AOUT_KLUDGE	(1U << 16)
#define MB_HF_REQUIRED_MASK	0xffffU

struct mb_header {
	u32 magic;
	u32 flags;
	u32 checksum;
	/* With MB_HF_AOUT_KLUDGE: */
	u32 header_addr;
	u32 load_addr;
	u32 load_end_addr;
	u32 bss_end_addr;
	u32 entry_addr;
};

/* Info flags: which fields of mb_info are valid. */
#define MB_INFO_MEMORY		(1U << 0)
#define MB_INFO_CMDLINE		(1U << 2)
#define MB_INFO_MODS		(1U << 3)
#define MB_INFO_MEM_MAP		(1U << 6)
#define MB_INFO_LOADER_NAME	(1U << 9)

struct mb_info {
	u32 flags;
	u32 mem_lower;		/* KiB from 0 */
	u32 mem_upper;		/* KiB from 1 MiB to the first hole */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length;
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe_control_info;
	u32 vbe_mode_info;
	u16 vbe_mode;
	u16 vbe_interface_seg;
	u16 vbe_interface_off;
	u16 vbe_interface_len;
} __attribute__((packed));

struct mb_module {
	u32 mod_start;
	u32 mod_end;
	u32 string;
	u32 reserved;
};

struct mb_mmap_entry {
	u32 size;		/* of the rest of the entry: 20 */
	u64 addr;
	u64 len;
	u32 type;
} __attribute__((packed));

/* Kiln's placement of the info, in the page boot_params uses otherwise. */
#define MB_INFO_ADDR		LAYOUT_BOOT_PARAMS
#define MB_MODS_ADDR		(MB_INFO_ADDR + 0x80)
#define MB_MMAP_ADDR		(MB_INFO_ADDR + 0xc0)
#define MB_LOADER_NAME_ADDR	(MB_INFO_ADDR + 0x200)
#define MB_MOD_STRING_ADDR	(MB_INFO_ADDR + 0x210)
#define MB_MOD_STRING_MAX	(0x1000 - 0x210)

/*
 * The legacy state a BIOS leaves (multiboot_bios.c): the real-mode IVT at
 * 0, and in the page below the info, the entry stub that programs the PIC
 * and the PIT, then the IVT's handlers.
 */
#define MB_IVT_ADDR		0x0000
#define MB_BIOS_ADDR		(MB_INFO_ADDR - 0x1000)
#define MB_BIOS_HANDLERS	(MB_BIOS_ADDR + 0x100)
#define MB_BIOS_SIZE		0x1000

struct vm;

struct mb_bios_write {
	u16 port;
	u8 value;
};

/* The port writes the stub makes, in order (for tests). */
extern const struct mb_bios_write mb_bios_writes[];
extern const unsigned int mb_bios_nr_writes;

/*
 * Writes the IVT, its handlers and the entry stub, which ends in a jump
 * to entry with EAX = MB_BOOT_MAGIC; gives the stub's address, where the
 * boot CPU starts (in 32-bit protected mode, EBX = MB_INFO_ADDR).
 */
int multiboot_bios_setup(struct vm *vm, u32 entry, u32 *stub);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_BOOT_PARAMS_H
#define KILN_MACHINE_BOOT_BOOT_PARAMS_H

#include "lib/types.h"
#include "machine/boot/initrd.h"

struct vm;

/*
 * The Linux/x86 boot protocol's zero page, written from the layout in
 * Documentation/arch/x86/boot.rst and zero-page.rst. Only the fields a
 * 64-bit entry uses are named; the rest is padding.
 */
struct setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;
	u16 jump;
	u32 header;
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} __attribute__((packed));

struct boot_e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));

#define BOOT_E820_MAX 128

struct boot_params {
	u8 screen_info[0x40];
	u8 apm_bios_info[0x14];
	u8 pad0[4];
	u64 tboot_addr;
	u8 ist_info[0x10];
	u64 acpi_rsdp_addr;			/* 0x070, protocol 2.14 */
	u8 pad1[0x0c0 - 0x078];
	u32 ext_ramdisk_image;			/* 0x0c0 */
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;
	u8 pad2[0x1e0 - 0x0cc];
	u32 alt_mem_k;				/* 0x1e0 */
	u32 scratch;
	u8 e820_entries;			/* 0x1e8 */
	u8 eddbuf_entries;
	u8 edd_mbr_sig_buf_entries;
	u8 kbd_status;
	u8 secure_boot;
	u8 pad3[2];
	u8 sentinel;				/* 0x1ef */
	u8 pad4;
	struct setup_header hdr;		/* 0x1f1 */
	u8 pad5[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct boot_e820_entry e820_table[BOOT_E820_MAX];	/* 0x2d0 */
	u8 pad6[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header layout");
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params is one page");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext_ramdisk");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1f1, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");

/* Setup header offsets in a bzImage file (and in the zero page). */
#define BZ_SETUP_SECTS		0x1f1
#define BZ_BOOT_FLAG		0x1fe
#define BZ_JUMP			0x200
#define BZ_HEADER		0x202
#define BZ_VERSION		0x206
#define BZ_HDR_MAGIC		0x53726448	/* "HdrS" */
#define BZ_BOOT_FLAG_MAGIC	0xaa55

#define LOADFLAG_LOADED_HIGH	(1U << 0)
#define LOADFLAG_KEEP_SEGMENTS	(1U << 6)
#define LOADFLAG_CAN_USE_HEAP	(1U << 7)
#define XLF_KERNEL_64		(1U << 0)

#define BOOT_LOADER_UNDEFINED	0xff	/* type_of_loader: no assigned ID */
#define BOOT_PROTOCOL_KILN	0x020f	/* what Kiln fills in for an ELF kernel */
#define BOOT_PROTOCOL_RSDP	0x020e	/* 2.14: acpi_rsdp_addr */

/*
 * Fills what Kiln tells every Linux-style kernel, bzImage or 64-bit ELF:
 * loader type, heap, command line, initrd, e820 and the RSDP. bp->hdr may
 * already hold the kernel's own setup header.
 */
void boot_params_fill(struct boot_params *bp, const struct vm *vm,
		      const struct initrd_info *initrd);

/* Writes bp to LAYOUT_BOOT_PARAMS. */
int boot_params_write(const struct vm *vm, const struct boot_params *bp);

struct cpu_state;

/*
 * Finishes a boot through Linux's 64-bit boot protocol, for a bzImage and
 * for a 64-bit ELF alike: writes the command line (bp->hdr.cmdline_size
 * bytes at most), loads the initrd high between kernel_end and
 * initrd_end, fills and writes boot_params, and sets long mode at rip
 * with RSI pointing at boot_params.
 */
int boot_linux64(struct vm *vm, struct boot_params *bp, u64 kernel_end,
		 u64 initrd_end, u64 rip, struct cpu_state *bsp);

#endif

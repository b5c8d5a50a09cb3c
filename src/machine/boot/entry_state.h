/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_ENTRY_STATE_H
#define KILN_MACHINE_BOOT_ENTRY_STATE_H

#include "engine/cpu_state.h"
#include "machine/layout.h"
#include "mem/guest_mem.h"

/*
 * The boot GDT at LAYOUT_GDT. Linux's 64-bit boot protocol fixes the code
 * and data selectors (__BOOT_CS, __BOOT_DS); the 32-bit code segment serves
 * the PVH and multiboot entries, and the TSS satisfies VM entry checks.
 */
#define BOOT_SEL_CS32	0x08
#define BOOT_SEL_CS64	0x10	/* __BOOT_CS */
#define BOOT_SEL_DS	0x18	/* __BOOT_DS */
#define BOOT_SEL_TSS	0x20	/* 16 bytes: a 64-bit system descriptor */
#define BOOT_GDT_SIZE	0x30

/* The identity map at LAYOUT_PAGE_TABLES: PML4, PDPT, then one PD per GiB. */
#define BOOT_IDENTITY_MAP_GIB	4
#define BOOT_IDENTITY_MAP_END	(BOOT_IDENTITY_MAP_GIB * GiB)
#define BOOT_PML4	LAYOUT_PAGE_TABLES
#define BOOT_PDPT	(LAYOUT_PAGE_TABLES + 0x1000)
#define BOOT_PD(i)	(LAYOUT_PAGE_TABLES + 0x2000 + (u64)(i) * 0x1000)

/*
 * 64-bit long mode as Linux's 64-bit boot protocol wants it: paging on
 * with 0..4 GiB identity-mapped by 2 MiB pages, flat __BOOT_CS/__BOOT_DS,
 * interrupts off, RSI = boot_params. Writes the GDT and page tables.
 */
int entry_setup_long_mode(const struct guest_mem *mem, struct cpu_state *st,
			  u64 rip, u64 rsi);

/*
 * 32-bit protected mode, paging off, flat 4 GiB segments: the PVH and
 * multiboot entry state. The caller sets EAX/EBX. Writes the GDT.
 */
int entry_setup_protected_mode(const struct guest_mem *mem, struct cpu_state *st,
			       u32 eip);

/* Decodes an 8-byte GDT descriptor into the loaded-segment form. */
struct segment segment_from_descriptor(u64 desc, u16 selector);

#endif

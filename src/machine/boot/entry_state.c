// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/entry_state.h"

#include <string.h>

#include "lib/log.h"
#include "machine/layout.h"

/* Flat 4 GiB segments; type 0xb is execute/read accessed, 0x3 read/write accessed. */
#define DESC_CODE32	0x00cf9b000000ffffULL	/* G, D/B, P, S */
#define DESC_CODE64	0x00af9b000000ffffULL	/* G, L, P, S */
#define DESC_DATA	0x00cf93000000ffffULL	/* G, D/B, P, S */
#define DESC_TSS_BUSY	0x00008b0000000067ULL	/* base 0, limit 0x67, busy TSS */

#define PTE_P	(1ULL << 0)
#define PTE_RW	(1ULL << 1)
#define PTE_PS	(1ULL << 7)

#define MSR_PAT_DEFAULT	0x0007040600070406ULL	/* the power-on PAT */
#define APIC_BASE_BSP	(1ULL << 8)
#define APIC_BASE_EN	(1ULL << 11)

struct segment segment_from_descriptor(u64 desc, u16 selector)
{
	u32 limit = (u32)(desc & 0xffff) | (u32)((desc >> 32) & 0xf0000);
	bool g = (desc >> 55) & 1;

	return (struct segment){
		.base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24),
		/* The cached limit is in bytes: scale page-granular limits. */
		.limit = g ? (limit << 12) | 0xfff : limit,
		.selector = selector,
		.type = (desc >> 40) & 0xf,
		.s = (desc >> 44) & 1,
		.dpl = (desc >> 45) & 3,
		.present = (desc >> 47) & 1,
		.avl = (desc >> 52) & 1,
		.l = (desc >> 53) & 1,
		.db = (desc >> 54) & 1,
		.g = g,
	};
}

static int write_gdt(const struct guest_mem *mem)
{
	u64 gdt[BOOT_GDT_SIZE / 8] = { 0 };

	gdt[BOOT_SEL_CS32 / 8] = DESC_CODE32;
	gdt[BOOT_SEL_CS64 / 8] = DESC_CODE64;
	gdt[BOOT_SEL_DS / 8] = DESC_DATA;
	gdt[BOOT_SEL_TSS / 8] = DESC_TSS_BUSY;	/* upper half (base 63:32) is 0 */
	if (guest_write(mem, LAYOUT_GDT, gdt, sizeof(gdt))) {
		pr_err("boot: no guest RAM for the GDT at %#llx", LAYOUT_GDT);
		return -1;
	}
	return 0;
}

/* Identity-maps the first BOOT_IDENTITY_MAP_GIB GiB with 2 MiB pages. */
static int write_page_tables(const struct guest_mem *mem)
{
	u64 table[512];

	memset(table, 0, sizeof(table));
	table[0] = BOOT_PDPT | PTE_P | PTE_RW;
	if (guest_write(mem, BOOT_PML4, table, sizeof(table)))
		goto fail;

	memset(table, 0, sizeof(table));
	for (unsigned int i = 0; i < BOOT_IDENTITY_MAP_GIB; i++)
		table[i] = BOOT_PD(i) | PTE_P | PTE_RW;
	if (guest_write(mem, BOOT_PDPT, table, sizeof(table)))
		goto fail;

	for (unsigned int i = 0; i < BOOT_IDENTITY_MAP_GIB; i++) {
		for (unsigned int j = 0; j < 512; j++)
			table[j] = ((u64)i << 30) | ((u64)j << 21) | PTE_P | PTE_RW | PTE_PS;
		if (guest_write(mem, BOOT_PD(i), table, sizeof(table)))
			goto fail;
	}
	return 0;
fail:
	pr_err("boot: no guest RAM for the page tables at %#llx", LAYOUT_PAGE_TABLES);
	return -1;
}

/* State shared by both entries: segments from the boot GDT, MSR defaults. */
static void common_state(struct cpu_state *st, u64 code_desc, u16 code_sel)
{
	struct segment data = segment_from_descriptor(DESC_DATA, BOOT_SEL_DS);

	memset(st, 0, sizeof(*st));
	st->cs = segment_from_descriptor(code_desc, code_sel);
	st->ds = st->es = st->fs = st->gs = st->ss = data;
	st->tr = segment_from_descriptor(DESC_TSS_BUSY, BOOT_SEL_TSS);
	st->ldt = (struct segment){ .type = 0x2, .unusable = 1 };
	st->gdt = (struct dtable){ .base = LAYOUT_GDT, .limit = BOOT_GDT_SIZE - 1 };
	st->idt = (struct dtable){ .base = 0, .limit = 0 };
	st->rflags = RFLAGS_FIXED;	/* interrupts off */
	st->gpr[GPR_RSP] = LAYOUT_BOOT_STACK;
	st->apic_base = LAYOUT_LAPIC_BASE | APIC_BASE_EN | APIC_BASE_BSP;
	st->pat = MSR_PAT_DEFAULT;
}

int entry_setup_long_mode(const struct guest_mem *mem, struct cpu_state *st,
			  u64 rip, u64 rsi)
{
	if (write_gdt(mem) || write_page_tables(mem))
		return -1;
	common_state(st, DESC_CODE64, BOOT_SEL_CS64);
	st->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	st->cr3 = BOOT_PML4;
	st->cr4 = CR4_PAE;
	st->efer = EFER_LME | EFER_LMA;
	st->rip = rip;
	st->gpr[GPR_RSI] = rsi;
	return 0;
}

int entry_setup_protected_mode(const struct guest_mem *mem, struct cpu_state *st,
			       u32 eip)
{
	if (write_gdt(mem))
		return -1;
	common_state(st, DESC_CODE32, BOOT_SEL_CS32);
	st->cr0 = CR0_PE | CR0_ET;
	st->rip = eip;
	return 0;
}

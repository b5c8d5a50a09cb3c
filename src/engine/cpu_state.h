/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_CPU_STATE_H
#define KILN_ENGINE_CPU_STATE_H

#include <stdio.h>

#include "lib/types.h"

/*
 * Architectural vCPU state in an engine-neutral form: what the boot loader
 * sets, what a register dump prints, what a snapshot saves.
 */

enum gpr_index {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	NR_GPRS,
};

/* A loaded segment register, hidden part included. */
struct segment {
	u64 base;
	u32 limit;		/* in bytes, granularity already applied */
	u16 selector;
	u8 type;		/* descriptor type field, 4 bits */
	u8 s : 1;		/* code/data (1) or system (0) */
	u8 dpl : 2;
	u8 present : 1;
	u8 avl : 1;
	u8 l : 1;		/* 64-bit code */
	u8 db : 1;		/* default operand size 32 */
	u8 g : 1;
	u8 unusable;
};

struct dtable {
	u64 base;
	u16 limit;
};

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_EM (1ULL << 2)
#define CR0_TS (1ULL << 3)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)

#define CR4_VME (1ULL << 0)
#define CR4_PVI (1ULL << 1)
#define CR4_TSD (1ULL << 2)
#define CR4_DE (1ULL << 3)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_MCE (1ULL << 6)
#define CR4_PGE (1ULL << 7)
#define CR4_PCE (1ULL << 8)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_UMIP (1ULL << 11)
#define CR4_FSGSBASE (1ULL << 16)
#define CR4_PCIDE (1ULL << 17)
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)

#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define RFLAGS_CF (1ULL << 0)
#define RFLAGS_FIXED (1ULL << 1)
#define RFLAGS_PF (1ULL << 2)
#define RFLAGS_AF (1ULL << 4)
#define RFLAGS_ZF (1ULL << 6)
#define RFLAGS_SF (1ULL << 7)
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_DF (1ULL << 10)
#define RFLAGS_OF (1ULL << 11)
#define RFLAGS_IOPL (3ULL << 12)
#define RFLAGS_NT (1ULL << 14)
#define RFLAGS_RF (1ULL << 16)
#define RFLAGS_VM (1ULL << 17)
#define RFLAGS_AC (1ULL << 18)
#define RFLAGS_ID (1ULL << 21)

struct cpu_state {
	u64 gpr[NR_GPRS];
	u64 rip;
	u64 rflags;
	struct segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct dtable gdt, idt;
	u64 cr0, cr2, cr3, cr4, cr8;
	u64 efer;
	u64 apic_base;
	/* MSRs the boot path and a register dump care about. */
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 pat;
};

/* Writes a human-readable register dump, for crashes and --trace. */
void cpu_state_dump(const struct cpu_state *st, FILE *out);

#endif

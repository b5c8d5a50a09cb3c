/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SEG_H
#define KILN_ENGINE_SOFT_SEG_H

#include "engine/soft/cpu.h"

/*
 * Segmentation: descriptor loads with their protection checks, far
 * transfers, IRET. Call gates, task gates and task switches are not
 * implemented (#GP, reported once): neither Linux nor our boot paths use
 * them.
 */

/* Decodes an 8-byte descriptor (hi: the upper 8 bytes of a 16-byte one). */
void desc_decode(u64 lo, u64 hi, u16 sel, struct segment *s);
/*
 * Reads the descriptor for sel from the GDT or LDT; raises #GP(sel) (or
 * the vector given) when the index is beyond the table limit.
 */
u64 desc_read(struct soft_cpu *cpu, u16 sel, int vector, u64 *hi);

/* MOV/POP to a data segment register or SS, with the protected-mode checks. */
void load_seg(struct soft_cpu *cpu, unsigned int seg, u16 sel);
/* The 64-bit flat segments SYSCALL/SYSRET install. */
void set_flat_seg(struct soft_cpu *cpu, unsigned int seg, u16 sel, bool code64, unsigned int dpl);

void far_jmp(struct soft_cpu *cpu, u16 sel, u64 off, unsigned int osize);
void far_call(struct soft_cpu *cpu, u16 sel, u64 off, unsigned int osize, u64 ret_ip);
void far_ret(struct soft_cpu *cpu, unsigned int osize, u16 imm);
void cpu_iret(struct soft_cpu *cpu, unsigned int osize);

/* Installs a CS and CPL (mode and TLB follow). */
void set_cs(struct soft_cpu *cpu, const struct segment *cs, unsigned int cpl);

#endif

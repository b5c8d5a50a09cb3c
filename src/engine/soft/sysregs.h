/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SYSREGS_H
#define KILN_ENGINE_SOFT_SYSREGS_H

#include "engine/soft/cpu.h"

/* cpuid.c: the CPUID model, in one table (see the file for how to extend it). */
void cpuid_query(struct soft_cpu *cpu, u32 leaf, u32 subleaf, u32 out[4]);

/* msr.c: returns false for an MSR that does not exist (the caller raises #GP). */
bool msr_read(struct soft_cpu *cpu, u32 index, u64 *val);
bool msr_write(struct soft_cpu *cpu, u32 index, u64 val);

#define MSR_TSC			0x10
#define MSR_APIC_BASE		0x1b
#define MSR_MTRR_CAP		0xfe
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MISC_ENABLE		0x1a0
#define MSR_PAT			0x277
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103
#define MSR_K7_EVNTSEL0		0xc0010000	/* ... EVNTSEL3 0xc0010003 */
#define MSR_K7_PERFCTR0		0xc0010004	/* ... PERFCTR3 0xc0010007 */
#define MSR_K7_PERFCTR3		0xc0010007
#define MSR_K7_HWCR		0xc0010015
#define MSR_AMD64_DE_CFG	0xc0011029

/* exec_system.c: control register writes (also used by tests). */
void cpu_write_cr0(struct soft_cpu *cpu, u64 v);
void cpu_write_cr4(struct soft_cpu *cpu, u64 v);
void cpu_write_cr3(struct soft_cpu *cpu, u64 v);

#endif

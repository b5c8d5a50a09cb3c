// SPDX-License-Identifier: Apache-2.0
/*
 * The soft CPU's CPUID model: exactly what the engine implements.
 *
 * The identity is QEMU's qemu64 (AuthenticAMD, family 15 model 107
 * stepping 1): with an AMD vendor and no Intel-only leaves, Linux does not
 * turn on page-table isolation, which would rewrite CR3 on every kernel
 * entry. To advertise a new feature, implement it first, then set its bit
 * in the table below (one place). Leaves other engineers own - the
 * hypervisor range 0x40000000 for kvmclock - are filled by their hooks at
 * the end of cpuid_query().
 */
#include <string.h>

#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "engine/soft/sysregs.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

/* CPUID.1:EDX */
#define F1D_FPU		(1u << 0)
#define F1D_DE		(1u << 2)
#define F1D_PSE		(1u << 3)
#define F1D_TSC		(1u << 4)
#define F1D_MSR		(1u << 5)
#define F1D_PAE		(1u << 6)
#define F1D_CX8		(1u << 8)
#define F1D_APIC	(1u << 9)
#define F1D_PGE		(1u << 13)
#define F1D_CMOV	(1u << 15)
#define F1D_PAT		(1u << 16)
#define F1D_PSE36	(1u << 17)
#define F1D_CLFSH	(1u << 19)
#define F1D_MMX		(1u << 23)
#define F1D_FXSR	(1u << 24)
#define F1D_SSE		(1u << 25)
#define F1D_SSE2	(1u << 26)
/* CPUID.1:ECX */
#define F1C_SSE3	(1u << 0)
#define F1C_CX16	(1u << 13)
#define F1C_POPCNT	(1u << 23)
#define F1C_HYPERVISOR	(1u << 31)
/* CPUID.80000001:EDX / ECX */
#define F81D_SYSCALL	(1u << 11)
#define F81D_NX		(1u << 20)
#define F81D_PDPE1GB	(1u << 26)
#define F81D_RDTSCP	(1u << 27)
#define F81D_LM		(1u << 29)
#define F81C_LAHF_LM	(1u << 0)
#define F81C_PREFETCHW	(1u << 8)
/* CPUID.80000007:EDX */
#define F87D_INVTSC	(1u << 8)

#define SIGNATURE	0x00060fb1u	/* family 15, model 107, stepping 1 */
#define MAX_BASIC	0xbu	/* 0xb: the x2APIC ID and topology */
#define MAX_EXT		0x80000008u

#define LEAF1_EDX (F1D_FPU | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE | F1D_CX8 | F1D_PGE | \
		   F1D_CMOV | F1D_PAT | F1D_PSE36 | F1D_CLFSH | F1D_FXSR | F1D_SSE | F1D_SSE2)
#define LEAF1_ECX (F1C_CX16 | F1C_POPCNT | F1C_HYPERVISOR)
/* AMD repeats most of leaf 1's EDX in 0x80000001. */
#define LEAF81_EDX ((LEAF1_EDX & 0x0183f3ffu) | F81D_SYSCALL | F81D_NX | F81D_PDPE1GB | \
		    F81D_RDTSCP | F81D_LM)
#define LEAF81_ECX (F81C_LAHF_LM | F81C_PREFETCHW)

static const char vendor[12] = "AuthenticAMD";
static const char brand[48] = "Kiln soft x86-64 CPU";

static u32 str4(const char *s)
{
	u32 v;

	memcpy(&v, s, 4);
	return v;
}

void cpuid_query(struct soft_cpu *cpu, u32 leaf, u32 subleaf, u32 out[4])
{
	u32 index = cpu->vcpu ? soft_cpu_index(cpu) : 0;

	memset(out, 0, 4 * sizeof(u32));
	/* Out-of-range basic leaves return the highest basic leaf, as Intel documents. */
	if (leaf > MAX_BASIC && leaf < 0x40000000u)
		leaf = MAX_BASIC;
	if (leaf > MAX_EXT)
		leaf = MAX_BASIC;

	switch (leaf) {
	case 0:
		out[0] = MAX_BASIC;
		out[1] = str4(vendor);
		out[3] = str4(vendor + 4);
		out[2] = str4(vendor + 8);
		break;
	case 1:
		out[0] = SIGNATURE;
		/* CLFLUSH line 8*8 bytes, initial APIC ID. */
		out[1] = (8u << 8) | (index << 24);
		out[2] = LEAF1_ECX;
		out[3] = LEAF1_EDX | (soft_irq_has_lapic(cpu) ? F1D_APIC : 0);
		break;
	case 0xb:
		/*
		 * x2APIC topology: one thread per core (level 0), all vCPUs
		 * cores of one package (level 1, 8 ID bits as xAPIC has);
		 * EDX, the x2APIC ID, comes from the irqchip.
		 */
		if (subleaf == 0) {
			out[1] = 1;
			out[2] = 1u << 8;
		} else if (subleaf == 1) {
			out[0] = 8;
			out[1] = cpu->vcpu ? cpu->vcpu->vm->cfg->nr_cpus : 1;
			out[2] = (2u << 8) | 1;
		} else {
			out[2] = subleaf & 0xff;
		}
		break;
	case 0x80000000u:
		out[0] = MAX_EXT;
		out[1] = str4(vendor);
		out[3] = str4(vendor + 4);
		out[2] = str4(vendor + 8);
		break;
	case 0x80000001u:
		out[0] = SIGNATURE;
		out[2] = LEAF81_ECX;
		out[3] = LEAF81_EDX | (soft_irq_has_lapic(cpu) ? F1D_APIC : 0);
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u:
		memcpy(out, brand + (leaf - 0x80000002u) * 16, 16);
		break;
	case 0x80000007u:
		out[3] = F87D_INVTSC;
		break;
	case 0x80000008u:
		/* 40 physical and 48 virtual address bits, as qemu64. */
		out[0] = 40 | (48 << 8);
		break;
	default:
		break;
	}
	/* Leaves owned by the irqchip/kvmclock side (0x40000000 range). */
	soft_irq_cpuid(cpu, leaf, subleaf, out);
	/* A LAPIC disabled through IA32_APIC_BASE vanishes from CPUID. */
	if ((leaf == 1 || leaf == 0x80000001u) && !(cpu->apic_base & (1ULL << 11)))
		out[3] &= ~F1D_APIC;
}

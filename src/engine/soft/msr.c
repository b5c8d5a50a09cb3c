// SPDX-License-Identifier: Apache-2.0
/*
 * Model-specific registers. Unknown MSRs raise #GP, which Linux's
 * rdmsr_safe()/wrmsr_safe() expect for optional ones; the LAPIC's MSRs
 * (APIC_BASE, TSC_DEADLINE, x2APIC) go to the irqchip glue.
 */
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "engine/soft/sysregs.h"
#include "lib/log.h"

#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

static bool pat_valid(u64 v)
{
	for (int i = 0; i < 8; i++) {
		u8 t = v >> (i * 8);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

bool msr_read(struct soft_cpu *cpu, u32 index, u64 *val)
{
	/* The LAPIC's MSRs first: APIC_BASE, TSC_DEADLINE, the TSC, kvmclock. */
	int r = soft_irq_msr_read(cpu, index, val);

	if (r)
		return r > 0;
	switch (index) {
	case MSR_TSC: *val = soft_tsc_now(cpu); return true;
	case MSR_APIC_BASE: *val = cpu->apic_base; return true;
	case MSR_EFER: *val = cpu->efer; return true;
	case MSR_STAR: *val = cpu->star; return true;
	case MSR_LSTAR: *val = cpu->lstar; return true;
	case MSR_CSTAR: *val = cpu->cstar; return true;
	case MSR_SFMASK: *val = cpu->sfmask; return true;
	case MSR_FS_BASE: *val = cpu->seg[SEG_FS].base; return true;
	case MSR_GS_BASE: *val = cpu->seg[SEG_GS].base; return true;
	case MSR_KERNEL_GS_BASE: *val = cpu->kernel_gs_base; return true;
	case MSR_TSC_AUX: *val = cpu->tsc_aux; return true;
	case MSR_SYSENTER_CS: *val = cpu->sysenter_cs; return true;
	case MSR_SYSENTER_ESP: *val = cpu->sysenter_esp; return true;
	case MSR_SYSENTER_EIP: *val = cpu->sysenter_eip; return true;
	case MSR_PAT: *val = cpu->pat; return true;
	case MSR_MISC_ENABLE: *val = cpu->misc_enable; return true;
	case MSR_MTRR_CAP: *val = 0; return true;	/* no MTRRs (not advertised) */
	case MSR_MTRR_DEF_TYPE: *val = cpu->mtrr_def_type; return true;
	case MSR_K7_HWCR: *val = cpu->hwcr; return true;
	case MSR_AMD64_DE_CFG: *val = cpu->de_cfg; return true;
	case MSR_K7_EVNTSEL0 ... MSR_K7_PERFCTR3:
		*val = cpu->k7_perf[index - MSR_K7_EVNTSEL0];
		return true;
	/* Machine check: no banks (MCE is not advertised), nothing to report. */
	case MSR_MCG_CAP:
	case MSR_MCG_STATUS:
		*val = 0;
		return true;
	default:
		pr_debug("soft: rdmsr %#x: no such MSR (#GP)", index);
		return false;
	}
}

bool msr_write(struct soft_cpu *cpu, u32 index, u64 val)
{
	int r = soft_irq_msr_write(cpu, index, val);

	if (r)
		return r > 0;
	switch (index) {
	case MSR_TSC:
		cpu->tsc_offset += val - soft_tsc_now(cpu);
		return true;
	case MSR_EFER:
		if (val & ~(EFER_WRITABLE | EFER_LMA))
			return false;
		if (((val ^ cpu->efer) & EFER_LME) && (cpu->cr0 & CR0_PG))
			return false;
		if ((val ^ cpu->efer) & EFER_NXE)
			tlb_flush_all(cpu);
		cpu->efer = (val & EFER_WRITABLE) | (cpu->efer & EFER_LMA);
		return true;
	case MSR_STAR: cpu->star = val; return true;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!is_canonical(val))
			return false;
		if (index == MSR_LSTAR)
			cpu->lstar = val;
		else if (index == MSR_CSTAR)
			cpu->cstar = val;
		else if (index == MSR_FS_BASE)
			cpu->seg[SEG_FS].base = val;
		else if (index == MSR_GS_BASE)
			cpu->seg[SEG_GS].base = val;
		else
			cpu->kernel_gs_base = val;
		cpu_update_mode(cpu);
		return true;
	case MSR_SFMASK:
		if (val >> 32)
			return false;
		cpu->sfmask = val;
		return true;
	case MSR_TSC_AUX:
		if (val >> 32)
			return false;
		cpu->tsc_aux = val;
		return true;
	case MSR_SYSENTER_CS: cpu->sysenter_cs = val & 0xffff; return true;
	case MSR_SYSENTER_ESP: cpu->sysenter_esp = val; return true;
	case MSR_SYSENTER_EIP: cpu->sysenter_eip = val; return true;
	case MSR_PAT:
		if (!pat_valid(val))
			return false;
		cpu->pat = val;
		return true;
	case MSR_MISC_ENABLE: cpu->misc_enable = val; return true;
	case MSR_MTRR_DEF_TYPE:
		if (val & ~0xcffULL)
			return false;
		cpu->mtrr_def_type = val;
		return true;
	case MSR_K7_HWCR: cpu->hwcr = val; return true;
	case MSR_AMD64_DE_CFG: cpu->de_cfg = val; return true;
	case MSR_MCG_STATUS:
		return val == 0;
	case MSR_K7_EVNTSEL0 ... MSR_K7_PERFCTR3:
		/* Family 15's legacy PMU: kept, but the counters do not count. */
		cpu->k7_perf[index - MSR_K7_EVNTSEL0] = index >= MSR_K7_PERFCTR0 ?
			val & ((1ULL << 48) - 1) : val;
		return true;
	default:
		pr_debug("soft: wrmsr %#x=%#llx: no such MSR (#GP)", index, (unsigned long long)val);
		return false;
	}
}

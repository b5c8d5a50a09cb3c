// SPDX-License-Identifier: Apache-2.0
/* CPU allocation, reset, mode bookkeeping and state conversion. */
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>

#include "engine/soft/flags.h"
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "engine/soft/x87/x87.h"

void cpu_update_tlb_ptr(struct soft_cpu *cpu)
{
	if (cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->rflags & RFLAGS_AC))
		cpu->tlb = cpu->tlb_none;
	else
		cpu->tlb = cpu->tlbs[cpu->cpl == 3 ? TLB_USER : TLB_SUPER];
}

void cpu_set_cpl(struct soft_cpu *cpu, unsigned int cpl)
{
	cpu->cpl = cpl;
	cpu_update_tlb_ptr(cpu);
}

void cpu_update_mode(struct soft_cpu *cpu)
{
	const struct segment *cs = &cpu->seg[SEG_CS];
	bool m64 = cpu_long_mode(cpu) && cs->l && !cpu_real_mode(cpu);

	if (m64)
		cpu->mode = CPU_MODE_64;
	else if (cs->db && !(cpu->rflags & RFLAGS_VM))
		cpu->mode = CPU_MODE_32;
	else
		cpu->mode = CPU_MODE_16;
	for (unsigned int s = 0; s < NR_SEGS; s++)
		cpu->seg_base[s] = (m64 && s < SEG_FS) ? 0 : cpu->seg[s].base;
	if (!m64)
		for (unsigned int s = 0; s < NR_SEGS; s++)
			cpu->seg_base[s] &= 0xffffffffULL;
	cpu->lin_mask = m64 ? ~0ULL : 0xffffffffULL;
	cpu->sp_mask = m64 ? ~0ULL : cpu->seg[SEG_SS].db ? 0xffffffffULL : 0xffff;
}

static void seg_reset(struct segment *s, u16 sel, u64 base, u8 type)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = 0xffff;
	s->type = type;
	s->s = 1;
	s->present = 1;
}

void cpu_reset(struct soft_cpu *cpu, bool init_only)
{
	struct fxsave_area fx = cpu->fx;

	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	/* EDX holds the processor signature after reset. */
	cpu->gpr[GPR_RDX] = 0x00060fb1;
	cpu->rip = 0xfff0;
	cpu->rflags = RFLAGS_FIXED;
	cpu->cc_op = CC_EFLAGS;
	for (unsigned int s = 0; s < NR_SEGS; s++)
		seg_reset(&cpu->seg[s], 0, 0, 0x3);
	seg_reset(&cpu->seg[SEG_CS], 0xf000, 0xffff0000ULL, 0xb);
	seg_reset(&cpu->ldt, 0, 0, 0x2);
	cpu->ldt.s = 0;
	seg_reset(&cpu->tr, 0, 0, 0xb);
	cpu->tr.s = 0;
	cpu->gdt = (struct dtable){ .base = 0, .limit = 0xffff };
	cpu->idt = (struct dtable){ .base = 0, .limit = 0xffff };
	cpu->cr0 = CR0_ET | CR0_NW | CR0_CD;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;
	cpu->intr_shadow = 0;
	cpu->halted = false;
	cpu->nmi_blocked = false;
	cpu->exc_vector = -1;
	cpu->inject_vector = -1;
	cpu->delivering = -1;
	cpu->triple_fault = false;
	if (!init_only) {
		cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = cpu->kernel_gs_base = 0;
		cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
		cpu->pat = 0x0007040600070406ULL;
		cpu->tsc_aux = 0;
		cpu->misc_enable = 1;
		cpu->mtrr_def_type = 0;
		memset(&cpu->fx, 0, sizeof(cpu->fx));
		x87_reset(&cpu->fx);
		cpu->fx.mxcsr = MXCSR_RESET;
		cpu->fx.mxcsr_mask = MXCSR_MASK_SUPPORTED;
	} else {
		/* INIT keeps the x87/SSE state. */
		cpu->fx = fx;
	}
	cpu_set_cpl(cpu, 0);
	cpu_update_mode(cpu);
	tlb_flush_all(cpu);
}

struct soft_cpu *soft_cpu_alloc(struct soft_vm *svm, struct vcpu *vcpu)
{
	struct soft_cpu *cpu = aligned_alloc(64, ALIGN_UP(sizeof(*cpu), 64));

	if (!cpu)
		return NULL;
	memset(cpu, 0, sizeof(*cpu));
	memset(cpu->tlb_none, 0xff, sizeof(cpu->tlb_none));
	cpu->svm = svm;
	cpu->vcpu = vcpu;
	cpu->mem = svm->mem;
	cpu->reqs = &cpu->dummy_reqs;
	cpu->stop_rip = ~0ULL;
	cpu->sipi_vector = -1;
	cpu->tlb_large_lo = ~0ULL;
	cpu->apic_base = 0xfee00000ULL | (1ULL << 11);
	cpu_reset(cpu, false);
	return cpu;
}

void soft_cpu_free(struct soft_cpu *cpu)
{
	free(cpu);
}

struct soft_vm *soft_vm_of(const struct soft_cpu *cpu)
{
	return cpu->svm;
}

void cpu_get_state(struct soft_cpu *cpu, struct cpu_state *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->gpr, cpu->gpr, sizeof(st->gpr));
	st->rip = cpu->rip;
	st->rflags = cpu_get_rflags(cpu);
	st->es = cpu->seg[SEG_ES];
	st->cs = cpu->seg[SEG_CS];
	st->ss = cpu->seg[SEG_SS];
	st->ds = cpu->seg[SEG_DS];
	st->fs = cpu->seg[SEG_FS];
	st->gs = cpu->seg[SEG_GS];
	st->tr = cpu->tr;
	st->ldt = cpu->ldt;
	st->gdt = cpu->gdt;
	st->idt = cpu->idt;
	st->cr0 = cpu->cr0;
	st->cr2 = cpu->cr2;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	st->cr8 = cpu->cr8;
	st->efer = cpu->efer;
	st->apic_base = cpu->apic_base;
	st->star = cpu->star;
	st->lstar = cpu->lstar;
	st->cstar = cpu->cstar;
	st->sfmask = cpu->sfmask;
	st->kernel_gs_base = cpu->kernel_gs_base;
	st->sysenter_cs = cpu->sysenter_cs;
	st->sysenter_esp = cpu->sysenter_esp;
	st->sysenter_eip = cpu->sysenter_eip;
	st->pat = cpu->pat;
}

void cpu_set_state(struct soft_cpu *cpu, const struct cpu_state *st)
{
	memcpy(cpu->gpr, st->gpr, sizeof(st->gpr));
	cpu->gpr[REG_ZERO] = 0;
	cpu->rip = st->rip;
	cpu->rflags = st->rflags | RFLAGS_FIXED;
	cpu->cc_op = CC_EFLAGS;
	cpu->seg[SEG_ES] = st->es;
	cpu->seg[SEG_CS] = st->cs;
	cpu->seg[SEG_SS] = st->ss;
	cpu->seg[SEG_DS] = st->ds;
	cpu->seg[SEG_FS] = st->fs;
	cpu->seg[SEG_GS] = st->gs;
	cpu->tr = st->tr;
	cpu->ldt = st->ldt;
	cpu->gdt = st->gdt;
	cpu->idt = st->idt;
	cpu->cr0 = st->cr0 | CR0_ET;
	cpu->cr2 = st->cr2;
	cpu->cr3 = st->cr3;
	cpu->cr4 = st->cr4;
	cpu->cr8 = st->cr8;
	cpu->efer = st->efer;
	if ((cpu->efer & EFER_LME) && (cpu->cr0 & CR0_PG))
		cpu->efer |= EFER_LMA;
	if (st->apic_base)
		cpu->apic_base = st->apic_base;
	cpu->star = st->star;
	cpu->lstar = st->lstar;
	cpu->cstar = st->cstar;
	cpu->sfmask = st->sfmask;
	cpu->kernel_gs_base = st->kernel_gs_base;
	cpu->sysenter_cs = st->sysenter_cs;
	cpu->sysenter_esp = st->sysenter_esp;
	cpu->sysenter_eip = st->sysenter_eip;
	if (st->pat)
		cpu->pat = st->pat;
	cpu->halted = false;
	cpu->wait_sipi = false;
	cpu->exc_vector = -1;
	cpu->delivering = -1;
	cpu_set_cpl(cpu, cpu_real_mode(cpu) ? 0 : cpu->seg[SEG_CS].selector & 3);
	cpu_update_mode(cpu);
	tlb_flush_all(cpu);
}

void soft_cpu_wake(struct soft_cpu *cpu)
{
	/* Pairs with the store to sleeping in the HLT wait (soft.c). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cpu->sleeping, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, cpu->reqs, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * System instructions: control and debug registers, descriptor tables,
 * MSRs, CPUID, TSC, HLT/CLI/STI, segment register moves, SYSCALL/SYSRET.
 * Instructions that change how later code runs return NULL after retiring,
 * so the dispatch loop re-reads the mode before the next block.
 */
#include "engine/soft/exec.h"
#include "engine/soft/irqchip/irqchip.h"
#include "engine/soft/seg.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "engine/soft/sysregs.h"
#include "lib/log.h"
#include "machine/vcpu.h"

static void require_pm(struct soft_cpu *cpu)
{
	if (cpu_real_mode(cpu) || (cpu->rflags & RFLAGS_VM))
		cpu_raise_ud(cpu);
}

OP(op_ud)
{
	(void)in;
	cpu_raise_ud(cpu);
}

OP(op_hlt)
{
	require_cpl0(cpu);
	cpu->halted = true;
	return retire_exit(cpu, in);
}

static void check_if_privilege(struct soft_cpu *cpu)
{
	if (!cpu_real_mode(cpu) && cpu->cpl > cpu_iopl(cpu))
		cpu_raise_gp(cpu, 0);
}

OP(op_cli)
{
	check_if_privilege(cpu);
	cpu->rflags &= ~RFLAGS_IF;
	return next_insn(cpu, in);
}

OP(op_sti)
{
	check_if_privilege(cpu);
	if (!(cpu->rflags & RFLAGS_IF)) {
		cpu->rflags |= RFLAGS_IF;
		/* Interrupts stay blocked until after the next instruction. */
		cpu->intr_shadow = 1;
		soft_irq_window_opened(cpu);
	}
	return retire_exit(cpu, in);
}

OP(op_cpuid)
{
	u32 r[4];

	cpuid_query(cpu, cpu->gpr[GPR_RAX], cpu->gpr[GPR_RCX], r);
	cpu->gpr[GPR_RAX] = r[0];
	cpu->gpr[GPR_RBX] = r[1];
	cpu->gpr[GPR_RCX] = r[2];
	cpu->gpr[GPR_RDX] = r[3];
	if (cpu->vcpu)
		vcpu_count_exit(cpu->vcpu, EXIT_CPUID);
	return next_insn(cpu, in);
}

static void write_edx_eax(struct soft_cpu *cpu, u64 v)
{
	cpu->gpr[GPR_RAX] = (u32)v;
	cpu->gpr[GPR_RDX] = v >> 32;
}

OP(op_rdtsc)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl != 0)
		cpu_raise_gp(cpu, 0);
	write_edx_eax(cpu, soft_tsc_now(cpu));
	return next_insn(cpu, in);
}

OP(op_rdtscp)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl != 0)
		cpu_raise_gp(cpu, 0);
	write_edx_eax(cpu, soft_tsc_now(cpu));
	cpu->gpr[GPR_RCX] = (u32)cpu->tsc_aux;
	return next_insn(cpu, in);
}

OP(op_rdmsr)
{
	u64 v;

	require_cpl0(cpu);
	if (cpu->vcpu)
		vcpu_count_exit(cpu->vcpu, EXIT_MSR);
	if (!msr_read(cpu, cpu->gpr[GPR_RCX], &v))
		cpu_raise_gp(cpu, 0);
	write_edx_eax(cpu, v);
	return next_insn(cpu, in);
}

OP(op_wrmsr)
{
	u64 v = ((u64)(u32)cpu->gpr[GPR_RDX] << 32) | (u32)cpu->gpr[GPR_RAX];

	require_cpl0(cpu);
	if (cpu->vcpu)
		vcpu_count_exit(cpu->vcpu, EXIT_MSR);
	if (!msr_write(cpu, cpu->gpr[GPR_RCX], v))
		cpu_raise_gp(cpu, 0);
	/* EFER, FS/GS bases and the like change how code runs. */
	return retire_exit(cpu, in);
}

OP(op_rdpmc)
{
	(void)in;
	/* No performance counters are advertised. */
	cpu_raise_gp(cpu, 0);
}

void cpu_write_cr0(struct soft_cpu *cpu, u64 v)
{
	u64 old = cpu->cr0;

	if (v >> 32)
		cpu_raise_gp(cpu, 0);
	if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
		cpu_raise_gp(cpu, 0);
	if ((v & CR0_PG) && !(old & CR0_PG) && (cpu->efer & EFER_LME)) {
		if (!(cpu->cr4 & CR4_PAE) || cpu->seg[SEG_CS].l)
			cpu_raise_gp(cpu, 0);
		cpu->efer |= EFER_LMA;
	}
	if (!(v & CR0_PG) && (old & CR0_PG) && (cpu->efer & EFER_LMA)) {
		if (cpu->mode == CPU_MODE_64)
			cpu_raise_gp(cpu, 0);
		cpu->efer &= ~EFER_LMA;
	}
	cpu->cr0 = v | CR0_ET;
	if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
		tlb_flush_all(cpu);
	if ((old ^ v) & CR0_PE)
		cpu_set_cpl(cpu, 0);
	cpu_update_tlb_ptr(cpu);
	cpu_update_mode(cpu);
}

#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | \
		       CR4_OSFXSR | CR4_OSXMMEXCPT)

void cpu_write_cr4(struct soft_cpu *cpu, u64 v)
{
	u64 old = cpu->cr4;

	if (v & ~CR4_SUPPORTED)
		cpu_raise_gp(cpu, 0);
	if ((cpu->efer & EFER_LMA) && !(v & CR4_PAE))
		cpu_raise_gp(cpu, 0);
	cpu->cr4 = v;
	if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE))
		tlb_flush_all(cpu);
}

void cpu_write_cr3(struct soft_cpu *cpu, u64 v)
{
	if ((cpu->efer & EFER_LMA) && (v >> 40))
		cpu_raise_gp(cpu, 0);
	cpu->cr3 = cpu_long_mode(cpu) ? v : (u32)v;
	tlb_flush_nonglobal(cpu);
}

OP(op_mov_to_cr)
{
	u64 v = cpu->gpr[in->rm];

	require_cpl0(cpu);
	if (cpu->mode != CPU_MODE_64)
		v = (u32)v;
	switch (in->reg) {
	case 0: cpu_write_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: cpu_write_cr3(cpu, v); break;
	case 4: cpu_write_cr4(cpu, v); break;
	case 8:
		if (v & ~0xfULL)
			cpu_raise_gp(cpu, 0);
		cpu->cr8 = v;
		soft_irq_set_tpr(cpu, v);
		break;
	default: cpu_raise_ud(cpu);
	}
	return retire_exit(cpu, in);
}

OP(op_mov_from_cr)
{
	u64 v;

	require_cpl0(cpu);
	switch (in->reg) {
	case 0: v = cpu->cr0; break;
	case 2: v = cpu->cr2; break;
	case 3: v = cpu->cr3; break;
	case 4: v = cpu->cr4; break;
	case 8: v = soft_irq_get_tpr(cpu); break;
	default: cpu_raise_ud(cpu);
	}
	reg_write(cpu, in->rm, in->osize, v);
	return next_insn(cpu, in);
}

static unsigned int dr_index(struct soft_cpu *cpu, unsigned int r)
{
	if (r == 4 || r == 5) {
		if (cpu->cr4 & CR4_DE)
			cpu_raise_ud(cpu);
		r += 2;
	}
	if (r > 7)
		cpu_raise_ud(cpu);
	return r;
}

/* Debug registers are stored only: no breakpoints fire. */
OP(op_mov_to_dr)
{
	unsigned int r;

	require_cpl0(cpu);
	r = dr_index(cpu, in->reg);
	cpu->dr[r] = cpu->gpr[in->rm];
	if (r == 6)
		cpu->dr[6] = (cpu->dr[6] & 0xf00f) | 0xffff0ff0;
	if (r == 7)
		cpu->dr[7] = (cpu->dr[7] & 0xffffffffULL) | 0x400;
	return next_insn(cpu, in);
}

OP(op_mov_from_dr)
{
	require_cpl0(cpu);
	reg_write(cpu, in->rm, in->osize, cpu->dr[dr_index(cpu, in->reg)]);
	return next_insn(cpu, in);
}

OP(op_clts)
{
	require_cpl0(cpu);
	cpu->cr0 &= ~CR0_TS;
	return next_insn(cpu, in);
}

/* SGDT, SIDT, LGDT, LIDT: m16 limit then a 24/32/64-bit base. */
OP(op_lgdt)
{
	u64 lin = insn_lin(cpu, in);
	u64 lin_base = seg_lin(cpu, in->seg, (insn_ea(cpu, in) + 2) & addr_masks[in->asize]);
	struct dtable *t = (in->sub & 1) ? &cpu->idt : &cpu->gdt;
	unsigned int bsize = cpu->mode == CPU_MODE_64 ? 8 : 4;

	if (in->sub >= 2) {
		u16 limit;
		u64 base;

		require_cpl0(cpu);
		limit = mem_read16(cpu, lin);
		base = mem_read(cpu, lin_base, bsize);
		if (bsize == 4 && in->osize == 2)
			base &= 0xffffff;
		if (bsize == 8 && !is_canonical(base))
			cpu_raise_gp(cpu, 0);
		t->limit = limit;
		t->base = base;
	} else {
		mem_probe_write(cpu, lin, 2 + bsize, cpu_user(cpu));
		mem_write16(cpu, lin, t->limit);
		mem_write(cpu, lin_base, bsize, t->base);
	}
	return retire_exit(cpu, in);
}

OP(op_smsw)
{
	if (in->flags & INSN_MEM)
		mem_write16(cpu, insn_lin(cpu, in), cpu->cr0);
	else
		reg_write(cpu, in->rm, in->osize, cpu->cr0);
	return next_insn(cpu, in);
}

OP(op_lmsw)
{
	u16 v;

	require_cpl0(cpu);
	v = rm_read(cpu, in, 2);
	/* LMSW sets PE but cannot clear it. */
	cpu_write_cr0(cpu, (cpu->cr0 & ~0xeULL) | (v & 0xf) | (cpu->cr0 & CR0_PE));
	return retire_exit(cpu, in);
}

OP(op_invlpg)
{
	require_cpl0(cpu);
	tlb_flush_page(cpu, insn_lin(cpu, in));
	return retire_exit(cpu, in);
}

OP(op_swapgs)
{
	u64 t;

	require_cpl0(cpu);
	t = cpu->seg[SEG_GS].base;
	cpu->seg[SEG_GS].base = cpu->kernel_gs_base;
	cpu->kernel_gs_base = t;
	cpu_update_mode(cpu);
	return next_insn(cpu, in);
}

/*
 * VMCALL/VMMCALL: the KVM hypercall ABI, which the kvmclock leaves
 * advertise: number in RAX, arguments in RBX, RCX, RDX, RSI (32 bits
 * each outside 64-bit mode), result in RAX. Only KVM_HC_SEND_IPI is
 * implemented; others get -KVM_ENOSYS at CPL 0, -KVM_EPERM above, as KVM
 * answers.
 */
OP(op_vmcall)
{
	bool op64 = cpu_long_mode(cpu) && cpu->seg[SEG_CS].l;
	u64 mask = op64 ? ~0ULL : 0xffffffffULL;
	u64 *r = cpu->gpr;

	if (cpu->vcpu)
		vcpu_count_exit(cpu->vcpu, EXIT_HYPERCALL);
	if (cpu->cpl)
		r[GPR_RAX] = (u64)-1;
	else if ((r[GPR_RAX] & mask) == KVM_HC_SEND_IPI && soft_irq_has_lapic(cpu))
		r[GPR_RAX] = (u64)soft_irq_pv_send_ipi(cpu, r[GPR_RBX] & mask, r[GPR_RCX] & mask,
						      r[GPR_RDX] & mask, r[GPR_RSI] & mask, op64);
	else
		r[GPR_RAX] = (u64)-1000;
	return next_insn(cpu, in);
}

static void load_ldt(struct soft_cpu *cpu, u16 sel)
{
	struct segment s;
	u64 lo, hi = 0;

	if ((sel & ~3u) == 0) {
		cpu->ldt.selector = sel;
		cpu->ldt.unusable = 1;
		return;
	}
	if (sel & 4)
		cpu_raise_gp(cpu, sel & ~3u);
	lo = desc_read(cpu, sel, EXC_GP, cpu_long_mode(cpu) ? &hi : NULL);
	desc_decode(lo, hi, sel, &s);
	if (s.s || s.type != 2 || (cpu_long_mode(cpu) && !is_canonical(s.base)))
		cpu_raise_gp(cpu, sel & ~3u);
	if (!s.present)
		cpu_raise(cpu, EXC_NP, sel & ~3u, true);
	cpu->ldt = s;
}

static void load_tr(struct soft_cpu *cpu, u16 sel)
{
	struct segment s;
	u64 lo, hi = 0;

	if ((sel & ~3u) == 0 || (sel & 4))
		cpu_raise_gp(cpu, sel & ~3u);
	lo = desc_read(cpu, sel, EXC_GP, cpu_long_mode(cpu) ? &hi : NULL);
	desc_decode(lo, hi, sel, &s);
	if (s.s || (s.type != 9 && !(s.type == 1 && !cpu_long_mode(cpu))) ||
	    (cpu_long_mode(cpu) && !is_canonical(s.base)))
		cpu_raise_gp(cpu, sel & ~3u);
	if (!s.present)
		cpu_raise(cpu, EXC_NP, sel & ~3u, true);
	/* Mark the TSS busy in the GDT. */
	mem_write_sys(cpu, cpu->gdt.base + (sel & ~7u) + 5, 1, (lo >> 40) | 2);
	s.type |= 2;
	cpu->tr = s;
}

/* VERR/VERW: ZF tells whether the segment is readable/writable from here. */
static bool verify_seg(struct soft_cpu *cpu, u16 sel, bool write)
{
	const struct dtable *gdt = &cpu->gdt;
	u32 limit = (sel & 4) ? cpu->ldt.limit : gdt->limit;
	struct segment s;

	if ((sel & ~3u) == 0 || (sel & ~7u) + 7 > limit)
		return false;
	desc_decode(desc_read(cpu, sel, EXC_GP, NULL), 0, sel, &s);
	if (!s.s)
		return false;
	if (!((s.type & 8) && (s.type & 4)) && (s.dpl < cpu->cpl || s.dpl < (sel & 3)))
		return false;
	if (write)
		return !(s.type & 8) && (s.type & 2);
	return !(s.type & 8) || (s.type & 2);
}

static void set_zf(struct soft_cpu *cpu, bool zf)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~RFLAGS_ZF) | (zf ? RFLAGS_ZF : 0);
}

/* 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW. */
OP(op_grp6)
{
	require_pm(cpu);
	switch (in->sub) {
	case 0:
		rm_write(cpu, in, in->osize, cpu->ldt.selector);
		return next_insn(cpu, in);
	case 1:
		rm_write(cpu, in, in->osize, cpu->tr.selector);
		return next_insn(cpu, in);
	case 2:
		require_cpl0(cpu);
		load_ldt(cpu, rm_read(cpu, in, 2));
		return next_insn(cpu, in);
	case 3:
		require_cpl0(cpu);
		load_tr(cpu, rm_read(cpu, in, 2));
		return next_insn(cpu, in);
	default:
		set_zf(cpu, verify_seg(cpu, rm_read(cpu, in, 2), in->sub == 5));
		return next_insn(cpu, in);
	}
}

/* LAR and LSL. */
OP(op_lar)
{
	u16 sel;
	struct segment s;
	u32 limit;
	u64 lo;
	bool ok;

	require_pm(cpu);
	sel = rm_read(cpu, in, 2);
	limit = (sel & 4) ? cpu->ldt.limit : cpu->gdt.limit;
	ok = (sel & ~3u) && (sel & ~7u) + 7 <= limit;
	if (ok) {
		lo = desc_read(cpu, sel, EXC_GP, NULL);
		desc_decode(lo, 0, sel, &s);
		if (s.s) {
			if (!((s.type & 8) && (s.type & 4)) && (s.dpl < cpu->cpl || s.dpl < (sel & 3)))
				ok = false;
		} else {
			/* System types LAR/LSL accept (LDT, TSS; LAR also gates). */
			static const u16 lar_ok = 0x1e3e, lsl_ok = 0x0a0e;

			ok = ((in->sub ? lsl_ok : lar_ok) >> s.type) & 1;
			if (cpu_long_mode(cpu))
				ok = ok && (s.type == 2 || s.type == 9 || s.type == 0xb ||
					    (!in->sub && (s.type == 0xc)));
			if (s.dpl < cpu->cpl || s.dpl < (sel & 3))
				ok = false;
		}
		if (ok)
			reg_write(cpu, in->reg, in->osize,
				  in->sub ? s.limit : (lo >> 32) & 0x00f0ff00ULL);
	}
	set_zf(cpu, ok);
	return next_insn(cpu, in);
}

OP(op_wbinvd)
{
	require_cpl0(cpu);
	return next_insn(cpu, in);
}

OP(op_mov_to_seg)
{
	load_seg(cpu, in->sub, rm_read(cpu, in, 2));
	if (in->sub == SEG_SS) {
		cpu->intr_shadow = 1;
		return retire_exit(cpu, in);
	}
	return next_insn(cpu, in);
}

OP(op_mov_from_seg)
{
	u16 sel = cpu->seg[in->sub].selector;

	if (in->flags & INSN_MEM)
		mem_write16(cpu, insn_lin(cpu, in), sel);
	else
		reg_write(cpu, in->rm, in->osize, sel);
	return next_insn(cpu, in);
}

/* LDS, LES, LSS, LFS, LGS. */
OP(op_load_far_ptr)
{
	u64 off = mem_read(cpu, insn_lin(cpu, in), in->osize);
	u16 sel = mem_read16(cpu, seg_lin(cpu, in->seg,
					 (insn_ea(cpu, in) + in->osize) & addr_masks[in->asize]));

	load_seg(cpu, in->sub, sel);
	reg_write(cpu, in->reg, in->osize, off);
	if (in->sub == SEG_SS) {
		cpu->intr_shadow = 1;
		return retire_exit(cpu, in);
	}
	return next_insn(cpu, in);
}

OP(op_syscall)
{
	u64 next = insn_next_rip(cpu, in);
	u16 sel = (cpu->star >> 32) & 0xfffc;

	if (!(cpu->efer & EFER_SCE))
		cpu_raise_ud(cpu);
	cpu_flags_materialize(cpu);
	if (cpu_long_mode(cpu)) {
		bool from64 = cpu->mode == CPU_MODE_64;

		cpu->gpr[GPR_RCX] = next;
		cpu->gpr[GPR_R11] = cpu->rflags & ~RFLAGS_RF;
		cpu->rflags &= ~(cpu->sfmask | RFLAGS_RF);
		cpu->rflags |= RFLAGS_FIXED;
		set_flat_seg(cpu, SEG_CS, sel, true, 0);
		set_flat_seg(cpu, SEG_SS, sel + 8, false, 0);
		cpu_set_cpl(cpu, 0);
		cpu_update_mode(cpu);
		cpu->rip = from64 ? cpu->lstar : cpu->cstar;
		cpu->db_trap = cpu->rflags & RFLAGS_TF;	/* TF at the end counts */
	} else {
		cpu->gpr[GPR_RCX] = (u32)next;
		cpu->rflags &= ~(RFLAGS_IF | RFLAGS_VM | RFLAGS_RF);
		set_flat_seg(cpu, SEG_CS, sel, false, 0);
		set_flat_seg(cpu, SEG_SS, sel + 8, false, 0);
		cpu_set_cpl(cpu, 0);
		cpu_update_mode(cpu);
		cpu->rip = (u32)cpu->star;
		cpu->db_trap = cpu->rflags & RFLAGS_TF;
	}
	return NULL;
}

OP(op_sysret)
{
	u16 sel = (cpu->star >> 48) & 0xfffc;
	bool to64 = in->flags & INSN_REXW;
	u64 target;

	if (!(cpu->efer & EFER_SCE))
		cpu_raise_ud(cpu);
	if (cpu->cpl != 0 || cpu_real_mode(cpu))
		cpu_raise_gp(cpu, 0);
	if (cpu_long_mode(cpu)) {
		target = to64 ? cpu->gpr[GPR_RCX] : (u32)cpu->gpr[GPR_RCX];
		if (!is_canonical(target))
			cpu_raise_gp(cpu, 0);
		cpu_flags_materialize(cpu);
		cpu->rflags = (cpu->gpr[GPR_R11] & 0x3c7fd7ULL) | RFLAGS_FIXED;
		set_flat_seg(cpu, SEG_CS, (to64 ? sel + 16 : sel) | 3, to64, 3);
	} else {
		target = (u32)cpu->gpr[GPR_RCX];
		cpu_flags_materialize(cpu);
		cpu->rflags |= RFLAGS_IF;
		set_flat_seg(cpu, SEG_CS, sel | 3, false, 3);
	}
	set_flat_seg(cpu, SEG_SS, (sel + 8) | 3, false, 3);
	cpu_set_cpl(cpu, 3);
	cpu_update_mode(cpu);
	cpu->rip = target;
	/* A single-step trap follows SYSRET when it leaves TF set. */
	cpu->db_trap = cpu->rflags & RFLAGS_TF;
	if (cpu->rflags & RFLAGS_IF)
		soft_irq_window_opened(cpu);
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
/* Segment loads, far JMP/CALL/RET and IRET (Intel SDM vol. 3, ch. 5-6). */
#include "engine/soft/seg.h"

#include "engine/soft/exec.h"
#include "engine/soft/soft_irq_glue.h"
#include "lib/log.h"

#define TYPE_CODE	0x8
#define TYPE_CONFORM	0x4	/* code */
#define TYPE_READ	0x2	/* code */
#define TYPE_WRITE	0x2	/* data */
#define TYPE_ACCESSED	0x1

void desc_decode(u64 lo, u64 hi, u16 sel, struct segment *s)
{
	u32 limit = (lo & 0xffff) | ((lo >> 32) & 0xf0000);

	s->selector = sel;
	s->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24);
	s->type = (lo >> 40) & 0xf;
	s->s = (lo >> 44) & 1;
	s->dpl = (lo >> 45) & 3;
	s->present = (lo >> 47) & 1;
	s->avl = (lo >> 52) & 1;
	s->l = (lo >> 53) & 1;
	s->db = (lo >> 54) & 1;
	s->g = (lo >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = 0;
	/* System descriptors (LDT, TSS) are 16 bytes in long mode. */
	if (!s->s)
		s->base |= (hi & 0xffffffffULL) << 32;
}

u64 desc_read(struct soft_cpu *cpu, u16 sel, int vector, u64 *hi)
{
	const struct dtable *t = (sel & 4) ? (const struct dtable *)&cpu->ldt : &cpu->gdt;
	u64 base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;
	u32 limit = (sel & 4) ? cpu->ldt.limit : cpu->gdt.limit;
	u32 idx = sel & ~7u;
	unsigned int need = hi ? 15 : 7;

	(void)t;
	if ((sel & 4) && cpu->ldt.unusable)
		cpu_raise(cpu, vector, sel & ~3u, true);
	if (idx + need > limit)
		cpu_raise(cpu, vector, sel & ~3u, true);
	if (hi)
		*hi = mem_read_sys(cpu, base + idx + 8, 8);
	return mem_read_sys(cpu, base + idx, 8);
}

/* Hardware sets the descriptor's accessed bit on a load. */
static void desc_set_accessed(struct soft_cpu *cpu, u16 sel, u64 lo)
{
	u64 base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;

	if (!(lo & (1ULL << 40)))
		mem_write_sys(cpu, base + (sel & ~7u) + 5, 1, (lo >> 40) | TYPE_ACCESSED);
}

void set_cs(struct soft_cpu *cpu, const struct segment *cs, unsigned int cpl)
{
	cpu->seg[SEG_CS] = *cs;
	cpu_set_cpl(cpu, cpl);
	cpu_update_mode(cpu);
}

static void load_seg_real(struct soft_cpu *cpu, unsigned int seg, u16 sel)
{
	struct segment *s = &cpu->seg[seg];

	s->selector = sel;
	s->base = (u64)sel << 4;
	s->unusable = 0;
	if (cpu_real_mode(cpu)) {
		/* Real mode keeps the cached limit and attributes (unreal mode). */
		s->present = 1;
		s->s = 1;
	}
	cpu_update_mode(cpu);
}

void load_seg(struct soft_cpu *cpu, unsigned int seg, u16 sel)
{
	struct segment s;
	unsigned int rpl = sel & 3;
	u64 lo, hi = 0;

	if (cpu_real_mode(cpu) || (cpu->rflags & RFLAGS_VM)) {
		load_seg_real(cpu, seg, sel);
		return;
	}
	if ((sel & ~3u) == 0) {
		if (seg == SEG_SS && !(cpu->mode == CPU_MODE_64 && cpu->cpl != 3 && rpl == cpu->cpl))
			cpu_raise_gp(cpu, 0);
		cpu->seg[seg].selector = sel;
		cpu->seg[seg].unusable = 1;
		cpu->seg[seg].present = 0;
		if (seg != SEG_SS)
			cpu->seg[seg].base = 0;
		else
			cpu->seg[seg].dpl = cpu->cpl;
		cpu_update_mode(cpu);
		return;
	}
	lo = desc_read(cpu, sel, EXC_GP, NULL);
	desc_decode(lo, hi, sel, &s);
	if (seg == SEG_SS) {
		if (rpl != cpu->cpl || s.dpl != cpu->cpl || !s.s || (s.type & TYPE_CODE) ||
		    !(s.type & TYPE_WRITE))
			cpu_raise_gp(cpu, sel & ~3u);
		if (!s.present)
			cpu_raise(cpu, EXC_SS, sel & ~3u, true);
	} else {
		if (!s.s || ((s.type & TYPE_CODE) && !(s.type & TYPE_READ)))
			cpu_raise_gp(cpu, sel & ~3u);
		if ((!(s.type & TYPE_CODE) || !(s.type & TYPE_CONFORM)) &&
		    (rpl > s.dpl || cpu->cpl > s.dpl))
			cpu_raise_gp(cpu, sel & ~3u);
		if (!s.present)
			cpu_raise(cpu, EXC_NP, sel & ~3u, true);
	}
	desc_set_accessed(cpu, sel, lo);
	s.type |= TYPE_ACCESSED;
	cpu->seg[seg] = s;
	cpu_update_mode(cpu);
}

void set_flat_seg(struct soft_cpu *cpu, unsigned int seg, u16 sel, bool code64, unsigned int dpl)
{
	struct segment *s = &cpu->seg[seg];

	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->type = seg == SEG_CS ? 0xb : 0x3;
	s->s = 1;
	s->dpl = dpl;
	s->present = 1;
	s->avl = 0;
	s->l = code64;
	s->db = !code64;
	s->g = 1;
	s->unusable = 0;
}

/* Checks and decodes a code segment for a far JMP/CALL to it. */
/* The code descriptor sel names, for a far transfer or a return: #GP(0) if null. */
static u64 code_desc_read(struct soft_cpu *cpu, u16 sel, struct segment *cs)
{
	u64 lo;

	if ((sel & ~3u) == 0)
		cpu_raise_gp(cpu, 0);
	lo = desc_read(cpu, sel, EXC_GP, NULL);
	desc_decode(lo, 0, sel, cs);
	return lo;
}

/*
 * The checks a far transfer and a return share once type and privilege
 * passed: present (#NP), not L and D together in long mode (#GP); then
 * the descriptor is marked accessed.
 */
static void code_desc_accept(struct soft_cpu *cpu, u16 sel, u64 lo, struct segment *cs)
{
	if (!cs->present)
		cpu_raise(cpu, EXC_NP, sel & ~3u, true);
	if (cpu_long_mode(cpu) && cs->l && cs->db)
		cpu_raise_gp(cpu, sel & ~3u);
	desc_set_accessed(cpu, sel, lo);
	cs->type |= TYPE_ACCESSED;
}

static void code_desc_for_transfer(struct soft_cpu *cpu, u16 sel, struct segment *cs)
{
	u64 lo = code_desc_read(cpu, sel, cs);

	if (!cs->s) {
		pr_warn_once("soft: far transfer through a gate or TSS (selector %#x) is not implemented", sel);
		cpu_raise_gp(cpu, sel & ~3u);
	}
	if (!(cs->type & TYPE_CODE))
		cpu_raise_gp(cpu, sel & ~3u);
	if (cs->type & TYPE_CONFORM) {
		if (cs->dpl > cpu->cpl)
			cpu_raise_gp(cpu, sel & ~3u);
	} else if ((sel & 3) > cpu->cpl || cs->dpl != cpu->cpl) {
		cpu_raise_gp(cpu, sel & ~3u);
	}
	code_desc_accept(cpu, sel, lo, cs);
	cs->selector = (sel & ~3u) | cpu->cpl;
}

static u64 target_ip(const struct segment *cs, bool long_mode, u64 off, unsigned int osize)
{
	if (long_mode && cs->l)
		return off;
	if (osize == 2)
		return off & 0xffff;
	return off & 0xffffffffULL;
}

static bool pm(const struct soft_cpu *cpu)
{
	return !cpu_real_mode(cpu) && !(cpu->rflags & RFLAGS_VM);
}

void far_jmp(struct soft_cpu *cpu, u16 sel, u64 off, unsigned int osize)
{
	struct segment cs;

	if (!pm(cpu)) {
		load_seg_real(cpu, SEG_CS, sel);
		cpu->rip = off & (osize == 2 ? 0xffff : 0xffffffffULL);
		return;
	}
	code_desc_for_transfer(cpu, sel, &cs);
	set_cs(cpu, &cs, cpu->cpl);
	cpu->rip = target_ip(&cs, cpu_long_mode(cpu), off, osize);
}

void far_call(struct soft_cpu *cpu, u16 sel, u64 off, unsigned int osize, u64 ret_ip)
{
	struct segment cs;
	u64 sp = cpu->gpr[GPR_RSP];
	u16 old_sel = cpu->seg[SEG_CS].selector;

	ret_ip &= osize == 2 ? 0xffff : osize == 4 ? 0xffffffffULL : ~0ULL;
	/* Both slots must be writable before anything changes. */
	mem_probe_write(cpu, stack_lin(cpu, sp - 2 * osize), 2 * osize, cpu_user(cpu));
	if (!pm(cpu)) {
		mem_write(cpu, stack_lin(cpu, sp - osize), osize, old_sel);
		mem_write(cpu, stack_lin(cpu, sp - 2 * osize), osize, ret_ip);
		set_sp(cpu, sp - 2 * osize);
		load_seg_real(cpu, SEG_CS, sel);
		cpu->rip = off & (osize == 2 ? 0xffff : 0xffffffffULL);
		return;
	}
	code_desc_for_transfer(cpu, sel, &cs);
	mem_write(cpu, stack_lin(cpu, sp - osize), osize, old_sel);
	mem_write(cpu, stack_lin(cpu, sp - 2 * osize), osize, ret_ip);
	set_sp(cpu, sp - 2 * osize);
	set_cs(cpu, &cs, cpu->cpl);
	cpu->rip = target_ip(&cs, cpu_long_mode(cpu), off, osize);
}

/*
 * Checks the code segment a RET/IRET returns to; outer tells whether it
 * is a return to a less privileged level.
 */
static void code_desc_for_return(struct soft_cpu *cpu, u16 sel, struct segment *cs, bool *outer)
{
	unsigned int rpl = sel & 3;
	u64 lo = code_desc_read(cpu, sel, cs);

	if (!cs->s || !(cs->type & TYPE_CODE) || rpl < cpu->cpl)
		cpu_raise_gp(cpu, sel & ~3u);
	if ((cs->type & TYPE_CONFORM) ? cs->dpl > rpl : cs->dpl != rpl)
		cpu_raise_gp(cpu, sel & ~3u);
	code_desc_accept(cpu, sel, lo, cs);
	*outer = rpl > cpu->cpl;
}

/* Checks the SS loaded by a return to an outer level, at the new CPL. */
static void ss_for_return(struct soft_cpu *cpu, u16 sel, unsigned int cpl, bool cs64, struct segment *ss)
{
	u64 lo;

	if ((sel & ~3u) == 0) {
		/* Long mode allows a null SS when returning to 64-bit code at CPL < 3. */
		if (!(cpu_long_mode(cpu) && cs64 && cpl != 3 && (sel & 3) == cpl))
			cpu_raise_gp(cpu, 0);
		*ss = cpu->seg[SEG_SS];
		ss->selector = sel;
		ss->unusable = 1;
		ss->dpl = cpl;
		return;
	}
	lo = desc_read(cpu, sel, EXC_GP, NULL);
	desc_decode(lo, 0, sel, ss);
	if ((sel & 3) != cpl || ss->dpl != cpl || !ss->s || (ss->type & TYPE_CODE) ||
	    !(ss->type & TYPE_WRITE))
		cpu_raise_gp(cpu, sel & ~3u);
	if (!ss->present)
		cpu_raise(cpu, EXC_SS, sel & ~3u, true);
	desc_set_accessed(cpu, sel, lo);
	ss->type |= TYPE_ACCESSED;
}

/* After a return to an outer level: data segments more privileged than CPL become null. */
static void nullify_inner_segs(struct soft_cpu *cpu)
{
	static const unsigned int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };

	for (unsigned int i = 0; i < ARRAY_SIZE(segs); i++) {
		struct segment *s = &cpu->seg[segs[i]];

		if (s->unusable || !s->s)
			continue;
		if ((!(s->type & TYPE_CODE) || !(s->type & TYPE_CONFORM)) && s->dpl < cpu->cpl) {
			s->selector = 0;
			s->unusable = 1;
			s->present = 0;
			if (segs[i] != SEG_FS && segs[i] != SEG_GS)
				s->base = 0;
		}
	}
	cpu_update_mode(cpu);
}

/* Commits a return: CS, SS:RSP for outer returns, segment cleanup. */
static void commit_return(struct soft_cpu *cpu, const struct segment *cs, u64 ip,
			  bool outer, const struct segment *ss, u64 sp, unsigned int osize)
{
	unsigned int cpl = cs->selector & 3;

	set_cs(cpu, cs, cpl);
	cpu->rip = target_ip(cs, cpu_long_mode(cpu), ip, osize);
	if (outer) {
		cpu->seg[SEG_SS] = *ss;
		cpu_update_mode(cpu);
		if (cpu->mode == CPU_MODE_64)
			cpu->gpr[GPR_RSP] = sp;
		else
			set_sp(cpu, sp);
		nullify_inner_segs(cpu);
	}
}

void far_ret(struct soft_cpu *cpu, unsigned int osize, u16 imm)
{
	u64 ip = stack_peek(cpu, osize, 0);
	u16 sel = stack_peek(cpu, osize, osize);
	struct segment cs, ss;
	bool outer;

	if (!pm(cpu)) {
		set_sp(cpu, cpu->gpr[GPR_RSP] + 2 * osize + imm);
		load_seg_real(cpu, SEG_CS, sel);
		cpu->rip = ip & (osize == 2 ? 0xffff : 0xffffffffULL);
		return;
	}
	code_desc_for_return(cpu, sel, &cs, &outer);
	if (!outer) {
		set_sp(cpu, cpu->gpr[GPR_RSP] + 2 * osize + imm);
		commit_return(cpu, &cs, ip, false, NULL, 0, osize);
		return;
	}
	{
		unsigned int off = 2 * osize + imm;
		u64 sp = stack_peek(cpu, osize, off);
		u16 ss_sel = stack_peek(cpu, osize, off + osize);

		ss_for_return(cpu, ss_sel, sel & 3, cs.l, &ss);
		commit_return(cpu, &cs, ip, true, &ss, sp + imm, osize);
	}
}

void cpu_iret(struct soft_cpu *cpu, unsigned int osize)
{
	u64 ip, flags, sp = 0;
	u16 sel, ss_sel = 0;
	struct segment cs, ss;
	bool outer;

	if (cpu->nmi_blocked) {
		/* IRET ends NMI blocking: a latched NMI may go now. */
		cpu->nmi_blocked = false;
		if (cpu->nmi_pending)
			soft_irq_window_opened(cpu);
	}
	if (!pm(cpu)) {
		if (cpu->rflags & RFLAGS_VM) {
			pr_warn_once("soft: IRET in virtual-8086 mode is not implemented");
			cpu_raise_gp(cpu, 0);
		}
		ip = stack_peek(cpu, osize, 0);
		sel = stack_peek(cpu, osize, osize);
		flags = stack_peek(cpu, osize, 2 * osize);
		set_sp(cpu, cpu->gpr[GPR_RSP] + 3 * osize);
		load_seg_real(cpu, SEG_CS, sel);
		cpu->rip = ip & (osize == 2 ? 0xffff : 0xffffffffULL);
		cpu_write_rflags(cpu, flags, osize, true);
		return;
	}
	if (cpu->rflags & RFLAGS_NT) {
		pr_warn_once("soft: IRET with NT set (task return) is not implemented");
		cpu_raise_gp(cpu, 0);
	}
	ip = stack_peek(cpu, osize, 0);
	sel = stack_peek(cpu, osize, osize);
	flags = stack_peek(cpu, osize, 2 * osize);
	if (!cpu_long_mode(cpu) && (flags & RFLAGS_VM) && osize == 4 && cpu->cpl == 0) {
		pr_warn_once("soft: IRET to virtual-8086 mode is not implemented");
		cpu_raise_gp(cpu, 0);
	}
	code_desc_for_return(cpu, sel, &cs, &outer);
	/* 64-bit mode always pops SS:RSP; other modes only on a level change. */
	if (outer || cpu->mode == CPU_MODE_64) {
		sp = stack_peek(cpu, osize, 3 * osize);
		ss_sel = stack_peek(cpu, osize, 4 * osize);
		ss_for_return(cpu, ss_sel, sel & 3, cs.l, &ss);
	}
	/* Flags are checked against the CPL before the return. */
	cpu_write_rflags(cpu, flags, osize, true);
	if (outer || cpu->mode == CPU_MODE_64) {
		commit_return(cpu, &cs, ip, true, &ss, sp, osize);
		if (!outer)
			cpu_update_mode(cpu);
	} else {
		set_sp(cpu, cpu->gpr[GPR_RSP] + 3 * osize);
		commit_return(cpu, &cs, ip, false, NULL, 0, osize);
	}
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Exceptions and interrupts. A handler that faults calls cpu_raise(),
 * which records the event and longjmps to the run loop (set once per
 * cpu_exec() entry); the loop then delivers it through the IVT (real
 * mode) or the IDT. A fault while delivering comes back the same way and
 * is combined with the first one into #DF, or a triple fault.
 */
#include "engine/soft/exec.h"
#include "engine/soft/seg.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "lib/log.h"

/* Mid-block, RIP is the block's start plus the running insn's offset. */
static inline void fold_rip(struct soft_cpu *cpu)
{
	if (cpu->cur) {
		cpu->rip += cpu->cur->pcoff;
		cpu->cur = NULL;
	}
}

_Noreturn void cpu_raise(struct soft_cpu *cpu, int vector, u32 error, bool has_error)
{
	fold_rip(cpu);
	cpu->exc_vector = vector;
	cpu->exc_error = error;
	cpu->exc_has_error = has_error;
	cpu->exc_soft = false;
	cpu->stats.exceptions++;
	_longjmp(cpu->jmp, 1);
}

_Noreturn void cpu_raise_gp(struct soft_cpu *cpu, u32 error)
{
	cpu_raise(cpu, EXC_GP, error, true);
}

_Noreturn void cpu_raise_ud(struct soft_cpu *cpu)
{
	cpu_raise(cpu, EXC_UD, 0, false);
}

_Noreturn void cpu_raise_pf(struct soft_cpu *cpu, u64 addr, u32 error)
{
	cpu->cr2 = addr;
	cpu_raise(cpu, EXC_PF, error, true);
}

_Noreturn void cpu_raise_soft_int(struct soft_cpu *cpu, int vector, u64 next_rip)
{
	fold_rip(cpu);
	cpu->exc_vector = vector;
	cpu->exc_error = 0;
	cpu->exc_has_error = false;
	cpu->exc_soft = true;
	cpu->exc_next_rip = next_rip;
	_longjmp(cpu->jmp, 1);
}

_Noreturn void cpu_exit_loop(struct soft_cpu *cpu)
{
	fold_rip(cpu);
	cpu->exc_vector = -1;
	_longjmp(cpu->jmp, 1);
}

static bool contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

static bool has_error_code(int v)
{
	return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC;
}

struct event {
	int vector;
	bool has_error;
	u32 error;
	bool soft;		/* INT n/INT3/INTO: gate DPL checked */
	bool ext;		/* external interrupt: EXT bit in error codes */
	bool fault;		/* RF set in the pushed RFLAGS (SDM 17.3.1.1) */
	u64 ret_ip;		/* RIP pushed */
};

/* RFLAGS as the event frame holds it. */
static u64 frame_rflags(struct soft_cpu *cpu, const struct event *ev)
{
	return cpu_get_rflags(cpu) | (ev->fault ? RFLAGS_RF : 0);
}

static u32 idt_error(const struct event *ev)
{
	return ((u32)ev->vector << 3) | 2 | (ev->ext ? 1 : 0);
}

static void deliver_real(struct soft_cpu *cpu, const struct event *ev)
{
	u64 ent = cpu->idt.base + (u64)ev->vector * 4;
	u64 sp = cpu->gpr[GPR_RSP];
	u32 vec;

	if ((u64)ev->vector * 4 + 3 > cpu->idt.limit)
		cpu_raise_gp(cpu, idt_error(ev));
	vec = mem_read_sys(cpu, ent & 0xfffff, 4);
	mem_probe_write(cpu, stack_lin(cpu, sp - 6), 6, false);
	mem_write(cpu, stack_lin(cpu, sp - 2), 2, cpu_get_rflags(cpu));
	mem_write(cpu, stack_lin(cpu, sp - 4), 2, cpu->seg[SEG_CS].selector);
	mem_write(cpu, stack_lin(cpu, sp - 6), 2, ev->ret_ip);
	set_sp(cpu, sp - 6);
	cpu_flags_materialize(cpu);
	cpu->rflags &= ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC | RFLAGS_RF);
	cpu->seg[SEG_CS].selector = vec >> 16;
	cpu->seg[SEG_CS].base = (vec >> 16) << 4;
	cpu_update_mode(cpu);
	cpu->rip = vec & 0xffff;
}

/* The target code segment of a gate, checked. */
static void gate_target_cs(struct soft_cpu *cpu, const struct event *ev, u16 sel, struct segment *cs)
{
	u32 err = (sel & ~3u) | (ev->ext ? 1 : 0);
	u64 lo;

	if ((sel & ~3u) == 0)
		cpu_raise_gp(cpu, ev->ext ? 1 : 0);
	lo = desc_read(cpu, sel, EXC_GP, NULL);
	desc_decode(lo, 0, sel, cs);
	if (!cs->s || !(cs->type & 0x8) || cs->dpl > cpu->cpl)
		cpu_raise_gp(cpu, err);
	if (!cs->present)
		cpu_raise(cpu, EXC_NP, err, true);
}

static void deliver_long(struct soft_cpu *cpu, const struct event *ev)
{
	u64 lo, hi, off, rsp, frame[6];
	unsigned int type, dpl, ist, new_cpl, n = 0;
	struct segment cs;
	u16 sel;

	if ((u64)ev->vector * 16 + 15 > cpu->idt.limit)
		cpu_raise_gp(cpu, idt_error(ev));
	lo = mem_read_sys(cpu, cpu->idt.base + (u64)ev->vector * 16, 8);
	hi = mem_read_sys(cpu, cpu->idt.base + (u64)ev->vector * 16 + 8, 8);
	type = (lo >> 40) & 0x1f;
	dpl = (lo >> 45) & 3;
	if (type != 0xe && type != 0xf)
		cpu_raise_gp(cpu, idt_error(ev));
	if (ev->soft && dpl < cpu->cpl)
		cpu_raise_gp(cpu, idt_error(ev));
	if (!((lo >> 47) & 1))
		cpu_raise(cpu, EXC_NP, idt_error(ev), true);
	sel = lo >> 16;
	off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ULL) | (hi << 32);
	ist = (lo >> 32) & 7;
	gate_target_cs(cpu, ev, sel, &cs);
	if (!cs.l || cs.db)
		cpu_raise_gp(cpu, (sel & ~3u) | (ev->ext ? 1 : 0));
	new_cpl = (cs.type & 0x4) ? cpu->cpl : cs.dpl;

	if (ist)
		rsp = mem_read_sys(cpu, cpu->tr.base + 36 + (ist - 1) * 8, 8);
	else if (new_cpl < cpu->cpl)
		rsp = mem_read_sys(cpu, cpu->tr.base + 4 + new_cpl * 8, 8);
	else
		rsp = cpu->gpr[GPR_RSP];
	if (ist || new_cpl < cpu->cpl) {
		if (cpu->tr.limit < (ist ? 36 + ist * 8 - 1 : 11 + new_cpl * 8))
			cpu_raise(cpu, EXC_TS, (cpu->tr.selector & ~3u) | (ev->ext ? 1 : 0), true);
	}
	if (!is_canonical(rsp))
		cpu_raise(cpu, EXC_SS, ev->ext ? 1 : 0, true);
	rsp &= ~0xfULL;

	frame[n++] = cpu->seg[SEG_SS].selector;
	frame[n++] = cpu->gpr[GPR_RSP];
	frame[n++] = frame_rflags(cpu, ev);
	frame[n++] = cpu->seg[SEG_CS].selector;
	frame[n++] = ev->ret_ip;
	if (ev->has_error)
		frame[n++] = ev->error;

	/* Every slot is checked before the first store: no half-built frame. */
	mem_probe_write(cpu, rsp - n * 8, n * 8, new_cpl == 3);
	for (unsigned int i = 0; i < n; i++) {
		if (new_cpl == 3)
			mem_write(cpu, rsp - (i + 1) * 8, 8, frame[i]);
		else
			mem_write_sys(cpu, rsp - (i + 1) * 8, 8, frame[i]);
	}
	rsp -= n * 8;
	if (!is_canonical(off))
		cpu_raise_gp(cpu, 0);

	cpu_flags_materialize(cpu);
	cpu->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (type == 0xe)
		cpu->rflags &= ~RFLAGS_IF;
	if (new_cpl != cpu->cpl) {
		struct segment *ss = &cpu->seg[SEG_SS];

		ss->selector = new_cpl;
		ss->unusable = 1;
		ss->present = 0;
		ss->dpl = new_cpl;
		ss->base = 0;
	}
	cs.selector = (sel & ~3u) | new_cpl;
	cs.type |= 1;
	set_cs(cpu, &cs, new_cpl);
	cpu->gpr[GPR_RSP] = rsp;
	cpu->rip = off;
}

static void deliver_protected(struct soft_cpu *cpu, const struct event *ev)
{
	u64 lo, off, sp;
	unsigned int type, dpl, new_cpl, size, n = 0;
	struct segment cs, ss;
	u32 frame[6];
	u16 sel;
	bool inner;

	if ((u64)ev->vector * 8 + 7 > cpu->idt.limit)
		cpu_raise_gp(cpu, idt_error(ev));
	lo = mem_read_sys(cpu, cpu->idt.base + (u64)ev->vector * 8, 8);
	type = (lo >> 40) & 0x1f;
	dpl = (lo >> 45) & 3;
	if (type == 0x5) {
		pr_warn_once("soft: task gates are not implemented (vector %d)", ev->vector);
		cpu_raise_gp(cpu, idt_error(ev));
	}
	if (type != 0x6 && type != 0x7 && type != 0xe && type != 0xf)
		cpu_raise_gp(cpu, idt_error(ev));
	if (ev->soft && dpl < cpu->cpl)
		cpu_raise_gp(cpu, idt_error(ev));
	if (!((lo >> 47) & 1))
		cpu_raise(cpu, EXC_NP, idt_error(ev), true);
	size = type & 0x8 ? 4 : 2;
	sel = lo >> 16;
	off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ULL);
	if (size == 2)
		off &= 0xffff;
	gate_target_cs(cpu, ev, sel, &cs);
	new_cpl = (cs.type & 0x4) ? cpu->cpl : cs.dpl;
	inner = new_cpl < cpu->cpl;

	if (inner) {
		/* New stack from the 32-bit TSS. */
		u64 tss = cpu->tr.base;
		u16 ss_sel;
		u64 ss_lo;

		if (cpu->tr.limit < 8 + new_cpl * 8 + 1)
			cpu_raise(cpu, EXC_TS, cpu->tr.selector & ~3u, true);
		sp = mem_read_sys(cpu, tss + 4 + new_cpl * 8, 4);
		ss_sel = mem_read_sys(cpu, tss + 8 + new_cpl * 8, 2);
		if ((ss_sel & ~3u) == 0)
			cpu_raise(cpu, EXC_TS, ev->ext ? 1 : 0, true);
		ss_lo = desc_read(cpu, ss_sel, EXC_TS, NULL);
		desc_decode(ss_lo, 0, ss_sel, &ss);
		if ((ss_sel & 3) != new_cpl || ss.dpl != new_cpl || !ss.s || (ss.type & 0x8) ||
		    !(ss.type & 0x2))
			cpu_raise(cpu, EXC_TS, ss_sel & ~3u, true);
		if (!ss.present)
			cpu_raise(cpu, EXC_SS, ss_sel & ~3u, true);
		frame[n++] = cpu->seg[SEG_SS].selector;
		frame[n++] = cpu->gpr[GPR_RSP];
	} else {
		ss = cpu->seg[SEG_SS];
		sp = cpu->gpr[GPR_RSP];
	}
	frame[n++] = frame_rflags(cpu, ev);
	frame[n++] = cpu->seg[SEG_CS].selector;
	frame[n++] = ev->ret_ip;
	if (ev->has_error)
		frame[n++] = ev->error;

	{
		u64 mask = ss.db ? 0xffffffffULL : 0xffff;
		bool user = new_cpl == 3;

		for (unsigned int i = 0; i < n; i++)
			mem_probe_write(cpu, (ss.base + ((sp - (i + 1) * size) & mask)) & 0xffffffffULL,
					size, user);
		for (unsigned int i = 0; i < n; i++) {
			u64 lin = (ss.base + ((sp - (i + 1) * size) & mask)) & 0xffffffffULL;

			mem_write_slow(cpu, lin, frame[i], size, user);
		}
		sp = (sp & ~mask) | ((sp - n * size) & mask);
	}

	cpu_flags_materialize(cpu);
	cpu->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (!(type & 1))
		cpu->rflags &= ~RFLAGS_IF;
	if (inner)
		cpu->seg[SEG_SS] = ss;
	cs.selector = (sel & ~3u) | new_cpl;
	cs.type |= 1;
	set_cs(cpu, &cs, new_cpl);
	cpu->gpr[GPR_RSP] = sp;
	cpu->rip = off;
}

static void trace_event(struct soft_cpu *cpu, const struct event *ev)
{
	pr_info("soft: cpu%u: %s %d%s err=%#x rip=%#llx cs=%#x cpl=%u cr2=%#llx rsp=%#llx",
		soft_cpu_index(cpu), ev->ext ? "interrupt" : ev->soft ? "int" : "exception",
		ev->vector, ev->has_error ? "" : " (no error code)", ev->error,
		(unsigned long long)cpu->rip, cpu->seg[SEG_CS].selector, cpu->cpl,
		(unsigned long long)cpu->cr2, (unsigned long long)cpu->gpr[GPR_RSP]);
}

static void deliver(struct soft_cpu *cpu, const struct event *ev)
{
	if (unlikely(cpu->svm->trace))
		trace_event(cpu, ev);
	cpu->intr_shadow = 0;
	cpu->halted = false;
	if (cpu_real_mode(cpu))
		deliver_real(cpu, ev);
	else if (cpu_long_mode(cpu))
		deliver_long(cpu, ev);
	else
		deliver_protected(cpu, ev);
}

void cpu_deliver_pending_exception(struct soft_cpu *cpu)
{
	struct event ev = {
		.vector = cpu->exc_vector,
		.has_error = cpu->exc_has_error,
		.error = cpu->exc_error,
		.soft = cpu->exc_soft,
		.ret_ip = cpu->exc_soft ? cpu->exc_next_rip : cpu->rip,
	};

	cpu->exc_vector = -1;
	if (cpu->delivering >= 0) {
		int first = cpu->delivering;

		if (first == EXC_DF) {
			cpu->triple_fault = true;
			return;
		}
		if ((contributory(first) && contributory(ev.vector)) ||
		    (first == EXC_PF && (contributory(ev.vector) || ev.vector == EXC_PF))) {
			ev = (struct event){ .vector = EXC_DF, .has_error = true, .error = 0,
					     .ret_ip = cpu->rip };
		}
	}
	if (!has_error_code(ev.vector) || cpu_real_mode(cpu))
		ev.has_error = false;
	/* Faults (not traps, INT n or #DF) push RFLAGS with RF set. */
	ev.fault = !ev.soft && ev.vector != EXC_DB && ev.vector != EXC_BP &&
		   ev.vector != EXC_OF && ev.vector != EXC_DF && ev.vector != EXC_MC &&
		   ev.vector != EXC_NMI;
	if (ev.vector == EXC_NMI)
		cpu->nmi_blocked = true;
	cpu->delivering = ev.vector;
	deliver(cpu, &ev);
	cpu->delivering = -1;
}

void cpu_deliver_interrupt(struct soft_cpu *cpu, int vector)
{
	struct event ev = {
		.vector = vector,
		.ext = true,
		.ret_ip = cpu->rip,
	};

	cpu->stats.interrupts++;
	if (vector == EXC_NMI)
		cpu->nmi_blocked = true;
	cpu->delivering = vector;
	deliver(cpu, &ev);
	cpu->delivering = -1;
}

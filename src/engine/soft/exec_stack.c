// SPDX-License-Identifier: Apache-2.0
/* PUSH, POP and the frame instructions. Memory first, RSP last. */
#include "engine/soft/exec.h"
#include "engine/soft/seg.h"
#include "engine/soft/soft_irq_glue.h"

static inline __attribute__((always_inline)) const struct insn *
push_reg_body(struct soft_cpu *cpu, const struct insn *in, unsigned int size)
{
	push(cpu, size, reg_read(cpu, in->reg, size));
	return next_insn(cpu, in);
}

static inline __attribute__((always_inline)) const struct insn *
pop_reg_body(struct soft_cpu *cpu, const struct insn *in, unsigned int size)
{
	u64 v = stack_peek(cpu, size, 0);

	set_sp(cpu, cpu->gpr[GPR_RSP] + size);
	reg_write(cpu, in->reg, size, v);
	return next_insn(cpu, in);
}

#define GEN_PUSHPOP(size) \
	static OP(push_reg_##size) { return push_reg_body(cpu, in, size); } \
	static OP(pop_reg_##size) { return pop_reg_body(cpu, in, size); }
GEN_PUSHPOP(2)
GEN_PUSHPOP(4)
GEN_PUSHPOP(8)

const insn_fn op_push_reg[4] = { NULL, push_reg_2, push_reg_4, push_reg_8 };
const insn_fn op_pop_reg[4] = { NULL, pop_reg_2, pop_reg_4, pop_reg_8 };

OP(op_push_imm)
{
	push(cpu, in->osize, in->imm);
	return next_insn(cpu, in);
}

OP(op_push_rm)
{
	push(cpu, in->osize, rm_read(cpu, in, in->osize));
	return next_insn(cpu, in);
}

OP(op_pop_rm)
{
	unsigned int size = in->osize;
	u64 v = stack_peek(cpu, size, 0), old_sp = cpu->gpr[GPR_RSP];

	if (in->flags & INSN_MEM) {
		/* The address uses RSP as it is after the pop. */
		u64 lin;

		set_sp(cpu, old_sp + size);
		lin = insn_lin(cpu, in);
		cpu->gpr[GPR_RSP] = old_sp;
		mem_write(cpu, lin, size, v);
	}
	set_sp(cpu, old_sp + size);
	if (!(in->flags & INSN_MEM))
		reg_write(cpu, in->rm, size, v);
	return next_insn(cpu, in);
}

OP(op_push_seg)
{
	push(cpu, in->osize, cpu->seg[in->sub].selector);
	return next_insn(cpu, in);
}

OP(op_pop_seg)
{
	u64 v = stack_peek(cpu, in->osize, 0);

	load_seg(cpu, in->sub, v);
	set_sp(cpu, cpu->gpr[GPR_RSP] + in->osize);
	if (in->sub == SEG_SS) {
		cpu->intr_shadow = 1;
		return retire_exit(cpu, in);
	}
	return next_insn(cpu, in);
}

OP(op_pushf)
{
	if (cpu_iopl(cpu) < 3 && (cpu->rflags & RFLAGS_VM))
		cpu_raise_gp(cpu, 0);
	push(cpu, in->osize, cpu_get_rflags(cpu) & ~(RFLAGS_VM | RFLAGS_RF));
	return next_insn(cpu, in);
}

/*
 * The flags POPF/IRET may change: IOPL only at CPL 0, IF only when
 * CPL <= IOPL; VM, RF, VIP and VIF never through POPF.
 */
void cpu_write_rflags(struct soft_cpu *cpu, u64 v, unsigned int size, bool iret)
{
	u64 changeable = RFLAGS_ARITH | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC | RFLAGS_ID;
	bool was_if = cpu->rflags & RFLAGS_IF;
	u64 f;

	if (cpu->cpl == 0)
		changeable |= RFLAGS_IOPL;
	if (cpu->cpl <= cpu_iopl(cpu))
		changeable |= RFLAGS_IF;
	/*
	 * RF only suppresses instruction breakpoints (not implemented) for
	 * the next instruction and is cleared after it: keep it clear.
	 */
	(void)iret;
	if (size == 2)
		changeable &= 0xffff;
	cpu_flags_materialize(cpu);
	f = ((cpu->rflags & ~changeable) | (v & changeable)) & ~RFLAGS_RF;
	cpu->rflags = f | RFLAGS_FIXED;
	cpu_update_tlb_ptr(cpu);
	if (!was_if && (f & RFLAGS_IF))
		soft_irq_window_opened(cpu);
}

OP(op_popf)
{
	u64 v = stack_peek(cpu, in->osize, 0);

	if (cpu_iopl(cpu) < 3 && (cpu->rflags & RFLAGS_VM))
		cpu_raise_gp(cpu, 0);
	set_sp(cpu, cpu->gpr[GPR_RSP] + in->osize);
	cpu_write_rflags(cpu, v, in->osize, false);
	return retire_exit(cpu, in);	/* IF or TF may have changed */
}

OP(op_pusha)
{
	unsigned int size = in->osize;
	u64 sp = cpu->gpr[GPR_RSP];

	/* Probe the whole frame so that a fault changes nothing. */
	mem_probe_write(cpu, stack_lin(cpu, sp - 8 * size), 8 * size, cpu_user(cpu));
	for (unsigned int r = GPR_RAX; r <= GPR_RDI; r++) {
		u64 v = r == GPR_RSP ? sp : cpu->gpr[r];

		mem_write(cpu, stack_lin(cpu, sp - (r + 1) * size), size, v);
	}
	set_sp(cpu, sp - 8 * size);
	return next_insn(cpu, in);
}

OP(op_popa)
{
	unsigned int size = in->osize;
	u64 vals[8];

	for (unsigned int r = GPR_RAX; r <= GPR_RDI; r++)
		vals[r] = stack_peek(cpu, size, (7 - r) * size);
	for (unsigned int r = GPR_RAX; r <= GPR_RDI; r++)
		if (r != GPR_RSP)
			reg_write(cpu, r, size, vals[r]);
	set_sp(cpu, cpu->gpr[GPR_RSP] + 8 * size);
	return next_insn(cpu, in);
}

OP(op_enter)
{
	unsigned int size = in->osize, level = in->imm8 & 31;
	u64 sp = cpu->gpr[GPR_RSP], bp = cpu->gpr[GPR_RBP];
	u64 frame, tmp_sp = sp - size;
	u64 bp_mask = cpu->sp_mask;

	mem_write(cpu, stack_lin(cpu, tmp_sp), size, bp);
	frame = tmp_sp;
	if (level) {
		for (unsigned int i = 1; i < level; i++) {
			u64 v = mem_read(cpu, stack_lin(cpu, bp - i * size), size);

			tmp_sp -= size;
			mem_write(cpu, stack_lin(cpu, tmp_sp), size, v);
		}
		tmp_sp -= size;
		mem_write(cpu, stack_lin(cpu, tmp_sp), size, frame);
	}
	tmp_sp -= (u16)in->imm;
	/*
	 * Hardware checks the bottom of the new frame as an operand-sized
	 * write: a misaligned one raises #AC (tests/difftest found it).
	 */
	mem_probe_write_operand(cpu, stack_lin(cpu, tmp_sp), size, cpu_user(cpu));
	reg_write(cpu, GPR_RBP, size, (bp & ~bp_mask) | (frame & bp_mask));
	set_sp(cpu, tmp_sp);
	return next_insn(cpu, in);
}

OP(op_leave)
{
	unsigned int size = in->osize;
	u64 bp = cpu->gpr[GPR_RBP] & cpu->sp_mask;
	u64 v = mem_read(cpu, stack_lin(cpu, bp), size);

	set_sp(cpu, bp + size);
	reg_write(cpu, GPR_RBP, size, v);
	return next_insn(cpu, in);
}

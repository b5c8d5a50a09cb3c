// SPDX-License-Identifier: Apache-2.0
/*
 * Control transfers. Direct branches end their block through block_exit(),
 * which follows a chained successor without going back to the dispatch
 * loop; indirect ones return NULL and the loop looks the target up.
 */
#include "engine/soft/block.h"
#include "engine/soft/exec.h"
#include "engine/soft/seg.h"

const struct insn *block_exit(struct soft_cpu *cpu, const struct insn *in, unsigned int k)
{
	struct block *b = block_of(in);
	struct block *next = __atomic_load_n(&b->chain[k], __ATOMIC_RELAXED);

	if (next && likely(!__atomic_load_n(cpu->reqs, __ATOMIC_RELAXED)) &&
	    likely(--cpu->poll_countdown != 0) && next->pc == cpu->rip) {
		cpu->stats.insns += next->n;
		cpu->stats.chained++;
		cpu->intr_shadow = 0;
		return next->insns;
	}
	cpu->last_block = b;
	cpu->last_exit = k;
	return NULL;
}

OP(op_block_end)
{
	return block_exit(cpu, in, 0);
}

OP(op_stale)
{
	(void)cpu;
	(void)in;
	return NULL;
}

OP(op_insn_too_long)
{
	(void)in;
	cpu_raise_gp(cpu, 0);
}

OP(op_jmp)
{
	cpu->rip = in->imm;
	return block_exit(cpu, in, 0);
}

OP(op_jcc)
{
	if (cc_test(cpu, in->sub)) {
		cpu->rip = in->imm;
		return block_exit(cpu, in, 0);
	}
	cpu->rip += in->len;
	return block_exit(cpu, in, 1);
}

OP(op_call)
{
	push(cpu, in->osize, (cpu->rip + in->len) & ip_mask(cpu, in->osize));
	cpu->rip = in->imm;
	return block_exit(cpu, in, 0);
}

OP(op_ret)
{
	u64 target = stack_peek(cpu, in->osize, 0) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	set_sp(cpu, cpu->gpr[GPR_RSP] + in->osize + in->imm);
	cpu->rip = target;
	return NULL;
}

OP(op_jmp_rm)
{
	u64 target = rm_read(cpu, in, in->osize) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	cpu->rip = target;
	return NULL;
}

OP(op_call_rm)
{
	u64 target = rm_read(cpu, in, in->osize) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	push(cpu, in->osize, (cpu->rip + in->len) & ip_mask(cpu, in->osize));
	cpu->rip = target;
	return NULL;
}

/* LOOPNE, LOOPE, LOOP, JrCXZ: the counter's size is the address size. */
OP(op_loop)
{
	u64 m = addr_masks[in->asize];
	u64 cx = cpu->gpr[GPR_RCX] & m;
	bool taken;

	if (in->sub == 3) {
		taken = cx == 0;
	} else {
		cx = (cx - 1) & m;
		cpu->gpr[GPR_RCX] = (cpu->gpr[GPR_RCX] & ~m) | cx;
		if (in->asize == 4)
			cpu->gpr[GPR_RCX] = cx;
		taken = cx != 0;
		if (in->sub == 0)
			taken = taken && !cc_test(cpu, COND_E);
		else if (in->sub == 1)
			taken = taken && cc_test(cpu, COND_E);
	}
	if (taken) {
		cpu->rip = in->imm;
		return block_exit(cpu, in, 0);
	}
	cpu->rip += in->len;
	return block_exit(cpu, in, 1);
}

OP(op_jmp_far)
{
	far_jmp(cpu, in->disp, in->imm, in->osize);
	return NULL;
}

OP(op_call_far)
{
	far_call(cpu, in->disp, in->imm, in->osize, cpu->rip + in->len);
	return NULL;
}

/* Reads an m16:16, m16:32 or m16:64 far pointer. */
static void read_far_ptr(struct soft_cpu *cpu, const struct insn *in, u16 *sel, u64 *off)
{
	u64 lin = insn_lin(cpu, in);

	*off = mem_read(cpu, lin, in->osize);
	*sel = mem_read16(cpu, seg_lin(cpu, in->seg, (insn_ea(cpu, in) + in->osize) & addr_masks[in->asize]));
}

OP(op_jmp_far_m)
{
	u16 sel;
	u64 off;

	read_far_ptr(cpu, in, &sel, &off);
	far_jmp(cpu, sel, off, in->osize);
	return NULL;
}

OP(op_call_far_m)
{
	u16 sel;
	u64 off;

	read_far_ptr(cpu, in, &sel, &off);
	far_call(cpu, sel, off, in->osize, cpu->rip + in->len);
	return NULL;
}

OP(op_retf)
{
	far_ret(cpu, in->osize, in->opcode == 0xca ? in->imm : 0);
	return NULL;
}

OP(op_int)
{
	cpu_raise_soft_int(cpu, in->imm & 0xff, cpu->rip + in->len);
}

OP(op_int3)
{
	cpu_raise_soft_int(cpu, EXC_BP, cpu->rip + in->len);
}

OP(op_into)
{
	if (cc_test(cpu, COND_O))
		cpu_raise_soft_int(cpu, EXC_OF, cpu->rip + in->len);
	return next_insn(cpu, in);
}

OP(op_int1)
{
	/* ICEBP: a #DB trap (RIP after it), without the gate's DPL check. */
	cpu->rip += in->len;
	cpu_raise(cpu, EXC_DB, 0, false);
}

OP(op_iret)
{
	cpu_iret(cpu, in->osize);
	return NULL;
}

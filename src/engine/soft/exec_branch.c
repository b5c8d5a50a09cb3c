// SPDX-License-Identifier: Apache-2.0
/*
 * Control transfers. Direct branches end their block through block_exit(),
 * which follows a chained successor without going back to the dispatch
 * loop; indirect ones return NULL and the loop looks the target up.
 */
#include "engine/soft/block.h"
#include "engine/soft/exec.h"
#include "engine/soft/seg.h"

OP(op_block_end)
{
	cpu->rip = insn_rip(cpu, in);
	return block_exit(cpu, in, 0);
}

OP(op_stale)
{
	cpu->rip = insn_rip(cpu, in);
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

static inline __attribute__((always_inline)) const struct insn *
jcc_body(struct soft_cpu *cpu, const struct insn *in, unsigned int cond)
{
	if (cc_test(cpu, cond)) {
		cpu->rip = in->imm;
		return block_exit(cpu, in, 0);
	}
	cpu->rip = insn_next_rip(cpu, in);
	return block_exit(cpu, in, 1);
}

#define GEN_JCC(c) static OP(jcc_##c) { return jcc_body(cpu, in, c); }
GEN_JCC(0) GEN_JCC(1) GEN_JCC(2) GEN_JCC(3) GEN_JCC(4) GEN_JCC(5) GEN_JCC(6) GEN_JCC(7)
GEN_JCC(8) GEN_JCC(9) GEN_JCC(10) GEN_JCC(11) GEN_JCC(12) GEN_JCC(13) GEN_JCC(14) GEN_JCC(15)

const insn_fn op_jcc[16] = {
	jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
	jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15,
};

/*
 * CMP or TEST of registers or a register and an immediate, fused with the
 * Jcc that follows it (the block translator pairs them): one dispatch,
 * and the condition straight from the operands. The flags are still
 * recorded for whoever reads them later. in + 1 is the Jcc.
 */
static inline __attribute__((always_inline)) bool
fused_cond(unsigned int cond, unsigned int size, bool test, u64 a, u64 b)
{
	u64 m = size_mask(size);
	s64 sa = sext(a, size), sb = sext(b, size);
	u64 r = (test ? a & b : a - b) & m;
	bool t;

	switch (cond >> 1) {
	case COND_O >> 1:
		t = test ? false : (((a ^ b) & (a ^ r)) >> (size * 8 - 1)) & 1;
		break;
	case COND_B >> 1: t = test ? false : (a & m) < (b & m); break;
	case COND_E >> 1: t = r == 0; break;
	case COND_BE >> 1: t = test ? r == 0 : (a & m) <= (b & m); break;
	case COND_S >> 1: t = sext(r, size) < 0; break;
	case COND_P >> 1: t = !__builtin_parity(r & 0xff); break;
	case COND_L >> 1: t = test ? sext(r, size) < 0 : sa < sb; break;
	default: t = test ? sext(r, size) <= 0 : sa <= sb; break;
	}
	return t ^ (cond & 1);
}

static inline __attribute__((always_inline)) const struct insn *
fused_body(struct soft_cpu *cpu, const struct insn *in, unsigned int cond, unsigned int size,
	   bool test, bool imm)
{
	const struct insn *j = in + 1;
	u64 a = reg_read(cpu, in->rm, size);
	u64 b = imm ? in->imm & size_mask(size) : reg_read(cpu, in->reg, size);

	if (test)
		cc_set(cpu, CC_K_LOGIC, size, a & b, 0);
	else
		cc_set(cpu, CC_K_SUB, size, a - b, b);
	if (fused_cond(cond, size, test, a, b)) {
		cpu->rip = j->imm;
		return block_exit(cpu, j, 0);
	}
	cpu->rip = insn_next_rip(cpu, j);
	return block_exit(cpu, j, 1);
}

#define GEN_FUSED(kind, size, test, imm, c) \
	static OP(fused_##kind##_##size##_##c) { return fused_body(cpu, in, c, size, test, imm); }
#define GEN_FUSED_CONDS(kind, size, test, imm) \
	GEN_FUSED(kind, size, test, imm, 0) GEN_FUSED(kind, size, test, imm, 1) \
	GEN_FUSED(kind, size, test, imm, 2) GEN_FUSED(kind, size, test, imm, 3) \
	GEN_FUSED(kind, size, test, imm, 4) GEN_FUSED(kind, size, test, imm, 5) \
	GEN_FUSED(kind, size, test, imm, 6) GEN_FUSED(kind, size, test, imm, 7) \
	GEN_FUSED(kind, size, test, imm, 8) GEN_FUSED(kind, size, test, imm, 9) \
	GEN_FUSED(kind, size, test, imm, 10) GEN_FUSED(kind, size, test, imm, 11) \
	GEN_FUSED(kind, size, test, imm, 12) GEN_FUSED(kind, size, test, imm, 13) \
	GEN_FUSED(kind, size, test, imm, 14) GEN_FUSED(kind, size, test, imm, 15)
#define ROW_FUSED(kind, size) { \
	fused_##kind##_##size##_0, fused_##kind##_##size##_1, fused_##kind##_##size##_2, \
	fused_##kind##_##size##_3, fused_##kind##_##size##_4, fused_##kind##_##size##_5, \
	fused_##kind##_##size##_6, fused_##kind##_##size##_7, fused_##kind##_##size##_8, \
	fused_##kind##_##size##_9, fused_##kind##_##size##_10, fused_##kind##_##size##_11, \
	fused_##kind##_##size##_12, fused_##kind##_##size##_13, fused_##kind##_##size##_14, \
	fused_##kind##_##size##_15 }

GEN_FUSED_CONDS(cmprr, 4, false, false)
GEN_FUSED_CONDS(cmprr, 8, false, false)
GEN_FUSED_CONDS(cmpri, 4, false, true)
GEN_FUSED_CONDS(cmpri, 8, false, true)
GEN_FUSED_CONDS(testrr, 4, true, false)
GEN_FUSED_CONDS(testrr, 8, true, false)
GEN_FUSED_CONDS(testri, 4, true, true)
GEN_FUSED_CONDS(testri, 8, true, true)

/* [test][imm][size 4, 8][cond] */
const insn_fn op_fused_cmp_jcc[2][2][2][16] = {
	{ { ROW_FUSED(cmprr, 4), ROW_FUSED(cmprr, 8) }, { ROW_FUSED(cmpri, 4), ROW_FUSED(cmpri, 8) } },
	{ { ROW_FUSED(testrr, 4), ROW_FUSED(testrr, 8) }, { ROW_FUSED(testri, 4), ROW_FUSED(testri, 8) } },
};

OP(op_call)
{
	push(cpu, in->osize, insn_next_rip(cpu, in) & ip_mask(cpu, in->osize));
	cpu->rip = in->imm;
	return block_exit(cpu, in, 0);
}

OP(op_ret)
{
	u64 target = stack_peek(cpu, in->osize, 0) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	set_sp(cpu, cpu->gpr[GPR_RSP] + in->osize + in->imm);
	cpu->rip = target;
	return goto_indirect(cpu);
}

OP(op_jmp_rm)
{
	u64 target = rm_read(cpu, in, in->osize) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	cpu->rip = target;
	return goto_indirect(cpu);
}

OP(op_call_rm)
{
	u64 target = rm_read(cpu, in, in->osize) & ip_mask(cpu, in->osize);

	check_target(cpu, target);
	push(cpu, in->osize, insn_next_rip(cpu, in) & ip_mask(cpu, in->osize));
	cpu->rip = target;
	return goto_indirect(cpu);
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
	cpu->rip = insn_next_rip(cpu, in);
	return block_exit(cpu, in, 1);
}

OP(op_jmp_far)
{
	far_jmp(cpu, in->disp, in->imm, in->osize);
	return NULL;
}

OP(op_call_far)
{
	far_call(cpu, in->disp, in->imm, in->osize, insn_next_rip(cpu, in));
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
	far_call(cpu, sel, off, in->osize, insn_next_rip(cpu, in));
	return NULL;
}

OP(op_retf)
{
	far_ret(cpu, in->osize, in->opcode == 0xca ? in->imm : 0);
	return NULL;
}

OP(op_int)
{
	cpu_raise_soft_int(cpu, in->imm & 0xff, insn_next_rip(cpu, in));
}

OP(op_int3)
{
	cpu_raise_soft_int(cpu, EXC_BP, insn_next_rip(cpu, in));
}

OP(op_into)
{
	if (cc_test(cpu, COND_O))
		cpu_raise_soft_int(cpu, EXC_OF, insn_next_rip(cpu, in));
	return next_insn(cpu, in);
}

OP(op_int1)
{
	/* ICEBP: a #DB trap (RIP after it), without the gate's DPL check. */
	cpu->rip = insn_next_rip(cpu, in);
	cpu->cur = NULL;
	cpu_raise(cpu, EXC_DB, 0, false);
}

OP(op_iret)
{
	cpu_iret(cpu, in->osize);
	return NULL;
}

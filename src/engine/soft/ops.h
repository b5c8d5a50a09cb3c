/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_OPS_H
#define KILN_ENGINE_SOFT_OPS_H

#include "engine/soft/cpu.h"

/*
 * Instruction handlers, as the decoder picks them. Hot instructions have
 * one handler per operand form and size (tables indexed [form][log2 size]);
 * the rest read in->osize at run time.
 *
 * Operand forms of the two-operand tables:
 *   RR: dst = reg in->rm,  src = reg in->reg
 *   RM: dst = reg in->reg, src = memory
 *   MR: dst = memory,      src = reg in->reg
 *   RI: dst = reg in->rm,  src = in->imm
 *   MI: dst = memory,      src = in->imm
 */
enum op_form { FORM_RR, FORM_RM, FORM_MR, FORM_RI, FORM_MI, NR_FORMS };

/* ALU operations in group-1 order, then TEST. */
enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST, NR_ALU };

#define DECLARE_OP(name) const struct insn *name(struct soft_cpu *cpu, const struct insn *in)

/* exec_alu.c */
extern const insn_fn op_alu[NR_ALU][NR_FORMS][4];
extern const insn_fn op_mov[NR_FORMS][4];
extern const insn_fn op_incdec[2][2][4];	/* [inc, dec][reg, mem][size] */
extern const insn_fn op_notneg[2][2][4];	/* [not, neg][reg, mem][size] */
DECLARE_OP(op_lea);
extern const insn_fn op_movzx[2][3];		/* [source 1, 2][destination 2, 4, 8] */
DECLARE_OP(op_movsx);
extern const insn_fn op_cmov[16];		/* [condition] */
extern const insn_fn op_setcc[16];
DECLARE_OP(op_cbw);				/* 98 */
DECLARE_OP(op_cwd);				/* 99 */
DECLARE_OP(op_lahf);
DECLARE_OP(op_sahf);
DECLARE_OP(op_xlat);
DECLARE_OP(op_xchg);
DECLARE_OP(op_xadd);
DECLARE_OP(op_cmpxchg);
DECLARE_OP(op_cmpxchg8b);			/* and 16b with REX.W */
DECLARE_OP(op_bswap);
DECLARE_OP(op_mov_moffs_load);
DECLARE_OP(op_mov_moffs_store);
DECLARE_OP(op_nop);
DECLARE_OP(op_pause);
DECLARE_OP(op_bcd);				/* sub: 0 daa, 1 das, 2 aaa, 3 aas, 4 aam, 5 aad */
DECLARE_OP(op_salc);
DECLARE_OP(op_flagop);				/* sub: 0 cmc, 1 clc, 2 stc, 3 cld, 4 std */

/* exec_shift.c */
extern const insn_fn op_shift[8][2][4];		/* [op][reg, mem][size]; sub bit 3: count in CL */
DECLARE_OP(op_shld);				/* sub: 0 shld, 1 shrd; | 8 for CL */

/* exec_muldiv.c */
extern const insn_fn op_mul1[4];		/* F6/F7 /4-/7: sub = 4..7; [size] */
extern const insn_fn op_imul2[4];		/* 0F AF, 69, 6B; [size] */

/* exec_bit.c */
DECLARE_OP(op_bt);				/* sub: 0 bt, 1 bts, 2 btr, 3 btc; | 4 imm */
DECLARE_OP(op_bsf);
DECLARE_OP(op_bsr);
DECLARE_OP(op_popcnt);

/* exec_stack.c */
extern const insn_fn op_push_reg[4];
extern const insn_fn op_pop_reg[4];
DECLARE_OP(op_push_imm);
DECLARE_OP(op_push_rm);
DECLARE_OP(op_pop_rm);
DECLARE_OP(op_push_seg);			/* sub = seg */
DECLARE_OP(op_pop_seg);
DECLARE_OP(op_pushf);
DECLARE_OP(op_popf);
DECLARE_OP(op_pusha);
DECLARE_OP(op_popa);
DECLARE_OP(op_enter);
DECLARE_OP(op_leave);

/* exec_branch.c */
DECLARE_OP(op_jmp);				/* imm = absolute target */
extern const insn_fn op_jcc[16];		/* [cond], imm = target */
/* CMP/TEST reg,reg|imm fused with the next Jcc: [test][imm][size 4, 8][cond]. */
extern const insn_fn op_fused_cmp_jcc[2][2][2][16];
DECLARE_OP(op_call);
DECLARE_OP(op_ret);				/* imm = bytes to pop */
DECLARE_OP(op_jmp_rm);
DECLARE_OP(op_call_rm);
DECLARE_OP(op_loop);				/* sub: 0 loopne, 1 loope, 2 loop, 3 jcxz */
DECLARE_OP(op_jmp_far);				/* imm = offset, imm8.. see decoder */
DECLARE_OP(op_call_far);
DECLARE_OP(op_jmp_far_m);
DECLARE_OP(op_call_far_m);
DECLARE_OP(op_retf);
DECLARE_OP(op_int);				/* imm = vector */
DECLARE_OP(op_int3);
DECLARE_OP(op_into);
DECLARE_OP(op_int1);
DECLARE_OP(op_iret);
DECLARE_OP(op_syscall);
DECLARE_OP(op_sysret);
DECLARE_OP(op_block_end);			/* synthetic: falls through to the next block */
DECLARE_OP(op_stale);				/* invalidated block: leave it */
DECLARE_OP(op_insn_too_long);			/* more than 15 bytes: #GP(0) */

/* exec_string.c */
DECLARE_OP(op_movs);
DECLARE_OP(op_cmps);
DECLARE_OP(op_stos);
DECLARE_OP(op_lods);
DECLARE_OP(op_scas);
DECLARE_OP(op_ins);
DECLARE_OP(op_outs);

/* exec_io.c */
DECLARE_OP(op_in);				/* sub: 1 = port in DX */
DECLARE_OP(op_out);

/* exec_system.c */
DECLARE_OP(op_hlt);
DECLARE_OP(op_cli);
DECLARE_OP(op_sti);
DECLARE_OP(op_cpuid);
DECLARE_OP(op_rdtsc);
DECLARE_OP(op_rdtscp);
DECLARE_OP(op_rdmsr);
DECLARE_OP(op_wrmsr);
DECLARE_OP(op_rdpmc);
DECLARE_OP(op_mov_from_cr);
DECLARE_OP(op_mov_to_cr);
DECLARE_OP(op_mov_from_dr);
DECLARE_OP(op_mov_to_dr);
DECLARE_OP(op_clts);
DECLARE_OP(op_lgdt);				/* sub: 0 sgdt, 1 sidt, 2 lgdt, 3 lidt */
DECLARE_OP(op_smsw);
DECLARE_OP(op_lmsw);
DECLARE_OP(op_invlpg);
DECLARE_OP(op_swapgs);
DECLARE_OP(op_vmcall);				/* VMCALL, VMMCALL: KVM's hypercall ABI */
DECLARE_OP(op_grp6);				/* 0F 00: sub = /digit */
DECLARE_OP(op_lar);				/* sub: 0 lar, 1 lsl */
DECLARE_OP(op_wbinvd);
DECLARE_OP(op_ud);				/* #UD at run time */
DECLARE_OP(op_mov_to_seg);
DECLARE_OP(op_mov_from_seg);
DECLARE_OP(op_load_far_ptr);			/* lds/les/lss/lfs/lgs: sub = seg */

/* exec_fpu.c: x87 and SSE plumbing */
DECLARE_OP(op_x87);
DECLARE_OP(op_fwait);
DECLARE_OP(op_fninit);
DECLARE_OP(op_emms);
DECLARE_OP(op_fxsave);
DECLARE_OP(op_fxrstor);
DECLARE_OP(op_ldmxcsr);
DECLARE_OP(op_stmxcsr);
DECLARE_OP(op_fence);
DECLARE_OP(op_clflush);
DECLARE_OP(op_sse);				/* aux = sse_fn, sub = enum sse_form */
DECLARE_OP(op_movnti);
DECLARE_OP(op_maskmovdqu);

/* decode.c: SSE table lookup; NULL when the encoding is not implemented. */
struct sse_entry {
	u8 form;
	u8 flags;
	sse_fn fn;		/* NULL: only the register form exists */
	u8 rform;		/* register form (ModRM.mod == 3), when rfn is set */
	u8 rflags;
	sse_fn rfn;
};
const struct sse_entry *sse_lookup(unsigned int map, unsigned int opcode,
				   unsigned int prefix, unsigned int reg);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_FPU_STATE_H
#define KILN_ENGINE_SOFT_FPU_STATE_H

#include "lib/types.h"

/*
 * The soft CPU's SSE and x87 state, and the contract between the decoder
 * (src/engine/soft/, owner "softcpu") and the semantics (src/engine/soft/sse/
 * and src/engine/soft/x87/, owner "softsse").
 *
 * The whole state lives in one FXSAVE-layout block (Intel SDM vol. 1,
 * table 10-2, 64-bit format), so FXSAVE/FXRSTOR are plain copies and the
 * XMM registers are addressed as fx.xmm[n].
 *
 * ------------------------------------------------------------------------
 * SSE: how an instruction reaches its semantic function
 * ------------------------------------------------------------------------
 * Semantic functions are pure: they see only 128-bit values and MXCSR.
 *
 *   int fn(union xmm *dst, const union xmm *src, u8 imm, u32 *mxcsr);
 *
 * They return 0, or an exception vector for the decoder to raise:
 * SSE_FAULT_XM for an unmasked SIMD floating-point exception (the decoder
 * turns it into #UD when CR4.OSXMMEXCPT is clear), or SSE_FAULT_UD.
 * On a fault the function must leave *dst unchanged (faults are precise).
 *
 * Entries live in src/engine/soft/sse/sse_table.def, one line per
 * instruction; the functions are declared in src/engine/soft/sse/sse_ops.h.
 * The decoder (sse_table.c) includes both when they exist. Lines read
 *
 *   SSE_OP(map, opcode, prefix, form, flags, function)
 *
 *   map      SSE_MAP_0F, SSE_MAP_0F38 or SSE_MAP_0F3A
 *   opcode   the opcode byte in that map
 *   prefix   SSE_PFX_NONE, SSE_PFX_66, SSE_PFX_F3 or SSE_PFX_F2: the
 *            mandatory prefix (the last of 66/F2/F3 seen, F2/F3 winning)
 *   form     enum sse_form below: where dst and src come from and where the
 *            result goes
 *   flags    SSE_F_* below, or 0
 *   function the semantic function, declared in sse/sse_ops.h
 *
 * Groups keyed by ModRM.reg (0F 71/72/73 shifts by immediate) use
 * SSE_OP_GRP(map, opcode, prefix, reg, form, flags, function).
 *
 * The decoder fetches the operands, checks CR0.EM/TS and CR4.OSFXSR (#UD,
 * #NM), checks alignment for SSE_F_ALIGN16 memory operands (#GP(0)), calls
 * the function on copies, and writes the destination back only when it
 * returns 0. For every memory operand form the unused part of the source
 * temporary is zero: e.g. an m64 source arrives in src->q[0] with
 * src->q[1] == 0.
 *
 * ------------------------------------------------------------------------
 * x87: one entry point
 * ------------------------------------------------------------------------
 * Opcodes D8-DF (but FNINIT, done by the decoder) go to x87_execute() with the opcode byte,
 * the ModRM byte and, for memory forms, a handle on the memory operand
 * (struct x87_mem). The semantics decide the operand size and call
 * mem->read/mem->write; those raise the guest's page fault themselves and
 * never return on a fault, so do every read, then every write, and only
 * then update fx (precise faults). x87_execute returns 0 or an exception
 * vector (X87_FAULT_MF with CR0.NE set; the decoder handles CR0.EM/TS).
 */

/* One XMM register (little endian lanes). */
union xmm {
	u8 b[16];
	u16 w[8];
	u32 d[4];
	u64 q[2];
	s8 sb[16];
	s16 sw[8];
	s32 sd[4];
	s64 sq[2];
	float f[4];
	double df[2];
} __attribute__((aligned(16)));

/* An x87 register slot in FXSAVE layout: 80-bit value, 6 bytes padding. */
struct x87_reg {
	u8 bytes[10];
	u8 rsvd[6];
};

/* FXSAVE/FXRSTOR 64-bit layout, 512 bytes. */
struct fxsave_area {
	u16 fcw;		/* control word */
	u16 fsw;		/* status word, TOP in bits 11-13 */
	u8 ftw;			/* abridged tag word: 1 bit per register, 1 = valid */
	u8 rsvd1;
	u16 fop;		/* last opcode (11 bits) */
	u64 fip;		/* last instruction pointer */
	u64 fdp;		/* last data pointer */
	u32 mxcsr;
	u32 mxcsr_mask;
	struct x87_reg st[8];	/* ST(i) physical registers R0..R7 as stored */
	union xmm xmm[16];
	u8 rsvd2[48];
	u8 avail[48];
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct fxsave_area) == 512, "FXSAVE area is 512 bytes");

/* MXCSR after reset, and the bits FXRSTOR/LDMXCSR accept (others: #GP). */
#define MXCSR_RESET 0x1f80u
#define MXCSR_MASK_SUPPORTED 0xffffu	/* incl. DAZ */
#define FCW_RESET 0x037fu

/* Exception vectors semantic functions may return. */
#define SSE_FAULT_UD 6
#define SSE_FAULT_XM 19
#define X87_FAULT_MF 16

enum sse_map { SSE_MAP_0F, SSE_MAP_0F38, SSE_MAP_0F3A };
enum sse_prefix { SSE_PFX_NONE, SSE_PFX_66, SSE_PFX_F3, SSE_PFX_F2 };

/*
 * Operand forms. "xmm" is ModRM.reg unless it says "rm"; "xmm/mN" is
 * ModRM.rm: a register, or N bits of memory.
 */
enum sse_form {
	/* dst = xmm(reg), src = xmm/m128; dst written back. */
	SSE_FORM_X_XM128,
	/* dst = xmm(reg), src = xmm/m64 (memory: src->q[0]). */
	SSE_FORM_X_XM64,
	/* dst = xmm(reg), src = xmm/m32 (memory: src->d[0]). */
	SSE_FORM_X_XM32,
	/* dst = xmm/m128 (rm), src = xmm(reg): stores such as movaps m128, xmm. */
	SSE_FORM_XM128_X,
	/* dst = xmm/m64 (rm), src = xmm(reg): only dst->q[0] is stored to memory. */
	SSE_FORM_XM64_X,
	/* dst = xmm/m32 (rm), src = xmm(reg): only dst->d[0] is stored to memory. */
	SSE_FORM_XM32_X,
	/*
	 * dst = xmm(reg), src = r/m32 or r/m64 (REX.W) general register or
	 * memory, zero-extended into src->q[0]: movd/movq xmm, r/m; cvtsi2ss.
	 */
	SSE_FORM_X_RM,
	/*
	 * dst = a zeroed temporary, src = xmm/m128 (m32/m64 with
	 * SSE_F_M32/SSE_F_M64); dst->q[0] goes to the 32-bit (zero-extended)
	 * or 64-bit (REX.W) general register ModRM.reg: cvttsd2si, pmovmskb.
	 */
	SSE_FORM_R_XM,
	/*
	 * dst = a zeroed temporary, src = xmm(reg); dst->d[0] or dst->q[0]
	 * (REX.W) goes to r/m32 or r/m64: movd/movq r/m, xmm.
	 */
	SSE_FORM_RM_X,
	/* dst = xmm(rm), register only; src unused (zero); imm8: psrlw xmm, imm8. */
	SSE_FORM_XRM_IMM,
	/* dst = xmm(reg), register-only src = xmm(rm): movhlps, movlhps. */
	SSE_FORM_X_XR,
	NR_SSE_FORMS,
};

/* SSE_OP flags. */
#define SSE_F_ALIGN16	(1u << 0)	/* m128 operand must be 16-byte aligned */
#define SSE_F_IMM8	(1u << 1)	/* an imm8 follows the ModRM/SIB/disp */
#define SSE_F_M32	(1u << 2)	/* SSE_FORM_R_XM: the memory source is m32 */
#define SSE_F_M64	(1u << 3)	/* SSE_FORM_R_XM: the memory source is m64 */
#define SSE_F_MEMONLY	(1u << 4)	/* register form is #UD (movntps ...) */
#define SSE_F_REGONLY	(1u << 5)	/* memory form is #UD */
#define SSE_F_NODST	(1u << 6)	/* nothing written back (comiss, ucomisd) */
#define SSE_F_FLAGS	(1u << 7)	/* sets ZF/PF/CF from dst->d[0] bits 6/2/0 */

typedef int (*sse_fn)(union xmm *dst, const union xmm *src, u8 imm, u32 *mxcsr);

/* x87 memory operand handle, valid during one x87_execute() call. */
struct x87_mem {
	void *cpu;	/* opaque */
	/* Read/write len bytes at offset off from the operand's address. */
	void (*read)(struct x87_mem *m, u64 off, void *buf, unsigned int len);
	void (*write)(struct x87_mem *m, u64 off, const void *buf, unsigned int len);
	u64 ea;		/* effective address (for FDP) */
	bool is_mem;	/* false for the register forms (ModRM.mod == 3) */
	bool op32;	/* operand size 32 (fnstenv/fldenv layouts) vs 16 */
	bool long_mode;	/* 64-bit mode: FXSAVE64-style pointers */
};

/*
 * The x87 entry point, provided by src/engine/soft/x87/ in x87/x87.h (the
 * decoder uses it when that header exists). rip is the instruction's
 * address, for FIP. FNINIT, FWAIT, FXSAVE, FXRSTOR, LDMXCSR and STMXCSR
 * are state copies done by the decoder itself (exec_fpu.c).
 */
int x87_execute(struct fxsave_area *fx, u8 opcode, u8 modrm,
		struct x87_mem *mem, u64 rip);

#endif

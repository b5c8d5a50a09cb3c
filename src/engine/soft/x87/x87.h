/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_X87_X87_H
#define KILN_SOFT_X87_X87_H

#include "engine/soft/sse/fpu_fault.h"
#include "lib/types.h"

/*
 * The x87 FPU of the soft CPU, kept the way FXSAVE lays it out, so that
 * FXSAVE/FXRSTOR are plain copies:
 *  - the registers in stack order, st[i] being ST(i);
 *  - the abridged tag word, bit p set when physical register p is in use
 *    (the full tag word is derived from the contents when needed).
 */
struct x87_state {
	u16 fcw;
	u16 fsw;		/* TOP is bits 11-13 */
	u8 ftw;			/* abridged */
	u16 fop;		/* last non-control opcode, 11 bits */
	u64 fip, fdp;		/* last instruction and data pointers */
	u8 st[8][10];
};

/*
 * The code and data selectors of those pointers are not kept: like
 * current Intel parts (CPUID.(EAX=7):EBX[13], "FPU CS and DS
 * deprecated"), every image stores them as zero.
 */

#define X87_FCW_DEFAULT 0x037f
/* What a loaded control word keeps: masks, PC, RC, X; bit 6 reads as 1. */
#define X87_FCW_WRITABLE 0x1f3f
#define X87_FCW_ONES 0x0040

static inline u16 x87_fcw_value(u16 v)
{
	return (v & X87_FCW_WRITABLE) | X87_FCW_ONES;
}

#define X87_FSW_IE (1u << 0)
#define X87_FSW_DE (1u << 1)
#define X87_FSW_ZE (1u << 2)
#define X87_FSW_OE (1u << 3)
#define X87_FSW_UE (1u << 4)
#define X87_FSW_PE (1u << 5)
#define X87_FSW_SF (1u << 6)
#define X87_FSW_ES (1u << 7)
#define X87_FSW_C0 (1u << 8)
#define X87_FSW_C1 (1u << 9)
#define X87_FSW_C2 (1u << 10)
#define X87_FSW_TOP_SHIFT 11
#define X87_FSW_TOP (7u << X87_FSW_TOP_SHIFT)
#define X87_FSW_C3 (1u << 14)
#define X87_FSW_B (1u << 15)
#define X87_EXC_FLAGS 0x3fu

/* FNINIT: the registers keep their contents, all tagged empty. */
void x87_init(struct x87_state *st);

/* The state at power-on and INIT as KVM gives it: FNINIT, registers zero. */
void x87_reset(struct x87_state *st);

/*
 * Re-derives ES and B from the flags and masks, as the hardware does
 * whenever it loads a control or status word (FLDCW, FLDENV, FRSTOR,
 * FXRSTOR). An exception is pending exactly when ES is set.
 */
void x87_update_es(struct x87_state *st);

static inline bool x87_pending(const struct x87_state *st)
{
	return st->fsw & X87_FSW_ES;
}

/* The full 16-bit tag word (2 bits per physical register) and back. */
u16 x87_full_tag(const struct x87_state *st);
u8 x87_abridged_tag(u16 full);

/* FWAIT/WAIT: #MF when an unmasked exception is pending. */
enum fpu_fault x87_fwait(const struct x87_state *st);

/*
 * One x87 instruction: an escape opcode (D8-DF) and its ModRM byte. The
 * CPU fills the inputs, calls x87_exec(), then applies the outputs.
 */
struct x87_op {
	/* In. */
	u8 opcode, modrm;
	bool opsize16;		/* 16-bit environment layouts (66 prefix) */
	bool real_mode;		/* real or v86: environment layouts differ */
	u64 rflags;		/* in: FCMOVcc reads CF, ZF, PF; out: FCOMI */
	u64 ip, dp;		/* this instruction's and operand's addresses */
	/* In and out: the memory operand, read before and written after. */
	u8 mem[108];
	/* Out. */
	u8 wrote;		/* X87_WROTE_* */
	u16 ax;			/* FNSTSW AX */
};

#define X87_WROTE_MEM (1u << 0)
#define X87_WROTE_AX (1u << 1)
#define X87_WROTE_FLAGS (1u << 2)	/* rflags: OF SF ZF AF PF CF updated */

/* Where the memory operand of a ModRM with mod != 3 goes. */
enum x87_mem_dir { X87_MEM_NONE, X87_MEM_LOAD, X87_MEM_STORE };

/*
 * The memory operand of an instruction: how many bytes and which way.
 * Returns false for an encoding that is #UD (memory or register form).
 */
bool x87_decode(u8 opcode, u8 modrm, bool opsize16, unsigned int *bytes,
		enum x87_mem_dir *dir);

/*
 * Runs one instruction. FPU_MF: an exception was pending, nothing
 * happened. FPU_UD: an invalid encoding. The CR0.EM/TS checks
 * (fpu_x87_usable()) are the CPU's, before this call.
 */
enum fpu_fault x87_exec(struct x87_state *st, struct x87_op *op);

/* FXSAVE-area helpers shared with fxsave.c. */
void x87_env_store(const struct x87_state *st, u8 *mem, bool opsize16,
		   bool real_mode);
void x87_env_load(struct x87_state *st, const u8 *mem, bool opsize16,
		  bool real_mode);

#endif

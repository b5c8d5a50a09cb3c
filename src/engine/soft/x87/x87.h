/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_X87_X87_H
#define KILN_SOFT_X87_X87_H

#include "engine/soft/fpu_state.h"
#include "engine/soft/sse/fpu_fault.h"
#include "lib/types.h"

/*
 * The x87 FPU of the soft CPU. Its state is the soft CPU's FXSAVE-layout
 * block (struct fxsave_area, fpu_state.h):
 *  - fx->st[i] is ST(i), in stack order as FXSAVE stores it;
 *  - fx->ftw is the abridged tag word, bit p set when physical register p
 *    is in use (the full tag word is derived from the contents);
 *  - fip/fdp/fop are the last non-control instruction, its operand and
 *    opcode. Their selectors are not kept: like current Intel parts
 *    (CPUID.(EAX=7):EBX[13], "FPU CS and DS deprecated") every image
 *    stores them as zero.
 */

#define X87_FCW_DEFAULT FCW_RESET
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
void x87_init(struct fxsave_area *fx);

/* Power-on and INIT, as KVM sets it up: FNINIT with registers zeroed. */
void x87_reset(struct fxsave_area *fx);

/*
 * Re-derives ES and B from the flags and masks, as the hardware does
 * whenever it loads a control or status word (FLDCW, FLDENV, FRSTOR,
 * FXRSTOR). An exception is pending exactly when ES is set.
 */
void x87_update_es(struct fxsave_area *fx);

static inline bool x87_pending(const struct fxsave_area *fx)
{
	return fx->fsw & ~fx->fcw & X87_EXC_FLAGS;
}

/* The full 16-bit tag word (2 bits per physical register) and back. */
u16 x87_full_tag(const struct fxsave_area *fx);
u8 x87_abridged_tag(u16 full);

/* FWAIT/WAIT: #MF when an unmasked exception is pending. */
int x87_fwait(const struct fxsave_area *fx);

/* EMMS: #MF when an exception is pending, otherwise every tag empty. */
int x87_emms(struct fxsave_area *fx);

/* FNSTENV/FLDENV images: 28 bytes, or 14 with a 16-bit operand size. */
void x87_env_store(const struct fxsave_area *fx, u8 *mem, bool opsize16,
		   bool real_mode);
void x87_env_load(struct fxsave_area *fx, const u8 *mem, bool opsize16,
		  bool real_mode);

/* Where the memory operand of a ModRM with mod != 3 goes. */
enum x87_mem_dir { X87_MEM_NONE, X87_MEM_LOAD, X87_MEM_STORE };

/*
 * The memory operand of an instruction: how many bytes and which way.
 * Returns false for an encoding that is #UD (memory or register form).
 */
bool x87_decode(u8 opcode, u8 modrm, bool opsize16, unsigned int *bytes,
		enum x87_mem_dir *dir);

/* Whether the instruction runs even with an exception pending. */
bool x87_no_wait(u8 opcode, u8 modrm);

/*
 * One x87 instruction on an already-read memory operand: the buffer form
 * of x87_execute(), which the tests drive directly.
 */
struct x87_op {
	/* In. */
	u8 opcode, modrm;
	bool opsize16;		/* 16-bit environment layouts (66 prefix) */
	bool real_mode;		/* real or v86: environment layouts differ */
	u64 ip, dp;		/* this instruction's and operand's addresses */
	/* In and out. */
	u64 rflags;		/* FCMOVcc reads CF ZF PF; FCOMI writes */
	u8 mem[108];		/* the memory operand, read before, written after */
	/* Out. */
	u8 wrote;		/* X87_WROTE_* */
	u16 ax;			/* FNSTSW AX */
};

#define X87_WROTE_MEM (1u << 0)
#define X87_WROTE_AX (1u << 1)
#define X87_WROTE_FLAGS (1u << 2)	/* rflags: OF SF ZF AF PF CF updated */

/*
 * Runs it: 0, FPU_MF (an exception was pending, nothing happened) or
 * FPU_UD (an invalid encoding). The CR0.EM/TS checks (fpu_x87_usable())
 * are the CPU's, before this call.
 */
int x87_exec(struct fxsave_area *fx, struct x87_op *op);

/*
 * What FCMOVcc, FCOMI/FUCOMI(P) and FNSTSW AX need beyond fpu_state.h's
 * x87_execute(): the guest's RFLAGS in, RFLAGS and AX out.
 */
struct x87_gpr_io {
	u64 rflags;		/* in: RFLAGS; out if X87_WROTE_FLAGS */
	u16 ax;			/* out if X87_WROTE_AX */
	u8 wrote;		/* X87_WROTE_FLAGS, X87_WROTE_AX */
	bool real_mode;		/* in: real or v86 mode environment layouts */
};

/*
 * x87_execute() (declared in fpu_state.h) with those: every read of the
 * memory operand, then every write, then the state update, so a fault in
 * mem->read/write leaves the FPU as it was. x87_execute() itself is this
 * with io == NULL, and returns #UD for the few instructions that need io.
 */
int x87_execute_io(struct fxsave_area *fx, u8 opcode, u8 modrm,
		   struct x87_mem *mem, u64 rip, struct x87_gpr_io *io);

#endif

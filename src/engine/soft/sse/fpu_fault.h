/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_FPU_FAULT_H
#define KILN_SOFT_SSE_FPU_FAULT_H

#include "engine/cpu_state.h"
#include "lib/types.h"

/*
 * What an x87, SSE or FXSAVE semantic function asks the CPU to do after it
 * ran: 0, or the exception vector to raise (error code 0 for #GP), as
 * fpu_state.h's contract says. FPU_XM is the one the CPU must still turn
 * into #UD when CR4.OSXMMEXCPT is clear (fpu_xm_vector()). Functions
 * return these as int.
 */
enum fpu_fault {
	FPU_OK = 0,
	FPU_UD = 6,		/* invalid opcode */
	FPU_NM = 7,		/* device not available (CR0.TS/EM) */
	FPU_GP = 13,		/* reserved MXCSR bits, misaligned operand */
	FPU_MF = 16,		/* pending unmasked x87 exception */
	FPU_XM = 19,		/* unmasked SIMD floating-point exception */
};

/* The vector an FPU_XM becomes, per CR4.OSXMMEXCPT. */
static inline int fpu_xm_vector(u64 cr4)
{
	return (cr4 & CR4_OSXMMEXCPT) ? FPU_XM : FPU_UD;
}

/* May an SSE/SSE2 instruction run? #UD without OSFXSR or with EM, #NM on TS. */
static inline enum fpu_fault fpu_sse_usable(u64 cr0, u64 cr4)
{
	if ((cr0 & CR0_EM) || !(cr4 & CR4_OSFXSR))
		return FPU_UD;
	if (cr0 & CR0_TS)
		return FPU_NM;
	return FPU_OK;
}

/* May an x87 instruction (not WAIT) run? #NM on EM or TS. */
static inline enum fpu_fault fpu_x87_usable(u64 cr0)
{
	return (cr0 & (CR0_EM | CR0_TS)) ? FPU_NM : FPU_OK;
}

/* WAIT/FWAIT: #NM only when both MP and TS are set. */
static inline enum fpu_fault fpu_wait_usable(u64 cr0)
{
	return (cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS) ? FPU_NM : FPU_OK;
}

/* FXSAVE/FXRSTOR: #NM on EM or TS (#UD for EM is for SSE ops only). */
static inline enum fpu_fault fpu_fxsave_usable(u64 cr0)
{
	return fpu_x87_usable(cr0);
}

#endif

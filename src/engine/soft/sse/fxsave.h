/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_FXSAVE_H
#define KILN_SOFT_SSE_FXSAVE_H

#include "engine/soft/fpu_state.h"
#include "engine/soft/sse/fpu_fault.h"
#include "lib/types.h"

#define FXSAVE_BYTES 512

/* The mode bits that change FXSAVE/FXRSTOR's image. */
struct fxsave_mode {
	bool rex_w;		/* FXSAVE64: 64-bit FIP/FDP, no selector fields */
	bool long_mode;		/* 64-bit mode: XMM8-15 are saved too */
	bool osfxsr;		/* CR4.OSFXSR: MXCSR and XMM are saved */
};

/* Both need a 16-byte aligned operand; the CPU raises #GP(0) otherwise. */
static inline bool fxsave_misaligned(u64 linear)
{
	return linear & 15;
}

/*
 * FXSAVE into a 512-byte image that holds the old memory contents: the
 * bytes past the saved registers (from 288 or 416) are left as they were,
 * as the hardware leaves them, so the CPU writes all 512 back.
 */
void fxsave_store(const struct fxsave_area *fx, u8 *image,
		  struct fxsave_mode mode);

/*
 * FXRSTOR from a 512-byte image: FPU_GP, and nothing loaded, when the
 * MXCSR image sets a bit this CPU does not support. The control word
 * keeps only its defined bits and ES/B follow the flags, as on hardware.
 */
int fxsave_load(struct fxsave_area *fx, const u8 *image,
		struct fxsave_mode mode);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_FXSAVE_H
#define KILN_SOFT_SSE_FXSAVE_H

#include "engine/soft/sse/fpu_fault.h"
#include "engine/soft/sse/xmm.h"
#include "engine/soft/x87/x87.h"
#include "lib/types.h"

#define FXSAVE_BYTES 512

/*
 * What FXSAVE/FXRSTOR work on, where the soft CPU keeps it, and the mode
 * bits that change the image.
 */
struct fxsave_ctx {
	struct x87_state *x87;
	union xmm *xmm;		/* NR_XMM registers */
	u32 *mxcsr;
	bool rex_w;		/* FXSAVE64: 64-bit FIP/FDP, no selectors */
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
void fxsave_store(const struct fxsave_ctx *c, u8 *image);

/*
 * FXRSTOR from a 512-byte image. #GP, and nothing loaded, when the MXCSR
 * image sets a bit this CPU does not support.
 */
enum fpu_fault fxsave_load(const struct fxsave_ctx *c, const u8 *image);

#endif

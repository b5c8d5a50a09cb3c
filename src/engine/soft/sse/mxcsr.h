/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_MXCSR_H
#define KILN_SOFT_SSE_MXCSR_H

#include "engine/soft/fpu_state.h"
#include "engine/soft/sse/fpu_fault.h"
#include "lib/types.h"

#define MXCSR_IE (1u << 0)	/* invalid operation */
#define MXCSR_DE (1u << 1)	/* denormal operand */
#define MXCSR_ZE (1u << 2)	/* divide by zero */
#define MXCSR_OE (1u << 3)	/* overflow */
#define MXCSR_UE (1u << 4)	/* underflow */
#define MXCSR_PE (1u << 5)	/* precision (inexact) */
#define MXCSR_FLAGS 0x3fu
#define MXCSR_DAZ (1u << 6)
#define MXCSR_MASKS (0x3fu << 7)
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC_SHIFT 13
#define MXCSR_RC (3u << MXCSR_RC_SHIFT)
#define MXCSR_FTZ (1u << 15)

/* Exceptions detected on the inputs, before anything is computed. */
#define MXCSR_PRE_FLAGS (MXCSR_IE | MXCSR_DE | MXCSR_ZE)

#define MXCSR_DEFAULT MXCSR_RESET

/*
 * The bits this CPU implements, reported in FXSAVE's MXCSR_MASK: every
 * bit of the low half, DAZ included, as on current Intel and AMD parts.
 * Setting any other bit is a #GP.
 */
#define MXCSR_SUPPORTED MXCSR_MASK_SUPPORTED

/* LDMXCSR: #GP on a reserved bit, otherwise loads the new value. */
int mxcsr_load(u32 *mxcsr, u32 value);

#endif

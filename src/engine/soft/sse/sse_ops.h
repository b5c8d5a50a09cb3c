/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_SSE_OPS_H
#define KILN_SOFT_SSE_SSE_OPS_H

/*
 * Everything sse_table.def names: the instruction semantics (sse.h) and
 * the few entry points that exist only for the decoder's forms.
 */
#include "engine/soft/sse/sse.h"

/* Whole-register moves: movaps, movups, movdqa, movdqu, movnt*, both ways. */
int sse_mov128(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);

/* movlps/movlpd xmm, m64: the low half from memory, the high half kept. */
int sse_movlo64(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);

/*
 * The conversions between a general register and a scalar, whose width
 * is the operand size: imm is that size, 8 with REX.W and 4 otherwise
 * (see the note in sse_table.def).
 */
int sse_cvtsi2ss(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
int sse_cvtsi2sd(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
int sse_cvtss2si(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
int sse_cvttss2si(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
int sse_cvtsd2si(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
int sse_cvttsd2si(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);

#endif

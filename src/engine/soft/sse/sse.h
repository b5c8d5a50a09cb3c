/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_SSE_H
#define KILN_SOFT_SSE_SSE_H

#include "engine/soft/sse/fpu_fault.h"
#include "engine/soft/sse/mxcsr.h"
#include "engine/soft/sse/xmm.h"
#include "lib/types.h"

/*
 * SSE and SSE2 semantics, one function per instruction, all of one shape:
 *
 *   d      the destination register, which is also the first source;
 *   s      the second source: a register, or the memory operand already
 *          read into a scratch register (scalar and 64-bit forms only
 *          look at its low lanes);
 *   imm    the immediate byte, for the forms that have one;
 *   mxcsr  the guest's MXCSR: read for rounding, DAZ, FTZ and the masks,
 *          and its sticky flags are updated.
 *
 * They return 0 or an exception vector (enum fpu_fault): on FPU_XM (an
 * unmasked SIMD exception) d is left untouched and only the exception
 * flags are updated, as the hardware does. The type is fpu_state.h's
 * sse_fn.
 *
 * Some instructions do not write an XMM register; they write the scratch
 * register d instead, and the CPU moves the result:
 *   - to a general register (cvt*2si, pextrw, movmsk*, pmovmskb): d->q[0],
 *     already zero-extended for the 32-bit forms;
 *   - to RFLAGS (comis*, ucomis*): d->q[0] holds the new ZF, PF and CF;
 *     OF, SF and AF are cleared.
 * Those taking a general register (cvtsi2s*, pinsrw) read it from s->q[0].
 */

/* Floating-point: run on the host's own SSE unit under the guest's MXCSR. */
#define SSE_FP_BINARY_OPS(X)                                                 \
	X(addps) X(addss) X(addpd) X(addsd)                                  \
	X(subps) X(subss) X(subpd) X(subsd)                                  \
	X(mulps) X(mulss) X(mulpd) X(mulsd)                                  \
	X(divps) X(divss) X(divpd) X(divsd)                                  \
	X(minps) X(minss) X(minpd) X(minsd)                                  \
	X(maxps) X(maxss) X(maxpd) X(maxsd)                                  \
	X(sqrtps) X(sqrtss) X(sqrtpd) X(sqrtsd)                              \
	X(rcpps) X(rcpss) X(rsqrtps) X(rsqrtss)                              \
	X(cvtps2pd) X(cvtpd2ps) X(cvtss2sd) X(cvtsd2ss)                      \
	X(cvtdq2ps) X(cvtps2dq) X(cvttps2dq)                                 \
	X(cvtdq2pd) X(cvtpd2dq) X(cvttpd2dq)

/* imm is the predicate; only its low 3 bits count (SSE/SSE2 encodings). */
#define SSE_FP_CMP_OPS(X) X(cmpps) X(cmpss) X(cmppd) X(cmpsd)

/* Result in RFLAGS. */
#define SSE_FP_COMI_OPS(X) X(comiss) X(ucomiss) X(comisd) X(ucomisd)

/* To a general register, 32 or 64 bits (REX.W). */
#define SSE_FP_TO_INT_OPS(X)                                                 \
	X(cvtss2si32) X(cvtss2si64) X(cvttss2si32) X(cvttss2si64)            \
	X(cvtsd2si32) X(cvtsd2si64) X(cvttsd2si32) X(cvttsd2si64)

/* From a general register or memory, 32 or 64 bits. */
#define SSE_FP_FROM_INT_OPS(X)                                               \
	X(cvtsi2ss32) X(cvtsi2ss64) X(cvtsi2sd32) X(cvtsi2sd64)

/* Packed integer arithmetic, SSE2 forms on XMM. */
#define SSE_INT_OPS(X)                                                       \
	X(paddb) X(paddw) X(paddd) X(paddq)                                  \
	X(psubb) X(psubw) X(psubd) X(psubq)                                  \
	X(paddsb) X(paddsw) X(paddusb) X(paddusw)                            \
	X(psubsb) X(psubsw) X(psubusb) X(psubusw)                            \
	X(pmullw) X(pmulhw) X(pmulhuw) X(pmuludq) X(pmaddwd)                 \
	X(pavgb) X(pavgw) X(pminub) X(pmaxub) X(pminsw) X(pmaxsw) X(psadbw)  \
	X(pcmpeqb) X(pcmpeqw) X(pcmpeqd) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd)    \
	X(pand) X(pandn) X(por) X(pxor)                                      \
	X(andps) X(andnps) X(orps) X(xorps)                                  \
	X(andpd) X(andnpd) X(orpd) X(xorpd)

/* Shifts by the count in s->q[0] (the xmm/m128 forms). */
#define SSE_SHIFT_OPS(X)                                                     \
	X(psllw) X(pslld) X(psllq) X(psrlw) X(psrld) X(psrlq)                \
	X(psraw) X(psrad)

/* Shifts by imm (0F 71/72/73); s is not read. */
#define SSE_SHIFT_IMM_OPS(X)                                                 \
	X(psllw_imm) X(pslld_imm) X(psllq_imm)                               \
	X(psrlw_imm) X(psrld_imm) X(psrlq_imm)                               \
	X(psraw_imm) X(psrad_imm) X(pslldq) X(psrldq)

/* Shuffles, unpacks, packs, inserts and extracts. */
#define SSE_SHUFFLE_OPS(X)                                                   \
	X(packsswb) X(packssdw) X(packuswb)                                  \
	X(punpcklbw) X(punpcklwd) X(punpckldq) X(punpcklqdq)                 \
	X(punpckhbw) X(punpckhwd) X(punpckhdq) X(punpckhqdq)                 \
	X(unpcklps) X(unpckhps) X(unpcklpd) X(unpckhpd)                      \
	X(shufps) X(shufpd) X(pshufd) X(pshuflw) X(pshufhw)                  \
	X(pinsrw) X(pextrw) X(pmovmskb) X(movmskps) X(movmskpd)

/*
 * Register-to-register moves that merge (movss/movsd xmm, xmm; movhlps;
 * movlhps) or zero-extend (movq xmm, xmm). Loads and stores of whole or
 * partial registers are the CPU's operand fetch, not semantics.
 */
#define SSE_MOVE_OPS(X)                                                      \
	X(movss) X(movsd) X(movhlps) X(movlhps) X(movq)

#define SSE_ALL_OPS(X)                                                       \
	SSE_FP_BINARY_OPS(X) SSE_FP_CMP_OPS(X) SSE_FP_COMI_OPS(X)            \
	SSE_FP_TO_INT_OPS(X) SSE_FP_FROM_INT_OPS(X) SSE_INT_OPS(X)           \
	SSE_SHIFT_OPS(X) SSE_SHIFT_IMM_OPS(X) SSE_SHUFFLE_OPS(X)             \
	SSE_MOVE_OPS(X)

#define SSE_DECLARE_OP(name)                                                 \
	int sse_##name(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);
SSE_ALL_OPS(SSE_DECLARE_OP)
#undef SSE_DECLARE_OP

/* Every op by name, for the instruction table and the tests. */
struct sse_op_info {
	const char *name;
	sse_fn fn;
};
extern const struct sse_op_info sse_op_table[];
extern const unsigned int sse_op_count;
const struct sse_op_info *sse_op_find(const char *name);

/*
 * MASKMOVDQU: which bytes of s go to memory at [rDI]; bit i of the result
 * set means byte i is stored (the high bit of each byte of the mask m).
 */
u16 sse_maskmov_bytes(const union xmm *m);

#endif

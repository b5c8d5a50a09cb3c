// SPDX-License-Identifier: Apache-2.0
/*
 * SSE2 packed integer arithmetic on XMM registers, in plain C: lane by
 * lane, no flags, no exceptions. The compiler vectorises most loops.
 */
#include "engine/soft/sse/sse.h"

static inline s64 clamp(s64 v, s64 lo, s64 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * d[i] = expr for every lane, where a and b are lane i of d and s taken as
 * type T, read through the union field f.
 */
#define DEFINE_LANEWISE(name, f, T, expr)                                    \
	int sse_##name(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr) \
	{                                                                    \
		(void)imm;                                                   \
		(void)mxcsr;                                                 \
		for (unsigned int i = 0; i < ARRAY_SIZE(d->f); i++) {        \
			T a = (T)d->f[i], b = (T)s->f[i];                    \
			d->f[i] = (expr);                                    \
		}                                                            \
		return FPU_OK;                                               \
	}

/* Wrapping arithmetic is done unsigned, where overflow is defined. */
DEFINE_LANEWISE(paddb, b, u8, a + b)
DEFINE_LANEWISE(paddw, w, u16, a + b)
DEFINE_LANEWISE(paddd, d, u32, a + b)
DEFINE_LANEWISE(paddq, q, u64, a + b)
DEFINE_LANEWISE(psubb, b, u8, a - b)
DEFINE_LANEWISE(psubw, w, u16, a - b)
DEFINE_LANEWISE(psubd, d, u32, a - b)
DEFINE_LANEWISE(psubq, q, u64, a - b)

DEFINE_LANEWISE(paddsb, b, s8, clamp((s64)a + b, INT8_MIN, INT8_MAX))
DEFINE_LANEWISE(paddsw, w, s16, clamp((s64)a + b, INT16_MIN, INT16_MAX))
DEFINE_LANEWISE(psubsb, b, s8, clamp((s64)a - b, INT8_MIN, INT8_MAX))
DEFINE_LANEWISE(psubsw, w, s16, clamp((s64)a - b, INT16_MIN, INT16_MAX))
DEFINE_LANEWISE(paddusb, b, u8, clamp((s64)a + b, 0, UINT8_MAX))
DEFINE_LANEWISE(paddusw, w, u16, clamp((s64)a + b, 0, UINT16_MAX))
DEFINE_LANEWISE(psubusb, b, u8, clamp((s64)a - b, 0, UINT8_MAX))
DEFINE_LANEWISE(psubusw, w, u16, clamp((s64)a - b, 0, UINT16_MAX))

DEFINE_LANEWISE(pmullw, w, s16, (u16)((s32)a * b))
DEFINE_LANEWISE(pmulhw, w, s16, (u16)(((s32)a * b) >> 16))
DEFINE_LANEWISE(pmulhuw, w, u16, (u16)(((u32)a * b) >> 16))

DEFINE_LANEWISE(pavgb, b, u8, (u8)(((u32)a + b + 1) >> 1))
DEFINE_LANEWISE(pavgw, w, u16, (u16)(((u32)a + b + 1) >> 1))
DEFINE_LANEWISE(pminub, b, u8, MIN(a, b))
DEFINE_LANEWISE(pmaxub, b, u8, MAX(a, b))
DEFINE_LANEWISE(pminsw, w, s16, (u16)MIN(a, b))
DEFINE_LANEWISE(pmaxsw, w, s16, (u16)MAX(a, b))

DEFINE_LANEWISE(pcmpeqb, b, u8, a == b ? UINT8_MAX : 0)
DEFINE_LANEWISE(pcmpeqw, w, u16, a == b ? UINT16_MAX : 0)
DEFINE_LANEWISE(pcmpeqd, d, u32, a == b ? UINT32_MAX : 0)
DEFINE_LANEWISE(pcmpgtb, b, s8, a > b ? UINT8_MAX : 0)
DEFINE_LANEWISE(pcmpgtw, w, s16, a > b ? UINT16_MAX : 0)
DEFINE_LANEWISE(pcmpgtd, d, s32, a > b ? UINT32_MAX : 0)

/* The bitwise ops exist in three spellings with the same effect. */
#define DEFINE_BITWISE(pname, psname, pdname, expr)                          \
	DEFINE_LANEWISE(pname, q, u64, expr)                                 \
	DEFINE_LANEWISE(psname, q, u64, expr)                                \
	DEFINE_LANEWISE(pdname, q, u64, expr)
DEFINE_BITWISE(pand, andps, andpd, a & b)
DEFINE_BITWISE(pandn, andnps, andnpd, ~a & b)
DEFINE_BITWISE(por, orps, orpd, a | b)
DEFINE_BITWISE(pxor, xorps, xorpd, a ^ b)

int sse_pmuludq(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	(void)imm;
	(void)mxcsr;
	d->q[0] = (u64)d->d[0] * s->d[0];
	d->q[1] = (u64)d->d[2] * s->d[2];
	return FPU_OK;
}

int sse_pmaddwd(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	(void)imm;
	(void)mxcsr;
	for (unsigned int i = 0; i < 4; i++) {
		/* Only -32768 * -32768 * 2 overflows, and wraps to 0x80000000. */
		s64 sum = (s64)(s16)d->w[2 * i] * (s16)s->w[2 * i] +
			  (s64)(s16)d->w[2 * i + 1] * (s16)s->w[2 * i + 1];

		d->d[i] = (u32)sum;
	}
	return FPU_OK;
}

int sse_psadbw(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	(void)imm;
	(void)mxcsr;
	for (unsigned int half = 0; half < 2; half++) {
		u64 sum = 0;

		for (unsigned int i = 8 * half; i < 8 * half + 8; i++)
			sum += d->b[i] > s->b[i] ? d->b[i] - s->b[i] :
						   s->b[i] - d->b[i];
		d->q[half] = sum;
	}
	return FPU_OK;
}

/*
 * Shifts. A count wider than the lane clears it (logical) or fills it
 * with the sign (arithmetic); the count is the whole 64-bit value, so a
 * count of 2^32 is as wide as any.
 */
#define DEFINE_SHIFT(name, f, T, bits, expr)                                 \
	static void name##_by(union xmm *d, u64 count)                       \
	{                                                                    \
		for (unsigned int i = 0; i < ARRAY_SIZE(d->f); i++) {        \
			T a = (T)d->f[i];                                    \
			d->f[i] = (expr);                                    \
		}                                                            \
	}                                                                    \
	int sse_##name(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr) \
	{                                                                    \
		(void)imm;                                                   \
		(void)mxcsr;                                                 \
		name##_by(d, s->q[0]);                                       \
		return FPU_OK;                                               \
	}                                                                    \
	int sse_##name##_imm(union xmm *d, const union xmm *s, u8 imm,       \
			     u32 *mxcsr)                                     \
	{                                                                    \
		(void)s;                                                     \
		(void)mxcsr;                                                 \
		name##_by(d, imm);                                           \
		return FPU_OK;                                               \
	}

#define SHL(T, bits) (count >= bits ? 0 : (T)(a << count))
#define SHR(T, bits) (count >= bits ? 0 : (T)(a >> count))
/* >> on a negative value is arithmetic in GCC and Clang. */
#define SAR(T, bits) ((T)(a >> (count >= bits ? bits - 1 : count)))
DEFINE_SHIFT(psllw, w, u16, 16, SHL(u16, 16))
DEFINE_SHIFT(pslld, d, u32, 32, SHL(u32, 32))
DEFINE_SHIFT(psllq, q, u64, 64, SHL(u64, 64))
DEFINE_SHIFT(psrlw, w, u16, 16, SHR(u16, 16))
DEFINE_SHIFT(psrld, d, u32, 32, SHR(u32, 32))
DEFINE_SHIFT(psrlq, q, u64, 64, SHR(u64, 64))
DEFINE_SHIFT(psraw, w, s16, 16, SAR(s16, 16))
DEFINE_SHIFT(psrad, d, s32, 32, SAR(s32, 32))

/* Whole-register byte shifts; a count above 15 clears the register. */
int sse_pslldq(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	union xmm r = { .q = { 0, 0 } };

	(void)s;
	(void)mxcsr;
	for (unsigned int i = imm; i < 16; i++)
		r.b[i] = d->b[i - imm];
	*d = r;
	return FPU_OK;
}

int sse_psrldq(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	union xmm r = { .q = { 0, 0 } };

	(void)s;
	(void)mxcsr;
	for (unsigned int i = 0; i + imm < 16; i++)
		r.b[i] = d->b[i + imm];
	*d = r;
	return FPU_OK;
}

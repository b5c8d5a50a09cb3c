// SPDX-License-Identifier: Apache-2.0
/*
 * SSE/SSE2 data movement between lanes: packs, unpacks, shuffles, lane
 * inserts and extracts, sign-bit masks and the merging register moves.
 * Results are built in a temporary first because d and s may be the same
 * register.
 */
#include "engine/soft/sse/sse.h"

#define OP_ARGS union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr
#define UNUSED_ARGS() ((void)d, (void)s, (void)imm, (void)mxcsr)

static inline s64 clamp(s64 v, s64 lo, s64 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Narrow each lane of d then of s, saturating to [lo, hi]. */
#define DEFINE_PACK(name, from, SF, to, lo, hi)                              \
	int sse_##name(OP_ARGS)                                              \
	{                                                                    \
		const unsigned int n = ARRAY_SIZE(d->from);                  \
		union xmm r;                                                 \
                                                                             \
		UNUSED_ARGS();                                               \
		for (unsigned int i = 0; i < n; i++) {                       \
			r.to[i] = clamp((SF)d->from[i], lo, hi);             \
			r.to[n + i] = clamp((SF)s->from[i], lo, hi);         \
		}                                                            \
		*d = r;                                                      \
		return FPU_OK;                                               \
	}
DEFINE_PACK(packsswb, w, s16, b, INT8_MIN, INT8_MAX)
DEFINE_PACK(packssdw, d, s32, w, INT16_MIN, INT16_MAX)
DEFINE_PACK(packuswb, w, s16, b, 0, UINT8_MAX)

/* Interleave the low (half 0) or high (half 1) lanes of d and s. */
#define DEFINE_UNPACK(name, f, half)                                         \
	int sse_##name(OP_ARGS)                                              \
	{                                                                    \
		const unsigned int n = ARRAY_SIZE(d->f) / 2;                 \
		union xmm r;                                                 \
                                                                             \
		UNUSED_ARGS();                                               \
		for (unsigned int i = 0; i < n; i++) {                       \
			r.f[2 * i] = d->f[half * n + i];                     \
			r.f[2 * i + 1] = s->f[half * n + i];                 \
		}                                                            \
		*d = r;                                                      \
		return FPU_OK;                                               \
	}
DEFINE_UNPACK(punpcklbw, b, 0)
DEFINE_UNPACK(punpcklwd, w, 0)
DEFINE_UNPACK(punpckldq, d, 0)
DEFINE_UNPACK(punpcklqdq, q, 0)
DEFINE_UNPACK(punpckhbw, b, 1)
DEFINE_UNPACK(punpckhwd, w, 1)
DEFINE_UNPACK(punpckhdq, d, 1)
DEFINE_UNPACK(punpckhqdq, q, 1)
DEFINE_UNPACK(unpcklps, d, 0)
DEFINE_UNPACK(unpckhps, d, 1)
DEFINE_UNPACK(unpcklpd, q, 0)
DEFINE_UNPACK(unpckhpd, q, 1)

int sse_shufps(OP_ARGS)
{
	union xmm r;

	UNUSED_ARGS();
	r.d[0] = d->d[imm & 3];
	r.d[1] = d->d[(imm >> 2) & 3];
	r.d[2] = s->d[(imm >> 4) & 3];
	r.d[3] = s->d[(imm >> 6) & 3];
	*d = r;
	return FPU_OK;
}

int sse_shufpd(OP_ARGS)
{
	union xmm r;

	UNUSED_ARGS();
	r.q[0] = d->q[imm & 1];
	r.q[1] = s->q[(imm >> 1) & 1];
	*d = r;
	return FPU_OK;
}

/* Lane i of the result is lane (imm >> 2i) & 3 of the first+4*base lanes. */
static void shuffle4(u32 *dst, const u32 *src, u8 imm)
{
	u32 r[4];

	for (unsigned int i = 0; i < 4; i++)
		r[i] = src[(imm >> (2 * i)) & 3];
	for (unsigned int i = 0; i < 4; i++)
		dst[i] = r[i];
}

static void shuffle4w(u16 *dst, const u16 *src, u8 imm)
{
	u16 r[4];

	for (unsigned int i = 0; i < 4; i++)
		r[i] = src[(imm >> (2 * i)) & 3];
	for (unsigned int i = 0; i < 4; i++)
		dst[i] = r[i];
}

int sse_pshufd(OP_ARGS)
{
	UNUSED_ARGS();
	shuffle4(d->d, s->d, imm);
	return FPU_OK;
}

int sse_pshuflw(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[1] = s->q[1];
	shuffle4w(&d->w[0], &s->w[0], imm);
	return FPU_OK;
}

int sse_pshufhw(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[0] = s->q[0];
	shuffle4w(&d->w[4], &s->w[4], imm);
	return FPU_OK;
}

int sse_pinsrw(OP_ARGS)
{
	UNUSED_ARGS();
	d->w[imm & 7] = (u16)s->q[0];
	return FPU_OK;
}

int sse_pextrw(OP_ARGS)
{
	u16 v = s->w[imm & 7];

	UNUSED_ARGS();
	d->q[0] = v;
	d->q[1] = 0;
	return FPU_OK;
}

/* Gathers the sign bit of each lane of s into d->q[0]. */
#define DEFINE_MOVMSK(name, f, bits)                                         \
	int sse_##name(OP_ARGS)                                              \
	{                                                                    \
		u64 m = 0;                                                   \
                                                                             \
		UNUSED_ARGS();                                               \
		for (unsigned int i = 0; i < ARRAY_SIZE(s->f); i++)          \
			m |= (u64)(s->f[i] >> (bits - 1)) << i;              \
		d->q[0] = m;                                                 \
		d->q[1] = 0;                                                 \
		return FPU_OK;                                               \
	}
DEFINE_MOVMSK(pmovmskb, b, 8)
DEFINE_MOVMSK(movmskps, d, 32)
DEFINE_MOVMSK(movmskpd, q, 64)

u16 sse_maskmov_bytes(const union xmm *m)
{
	u16 bytes = 0;

	for (unsigned int i = 0; i < 16; i++)
		bytes |= (u16)(m->b[i] >> 7) << i;
	return bytes;
}

/* Register-to-register forms only; see SSE_MOVE_OPS. */
int sse_movss(OP_ARGS)
{
	UNUSED_ARGS();
	d->d[0] = s->d[0];
	return FPU_OK;
}

int sse_movsd(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[0] = s->q[0];
	return FPU_OK;
}

int sse_movhlps(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[0] = s->q[1];
	return FPU_OK;
}

int sse_movlhps(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[1] = s->q[0];
	return FPU_OK;
}

int sse_movq(OP_ARGS)
{
	UNUSED_ARGS();
	d->q[0] = s->q[0];
	d->q[1] = 0;
	return FPU_OK;
}

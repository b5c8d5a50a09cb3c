// SPDX-License-Identifier: Apache-2.0
/*
 * SSE/SSE2 floating point, computed by the host's own SSE unit.
 *
 * The host is x86-64, so its SSE instructions give bit-exact results for
 * the guest's, the rcp/rsqrt approximations included, once the host MXCSR
 * carries the guest's rounding control, DAZ and FTZ. Every exception is
 * masked on the host so that it never traps; the flags it raises are then
 * judged against the guest's masks (fp_exec()).
 *
 * Each host sequence saves the host MXCSR, loads the one to run under,
 * runs the one instruction, reads the flags back and restores the host
 * MXCSR, all in a single asm statement, so that no compiler-generated
 * floating-point code can run under the guest's rounding mode.
 */
#include <string.h>

#include "engine/soft/sse/sse.h"

typedef long long v2di __attribute__((vector_size(16)));

static inline v2di xmm_vec(const union xmm *x)
{
	v2di v;

	memcpy(&v, x, sizeof(v));
	return v;
}

/*
 * Runs the host instruction on d and s under the host MXCSR run, puts
 * what d would become in res and returns the MXCSR after.
 */
typedef u32 (*host_fn)(union xmm *res, const union xmm *d,
		       const union xmm *s, u8 imm, u32 run);

/*
 * The lanes of an instruction that can overflow or underflow, needed to
 * tell its unmasked OE/UE apart (fp_post_flags()). Lane i of the result
 * comes from lane i of the inputs; op is the computation, redone on the
 * x87 when the precision flag must be known.
 */
enum fp_kind { FP_ADD, FP_SUB, FP_MUL, FP_DIV, FP_CVT };

struct fp_shape {
	u8 lanes;
	u8 in_size;	/* bytes per input lane, 4 or 8 */
	u8 out_size;	/* bytes per result lane */
	u8 op;		/* enum fp_kind */
};

#define PS(op) (&(const struct fp_shape){ 4, 4, 4, op })
#define SS(op) (&(const struct fp_shape){ 1, 4, 4, op })
#define PD(op) (&(const struct fp_shape){ 2, 8, 8, op })
#define SD(op) (&(const struct fp_shape){ 1, 8, 8, op })
#define PD2PS (&(const struct fp_shape){ 2, 8, 4, FP_CVT })
#define SD2SS (&(const struct fp_shape){ 1, 8, 4, FP_CVT })
#define NO_OU NULL	/* cannot overflow or underflow */

/* The host MXCSR to run a guest op under: its RC/DAZ/FTZ, all masked. */
static inline u32 host_mxcsr_for(u32 guest)
{
	return (guest & (MXCSR_RC | MXCSR_DAZ | MXCSR_FTZ)) | MXCSR_MASKS;
}

/* 1.0 in every lane but keep: an operand that raises nothing anywhere. */
static void isolate_lane(union xmm *x, unsigned int keep, unsigned int size)
{
	for (unsigned int i = 0; i < 16 / size; i++) {
		if (i == keep)
			continue;
		if (size == 4)
			x->d[i] = 0x3f800000;
		else
			x->q[i] = 0x3ff0000000000000ULL;
	}
}

static bool lane_is_denormal(const union xmm *x, unsigned int i,
			     unsigned int size)
{
	if (size == 4)
		return !(x->d[i] & 0x7f800000) && (x->d[i] & 0x007fffff);
	return !(x->q[i] & 0x7ff0000000000000ULL) &&
	       (x->q[i] & 0x000fffffffffffffULL);
}

static long double lane_value(const union xmm *x, unsigned int i,
			      unsigned int size, u32 guest)
{
	long double v;

	if (size == 4) {
		float f;

		memcpy(&f, &x->d[i], 4);
		v = f;
	} else {
		double f;

		memcpy(&f, &x->q[i], 8);
		v = f;
	}
	/* A denormal input counts as zero under DAZ. */
	if ((guest & MXCSR_DAZ) && lane_is_denormal(x, i, size))
		v = 0.0L * v;
	return v;
}

/*
 * Whether the result of lane i, rounded to its format's precision but with
 * an unbounded exponent, is inexact: the PE that comes with an unmasked
 * OE or UE. The x87 computes it, its precision control set to the
 * format's and its 15-bit exponent wide enough for any float or double
 * product, quotient or sum.
 */
static bool lane_inexact(const struct fp_shape *shape, const union xmm *d,
			 const union xmm *s, unsigned int i, u32 guest)
{
	long double a, b;
	u16 cw, saved, sw;

	cw = 0x7f | (shape->out_size == 4 ? 0 : 2) << 8 |
	     ((guest & MXCSR_RC) >> MXCSR_RC_SHIFT) << 10;
	b = lane_value(s, i, shape->in_size, guest);
	a = shape->op == FP_CVT ? b : lane_value(d, i, shape->in_size, guest);
	if (shape->op == FP_CVT)
		b = 0.0L;

#define X87_RUN(insn)                                                        \
	asm volatile("fnstcw %[saved]\n\t"                                    \
		     "fldcw %[cw]\n\t"                                        \
		     "fnclex\n\t" insn "\n\t"                                 \
		     "fnstsw %[sw]\n\t"                                       \
		     "fldcw %[saved]"                                        \
		     : "+t"(a), [saved] "=m"(saved), [sw] "=m"(sw)           \
		     : "u"(b), [cw] "m"(cw))
	switch (shape->op) {
	case FP_ADD:
	case FP_CVT:
		X87_RUN("fadd %%st(1), %%st");
		break;
	case FP_SUB:
		X87_RUN("fsub %%st(1), %%st");
		break;
	case FP_MUL:
		X87_RUN("fmul %%st(1), %%st");
		break;
	default:
		X87_RUN("fdiv %%st(1), %%st");
		break;
	}
#undef X87_RUN
	return sw & MXCSR_PE;	/* the x87's PE is bit 5 too */
}

/*
 * The post-computation flags (OE, UE, PE) when OE or UE is unmasked: the
 * hardware then reports them per lane differently from a masked run.
 *  - unmasked overflow: OE, and PE only if the significand was rounded;
 *  - unmasked underflow: UE for any tiny result, exact or not, FTZ not
 *    applied, and PE only if the significand was rounded.
 * Each lane is run on its own, so that its flags can be told apart.
 */
static u32 fp_post_flags(host_fn host, const struct fp_shape *shape,
			 const union xmm *d, const union xmm *s, u8 imm,
			 u32 guest)
{
	u32 masks = guest >> MXCSR_MASK_SHIFT, run = host_mxcsr_for(guest);
	u32 post = 0;

	if (!(masks & MXCSR_UE))
		run &= ~MXCSR_FTZ;
	for (unsigned int i = 0; i < shape->lanes; i++) {
		union xmm ld = *d, ls = *s, r;
		u32 f, lane;

		isolate_lane(&ld, i, shape->in_size);
		isolate_lane(&ls, i, shape->in_size);
		f = host(&r, &ld, &ls, imm, run);
		lane = f & (MXCSR_OE | MXCSR_UE | MXCSR_PE);
		if ((f & MXCSR_OE) && !(masks & MXCSR_OE))
			lane = MXCSR_OE;
		else if (!(masks & MXCSR_UE) &&
			 ((f & MXCSR_UE) ||
			  lane_is_denormal(&r, i, shape->out_size)))
			lane = MXCSR_UE;
		if (lane == MXCSR_OE || lane == MXCSR_UE)
			lane |= lane_inexact(shape, d, s, i, guest) ?
					MXCSR_PE : 0;
		post |= lane;
	}
	return post;
}

/*
 * Runs one instruction and folds its flags into the guest's MXCSR:
 *  - nothing unmasked raised: the result is written, the flags OR'd in;
 *  - an unmasked input exception (IE, DE, ZE) in any lane: no result, and
 *    only the input flags of all lanes are recorded, since the hardware
 *    stops before computing;
 *  - an unmasked OE, UE or PE: no result, every flag recorded.
 */
static enum fpu_fault fp_exec(host_fn host, const struct fp_shape *shape,
			      union xmm *d, const union xmm *s, u8 imm,
			      u32 *mxcsr)
{
	u32 masks = (*mxcsr >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
	union xmm r;
	u32 raised = host(&r, d, s, imm, host_mxcsr_for(*mxcsr)) & MXCSR_FLAGS;

	if (raised & ~masks & MXCSR_PRE_FLAGS) {
		*mxcsr |= raised & MXCSR_PRE_FLAGS;
		return FPU_XM;
	}
	if (shape && (~masks & (MXCSR_OE | MXCSR_UE)))
		raised = (raised & MXCSR_PRE_FLAGS) |
			 fp_post_flags(host, shape, d, s, imm, *mxcsr);
	*mxcsr |= raised;
	if (raised & ~masks)
		return FPU_XM;
	*d = r;
	return FPU_OK;
}

/* The asm around one host instruction; outputs and inputs are appended. */
#define HOST_RUN(insn, ...)                                                  \
	asm volatile("stmxcsr %[saved]\n\t"                                  \
		     "ldmxcsr %[run]\n\t"                                    \
		     insn "\n\t"                                             \
		     "stmxcsr %[after]\n\t"                                  \
		     "ldmxcsr %[saved]"                                      \
		     : [saved] "=m"(saved), [after] "=m"(after), __VA_ARGS__)

#define OP_FN(name, host, shape)                                             \
	int sse_##name(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr) \
	{                                                                    \
		return fp_exec(host, shape, d, s, imm, mxcsr);               \
	}

#define HOST_FN(name)                                                        \
	static u32 host_##name(union xmm *res, const union xmm *d,           \
			       const union xmm *s, u8 imm, u32 run)

/* op xmm, xmm: the result replaces all or part of d. */
#define DEFINE_FP_BINARY(name, shape)                                        \
	HOST_FN(name)                                                        \
	{                                                                    \
		v2di a = xmm_vec(d), b = xmm_vec(s);                         \
		u32 saved, after;                                            \
                                                                             \
		(void)imm;                                                   \
		HOST_RUN(#name " %[b], %[a]", [a] "+x"(a)                    \
			 : [b] "x"(b), [run] "m"(run));                      \
		memcpy(res, &a, sizeof(*res));                               \
		return after;                                                \
	}                                                                    \
	OP_FN(name, host_##name, shape)

DEFINE_FP_BINARY(addps, PS(FP_ADD))
DEFINE_FP_BINARY(addss, SS(FP_ADD))
DEFINE_FP_BINARY(addpd, PD(FP_ADD))
DEFINE_FP_BINARY(addsd, SD(FP_ADD))
DEFINE_FP_BINARY(subps, PS(FP_SUB))
DEFINE_FP_BINARY(subss, SS(FP_SUB))
DEFINE_FP_BINARY(subpd, PD(FP_SUB))
DEFINE_FP_BINARY(subsd, SD(FP_SUB))
DEFINE_FP_BINARY(mulps, PS(FP_MUL))
DEFINE_FP_BINARY(mulss, SS(FP_MUL))
DEFINE_FP_BINARY(mulpd, PD(FP_MUL))
DEFINE_FP_BINARY(mulsd, SD(FP_MUL))
DEFINE_FP_BINARY(divps, PS(FP_DIV))
DEFINE_FP_BINARY(divss, SS(FP_DIV))
DEFINE_FP_BINARY(divpd, PD(FP_DIV))
DEFINE_FP_BINARY(divsd, SD(FP_DIV))
DEFINE_FP_BINARY(cvtpd2ps, PD2PS)
DEFINE_FP_BINARY(cvtsd2ss, SD2SS)
DEFINE_FP_BINARY(minps, NO_OU)
DEFINE_FP_BINARY(minss, NO_OU)
DEFINE_FP_BINARY(minpd, NO_OU)
DEFINE_FP_BINARY(minsd, NO_OU)
DEFINE_FP_BINARY(maxps, NO_OU)
DEFINE_FP_BINARY(maxss, NO_OU)
DEFINE_FP_BINARY(maxpd, NO_OU)
DEFINE_FP_BINARY(maxsd, NO_OU)
DEFINE_FP_BINARY(sqrtps, NO_OU)
DEFINE_FP_BINARY(sqrtss, NO_OU)
DEFINE_FP_BINARY(sqrtpd, NO_OU)
DEFINE_FP_BINARY(sqrtsd, NO_OU)
DEFINE_FP_BINARY(rcpps, NO_OU)
DEFINE_FP_BINARY(rcpss, NO_OU)
DEFINE_FP_BINARY(rsqrtps, NO_OU)
DEFINE_FP_BINARY(rsqrtss, NO_OU)
DEFINE_FP_BINARY(cvtps2pd, NO_OU)
DEFINE_FP_BINARY(cvtss2sd, NO_OU)
DEFINE_FP_BINARY(cvtdq2ps, NO_OU)
DEFINE_FP_BINARY(cvtps2dq, NO_OU)
DEFINE_FP_BINARY(cvttps2dq, NO_OU)
DEFINE_FP_BINARY(cvtdq2pd, NO_OU)
DEFINE_FP_BINARY(cvtpd2dq, NO_OU)
DEFINE_FP_BINARY(cvttpd2dq, NO_OU)

/* The immediate must be encoded in the instruction: one asm per predicate. */
#define CMP_CASE(name, p)                                                    \
	case p:                                                              \
		HOST_RUN(#name " $" #p ", %[b], %[a]", [a] "+x"(a)           \
			 : [b] "x"(b), [run] "m"(run));                      \
		break;

#define DEFINE_FP_CMP(name)                                                  \
	HOST_FN(name)                                                        \
	{                                                                    \
		v2di a = xmm_vec(d), b = xmm_vec(s);                         \
		u32 saved, after;                                            \
                                                                             \
		switch (imm & 7) {                                           \
		CMP_CASE(name, 0) CMP_CASE(name, 1) CMP_CASE(name, 2)        \
		CMP_CASE(name, 3) CMP_CASE(name, 4) CMP_CASE(name, 5)        \
		CMP_CASE(name, 6) CMP_CASE(name, 7)                          \
		}                                                            \
		memcpy(res, &a, sizeof(*res));                               \
		return after;                                                \
	}                                                                    \
	OP_FN(name, host_##name, NO_OU)
SSE_FP_CMP_OPS(DEFINE_FP_CMP)

/* comis/ucomis: ZF, PF and CF straight from the host's flags. */
#define DEFINE_FP_COMI(name)                                                 \
	HOST_FN(name)                                                        \
	{                                                                    \
		v2di a = xmm_vec(d), b = xmm_vec(s);                         \
		u32 saved, after;                                            \
		u8 zf, pf, cf;                                               \
                                                                             \
		(void)imm;                                                   \
		HOST_RUN(#name " %[b], %[a]\n\t"                             \
			 "setz %[zf]\n\tsetp %[pf]\n\tsetc %[cf]",           \
			 [zf] "=&q"(zf), [pf] "=&q"(pf), [cf] "=&q"(cf)      \
			 : [a] "x"(a), [b] "x"(b), [run] "m"(run)            \
			 : "cc");                                            \
		res->q[0] = (zf ? RFLAGS_ZF : 0) | (pf ? RFLAGS_PF : 0) |    \
			    (cf ? RFLAGS_CF : 0);                            \
		res->q[1] = 0;                                               \
		return after;                                                \
	}                                                                    \
	OP_FN(name, host_##name, NO_OU)
SSE_FP_COMI_OPS(DEFINE_FP_COMI)

/* cvt(t)s[sd]2si: a 32-bit result is zero-extended, as in a GPR write. */
#define DEFINE_FP_TO_INT(name, insn, reg)                                    \
	HOST_FN(name)                                                        \
	{                                                                    \
		v2di b = xmm_vec(s);                                         \
		u32 saved, after;                                            \
		u64 r = 0;                                                   \
                                                                             \
		(void)d;                                                     \
		(void)imm;                                                   \
		HOST_RUN(insn " %[b], %" reg "[r]", [r] "+r"(r)              \
			 : [b] "x"(b), [run] "m"(run));                      \
		res->q[0] = r;                                               \
		res->q[1] = 0;                                               \
		return after;                                                \
	}                                                                    \
	OP_FN(name, host_##name, NO_OU)
DEFINE_FP_TO_INT(cvtss2si32, "cvtss2si", "k")
DEFINE_FP_TO_INT(cvtss2si64, "cvtss2si", "q")
DEFINE_FP_TO_INT(cvttss2si32, "cvttss2si", "k")
DEFINE_FP_TO_INT(cvttss2si64, "cvttss2si", "q")
DEFINE_FP_TO_INT(cvtsd2si32, "cvtsd2si", "k")
DEFINE_FP_TO_INT(cvtsd2si64, "cvtsd2si", "q")
DEFINE_FP_TO_INT(cvttsd2si32, "cvttsd2si", "k")
DEFINE_FP_TO_INT(cvttsd2si64, "cvttsd2si", "q")

/* cvtsi2s[sd]: the low lane of d from the integer in s->q[0]. */
#define DEFINE_FP_FROM_INT(name, insn, reg)                                  \
	HOST_FN(name)                                                        \
	{                                                                    \
		v2di a = xmm_vec(d);                                         \
		u32 saved, after;                                            \
		u64 r = s->q[0];                                             \
                                                                             \
		(void)imm;                                                   \
		HOST_RUN(insn " %" reg "[r], %[a]", [a] "+x"(a)              \
			 : [r] "r"(r), [run] "m"(run));                      \
		memcpy(res, &a, sizeof(*res));                               \
		return after;                                                \
	}                                                                    \
	OP_FN(name, host_##name, NO_OU)
DEFINE_FP_FROM_INT(cvtsi2ss32, "cvtsi2ssl", "k")
DEFINE_FP_FROM_INT(cvtsi2ss64, "cvtsi2ssq", "q")
DEFINE_FP_FROM_INT(cvtsi2sd32, "cvtsi2sdl", "k")
DEFINE_FP_FROM_INT(cvtsi2sd64, "cvtsi2sdq", "q")

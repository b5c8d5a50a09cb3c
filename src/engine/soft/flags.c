// SPDX-License-Identifier: Apache-2.0
/* Computing lazy flags when something finally reads them (see flags.h). */
#include "engine/soft/flags.h"

static u64 szp_flags(u64 res, unsigned int size)
{
	u64 f = 0;

	if ((res & size_mask(size)) == 0)
		f |= RFLAGS_ZF;
	if (sext(res, size) < 0)
		f |= RFLAGS_SF;
	if (!__builtin_parity(res & 0xff))
		f |= RFLAGS_PF;
	return f;
}

/* CF of a recorded operation (not CC_K_ROT, which keeps its own). */
static bool cf_of(unsigned int op, u64 dst, u64 src_raw, u64 src2, u64 rflags)
{
	unsigned int size = 1u << (op & 3);
	u64 m = size_mask(size), res = dst & m, src = src_raw & m;

	switch (op >> 2) {
	case CC_K_EFLAGS:
		return rflags & RFLAGS_CF;
	case CC_K_ADD:
		return res < src;
	case CC_K_ADC:
		return src2 ? res <= src : res < src;
	case CC_K_SUB:
		return ((res + src) & m) < src;
	case CC_K_SBB:
		return src2 ? ((res + src + 1) & m) <= src : ((res + src) & m) < src;
	case CC_K_INC:
	case CC_K_DEC:
		return src2;
	case CC_K_SHL:
		return (src_raw >> (size * 8 - 1)) & 1;
	case CC_K_SHR:
	case CC_K_SAR:
		return src_raw & 1;
	case CC_K_MUL:
		return src_raw != 0;
	default:	/* CC_K_LOGIC */
		return false;
	}
}

bool cc_compute_cf(const struct soft_cpu *cpu)
{
	if ((cpu->cc_op >> 2) == CC_K_ROT)
		return cpu->cc_src & 1;
	return cf_of(cpu->cc_op, cpu->cc_dst, cpu->cc_src, cpu->cc_src2, cpu->rflags);
}

/* The six arithmetic flags of a recorded operation (not CC_K_ROT). */
static u64 flags_of(unsigned int op, u64 dst, u64 src_raw, u64 src2, u64 rflags)
{
	unsigned int size = 1u << (op & 3);
	u64 m = size_mask(size), sign = 1ULL << (size * 8 - 1);
	u64 res = dst & m, src = src_raw & m, orig;
	u64 f;

	if ((op >> 2) == CC_K_EFLAGS)
		return rflags & RFLAGS_ARITH;
	f = szp_flags(res, size);
	if (cf_of(op, dst, src_raw, src2, rflags))
		f |= RFLAGS_CF;

	switch (op >> 2) {
	case CC_K_ADD:
	case CC_K_ADC:
		orig = (res - src - ((op >> 2) == CC_K_ADC ? src2 : 0)) & m;
		if ((orig ^ res) & (src ^ res) & sign)
			f |= RFLAGS_OF;
		f |= (orig ^ src ^ res) & RFLAGS_AF;
		break;
	case CC_K_SUB:
	case CC_K_SBB:
		orig = (res + src + ((op >> 2) == CC_K_SBB ? src2 : 0)) & m;
		if ((orig ^ src) & (orig ^ res) & sign)
			f |= RFLAGS_OF;
		f |= (orig ^ src ^ res) & RFLAGS_AF;
		break;
	case CC_K_INC:
		if (res == sign)
			f |= RFLAGS_OF;
		if ((res & 0xf) == 0)
			f |= RFLAGS_AF;
		break;
	case CC_K_DEC:
		if (res == sign - 1)
			f |= RFLAGS_OF;
		if ((res & 0xf) == 0xf)
			f |= RFLAGS_AF;
		break;
	case CC_K_SHL:
		if (!!(res & sign) != !!(f & RFLAGS_CF))
			f |= RFLAGS_OF;
		break;
	case CC_K_SHR:
		/* OF is defined for 1-bit shifts: the original top bit. */
		if ((src_raw & m) & sign)
			f |= RFLAGS_OF;
		break;
	case CC_K_MUL:
		if (f & RFLAGS_CF)
			f |= RFLAGS_OF;
		break;
	default:	/* LOGIC, SAR: OF = 0 */
		break;
	}
	return f;
}

u64 cc_compute_all(const struct soft_cpu *cpu)
{
	if ((cpu->cc_op >> 2) == CC_K_ROT) {
		/* A rotate changed CF and OF of the operation before it. */
		u64 f = flags_of(cpu->cc_prev_op, cpu->cc_prev_dst, cpu->cc_prev_src,
				 cpu->cc_prev_src2, cpu->rflags) & ~(RFLAGS_CF | RFLAGS_OF);

		return f | ((cpu->cc_src & 1) ? RFLAGS_CF : 0) | ((cpu->cc_src & 2) ? RFLAGS_OF : 0);
	}
	return flags_of(cpu->cc_op, cpu->cc_dst, cpu->cc_src, cpu->cc_src2, cpu->rflags);
}

bool cc_test_slow(const struct soft_cpu *cpu, unsigned int cond)
{
	u64 f = cc_compute_all(cpu);
	bool r, sf = f & RFLAGS_SF, of = f & RFLAGS_OF;

	switch (cond >> 1) {
	case COND_O >> 1: r = of; break;
	case COND_B >> 1: r = f & RFLAGS_CF; break;
	case COND_E >> 1: r = f & RFLAGS_ZF; break;
	case COND_BE >> 1: r = f & (RFLAGS_CF | RFLAGS_ZF); break;
	case COND_S >> 1: r = sf; break;
	case COND_P >> 1: r = f & RFLAGS_PF; break;
	case COND_L >> 1: r = sf != of; break;
	default: r = (sf != of) || (f & RFLAGS_ZF); break;
	}
	return r ^ (cond & 1);
}

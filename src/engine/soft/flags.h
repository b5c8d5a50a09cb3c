/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_FLAGS_H
#define KILN_ENGINE_SOFT_FLAGS_H

#include "engine/soft/cpu.h"

/*
 * Lazy arithmetic flags (QEMU's cc_op idea). An ALU instruction records
 * what it did - kind, operand size, result and second operand - and the
 * six arithmetic flags are computed only when something reads them.
 *
 *   cc_op  = (kind << 2) | log2(size)
 *   cc_dst = result, cc_src = second operand (or shift/mul detail),
 *   cc_src2 = carry in (ADC/SBB) or the CF to preserve (INC/DEC).
 *
 * Under CC_EFLAGS the flags are simply the bits of cpu->rflags.
 */
enum cc_kind {
	CC_K_EFLAGS,
	CC_K_ADD,
	CC_K_ADC,
	CC_K_SUB,
	CC_K_SBB,
	CC_K_LOGIC,
	CC_K_INC,
	CC_K_DEC,
	CC_K_SHL,	/* cc_src = value shifted by count - 1 */
	CC_K_SHR,	/* cc_src = value shifted by count - 1 */
	CC_K_SAR,	/* cc_src = value shifted by count - 1 */
	CC_K_MUL,	/* CF = OF = (cc_src != 0) */
	CC_K_ROT,	/* ROL/ROR: cc_src = CF | OF << 1; the rest from cc_prev_* */
};

#define CC_EFLAGS 0u
#define CC_OP(kind, size) (((kind) << 2) | (__builtin_ctz(size)))

#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* Condition codes in encoding order (Jcc, SETcc, CMOVcc low nibble). */
enum cond {
	COND_O, COND_NO, COND_B, COND_AE, COND_E, COND_NE, COND_BE, COND_A,
	COND_S, COND_NS, COND_P, COND_NP, COND_L, COND_GE, COND_LE, COND_G,
};

static inline void cc_set(struct soft_cpu *cpu, unsigned int kind, unsigned int size,
			  u64 dst, u64 src)
{
	cpu->cc_op = CC_OP(kind, size);
	cpu->cc_dst = dst;
	cpu->cc_src = src;
}

static inline s64 sext(u64 v, unsigned int size)
{
	switch (size) {
	case 1: return (s8)v;
	case 2: return (s16)v;
	case 4: return (s32)v;
	default: return (s64)v;
	}
}

u64 cc_compute_all(const struct soft_cpu *cpu);
bool cc_compute_cf(const struct soft_cpu *cpu);
bool cc_test_slow(const struct soft_cpu *cpu, unsigned int cond);

/* Full RFLAGS with the arithmetic flags computed. */
static inline u64 cpu_get_rflags(const struct soft_cpu *cpu)
{
	if (cpu->cc_op == CC_EFLAGS)
		return cpu->rflags;
	return (cpu->rflags & ~RFLAGS_ARITH) | cc_compute_all(cpu);
}

/* Makes rflags authoritative (CC_EFLAGS), for code that edits flag bits. */
static inline void cpu_flags_materialize(struct soft_cpu *cpu)
{
	if (cpu->cc_op != CC_EFLAGS) {
		cpu->rflags = cpu_get_rflags(cpu);
		cpu->cc_op = CC_EFLAGS;
	}
}

static inline bool cpu_get_cf(const struct soft_cpu *cpu)
{
	unsigned int op = cpu->cc_op;
	u64 m = size_mask(1u << (op & 3));

	/* The common producers of a carry for ADC/SBB/INC, inline. */
	switch (op >> 2) {
	case CC_K_EFLAGS:
		return cpu->rflags & RFLAGS_CF;
	case CC_K_ADD:
		return (cpu->cc_dst & m) < (cpu->cc_src & m);
	case CC_K_SUB:
		return ((cpu->cc_dst + cpu->cc_src) & m) < (cpu->cc_src & m);
	case CC_K_LOGIC:
		return false;
	default:
		return cc_compute_cf(cpu);
	}
}

/*
 * A rotate sets CF and OF and keeps the other flags of the operation
 * before it, which is kept aside instead of being computed now.
 */
static inline void cc_set_rotate(struct soft_cpu *cpu, bool cf, bool of)
{
	if ((cpu->cc_op >> 2) == CC_K_ROT) {
		cpu->rflags = (cpu->rflags & ~RFLAGS_ARITH) | cc_compute_all(cpu);
		cpu->cc_op = CC_EFLAGS;
	}
	cpu->cc_prev_op = cpu->cc_op;
	cpu->cc_prev_dst = cpu->cc_dst;
	cpu->cc_prev_src = cpu->cc_src;
	cpu->cc_prev_src2 = cpu->cc_src2;
	cpu->cc_op = CC_K_ROT << 2;
	cpu->cc_src = (u64)cf | ((u64)of << 1);
}

/* Evaluates a condition, with fast paths for CMP/SUB and logic results. */
static inline __attribute__((always_inline)) bool cc_test(const struct soft_cpu *cpu, unsigned int cond)
{
	unsigned int op = cpu->cc_op;
	unsigned int size = 1u << (op & 3);
	u64 m = size_mask(size);
	bool r;

	switch (op >> 2) {
	case CC_K_SUB: {
		u64 res = cpu->cc_dst & m, src = cpu->cc_src & m;
		u64 orig = (res + src) & m;

		switch (cond >> 1) {
		case COND_B >> 1: r = orig < src; break;
		case COND_E >> 1: r = res == 0; break;
		case COND_BE >> 1: r = orig <= src; break;
		case COND_S >> 1: r = sext(res, size) < 0; break;
		case COND_L >> 1: r = sext(orig, size) < sext(src, size); break;
		case COND_LE >> 1: r = sext(orig, size) <= sext(src, size); break;
		default: return cc_test_slow(cpu, cond);
		}
		return r ^ (cond & 1);
	}
	case CC_K_LOGIC: {
		u64 res = cpu->cc_dst & m;

		switch (cond >> 1) {
		case COND_O >> 1: r = false; break;
		case COND_B >> 1: r = false; break;
		case COND_E >> 1: r = res == 0; break;
		case COND_BE >> 1: r = res == 0; break;
		case COND_S >> 1: r = sext(res, size) < 0; break;
		case COND_L >> 1: r = sext(res, size) < 0; break;
		case COND_LE >> 1: r = sext(res, size) <= 0; break;
		default: return cc_test_slow(cpu, cond);
		}
		return r ^ (cond & 1);
	}
	case CC_K_EFLAGS:
	case CC_K_ROT:
		return cc_test_slow(cpu, cond);
	default:
		if ((cond >> 1) == (COND_E >> 1))
			return ((cpu->cc_dst & m) == 0) ^ (cond & 1);
		if ((cond >> 1) == (COND_S >> 1))
			return (sext(cpu->cc_dst, size) < 0) ^ (cond & 1);
		return cc_test_slow(cpu, cond);
	}
}

/* Arithmetic flags from a bit mask (e.g. POPF, SAHF, IRET, bit tests). */
static inline void cpu_set_arith_flags(struct soft_cpu *cpu, u64 bits)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~RFLAGS_ARITH) | (bits & RFLAGS_ARITH);
}

#endif

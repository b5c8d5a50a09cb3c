// SPDX-License-Identifier: Apache-2.0
/* MUL, IMUL, DIV, IDIV. Division faults (#DE) before any register changes. */
#include "engine/soft/exec.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* Sets the MUL flag record: CF = OF = overflow, SZP from the low half. */
static void mul_flags(struct soft_cpu *cpu, unsigned int size, u64 lo, bool overflow)
{
	cc_set(cpu, CC_K_MUL, size, lo, overflow);
}

/* Writes the double-width result of a one-operand multiply or divide. */
static void write_pair(struct soft_cpu *cpu, unsigned int size, u64 lo, u64 hi)
{
	if (size == 1) {
		reg_write(cpu, GPR_RAX, 2, ((hi & 0xff) << 8) | (lo & 0xff));
		return;
	}
	reg_write(cpu, GPR_RAX, size, lo);
	reg_write(cpu, GPR_RDX, size, hi);
}

/* F6/F7 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV. */
static inline __attribute__((always_inline)) const struct insn *
mul1_body(struct soft_cpu *cpu, const struct insn *in, unsigned int size)
{
	unsigned int bits = size * 8;
	u64 m = size_mask(size);
	u64 src = rm_read(cpu, in, size);
	u64 a = reg_read(cpu, GPR_RAX, size);
	u64 d = size == 1 ? (cpu->gpr[GPR_RAX] >> 8) & 0xff : reg_read(cpu, GPR_RDX, size);

	switch (in->sub) {
	case 4: {
		u128 p = (u128)a * src;
		u64 lo = (u64)p & m, hi = size == 8 ? (u64)(p >> 64) : (u64)(p >> bits) & m;

		write_pair(cpu, size, lo, hi);
		mul_flags(cpu, size, lo, hi != 0);
		break;
	}
	case 5: {
		s128 p = (s128)sext(a, size) * sext(src, size);
		u64 lo = (u64)p & m, hi = size == 8 ? (u64)(p >> 64) : (u64)(p >> bits) & m;

		write_pair(cpu, size, lo, hi);
		mul_flags(cpu, size, lo, p != (s128)sext(lo, size));
		break;
	}
	case 6: {
		u128 n = size == 1 ? (u128)(cpu->gpr[GPR_RAX] & 0xffff) :
			 ((u128)d << bits) | a;
		u128 q;

		if (src == 0)
			cpu_raise(cpu, EXC_DE, 0, false);
		q = n / src;
		if (q > m)
			cpu_raise(cpu, EXC_DE, 0, false);
		write_pair(cpu, size, (u64)q, (u64)(n % src));
		break;
	}
	default: {
		s128 n, q, r, ssrc = sext(src, size);

		if (size == 1)
			n = (s16)cpu->gpr[GPR_RAX];
		else if (size == 8)
			n = (s128)(((u128)d << 64) | a);
		else
			n = (s128)sext(((d << bits) | a), size * 2);
		if (ssrc == 0)
			cpu_raise(cpu, EXC_DE, 0, false);
		q = n / ssrc;
		r = n % ssrc;
		if (q != (s128)sext((u64)q, size))
			cpu_raise(cpu, EXC_DE, 0, false);
		write_pair(cpu, size, (u64)q & m, (u64)r & m);
		break;
	}
	}
	return next_insn(cpu, in);
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B). */
static inline __attribute__((always_inline)) const struct insn *
imul2_body(struct soft_cpu *cpu, const struct insn *in, unsigned int size)
{
	s64 b = sext(rm_read(cpu, in, size), size);
	s64 a = in->opcode == 0x1af ? sext(reg_read(cpu, in->reg, size), size) : sext(in->imm, size);
	s128 p = (s128)a * b;
	u64 lo = (u64)p & size_mask(size);

	reg_write(cpu, in->reg, size, lo);
	mul_flags(cpu, size, lo, p != (s128)sext(lo, size));
	return next_insn(cpu, in);
}

#define GEN_MUL(size) \
	static OP(mul1_##size) { return mul1_body(cpu, in, size); } \
	static OP(imul2_##size) { return imul2_body(cpu, in, size); }
GEN_MUL(1)
GEN_MUL(2)
GEN_MUL(4)
GEN_MUL(8)

const insn_fn op_mul1[4] = { mul1_1, mul1_2, mul1_4, mul1_8 };
const insn_fn op_imul2[4] = { imul2_1, imul2_2, imul2_4, imul2_8 };

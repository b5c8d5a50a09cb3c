// SPDX-License-Identifier: Apache-2.0
/* Shifts and rotates: group 2 (C0/C1/D0-D3), SHLD and SHRD. */
#include "engine/soft/exec.h"

enum { ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR };

/* Sets CF and OF after a rotate, leaving the other flags alone. */
static void set_cf_of(struct soft_cpu *cpu, bool cf, bool of)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~(RFLAGS_CF | RFLAGS_OF)) |
		      (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
}

/* One shift/rotate on a value of size bytes; count already masked. */
static u64 shift_compute(struct soft_cpu *cpu, unsigned int op, unsigned int size, u64 v, unsigned int count)
{
	unsigned int bits = size * 8;
	u64 m = size_mask(size), r;

	v &= m;
	if (count == 0)
		return v;
	switch (op) {
	case ROL:
		count %= bits;
		r = count ? ((v << count) | (v >> (bits - count))) & m : v;
		set_cf_of(cpu, r & 1, ((r >> (bits - 1)) ^ r) & 1);
		return r;
	case ROR:
		count %= bits;
		r = count ? ((v >> count) | (v << (bits - count))) & m : v;
		set_cf_of(cpu, (r >> (bits - 1)) & 1, ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1);
		return r;
	case RCL: case RCR: {
		bool cf = cpu_get_cf(cpu);

		count %= bits + 1;
		r = v;
		for (unsigned int i = 0; i < count; i++) {
			bool out;

			if (op == RCL) {
				out = (r >> (bits - 1)) & 1;
				r = ((r << 1) | cf) & m;
			} else {
				out = r & 1;
				r = (r >> 1) | ((u64)cf << (bits - 1));
			}
			cf = out;
		}
		if (op == RCL)
			set_cf_of(cpu, cf, ((r >> (bits - 1)) & 1) ^ cf);
		else
			set_cf_of(cpu, cf, ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1);
		return r;
	}
	case SHL: case SAL:
		r = count < 64 ? v << count : 0;
		cc_set(cpu, CC_K_SHL, size, r, v << (count - 1));
		return r & m;
	case SHR:
		r = count < 64 ? v >> count : 0;
		cc_set(cpu, CC_K_SHR, size, r, v >> (count - 1));
		return r;
	default: {	/* SAR */
		s64 sv = sext(v, size);

		r = (u64)(sv >> (count < 64 ? count : 63));
		cc_set(cpu, CC_K_SAR, size, r, (u64)(sv >> (count - 1)));
		return r & m;
	}
	}
}

static u64 rmw_shift(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size)
{
	return shift_compute(cpu, arg >> 8, size, old, arg & 0xff);
}

static inline __attribute__((always_inline)) const struct insn *
shift_body(struct soft_cpu *cpu, const struct insn *in, bool mem, unsigned int size)
{
	unsigned int count = (in->sub & 8) ? cpu->gpr[GPR_RCX] : in->imm;
	unsigned int op = in->sub & 7;

	count &= size == 8 ? 63 : 31;
	if (mem)
		mem_rmw(cpu, in, insn_lin(cpu, in), size, rmw_shift, (op << 8) | count, false);
	else
		reg_write(cpu, in->rm, size, shift_compute(cpu, op, size, reg_read(cpu, in->rm, size), count));
	return next_insn(cpu, in);
}

#define GEN_SHIFT(mem, size) static OP(shift_##mem##_##size) { return shift_body(cpu, in, mem, size); }
GEN_SHIFT(0, 1) GEN_SHIFT(0, 2) GEN_SHIFT(0, 4) GEN_SHIFT(0, 8)
GEN_SHIFT(1, 1) GEN_SHIFT(1, 2) GEN_SHIFT(1, 4) GEN_SHIFT(1, 8)

const insn_fn op_shift[2][4] = {
	{ shift_0_1, shift_0_2, shift_0_4, shift_0_8 },
	{ shift_1_1, shift_1_2, shift_1_4, shift_1_8 },
};

/* SHLD/SHRD: sub bit 0 = right, bit 3 = count in CL. */
static u64 rmw_shld(struct soft_cpu *cpu, u64 dst, u64 arg, unsigned int size)
{
	unsigned int bits = size * 8, count = arg & 0xff;
	bool right = arg & 0x100;
	u64 src = arg >> 16, m = size_mask(size), r, f = 0;
	bool cf;

	(void)cpu;
	dst &= m;
	if (count == 0)
		return dst;
	if (size == 2 && count > 16) {
		/* Undefined; behave as a 32-bit shift of dst:src, like hardware. */
		u64 wide = right ? ((src << 16) | dst) : ((dst << 16) | src);

		wide |= wide << 32;
		r = right ? wide >> count : wide << count >> 32;
		cf = right ? (wide >> (count - 1)) & 1 : (wide << (count - 1) >> 31) & 1;
	} else if (right) {
		r = (dst >> count) | (count < 64 ? (src << (bits - count)) : 0);
		cf = (dst >> (count - 1)) & 1;
	} else {
		r = (dst << count) | (src >> (bits - count));
		cf = (dst >> (bits - count)) & 1;
	}
	r &= m;
	if (cf)
		f |= RFLAGS_CF;
	if (r == 0)
		f |= RFLAGS_ZF;
	if (r >> (bits - 1))
		f |= RFLAGS_SF;
	if (!__builtin_parity(r & 0xff))
		f |= RFLAGS_PF;
	if (((r ^ dst) >> (bits - 1)) & 1)
		f |= RFLAGS_OF;
	cpu_set_arith_flags(cpu, f);
	return r;
}

OP(op_shld)
{
	unsigned int size = in->osize;
	unsigned int count = ((in->sub & 8) ? cpu->gpr[GPR_RCX] : in->imm) & (size == 8 ? 63 : 31);
	u64 src = reg_read(cpu, in->reg, size);
	u64 arg = count | ((u64)(in->sub & 1) << 8);

	/* The source rides in the argument; 64-bit sources need their own path. */
	if (size == 8) {
		u64 dst = rm_read(cpu, in, 8), r, f = 0;
		bool right = in->sub & 1, cf;

		if (count == 0) {
			rm_write(cpu, in, 8, dst);
			return next_insn(cpu, in);
		}
		if (right) {
			r = (dst >> count) | (src << (64 - count));
			cf = (dst >> (count - 1)) & 1;
		} else {
			r = (dst << count) | (src >> (64 - count));
			cf = (dst >> (64 - count)) & 1;
		}
		rm_write(cpu, in, 8, r);
		if (cf)
			f |= RFLAGS_CF;
		if (r == 0)
			f |= RFLAGS_ZF;
		if (r >> 63)
			f |= RFLAGS_SF;
		if (!__builtin_parity(r & 0xff))
			f |= RFLAGS_PF;
		if ((r ^ dst) >> 63)
			f |= RFLAGS_OF;
		cpu_set_arith_flags(cpu, f);
		return next_insn(cpu, in);
	}
	arg |= src << 16;
	if (in->flags & INSN_MEM)
		mem_rmw(cpu, in, insn_lin(cpu, in), size, rmw_shld, arg, false);
	else
		reg_write(cpu, in->rm, size, rmw_shld(cpu, reg_read(cpu, in->rm, size), arg, size));
	return next_insn(cpu, in);
}

// SPDX-License-Identifier: Apache-2.0
/* Shifts and rotates: group 2 (C0/C1/D0-D3), SHLD and SHRD. */
#include "engine/soft/exec.h"

enum { ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR };

/* RCL/RCR: through CF, eager (rare); count already masked. */
static u64 rotate_carry(struct soft_cpu *cpu, bool left, unsigned int size, u64 v, unsigned int count);

/* Sets CF and OF after a rotate, leaving the other flags alone. */
static void set_cf_of(struct soft_cpu *cpu, bool cf, bool of)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~(RFLAGS_CF | RFLAGS_OF)) |
		      (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
}

/* One shift/rotate on a value of size bytes; count already masked. */
static inline __attribute__((always_inline)) u64
shift_compute(struct soft_cpu *cpu, unsigned int op, unsigned int size, u64 v, unsigned int count)
{
	unsigned int bits = size * 8;
	u64 m = size_mask(size), r;

	v &= m;
	if (count == 0)
		return v;
	switch (op) {
	case ROL:
		count &= bits - 1;
		r = count ? ((v << count) | (v >> (bits - count))) & m : v;
		cc_set_rotate(cpu, r & 1, ((r >> (bits - 1)) ^ r) & 1);
		return r;
	case ROR:
		count &= bits - 1;
		r = count ? ((v >> count) | (v << (bits - count))) & m : v;
		cc_set_rotate(cpu, (r >> (bits - 1)) & 1, ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1);
		return r;
	case RCL: case RCR:
		return rotate_carry(cpu, op == RCL, size, v, count);
	case SHL: case SAL:
		r = v << count;
		cc_set(cpu, CC_K_SHL, size, r, v << (count - 1));
		return r & m;
	case SHR:
		r = v >> count;
		cc_set(cpu, CC_K_SHR, size, r, v >> (count - 1));
		return r;
	default: {	/* SAR */
		s64 sv = sext(v, size);

		r = (u64)(sv >> count);
		cc_set(cpu, CC_K_SAR, size, r, (u64)(sv >> (count - 1)));
		return r & m;
	}
	}
}

static inline __attribute__((always_inline)) const struct insn *
shift_body(struct soft_cpu *cpu, const struct insn *in, unsigned int op, bool mem, unsigned int size)
{
	unsigned int count = (in->sub & 8) ? cpu->gpr[GPR_RCX] : in->imm;

	count &= size == 8 ? 63 : 31;
	if (mem) {
		u64 lin = insn_lin(cpu, in);
		void *p = mem_rmw_ptr(cpu, lin, size);

		if (p) {
			host_store(p, size, shift_compute(cpu, op, size, host_load(p, size), count));
		} else {
			u64 v = mem_read(cpu, lin, size);

			mem_write(cpu, lin, size, shift_compute(cpu, op, size, v, count));
		}
	} else {
		reg_write(cpu, in->rm, size, shift_compute(cpu, op, size, reg_read(cpu, in->rm, size), count));
	}
	return next_insn(cpu, in);
}

#define GEN_SHIFT(op, mem, size) \
	static OP(shift_##op##_##mem##_##size) { return shift_body(cpu, in, op, mem, size); }
#define GEN_SHIFT_SIZES(op, mem) \
	GEN_SHIFT(op, mem, 1) GEN_SHIFT(op, mem, 2) GEN_SHIFT(op, mem, 4) GEN_SHIFT(op, mem, 8)
#define GEN_SHIFT_OP(op) GEN_SHIFT_SIZES(op, 0) GEN_SHIFT_SIZES(op, 1)
#define ROW_SHIFT_SIZES(op, mem) \
	{ shift_##op##_##mem##_1, shift_##op##_##mem##_2, shift_##op##_##mem##_4, shift_##op##_##mem##_8 }
#define ROW_SHIFT(op) { ROW_SHIFT_SIZES(op, 0), ROW_SHIFT_SIZES(op, 1) }

GEN_SHIFT_OP(ROL)
GEN_SHIFT_OP(ROR)
GEN_SHIFT_OP(RCL)
GEN_SHIFT_OP(RCR)
GEN_SHIFT_OP(SHL)
GEN_SHIFT_OP(SHR)
GEN_SHIFT_OP(SAL)
GEN_SHIFT_OP(SAR)

const insn_fn op_shift[8][2][4] = {
	ROW_SHIFT(ROL), ROW_SHIFT(ROR), ROW_SHIFT(RCL), ROW_SHIFT(RCR),
	ROW_SHIFT(SHL), ROW_SHIFT(SHR), ROW_SHIFT(SAL), ROW_SHIFT(SAR),
};

static u64 rotate_carry(struct soft_cpu *cpu, bool left, unsigned int size, u64 v, unsigned int count)
{
	unsigned int bits = size * 8;
	u64 m = size_mask(size), r = v;
	bool cf = cpu_get_cf(cpu);

	count %= bits + 1;
	for (unsigned int i = 0; i < count; i++) {
		bool out;

		if (left) {
			out = (r >> (bits - 1)) & 1;
			r = ((r << 1) | cf) & m;
		} else {
			out = r & 1;
			r = (r >> 1) | ((u64)cf << (bits - 1));
		}
		cf = out;
	}
	if (count) {
		if (left)
			set_cf_of(cpu, cf, ((r >> (bits - 1)) & 1) ^ cf);
		else
			set_cf_of(cpu, cf, ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1);
	}
	return r;
}

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
		u64 dst, r, f = 0;
		bool right = in->sub & 1, cf;

		/* A read-modify-write: the write permission is checked first. */
		if (in->flags & INSN_MEM)
			mem_probe_write(cpu, insn_lin(cpu, in), 8, cpu_user(cpu));
		dst = rm_read(cpu, in, 8);
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

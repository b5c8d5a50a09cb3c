// SPDX-License-Identifier: Apache-2.0
/* Bit tests (BT/BTS/BTR/BTC), bit scans (BSF/BSR) and POPCNT. */
#include "engine/soft/exec.h"

static void set_cf(struct soft_cpu *cpu, bool cf)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~RFLAGS_CF) | (cf ? RFLAGS_CF : 0);
}

static u64 bit_apply(unsigned int op, u64 v, u64 mask)
{
	switch (op) {
	case 1: return v | mask;
	case 2: return v & ~mask;
	case 3: return v ^ mask;
	default: return v;
	}
}

static u64 rmw_bit(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size)
{
	(void)cpu; (void)size;
	return bit_apply(arg >> 8, old, 1ULL << (arg & 63));
}

/* sub: 0 bt, 1 bts, 2 btr, 3 btc; bit 2 set for the imm8 forms. */
OP(op_bt)
{
	unsigned int size = in->osize, bits = size * 8, op = in->sub & 3;
	u64 off = (in->sub & 4) ? in->imm : reg_read(cpu, in->reg, size);
	u64 old;

	if (!(in->flags & INSN_MEM)) {
		unsigned int bit = off & (bits - 1);

		old = reg_read(cpu, in->rm, size);
		if (op)
			reg_write(cpu, in->rm, size, bit_apply(op, old, 1ULL << bit));
		set_cf(cpu, (old >> bit) & 1);
		return next_insn(cpu, in);
	}

	/* Memory: a register offset is signed and may reach outside the operand. */
	u64 ea = insn_ea(cpu, in);
	unsigned int bit;

	if (in->sub & 4) {
		bit = off & (bits - 1);
	} else {
		s64 soff = sext(off, size);

		ea += (u64)((soff >> __builtin_ctz(bits)) * (s64)size);
		ea &= addr_masks[in->asize];
		bit = soff & (bits - 1);
	}
	u64 lin = seg_lin(cpu, in->seg, ea);

	if (op == 0)
		old = mem_read(cpu, lin, size);
	else
		old = mem_rmw(cpu, in, lin, size, rmw_bit, (op << 8) | bit, in->flags & INSN_LOCK);
	set_cf(cpu, (old >> bit) & 1);
	return next_insn(cpu, in);
}

static void set_zf(struct soft_cpu *cpu, bool zf)
{
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~RFLAGS_ZF) | (zf ? RFLAGS_ZF : 0);
}

OP(op_bsf)
{
	u64 v = rm_read(cpu, in, in->osize);

	/* Source zero: ZF set and the destination left alone (as AMD documents). */
	if (v)
		reg_write(cpu, in->reg, in->osize, __builtin_ctzll(v));
	set_zf(cpu, v == 0);
	return next_insn(cpu, in);
}

OP(op_bsr)
{
	u64 v = rm_read(cpu, in, in->osize);

	if (v)
		reg_write(cpu, in->reg, in->osize, 63 - __builtin_clzll(v));
	set_zf(cpu, v == 0);
	return next_insn(cpu, in);
}

OP(op_popcnt)
{
	u64 v = rm_read(cpu, in, in->osize);

	reg_write(cpu, in->reg, in->osize, __builtin_popcountll(v));
	cpu_set_arith_flags(cpu, v ? 0 : RFLAGS_ZF);
	return next_insn(cpu, in);
}

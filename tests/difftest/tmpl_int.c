// SPDX-License-Identifier: Apache-2.0
/*
 * Integer templates: ALU, TEST, MOV, INC/DEC/NOT/NEG, shifts and rotates,
 * SHLD/SHRD, MUL/IMUL/DIV/IDIV, bit tests and scans, CMOVcc/SETcc,
 * XCHG/XADD/CMPXCHG*, BSWAP, MOVZX/MOVSX/MOVSXD, LEA, CBW/CWD families.
 *
 * The flag masks follow the SDM, instruction by instruction (vol. 2 and
 * appendix A of vol. 1): what an instruction leaves "undefined" goes to
 * fx.fundef, what it sets goes to fx.fdef.
 */
#include "gen.h"

#define LOGIC_DEF (RF_ARITH & ~RF_AF)	/* OF = CF = 0, SF ZF PF set */
#define COND_FLAGS_INIT { RF_OF, RF_OF, RF_CF, RF_CF, RF_ZF, RF_ZF, RF_CF | RF_ZF, RF_CF | RF_ZF, \
		RF_SF, RF_SF, RF_PF, RF_PF, RF_SF | RF_OF, RF_SF | RF_OF, \
		RF_ZF | RF_SF | RF_OF, RF_ZF | RF_SF | RF_OF }

static const u32 cond_flags[16] = COND_FLAGS_INIT;

static bool pinned(struct gen *g, int r)
{
	return g->pinned & bit(r);
}

static unsigned int imm_size_of(unsigned int size)
{
	return size == 1 ? 1 : size == 2 ? 2 : 4;
}

/* Lock a memory destination sometimes (aligned: no split locks, see gen.c). */
static unsigned int maybe_lock(struct gen *g, struct enc *e, bool *lock)
{
	*lock = rng_chance(&g->r, 1, 4);
	if (*lock)
		enc_pfx(e, 0xf0);
	return *lock ? M_ALIGN : 0;
}

static void unlock(struct enc *e)
{
	for (unsigned int i = 0; i < e->npfx; i++)
		if (e->pfx[i] == 0xf0)
			e->pfx[i] = e->pfx[--e->npfx];
}

/* ---------------------------------------------------------------------- */
/* ALU: a = op (add or adc sbb and sub xor cmp), b = form                 */
/* ---------------------------------------------------------------------- */

static void alu_flags(struct fx *f, unsigned int op)
{
	bool logic = op == 1 || op == 4 || op == 6;

	f->fdef |= logic ? LOGIC_DEF : RF_ARITH;
	f->fundef |= logic ? RF_AF : 0;	/* AF undefined after logic ops */
	if (op == 2 || op == 3)
		f->frd |= RF_CF;
}

static void t_alu(struct gen *g, const struct tmpl *t)
{
	unsigned int op = t->a, size = g_osize(g), mflags = 0;
	bool write = op != 7, lock = false;
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;

	g_size_prefix(g, &e, size);
	alu_flags(&f, op);
	switch (t->b) {
	case 0:		/* E,G: 00 01 08 09 ... */
	case 1: {	/* G,E: 02 03 ... */
		bool gdst = t->b == 1;
		int r;

		if (!gdst && write)
			mflags = maybe_lock(g, &e, &lock);
		g_rm(g, &e, &o, size, write && !gdst, 40, mflags);
		if (!o.mem && lock)
			unlock(&e);
		r = g_regf(g, &e, size, gdst && write);
		e.op = (u8)(op * 8 + (size > 1) + (gdst ? 2 : 0));
		f.rd = breg_bit(r) | (o.mem ? 0 : breg_bit(o.reg));
		if (gdst && write)
			fx_dst(&f, r, size);
		if (!gdst && write && !o.mem)
			fx_dst(&f, o.reg, size);
		if (!gdst && write && o.mem) {
			f.mem_wr = true;
			g_def_regs(g, breg_bit(r));
		}
		break;
	}
	case 2: {	/* E,imm: 80 81 83 */
		if (write)
			mflags = maybe_lock(g, &e, &lock);
		g_rm(g, &e, &o, size, write, 40, mflags);
		if (!o.mem && lock)
			unlock(&e);
		e.reg = (u8)op;
		if (size == 1) {
			e.op = 0x80;
			e.imm_size = 1;
		} else if (rng_chance(&g->r, 1, 2)) {
			e.op = 0x83;
			e.imm_size = 1;
		} else {
			e.op = 0x81;
			e.imm_size = (u8)imm_size_of(size);
		}
		e.imm = g_value(g, e.imm_size);
		if (o.mem) {
			f.mem_wr = write;
		} else {
			f.rd = breg_bit(o.reg);
			if (write)
				fx_dst(&f, o.reg, size);
		}
		break;
	}
	default:	/* accumulator, imm: 04 05 0c 0d ... */
		if (write && pinned(g, GPR_RAX))
			return;
		e.op = (u8)(op * 8 + 4 + (size > 1));
		e.imm_size = (u8)imm_size_of(size);
		e.imm = g_value(g, e.imm_size);
		f.rd = bit(GPR_RAX);
		if (write)
			fx_dst(&f, GPR_RAX, size);
		break;
	}
	if (f.mem_wr)
		g_def_flags(g, f.frd);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* TEST: a = form (0 E,G; 1 E,imm; 2 accumulator, imm). */
static void t_test(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g);
	struct enc e = { 0 };
	struct fx f = { .fdef = LOGIC_DEF, .fundef = RF_AF };
	struct rmop o;

	g_size_prefix(g, &e, size);
	if (t->a == 2) {
		e.op = size == 1 ? 0xa8 : 0xa9;
		e.imm_size = (u8)imm_size_of(size);
		e.imm = g_value(g, e.imm_size);
		f.rd = bit(GPR_RAX);
	} else {
		g_rm(g, &e, &o, size, false, 40, 0);
		f.rd = o.mem ? 0 : breg_bit(o.reg);
		if (t->a == 0) {
			f.rd |= breg_bit(g_regf(g, &e, size, false));
			e.op = size == 1 ? 0x84 : 0x85;
		} else {
			e.op = size == 1 ? 0xf6 : 0xf7;
			e.reg = 0;
			e.imm_size = (u8)imm_size_of(size);
			e.imm = g_value(g, e.imm_size);
		}
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* MOV: a = form                                                          */
/* ---------------------------------------------------------------------- */

static void t_mov(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g);
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;
	int r;

	g_size_prefix(g, &e, size);
	switch (t->a) {
	case 0:		/* 88/89: E,G */
		g_rm(g, &e, &o, size, true, 50, 0);
		r = g_regf(g, &e, size, false);
		e.op = size == 1 ? 0x88 : 0x89;
		f.rd = breg_bit(r);
		if (o.mem) {
			f.mem_wr = true;
			g_def_regs(g, breg_bit(r));
		} else {
			fx_dst(&f, o.reg, size);
		}
		break;
	case 1:		/* 8A/8B: G,E */
		g_rm(g, &e, &o, size, false, 60, M_STACKOK);
		r = g_regf(g, &e, size, true);
		e.op = size == 1 ? 0x8a : 0x8b;
		f.rd = o.mem ? 0 : breg_bit(o.reg);
		fx_dst(&f, r, size);
		break;
	case 2:		/* C6/C7 /0: E,imm */
		g_rm(g, &e, &o, size, true, 60, 0);
		e.op = size == 1 ? 0xc6 : 0xc7;
		e.reg = 0;
		e.imm_size = (u8)imm_size_of(size);
		e.imm = g_value(g, e.imm_size);
		if (o.mem)
			f.mem_wr = true;
		else
			fx_dst(&f, o.reg, size);
		break;
	case 3:		/* B0+r / B8+r: reg, imm (imm64 with REX.W) */
		if (size == 1) {
			r = g_wbreg(g, &e);
			e.op = (u8)(0xb0 + ((r >= BREG_AH ? r - BREG_AH + 4 : r) & 7));
			if (r >= 4 && r < BREG_AH)
				e.need_rex = true;
		} else {
			r = g_wreg(g);
			e.op = (u8)(0xb8 + (r & 7));
		}
		if (r >= 8 && r < BREG_AH)
			e.rex |= 1;
		e.imm_size = (u8)size;
		e.imm = g_value(g, size);
		fx_dst(&f, r, size);
		break;
	default: {	/* A0-A3: moffs */
		bool store = rng_chance(&g->r, 1, 2), a32 = rng_chance(&g->r, 1, 4);
		u64 target = g_target(g, size, size, 0), addr = target;

		if (pinned(g, GPR_RAX) && !store)
			return;
		if (!a32 && g->opts->fsgs && rng_chance(&g->r, 1, 8)) {
			bool fs = rng_chance(&g->r, 1, 2);

			enc_pfx(&e, fs ? 0x64 : 0x65);
			addr = target - (fs ? g->seq->init.fs_base : g->seq->init.gs_base);
		}
		if (a32)
			enc_pfx(&e, 0x67);
		e.op = (u8)(0xa0 + (store ? 2 : 0) + (size > 1));
		e.imm_size = a32 ? 4 : 8;
		e.imm = addr;
		f.rd = bit(GPR_RAX);
		if (store) {
			f.mem_wr = true;
			g_def_regs(g, bit(GPR_RAX));
		} else {
			fx_dst(&f, GPR_RAX, size);
		}
		break;
	}
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* INC DEC NOT NEG: a = 0 inc, 1 dec, 2 not, 3 neg                        */
/* ---------------------------------------------------------------------- */

static void t_unary(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g), mflags;
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;
	bool lock;

	g_size_prefix(g, &e, size);
	mflags = maybe_lock(g, &e, &lock);
	g_rm(g, &e, &o, size, true, 40, mflags);
	if (!o.mem && lock)
		unlock(&e);
	if (t->a < 2) {
		e.op = size == 1 ? 0xfe : 0xff;
		e.reg = (u8)t->a;
		f.fdef = RF_ARITH & ~RF_CF;	/* CF is not affected */
	} else {
		e.op = size == 1 ? 0xf6 : 0xf7;
		e.reg = (u8)t->a;
		f.fdef = t->a == 3 ? RF_ARITH : 0;
	}
	if (o.mem) {
		f.mem_wr = true;
	} else {
		f.rd = breg_bit(o.reg);
		fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* Shifts and rotates: a = /digit, b = count (0 one, 1 imm, 2 CL known,   */
/* 3 CL whatever it holds)                                                */
/* ---------------------------------------------------------------------- */

static u8 shift_count(struct gen *g)
{
	static const u8 counts[] = { 0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };

	if (rng_chance(&g->r, 1, 2))
		return counts[rng_below(&g->r, ARRAY_SIZE(counts))];
	return (u8)rng_below(&g->r, 256);
}

/* Flags of a shift/rotate by a known count (masked as the CPU masks it). */
static void shift_flags(struct fx *f, unsigned int op, unsigned int size, unsigned int count)
{
	unsigned int c = count & (size == 8 ? 63 : 31);
	u32 of = c == 1 ? RF_OF : 0, of_undef = c > 1 ? RF_OF : 0;

	if (c == 0)
		return;	/* flags not affected */
	if (op <= 3) {
		/* Rotates: CF and OF only; OF undefined unless the count is 1. */
		f->fdef |= RF_CF | of;
		f->fundef |= of_undef;
		if (op >= 2)
			f->frd |= RF_CF;
		return;
	}
	f->fdef |= RF_CF | RF_SF | RF_ZF | RF_PF | of;
	f->fundef |= RF_AF | of_undef;	/* AF undefined for a nonzero count */
	/* SHL/SHR: CF undefined when the count reaches the operand width. */
	if ((op == 4 || op == 5) && c >= size * 8) {
		f->fdef &= ~RF_CF;
		f->fundef |= RF_CF;
	}
}

/* Count unknown: the union over every count (0 keeps the old flags). */
static void shift_flags_any(struct fx *f, unsigned int op, unsigned int size);

void fx_shift(struct fx *f, unsigned int op, unsigned int size, int count)
{
	if (count < 0)
		shift_flags_any(f, op, size);
	else
		shift_flags(f, op, size, (unsigned int)count);
}

static void shift_flags_any(struct fx *f, unsigned int op, unsigned int size)
{
	struct fx one = { 0 }, many = { 0 };
	unsigned int max = size == 8 ? 63 : 31;

	shift_flags(&one, op, size, 1);
	shift_flags(&many, op, size, max);
	f->fundef |= (one.fundef | many.fundef);
	f->fdef |= (one.fdef | many.fdef) & ~f->fundef;
	f->frd |= f->fdef | f->fundef;
}

static void t_shift(struct gen *g, const struct tmpl *t)
{
	unsigned int op = t->a, size = g_osize(g), count = 1;
	bool known = true;
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;

	g_size_prefix(g, &e, size);
	switch (t->b) {
	case 0:
		e.op = size == 1 ? 0xd0 : 0xd1;
		break;
	case 1:
		e.op = size == 1 ? 0xc0 : 0xc1;
		count = shift_count(g);
		e.imm_size = 1;
		e.imm = count;
		break;
	case 2:
		e.op = size == 1 ? 0xd2 : 0xd3;
		count = shift_count(g);
		if (pinned(g, GPR_RCX)) {
			count = (u8)g->val[GPR_RCX];
		} else {
			struct enc mv = { .op = 0xb9, .imm_size = 4, .imm = count };	/* mov $n, %ecx */

			g_insn(g, &mv);
			g_apply(g, &(struct fx){ .wr = bit(GPR_RCX) });
		}
		break;
	default:
		e.op = size == 1 ? 0xd2 : 0xd3;
		known = false;
		break;
	}
	g_rm(g, &e, &o, size, true, 35, 0);
	e.reg = (u8)op;
	if (known)
		shift_flags(&f, op, size, count);
	else
		shift_flags_any(&f, op, size);
	if (t->b >= 2)
		f.rd |= bit(GPR_RCX);
	if (o.mem) {
		f.mem_wr = true;
		g_def_regs(g, f.rd);
		g_def_flags(g, f.frd);
	} else {
		f.rd |= breg_bit(o.reg);
		fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* SHLD/SHRD: a = 0 shld, 1 shrd; b = 0 imm8, 1 CL (whatever it holds). */
static void t_shxd(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3), count = 0;
	bool known = t->b == 0;
	struct enc e = { .map = 1 };
	struct fx f = { 0 };
	struct rmop o;
	int r;

	if (!known && pinned(g, GPR_RCX)) {
		known = true;
		count = (u8)g->val[GPR_RCX];
	}
	if (t->b == 0)
		count = shift_count(g);
	g_size_prefix(g, &e, size);
	/*
	 * A 16-bit operand shifted by more than 16 is undefined: such a result
	 * only ever goes to a register (tracked), never to memory.
	 */
	g_rm(g, &e, &o, size, true, size == 2 && (!known || (count & 31) > 16) ? 0 : 35, 0);
	r = g_regf(g, &e, size, false);
	e.op = (u8)((t->a ? 0xac : 0xa4) + t->b);
	if (t->b == 0) {
		e.imm_size = 1;
		e.imm = count;
	}
	f.rd = bit(r) | (t->b ? bit(GPR_RCX) : 0);
	if (known) {
		unsigned int c = count & (size == 8 ? 63 : 31);

		if (c > size * 8) {
			/* Count beyond the operand size: result and flags undefined. */
			f.fundef = RF_ARITH;
			f.undef = bit(o.reg);
		} else if (c) {
			f.fdef = RF_CF | RF_SF | RF_ZF | RF_PF | (c == 1 ? RF_OF : 0);
			f.fundef = RF_AF | (c > 1 ? RF_OF : 0);
		}
	} else {
		f.fundef = RF_OF | RF_AF;
		f.fdef = RF_CF | RF_SF | RF_ZF | RF_PF;
		f.frd = RF_ARITH;
		if (size == 2) {
			f.fundef = RF_ARITH;
			f.fdef = 0;
			f.undef = bit(o.reg);
		}
	}
	if (o.mem) {
		f.mem_wr = true;
		g_def_regs(g, f.rd);
		g_def_flags(g, f.frd);
	} else {
		f.rd |= bit(o.reg);
		fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* MUL IMUL DIV IDIV                                                      */
/* ---------------------------------------------------------------------- */

static void mov_reg_imm(struct gen *g, int r, u64 v, bool wide)
{
	struct enc e = { .op = (u8)(0xb8 + (r & 7)), .rex = (u8)((r >= 8 ? 1 : 0) | (wide ? 8 : 0)),
			 .imm_size = wide ? 8 : 4, .imm = v };

	g_insn(g, &e);
	g_apply(g, &(struct fx){ .wr = bit(r) });
}

/* F6/F7 /4-/7: a = /digit. */
static void t_muldiv(struct gen *g, const struct tmpl *t)
{
	unsigned int op = t->a, size = g_osize(g);
	bool div = op >= 6, safe = div && rng_chance(&g->r, 4, 5);
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;
	u16 acc = bit(GPR_RAX) | (size > 1 ? bit(GPR_RDX) : 0);

	if (g->pinned & acc)
		return;
	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, size, false, 35, 0);
	e.op = size == 1 ? 0xf6 : 0xf7;
	e.reg = (u8)op;
	if (safe) {
		/* A dividend the divisor can divide, and a divisor that is not 0. */
		if (op == 6) {
			struct enc z = { .op = 0x31, .modrm = true, .reg = GPR_RDX, .rm = GPR_RDX };

			if (size == 1)
				z = (struct enc){ .op = 0xb4, .imm_size = 1 };	/* mov $0, %ah */
			g_insn(g, &z);
			g_apply(g, &(struct fx){ .wr = size == 1 ? 0 : bit(GPR_RDX),
						  .wr_part = size == 1 ? bit(GPR_RAX) : 0,
						  .fdef = size == 1 ? 0 : LOGIC_DEF, .fundef = size == 1 ? 0 : RF_AF });
		} else {
			struct enc cx = { .op = 0x99 };	/* cwd/cdq/cqo */

			if (size == 1)
				cx = (struct enc){ .op = 0x98, .pfx = { 0x66 }, .npfx = 1 };	/* cbw */
			else
				g_size_prefix(g, &cx, size);
			g_def_regs(g, bit(GPR_RAX));
			g_insn(g, &cx);
			g_apply(g, &(struct fx){ .rd = bit(GPR_RAX),
						  .wr_part = size <= 2 ? (size == 1 ? bit(GPR_RAX) : bit(GPR_RDX)) : 0,
						  .wr = size > 2 ? bit(GPR_RDX) : 0 });
		}
		if (o.mem) {
			struct enc st = { .op = size == 1 ? 0xc6 : 0xc7, .modrm = true,
					  .imm_size = (u8)imm_size_of(size) };
			u64 v = g_value(g, st.imm_size);

			g_size_prefix(g, &st, size);
			g_mem_at(g, &st, o.addr, 0);
			st.imm = v ? v : 3;
			g_insn(g, &st);
			g_apply(g, &(struct fx){ .mem_wr = true });
		} else {
			int full = o.reg >= BREG_AH ? o.reg - BREG_AH : o.reg;
			u64 v = g_value(g, size);

			if (full != GPR_RAX && full != GPR_RDX && !pinned(g, full)) {
				if (!v)
					v = 1;
				mov_reg_imm(g, full, o.reg >= BREG_AH ? v << 8 : v, true);
			}
		}
	}
	if (div) {
		f.fundef = RF_ARITH;	/* every flag undefined */
		g_def_regs(g, acc | (o.mem ? 0 : breg_bit(o.reg)));
	} else {
		f.fdef = RF_CF | RF_OF;
		f.fundef = RF_SF | RF_ZF | RF_AF | RF_PF;
	}
	f.rd = acc | (o.mem ? 0 : breg_bit(o.reg));
	if (size == 1)
		f.wr_part = bit(GPR_RAX);
	else if (size == 2)
		f.wr_part = acc;
	else
		f.wr = acc;
	g_insn(g, &e);
	g_apply(g, &f);
}

/* IMUL with two or three operands: a = 0 (0F AF), 1 (69 iz), 2 (6B ib). */
static void t_imul(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3);
	struct enc e = { 0 };
	struct fx f = { .fdef = RF_CF | RF_OF, .fundef = RF_SF | RF_ZF | RF_AF | RF_PF };
	struct rmop o;
	int r;

	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, size, false, 35, 0);
	r = g_regf(g, &e, size, true);
	switch (t->a) {
	case 0:
		e.map = 1;
		e.op = 0xaf;
		f.rd = bit(r);
		break;
	case 1:
		e.op = 0x69;
		e.imm_size = (u8)imm_size_of(size);
		e.imm = g_value(g, e.imm_size);
		break;
	default:
		e.op = 0x6b;
		e.imm_size = 1;
		e.imm = g_value(g, 1);
		break;
	}
	f.rd |= o.mem ? 0 : bit(o.reg);
	fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* Bit tests and scans                                                    */
/* ---------------------------------------------------------------------- */

/* BT BTS BTR BTC: a = 0..3, b = 0 register offset, 1 imm8. */
static void t_bt(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3), mflags = 0;
	bool write = t->a != 0, lock = false;
	struct enc e = { .map = 1 };
	/* CF defined; OF SF AF PF undefined; ZF not affected. */
	struct fx f = { .fdef = RF_CF, .fundef = RF_OF | RF_SF | RF_AF | RF_PF };
	struct rmop o;

	g_size_prefix(g, &e, size);
	if (write)
		mflags = maybe_lock(g, &e, &lock);
	g_rm(g, &e, &o, size, write, 40, mflags | M_NOFAULT);
	if (!o.mem && lock)
		unlock(&e);
	if (t->b == 0) {
		int r = g_regf(g, &e, size, o.mem);

		if (o.mem) {
			/*
			 * A register bit offset reaches memory outside the operand,
			 * signed: keep it within a few words of it.
			 */
			struct enc mv = { .op = 0xc7, .modrm = true, .rm = (u8)r, .rex = 8,
					  .imm_size = 4, .imm = (u64)rng_range(&g->r, -64, 255) };

			g_insn(g, &mv);
			g_apply(g, &(struct fx){ .wr = bit(r) });
		}
		e.op = (u8)(0xa3 + 8 * t->a);
		f.rd = bit(r);
	} else {
		e.op = 0xba;
		e.reg = (u8)(4 + t->a);
		e.imm_size = 1;
		e.imm = g_value(g, 1);
	}
	if (o.mem) {
		f.mem_wr = write;
		g_def_regs(g, f.rd);
	} else {
		f.rd |= bit(o.reg);
		if (write)
			fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/*
 * BSF BSR: a = 0 bsf, 1 bsr; b = 0 source made nonzero first (BTS), 1 any
 * source (the destination is undefined for a zero source).
 */
static void t_bscan(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3);
	struct enc e = { .map = 1, .op = (u8)(0xbc + t->a) };
	/* ZF defined; CF OF SF AF PF undefined. */
	struct fx f = { .fdef = RF_ZF, .fundef = RF_CF | RF_OF | RF_SF | RF_AF | RF_PF };
	struct rmop o;
	int r;

	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, size, t->b == 0, 35, 0);
	if (t->b == 0) {
		struct enc bts = { .map = 1, .op = 0xba, .modrm = true, .reg = 5, .imm_size = 1,
				   .imm = rng_below(&g->r, size * 8) };

		g_size_prefix(g, &bts, size);
		if (o.mem) {
			g_mem_at(g, &bts, o.addr, 0);
		} else {
			bts.rm = (u8)o.reg;
		}
		g_insn(g, &bts);
		g_apply(g, &(struct fx){ .rd = o.mem ? 0 : bit(o.reg), .mem_wr = o.mem,
					  .wr_part = o.mem ? 0 : bit(o.reg), .fdef = RF_CF,
					  .fundef = RF_OF | RF_SF | RF_AF | RF_PF });
	}
	r = g_regf(g, &e, size, true);
	f.rd = (o.mem ? 0 : bit(o.reg)) | bit(r);
	if (t->b)
		f.undef = bit(r);
	else
		fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* POPCNT (F3 0F B8): every flag defined (ZF by the source, the rest 0). */
static void t_popcnt(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3);
	struct enc e = { .map = 1, .op = 0xb8 };
	struct fx f = { .fdef = RF_ARITH };
	struct rmop o;
	int r;

	(void)t;
	enc_pfx(&e, 0xf3);
	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, size, false, 35, 0);
	r = g_regf(g, &e, size, true);
	f.rd = o.mem ? 0 : bit(o.reg);
	fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* CMOVcc SETcc                                                           */
/* ---------------------------------------------------------------------- */

static void t_cmov(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3), cc = rng_below(&g->r, 16);
	struct enc e = { .map = 1, .op = (u8)(0x40 + cc) };
	struct fx f = { .frd = cond_flags[cc] };
	struct rmop o;
	int r;

	(void)t;
	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, size, false, 35, 0);
	r = g_regf(g, &e, size, true);
	g_def_flags(g, f.frd);
	f.rd = bit(r) | (o.mem ? 0 : bit(o.reg));
	/* A 32-bit CMOV writes (zero-extends) even when the condition fails. */
	fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

static void t_setcc(struct gen *g, const struct tmpl *t)
{
	unsigned int cc = rng_below(&g->r, 16);
	struct enc e = { .map = 1, .op = (u8)(0x90 + cc) };
	struct fx f = { .frd = cond_flags[cc] };
	struct rmop o;

	(void)t;
	g_rm(g, &e, &o, 1, true, 30, 0);
	/* ModRM.reg is ignored by SETcc; /0 is the documented form. */
	e.reg = 0;
	g_def_flags(g, f.frd);
	if (o.mem)
		f.mem_wr = true;
	else
		f.wr_part = breg_bit(o.reg);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* XCHG XADD CMPXCHG CMPXCHG8B/16B                                        */
/* ---------------------------------------------------------------------- */

/* a = 0 86/87 E,G, 1 90+r with the accumulator. */
static void t_xchg(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g);
	struct enc e = { 0 };
	struct fx f = { 0 };
	struct rmop o;
	int r;

	if (t->a == 1) {
		if (size == 1)
			size = 4;
		r = g_wreg(g);
		if (pinned(g, GPR_RAX))
			return;
		g_size_prefix(g, &e, size);
		if (r == GPR_RAX && size == 4) {
			/* 90 is NOP; xchg %eax,%eax is 87 C0 and zero-extends RAX. */
			e.op = 0x87;
			e.modrm = true;
		} else {
			e.op = (u8)(0x90 + (r & 7));
			e.rex |= r >= 8 ? 1 : 0;
		}
		f.rd = bit(r) | bit(GPR_RAX);
		fx_dst(&f, r, size);
		fx_dst(&f, GPR_RAX, size);
		g_insn(g, &e);
		g_apply(g, &f);
		return;
	}
	g_size_prefix(g, &e, size);
	/* With memory XCHG locks: aligned, no split locks. */
	g_rm(g, &e, &o, size, true, 40, M_ALIGN);
	r = g_regf(g, &e, size, true);
	e.op = size == 1 ? 0x86 : 0x87;
	if (rng_chance(&g->r, 1, 2) && !o.mem) {
		/* The reverse operand order encodes the same thing. */
		int tmp = e.reg;

		e.reg = e.rm;
		e.rm = (u8)tmp;
	}
	f.rd = breg_bit(r) | (o.mem ? 0 : breg_bit(o.reg));
	fx_dst(&f, r, size);
	if (o.mem) {
		f.mem_wr = true;
		g_def_regs(g, breg_bit(r));
		if (rng_chance(&g->r, 1, 4))
			enc_pfx(&e, 0xf0);
	} else {
		fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

static void t_xadd(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g), mflags;
	struct enc e = { .map = 1 };
	struct fx f = { .fdef = RF_ARITH };
	struct rmop o;
	bool lock;
	int r;

	(void)t;
	g_size_prefix(g, &e, size);
	mflags = maybe_lock(g, &e, &lock);
	g_rm(g, &e, &o, size, true, 40, mflags);
	if (!o.mem && lock)
		unlock(&e);
	r = g_regf(g, &e, size, true);
	e.op = size == 1 ? 0xc0 : 0xc1;
	f.rd = breg_bit(r) | (o.mem ? 0 : breg_bit(o.reg));
	fx_dst(&f, r, size);
	if (o.mem) {
		f.mem_wr = true;
		g_def_regs(g, breg_bit(r));
	} else {
		fx_dst(&f, o.reg, size);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

static void t_cmpxchg(struct gen *g, const struct tmpl *t)
{
	unsigned int size = g_osize(g), mflags;
	struct enc e = { .map = 1 };
	struct fx f = { .fdef = RF_ARITH };
	struct rmop o;
	bool lock;
	int r;

	(void)t;
	if (pinned(g, GPR_RAX))
		return;
	g_size_prefix(g, &e, size);
	mflags = maybe_lock(g, &e, &lock);
	g_rm(g, &e, &o, size, true, 50, mflags);
	if (!o.mem && lock)
		unlock(&e);
	r = g_regf(g, &e, size, false);
	e.op = size == 1 ? 0xb0 : 0xb1;
	if (rng_chance(&g->r, 1, 2)) {
		/* Make it succeed: the accumulator gets the destination's value. */
		struct enc ld = { .op = size == 1 ? 0x8a : 0x8b, .modrm = true, .reg = GPR_RAX };
		struct fx lf = { 0 };

		g_size_prefix(g, &ld, size);
		if (o.mem) {
			g_mem_at(g, &ld, o.addr, 0);
		} else {
			if (size == 1)
				enc_breg_rm(&ld, o.reg);
			else
				ld.rm = (u8)o.reg;
			lf.rd = breg_bit(o.reg);
		}
		fx_dst(&lf, GPR_RAX, size);
		g_insn(g, &ld);
		g_apply(g, &lf);
	}
	f.rd = breg_bit(r) | bit(GPR_RAX) | (o.mem ? 0 : breg_bit(o.reg));
	/* The accumulator is written only when the comparison fails. */
	f.wr_part = bit(GPR_RAX);
	if (o.mem) {
		f.mem_wr = true;
		g_def_regs(g, f.rd);
	} else {
		f.wr_part |= breg_bit(o.reg);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* CMPXCHG8B / CMPXCHG16B (REX.W): a = 0 8b, 1 16b. */
static void t_cmpxchg8b(struct gen *g, const struct tmpl *t)
{
	unsigned int size = t->a ? 16 : 8;
	u16 io = bit(GPR_RAX) | bit(GPR_RDX) | bit(GPR_RBX) | bit(GPR_RCX);
	struct enc e = { .map = 1, .op = 0xc7, .reg = 1 };
	/* ZF defined, the others not affected. */
	struct fx f = { .fdef = RF_ZF, .rd = io, .mem_wr = true };
	u64 addr;

	if (pinned(g, GPR_RAX) || pinned(g, GPR_RDX))
		return;
	if (t->a)
		e.rex = 8;
	if (rng_chance(&g->r, 1, 3))
		enc_pfx(&e, 0xf0);
	/* CMPXCHG16B needs 16-byte alignment (#GP otherwise): sometimes not. */
	addr = g_mem(g, &e, size, size, rng_chance(&g->r, 15, 16) ? M_ALIGN : 0);
	if (rng_chance(&g->r, 1, 2)) {
		/* Load RDX:RAX from the operand: the exchange happens. */
		for (int i = 0; i < 2; i++) {
			struct enc ld = { .op = 0x8b, .modrm = true, .reg = i ? GPR_RDX : GPR_RAX,
					  .rex = t->a ? 8 : 0 };

			g_mem_at(g, &ld, addr + (u64)i * size / 2, 0);
			g_insn(g, &ld);
			g_apply(g, &(struct fx){ .wr = bit(i ? GPR_RDX : GPR_RAX) });
		}
	}
	g_def_regs(g, io);
	f.wr_part = bit(GPR_RAX) | bit(GPR_RDX);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* ---------------------------------------------------------------------- */
/* BSWAP, MOVZX/MOVSX/MOVSXD, LEA, CBW/CWD                                */
/* ---------------------------------------------------------------------- */

static void t_bswap(struct gen *g, const struct tmpl *t)
{
	int r = g_wreg(g);
	struct enc e = { .map = 1, .op = (u8)(0xc8 + (r & 7)), .rex = r >= 8 ? 1 : 0 };
	struct fx f = { .rd = bit(r) };
	unsigned int size = rng_chance(&g->r, 1, 2) ? 8 : 4;

	(void)t;
	if (rng_chance(&g->r, 1, 16)) {
		/* With a 16-bit operand the result is undefined (SDM BSWAP). */
		enc_pfx(&e, 0x66);
		f.undef = bit(r);
	} else {
		if (size == 8)
			e.rex |= 8;
		f.wr = bit(r);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* a: 0 movzx r, r/m8; 1 movzx r, r/m16; 2 movsx r/m8; 3 movsx r/m16; 4 movsxd. */
static void t_movx(struct gen *g, const struct tmpl *t)
{
	unsigned int src = (t->a & 1) ? 2 : 1, size;
	struct enc e = { .map = 1 };
	struct fx f = { 0 };
	struct rmop o;
	int r;

	if (t->a == 4) {
		/* MOVSXD: r64 from r/m32 with REX.W, else a plain move (16/32). */
		static const u8 sizes[] = { 8, 8, 8, 4, 2 };

		size = sizes[rng_below(&g->r, ARRAY_SIZE(sizes))];
		src = size == 8 ? 4 : size;
		e.map = 0;
		e.op = 0x63;
	} else {
		/* 16-bit destinations only from bytes: 66 0F B7/BF is not in the SDM. */
		size = src == 1 ? 2u << rng_below(&g->r, 3) : 4u << rng_below(&g->r, 2);
		e.op = (u8)((t->a >= 2 ? 0xbe : 0xb6) + (src == 2));
	}
	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, src, false, 40, 0);
	r = g_regf(g, &e, size, true);
	if (e.no_rex && r >= 8)
		return;	/* AH..BH and R8-R15 cannot meet in one instruction */
	f.rd = o.mem ? 0 : breg_bit(o.reg);
	fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

/*
 * LEA: no memory access, so any registers and any displacement: every
 * ModRM/SIB form, RIP-relative, no base, scaled index, 67 prefix.
 */
static void t_lea(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3);
	struct enc e = { .op = 0x8d };
	struct fx f = { 0 };
	int r;

	(void)t;
	g_size_prefix(g, &e, size);
	r = g_wreg(g);
	e.reg = (u8)r;
	f.rd = g_any_mem(g, &e);
	fx_dst(&f, r, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* a = 0: CBW/CWDE/CDQE (98); 1: CWD/CDQ/CQO (99). */
static void t_convert(struct gen *g, const struct tmpl *t)
{
	unsigned int size = 2u << rng_below(&g->r, 3);
	struct enc e = { .op = (u8)(0x98 + t->a) };
	struct fx f = { .rd = bit(GPR_RAX) };
	int dst = t->a ? GPR_RDX : GPR_RAX;

	if (pinned(g, dst))
		return;
	g_size_prefix(g, &e, size);
	fx_dst(&f, dst, size);
	g_insn(g, &e);
	g_apply(g, &f);
}

#define ALU(n, op)                                                             \
	{ n "_rm_r", "alu", t_alu, op, 0, 10, 0 },                             \
	{ n "_r_rm", "alu", t_alu, op, 1, 10, 0 },                             \
	{ n "_rm_imm", "alu", t_alu, op, 2, 10, 0 },                           \
	{ n "_acc_imm", "alu", t_alu, op, 3, 4, 0 }
#define SHIFT(n, op)                                                           \
	{ n "_1", "shift", t_shift, op, 0, 5, 0 },                             \
	{ n "_imm", "shift", t_shift, op, 1, 8, 0 },                           \
	{ n "_cl", "shift", t_shift, op, 2, 6, 0 },                            \
	{ n "_cl_any", "shift", t_shift, op, 3, 3, 0 }

static const struct tmpl list[] = {
	ALU("add", 0), ALU("or", 1), ALU("adc", 2), ALU("sbb", 3),
	ALU("and", 4), ALU("sub", 5), ALU("xor", 6), ALU("cmp", 7),
	{ "test_rm_r", "test", t_test, 0, 0, 8, 0 },
	{ "test_rm_imm", "test", t_test, 1, 0, 6, 0 },
	{ "test_acc_imm", "test", t_test, 2, 0, 3, 0 },
	{ "mov_rm_r", "mov", t_mov, 0, 0, 12, 0 },
	{ "mov_r_rm", "mov", t_mov, 1, 0, 12, 0 },
	{ "mov_rm_imm", "mov", t_mov, 2, 0, 8, 0 },
	{ "mov_r_imm", "mov", t_mov, 3, 0, 8, 0 },
	{ "mov_moffs", "mov", t_mov, 4, 0, 4, 0 },
	{ "inc", "unary", t_unary, 0, 0, 6, 0 },
	{ "dec", "unary", t_unary, 1, 0, 6, 0 },
	{ "not", "unary", t_unary, 2, 0, 5, 0 },
	{ "neg", "unary", t_unary, 3, 0, 6, 0 },
	SHIFT("rol", 0), SHIFT("ror", 1), SHIFT("rcl", 2), SHIFT("rcr", 3),
	SHIFT("shl", 4), SHIFT("shr", 5), SHIFT("sar", 7),
	{ "shld_imm", "shxd", t_shxd, 0, 0, 5, 0 },
	{ "shld_cl", "shxd", t_shxd, 0, 1, 5, 0 },
	{ "shrd_imm", "shxd", t_shxd, 1, 0, 5, 0 },
	{ "shrd_cl", "shxd", t_shxd, 1, 1, 5, 0 },
	{ "mul", "muldiv", t_muldiv, 4, 0, 6, 0 },
	{ "imul1", "muldiv", t_muldiv, 5, 0, 6, 0 },
	{ "div", "muldiv", t_muldiv, 6, 0, 8, 0 },
	{ "idiv", "muldiv", t_muldiv, 7, 0, 8, 0 },
	{ "imul_r_rm", "muldiv", t_imul, 0, 0, 6, 0 },
	{ "imul_r_rm_imm", "muldiv", t_imul, 1, 0, 5, 0 },
	{ "imul_r_rm_imm8", "muldiv", t_imul, 2, 0, 5, 0 },
	{ "bt_r", "bit", t_bt, 0, 0, 4, 0 },
	{ "bts_r", "bit", t_bt, 1, 0, 4, 0 },
	{ "btr_r", "bit", t_bt, 2, 0, 4, 0 },
	{ "btc_r", "bit", t_bt, 3, 0, 4, 0 },
	{ "bt_imm", "bit", t_bt, 0, 1, 4, 0 },
	{ "bts_imm", "bit", t_bt, 1, 1, 4, 0 },
	{ "btr_imm", "bit", t_bt, 2, 1, 4, 0 },
	{ "btc_imm", "bit", t_bt, 3, 1, 4, 0 },
	{ "bsf", "bitscan", t_bscan, 0, 0, 5, 0 },
	{ "bsr", "bitscan", t_bscan, 1, 0, 5, 0 },
	{ "bsf_any", "bitscan", t_bscan, 0, 1, 3, 0 },
	{ "bsr_any", "bitscan", t_bscan, 1, 1, 3, 0 },
	{ "popcnt", "bitscan", t_popcnt, 0, 0, 4, 0 },
	{ "cmovcc", "cc", t_cmov, 0, 0, 10, 0 },
	{ "setcc", "cc", t_setcc, 0, 0, 8, 0 },
	{ "xchg", "xchg", t_xchg, 0, 0, 6, 0 },
	{ "xchg_acc", "xchg", t_xchg, 1, 0, 3, 0 },
	{ "xadd", "xchg", t_xadd, 0, 0, 5, 0 },
	{ "cmpxchg", "xchg", t_cmpxchg, 0, 0, 6, 0 },
	{ "cmpxchg8b", "xchg", t_cmpxchg8b, 0, 0, 3, 0 },
	{ "cmpxchg16b", "xchg", t_cmpxchg8b, 1, 0, 3, 0 },
	{ "bswap", "bswap", t_bswap, 0, 0, 4, 0 },
	{ "movzx8", "movx", t_movx, 0, 0, 5, 0 },
	{ "movzx16", "movx", t_movx, 1, 0, 5, 0 },
	{ "movsx8", "movx", t_movx, 2, 0, 5, 0 },
	{ "movsx16", "movx", t_movx, 3, 0, 5, 0 },
	{ "movsxd", "movx", t_movx, 4, 0, 5, 0 },
	{ "lea", "lea", t_lea, 0, 0, 12, 0 },
	{ "cbw", "convert", t_convert, 0, 0, 3, 0 },
	{ "cwd", "convert", t_convert, 1, 0, 3, 0 },
};

const struct tmpl_table tmpl_int = { list, ARRAY_SIZE(list) };

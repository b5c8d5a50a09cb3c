// SPDX-License-Identifier: Apache-2.0
/*
 * x87: every register and memory form the SDM documents (the undocumented
 * aliases such as DC D0-DF or DF C8-CF are left out), on a stack that
 * starts with random contents, control words with other precisions and
 * rounding, and now and then an unmasked exception (#MF at the next x87
 * instruction).
 *
 * The condition codes C0-C3 the SDM leaves undefined after an instruction
 * are tracked like the arithmetic flags (gen.h); FNSTSW, FNSTENV, FNSAVE
 * and FXSAVE store them, so they are made defined first (FXAM).
 */
#include "gen.h"

enum x87_kind {
	K_ARITH,	/* C1 defined, C0 C2 C3 undefined */
	K_CMP,		/* C0-C3 defined */
	K_COMI,		/* C1 defined, ZF PF CF set, OF SF AF cleared */
	K_ALL,		/* FXAM, FPREM, FPREM1, FNINIT, loads of the status */
	K_TRIG,		/* C1 C2 defined, C0 C3 undefined */
	K_UNDEF,	/* C0-C3 undefined: FNOP, FFREE, FNCLEX, FLDCW, ... */
	K_STP,		/* FINCSTP/FDECSTP: C1 = 0, the rest undefined */
	K_FCMOV,	/* reads EFLAGS; C1 defined */
	K_STSW_AX,	/* FNSTSW AX */
};

struct x87_reg_form {
	u8 op, lo, hi;
	u8 kind;
	u32 flags;	/* K_FCMOV: the EFLAGS read */
};

static const struct x87_reg_form reg_forms[] = {
	{ 0xd8, 0xc0, 0xcf, K_ARITH, 0 }, { 0xd8, 0xd0, 0xdf, K_CMP, 0 }, { 0xd8, 0xe0, 0xff, K_ARITH, 0 },
	{ 0xd9, 0xc0, 0xcf, K_ARITH, 0 },			/* fld st(i), fxch */
	{ 0xd9, 0xd0, 0xd0, K_UNDEF, 0 },			/* fnop */
	{ 0xd9, 0xe0, 0xe1, K_ARITH, 0 },			/* fchs, fabs */
	{ 0xd9, 0xe4, 0xe4, K_CMP, 0 },				/* ftst */
	{ 0xd9, 0xe5, 0xe5, K_ALL, 0 },				/* fxam */
	{ 0xd9, 0xe8, 0xee, K_ARITH, 0 },			/* constants */
	{ 0xd9, 0xf0, 0xf1, K_ARITH, 0 },			/* f2xm1, fyl2x */
	{ 0xd9, 0xf2, 0xf2, K_TRIG, 0 },			/* fptan */
	{ 0xd9, 0xf3, 0xf4, K_ARITH, 0 },			/* fpatan, fxtract */
	{ 0xd9, 0xf5, 0xf5, K_ALL, 0 },				/* fprem1 */
	{ 0xd9, 0xf6, 0xf7, K_STP, 0 },				/* fdecstp, fincstp */
	{ 0xd9, 0xf8, 0xf8, K_ALL, 0 },				/* fprem */
	{ 0xd9, 0xf9, 0xfa, K_ARITH, 0 },			/* fyl2xp1, fsqrt */
	{ 0xd9, 0xfb, 0xfb, K_TRIG, 0 },			/* fsincos */
	{ 0xd9, 0xfc, 0xfd, K_ARITH, 0 },			/* frndint, fscale */
	{ 0xd9, 0xfe, 0xff, K_TRIG, 0 },			/* fsin, fcos */
	{ 0xda, 0xc0, 0xc7, K_FCMOV, RF_CF }, { 0xda, 0xc8, 0xcf, K_FCMOV, RF_ZF },
	{ 0xda, 0xd0, 0xd7, K_FCMOV, RF_CF | RF_ZF }, { 0xda, 0xd8, 0xdf, K_FCMOV, RF_PF },
	{ 0xda, 0xe9, 0xe9, K_CMP, 0 },				/* fucompp */
	{ 0xdb, 0xc0, 0xc7, K_FCMOV, RF_CF }, { 0xdb, 0xc8, 0xcf, K_FCMOV, RF_ZF },
	{ 0xdb, 0xd0, 0xd7, K_FCMOV, RF_CF | RF_ZF }, { 0xdb, 0xd8, 0xdf, K_FCMOV, RF_PF },
	{ 0xdb, 0xe2, 0xe2, K_UNDEF, 0 },			/* fnclex */
	{ 0xdb, 0xe3, 0xe3, K_ALL, 0 },				/* fninit */
	{ 0xdb, 0xe8, 0xf7, K_COMI, 0 },			/* fucomi, fcomi */
	{ 0xdc, 0xc0, 0xcf, K_ARITH, 0 }, { 0xdc, 0xe0, 0xff, K_ARITH, 0 },
	{ 0xdd, 0xc0, 0xc7, K_UNDEF, 0 },			/* ffree */
	{ 0xdd, 0xd0, 0xdf, K_ARITH, 0 },			/* fst, fstp st(i) */
	{ 0xdd, 0xe0, 0xef, K_CMP, 0 },				/* fucom, fucomp */
	{ 0xde, 0xc0, 0xcf, K_ARITH, 0 }, { 0xde, 0xd9, 0xd9, K_CMP, 0 },
	{ 0xde, 0xe0, 0xff, K_ARITH, 0 },
	{ 0xdf, 0xe0, 0xe0, K_STSW_AX, 0 },
	{ 0xdf, 0xe8, 0xf7, K_COMI, 0 },			/* fucomip, fcomip */
};

static void kind_fx(struct fx *f, unsigned int kind)
{
	switch (kind) {
	case K_ARITH:
	case K_FCMOV:
		f->fsw_def = FSW_C1;
		f->fsw_undef = FSW_C0 | FSW_C2 | FSW_C3;
		break;
	case K_CMP:
	case K_ALL:
		f->fsw_def = FSW_CC;
		break;
	case K_COMI:
		f->fsw_def = FSW_C1;
		f->fdef = RF_ARITH;
		break;
	case K_TRIG:
		f->fsw_def = FSW_C1 | FSW_C2;
		f->fsw_undef = FSW_C0 | FSW_C3;
		break;
	case K_STP:
		f->fsw_def = FSW_C1;
		f->fsw_undef = FSW_C0 | FSW_C2 | FSW_C3;
		break;
	default:
		f->fsw_undef = FSW_CC;
		break;
	}
}

static void t_x87_reg(struct gen *g, const struct tmpl *t)
{
	const struct x87_reg_form *rf;
	struct enc e = { .modrm = true };
	struct fx f = { 0 };
	unsigned int total = 0, k;

	for (unsigned int i = 0; i < ARRAY_SIZE(reg_forms); i++)
		if (reg_forms[i].op == t->a)
			total += reg_forms[i].hi - reg_forms[i].lo + 1;
	k = rng_below(&g->r, total);
	for (rf = reg_forms; rf->op != t->a || k > (unsigned int)(rf->hi - rf->lo); rf++)
		if (rf->op == t->a)
			k -= rf->hi - rf->lo + 1;
	e.op = rf->op;
	e.reg = (u8)(((rf->lo + k) >> 3) & 7);
	e.rm = (u8)((rf->lo + k) & 7);
	kind_fx(&f, rf->kind);
	if (rf->kind == K_FCMOV) {
		f.frd = rf->flags;
		g_def_flags(g, rf->flags);
	}
	if (rf->kind == K_STSW_AX) {
		if (g->pinned & bit(GPR_RAX))
			return;
		g_def_fsw(g);
		f.wr_part = bit(GPR_RAX);
	}
	g_insn(g, &e);
	g_apply(g, &f);
}

/* Memory forms: size 0 marks the special ones handled apart. */
struct x87_mem_form {
	u8 op, reg, size, kind;
	bool store;
};

static const struct x87_mem_form mem_forms[] = {
	{ 0xd8, 0, 4, K_ARITH, 0 }, { 0xd8, 1, 4, K_ARITH, 0 }, { 0xd8, 2, 4, K_CMP, 0 },
	{ 0xd8, 3, 4, K_CMP, 0 }, { 0xd8, 4, 4, K_ARITH, 0 }, { 0xd8, 5, 4, K_ARITH, 0 },
	{ 0xd8, 6, 4, K_ARITH, 0 }, { 0xd8, 7, 4, K_ARITH, 0 },
	{ 0xd9, 0, 4, K_ARITH, 0 }, { 0xd9, 2, 4, K_ARITH, 1 }, { 0xd9, 3, 4, K_ARITH, 1 },
	{ 0xd9, 5, 2, K_UNDEF, 0 },				/* fldcw */
	{ 0xd9, 7, 2, K_UNDEF, 1 },				/* fnstcw */
	{ 0xda, 0, 4, K_ARITH, 0 }, { 0xda, 1, 4, K_ARITH, 0 }, { 0xda, 2, 4, K_CMP, 0 },
	{ 0xda, 3, 4, K_CMP, 0 }, { 0xda, 4, 4, K_ARITH, 0 }, { 0xda, 5, 4, K_ARITH, 0 },
	{ 0xda, 6, 4, K_ARITH, 0 }, { 0xda, 7, 4, K_ARITH, 0 },
	{ 0xdb, 0, 4, K_ARITH, 0 }, { 0xdb, 1, 4, K_ARITH, 1 }, { 0xdb, 2, 4, K_ARITH, 1 },
	{ 0xdb, 3, 4, K_ARITH, 1 }, { 0xdb, 5, 10, K_ARITH, 0 }, { 0xdb, 7, 10, K_ARITH, 1 },
	{ 0xdc, 0, 8, K_ARITH, 0 }, { 0xdc, 1, 8, K_ARITH, 0 }, { 0xdc, 2, 8, K_CMP, 0 },
	{ 0xdc, 3, 8, K_CMP, 0 }, { 0xdc, 4, 8, K_ARITH, 0 }, { 0xdc, 5, 8, K_ARITH, 0 },
	{ 0xdc, 6, 8, K_ARITH, 0 }, { 0xdc, 7, 8, K_ARITH, 0 },
	{ 0xdd, 0, 8, K_ARITH, 0 }, { 0xdd, 1, 8, K_ARITH, 1 }, { 0xdd, 2, 8, K_ARITH, 1 },
	{ 0xdd, 3, 8, K_ARITH, 1 },
	{ 0xdd, 7, 2, K_UNDEF, 1 },				/* fnstsw m16 */
	{ 0xde, 0, 2, K_ARITH, 0 }, { 0xde, 1, 2, K_ARITH, 0 }, { 0xde, 2, 2, K_CMP, 0 },
	{ 0xde, 3, 2, K_CMP, 0 }, { 0xde, 4, 2, K_ARITH, 0 }, { 0xde, 5, 2, K_ARITH, 0 },
	{ 0xde, 6, 2, K_ARITH, 0 }, { 0xde, 7, 2, K_ARITH, 0 },
	{ 0xdf, 0, 2, K_ARITH, 0 }, { 0xdf, 1, 2, K_ARITH, 1 }, { 0xdf, 2, 2, K_ARITH, 1 },
	{ 0xdf, 3, 2, K_ARITH, 1 }, { 0xdf, 4, 10, K_ARITH, 0 }, { 0xdf, 5, 8, K_ARITH, 0 },
	{ 0xdf, 6, 10, K_ARITH, 1 }, { 0xdf, 7, 8, K_ARITH, 1 },
};

/* Stores a valid packed BCD number at addr (FBLD of bad digits is undefined). */
static bool store_bcd(struct gen *g, u64 addr)
{
	int r = g_wreg(g);
	u64 digits = 0;
	struct enc mv = { .op = (u8)(0xb8 + (r & 7)), .rex = (u8)(8 | (r >= 8)), .imm_size = 8 };
	struct enc st = { .op = 0x89, .modrm = true, .rex = 8, .reg = (u8)r };
	struct enc st2 = { .op = 0xc7, .modrm = true, .imm_size = 2 };

	for (int i = 0; i < 16; i++)
		digits |= (u64)rng_below(&g->r, 10) << (4 * i);
	mv.imm = digits;
	g_insn(g, &mv);
	g_apply(g, &(struct fx){ .wr = bit(r) });
	g_mem_at(g, &st, addr, 0);
	g_insn(g, &st);
	g_apply(g, &(struct fx){ .rd = bit(r), .mem_wr = true });
	enc_pfx(&st2, 0x66);
	st2.imm = rng_below(&g->r, 10);	/* one draw a statement (gen.c fp_pair()) */
	st2.imm |= rng_below(&g->r, 10) << 4;
	if (rng_chance(&g->r, 1, 2))
		st2.imm |= 0x8000;
	g_mem_at(g, &st2, addr + 8, 0);
	g_insn(g, &st2);
	g_apply(g, &(struct fx){ .mem_wr = true });
	return !g->overflow;
}

static void t_x87_mem(struct gen *g, const struct tmpl *t)
{
	const struct x87_mem_form *mf;
	unsigned int n = 0, k;
	struct enc e;
	struct fx f;
	u64 addr;

	for (unsigned int i = 0; i < ARRAY_SIZE(mem_forms); i++)
		n += mem_forms[i].op == t->a;
	k = rng_below(&g->r, n);
	for (mf = mem_forms; mf->op != t->a || k--; mf++)
		;
	e = (struct enc){ .op = mf->op, .reg = mf->reg };
	f = (struct fx){ .mem_wr = mf->store };
	kind_fx(&f, mf->kind);
	if (mf->op == 0xdf && mf->reg == 4) {
		addr = g_target(g, 10, 1, 0);
		if (!store_bcd(g, addr))
			return;
		g_mem_at(g, &e, addr, 0);
	} else {
		g_mem(g, &e, mf->size, mf->size, M_STACKOK);
	}
	if (mf->op == 0xdd && mf->reg == 7)
		g_def_fsw(g);	/* fnstsw stores the condition codes */
	g_insn(g, &e);
	g_apply(g, &f);
}

/*
 * FNSTENV/FLDENV and FNSAVE/FRSTOR: a = 0 env, 1 save; b = 1 for the
 * 16-bit layouts (66 prefix). The images' instruction and operand pointer
 * fields are the CPU's (see tmpl_sse.c, FXSAVE): zeroed after the store.
 */
static void t_x87_env(struct gen *g, const struct tmpl *t)
{
	bool save = t->a, o16 = t->b;
	unsigned int len = save ? (o16 ? 94 : 108) : (o16 ? 14 : 28);
	u64 addr = g_target(g, len, 4, M_NOFAULT);
	struct enc st = { .op = save ? 0xdd : 0xd9, .reg = save ? 6 : 6 };
	struct enc ld = { .op = save ? 0xdd : 0xd9, .reg = 4 };

	if (g->tf)
		return;		/* the image's pointers could not be scrubbed */
	if (o16) {
		enc_pfx(&st, 0x66);
		enc_pfx(&ld, 0x66);
	}
	g_def_fsw(g);
	g_mem_at(g, &st, addr, 0);
	g_insn(g, &st);
	/* FNSTENV masks every exception afterwards; FNSAVE reinitialises. */
	g_apply(g, &(struct fx){ .mem_wr = true, .fsw_undef = save ? 0 : FSW_CC,
				  .fsw_def = save ? FSW_CC : 0 });
	if (o16)
		g_scrub(g, addr + 6, 8);
	else
		g_scrub(g, addr + 12, 16);
	if (rng_chance(&g->r, 1, 2)) {
		/* A different control word, before loading the image back. */
		struct enc cw = { .op = 0xc7, .modrm = true, .imm_size = 2, .imm = 0x037f };

		cw.imm ^= rng_below(&g->r, 16) << 8;
		cw.imm ^= rng_below(&g->r, 64);

		enc_pfx(&cw, 0x66);
		g_mem_at(g, &cw, addr, 0);
		g_insn(g, &cw);
		g_apply(g, &(struct fx){ .mem_wr = true });
	}
	g_mem_at(g, &ld, addr, 0);
	g_insn(g, &ld);
	g_apply(g, &(struct fx){ .fsw_def = FSW_CC });
}

/* FWAIT: #MF when an unmasked exception is pending. */
static void t_fwait(struct gen *g, const struct tmpl *t)
{
	(void)t;
	g_insn(g, &(struct enc){ .op = 0x9b });
	g_apply(g, &(struct fx){ .fsw_undef = 0 });
}

static const struct tmpl list[] = {
#define X87(op) \
	{ "x87_reg_" #op, "x87", t_x87_reg, 0x##op, 0, 4, 0 }, \
	{ "x87_mem_" #op, "x87", t_x87_mem, 0x##op, 0, 4, 0 }
	X87(d8), X87(d9), X87(da), X87(db), X87(dc), X87(dd), X87(de), X87(df),
	{ "fnstenv_fldenv", "x87", t_x87_env, 0, 0, 2, 0 },
	{ "fnstenv_fldenv16", "x87", t_x87_env, 0, 1, 1, 0 },
	{ "fnsave_frstor", "x87", t_x87_env, 1, 0, 2, 0 },
	{ "fnsave_frstor16", "x87", t_x87_env, 1, 1, 1, 0 },
	{ "fwait", "x87", t_fwait, 0, 0, 1, 0 },
};

const struct tmpl_table tmpl_x87 = { list, ARRAY_SIZE(list) };

// SPDX-License-Identifier: Apache-2.0
/*
 * Templates for the rest of the general-purpose set: flag instructions,
 * NOPs and hints, XLAT, the stack (PUSH/POP in every form, PUSHF/POPF,
 * ENTER/LEAVE, segment registers), fences, CLFLUSH, MOVNTI.
 */
#include "gen.h"

#define SZAPC (RF_SF | RF_ZF | RF_AF | RF_PF | RF_CF)

static bool pinned(struct gen *g, int r)
{
	return g->pinned & bit(r);
}

static void emit(struct gen *g, const struct enc *e, const struct fx *f)
{
	g_insn(g, e);
	g_apply(g, f);
}

/* LAHF / SAHF: a = 0 lahf, 1 sahf. */
static void t_ahf(struct gen *g, const struct tmpl *t)
{
	if (t->a == 0) {
		if (pinned(g, GPR_RAX))
			return;
		g_def_flags(g, SZAPC);
		emit(g, &(struct enc){ .op = 0x9f },
		     &(struct fx){ .frd = SZAPC, .wr_part = bit(GPR_RAX) });
	} else {
		emit(g, &(struct enc){ .op = 0x9e },
		     &(struct fx){ .rd = bit(GPR_RAX), .fdef = SZAPC });
	}
}

/* CMC CLC STC CLD STD: a = opcode. */
static void t_flagop(struct gen *g, const struct tmpl *t)
{
	struct fx f = { 0 };

	if (t->a != 0xfc && t->a != 0xfd)
		f.fdef = RF_CF;
	if (t->a == 0xf5)
		f.frd = RF_CF;
	emit(g, &(struct enc){ .op = (u8)t->a }, &f);
}

/*
 * NOPs and hints: a = 0 one-byte forms, 1 NOPL (0F 1F /0) with any
 * operand, 2 PREFETCHh (0F 18 /0-/3), 3 PREFETCHW (0F 0D /1).
 */
static void t_nop(struct gen *g, const struct tmpl *t)
{
	struct enc e = { 0 };

	switch (t->a) {
	case 0:
		switch (rng_below(&g->r, 3)) {
		case 0: e.op = 0x90; break;
		case 1: e.op = 0x90; enc_pfx(&e, 0x66); break;
		default: e.op = 0x90; enc_pfx(&e, 0xf3); break;	/* PAUSE */
		}
		break;
	case 1:
		e.map = 1;
		e.op = 0x1f;
		if (rng_chance(&g->r, 1, 3))
			enc_pfx(&e, 0x66);
		if (rng_chance(&g->r, 1, 8))
			enc_pfx(&e, 0x2e);
		g_any_mem(g, &e);
		break;
	case 2:
		e.map = 1;
		e.op = 0x18;
		e.reg = (u8)rng_below(&g->r, 4);
		g_any_mem(g, &e);
		break;
	default:
		e.map = 1;
		e.op = 0x0d;
		e.reg = 1;
		g_any_mem(g, &e);
		break;
	}
	emit(g, &e, &(struct fx){ 0 });
}

/* XLAT: AL = [RBX + AL]. */
static void t_xlat(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .op = 0xd7 };

	(void)t;
	if (pinned(g, GPR_RAX))
		return;
	if (!pinned(g, GPR_RBX)) {
		/* lea target(%rip), %rbx */
		struct enc lea = { .op = 0x8d, .modrm = true, .rm_mem = true, .rex = 8,
				   .reg = GPR_RBX };

		lea.mem.base = ENC_RIP;
		lea.mem.index = ENC_NONE;
		lea.mem.rip_target = g_target(g, 256, 1, M_NOFAULT);
		emit(g, &lea, &(struct fx){ .wr = bit(GPR_RBX) });
	}
	if (rng_chance(&g->r, 1, 8))
		enc_pfx(&e, 0x3e);	/* ignored in 64-bit mode */
	g_def_regs(g, bit(GPR_RAX));
	emit(g, &e, &(struct fx){ .rd = bit(GPR_RAX) | bit(GPR_RBX), .wr_part = bit(GPR_RAX) });
}

/* ---------------------------------------------------------------------- */
/* The stack                                                              */
/* ---------------------------------------------------------------------- */

static void sp_move(struct gen *g, s64 delta)
{
	g->s.sp += delta;
}

/*
 * a = 0 push reg, 1 pop reg, 2 push imm, 3 push mem, 4 pop mem.
 * A 66 prefix makes them 16-bit.
 */
static void t_pushpop(struct gen *g, const struct tmpl *t)
{
	bool o16 = rng_chance(&g->r, 1, 8);
	unsigned int size = o16 ? 2 : 8;
	struct enc e = { 0 };
	struct fx f = { 0 };
	int r;

	if (o16)
		enc_pfx(&e, 0x66);
	switch (t->a) {
	case 0:
		r = g_rreg(g);
		e.op = (u8)(0x50 + (r & 7));
		e.rex = r >= 8 ? 1 : 0;
		if (rng_chance(&g->r, 1, 16) && !o16)
			e.rex |= 8;	/* REX.W changes nothing */
		g_def_regs(g, bit(r));
		f.rd = bit(r);
		f.mem_wr = true;
		sp_move(g, -(s64)size);
		break;
	case 1:
		r = g_wreg(g);
		e.op = (u8)(0x58 + (r & 7));
		e.rex = r >= 8 ? 1 : 0;
		fx_dst(&f, r, size);
		sp_move(g, size);
		break;
	case 2:
		if (rng_chance(&g->r, 1, 2)) {
			e.op = 0x6a;
			e.imm_size = 1;
		} else {
			e.op = 0x68;
			e.imm_size = o16 ? 2 : 4;
		}
		e.imm = g_value(g, e.imm_size);
		f.mem_wr = true;
		sp_move(g, -(s64)size);
		break;
	case 3:
		e.op = 0xff;
		e.reg = 6;
		g_mem(g, &e, size, size, M_STACKOK);
		f.mem_wr = true;
		sp_move(g, -(s64)size);
		break;
	default:
		/* The address is computed after RSP moves (SDM POP). */
		e.op = 0x8f;
		e.reg = 0;
		g_mem(g, &e, size, size, 0);
		f.mem_wr = true;
		sp_move(g, size);
		break;
	}
	emit(g, &e, &f);
}

/* PUSHF / POPF: a = 0 pushf, 1 popf, 2 popf setting AC, 3 popf setting TF. */
static void t_pushf(struct gen *g, const struct tmpl *t)
{
	bool o16 = rng_chance(&g->r, 1, 8);
	struct enc e = { 0 };
	u64 v;

	if (o16)
		enc_pfx(&e, 0x66);
	if (t->a == 0) {
		g_def_flags(g, RF_ARITH);
		e.op = 0x9c;
		sp_move(g, o16 ? -2 : -8);
		emit(g, &e, &(struct fx){ .frd = RF_ARITH, .mem_wr = true });
		return;
	}
	/*
	 * The value popped: the arithmetic flags, DF, NT, ID, and bits a CPL 3
	 * POPF ignores (IF, IOPL, VIF, VIP). AC and TF only in their own
	 * templates: AC makes every later misaligned access fault, TF traps.
	 */
	v = (rng_next(&g->r) & (RF_ARITH | RF_DF | RFLAGS_NT | RFLAGS_ID | RFLAGS_IF |
				 RFLAGS_IOPL | (3u << 19))) | RFLAGS_FIXED;
	if (t->a == 2)
		v |= RFLAGS_AC;
	if (t->a == 3) {
		v |= RFLAGS_TF;
		g->tf = true;
	}
	{
		struct enc push = { .op = 0x68, .imm_size = o16 ? 2 : 4, .imm = v };

		if (o16)
			enc_pfx(&push, 0x66);
		emit(g, &push, &(struct fx){ .mem_wr = true });
	}
	e.op = 0x9d;
	emit(g, &e, &(struct fx){ .fdef = RF_ARITH });
}

/* PUSH FS / PUSH GS: a = 0xa0 or 0xa8. */
static void t_pushseg(struct gen *g, const struct tmpl *t)
{
	bool o16 = rng_chance(&g->r, 1, 4);
	struct enc e = { .map = 1, .op = (u8)t->a };

	if (o16)
		enc_pfx(&e, 0x66);
	else if (!g->s.sp_known || g->tf)
		return;
	sp_move(g, o16 ? -2 : -8);
	emit(g, &e, &(struct fx){ .mem_wr = true });
	/*
	 * A 64-bit push of a segment register may write only 16 bits (SDM
	 * PUSH: "recent processors perform a 16-bit move"): the other six
	 * bytes of the slot are the CPU's choice.
	 */
	if (!o16)
		g_scrub(g, g->seq->init.gpr[GPR_RSP] + (u64)g->s.sp + 2, 6);
}

/* MOV r/m, Sreg (8C). */
static void t_movsreg(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .op = 0x8c };
	struct fx f = { 0 };
	struct rmop o;
	unsigned int size = (u8[]){ 2, 4, 8 }[rng_below(&g->r, 3)];

	(void)t;
	g_size_prefix(g, &e, size);
	g_rm(g, &e, &o, 2, true, 30, 0);
	e.reg = (u8)rng_below(&g->r, 6);
	if (o.mem) {
		f.mem_wr = true;	/* always 16 bits */
	} else if (size == 4) {
		/* The upper 16 bits of a 32-bit destination are implementation-dependent. */
		f.undef = bit(o.reg);
	} else {
		fx_dst(&f, o.reg, size);
	}
	emit(g, &e, &f);
}

/* ENTER n, level ... LEAVE, with RBP pointing into the stack first. */
static void t_enter(struct gen *g, const struct tmpl *t)
{
	struct enc lea = { .op = 0x8d, .modrm = true, .rm_mem = true, .rex = 8, .reg = GPR_RBP };
	struct enc enter = { .op = 0xc8, .imm_size = 2, .imm2_size = 1 };

	(void)t;
	if (pinned(g, GPR_RBP))
		return;
	lea.mem.base = GPR_RSP;
	lea.mem.index = ENC_NONE;
	lea.mem.disp = rng_range(&g->r, -16, 64);
	emit(g, &lea, &(struct fx){ .wr = bit(GPR_RBP) });
	enter.imm = rng_below(&g->r, 0x100);
	enter.imm2 = rng_chance(&g->r, 1, 2) ? 0 : rng_below(&g->r, 4);
	emit(g, &enter, &(struct fx){ .rd = bit(GPR_RBP), .wr = bit(GPR_RBP), .mem_wr = true });
	emit(g, &(struct enc){ .op = 0xc9 }, &(struct fx){ .rd = bit(GPR_RBP), .wr = bit(GPR_RBP) });
}

/* LFENCE MFENCE SFENCE: a = ModRM byte. */
static void t_fence(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .map = 1, .op = 0xae, .modrm = true, .reg = (u8)((t->a >> 3) & 7),
			 .rm = (u8)(t->a & 7) };

	emit(g, &e, &(struct fx){ 0 });
}

static void t_clflush(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .map = 1, .op = 0xae, .reg = 7 };

	(void)t;
	g_mem(g, &e, 1, 1, 0);
	emit(g, &e, &(struct fx){ 0 });
}

static void t_movnti(struct gen *g, const struct tmpl *t)
{
	unsigned int size = rng_chance(&g->r, 1, 2) ? 8 : 4;
	struct enc e = { .map = 1, .op = 0xc3 };
	int r;

	(void)t;
	if (size == 8)
		e.rex = 8;
	g_mem(g, &e, size, size, 0);
	r = g_regf(g, &e, size, false);
	g_def_regs(g, bit(r));
	emit(g, &e, &(struct fx){ .rd = bit(r), .mem_wr = true });
}

static const struct tmpl list[] = {
	{ "lahf", "flags", t_ahf, 0, 0, 3, 0 },
	{ "sahf", "flags", t_ahf, 1, 0, 3, 0 },
	{ "cmc", "flags", t_flagop, 0xf5, 0, 2, 0 },
	{ "clc", "flags", t_flagop, 0xf8, 0, 2, 0 },
	{ "stc", "flags", t_flagop, 0xf9, 0, 2, 0 },
	{ "cld", "flags", t_flagop, 0xfc, 0, 2, 0 },
	{ "std", "flags", t_flagop, 0xfd, 0, 2, 0 },
	{ "nop", "nop", t_nop, 0, 0, 2, 0 },
	{ "nopl", "nop", t_nop, 1, 0, 3, 0 },
	{ "prefetch", "nop", t_nop, 2, 0, 2, 0 },
	{ "prefetchw", "nop", t_nop, 3, 0, 1, 0 },
	{ "xlat", "xlat", t_xlat, 0, 0, 2, 0 },
	{ "push_r", "stack", t_pushpop, 0, 0, 6, T_STACK },
	{ "pop_r", "stack", t_pushpop, 1, 0, 6, T_STACK },
	{ "push_imm", "stack", t_pushpop, 2, 0, 3, T_STACK },
	{ "push_m", "stack", t_pushpop, 3, 0, 3, T_STACK },
	{ "pop_m", "stack", t_pushpop, 4, 0, 3, T_STACK },
	{ "pushf", "stack", t_pushf, 0, 0, 3, T_STACK },
	{ "popf", "stack", t_pushf, 1, 0, 3, T_STACK },
	{ "popf_ac", "stack", t_pushf, 2, 0, 1, T_STACK | T_MODE },
	{ "popf_tf", "stack", t_pushf, 3, 0, 1, T_STACK | T_MODE },
	{ "push_fs", "stack", t_pushseg, 0xa0, 0, 1, T_STACK },
	{ "push_gs", "stack", t_pushseg, 0xa8, 0, 1, T_STACK },
	{ "mov_from_sreg", "sreg", t_movsreg, 0, 0, 2, 0 },
	{ "enter_leave", "stack", t_enter, 0, 0, 2, T_STACK },
	{ "lfence", "fence", t_fence, 0xe8, 0, 1, 0 },
	{ "mfence", "fence", t_fence, 0xf0, 0, 1, 0 },
	{ "sfence", "fence", t_fence, 0xf8, 0, 1, 0 },
	{ "clflush", "fence", t_clflush, 0, 0, 1, 0 },
	{ "movnti", "mov", t_movnti, 0, 0, 2, 0 },
};

const struct tmpl_table tmpl_misc = { list, ARRAY_SIZE(list) };

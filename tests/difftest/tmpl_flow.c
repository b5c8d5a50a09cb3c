// SPDX-License-Identifier: Apache-2.0
/*
 * Control flow inside a sequence: Jcc, JMP, LOOP/JRCXZ, CALL/RET through
 * a local subroutine, indirect JMP/CALL through a register or memory.
 * Every branch goes forward and lands on a later template boundary (gen.c
 * patches the displacement there), so a sequence cannot loop. Operand-size
 * prefixes on near branches are not generated: in 64-bit mode Intel
 * ignores them and AMD truncates RIP, and the soft CPU reports AMD.
 */
#include <string.h>

#include "gen.h"

static const u32 cond_flags[16] = {
	RF_OF, RF_OF, RF_CF, RF_CF, RF_ZF, RF_ZF, RF_CF | RF_ZF, RF_CF | RF_ZF,
	RF_SF, RF_SF, RF_PF, RF_PF, RF_SF | RF_OF, RF_SF | RF_OF,
	RF_ZF | RF_SF | RF_OF, RF_ZF | RF_SF | RF_OF,
};

static void branch(struct gen *g, const struct enc *e, const struct fx *f, unsigned int dsize)
{
	unsigned int n = g->s.n;

	g_insn(g, e);
	g_apply(g, f);
	if (g->s.n != n)
		g_forward(g, g_pos(g) - dsize, g_pos(g), dsize);
}

/* Jcc: a = 0 short (70+cc), 1 near (0F 80+cc). */
static void t_jcc(struct gen *g, const struct tmpl *t)
{
	unsigned int cc = rng_below(&g->r, 16);
	struct enc e = { 0 };

	g_def_flags(g, cond_flags[cc]);
	if (t->a == 0) {
		e.op = (u8)(0x70 + cc);
		e.imm_size = 1;
	} else {
		e.map = 1;
		e.op = (u8)(0x80 + cc);
		e.imm_size = 4;
	}
	branch(g, &e, &(struct fx){ .frd = cond_flags[cc] }, e.imm_size);
}

/* JMP: a = 0 short (EB), 1 near (E9). */
static void t_jmp(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .op = t->a ? 0xe9 : 0xeb, .imm_size = t->a ? 4 : 1 };

	branch(g, &e, &(struct fx){ 0 }, e.imm_size);
}

/*
 * JMP rel32 from the first code page to the start of the second, over a
 * gap of INT3: a block exit to another page, which the block compiler
 * links through the exec TLB (jit_link_far()). A plain near JMP when
 * already past the first page or with branches still to land (a short
 * one could not reach over the gap).
 */
static void t_jmp_page(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .op = 0xe9, .imm_size = 4 };
	unsigned int to = 0x1000 + rng_below(&g->r, 64), at = g_pos(g);

	if (at + 5 > 0x1000 || g->s.npend) {
		branch(g, &e, &(struct fx){ 0 }, e.imm_size);
		return;
	}
	g_insn(g, &e);
	if (g->overflow)
		return;
	memset(g->seq->code + at + 5, 0xcc, to - (at + 5));
	g_patch(g, at + 1, 4, (s64)to - (at + 5));
	g->s.pos = to;
	(void)t;
}

/* LOOPNE LOOPE LOOP JRCXZ: a = 0..3 (E0..E3). */
static void t_loop(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .op = (u8)(0xe0 + t->a), .imm_size = 1 };
	struct fx f = { .rd = bit(GPR_RCX) };
	bool a32 = rng_chance(&g->r, 1, 4);

	if (t->a != 3 && (g->pinned & bit(GPR_RCX)))
		return;
	if (rng_chance(&g->r, 1, 3) && !(g->pinned & bit(GPR_RCX))) {
		/* A small count, so that both outcomes come up. */
		struct enc mv = { .op = 0xb9, .imm_size = 4, .imm = rng_below(&g->r, 3) };

		g_insn(g, &mv);
		g_apply(g, &(struct fx){ .wr = bit(GPR_RCX) });
	}
	if (a32)
		enc_pfx(&e, 0x67);	/* ECX instead of RCX */
	g_def_regs(g, bit(GPR_RCX));
	if (t->a < 2) {
		f.frd = RF_ZF;
		g_def_flags(g, RF_ZF);
	}
	if (t->a != 3) {
		if (a32)
			f.wr = bit(GPR_RCX);	/* ECX written: zero-extends */
		else
			f.wr = bit(GPR_RCX);
	}
	branch(g, &e, &f, 1);
}

/* A few templates without branches or stack moves, for subroutine bodies. */
static void body(struct gen *g)
{
	unsigned int n = rng_below(&g->r, 4), count = tmpl_count();
	u16 saved = g->tmpl;

	g->in_sub = true;
	for (unsigned int i = 0; i < n; i++) {
		for (int tries = 0; tries < 50; tries++) {
			unsigned int k = rng_below(&g->r, count);
			const struct tmpl *t = tmpl_get(k);

			if (t->flags & (T_BRANCH | T_STACK) || !t->weight)
				continue;
			g->tmpl = (u16)k;
			t->emit(g, t);
			break;
		}
	}
	g->tmpl = saved;
	g->in_sub = false;
}

/* call L; jmp M; L: body; ret [imm16]; M: */
static void t_call(struct gen *g, const struct tmpl *t)
{
	struct enc call = { .op = 0xe8, .imm_size = 4, .imm = 2 };
	struct enc jmp = { .op = 0xeb, .imm_size = 1 };
	struct enc ret = { .op = 0xc3 };
	unsigned int jmp_end, n = g->s.n;

	(void)t;
	g_insn(g, &call);
	g->s.sp -= 8;
	g_insn(g, &jmp);
	jmp_end = g_pos(g);
	body(g);
	if (rng_chance(&g->r, 1, 4)) {
		ret.op = 0xc2;
		ret.imm_size = 2;
		ret.imm = 8 * rng_below(&g->r, 3);
	}
	g_insn(g, &ret);
	g->s.sp += 8 + (s64)ret.imm;
	if (g->overflow || g->s.n == n)
		return;
	if (g_pos(g) - jmp_end > 127) {
		g->overflow = true;	/* the body is too long: drop it all */
		return;
	}
	g_patch(g, jmp_end - 1, 1, (s64)(g_pos(g) - jmp_end));
}

/*
 * Indirect: a = 0 jmp reg, 1 call reg, 2 jmp mem, 3 call mem. The target
 * comes from lea target(%rip), which gen.c patches at the landing.
 */
static void t_indirect(struct gen *g, const struct tmpl *t)
{
	int r = g_wreg(g);
	struct enc lea = { .op = 0x8d, .modrm = true, .rm_mem = true, .rex = 8, .reg = (u8)r };
	struct enc e = { .op = 0xff, .modrm = true, .reg = (t->a & 1) ? 2 : 4 };
	unsigned int disp, lea_end, n = g->s.n;

	lea.mem.base = ENC_RIP;
	lea.mem.index = ENC_NONE;
	lea.mem.rip_target = DT_CODE_BASE + g_pos(g);	/* patched later */
	g_insn(g, &lea);
	g_apply(g, &(struct fx){ .wr = bit(r) });
	lea_end = g_pos(g);
	disp = lea_end - 4;
	if (t->a >= 2) {
		struct enc st = { .op = 0x89, .modrm = true, .rex = 8, .reg = (u8)r };
		u64 slot = g_target(g, 8, 8, M_NOFAULT | M_ALIGN);

		g_mem_at(g, &st, slot, 0);
		g_insn(g, &st);
		g_apply(g, &(struct fx){ .rd = bit(r), .mem_wr = true });
		g_mem_at(g, &e, slot, 0);
	} else {
		e.rm = (u8)r;
	}
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .rd = bit(r) });
	if (t->a & 1)
		g->s.sp -= 8;
	if (g->overflow || g->s.n == n)
		return;
	g_forward(g, disp, lea_end, 4);
}

static const struct tmpl list[] = {
	{ "jcc_short", "branch", t_jcc, 0, 0, 8, T_BRANCH },
	{ "jcc_near", "branch", t_jcc, 1, 0, 4, T_BRANCH },
	{ "jmp_short", "branch", t_jmp, 0, 0, 3, T_BRANCH },
	{ "jmp_near", "branch", t_jmp, 1, 0, 2, T_BRANCH },
	{ "jmp_page", "branch", t_jmp_page, 0, 0, 4, T_BRANCH },
	{ "loopne", "branch", t_loop, 0, 0, 2, T_BRANCH },
	{ "loope", "branch", t_loop, 1, 0, 2, T_BRANCH },
	{ "loop", "branch", t_loop, 2, 0, 2, T_BRANCH },
	{ "jrcxz", "branch", t_loop, 3, 0, 2, T_BRANCH },
	{ "call_ret", "branch", t_call, 0, 0, 4, T_BRANCH | T_STACK },
	{ "jmp_reg", "branch", t_indirect, 0, 0, 2, T_BRANCH },
	{ "call_reg", "branch", t_indirect, 1, 0, 2, T_BRANCH | T_STACK },
	{ "jmp_mem", "branch", t_indirect, 2, 0, 2, T_BRANCH },
	{ "call_mem", "branch", t_indirect, 3, 0, 2, T_BRANCH | T_STACK },
};

const struct tmpl_table tmpl_flow = { list, ARRAY_SIZE(list) };

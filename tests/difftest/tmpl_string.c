// SPDX-License-Identifier: Apache-2.0
/*
 * String instructions: MOVS CMPS STOS LODS SCAS in every size, with and
 * without REP/REPE/REPNE, either direction, 32-bit addressing, and a
 * segment override on the source. RSI, RDI and RCX are set up first
 * (LEA RIP-relative, MOV) so that the operands land in the data pages and
 * the counts stay small; sometimes a count runs into a guard page and the
 * instruction faults part way, with RSI/RDI/RCX where it stopped.
 * F2 is not put on MOVS/STOS/LODS: the SDM gives it no meaning there.
 */
#include "gen.h"

enum { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS };

static bool pinned(struct gen *g, int r)
{
	return g->pinned & bit(r);
}

static void emit(struct gen *g, const struct enc *e, const struct fx *f)
{
	g_insn(g, e);
	g_apply(g, f);
}

/* Points r at addr: LEA RIP-relative, or MOV of the offset from a segment base. */
static void point(struct gen *g, int r, u64 addr, u64 seg_base)
{
	if (seg_base || rng_chance(&g->r, 1, 4)) {
		/* The offset from a base may be negative: a 64-bit move then. */
		struct enc mv = { .op = (u8)(0xb8 + (r & 7)), .rex = r >= 8 ? 1 : 0,
				  .imm_size = 4, .imm = addr - seg_base };

		if (seg_base) {
			mv.rex |= 8;
			mv.imm_size = 8;
		}

		emit(g, &mv, &(struct fx){ .wr = bit(r) });
		return;
	}
	struct enc lea = { .op = 0x8d, .modrm = true, .rm_mem = true, .rex = 8, .reg = (u8)r };

	lea.mem.base = ENC_RIP;
	lea.mem.index = ENC_NONE;
	lea.mem.rip_target = addr;
	emit(g, &lea, &(struct fx){ .wr = bit(r) });
}

/* An address with room for count elements either way (or near a guard). */
static u64 room(struct gen *g)
{
	if (rng_chance(&g->r, 1, 24))
		return rng_chance(&g->r, 1, 2) ? DT_DATA_END - rng_range(&g->r, 1, 24)
					       : DT_DATA_BASE + rng_range(&g->r, 0, 24);
	return DT_DATA_BASE + 128 + rng_below(&g->r, 0x2000 - 256);
}

static void t_string(struct gen *g, const struct tmpl *t)
{
	static const u8 ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	unsigned int op = t->a, size = 1u << rng_below(&g->r, 4), rep = t->b;
	bool src = op == S_MOVS || op == S_CMPS || op == S_LODS;
	bool dst = op != S_LODS;
	bool a32 = rng_chance(&g->r, 1, 8);
	struct enc e = { .op = (u8)(ops[op] + (size > 1)) };
	struct fx f = { .frd = RF_DF };
	u64 count = 1, seg_base = 0;

	if (rep && pinned(g, GPR_RCX))
		return;	/* REP counts RCX down: it must not be pinned */
	if ((src && pinned(g, GPR_RSI)) || (dst && pinned(g, GPR_RDI)))
		return;
	if (op == S_LODS && pinned(g, GPR_RAX))
		return;
	g_size_prefix(g, &e, size);
	if (rng_chance(&g->r, 1, 3))
		emit(g, &(struct enc){ .op = rng_chance(&g->r, 1, 2) ? 0xfc : 0xfd }, &(struct fx){ 0 });
	if (src && g->opts->fsgs && rng_chance(&g->r, 1, 6)) {
		bool fs = rng_chance(&g->r, 1, 2);

		enc_pfx(&e, fs ? 0x64 : 0x65);
		seg_base = fs ? g->seq->init.fs_base : g->seq->init.gs_base;
		a32 = false;
	}
	if (src)
		point(g, GPR_RSI, room(g), seg_base);
	if (dst)
		point(g, GPR_RDI, room(g), 0);
	if (rep) {
		struct enc mv = { .op = 0xb9, .imm_size = 4 };

		count = rng_chance(&g->r, 1, 8) ? rng_below(&g->r, 40) : rng_below(&g->r, 9);
		mv.imm = count;
		emit(g, &mv, &(struct fx){ .wr = bit(GPR_RCX) });
		enc_pfx(&e, rep == 2 ? 0xf2 : 0xf3);
		f.rd |= bit(GPR_RCX);
		f.wr |= bit(GPR_RCX);
	}
	if (a32)
		enc_pfx(&e, 0x67);
	if (src) {
		f.rd |= bit(GPR_RSI);
		f.wr |= bit(GPR_RSI);
	}
	if (dst) {
		f.rd |= bit(GPR_RDI);
		f.wr |= bit(GPR_RDI);
	}
	switch (op) {
	case S_MOVS:
		f.mem_wr = true;
		break;
	case S_STOS:
		f.rd |= bit(GPR_RAX);
		f.mem_wr = true;
		g_def_regs(g, bit(GPR_RAX));
		break;
	case S_LODS:
		/* With a count of 0 nothing is loaded: a partial write at most. */
		if (size <= 2 || count == 0)
			f.wr_part |= bit(GPR_RAX);
		else
			f.wr |= bit(GPR_RAX);
		break;
	case S_SCAS:
		f.rd |= bit(GPR_RAX);
		/* fall through */
	case S_CMPS:
		if (count)
			f.fdef = RF_ARITH;	/* count 0: flags untouched */
		break;
	}
	g_def_regs(g, f.rd);
	emit(g, &e, &f);
}

#define STR(n, op) \
	{ n, "string", t_string, op, 0, 3, 0 }, \
	{ "rep_" n, "string", t_string, op, 1, 3, 0 }

static const struct tmpl list[] = {
	STR("movs", S_MOVS), STR("stos", S_STOS), STR("lods", S_LODS),
	STR("cmps", S_CMPS), STR("scas", S_SCAS),
	{ "repne_cmps", "string", t_string, S_CMPS, 2, 2, 0 },
	{ "repne_scas", "string", t_string, S_SCAS, 2, 2, 0 },
};

const struct tmpl_table tmpl_string = { list, ARRAY_SIZE(list) };

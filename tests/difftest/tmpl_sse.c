// SPDX-License-Identifier: Apache-2.0
/*
 * SSE and SSE2: one template per line of the soft CPU's own SSE table
 * (src/engine/soft/sse/sse_table.def), so every encoding it implements is
 * generated, with the operand forms the table gives: registers XMM0-15,
 * memory of the right size (aligned where the SDM requires it, sometimes
 * not, for the #GP), general registers for the conversions and moves,
 * immediates. The host CPU says what each must do. Plus what the table
 * leaves to the decoder: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR, MASKMOVDQU, EMMS.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

struct sse_desc {
	const char *fn;
	u8 map, op, pfx;
	s8 grp;			/* ModRM.reg of a group entry, or -1 */
	u8 form, flags;
	bool regonly;		/* SSE_OP_R: the register form */
};

#define SSE_OP(map, opcode, prefix, form, flags, fn) \
	{ #fn, map, opcode, prefix, -1, form, flags, false },
#define SSE_OP_GRP(map, opcode, prefix, reg, form, flags, fn) \
	{ #fn, map, opcode, prefix, reg, form, flags, false },
#define SSE_OP_R(map, opcode, prefix, form, flags, fn) \
	{ #fn, map, opcode, prefix, -1, form, flags, true },
static const struct sse_desc descs[] = {
#include "engine/soft/sse/sse_table.def"
};
#undef SSE_OP
#undef SSE_OP_GRP
#undef SSE_OP_R

static const u8 mand[] = { 0, 0x66, 0xf3, 0xf2 };

/* An XMM register whose value is defined (XORPS clears one that is not). */
static void def_xmm(struct gen *g, u16 xmms)
{
	for (int x = 0; x < 16; x++) {
		if (!(xmms & g->s.t.xmm & bit(x)))
			continue;
		struct enc e = { .map = 1, .op = 0x57, .modrm = true, .reg = (u8)x, .rm = (u8)x };

		g_insn(g, &e);
		g_apply(g, &(struct fx){ .xwr = bit(x) });
	}
}

static unsigned int mem_size(const struct sse_desc *d)
{
	switch (d->form) {
	case SSE_FORM_X_XM64:
	case SSE_FORM_XM64_X:
		return 8;
	case SSE_FORM_X_XM32:
	case SSE_FORM_XM32_X:
		return 4;
	case SSE_FORM_R_XM:
		return d->flags & SSE_F_M32 ? 4 : d->flags & SSE_F_M64 ? 8 : 16;
	default:
		return 16;
	}
}

static void t_sse(struct gen *g, const struct tmpl *t)
{
	const struct sse_desc *d = &descs[t->a];
	struct enc e = { .map = (u8)(1 + d->map), .op = d->op, .modrm = true, .pfx_fixed = true };
	struct fx f = { 0 };
	bool mem, wide = rng_chance(&g->r, 1, 2);
	unsigned int size = mem_size(d);
	int xr = (int)rng_below(&g->r, 16), xm = (int)rng_below(&g->r, 16);

	if (d->regonly || (d->flags & SSE_F_REGONLY) || d->form == SSE_FORM_XRM_IMM ||
	    d->form == SSE_FORM_X_XR)
		mem = false;
	else if (d->flags & SSE_F_MEMONLY)
		mem = true;
	else
		mem = rng_chance(&g->r, 2, 5);

	if (mem) {
		unsigned int mflags = 0, align = size;

		if (d->form == SSE_FORM_X_RM || d->form == SSE_FORM_RM_X)
			size = wide ? 8 : 4;
		if (d->flags & SSE_F_ALIGN16) {
			/* Misaligned m128: #GP(0), now and then. */
			mflags = rng_chance(&g->r, 1, 40) ? 0 : M_ALIGN;
			align = 16;
		}
		g_mem(g, &e, size, align, mflags | M_STACKOK);
	}
	/* The mandatory prefix goes last, after any segment or 67 prefix. */
	if (mand[d->pfx])
		enc_pfx(&e, mand[d->pfx]);
	if (rng_chance(&g->r, 1, 16))
		e.need_rex = true;

	switch (d->form) {
	case SSE_FORM_X_RM: {		/* xmm, r/m32 or r/m64 */
		e.reg = (u8)xr;
		if (wide)
			e.rex |= 8;
		if (!mem) {
			int r = g_rreg(g);

			e.rm = (u8)r;
			f.rd = bit(r);
		}
		f.xrd = bit(xr);
		f.xwr_part = bit(xr);
		break;
	}
	case SSE_FORM_R_XM: {		/* r32/r64, xmm/m */
		int r = g_wreg(g);

		e.reg = (u8)r;
		if (wide)
			e.rex |= 8;
		if (!mem) {
			e.rm = (u8)xm;
			f.xrd = bit(xm);
		}
		f.wr = bit(r);
		break;
	}
	case SSE_FORM_RM_X: {		/* r/m32 or r/m64, xmm */
		e.reg = (u8)xr;
		if (wide)
			e.rex |= 8;
		f.xrd = bit(xr);
		if (mem) {
			f.mem_wr = true;
			def_xmm(g, bit(xr));
		} else {
			int r = g_wreg(g);

			e.rm = (u8)r;
			f.wr = bit(r);
		}
		break;
	}
	case SSE_FORM_XM128_X:
	case SSE_FORM_XM64_X:
	case SSE_FORM_XM32_X:		/* stores: xmm/m, xmm */
		e.reg = (u8)xr;
		f.xrd = bit(xr);
		if (mem) {
			f.mem_wr = true;
			def_xmm(g, bit(xr));
		} else {
			e.rm = (u8)xm;
			f.xrd |= bit(xm);
			f.xwr_part = bit(xm);
		}
		break;
	case SSE_FORM_XRM_IMM:		/* shifts by immediate: xmm(rm), /digit */
		e.reg = (u8)d->grp;
		e.rm = (u8)xm;
		f.xrd = bit(xm);
		f.xwr = bit(xm);
		break;
	default:			/* xmm, xmm/m */
		e.reg = (u8)xr;
		f.xrd = bit(xr);
		if (!mem) {
			e.rm = (u8)xm;
			f.xrd |= bit(xm);
		}
		if (!(d->flags & SSE_F_NODST))
			f.xwr_part = bit(xr);
		break;
	}
	if (d->grp >= 0)
		e.reg = (u8)d->grp;
	if (d->flags & SSE_F_IMM8) {
		e.imm_size = 1;
		e.imm = rng_chance(&g->r, 3, 4) ? rng_below(&g->r, 8) : g_value(g, 1);
	}
	if (d->flags & SSE_F_FLAGS)
		f.fdef = RF_ARITH;	/* ZF PF CF set, OF SF AF cleared */
	if (f.mem_wr)
		g_def_regs(g, f.rd);
	/*
	 * No undefined state is tracked for MXCSR, and its flags come from
	 * the values: the conversions' general-register source (CVTSI2SS/SD,
	 * PE) and the XMM sources of floating-point operations are defined.
	 */
	if (d->op == 0x2a && d->map == SSE_MAP_0F)
		g_def_regs(g, f.rd);
	def_xmm(g, f.xrd);
	g_insn(g, &e);
	g_apply(g, &f);
}

/* LDMXCSR / STMXCSR: a = 0 store, 1 load of a stored value, 2 load any. */
static void t_mxcsr(struct gen *g, const struct tmpl *t)
{
	struct enc e = { .map = 1, .op = 0xae };
	u64 addr = g_target(g, 4, 4, 0);

	if (t->a == 0) {
		e.reg = 3;
		g_mem_at(g, &e, addr, 0);
		g_insn(g, &e);
		g_apply(g, &(struct fx){ .mem_wr = true });
		return;
	}
	if (t->a == 1) {
		/* Rounding, FTZ/DAZ, masks, flags: every valid combination. */
		struct enc st = { .op = 0xc7, .modrm = true, .imm_size = 4,
				  .imm = rng_next(&g->r) & 0xffff };

		if (rng_chance(&g->r, 1, 2))
			st.imm |= 0x1f80;	/* masked mostly */
		g_mem_at(g, &st, addr, 0);
		g_insn(g, &st);
		g_apply(g, &(struct fx){ .mem_wr = true });
	}
	/* Reserved bits set (a = 2, from data): #GP(0). */
	e.reg = 2;
	g_mem_at(g, &e, addr, 0);
	g_insn(g, &e);
	g_apply(g, &(struct fx){ 0 });
}

/*
 * FXSAVE / FXRSTOR (a = 0 fxsave, 1 fxsave then fxrstor of the image with
 * a change, 2 fxrstor of whatever is there); b = 1 for the REX.W forms.
 */
static void t_fxsave(struct gen *g, const struct tmpl *t)
{
	u64 addr = g_target(g, 512, 16, M_NOFAULT | M_ALIGN);
	struct enc e = { .map = 1, .op = 0xae, .rex = t->b ? 8 : 0 };

	if (addr + 512 > DT_STACK_PAGE)
		addr = DT_DATA_BASE + 0x100;
	if (rng_chance(&g->r, 1, 40))
		addr += 8;	/* misaligned: #GP(0) */
	if (t->a != 2 && g->tf)
		return;		/* the image's pointers could not be scrubbed */
	if (t->a != 2) {
		/* The image holds the status word: its condition codes must be defined. */
		g_def_fsw(g);
		def_xmm(g, 0xffff);
		e.reg = 0;
		g_mem_at(g, &e, addr, 0);
		g_insn(g, &e);
		g_apply(g, &(struct fx){ .mem_wr = true });
		/*
		 * The x87 pointer fields: FOP and FIP/FDP are updated by the host
		 * only on unmasked exceptions on recent Intel parts (CPUID 7
		 * EBX[6] FDP_EXCPTN_ONLY, and FOP deprecated), so they are the
		 * CPU's choice. FCS/FDS in the 32-bit layout likewise (EBX[13]).
		 */
		if (!(addr & 15))
			g_scrub(g, addr + 6, 18);
		if (t->a == 0)
			return;
		struct enc st = { .op = 0xc7, .modrm = true, .rex = 8, .imm_size = 4,
				  .imm = g_value(g, 4) };
		/* Change one XMM quadword, or the x87 control word. */
		if (rng_chance(&g->r, 1, 2)) {
			g_mem_at(g, &st, addr + 160 + 8 * rng_below(&g->r, 32), 0);
		} else {
			st = (struct enc){ .op = 0xc7, .modrm = true, .imm_size = 2,
					   .imm = 0x037f ^ (rng_below(&g->r, 16) << 8) };
			enc_pfx(&st, 0x66);
			g_mem_at(g, &st, addr, 0);
		}
		g_insn(g, &st);
		g_apply(g, &(struct fx){ .mem_wr = true });
	}
	if (t->a == 2 && !(addr & 15)) {
		/*
		 * How many bits of a loaded FIP/FDP a CPU keeps is its own
		 * (this host sign-extends from bit 57): no random pointers.
		 */
		g_scrub(g, addr + 6, 18);
	}
	e.reg = 1;
	g_mem_at(g, &e, addr, 0);
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .xwr = 0xffff, .fsw_def = FSW_CC });
}

/* MASKMOVDQU xmm, xmm: byte stores to [RDI] under a mask. */
static void t_maskmov(struct gen *g, const struct tmpl *t)
{
	int x1 = (int)rng_below(&g->r, 16), x2 = (int)rng_below(&g->r, 16);
	struct enc e = { .map = 1, .op = 0xf7, .modrm = true, .reg = (u8)x1, .rm = (u8)x2,
			 .pfx_fixed = true };
	struct enc lea = { .op = 0x8d, .modrm = true, .rm_mem = true, .rex = 8, .reg = GPR_RDI };

	(void)t;
	if (g->pinned & bit(GPR_RDI))
		return;
	lea.mem.base = ENC_RIP;
	lea.mem.index = ENC_NONE;
	lea.mem.rip_target = g_target(g, 16, 1, 0);
	g_insn(g, &lea);
	g_apply(g, &(struct fx){ .wr = bit(GPR_RDI) });
	def_xmm(g, bit(x1) | bit(x2));
	enc_pfx(&e, 0x66);
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .rd = bit(GPR_RDI), .xrd = bit(x1) | bit(x2), .mem_wr = true });
}

/* EMMS: every x87 register tagged empty. */
static void t_emms(struct gen *g, const struct tmpl *t)
{
	(void)t;
	g_insn(g, &(struct enc){ .map = 1, .op = 0x77 });
	g_apply(g, &(struct fx){ 0 });
}

static const struct tmpl extras[] = {
	{ "stmxcsr", "sse_state", t_mxcsr, 0, 0, 3, 0 },
	{ "ldmxcsr", "sse_state", t_mxcsr, 1, 0, 3, 0 },
	{ "ldmxcsr_any", "sse_state", t_mxcsr, 2, 0, 1, 0 },
	{ "fxsave", "sse_state", t_fxsave, 0, 0, 2, 0 },
	{ "fxsave64", "sse_state", t_fxsave, 0, 1, 2, 0 },
	{ "fxrstor", "sse_state", t_fxsave, 1, 0, 2, 0 },
	{ "fxrstor64", "sse_state", t_fxsave, 1, 1, 2, 0 },
	{ "fxrstor_any", "sse_state", t_fxsave, 2, 1, 1, 0 },
	{ "maskmovdqu", "sse_int", t_maskmov, 0, 0, 3, 0 },
	{ "emms", "sse_state", t_emms, 0, 0, 1, 0 },
};

#define NDESC ARRAY_SIZE(descs)
static struct tmpl list[NDESC + ARRAY_SIZE(extras)];
static char names[NDESC][48];

__attribute__((constructor)) static void build(void)
{
	for (unsigned int i = 0; i < NDESC; i++) {
		const struct sse_desc *d = &descs[i];
		static const char *const maps[] = { "0f", "0f38", "0f3a" };
		static const char *const pfx[] = { "", "66.", "f3.", "f2." };
		char grp[8] = "";

		if (d->grp >= 0)
			snprintf(grp, sizeof(grp), "/%d", d->grp);
		/* fn is sse_<name>: the name, the encoding, .r for register-only entries. */
		snprintf(names[i], sizeof(names[i]), "%s.%s%s%02x%s%s", d->fn + 4, pfx[d->pfx],
			 maps[d->map], d->op, grp, d->regonly ? ".r" : "");
		list[i] = (struct tmpl){ names[i], strncmp(d->fn, "sse_p", 5) ? "sse_fp" : "sse_int",
					 t_sse, i, 0, 3, 0 };
	}
	memcpy(list + NDESC, extras, sizeof(extras));
}

const struct tmpl_table tmpl_sse = { list, ARRAY_SIZE(list) };

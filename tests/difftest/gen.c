// SPDX-License-Identifier: Apache-2.0
/* The sequence generator's core (see gen.h). */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Template calls per sequence. */
#define MIN_CALLS 1
#define MAX_CALLS 24

static const struct tmpl_table *const tables[] = {
	&tmpl_int, &tmpl_misc, &tmpl_flow, &tmpl_string, &tmpl_sse, &tmpl_x87, &tmpl_fault,
};

static const struct tmpl **all;
static unsigned int nall;

static void build_list(void)
{
	unsigned int n = 0;

	if (all)
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(tables); i++)
		n += tables[i]->n;
	all = calloc(n, sizeof(*all));
	if (!all)
		abort();
	for (unsigned int i = 0; i < ARRAY_SIZE(tables); i++)
		for (unsigned int j = 0; j < tables[i]->n; j++)
			all[nall++] = &tables[i]->t[j];
}

unsigned int tmpl_count(void)
{
	build_list();
	return nall;
}

const struct tmpl *tmpl_get(unsigned int i)
{
	build_list();
	return i < nall ? all[i] : NULL;
}

/* ---------------------------------------------------------------------- */
/* Emitting and tracking                                                  */
/* ---------------------------------------------------------------------- */

void g_insn(struct gen *g, const struct enc *e)
{
	u8 buf[ENC_MAX];
	unsigned int len;
	struct dt_insn *in;

	if (g->overflow)
		return;
	if (!e->pfx_fixed && e->npfx > 1) {
		struct enc shuffled = *e;

		/* Legacy prefixes may come in any order. */
		for (unsigned int i = shuffled.npfx - 1; i > 0; i--) {
			unsigned int j = rng_below(&g->r, i + 1);
			u8 tmp = shuffled.pfx[i];

			shuffled.pfx[i] = shuffled.pfx[j];
			shuffled.pfx[j] = tmp;
		}
		len = enc_emit(&shuffled, DT_CODE_BASE + g->s.pos, buf, NULL);
	} else {
		len = enc_emit(e, DT_CODE_BASE + g->s.pos, buf, NULL);
	}
	if (g->s.pos + len > DT_MAX_CODE || g->s.n >= DT_MAX_INSNS) {
		g->overflow = true;
		return;
	}
	memcpy(g->seq->code + g->s.pos, buf, len);
	in = &g->seq->insn[g->s.n++];
	in->off = (u16)g->s.pos;
	in->len = (u8)len;
	in->tmpl = g->tmpl;
	in->group = g->group;
	in->pre = g->s.t;
	g->s.pos += len;
}

void g_apply(struct gen *g, const struct fx *f)
{
	struct dt_taint *t = &g->s.t;
	bool in = (t->gpr & f->rd) || (t->xmm & f->xrd) || (t->flags & f->frd);

	if (g->overflow)
		return;	/* the template is being dropped */
	if (in && f->mem_wr) {
		/* A template forgot g_def_*: memory would become undefined. */
		fprintf(stderr, "difftest: generator bug: template %s stores an undefined value\n",
			tmpl_get(g->tmpl)->name);
		abort();
	}
	t->gpr &= ~f->wr;
	t->xmm &= ~f->xwr;
	if (in) {
		t->gpr |= f->wr | f->wr_part;
		t->xmm |= f->xwr | f->xwr_part;
	}
	t->gpr |= f->undef;
	t->gpr &= ~g->pinned;	/* never written, never undefined */
	t->flags = (t->flags & ~(f->fdef | f->fundef)) | f->fundef | (in ? f->fdef : 0);
	t->fsw = (u16)((t->fsw & ~(f->fsw_def | f->fsw_undef)) | f->fsw_undef);
}

static void mov_imm32(struct gen *g, int r)
{
	struct enc e = { .op = (u8)(0xb8 + (r & 7)), .rex = r >= 8 ? 1 : 0,
			 .imm_size = 4, .imm = g_value(g, 4) };

	g_insn(g, &e);
	g_apply(g, &(struct fx){ .wr = bit(r) });
}

void g_def_regs(struct gen *g, u16 regs)
{
	u16 bad = regs & g->s.t.gpr;

	for (int r = 0; r < NR_GPRS; r++)
		if (bad & bit(r))
			mov_imm32(g, r);
}

/* A register whose value is defined (pinned ones always are). */
static int defined_reg(struct gen *g)
{
	if (g->nptr)
		return g->ptr[rng_below(&g->r, g->nptr)];
	return GPR_RSP;
}

void g_def_flags(struct gen *g, u32 flags)
{
	struct enc e = { .op = 0x83, .modrm = true, .reg = 7, .rex = 8, .imm_size = 1 };
	int r;

	if (!(g->s.t.flags & flags))
		return;
	/* cmp $imm8, %reg: defines all six arithmetic flags. */
	r = defined_reg(g);
	e.rm = (u8)r;
	e.imm = g_value(g, 1);
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .rd = bit(r), .fdef = RF_ARITH });
}

void g_def_fsw(struct gen *g)
{
	struct enc e = { .op = 0xd9, .modrm = true, .reg = 4, .rm = 5 };	/* fxam */

	if (!(g->s.t.fsw & FSW_CC))
		return;
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .fsw_def = FSW_CC });
}

void g_scrub(struct gen *g, u64 addr, unsigned int len)
{
	while (len) {
		/* Naturally aligned stores, so EFLAGS.AC cannot fault them. */
		unsigned int n = 8;
		struct enc e = { 0 };

		while (n > len || (addr & (n - 1)))
			n >>= 1;
		e.op = n == 1 ? 0xc6 : 0xc7;
		e.imm_size = (u8)(n >= 4 ? 4 : n);

		if (n == 8)
			e.rex = 8;
		if (n == 2)
			enc_pfx(&e, 0x66);
		g_mem_at(g, &e, addr, 0);
		g_insn(g, &e);
		g_apply(g, &(struct fx){ .mem_wr = true });
		addr += n;
		len -= n;
	}
}

/* ---------------------------------------------------------------------- */
/* Registers and sizes                                                    */
/* ---------------------------------------------------------------------- */

int g_wreg(struct gen *g)
{
	for (;;) {
		int r = (int)rng_below(&g->r, NR_GPRS);

		if (r != GPR_RSP && !(g->pinned & bit(r)))
			return r;
	}
}

int g_rreg(struct gen *g)
{
	return (int)rng_below(&g->r, NR_GPRS);
}

static bool enc_uses_rex(const struct enc *e)
{
	if (e->rex || e->need_rex)
		return true;
	if (e->reg >= 8 || (!e->rm_mem && e->rm >= 8))
		return true;
	if (e->rm_mem && ((e->mem.base >= 8 && e->mem.base < 16) || e->mem.index >= 8))
		return true;
	return false;
}

/* A byte register, for writing (never SPL, never a pinned register's bytes). */
static int pick_breg(struct gen *g, struct enc *e, bool write)
{
	bool rex = enc_uses_rex(e);

	for (int tries = 0;; tries++) {
		int r = (int)rng_below(&g->r, 20), full = r >= BREG_AH ? r - BREG_AH : r;

		if (tries > 200) {
			/* None fits (the usable ones are pinned): drop the template. */
			g->overflow = true;
			return 0;
		}
		if (write && (full == GPR_RSP || (g->pinned & bit(full))))
			continue;
		if (r >= BREG_AH && rex)
			continue;	/* AH..BH cannot be encoded with a REX */
		if (e->no_rex && r >= 4 && r < BREG_AH)
			continue;	/* SPL.. and R8B.. need one */
		return r;
	}
}

int g_wbreg(struct gen *g, struct enc *e)
{
	return pick_breg(g, e, true);
}

int g_rbreg(struct gen *g, struct enc *e)
{
	return pick_breg(g, e, false);
}

static u8 breg_field(struct enc *e, int r)
{
	if (r >= BREG_AH) {
		e->no_rex = true;
		return (u8)(r - BREG_AH + 4);
	}
	if (r >= 4 && r < 8)
		e->need_rex = true;
	return (u8)r;
}

void enc_breg_reg(struct enc *e, int r)
{
	e->reg = breg_field(e, r);
}

void enc_breg_rm(struct enc *e, int r)
{
	e->rm = breg_field(e, r);
}

unsigned int g_osize(struct gen *g)
{
	static const u8 sizes[] = { 1, 1, 2, 2, 4, 4, 4, 8, 8, 8 };

	return sizes[rng_below(&g->r, ARRAY_SIZE(sizes))];
}

void g_size_prefix(struct gen *g, struct enc *e, unsigned int size)
{
	if (size == 2)
		enc_pfx(e, 0x66);
	if (size == 8) {
		e->rex |= 8;
		/* REX.W wins over 66. */
		if (rng_chance(&g->r, 1, 16))
			enc_pfx(e, 0x66);
	}
	/* An empty REX changes nothing for these sizes. */
	if ((size == 4 || size == 2) && !e->no_rex && rng_chance(&g->r, 1, 16))
		e->need_rex = true;
}

/* ---------------------------------------------------------------------- */
/* Memory operands                                                        */
/* ---------------------------------------------------------------------- */

static u64 pick_target(struct gen *g, unsigned int size, unsigned int align, unsigned int flags)
{
	struct rng *r = &g->r;
	u64 lo = DT_DATA_BASE, hi = DT_STACK_PAGE, a;

	if (!(flags & M_NOFAULT) && rng_chance(r, 1, 120)) {
		/* Into a guard page, or across into one: #PF. */
		if (rng_chance(r, 1, 2))
			return DT_DATA_END - rng_range(r, 0, size > 1 ? size - 1 : 0);
		return DT_DATA_BASE - rng_range(r, 1, 64);
	}
	/* Not in a subroutine body: its return address is there. */
	if ((flags & M_STACKOK) && !g->in_sub && rng_chance(r, 1, 8)) {
		lo = DT_STACK_PAGE;
		hi = DT_DATA_END;
	}
	a = lo + rng_below(r, (u32)(hi - lo - size + 1));
	if (align > 1 && ((flags & M_ALIGN) || rng_chance(r, 3, 4)))
		a &= ~(u64)(align - 1);
	if (a < lo)
		a += align;
	return a;
}

u64 g_target(struct gen *g, unsigned int size, unsigned int align, unsigned int flags)
{
	return pick_target(g, size, align, flags);
}

static void build_mem(struct gen *g, struct enc *e, u64 target, unsigned int flags)
{
	struct rng *r = &g->r;
	u64 ea = target;
	struct enc_mem *m = &e->mem;
	bool a32 = false;
	int seg = -1;
	unsigned int form;

	e->modrm = true;
	e->rm_mem = true;
	memset(m, 0, sizeof(*m));
	m->base = ENC_NONE;
	m->index = ENC_NONE;

	if (g->opts->fsgs && !(flags & M_NOSEG) && rng_chance(r, 1, 10)) {
		seg = rng_chance(r, 1, 2) ? 4 : 5;
		ea = target - (seg == 4 ? g->seq->init.fs_base : g->seq->init.gs_base);
	}
	if (seg < 0 && !(flags & M_NOA32) && rng_chance(r, 1, 12))
		a32 = true;

	for (;;) {
		form = rng_below(r, 8);
		if (form == 0 && (flags & M_NORIP))
			continue;
		if ((form == 3 || form == 5) && g->idx < 0)
			continue;
		if ((form == 2 || form == 3) && !g->nptr)
			continue;
		if (form == 6 && !g->s.sp_known)
			continue;
		if (e->no_rex && (form == 2 || form == 3 || form == 5))
			continue;	/* registers r8-r15 would need a REX */
		break;
	}
	switch (form) {
	case 0:		/* RIP-relative */
		m->base = ENC_RIP;
		m->rip_target = ea;
		break;
	case 1:		/* [disp32], SIB without base or index */
	case 4:
		m->disp = (s64)ea;
		break;
	case 2:		/* [ptr + disp] */
	case 3: {	/* [ptr + idx*scale + disp] */
		int p = g->ptr[rng_below(r, g->nptr)];
		s64 d = (s64)(ea - g->val[p]);

		m->base = (s8)p;
		if (form == 3) {
			m->index = (s8)g->idx;
			m->scale = (u8)rng_below(r, 4);
			d -= (s64)(g->val[g->idx] << m->scale);
		}
		m->disp = d;
		m->disp_size = (u8)(d == 0 && rng_chance(r, 3, 4) ? 0 : d >= -128 && d <= 127 ? 1 : 4);
		if (m->disp_size == 1 && rng_chance(r, 1, 8))
			m->disp_size = 4;
		m->sib = rng_chance(r, 1, 8);
		break;
	}
	case 5:		/* [idx*scale + disp32] */
		m->index = (s8)g->idx;
		m->scale = (u8)rng_below(r, 4);
		m->disp = (s64)(ea - (g->val[g->idx] << m->scale));
		break;
	case 6: {	/* [rsp + disp] */
		s64 d = (s64)(ea - (g->seq->init.gpr[GPR_RSP] + (u64)g->s.sp));

		m->base = GPR_RSP;
		m->disp = d;
		m->disp_size = (u8)(d == 0 ? 0 : d >= -128 && d <= 127 ? 1 : 4);
		break;
	}
	default: {	/* [ptr] with index and scale 0 when there is no pointer */
		if (g->nptr && !e->no_rex) {
			int p = g->ptr[rng_below(r, g->nptr)];

			m->base = (s8)p;
			m->disp = (s64)(ea - g->val[p]);
		} else {
			m->disp = (s64)ea;
		}
		break;
	}
	}
	if (seg >= 0)
		enc_pfx(e, seg == 4 ? 0x64 : 0x65);
	else if (rng_chance(r, 1, 24))
		enc_pfx(e, (u8[]){ 0x26, 0x2e, 0x36, 0x3e }[rng_below(r, 4)]);	/* ignored */
	if (a32)
		enc_pfx(e, 0x67);
}

u64 g_mem(struct gen *g, struct enc *e, unsigned int size, unsigned int align, unsigned int flags)
{
	u64 target = pick_target(g, size, align, flags);

	build_mem(g, e, target, flags);
	return target;
}

void g_mem_at(struct gen *g, struct enc *e, u64 target, unsigned int flags)
{
	build_mem(g, e, target, flags | M_NOSEG);
}

u16 g_any_mem(struct gen *g, struct enc *e)
{
	struct rng *r = &g->r;
	struct enc_mem *m = &e->mem;
	u16 rd = 0;

	e->modrm = true;
	e->rm_mem = true;
	memset(m, 0, sizeof(*m));
	m->base = ENC_NONE;
	m->index = ENC_NONE;
	switch (rng_below(r, 6)) {
	case 0:
		m->base = ENC_RIP;
		m->rip_target = DT_CODE_BASE + rng_value(r, 2);
		break;
	case 1:
		m->disp = (s32)rng_value(r, 4);
		if (rng_chance(r, 1, 2)) {
			m->index = (s8)rng_below(r, 16);
			if (m->index == GPR_RSP)
				m->index = ENC_NONE;
			m->scale = (u8)rng_below(r, 4);
		}
		break;
	default:
		m->base = (s8)rng_below(r, 16);
		if (rng_chance(r, 2, 3)) {
			m->index = (s8)rng_below(r, 16);
			if (m->index == GPR_RSP)
				m->index = ENC_NONE;
			m->scale = (u8)rng_below(r, 4);
		}
		m->disp_size = (u8[]){ 0, 1, 4 }[rng_below(r, 3)];
		m->disp = m->disp_size == 1 ? (s8)rng_value(r, 1) :
			  m->disp_size == 4 ? (s32)rng_value(r, 4) : 0;
		m->sib = rng_chance(r, 1, 8);
		break;
	}
	if (m->base >= 0 && m->base < 16)
		rd |= bit(m->base);
	if (m->index >= 0)
		rd |= bit(m->index);
	if (rng_chance(r, 1, 5))
		enc_pfx(e, 0x67);
	return rd;
}

void g_rm(struct gen *g, struct enc *e, struct rmop *o, unsigned int size, bool write,
	  unsigned int mem_pct, unsigned int mflags)
{
	e->modrm = true;
	o->mem = rng_below(&g->r, 100) < mem_pct;
	if (o->mem) {
		o->addr = g_mem(g, e, size, size, mflags);
		o->reg = -1;
		return;
	}
	if (size == 1) {
		o->reg = write ? g_wbreg(g, e) : g_rbreg(g, e);
		enc_breg_rm(e, o->reg);
	} else {
		o->reg = write ? g_wreg(g) : g_rreg(g);
		e->rm = (u8)o->reg;
	}
}

int g_regf(struct gen *g, struct enc *e, unsigned int size, bool write)
{
	int r;

	e->modrm = true;
	if (size == 1) {
		r = write ? g_wbreg(g, e) : g_rbreg(g, e);
		enc_breg_reg(e, r);
	} else {
		r = write ? g_wreg(g) : g_rreg(g);
		e->reg = (u8)r;
	}
	return r;
}

/* ---------------------------------------------------------------------- */
/* Branches                                                               */
/* ---------------------------------------------------------------------- */

void g_patch(struct gen *g, unsigned int patch, unsigned int size, s64 value)
{
	for (unsigned int i = 0; i < size; i++)
		g->seq->code[patch + i] = (u8)((u64)value >> (8 * i));
}

void g_forward(struct gen *g, unsigned int patch, unsigned int base, unsigned int size)
{
	struct pending_jump *p;

	if (g->overflow)
		return;
	if (g->s.npend >= GEN_MAX_PENDING) {
		/* Land right after the branch: still a taken branch. */
		g_patch(g, patch, size, (s64)g->s.pos - base);
		return;
	}
	p = &g->s.pend[g->s.npend++];
	p->patch = patch;
	p->base = base;
	p->size = (u8)size;
	p->left = (int)rng_range(&g->r, 0, 4);
	p->t = g->s.t;
	p->sp = g->s.sp;
	p->sp_known = g->s.sp_known;
}

static void land(struct gen *g, unsigned int i)
{
	struct pending_jump *p = &g->s.pend[i];
	struct dt_taint *t = &g->s.t;

	g_patch(g, p->patch, p->size, (s64)g->s.pos - p->base);
	t->gpr |= p->t.gpr;
	t->xmm |= p->t.xmm;
	t->flags |= p->t.flags;
	t->fsw |= p->t.fsw;
	if (!p->sp_known || p->sp != g->s.sp)
		g->s.sp_known = false;
	g->s.pend[i] = g->s.pend[--g->s.npend];
}

/* At a template boundary: lands the branches due here. */
static void land_due(struct gen *g, bool all_of_them)
{
	for (unsigned int i = 0; i < g->s.npend;) {
		if (all_of_them || g->s.pend[i].left-- <= 0)
			land(g, i);
		else
			i++;
	}
}

/* Short branches must reach their landing: 127 bytes at most. */
static bool short_ok(const struct gen *g)
{
	for (unsigned int i = 0; i < g->s.npend; i++)
		if (g->s.pend[i].size == 1 && g->s.pos - g->s.pend[i].base > 127)
			return false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* The initial state                                                      */
/* ---------------------------------------------------------------------- */

/*
 * Two random floats in one u64. Every draw from the generator's stream is
 * its own statement: the order C leaves unspecified (the operands of |,
 * an initializer list) differs between gcc's -O2 and sanitizer builds, so
 * a seed made other sequences in each, and a reproducer from one build
 * did not reproduce in the other.
 */
static u64 fp_pair(struct rng *r)
{
	u64 lo = rng_fp_bits(r, 4);

	return lo | rng_fp_bits(r, 4) << 32;
}

/* An 80-bit x87 value: normals, zeros, infinities, NaNs, denormals. */
static void f80(struct rng *r, u8 out[10])
{
	u64 mant;
	u16 se;

	switch (rng_below(r, 12)) {
	case 0:
		mant = 0;
		se = 0;
		break;
	case 1:
		mant = 1ULL << 63;
		se = 0x7fff;
		break;
	case 2:
		mant = rng_next(r) >> 2;	/* a QNaN's payload, or none */
		if (rng_chance(r, 1, 2))
			mant = 0;
		mant |= 3ULL << 62;
		se = 0x7fff;
		break;
	case 3:
		mant = rng_next(r) >> 1;	/* denormal: integer bit clear */
		se = 0;
		break;
	case 4: {
		/* An integer, so FIST/FBSTP and friends see exact values. */
		long double v = (long double)(s64)rng_value(r, rng_chance(r, 1, 2) ? 4 : 8);

		memcpy(out, &v, 10);
		return;
	}
	default:
		mant = rng_next(r) | (1ULL << 63);
		se = (u16)(0x3fff + rng_range(r, -80, 80));
		break;
	}
	if (rng_chance(r, 1, 2))
		se |= 0x8000;
	memcpy(out, &mant, 8);
	memcpy(out + 8, &se, 2);
}

static void init_fpu(struct gen *g, struct fxsave_area *fx)
{
	struct rng *r = &g->r;
	unsigned int depth = rng_below(r, 9), top = rng_below(r, 8);
	static const u32 mxcsr_var[] = {
		0x1f80, 0x1f80, 0x1f80, 0x1f80, 0x3f80, 0x5f80, 0x7f80,	/* rounding */
		0x9f80, 0x1fc0, 0x9fc0,					/* FTZ, DAZ */
		0x1f81, 0x1fbf,						/* sticky flags */
		0x1f00, 0x1d80, 0x1780, 0x0f80, 0x1e80, 0x1b80,		/* unmasked */
	};

	memset(fx, 0, sizeof(*fx));
	fx->fcw = 0x037f;
	if (rng_chance(r, 1, 4)) {
		unsigned int rc = rng_below(r, 4);
		unsigned int pc = rng_chance(r, 1, 2) ? 3 : rng_below(r, 3) == 0 ? 0 : 2;

		fx->fcw = (u16)((fx->fcw & ~0x0f00) | rc << 10 | pc << 8);
	}
	if (rng_chance(r, 1, 24))
		fx->fcw &= (u16)~(1u << rng_below(r, 6));	/* unmask one exception */
	fx->fsw = (u16)((top << 11) | (rng_next(r) & FSW_CC));
	for (unsigned int i = 0; i < depth; i++)
		fx->ftw |= (u8)(1u << ((top + i) & 7));
	for (unsigned int i = 0; i < 8; i++)
		f80(r, fx->st[i].bytes);
	fx->mxcsr = mxcsr_var[rng_below(r, ARRAY_SIZE(mxcsr_var))];
	fx->mxcsr_mask = 0xffff;
	for (unsigned int i = 0; i < 16; i++)
		for (unsigned int j = 0; j < 2; j++) {
			unsigned int kind = rng_below(r, 4);

			fx->xmm[i].q[j] = kind == 0 ? rng_next(r) :
				kind == 1 ? rng_value(r, 8) :
				kind == 2 ? rng_fp_bits(r, 8) :
				fp_pair(r);
		}
}

/* One random value for the data pages: pointers, edges, floats, small numbers. */
static u64 data_value(struct rng *r)
{
	u64 v = rng_next(r);

	switch (v & 15) {
	case 0:
		return DT_DATA_BASE + rng_below(r, DT_DATA_SIZE);	/* pointers */
	case 1:
		return rng_value(r, 8);
	case 2:
		return rng_fp_bits(r, 8);
	case 3:
		return fp_pair(r);
	case 4:
		return v & 0xff;
	default:
		return v;
	}
}

/*
 * The data pages: a window into a pool made once (from a fixed seed, so
 * runs repeat), with some values of the sequence's own on top. Filling
 * 12 KiB afresh for every sequence would cost more than running it.
 */
#define POOL_BYTES (1u << 20)

static void init_data(struct gen *g, u8 *data)
{
	static u8 *pool;
	struct rng *r = &g->r;
	unsigned int off;

	if (!pool) {
		struct rng pr;

		pool = malloc(POOL_BYTES);
		if (!pool)
			abort();
		rng_seed(&pr, 0xda7a);
		for (unsigned int i = 0; i < POOL_BYTES; i += 8) {
			u64 v = data_value(&pr);

			memcpy(pool + i, &v, 8);
		}
	}
	off = rng_below(r, (POOL_BYTES - DT_DATA_SIZE) / 8) * 8;
	memcpy(data, pool + off, DT_DATA_SIZE);
	for (int i = 0; i < 32; i++) {
		u64 v = data_value(r);

		memcpy(data + rng_below(r, DT_DATA_SIZE / 8) * 8, &v, 8);
	}
}

void dt_random_state(struct dt_seq *seq, struct rng *r, bool fsgs)
{
	struct dt_regs *st = &seq->init;
	struct gen g = { .seq = seq, .r = *r };

	for (int i = 0; i < NR_GPRS; i++)
		st->gpr[i] = rng_value(&g.r, 8);
	st->gpr[GPR_RSP] = DT_STACK_START - 8 * rng_below(&g.r, 16);
	if (rng_chance(&g.r, 1, 16))
		st->gpr[GPR_RSP] -= rng_range(&g.r, 1, 7);
	st->rip = DT_CODE_BASE;
	st->rflags = RFLAGS_IF | RFLAGS_FIXED | (rng_next(&g.r) & RF_ARITH) |
		     (rng_chance(&g.r, 1, 8) ? RF_DF : 0);
	if (fsgs) {
		/* Mostly the same bases: the soft CPU reloads its state only then. */
		st->fs_base = DT_DATA_BASE + 0x1000;
		st->gs_base = DT_DATA_BASE + 0x200;
		if (rng_chance(&g.r, 1, 32)) {
			st->fs_base += rng_below(&g.r, 0x800);
			st->gs_base += rng_below(&g.r, 0x600);
		}
	} else {
		st->fs_base = st->gs_base = 0;
	}
	init_fpu(&g, &st->fx);
	init_data(&g, seq->data);
	*r = g.r;
}

/* The pinned registers: data pointers and a small index. */
static void init_pinned(struct gen *g)
{
	struct rng *r = &g->r;
	struct dt_regs *st = &g->seq->init;
	unsigned int nptr = rng_range(r, 1, 3);

	g->pinned = bit(GPR_RSP);
	g->nptr = 0;
	while (g->nptr < nptr) {
		int p = (int)rng_below(r, NR_GPRS);

		if (g->pinned & bit(p))
			continue;
		g->ptr[g->nptr++] = (u8)p;
		g->pinned |= bit(p);
		st->gpr[p] = DT_DATA_BASE + 0x40 + rng_below(r, 0x1f80);
		if (rng_chance(r, 1, 2))
			st->gpr[p] &= ~15ULL;
	}
	g->idx = -1;
	if (rng_chance(r, 3, 4)) {
		do
			g->idx = (int)rng_below(r, NR_GPRS);
		while (g->pinned & bit(g->idx));
		g->pinned |= bit(g->idx);
		st->gpr[g->idx] = (u64)rng_range(r, -8, 24);
	}
	for (int i = 0; i < NR_GPRS; i++)
		g->val[i] = st->gpr[i];
}

/* ---------------------------------------------------------------------- */
/* Sequences                                                              */
/* ---------------------------------------------------------------------- */

static const struct tmpl *pick(struct gen *g, unsigned int *index)
{
	static u32 *cum;
	static u32 total;
	static const char *cum_only, *cum_skip;

	if (!cum || cum_only != g->opts->only || cum_skip != g->opts->skip) {
		const char *skip = g->opts->skip;

		free(cum);
		cum = calloc(nall, sizeof(*cum));
		total = 0;
		for (unsigned int i = 0; i < nall; i++) {
			const char *only = g->opts->only;

			if ((!only || strstr(all[i]->name, only) || strstr(all[i]->group, only)) &&
			    (!skip || (!strstr(all[i]->name, skip) && !strstr(all[i]->group, skip))))
				total += all[i]->weight;
			cum[i] = total;
		}
		cum_only = g->opts->only;
		cum_skip = g->opts->skip;
		if (!total) {
			fprintf(stderr, "difftest: no template matches \"%s\"\n", g->opts->only);
			exit(2);
		}
	}
	u32 x = rng_below(&g->r, total);
	unsigned int lo = 0, hi = nall - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	*index = lo;
	return all[lo];
}

void gen_sequence(struct dt_seq *seq, u64 seed, const struct gen_opts *opts,
		  const u64 *keep, unsigned int *ncalls)
{
	struct gen g = { .seq = seq, .opts = opts };
	unsigned int calls;

	build_list();
	memset(&seq->end, 0, sizeof(seq->end));
	seq->seed = seed;
	seq->origin = "gen";
	seq->note[0] = 0;
	rng_seed(&g.r, rng_derive(seed, 0));
	dt_random_state(seq, &g.r, opts->fsgs);
	init_pinned(&g);
	g.s.sp_known = true;
	calls = (unsigned int)rng_range(&g.r, MIN_CALLS, MAX_CALLS);
	if (ncalls)
		*ncalls = calls;

	for (unsigned int i = 0; i < calls; i++) {
		struct gen_state snap;
		unsigned int index;
		const struct tmpl *t;

		rng_seed(&g.r, rng_derive(seed, i + 1));
		t = pick(&g, &index);
		if (keep && !(keep[i / 64] >> (i % 64) & 1))
			continue;
		land_due(&g, false);
		for (int attempt = 0; attempt < 2; attempt++) {
			snap = g.s;
			g.tmpl = (u16)index;
			g.group = (u16)i;
			g.overflow = false;
			t->emit(&g, t);
			if (!g.overflow && short_ok(&g))
				break;
			/* Undo; land everything pending first and try once more. */
			g.s = snap;
			if (attempt == 0 && g.s.npend && !g.overflow) {
				land_due(&g, true);
				rng_seed(&g.r, rng_derive(seed, i + 1));
				pick(&g, &index);
				continue;
			}
			break;
		}
	}
	land_due(&g, true);
	seq->len = g.s.pos;
	seq->n = g.s.n;
	seq->end = g.s.t;
	dt_seal(seq);
}

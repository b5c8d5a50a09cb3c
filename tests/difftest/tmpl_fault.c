// SPDX-License-Identifier: Apache-2.0
/*
 * Instructions that must fault at CPL 3, and faults on purpose: both sides
 * must report the same vector, error code (and CR2), at the same RIP, with
 * the same state.
 *
 * Not generated, and why:
 *  - SGDT SIDT SLDT STR SMSW: with UMIP the host kernel emulates (spoofs)
 *    some of them; the result is the host OS's, not the CPU's.
 *  - LAR LSL VERR VERW, MOV/POP to a segment register: they read the
 *    host's GDT, which the soft CPU does not share.
 *  - INT n (but INT3): whether it faults depends on the host kernel's
 *    gate DPLs, which a standalone CPU (exceptions reported, not
 *    delivered) does not have. INT 0x80 and SYSCALL/SYSENTER would enter
 *    the host kernel.
 *  - RDTSC RDTSCP RDPMC RDRAND RDSEED CPUID: non-deterministic, or differ
 *    by design (the soft CPU's CPUID is its own); RDPMC also depends on
 *    the host's CR4.PCE.
 *  - 62, C4, C5 (EVEX/VEX in 64-bit mode), 0F 38/0F 3A beyond SSE2, 8F
 *    /1-7 (XOP on AMD), C6/C7 F8 (XABORT/XBEGIN): the host runs extensions
 *    the soft CPU does not advertise.
 */
#include "gen.h"

static void emit_bytes(struct gen *g, const u8 *b, unsigned int n)
{
	struct enc e = { .op = b[0] };

	/* The encoder puts op first, then the fixed suffix. */
	if (n > 1) {
		for (unsigned int i = 1; i < n && i - 1 < sizeof(e.suffix); i++)
			e.suffix[e.nsuffix++] = b[i];
	}
	g_insn(g, &e);
	g_apply(g, &(struct fx){ 0 });
}

/* Privileged at CPL 3: #GP(0). */
static void t_priv(struct gen *g, const struct tmpl *t)
{
	static const u8 forms[][4] = {
		{ 1, 0xf4 },			/* hlt */
		{ 1, 0xfa },			/* cli (IOPL 0) */
		{ 1, 0xfb },			/* sti */
		{ 2, 0xe4, 0x80 },		/* in $0x80, %al */
		{ 2, 0xe5, 0x70 },		/* in $0x70, %eax */
		{ 1, 0xec },			/* in %dx, %al */
		{ 2, 0xe6, 0x80 },		/* out %al, $0x80 */
		{ 1, 0xef },			/* out %eax, %dx */
		{ 1, 0x6c },			/* insb */
		{ 1, 0x6f },			/* outsl */
		{ 2, 0x0f, 0x32 },		/* rdmsr */
		{ 2, 0x0f, 0x30 },		/* wrmsr */
		{ 3, 0x0f, 0x20, 0xc0 },	/* mov %cr0, %rax */
		{ 3, 0x0f, 0x22, 0xd8 },	/* mov %rax, %cr3 */
		{ 3, 0x0f, 0x20, 0xe0 },	/* mov %cr4, %rax */
		{ 3, 0x0f, 0x21, 0xf8 },	/* mov %dr7, %rax */
		{ 3, 0x0f, 0x23, 0xc0 },	/* mov %rax, %dr0 */
		{ 2, 0x0f, 0x06 },		/* clts */
		{ 2, 0x0f, 0x09 },		/* wbinvd */
		{ 2, 0x0f, 0x08 },		/* invd */
		{ 3, 0x0f, 0x01, 0xf8 },	/* swapgs */
		{ 2, 0x0f, 0x07 },		/* sysret */
		{ 3, 0x0f, 0x00, 0xd0 },	/* lldt %ax */
		{ 3, 0x0f, 0x00, 0xd8 },	/* ltr %ax */
		{ 3, 0x0f, 0x01, 0xf0 },	/* lmsw %ax */
	};
	static const u8 mforms[][3] = {
		{ 0x01, 2 },			/* lgdt m */
		{ 0x01, 3 },			/* lidt m */
		{ 0x01, 7 },			/* invlpg m */
		{ 0x00, 2 },			/* lldt m16 */
		{ 0x00, 3 },			/* ltr m16 */
		{ 0x01, 6 },			/* lmsw m16 */
	};

	(void)t;
	if (rng_chance(&g->r, 1, 4)) {
		const u8 *m = mforms[rng_below(&g->r, ARRAY_SIZE(mforms))];
		struct enc e = { .map = 1, .op = m[0], .reg = m[1] };

		g_mem(g, &e, 10, 1, M_NOFAULT);
		g_insn(g, &e);
		g_apply(g, &(struct fx){ 0 });
		return;
	}
	const u8 *f = forms[rng_below(&g->r, ARRAY_SIZE(forms))];

	emit_bytes(g, f + 1, f[0]);
}

/* Undefined encodings: #UD. */
static void t_undef(struct gen *g, const struct tmpl *t)
{
	/* One-byte opcodes invalid in 64-bit mode, and the 0F holes. */
	static const u8 one[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37,
				  0x3f, 0x60, 0x61, 0x82, 0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea };
	static const u8 two[] = { 0x04, 0x0a, 0x0b, 0x0c, 0x0e, 0x0f, 0x24, 0x25, 0x26, 0x27,
				  0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0xa6, 0xa7, 0xaa };
	u8 b[8];

	(void)t;
	switch (rng_below(&g->r, 5)) {
	case 0:
		b[0] = one[rng_below(&g->r, ARRAY_SIZE(one))];
		emit_bytes(g, b, 1);
		break;
	case 1:
		b[0] = 0x0f;
		b[1] = two[rng_below(&g->r, ARRAY_SIZE(two))];
		emit_bytes(g, b, 2);
		break;
	case 2: {
		/* UD1 and UD0 take a ModRM. */
		struct enc e = { .map = 1, .op = rng_chance(&g->r, 1, 2) ? 0xb9 : 0xff, .modrm = true };

		e.reg = (u8)rng_below(&g->r, 8);	/* one draw a statement (gen.c fp_pair()) */
		e.rm = (u8)rng_below(&g->r, 8);

		g_insn(g, &e);
		g_apply(g, &(struct fx){ 0 });
		break;
	}
	case 3: {
		/* Reserved ModRM.reg values: FE /2-7, FF /7, C6/C7 /1-6, 8D reg, FF /3,/5 reg. */
		static const u8 grp[][3] = {
			{ 0xfe, 2, 7 }, { 0xff, 7, 7 }, { 0xc6, 1, 6 }, { 0xc7, 1, 6 },
		};
		const u8 *p = grp[rng_below(&g->r, ARRAY_SIZE(grp))];
		struct enc e = { .op = p[0], .modrm = true };

		e.reg = (u8)rng_range(&g->r, p[1], p[2]);
		e.rm = (u8)rng_below(&g->r, 8);

		if (rng_chance(&g->r, 1, 2)) {
			e.op = 0x8d;	/* lea with a register operand */
			e.reg = (u8)rng_below(&g->r, 8);
		} else if (rng_chance(&g->r, 1, 3)) {
			e.op = 0xff;	/* far call/jmp need memory */
			e.reg = rng_chance(&g->r, 1, 2) ? 3 : 5;
		}
		if (e.op == 0xc6 || e.op == 0xc7)
			e.imm_size = e.op == 0xc6 ? 1 : 4;
		g_insn(g, &e);
		g_apply(g, &(struct fx){ 0 });
		break;
	}
	default: {
		/* LOCK where it is not allowed: register forms, MOV, NOP, CMP. */
		struct enc e = { .modrm = true, .reg = (u8)rng_below(&g->r, 8),
				 .rm = (u8)rng_below(&g->r, 8) };

		switch (rng_below(&g->r, 4)) {
		case 0: e.op = 0x01; break;		/* add reg, reg */
		case 1: e.op = 0x89; break;		/* mov */
		case 2: e.op = 0x39; g_mem(g, &e, 4, 4, M_NOFAULT); break;	/* cmp mem */
		default: e.op = 0x90; e.modrm = false; break;
		}
		enc_pfx(&e, 0xf0);
		g_insn(g, &e);
		g_apply(g, &(struct fx){ 0 });
		break;
	}
	}
}

/* Too long (over 15 bytes, #GP(0)), or exactly 15 (fine). */
static void t_long(struct gen *g, const struct tmpl *t)
{
	static const u8 fill[] = { 0x66, 0x3e, 0x2e, 0x26, 0x36, 0x64, 0x65 };
	struct enc e = { .op = 0x81, .modrm = true, .reg = 0, .rm = 0, .imm_size = 4 };
	unsigned int n = (unsigned int)rng_range(&g->r, 9, 11);
	bool o16 = false;

	(void)t;
	if (g->pinned & bit(GPR_RAX))
		return;
	/* add $imm32, %eax: 6 bytes; with n prefixes 15..17. */
	for (unsigned int i = 0; i < n; i++) {
		u8 p = fill[rng_below(&g->r, ARRAY_SIZE(fill))];

		o16 |= p == 0x66;
		enc_pfx(&e, p);
	}
	if (o16)
		e.imm_size = 2;
	e.imm = g_value(g, e.imm_size);
	if (e.imm_size == 2) {
		/* Keep the length: pad with one more prefix. */
		enc_pfx(&e, 0x66);
	}
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .rd = bit(GPR_RAX), .wr_part = bit(GPR_RAX), .fdef = RF_ARITH });
}

/* INT3 (CC), INT 3 (CD 03), INT1 (F1): traps, RIP after the instruction. */
static void t_trap(struct gen *g, const struct tmpl *t)
{
	static const u8 forms[][3] = { { 1, 0xcc }, { 2, 0xcd, 0x03 }, { 1, 0xf1 } };
	const u8 *f = forms[rng_below(&g->r, ARRAY_SIZE(forms))];

	(void)t;
	emit_bytes(g, f + 1, f[0]);
}

/* DIV by zero: #DE. */
static void t_divzero(struct gen *g, const struct tmpl *t)
{
	int r = g_wreg(g);
	unsigned int size = 4u << rng_below(&g->r, 2);
	struct enc zero = { .op = 0x31, .modrm = true, .reg = (u8)r, .rm = (u8)r };
	struct enc div = { .op = 0xf7, .modrm = true, .reg = (u8)(6 + rng_below(&g->r, 2)),
			   .rm = (u8)r };

	(void)t;
	if (g->pinned & (bit(GPR_RAX) | bit(GPR_RDX)))
		return;
	g_insn(g, &zero);
	g_apply(g, &(struct fx){ .wr = bit(r), .fdef = RF_ARITH & ~RF_AF, .fundef = RF_AF });
	if (size == 8)
		div.rex = 8;
	g_def_regs(g, bit(GPR_RAX) | bit(GPR_RDX));
	g_insn(g, &div);
	g_apply(g, &(struct fx){ .rd = bit(r) | bit(GPR_RAX) | bit(GPR_RDX),
				  .wr = bit(GPR_RAX) | bit(GPR_RDX), .fundef = RF_ARITH });
}

/*
 * A wild pointer: non-canonical (#GP(0), or #SS(0) through RBP/RSP-based
 * addressing), kernel half, near NULL, just below the top of user space
 * (#PF). a = 0 load, 1 store.
 */
static void t_wild(struct gen *g, const struct tmpl *t)
{
	static const u64 wild[] = {
		0x8000000000000000ULL, 0x0000800000000000ULL, 0x7fffffffffffffffULL,
		0xffff7fffffffffffULL, 0xffffffff81000000ULL, 0xffff800000000000ULL,
		0x10ULL, 0x0ULL, 0x7ffffffff000ULL, 0x7ffffffffff8ULL, 0xfffffffffffffff8ULL,
	};
	bool rbp = rng_chance(&g->r, 1, 3) && !(g->pinned & bit(GPR_RBP));
	int r = rbp ? GPR_RBP : g_wreg(g), v = g_wreg(g);
	struct enc mv = { .op = (u8)(0xb8 + (r & 7)), .rex = (u8)(8 | (r >= 8)), .imm_size = 8,
			  .imm = wild[rng_below(&g->r, ARRAY_SIZE(wild))] };
	struct enc e = { .op = t->a ? 0x89 : 0x8b, .modrm = true, .rm_mem = true, .rex = 8,
			 .reg = (u8)v };

	g_insn(g, &mv);
	g_apply(g, &(struct fx){ .wr = bit(r) });
	e.mem.base = (s8)r;
	e.mem.index = ENC_NONE;
	e.mem.disp = rng_chance(&g->r, 1, 2) ? 0 : rng_range(&g->r, -64, 64);
	if (t->a)
		g_def_regs(g, bit(v));
	g_insn(g, &e);
	g_apply(g, &(struct fx){ .rd = bit(r) | bit(v), .wr = t->a ? 0 : bit(v), .mem_wr = t->a });
}

static const struct tmpl list[] = {
	{ "privileged", "fault", t_priv, 0, 0, 3, 0 },
	{ "undefined", "fault", t_undef, 0, 0, 3, 0 },
	{ "too_long", "fault", t_long, 0, 0, 2, 0 },
	{ "int3_int1", "fault", t_trap, 0, 0, 2, 0 },
	{ "div_zero", "fault", t_divzero, 0, 0, 2, 0 },
	{ "wild_load", "fault", t_wild, 0, 0, 2, 0 },
	{ "wild_store", "fault", t_wild, 1, 0, 2, 0 },
};

const struct tmpl_table tmpl_fault = { list, ARRAY_SIZE(list) };

// SPDX-License-Identifier: Apache-2.0
/*
 * x86 instruction decoder: prefixes, the one-byte, 0F, 0F38 and 0F3A maps,
 * ModRM/SIB/displacement/immediates, and the choice of handler. It runs
 * once per instruction per translated block, never on the hot path.
 *
 * The decoder copies at most 15 bytes into a zero-padded buffer and reads
 * only that, so it cannot overrun its input; whatever it concluded from
 * padding bytes is discarded by the length checks at the end.
 */
#include "engine/soft/cpu.h"

#include <string.h>

#include "engine/soft/ops.h"

#define MAX_INSN_LEN 15

/* Parse flags of an opcode. */
#define P_MODRM		(1u << 0)
#define P_BYTE		(1u << 1)	/* 8-bit operand size */
#define P_I8		(1u << 2)	/* imm8, zero-extended */
#define P_I8S		(1u << 3)	/* imm8, sign-extended */
#define P_IZ		(1u << 4)	/* imm16/32 by operand size, sign-extended */
#define P_IV		(1u << 5)	/* imm16/32/64 by operand size */
#define P_I16		(1u << 6)
#define P_D64		(1u << 7)	/* 64-bit default operand size in 64-bit mode */
#define P_F64		(1u << 8)	/* always 64-bit operand size in 64-bit mode */
#define P_INV64		(1u << 9)	/* #UD in 64-bit mode */
#define P_J		(1u << 10)	/* relative branch, displacement per imm flags */
#define P_END		(1u << 11)	/* ends the block */
#define P_MOFFS		(1u << 12)
#define P_FAR		(1u << 13)	/* ptr16:16/32 */
#define P_UD		(1u << 14)	/* undefined opcode */

#define ALU6 P_MODRM | P_BYTE, P_MODRM, P_MODRM | P_BYTE, P_MODRM, P_BYTE | P_I8, P_IZ

static const u16 onebyte[256] = {
	/* 00 */ ALU6, P_INV64, P_INV64 | P_END,
	/* 08 */ ALU6, P_INV64, 0,
	/* 10 */ ALU6, P_INV64, P_INV64 | P_END,
	/* 18 */ ALU6, P_INV64, P_INV64,
	/* 20 */ ALU6, 0, P_INV64,
	/* 28 */ ALU6, 0, P_INV64,
	/* 30 */ ALU6, 0, P_INV64,
	/* 38 */ ALU6, 0, P_INV64,
	/* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 50 */ P_D64, P_D64, P_D64, P_D64, P_D64, P_D64, P_D64, P_D64,
	/* 58 */ P_D64, P_D64, P_D64, P_D64, P_D64, P_D64, P_D64, P_D64,
	/* 60 */ P_INV64, P_INV64, P_INV64 | P_MODRM, P_MODRM, 0, 0, 0, 0,
	/* 68 */ P_D64 | P_IZ, P_MODRM | P_IZ, P_D64 | P_I8S, P_MODRM | P_I8S,
	/* 6c */ P_BYTE, 0, P_BYTE, 0,
	/* 70 */ [0x70 ... 0x7f] = P_J | P_I8S | P_F64 | P_END,
	/* 80 */ [0x80] = P_MODRM | P_BYTE | P_I8, [0x81] = P_MODRM | P_IZ,
	[0x82] = P_MODRM | P_BYTE | P_I8 | P_INV64, [0x83] = P_MODRM | P_I8S,
	[0x84] = P_MODRM | P_BYTE, [0x85] = P_MODRM,
	[0x86] = P_MODRM | P_BYTE, [0x87] = P_MODRM,
	[0x88] = P_MODRM | P_BYTE, [0x89] = P_MODRM,
	[0x8a] = P_MODRM | P_BYTE, [0x8b] = P_MODRM,
	[0x8c] = P_MODRM, [0x8d] = P_MODRM, [0x8e] = P_MODRM | P_END,
	[0x8f] = P_MODRM | P_D64,
	[0x90 ... 0x97] = 0, [0x98] = 0, [0x99] = 0,
	[0x9a] = P_FAR | P_INV64 | P_END, [0x9b] = 0,
	[0x9c] = P_D64, [0x9d] = P_D64 | P_END, [0x9e] = 0, [0x9f] = 0,
	[0xa0] = P_MOFFS | P_BYTE, [0xa1] = P_MOFFS, [0xa2] = P_MOFFS | P_BYTE, [0xa3] = P_MOFFS,
	[0xa4] = P_BYTE, [0xa5] = 0, [0xa6] = P_BYTE, [0xa7] = 0,
	[0xa8] = P_BYTE | P_I8, [0xa9] = P_IZ,
	[0xaa] = P_BYTE, [0xab] = 0, [0xac] = P_BYTE, [0xad] = 0, [0xae] = P_BYTE, [0xaf] = 0,
	[0xb0 ... 0xb7] = P_BYTE | P_I8,
	[0xb8 ... 0xbf] = P_IV,
	[0xc0] = P_MODRM | P_BYTE | P_I8, [0xc1] = P_MODRM | P_I8,
	[0xc2] = P_I16 | P_F64 | P_END, [0xc3] = P_F64 | P_END,
	[0xc4] = P_MODRM | P_INV64 | P_END, [0xc5] = P_MODRM | P_INV64 | P_END,
	[0xc6] = P_MODRM | P_BYTE | P_I8, [0xc7] = P_MODRM | P_IZ,
	[0xc8] = P_I16 | P_D64, [0xc9] = P_D64,
	[0xca] = P_I16 | P_END, [0xcb] = P_END,
	[0xcc] = P_END, [0xcd] = P_I8 | P_END, [0xce] = P_INV64 | P_END, [0xcf] = P_END,
	[0xd0] = P_MODRM | P_BYTE, [0xd1] = P_MODRM, [0xd2] = P_MODRM | P_BYTE, [0xd3] = P_MODRM,
	[0xd4] = P_I8 | P_INV64, [0xd5] = P_I8 | P_INV64, [0xd6] = P_INV64, [0xd7] = 0,
	[0xd8 ... 0xdf] = P_MODRM,
	[0xe0 ... 0xe3] = P_J | P_I8S | P_F64 | P_END,
	[0xe4] = P_I8 | P_BYTE, [0xe5] = P_I8, [0xe6] = P_I8 | P_BYTE, [0xe7] = P_I8,
	[0xe8] = P_J | P_IZ | P_F64 | P_END, [0xe9] = P_J | P_IZ | P_F64 | P_END,
	[0xea] = P_FAR | P_INV64 | P_END, [0xeb] = P_J | P_I8S | P_F64 | P_END,
	[0xec] = P_BYTE, [0xed] = 0, [0xee] = P_BYTE, [0xef] = 0,
	[0xf0] = 0, [0xf1] = P_END, [0xf2] = 0, [0xf3] = 0,
	[0xf4] = P_END, [0xf5] = 0, [0xf6] = P_MODRM | P_BYTE, [0xf7] = P_MODRM,
	[0xf8 ... 0xfa] = 0, [0xfb] = P_END, [0xfc] = 0, [0xfd] = 0,
	[0xfe] = P_MODRM | P_BYTE, [0xff] = P_MODRM,
};

static const u16 twobyte[256] = {
	[0x00] = P_MODRM | P_END, [0x01] = P_MODRM | P_END, [0x02] = P_MODRM, [0x03] = P_MODRM,
	[0x04] = P_UD, [0x05] = P_END, [0x06] = P_END, [0x07] = P_END,
	[0x08] = 0, [0x09] = 0, [0x0a] = P_UD, [0x0b] = P_END, [0x0c] = P_UD,
	[0x0d] = P_MODRM, [0x0e] = P_UD, [0x0f] = P_UD,
	[0x10 ... 0x17] = P_MODRM, [0x18 ... 0x1f] = P_MODRM,
	[0x20 ... 0x23] = P_MODRM | P_END, [0x24 ... 0x27] = P_UD,
	[0x28 ... 0x2f] = P_MODRM,
	[0x30] = P_END, [0x31] = 0, [0x32] = 0, [0x33] = 0, [0x34] = P_UD, [0x35] = P_UD,
	[0x36] = P_UD, [0x37] = P_UD, [0x38] = P_MODRM, [0x39] = P_UD, [0x3a] = P_MODRM | P_I8,
	[0x3b ... 0x3f] = P_UD,
	[0x40 ... 0x4f] = P_MODRM,
	[0x50 ... 0x6f] = P_MODRM, [0x70 ... 0x73] = P_MODRM | P_I8, [0x74 ... 0x76] = P_MODRM,
	[0x77] = 0, [0x78 ... 0x7f] = P_MODRM,
	[0x80 ... 0x8f] = P_J | P_IZ | P_F64 | P_END,
	[0x90 ... 0x9f] = P_MODRM | P_BYTE,
	[0xa0] = P_D64, [0xa1] = P_D64 | P_END, [0xa2] = 0, [0xa3] = P_MODRM,
	[0xa4] = P_MODRM | P_I8, [0xa5] = P_MODRM, [0xa6] = P_UD, [0xa7] = P_UD,
	[0xa8] = P_D64, [0xa9] = P_D64 | P_END, [0xaa] = P_UD, [0xab] = P_MODRM,
	[0xac] = P_MODRM | P_I8, [0xad] = P_MODRM, [0xae] = P_MODRM, [0xaf] = P_MODRM,
	[0xb0] = P_MODRM | P_BYTE, [0xb1] = P_MODRM, [0xb2] = P_MODRM | P_END, [0xb3] = P_MODRM,
	[0xb4] = P_MODRM, [0xb5] = P_MODRM, [0xb6] = P_MODRM, [0xb7] = P_MODRM,
	[0xb8] = P_MODRM, [0xb9] = P_MODRM, [0xba] = P_MODRM | P_I8, [0xbb] = P_MODRM,
	[0xbc ... 0xbf] = P_MODRM,
	[0xc0] = P_MODRM | P_BYTE, [0xc1] = P_MODRM, [0xc2] = P_MODRM | P_I8, [0xc3] = P_MODRM,
	[0xc4] = P_MODRM | P_I8, [0xc5] = P_MODRM | P_I8, [0xc6] = P_MODRM | P_I8, [0xc7] = P_MODRM,
	[0xc8 ... 0xcf] = 0,
	[0xd0 ... 0xfe] = P_MODRM, [0xff] = P_MODRM,
};

struct dstate {
	u8 buf[48];		/* zero padded: reads past the input are harmless */
	unsigned int pos;
	enum cpu_mode mode;
	u8 rex;
	bool opsz, adsz, lock;
	u8 rep;			/* 0, 0xf2 or 0xf3: the last of them */
	u8 mand;		/* enum sse_prefix */
	u8 map;
	u8 op;
	u8 modrm;
	u16 pflags;
};

static u8 get8(struct dstate *d)
{
	return d->buf[d->pos++];
}

static u64 get_le(struct dstate *d, unsigned int n)
{
	u64 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (u64)get8(d) << (8 * i);
	return v;
}

static bool rex_w(const struct dstate *d) { return d->rex & 8; }
static unsigned int rex_r(const struct dstate *d) { return (d->rex & 4) << 1; }
static unsigned int rex_x(const struct dstate *d) { return (d->rex & 2) << 2; }
static unsigned int rex_b(const struct dstate *d) { return (d->rex & 1) << 3; }

/* A byte register number as gpr8() wants it: AH..BH without REX. */
static u8 byte_reg(const struct dstate *d, unsigned int r)
{
	if (!d->rex && r >= 4 && r < 8)
		return 0x10 | (r - 4);
	return r;
}

static bool mod_is_reg(const struct dstate *d)
{
	return (d->modrm >> 6) == 3;
}

static unsigned int modrm_reg(const struct dstate *d)
{
	return (d->modrm >> 3) & 7;
}

/* ModRM memory operand: base, index, scale, displacement and segment. */
static void decode_modrm_mem(struct dstate *d, struct insn *in, int seg_override)
{
	unsigned int mod = d->modrm >> 6, rm = d->modrm & 7;
	int seg = SEG_DS;

	in->flags |= INSN_MEM;
	in->base = REG_ZERO;
	in->index = REG_ZERO;
	if (in->asize == 2) {
		static const u8 base16[8] = { GPR_RBX, GPR_RBX, GPR_RBP, GPR_RBP, REG_ZERO, REG_ZERO, GPR_RBP, GPR_RBX };
		static const u8 index16[8] = { GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, REG_ZERO, REG_ZERO };

		if (mod == 0 && rm == 6) {
			in->disp = get_le(d, 2);
		} else {
			in->base = base16[rm];
			in->index = index16[rm];
			if (in->base == GPR_RBP)
				seg = SEG_SS;
			if (mod == 1)
				in->disp = (u64)(s64)(s8)get8(d);
			else if (mod == 2)
				in->disp = get_le(d, 2);
		}
	} else {
		unsigned int base;

		if (rm == 4) {
			u8 sib = get8(d);
			unsigned int index = ((sib >> 3) & 7) | rex_x(d);

			in->scale = sib >> 6;
			if (index != 4)
				in->index = index;
			base = sib & 7;
			if (base == 5 && mod == 0) {
				in->disp = (u64)(s64)(s32)get_le(d, 4);
				base = REG_ZERO;
			} else {
				base |= rex_b(d);
			}
		} else if (rm == 5 && mod == 0) {
			in->disp = (u64)(s64)(s32)get_le(d, 4);
			base = REG_ZERO;
			if (d->mode == CPU_MODE_64)
				in->dflags |= 0x80;	/* RIP-relative: fixed up by the caller */
		} else {
			base = rm | rex_b(d);
		}
		in->base = base;
		if (base == GPR_RSP || base == GPR_RBP)
			seg = SEG_SS;
		if (mod == 1)
			in->disp = (u64)(s64)(s8)get8(d);
		else if (mod == 2)
			in->disp = (u64)(s64)(s32)get_le(d, 4);
	}
	in->seg = seg_override >= 0 ? seg_override : seg;
}

static u64 get_imm(struct dstate *d, unsigned int size, bool sign)
{
	u64 v = get_le(d, size);

	if (!sign)
		return v;
	switch (size) {
	case 1: return (u64)(s64)(s8)v;
	case 2: return (u64)(s64)(s16)v;
	case 4: return (u64)(s64)(s32)v;
	default: return v;
	}
}

static unsigned int sz(const struct insn *in)
{
	return __builtin_ctz(in->osize);
}

/* Two-operand E,G / G,E forms of the ALU, MOV, TEST tables. */
static insn_fn pick_eg(struct dstate *d, struct insn *in, const insn_fn t[NR_FORMS][4], bool g_is_dst)
{
	unsigned int s = sz(in);

	if (in->flags & INSN_MEM)
		return t[g_is_dst ? FORM_RM : FORM_MR][s];
	if (g_is_dst) {
		u8 r = in->reg;

		in->reg = in->rm;
		in->rm = r;
	}
	(void)d;
	return t[FORM_RR][s];
}

static insn_fn pick_ei(struct insn *in, const insn_fn t[NR_FORMS][4])
{
	return t[in->flags & INSN_MEM ? FORM_MI : FORM_RI][sz(in)];
}

/* LOCK is legal only on these, and only with a memory destination. */
static bool lock_ok(const struct dstate *d, const struct insn *in)
{
	unsigned int op = d->op, r = modrm_reg(d);

	if (!(in->flags & INSN_MEM))
		return false;
	if (d->map == 0) {
		if (op < 0x40 && (op & 7) < 2 && (op >> 3) != 7)
			return true;
		switch (op) {
		case 0x80: case 0x81: case 0x82: case 0x83:
			return r != 7;
		case 0x86: case 0x87:
			return true;
		case 0xf6: case 0xf7:
			return r == 2 || r == 3;
		case 0xfe: case 0xff:
			return r <= 1;
		}
		return false;
	}
	if (d->map == 1) {
		switch (op) {
		case 0xab: case 0xb3: case 0xbb: case 0xb0: case 0xb1: case 0xc0: case 0xc1:
			return true;
		case 0xba:
			return r >= 5;
		case 0xc7:
			return r == 1;
		}
	}
	return false;
}

static insn_fn select_onebyte(struct dstate *d, struct insn *in)
{
	unsigned int op = d->op, r = modrm_reg(d), s = sz(in);

	if (op < 0x40 && (op & 7) < 6) {
		unsigned int alu = op >> 3;

		switch (op & 7) {
		case 0: case 1: return pick_eg(d, in, op_alu[alu], false);
		case 2: case 3: return pick_eg(d, in, op_alu[alu], true);
		default:
			in->rm = GPR_RAX;
			return op_alu[alu][FORM_RI][s];
		}
	}
	switch (op) {
	case 0x06: case 0x0e: case 0x16: case 0x1e:
		in->sub = op >> 3;
		return op_push_seg;
	case 0x07: case 0x17: case 0x1f:
		in->sub = op >> 3;
		return op_pop_seg;
	case 0x27: in->sub = 0; return op_bcd;
	case 0x2f: in->sub = 1; return op_bcd;
	case 0x37: in->sub = 2; return op_bcd;
	case 0x3f: in->sub = 3; return op_bcd;
	case 0x40 ... 0x47:
		in->rm = op & 7;
		return op_incdec[0][0][s];
	case 0x48 ... 0x4f:
		in->rm = op & 7;
		return op_incdec[1][0][s];
	case 0x50 ... 0x57:
		in->reg = (op & 7) | rex_b(d);
		return op_push_reg[s];
	case 0x58 ... 0x5f:
		in->reg = (op & 7) | rex_b(d);
		return op_pop_reg[s];
	case 0x60: return op_pusha;
	case 0x61: return op_popa;
	case 0x62: return NULL;		/* BOUND: not implemented (#UD) */
	case 0x63:
		if (d->mode != CPU_MODE_64)
			return NULL;	/* ARPL: only in 16-bit protected mode, #UD here */
		if (!rex_w(d)) {
			/* MOVSXD without REX.W is a plain 32/16-bit move. */
			return pick_eg(d, in, op_mov, true);
		}
		in->sub = 4;
		return op_movsx;
	case 0x68: case 0x6a:
		return op_push_imm;
	case 0x69: case 0x6b:
		return op_imul2[s];
	case 0x6c: case 0x6d: return op_ins;
	case 0x6e: case 0x6f: return op_outs;
	case 0x70 ... 0x7f:
		in->sub = op & 15;
		return op_jcc[op & 15];
	case 0x80: case 0x81: case 0x82: case 0x83:
		return pick_ei(in, op_alu[r]);
	case 0x84: case 0x85:
		return pick_eg(d, in, op_alu[ALU_TEST], false);
	case 0x86: case 0x87:
		return op_xchg;
	case 0x88: case 0x89: return pick_eg(d, in, op_mov, false);
	case 0x8a: case 0x8b: return pick_eg(d, in, op_mov, true);
	case 0x8c:
		if (r > 5)
			return NULL;
		in->sub = r;
		if (in->flags & INSN_MEM)
			in->osize = 2;
		return op_mov_from_seg;
	case 0x8d:
		if (!(in->flags & INSN_MEM))
			return NULL;
		return op_lea;
	case 0x8e:
		if (r > 5 || r == SEG_CS)
			return NULL;
		in->sub = r;
		in->osize = 2;
		return op_mov_to_seg;
	case 0x8f:
		if (r != 0)
			return NULL;
		return op_pop_rm;
	case 0x90:
		if (rex_b(d)) {
			in->rm = 8;
			in->reg = GPR_RAX;
			return op_xchg;
		}
		if (d->rep == 0xf3)
			return op_pause;
		return op_nop;
	case 0x91 ... 0x97:
		in->rm = (op & 7) | rex_b(d);
		in->reg = GPR_RAX;
		return op_xchg;
	case 0x98: return op_cbw;
	case 0x99: return op_cwd;
	case 0x9a: return op_call_far;
	case 0x9b: return op_fwait;
	case 0x9c: return op_pushf;
	case 0x9d: return op_popf;
	case 0x9e: return op_sahf;
	case 0x9f:
		return op_lahf;
	case 0xa0: case 0xa1: return op_mov_moffs_load;
	case 0xa2: case 0xa3: return op_mov_moffs_store;
	case 0xa4: case 0xa5: return op_movs;
	case 0xa6: case 0xa7: return op_cmps;
	case 0xa8: case 0xa9:
		in->rm = GPR_RAX;
		return op_alu[ALU_TEST][FORM_RI][s];
	case 0xaa: case 0xab: return op_stos;
	case 0xac: case 0xad: return op_lods;
	case 0xae: case 0xaf: return op_scas;
	case 0xb0 ... 0xb7:
		in->rm = byte_reg(d, (op & 7) | rex_b(d));
		return op_mov[FORM_RI][0];
	case 0xb8 ... 0xbf:
		in->rm = (op & 7) | rex_b(d);
		return op_mov[FORM_RI][s];
	case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		in->sub = r | (op >= 0xd2 ? 8 : 0);
		if (op >= 0xd0 && op <= 0xd1)
			in->imm = 1;
		return op_shift[r][!!(in->flags & INSN_MEM)][s];
	case 0xc2: case 0xc3:
		return op_ret;
	case 0xc4: case 0xc5:
		/* LES/LDS; with a register operand these are VEX (no AVX here). */
		if (!(in->flags & INSN_MEM))
			return NULL;
		in->sub = op == 0xc4 ? SEG_ES : SEG_DS;
		return op_load_far_ptr;
	case 0xc6: case 0xc7:
		if (r != 0)
			return NULL;
		return pick_ei(in, op_mov);
	case 0xc8: return op_enter;
	case 0xc9: return op_leave;
	case 0xca: case 0xcb: return op_retf;
	case 0xcc: return op_int3;
	case 0xcd: return op_int;
	case 0xce: return op_into;
	case 0xcf: return op_iret;
	case 0xd4: in->sub = 4; return op_bcd;
	case 0xd5: in->sub = 5; return op_bcd;
	case 0xd6: return op_salc;
	case 0xd7: return op_xlat;
	case 0xd8 ... 0xdf:
		if (op == 0xdb && d->modrm == 0xe3)
			return op_fninit;
		return op_x87;
	case 0xe0 ... 0xe3:
		in->sub = op & 3;
		return op_loop;
	case 0xe4: case 0xe5: in->sub = 0; return op_in;
	case 0xe6: case 0xe7: in->sub = 0; return op_out;
	case 0xec: case 0xed: in->sub = 1; return op_in;
	case 0xee: case 0xef: in->sub = 1; return op_out;
	case 0xe8: return op_call;
	case 0xe9: case 0xeb: return op_jmp;
	case 0xea: return op_jmp_far;
	case 0xf1: return op_int1;
	case 0xf4: return op_hlt;
	case 0xf5: in->sub = 0; return op_flagop;
	case 0xf6: case 0xf7:
		switch (r) {
		case 0: case 1:
			return pick_ei(in, op_alu[ALU_TEST]);
		case 2: case 3:
			return op_notneg[r - 2][!!(in->flags & INSN_MEM)][s];
		default:
			in->sub = r;
			return op_mul1[s];
		}
	case 0xf8: in->sub = 1; return op_flagop;
	case 0xf9: in->sub = 2; return op_flagop;
	case 0xfa: return op_cli;
	case 0xfb: return op_sti;
	case 0xfc: in->sub = 3; return op_flagop;
	case 0xfd: in->sub = 4; return op_flagop;
	case 0xfe: case 0xff:
		if (r <= 1)
			return op_incdec[r][!!(in->flags & INSN_MEM)][s];
		if (op == 0xfe)
			return NULL;
		switch (r) {
		case 2: return op_call_rm;
		case 3: return in->flags & INSN_MEM ? op_call_far_m : NULL;
		case 4: return op_jmp_rm;
		case 5: return in->flags & INSN_MEM ? op_jmp_far_m : NULL;
		case 6: return op_push_rm;
		default: return NULL;
		}
	}
	return NULL;
}

/* 0F 01: descriptor tables and the register-form specials. */
static insn_fn select_0f01(struct dstate *d, struct insn *in)
{
	unsigned int r = modrm_reg(d);

	if (in->flags & INSN_MEM) {
		switch (r) {
		case 0: case 1: case 2: case 3:
			in->sub = r;
			return op_lgdt;
		case 4: return op_smsw;
		case 6: return op_lmsw;
		case 7: return op_invlpg;
		default: return NULL;
		}
	}
	switch (d->modrm) {
	case 0xc1:	/* VMCALL */
	case 0xd9:	/* VMMCALL */
		return op_vmcall;
	case 0xf8:
		return d->mode == CPU_MODE_64 ? op_swapgs : NULL;
	case 0xf9:
		return op_rdtscp;
	}
	if (r == 4) {
		in->rm = d->modrm & 7;
		return op_smsw;
	}
	if (r == 6) {
		in->rm = d->modrm & 7;
		return op_lmsw;
	}
	return NULL;
}

static insn_fn select_sse(struct dstate *d, struct insn *in)
{
	const struct sse_entry *e = sse_lookup(d->map == 1 ? SSE_MAP_0F : d->map == 2 ? SSE_MAP_0F38 : SSE_MAP_0F3A,
					       d->op, d->mand, modrm_reg(d));
	bool mem = in->flags & INSN_MEM;
	sse_fn fn;
	u8 form, flags;

	if (!e)
		return NULL;
	if (!mem && e->rfn) {
		fn = e->rfn;
		form = e->rform;
		flags = e->rflags;
	} else {
		fn = e->fn;
		form = e->form;
		flags = e->flags;
	}
	if (!fn || ((flags & SSE_F_MEMONLY) && !mem) || ((flags & SSE_F_REGONLY) && mem))
		return NULL;
	in->aux = (const void *)fn;
	in->sub = form;
	in->sse_flags = flags;
	in->prefix = d->mand;
	return op_sse;
}

static insn_fn select_twobyte(struct dstate *d, struct insn *in)
{
	unsigned int op = d->op, r = modrm_reg(d), s = sz(in);

	switch (op) {
	case 0x00:
		if (r >= 6)
			return NULL;
		in->sub = r;
		if (r < 2 && (in->flags & INSN_MEM))
			in->osize = 2;
		return op_grp6;
	case 0x01: return select_0f01(d, in);
	case 0x02: in->sub = 0; return op_lar;
	case 0x03: in->sub = 1; return op_lar;
	case 0x05: return op_syscall;
	case 0x06: return op_clts;
	case 0x07: return op_sysret;
	case 0x08: case 0x09: return op_wbinvd;
	case 0x0b: return op_ud;
	case 0x0d:
		/* PREFETCH/PREFETCHW: memory hints. */
		return in->flags & INSN_MEM ? op_nop : NULL;
	case 0x18 ... 0x1f:
		/* PREFETCHh, hint NOPs and NOP Ev. */
		return op_nop;
	case 0x20: case 0x21: case 0x22: case 0x23: {
		/* The ModRM is always a register form here, whatever mod says. */
		in->flags &= ~INSN_MEM;
		in->rm = (d->modrm & 7) | rex_b(d);
		in->reg = r | rex_r(d);
		in->osize = d->mode == CPU_MODE_64 ? 8 : 4;
		static const insn_fn crdr[4] = { op_mov_from_cr, op_mov_from_dr, op_mov_to_cr, op_mov_to_dr };
		return crdr[op & 3];
	}
	case 0x30: return op_wrmsr;
	case 0x31: return op_rdtsc;
	case 0x32: return op_rdmsr;
	case 0x33: return op_rdpmc;
	case 0x40 ... 0x4f:
		in->sub = op & 15;
		return op_cmov[op & 15];
	case 0x80 ... 0x8f:
		in->sub = op & 15;
		return op_jcc[op & 15];
	case 0x90 ... 0x9f:
		in->sub = op & 15;
		return op_setcc[op & 15];
	case 0xa0: in->sub = SEG_FS; return op_push_seg;
	case 0xa1: in->sub = SEG_FS; return op_pop_seg;
	case 0xa8: in->sub = SEG_GS; return op_push_seg;
	case 0xa9: in->sub = SEG_GS; return op_pop_seg;
	case 0xa2: return op_cpuid;
	case 0xa3: in->sub = 0; return op_bt;
	case 0xab: in->sub = 1; return op_bt;
	case 0xb3: in->sub = 2; return op_bt;
	case 0xbb: in->sub = 3; return op_bt;
	case 0xba:
		if (r < 4)
			return NULL;
		in->sub = (r - 4) | 4;
		return op_bt;
	case 0xa4: in->sub = 0; return op_shld;
	case 0xa5: in->sub = 8; return op_shld;
	case 0xac: in->sub = 1; return op_shld;
	case 0xad: in->sub = 9; return op_shld;
	case 0xae:
		if (in->flags & INSN_MEM) {
			switch (r) {
			case 0: return op_fxsave;
			case 1: return op_fxrstor;
			case 2: return op_ldmxcsr;
			case 3: return op_stmxcsr;
			case 7: return op_clflush;
			default: return NULL;
			}
		}
		if (r >= 5 && d->mand == SSE_PFX_NONE)
			return op_fence;
		return NULL;
	case 0xaf: return op_imul2[s];
	case 0xb0: case 0xb1: return op_cmpxchg;
	case 0xb2: case 0xb4: case 0xb5:
		if (!(in->flags & INSN_MEM))
			return NULL;
		in->sub = op == 0xb2 ? SEG_SS : op == 0xb4 ? SEG_FS : SEG_GS;
		return op_load_far_ptr;
	case 0xb6: case 0xbe:
		in->sub = 1;
		if (!(in->flags & INSN_MEM))
			in->rm = byte_reg(d, in->rm);
		return op == 0xb6 ? op_movzx[0][s - 1] : op_movsx;
	case 0xb7: case 0xbf:
		in->sub = 2;
		return op == 0xb7 ? op_movzx[1][s - 1] : op_movsx;
	case 0xb8:
		return d->rep == 0xf3 ? op_popcnt : NULL;
	case 0xb9: case 0xff:
		return op_ud;
	case 0xbc:
		/* TZCNT is not advertised: F3 0F BC runs as BSF, as on older CPUs. */
		return op_bsf;
	case 0xbd:
		return op_bsr;
	case 0xc0: case 0xc1: return op_xadd;
	case 0xc3:
		if (!(in->flags & INSN_MEM) || d->mand != SSE_PFX_NONE || in->osize < 4)
			return NULL;
		return op_movnti;
	case 0xc7:
		if (r == 1 && (in->flags & INSN_MEM))
			return op_cmpxchg8b;
		return NULL;
	case 0xc8 ... 0xcf:
		in->reg = (op & 7) | rex_b(d);
		return op_bswap;
	case 0xf7:
		if (d->mand == SSE_PFX_66 && !(in->flags & INSN_MEM))
			return op_maskmovdqu;
		return NULL;
	case 0x77:
		/*
		 * EMMS. MMX is not advertised, but Linux runs EMMS on AMD K7/K8
		 * family CPUs (the FXSAVE leak workaround), as this one is.
		 */
		return d->mand == SSE_PFX_NONE ? op_emms : NULL;
	}
	(void)s;
	return select_sse(d, in);
}

/* Ops whose ModRM register fields are byte registers when P_BYTE. */
static void fix_byte_regs(struct dstate *d, struct insn *in)
{
	in->reg = byte_reg(d, in->reg);
	if (!(in->flags & INSN_MEM))
		in->rm = byte_reg(d, in->rm);
}

/* Final length and error checks; see the file comment. */
static int finish_len(const struct dstate *d, size_t len)
{
	if (d->pos > MAX_INSN_LEN)
		return len >= MAX_INSN_LEN ? -EXC_GP : DECODE_NEED_MORE;
	if (d->pos > len)
		return DECODE_NEED_MORE;
	return d->pos;
}

int decode_insn(const u8 *bytes, size_t len, enum cpu_mode mode, u64 pc, struct insn *in)
{
	struct dstate d;
	int seg_override = -1;
	unsigned int pf;
	insn_fn fn = NULL;
	int ret;

	memset(&d, 0, sizeof(d));
	memcpy(d.buf, bytes, len < MAX_INSN_LEN ? len : MAX_INSN_LEN);
	d.mode = mode;
	memset(in, 0, sizeof(*in));

	/* Prefixes. A REX counts only right before the opcode. */
	for (;;) {
		u8 b;

		if (d.pos >= MAX_INSN_LEN) {
			d.pos = MAX_INSN_LEN + 1;
			return finish_len(&d, len);
		}
		b = d.buf[d.pos];
		if (mode == CPU_MODE_64 && (b & 0xf0) == 0x40) {
			d.rex = b;
			d.pos++;
			continue;
		}
		switch (b) {
		case 0x66: d.opsz = true; if (!d.rep) d.mand = SSE_PFX_66; break;
		case 0x67: d.adsz = true; break;
		case 0xf0: d.lock = true; break;
		case 0xf2: d.rep = b; d.mand = SSE_PFX_F2; break;
		case 0xf3: d.rep = b; d.mand = SSE_PFX_F3; break;
		case 0x26: seg_override = SEG_ES; break;
		case 0x2e: seg_override = SEG_CS; break;
		case 0x36: seg_override = SEG_SS; break;
		case 0x3e: seg_override = SEG_DS; break;
		case 0x64: seg_override = SEG_FS; break;
		case 0x65: seg_override = SEG_GS; break;
		default:
			goto opcode;
		}
		d.rex = 0;
		d.pos++;
	}
opcode:
	d.op = get8(&d);
	if (d.op == 0x0f) {
		d.map = 1;
		d.op = get8(&d);
		if (d.op == 0x38) {
			d.map = 2;
			d.op = get8(&d);
		} else if (d.op == 0x3a) {
			d.map = 3;
			d.op = get8(&d);
		}
	}
	switch (d.map) {
	case 0: pf = onebyte[d.op]; break;
	case 1: pf = twobyte[d.op]; break;
	case 2: pf = P_MODRM; break;
	default: pf = P_MODRM | P_I8; break;
	}
	/* In 64-bit mode, ES/CS/SS/DS overrides are ignored. */
	if (mode == CPU_MODE_64 && seg_override >= 0 && seg_override < SEG_FS)
		seg_override = -1;

	/* Sizes. */
	if (mode == CPU_MODE_64) {
		in->osize = rex_w(&d) ? 8 : d.opsz ? 2 : 4;
		in->asize = d.adsz ? 4 : 8;
		if ((pf & P_D64) && !d.opsz)
			in->osize = 8;
		if (pf & P_F64)
			in->osize = 8;
	} else {
		in->osize = (mode == CPU_MODE_32) != d.opsz ? 4 : 2;
		in->asize = (mode == CPU_MODE_32) != d.adsz ? 4 : 2;
	}
	if (pf & P_BYTE)
		in->osize = 1;
	in->seg = seg_override >= 0 ? seg_override : SEG_DS;

	/* ModRM and memory operand. */
	if (pf & P_MODRM) {
		d.modrm = get8(&d);
		in->modrm = d.modrm;
		in->reg = modrm_reg(&d) | rex_r(&d);
		if (mod_is_reg(&d))
			in->rm = (d.modrm & 7) | rex_b(&d);
		else
			decode_modrm_mem(&d, in, seg_override);
		/*
		 * FF /2../5 (indirect near and far CALL/JMP) never fall through:
		 * decoding on would put whatever bytes follow (data, padding, an
		 * address) into the block, to be counted and compiled.
		 */
		if (d.map == 0 && d.op == 0xff && modrm_reg(&d) >= 2 && modrm_reg(&d) <= 5)
			pf |= P_END;
		/* FF /2 /4 (near CALL/JMP) are 64-bit, FF /6 (PUSH) defaults to it. */
		if (mode == CPU_MODE_64 && d.map == 0 && d.op == 0xff) {
			unsigned int r = modrm_reg(&d);

			if (r == 2 || r == 4)
				in->osize = 8;
			else if (r == 6)
				in->osize = d.opsz && !rex_w(&d) ? 2 : 8;
		}
	}

	/* Immediates. */
	if (d.map == 0 && (d.op == 0xf6 || d.op == 0xf7) && modrm_reg(&d) < 2)
		pf |= d.op == 0xf6 ? P_I8 : P_IZ;
	if (pf & (P_I8 | P_I8S))
		in->imm = get_imm(&d, 1, pf & P_I8S);
	if (pf & P_IZ)
		in->imm = get_imm(&d, in->osize == 2 ? 2 : 4, true);
	if (pf & P_IV)
		in->imm = get_imm(&d, in->osize, false);
	if (pf & P_I16) {
		in->imm = get_imm(&d, 2, false);
		if (d.map == 0 && d.op == 0xc8)
			in->imm8 = get8(&d);
	}
	if (pf & P_MOFFS) {
		in->disp = get_imm(&d, in->asize, false);
		in->base = REG_ZERO;
		in->index = REG_ZERO;
	}
	if (pf & P_FAR) {
		in->imm = get_imm(&d, in->osize == 2 ? 2 : 4, false);
		in->imm8 = 0;
		in->disp = get_imm(&d, 2, false);	/* the selector */
	}
	if (d.map != 0)
		in->imm8 = in->imm;

	ret = finish_len(&d, len);
	if (ret < 0)
		return ret;
	in->len = ret;
	in->opcode = (d.map << 8) | d.op;

	/* Absolute targets and RIP-relative addresses. */
	if (in->dflags & 0x80) {
		in->disp += pc + in->len;
		in->dflags &= ~0x80;
	}
	if (pf & P_J) {
		u64 mask = in->osize == 2 ? 0xffff : mode == CPU_MODE_64 ? ~0ULL : 0xffffffffULL;

		if (in->osize == 2 && mode == CPU_MODE_64)
			mask = ~0ULL;
		in->imm = (pc + in->len + in->imm) & mask;
		in->dflags |= DF_JUMP;
		if (!(d.map == 0 && (d.op == 0xe8 || d.op == 0xe9 || d.op == 0xeb)))
			in->dflags |= DF_COND;
	}
	if (pf & P_END)
		in->dflags |= DF_END;
	/* In 64-bit mode only FS and GS have a base: the rest address flat. */
	if (mode == CPU_MODE_64 && in->asize == 8 && in->seg < SEG_FS)
		in->dflags |= DF_FLAT;

	if (d.lock)
		in->flags |= INSN_LOCK;
	if (d.rep == 0xf3)
		in->flags |= INSN_REP;
	if (d.rep == 0xf2)
		in->flags |= INSN_REPNE;
	if (d.rex)
		in->flags |= INSN_REX;
	if (rex_w(&d))
		in->flags |= INSN_REXW;
	if (seg_override >= 0)
		in->flags |= INSN_SEGOVR;
	in->prefix = d.mand;

	if ((pf & P_UD) || ((pf & P_INV64) && mode == CPU_MODE_64))
		goto undefined;
	if (pf & P_BYTE)
		fix_byte_regs(&d, in);
	if (d.map == 0)
		fn = select_onebyte(&d, in);
	else if (d.map == 1)
		fn = select_twobyte(&d, in);
	else
		fn = select_sse(&d, in);
	if (!fn)
		goto undefined;
	if (d.lock && !lock_ok(&d, in))
		goto undefined;
	in->fn = fn;
	return in->len;

undefined:
	in->fn = op_ud;
	in->dflags = DF_END | DF_UD;
	return in->len;
}

int soft_decode(const u8 *bytes, size_t len, enum cpu_mode mode, struct insn *out)
{
	int ret = decode_insn(bytes, len, mode, 0, out);

	if (ret > 0 && (out->dflags & DF_UD))
		return -EXC_UD;
	return ret;
}

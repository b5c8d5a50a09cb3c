/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_JIT_EMIT_H
#define KILN_ENGINE_SOFT_JIT_EMIT_H

/*
 * A tiny x86-64 encoder for the block compiler (jit.c): the few
 * instruction forms it needs, on host registers and [base + disp32]
 * memory operands. The buffer never overflows: emitting past its end
 * sets ->overflow and the compiler gives the block up.
 */
#include <string.h>

#include "lib/types.h"

enum hreg {
	H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
	H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15,
};

struct emitter {
	u8 *buf;		/* writable view */
	u8 *exec;		/* where buf[0] executes */
	size_t size, pos;
	bool overflow;
};

static inline void e_byte(struct emitter *e, u8 b)
{
	if (e->pos < e->size)
		e->buf[e->pos] = b;
	else
		e->overflow = true;
	e->pos++;
}

static inline void e_u32(struct emitter *e, u32 v)
{
	for (int i = 0; i < 4; i++)
		e_byte(e, v >> (8 * i));
}

static inline void e_u64(struct emitter *e, u64 v)
{
	for (int i = 0; i < 8; i++)
		e_byte(e, v >> (8 * i));
}

/* REX for reg (ModRM.reg), base (ModRM.rm or SIB.base), index (SIB.index). */
static inline void e_rex(struct emitter *e, bool w, unsigned int reg, unsigned int index,
			 unsigned int base, bool force)
{
	u8 rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);

	if (rex != 0x40 || force)
		e_byte(e, rex);
}

/* ModRM (+SIB) for [base + disp32], base any register. */
static inline void e_mem(struct emitter *e, unsigned int reg, unsigned int base, s32 disp)
{
	e_byte(e, 0x80 | ((reg & 7) << 3) | (base & 7));
	if ((base & 7) == H_RSP)
		e_byte(e, 0x24);
	e_u32(e, (u32)disp);
}

/* ModRM for a register operand. */
static inline void e_rr(struct emitter *e, unsigned int reg, unsigned int rm)
{
	e_byte(e, 0xc0 | ((reg & 7) << 3) | (rm & 7));
}

/*
 * An instruction "op reg, [base + disp]" of operand size 1, 2, 4 or 8:
 * the 66 prefix, REX (W for 8, forced for byte registers 4-7), opcode.
 */
static inline void e_op_mem(struct emitter *e, unsigned int size, const u8 *op, unsigned int oplen,
			    unsigned int reg, unsigned int base, s32 disp)
{
	if (size == 2)
		e_byte(e, 0x66);
	e_rex(e, size == 8, reg, 0, base, size == 1 && reg >= 4);
	for (unsigned int i = 0; i < oplen; i++)
		e_byte(e, op[i]);
	e_mem(e, reg, base, disp);
}

static inline void e_op_rr(struct emitter *e, unsigned int size, const u8 *op, unsigned int oplen,
			   unsigned int reg, unsigned int rm)
{
	if (size == 2)
		e_byte(e, 0x66);
	e_rex(e, size == 8, reg, 0, rm, size == 1 && (reg >= 4 || rm >= 4));
	for (unsigned int i = 0; i < oplen; i++)
		e_byte(e, op[i]);
	e_rr(e, reg, rm);
}

/* reg = zero-extended load of size bytes from [base + disp]. */
static inline void e_load(struct emitter *e, unsigned int size, unsigned int reg, unsigned int base, s32 disp)
{
	static const u8 movzb[] = { 0x0f, 0xb6 }, movzw[] = { 0x0f, 0xb7 }, mov[] = { 0x8b };

	if (size == 1)
		e_op_mem(e, 4, movzb, 2, reg, base, disp);
	else if (size == 2)
		e_op_mem(e, 4, movzw, 2, reg, base, disp);
	else
		e_op_mem(e, size, mov, 1, reg, base, disp);
}

/* Sign-extending load into a 64-bit register. */
static inline void e_load_sx(struct emitter *e, unsigned int size, unsigned int reg, unsigned int base, s32 disp)
{
	static const u8 movsb[] = { 0x0f, 0xbe }, movsw[] = { 0x0f, 0xbf }, movsxd[] = { 0x63 }, mov[] = { 0x8b };

	if (size == 1)
		e_op_mem(e, 8, movsb, 2, reg, base, disp);
	else if (size == 2)
		e_op_mem(e, 8, movsw, 2, reg, base, disp);
	else if (size == 4)
		e_op_mem(e, 8, movsxd, 1, reg, base, disp);
	else
		e_op_mem(e, 8, mov, 1, reg, base, disp);
}

/* [base + disp] = low size bytes of reg. */
static inline void e_store(struct emitter *e, unsigned int size, unsigned int base, s32 disp, unsigned int reg)
{
	static const u8 mov8[] = { 0x88 }, mov[] = { 0x89 };

	e_op_mem(e, size, size == 1 ? mov8 : mov, 1, reg, base, disp);
}

/* reg = imm (64-bit). */
static inline void e_mov_imm(struct emitter *e, unsigned int reg, u64 imm)
{
	if (imm <= 0xffffffffULL) {
		e_rex(e, false, 0, 0, reg, false);
		e_byte(e, 0xb8 + (reg & 7));
		e_u32(e, imm);
	} else if ((u64)(s64)(s32)imm == imm) {
		e_rex(e, true, 0, 0, reg, false);
		e_byte(e, 0xc7);
		e_rr(e, 0, reg);
		e_u32(e, imm);
	} else {
		e_rex(e, true, 0, 0, reg, false);
		e_byte(e, 0xb8 + (reg & 7));
		e_u64(e, imm);
	}
}

/* dword [base + disp] = imm32 */
static inline void e_store_imm32(struct emitter *e, unsigned int base, s32 disp, u32 imm)
{
	e_rex(e, false, 0, 0, base, false);
	e_byte(e, 0xc7);
	e_mem(e, 0, base, disp);
	e_u32(e, imm);
}

/* mov dst, src (64-bit) */
static inline void e_mov_rr(struct emitter *e, unsigned int dst, unsigned int src)
{
	static const u8 op[] = { 0x89 };

	e_op_rr(e, 8, op, 1, src, dst);
}

/* ALU op (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp) dst, src; size 1-8. */
static inline void e_alu_rr(struct emitter *e, unsigned int op, unsigned int size, unsigned int dst, unsigned int src)
{
	u8 opc = (op << 3) | (size == 1 ? 0 : 1);

	e_op_rr(e, size, &opc, 1, src, dst);
}

static inline void e_test_rr(struct emitter *e, unsigned int size, unsigned int a, unsigned int b)
{
	u8 opc = size == 1 ? 0x84 : 0x85;

	e_op_rr(e, size, &opc, 1, b, a);
}

/* ALU op dst, imm32 (sign-extended for 8-byte operations; truncated for 1/2). */
static inline void e_alu_ri(struct emitter *e, unsigned int op, unsigned int size, unsigned int dst, u32 imm)
{
	if (size == 2)
		e_byte(e, 0x66);
	e_rex(e, size == 8, 0, 0, dst, size == 1 && dst >= 4);
	e_byte(e, size == 1 ? 0x80 : 0x81);
	e_rr(e, op, dst);
	if (size == 1)
		e_byte(e, imm);
	else if (size == 2) {
		e_byte(e, imm);
		e_byte(e, imm >> 8);
	} else {
		e_u32(e, imm);
	}
}

/* shift op (4 shl, 5 shr, 7 sar) reg by imm8 */
static inline void e_shift_ri(struct emitter *e, unsigned int op, unsigned int size, unsigned int reg, u8 count)
{
	if (size == 2)
		e_byte(e, 0x66);
	e_rex(e, size == 8, 0, 0, reg, size == 1 && reg >= 4);
	e_byte(e, size == 1 ? 0xc0 : 0xc1);
	e_rr(e, op, reg);
	e_byte(e, count);
}

/* shift op (0 rol, 1 ror, 4 shl, 5 shr, 7 sar) reg by CL */
static inline void e_shift_cl(struct emitter *e, unsigned int op, unsigned int size, unsigned int reg)
{
	if (size == 2)
		e_byte(e, 0x66);
	e_rex(e, size == 8, 0, 0, reg, size == 1 && reg >= 4);
	e_byte(e, size == 1 ? 0xd2 : 0xd3);
	e_rr(e, op, reg);
}

/* imul dst, src (size 2, 4, 8) */
static inline void e_imul_rr(struct emitter *e, unsigned int size, unsigned int dst, unsigned int src)
{
	static const u8 op[] = { 0x0f, 0xaf };

	e_op_rr(e, size, op, 2, dst, src);
}

/* lea dst, [base + index * 2^scale + disp] (base/index may be absent: -1) */
static inline void e_lea(struct emitter *e, unsigned int dst, int base, int index, unsigned int scale, s32 disp)
{
	e_rex(e, true, dst, index < 0 ? 0 : index, base < 0 ? 0 : base, false);
	e_byte(e, 0x8d);
	if (index < 0 && base >= 0 && (base & 7) != H_RSP) {
		e_mem(e, dst, base, disp);
		return;
	}
	/* SIB form; base absent means disp32 with mod 00 and base 101. */
	if (base < 0) {
		e_byte(e, 0x04 | ((dst & 7) << 3));
		e_byte(e, (scale << 6) | (((index < 0 ? H_RSP : index) & 7) << 3) | 5);
		e_u32(e, (u32)disp);
		return;
	}
	e_byte(e, 0x84 | ((dst & 7) << 3));
	e_byte(e, (scale << 6) | (((index < 0 ? H_RSP : index) & 7) << 3) | (base & 7));
	e_u32(e, (u32)disp);
}

/* setcc r8 (low byte of reg), then movzx to 32 bits */
static inline void e_setcc(struct emitter *e, unsigned int cond, unsigned int reg)
{
	e_rex(e, false, 0, 0, reg, reg >= 4);
	e_byte(e, 0x0f);
	e_byte(e, 0x90 | cond);
	e_rr(e, 0, reg);
	/* movzx reg32, reg8 */
	e_rex(e, false, reg, 0, reg, reg >= 4);
	e_byte(e, 0x0f);
	e_byte(e, 0xb6);
	e_rr(e, reg, reg);
}

/* Forward branches patched later: returns the offset of the rel32 field. */
static inline size_t e_jcc32(struct emitter *e, unsigned int cond)
{
	e_byte(e, 0x0f);
	e_byte(e, 0x80 | cond);
	e_u32(e, 0);
	return e->pos - 4;
}

static inline size_t e_jmp32(struct emitter *e)
{
	e_byte(e, 0xe9);
	e_u32(e, 0);
	return e->pos - 4;
}

/* Points the rel32 at fixup to the current position. */
static inline void e_patch_here(struct emitter *e, size_t fixup)
{
	u32 rel = (u32)(e->pos - (fixup + 4));

	if (fixup + 4 <= e->size)
		memcpy(e->buf + fixup, &rel, 4);
}

/* call/jmp to an absolute host address (through rax or r11). */
static inline void e_call_abs(struct emitter *e, const void *target)
{
	e_mov_imm(e, H_R11, (u64)(uintptr_t)target);
	e_byte(e, 0x41);
	e_byte(e, 0xff);
	e_rr(e, 2, H_R11);
}

static inline void e_jmp_abs(struct emitter *e, const void *target)
{
	e_mov_imm(e, H_R11, (u64)(uintptr_t)target);
	e_byte(e, 0x41);
	e_byte(e, 0xff);
	e_rr(e, 4, H_R11);
}

/* jmp qword [base + disp] */
static inline void e_jmp_mem(struct emitter *e, unsigned int base, s32 disp)
{
	e_rex(e, false, 0, 0, base, false);
	e_byte(e, 0xff);
	e_mem(e, 4, base, disp);
}

static inline void e_push(struct emitter *e, unsigned int reg)
{
	e_rex(e, false, 0, 0, reg, false);
	e_byte(e, 0x50 + (reg & 7));
}

static inline void e_pop(struct emitter *e, unsigned int reg)
{
	e_rex(e, false, 0, 0, reg, false);
	e_byte(e, 0x58 + (reg & 7));
}

static inline void e_ret(struct emitter *e)
{
	e_byte(e, 0xc3);
}

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * Which x87 encodings exist, and what their memory operand is.
 */
#include "engine/soft/x87/x87.h"

/* Register forms (mod == 3) that are #UD: one bit per ModRM 0xc0-0xff. */
static bool reg_form_invalid(u8 opcode, u8 modrm)
{
	switch (opcode) {
	case 0xd9:
		return (modrm >= 0xd1 && modrm <= 0xd7) || modrm == 0xe2 ||
		       modrm == 0xe3 || modrm == 0xe6 || modrm == 0xe7 ||
		       modrm == 0xef;
	case 0xda:
		return modrm >= 0xe0 && modrm != 0xe9;
	case 0xdb:
		return (modrm >= 0xe5 && modrm <= 0xe7) || modrm >= 0xf8;
	case 0xdd:
		return modrm >= 0xf0;
	case 0xde:
		return modrm >= 0xd8 && modrm <= 0xdf && modrm != 0xd9;
	case 0xdf:
		return (modrm >= 0xe1 && modrm <= 0xe7) || modrm >= 0xf8;
	default:
		return false;
	}
}

/*
 * Memory forms, by opcode and ModRM.reg: the size in bytes (0 for #UD;
 * ENV and SAVE depend on the operand size), with W() marking a store.
 */
#define ENV 0x7e
#define SAVE 0x7f
#define W(n) ((n) | 0x80)
static const u8 mem_forms[8][8] = {
	/* d8: fadd fmul fcom fcomp fsub fsubr fdiv fdivr, m32fp */
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	/* d9: fld, -, fst, fstp m32fp; fldenv, fldcw, fnstenv, fnstcw */
	{ 4, 0, W(4), W(4), ENV, 2, W(ENV), W(2) },
	/* da: fiadd .. fidivr, m32int */
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	/* db: fild, fisttp, fist, fistp m32int; -, fld m80, -, fstp m80 */
	{ 4, W(4), W(4), W(4), 0, 10, 0, W(10) },
	/* dc: arithmetic, m64fp */
	{ 8, 8, 8, 8, 8, 8, 8, 8 },
	/* dd: fld, fisttp, fst, fstp m64; frstor, -, fnsave, fnstsw */
	{ 8, W(8), W(8), W(8), SAVE, 0, W(SAVE), W(2) },
	/* de: arithmetic, m16int */
	{ 2, 2, 2, 2, 2, 2, 2, 2 },
	/* df: fild, fisttp, fist, fistp m16; fbld, fild m64, fbstp, fistp m64 */
	{ 2, W(2), W(2), W(2), 10, 8, W(10), W(8) },
};

bool x87_decode(u8 opcode, u8 modrm, bool opsize16, unsigned int *bytes,
		enum x87_mem_dir *dir)
{
	unsigned int n;
	u8 form;

	*bytes = 0;
	*dir = X87_MEM_NONE;
	if (opcode < 0xd8 || opcode > 0xdf)
		return false;
	if ((modrm >> 6) == 3)
		return !reg_form_invalid(opcode, modrm);
	form = mem_forms[opcode - 0xd8][(modrm >> 3) & 7];
	n = form & 0x7f;
	if (n == ENV)
		n = opsize16 ? 14 : 28;
	else if (n == SAVE)
		n = opsize16 ? 94 : 108;
	if (!n)
		return false;
	*bytes = n;
	*dir = (form & 0x80) ? X87_MEM_STORE : X87_MEM_LOAD;
	return true;
}

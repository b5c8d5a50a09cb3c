// SPDX-License-Identifier: Apache-2.0
/*
 * x87 state bookkeeping: initialisation, the tag word in its two forms,
 * and the FNSTENV/FLDENV environment image in its four layouts.
 */
#include <string.h>

#include "engine/soft/x87/x87.h"

void x87_init(struct x87_state *st)
{
	unsigned int top = (st->fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT;
	u8 regs[8][10];

	/* TOP becomes 0: ST(i) is now physical register i. */
	memcpy(regs, st->st, sizeof(regs));
	for (unsigned int i = 0; i < 8; i++)
		memcpy(st->st[i], regs[(i - top) & 7], 10);
	st->fcw = X87_FCW_DEFAULT;
	st->fsw = 0;
	st->ftw = 0;
	st->fop = 0;
	st->fip = st->fdp = 0;
}

void x87_reset(struct x87_state *st)
{
	memset(st, 0, sizeof(*st));
	x87_init(st);
}

void x87_update_es(struct x87_state *st)
{
	if (st->fsw & ~st->fcw & X87_EXC_FLAGS)
		st->fsw |= X87_FSW_ES | X87_FSW_B;
	else
		st->fsw &= ~(X87_FSW_ES | X87_FSW_B);
}

enum fpu_fault x87_fwait(const struct x87_state *st)
{
	return x87_pending(st) ? FPU_MF : FPU_OK;
}

/* What the full tag word says of a register in use: 0 valid, 1 zero, 2 special. */
static unsigned int tag_of(const u8 *r)
{
	u16 exp = (r[9] << 8 | r[8]) & 0x7fff;
	u64 mant;

	memcpy(&mant, r, 8);
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	/* An unnormal (integer bit clear) is special too. */
	return (mant >> 63) ? 0 : 2;
}

u16 x87_full_tag(const struct x87_state *st)
{
	unsigned int top = (st->fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT;
	u16 tag = 0;

	for (unsigned int p = 0; p < 8; p++) {
		unsigned int t = 3;

		if (st->ftw & (1u << p))
			t = tag_of(st->st[(p - top) & 7]);
		tag |= t << (2 * p);
	}
	return tag;
}

u8 x87_abridged_tag(u16 full)
{
	u8 ftw = 0;

	for (unsigned int p = 0; p < 8; p++)
		if (((full >> (2 * p)) & 3) != 3)
			ftw |= 1u << p;
	return ftw;
}

static void put16(u8 *p, u16 v)
{
	memcpy(p, &v, 2);
}

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static u16 get16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * The environment: 28 bytes with a 32-bit operand size, 14 with 16.
 * Protected mode stores offset and selector for both pointers; real and
 * v86 mode store 20 or 32-bit linear pointers split across two fields,
 * with the opcode beside the instruction pointer's high bits. The unused
 * upper halves of the 32-bit layout read as ones, as on hardware.
 */
void x87_env_store(const struct x87_state *st, u8 *mem, bool opsize16,
		   bool real_mode)
{
	u16 tag = x87_full_tag(st);

	if (opsize16) {
		put16(mem + 0, st->fcw);
		put16(mem + 2, st->fsw);
		put16(mem + 4, tag);
		put16(mem + 6, (u16)st->fip);
		put16(mem + 10, (u16)st->fdp);
		if (real_mode) {
			put16(mem + 8, (u16)((st->fip >> 16) & 0xf) << 12 |
					       (st->fop & 0x7ff));
			put16(mem + 12, (u16)((st->fdp >> 16) & 0xf) << 12);
		} else {
			put16(mem + 8, 0);
			put16(mem + 12, 0);
		}
		return;
	}
	put32(mem + 0, 0xffff0000u | st->fcw);
	put32(mem + 4, 0xffff0000u | st->fsw);
	put32(mem + 8, 0xffff0000u | tag);
	if (real_mode) {
		put32(mem + 12, 0xffff0000u | (u16)st->fip);
		put32(mem + 16, (u32)((st->fip >> 16) & 0xffff) << 12 |
					(st->fop & 0x7ff));
		put32(mem + 20, 0xffff0000u | (u16)st->fdp);
		put32(mem + 24, (u32)((st->fdp >> 16) & 0xffff) << 12);
	} else {
		put32(mem + 12, (u32)st->fip);
		put32(mem + 16, (u32)(st->fop & 0x7ff) << 16);
		put32(mem + 20, (u32)st->fdp);
		put32(mem + 24, 0xffff0000u);
	}
}

/*
 * st[] is kept relative to TOP: when a load moves TOP, the physical
 * registers stay where they are and their stack names change.
 */
static void rotate_to_top(struct x87_state *st, unsigned int old_top)
{
	unsigned int top = (st->fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT;
	unsigned int by = (top - old_top) & 7;
	u8 regs[8][10];

	memcpy(regs, st->st, sizeof(regs));
	for (unsigned int i = 0; i < 8; i++)
		memcpy(st->st[i], regs[(i + by) & 7], 10);
}

void x87_env_load(struct x87_state *st, const u8 *mem, bool opsize16,
		  bool real_mode)
{
	unsigned int old_top = (st->fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT;
	u16 tag;

	st->fcw = x87_fcw_value(get16(mem + 0));
	st->fsw = get16(mem + (opsize16 ? 2 : 4));
	tag = get16(mem + (opsize16 ? 4 : 8));
	if (opsize16) {
		st->fip = get16(mem + 6);
		st->fdp = get16(mem + 10);
		if (real_mode) {
			st->fip |= (u64)(get16(mem + 8) >> 12) << 16;
			st->fop = get16(mem + 8) & 0x7ff;
			st->fdp |= (u64)(get16(mem + 12) >> 12) << 16;
		}
	} else if (real_mode) {
		st->fip = get16(mem + 12) | (u64)((get32(mem + 16) >> 12) & 0xffff) << 16;
		st->fop = get32(mem + 16) & 0x7ff;
		st->fdp = get16(mem + 20) | (u64)((get32(mem + 24) >> 12) & 0xffff) << 16;
	} else {
		st->fip = get32(mem + 12);
		st->fop = get16(mem + 18) & 0x7ff;
		st->fdp = get32(mem + 20);
	}
	st->ftw = x87_abridged_tag(tag);
	rotate_to_top(st, old_top);
	x87_update_es(st);
}

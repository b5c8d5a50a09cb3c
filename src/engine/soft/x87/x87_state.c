// SPDX-License-Identifier: Apache-2.0
/*
 * x87 state bookkeeping: initialisation, the tag word in its two forms,
 * and the FNSTENV/FLDENV environment image in its four layouts.
 */
#include <string.h>

#include "engine/soft/x87/x87.h"
#include "lib/unaligned.h"

static unsigned int top_of(const struct fxsave_area *fx)
{
	return (fx->fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT;
}

/*
 * st[] is kept relative to TOP: when TOP moves from old_top without a
 * push or pop, the physical registers stay and their stack names change.
 */
static void rename_regs(struct fxsave_area *fx, unsigned int old_top)
{
	unsigned int by = (top_of(fx) - old_top) & 7;
	struct x87_reg regs[8];

	memcpy(regs, fx->st, sizeof(regs));
	for (unsigned int i = 0; i < 8; i++)
		fx->st[i] = regs[(i + by) & 7];
}

void x87_init(struct fxsave_area *fx)
{
	unsigned int old_top = top_of(fx);

	fx->fcw = X87_FCW_DEFAULT;
	fx->fsw = 0;
	fx->ftw = 0;
	fx->fop = 0;
	fx->fip = fx->fdp = 0;
	rename_regs(fx, old_top);
}

void x87_reset(struct fxsave_area *fx)
{
	memset(fx->st, 0, sizeof(fx->st));
	x87_init(fx);
}

void x87_update_es(struct fxsave_area *fx)
{
	if (x87_pending(fx))
		fx->fsw |= X87_FSW_ES | X87_FSW_B;
	else
		fx->fsw &= ~(X87_FSW_ES | X87_FSW_B);
}

int x87_fwait(const struct fxsave_area *fx)
{
	return x87_pending(fx) ? FPU_MF : FPU_OK;
}

int x87_emms(struct fxsave_area *fx)
{
	unsigned int old_top = top_of(fx);

	if (x87_pending(fx))
		return FPU_MF;
	/*
	 * The SDM only says the tags go empty, but the hardware (measured by
	 * tests/difftest on a Xeon) also zeroes TOP, as MMX instructions do.
	 */
	fx->ftw = 0;
	fx->fsw &= ~X87_FSW_TOP;
	rename_regs(fx, old_top);
	return FPU_OK;
}

/* The full tag of a register in use: 0 valid, 1 zero, 2 special. */
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

u16 x87_full_tag(const struct fxsave_area *fx)
{
	unsigned int top = top_of(fx);
	u16 tag = 0;

	for (unsigned int p = 0; p < 8; p++) {
		unsigned int t = 3;

		if (fx->ftw & (1u << p))
			t = tag_of(fx->st[(p - top) & 7].bytes);
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

/*
 * The environment: 28 bytes with a 32-bit operand size, 14 with 16.
 * Protected mode stores offset and selector for both pointers (the
 * selectors as zero, see x87.h); real and v86 mode store 20 or 32-bit
 * linear pointers split across two fields, with the opcode beside the
 * instruction pointer's high bits. The unused upper halves of the 32-bit
 * layout read as ones, as on hardware.
 */
void x87_env_store(const struct fxsave_area *fx, u8 *mem, bool opsize16,
		   bool real_mode)
{
	u16 tag = x87_full_tag(fx);

	if (opsize16) {
		put_le16(mem + 0, fx->fcw);
		put_le16(mem + 2, fx->fsw);
		put_le16(mem + 4, tag);
		put_le16(mem + 6, (u16)fx->fip);
		put_le16(mem + 10, (u16)fx->fdp);
		if (real_mode) {
			put_le16(mem + 8, (u16)((fx->fip >> 16) & 0xf) << 12 |
						  (fx->fop & 0x7ff));
			put_le16(mem + 12, (u16)((fx->fdp >> 16) & 0xf) << 12);
		} else {
			put_le16(mem + 8, 0);
			put_le16(mem + 12, 0);
		}
		return;
	}
	put_le32(mem + 0, 0xffff0000u | fx->fcw);
	put_le32(mem + 4, 0xffff0000u | fx->fsw);
	put_le32(mem + 8, 0xffff0000u | tag);
	if (real_mode) {
		put_le32(mem + 12, 0xffff0000u | (u16)fx->fip);
		put_le32(mem + 16, (u32)((fx->fip >> 16) & 0xffff) << 12 |
					   (fx->fop & 0x7ff));
		put_le32(mem + 20, 0xffff0000u | (u16)fx->fdp);
		put_le32(mem + 24, (u32)((fx->fdp >> 16) & 0xffff) << 12);
	} else {
		put_le32(mem + 12, (u32)fx->fip);
		put_le32(mem + 16, (u32)(fx->fop & 0x7ff) << 16);
		put_le32(mem + 20, (u32)fx->fdp);
		put_le32(mem + 24, 0xffff0000u);
	}
}

void x87_env_load(struct fxsave_area *fx, const u8 *mem, bool opsize16,
		  bool real_mode)
{
	unsigned int old_top = top_of(fx);
	u16 tag;

	fx->fcw = x87_fcw_value(get_le16(mem + 0));
	fx->fsw = get_le16(mem + (opsize16 ? 2 : 4));
	tag = get_le16(mem + (opsize16 ? 4 : 8));
	if (opsize16) {
		fx->fip = get_le16(mem + 6);
		fx->fdp = get_le16(mem + 10);
		if (real_mode) {
			fx->fip |= (u64)(get_le16(mem + 8) >> 12) << 16;
			fx->fop = get_le16(mem + 8) & 0x7ff;
			fx->fdp |= (u64)(get_le16(mem + 12) >> 12) << 16;
		}
	} else if (real_mode) {
		fx->fip = get_le16(mem + 12) |
			  (u64)((get_le32(mem + 16) >> 12) & 0xffff) << 16;
		fx->fop = get_le32(mem + 16) & 0x7ff;
		fx->fdp = get_le16(mem + 20) |
			  (u64)((get_le32(mem + 24) >> 12) & 0xffff) << 16;
	} else {
		fx->fip = get_le32(mem + 12);
		fx->fop = get_le16(mem + 18) & 0x7ff;
		fx->fdp = get_le32(mem + 20);
	}
	fx->ftw = x87_abridged_tag(tag);
	rename_regs(fx, old_top);
	x87_update_es(fx);
}

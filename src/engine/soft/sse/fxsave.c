// SPDX-License-Identifier: Apache-2.0
/*
 * FXSAVE and FXRSTOR: the x87, MXCSR and XMM state as one 512-byte image.
 * The soft CPU keeps its state in the 64-bit image's own layout (struct
 * fxsave_area), so this is mostly copying; what is left is the 32-bit
 * layout, the bits the hardware drops or recomputes, and what is not
 * saved (XMM8-15 outside 64-bit mode, MXCSR and XMM without OSFXSR).
 *
 *   0  FCW, FSW, abridged FTW, reserved, FOP
 *   8  FIP: 64 bits (REX.W), or 32 bits and a selector (saved as zero)
 *  16  FDP: likewise
 *  24  MXCSR, MXCSR_MASK
 *  32  ST0..ST7, 16 bytes each (10 used, the rest written as zero)
 * 160  XMM0..XMM15
 */
#include <string.h>

#include "engine/soft/sse/fxsave.h"
#include "engine/soft/sse/mxcsr.h"
#include "engine/soft/x87/x87.h"
#include "lib/unaligned.h"

static unsigned int nr_saved_xmm(struct fxsave_mode mode)
{
	return mode.long_mode ? 16 : 8;
}

void fxsave_store(const struct fxsave_area *fx, u8 *image,
		  struct fxsave_mode mode)
{
	memset(image, 0, 24);
	memset(image + 32, 0, 128);
	put_le16(image + 0, fx->fcw);
	put_le16(image + 2, fx->fsw);
	image[4] = fx->ftw;
	put_le16(image + 6, fx->fop);
	if (mode.rex_w) {
		put_le64(image + 8, fx->fip);
		put_le64(image + 16, fx->fdp);
	} else {
		put_le32(image + 8, (u32)fx->fip);
		put_le32(image + 16, (u32)fx->fdp);
	}
	for (unsigned int i = 0; i < 8; i++)
		memcpy(image + 32 + 16 * i, fx->st[i].bytes, 10);
	if (!mode.osfxsr)
		return;
	put_le32(image + 24, fx->mxcsr);
	put_le32(image + 28, MXCSR_SUPPORTED);
	memcpy(image + 160, fx->xmm, 16 * nr_saved_xmm(mode));
}

int fxsave_load(struct fxsave_area *fx, const u8 *image,
		struct fxsave_mode mode)
{
	u32 mxcsr = get_le32(image + 24);

	if (mode.osfxsr && (mxcsr & ~MXCSR_SUPPORTED))
		return FPU_GP;
	fx->fcw = x87_fcw_value(get_le16(image + 0));
	fx->fsw = get_le16(image + 2);
	fx->ftw = image[4];
	fx->fop = get_le16(image + 6) & 0x7ff;
	if (mode.rex_w) {
		fx->fip = get_le64(image + 8);
		fx->fdp = get_le64(image + 16);
	} else {
		fx->fip = get_le32(image + 8);
		fx->fdp = get_le32(image + 16);
	}
	for (unsigned int i = 0; i < 8; i++) {
		memcpy(fx->st[i].bytes, image + 32 + 16 * i, 10);
		memset(fx->st[i].rsvd, 0, sizeof(fx->st[i].rsvd));
	}
	x87_update_es(fx);
	if (!mode.osfxsr)
		return FPU_OK;
	fx->mxcsr = mxcsr;
	fx->mxcsr_mask = MXCSR_SUPPORTED;
	memcpy(fx->xmm, image + 160, 16 * nr_saved_xmm(mode));
	return FPU_OK;
}

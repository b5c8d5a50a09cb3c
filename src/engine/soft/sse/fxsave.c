// SPDX-License-Identifier: Apache-2.0
/*
 * FXSAVE and FXRSTOR: the x87, MXCSR and XMM state as one 512-byte image.
 *
 *   0  FCW, FSW, abridged FTW, reserved, FOP
 *   8  FIP: 64 bits (REX.W) or offset + FCS selector
 *  16  FDP: 64 bits (REX.W) or offset + FDS selector
 *  24  MXCSR, MXCSR_MASK
 *  32  ST0..ST7, 16 bytes each (10 used, the rest written as zero)
 * 160  XMM0..XMM15 (XMM0..7 outside 64-bit mode)
 */
#include <string.h>

#include "engine/soft/sse/fxsave.h"
#include "engine/soft/sse/mxcsr.h"

static void put16(u8 *p, u16 v)
{
	memcpy(p, &v, 2);
}

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static void put64(u8 *p, u64 v)
{
	memcpy(p, &v, 8);
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

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

static unsigned int nr_saved_xmm(const struct fxsave_ctx *c)
{
	return c->long_mode ? 16 : 8;
}

void fxsave_store(const struct fxsave_ctx *c, u8 *image)
{
	const struct x87_state *x = c->x87;

	memset(image, 0, 24);
	memset(image + 32, 0, 128);
	put16(image + 0, x->fcw);
	put16(image + 2, x->fsw);
	image[4] = x->ftw;
	put16(image + 6, x->fop);
	if (c->rex_w) {
		put64(image + 8, x->fip);
		put64(image + 16, x->fdp);
	} else {
		/* The selectors at 12 and 20 are deprecated: zero. */
		put32(image + 8, (u32)x->fip);
		put32(image + 16, (u32)x->fdp);
	}
	for (unsigned int i = 0; i < 8; i++)
		memcpy(image + 32 + 16 * i, x->st[i], 10);
	if (!c->osfxsr)
		return;
	put32(image + 24, *c->mxcsr);
	put32(image + 28, MXCSR_SUPPORTED);
	memcpy(image + 160, c->xmm, 16 * nr_saved_xmm(c));
}

enum fpu_fault fxsave_load(const struct fxsave_ctx *c, const u8 *image)
{
	struct x87_state *x = c->x87;
	u32 mxcsr = get32(image + 24);

	if (c->osfxsr && (mxcsr & ~MXCSR_SUPPORTED))
		return FPU_GP;
	x->fcw = x87_fcw_value(get16(image + 0));
	x->fsw = get16(image + 2);
	x->ftw = image[4];
	x->fop = get16(image + 6) & 0x7ff;
	if (c->rex_w) {
		x->fip = get64(image + 8);
		x->fdp = get64(image + 16);
	} else {
		x->fip = get32(image + 8);
		x->fdp = get32(image + 16);
	}
	for (unsigned int i = 0; i < 8; i++)
		memcpy(x->st[i], image + 32 + 16 * i, 10);
	x87_update_es(x);
	if (!c->osfxsr)
		return FPU_OK;
	*c->mxcsr = mxcsr;
	memcpy(c->xmm, image + 160, 16 * nr_saved_xmm(c));
	return FPU_OK;
}

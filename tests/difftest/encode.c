// SPDX-License-Identifier: Apache-2.0
#include "encode.h"

#include <string.h>

static void put(u8 *out, unsigned int *n, u64 v, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		out[(*n)++] = (u8)(v >> (8 * i));
}

/* ModRM, SIB and displacement of a memory operand; REX.X/B into *rex. */
static void emit_mem(const struct enc *e, u8 *out, unsigned int *n, u8 *rex, int *rip_disp)
{
	const struct enc_mem *m = &e->mem;
	u8 reg = (e->reg & 7) << 3;
	unsigned int dsize = m->disp_size;
	u8 mod;

	if (m->base == ENC_RIP) {
		out[(*n)++] = 0x05 | reg;
		*rip_disp = (int)*n;
		put(out, n, 0, 4);
		return;
	}
	if (m->base == ENC_NONE) {
		/* [index*scale + disp32] or [disp32]: SIB with base 101, mod 00. */
		u8 idx = m->index == ENC_NONE ? 4 : (m->index & 7);

		if (m->index != ENC_NONE && m->index >= 8)
			*rex |= 2;
		out[(*n)++] = 0x04 | reg;
		out[(*n)++] = (u8)(m->scale << 6 | idx << 3 | 5);
		put(out, n, (u64)m->disp, 4);
		return;
	}
	if (m->base >= 8)
		*rex |= 1;
	if (dsize == 0 && (m->base & 7) == 5)
		dsize = 1;	/* mod 00 with base 101 means no base */
	if (dsize == 1 && (m->disp < -128 || m->disp > 127))
		dsize = 4;
	if (dsize == 0 && m->disp)
		dsize = (m->disp >= -128 && m->disp <= 127) ? 1 : 4;
	mod = dsize == 0 ? 0 : dsize == 1 ? 1 : 2;
	if (m->index != ENC_NONE || (m->base & 7) == 4 || m->sib) {
		u8 idx = m->index == ENC_NONE ? 4 : (m->index & 7);

		if (m->index != ENC_NONE && m->index >= 8)
			*rex |= 2;
		out[(*n)++] = (u8)(mod << 6 | reg | 4);
		out[(*n)++] = (u8)(m->scale << 6 | idx << 3 | (m->base & 7));
	} else {
		out[(*n)++] = (u8)(mod << 6 | reg | (m->base & 7));
	}
	put(out, n, (u64)m->disp, dsize);
}

unsigned int enc_emit(const struct enc *e, u64 addr, u8 *out, int *disp_off)
{
	u8 body[ENC_MAX];
	unsigned int nb = 0, n = 0;
	u8 rex = e->rex & 0xf;
	int rip_disp = -1;

	/* The part after the REX, to learn the REX bits first. */
	if (e->map >= 1)
		body[nb++] = 0x0f;
	if (e->map == 2)
		body[nb++] = 0x38;
	if (e->map == 3)
		body[nb++] = 0x3a;
	body[nb++] = e->op;
	if (e->modrm) {
		if (e->reg >= 8)
			rex |= 4;
		if (e->rm_mem) {
			emit_mem(e, body, &nb, &rex, &rip_disp);
		} else {
			if (e->rm >= 8)
				rex |= 1;
			body[nb++] = (u8)(0xc0 | (e->reg & 7) << 3 | (e->rm & 7));
		}
	}
	put(body, &nb, e->imm, e->imm_size);
	put(body, &nb, e->imm2, e->imm2_size);
	memcpy(body + nb, e->suffix, e->nsuffix);
	nb += e->nsuffix;

	if (e->rex_early && (rex || e->need_rex))
		out[n++] = 0x40 | rex;
	memcpy(out + n, e->pfx, e->npfx);
	n += e->npfx;
	if (!e->rex_early && (rex || e->need_rex))
		out[n++] = 0x40 | rex;
	memcpy(out + n, body, nb);
	if (rip_disp >= 0) {
		s64 d = (s64)(e->mem.rip_target - (addr + n + nb));

		rip_disp += (int)n;
		for (int i = 0; i < 4; i++)
			out[rip_disp + i] = (u8)((u64)d >> (8 * i));
	}
	n += nb;
	if (disp_off)
		*disp_off = rip_disp;
	return n;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_ENCODE_H
#define KILN_TESTS_DIFFTEST_ENCODE_H

#include "lib/types.h"

/*
 * A small x86-64 encoder: what the generator asks for, byte by byte. It
 * does no checking of its own beyond what it must to produce the form
 * asked for; the generator decides what is legal.
 */

#define ENC_NONE (-1)
#define ENC_RIP 16		/* enc_mem.base: RIP-relative */

struct enc_mem {
	s8 base;		/* 0-15, ENC_RIP, or ENC_NONE */
	s8 index;		/* 0-15 but 4, or ENC_NONE */
	u8 scale;		/* log2: 0-3 */
	u8 disp_size;		/* 0, 1 or 4 (raised as the encoding needs) */
	bool sib;		/* a SIB byte even when not needed */
	s64 disp;
	u64 rip_target;		/* ENC_RIP: the address to reach */
};

struct enc {
	u8 pfx[16];		/* legacy prefixes, in the order emitted */
	u8 npfx;
	u8 rex;			/* W=8 R=4 X=2 B=1, ORed with what the operands need */
	bool need_rex;		/* REX even with no bits: SPL..DIL, ignored REX */
	bool rex_early;		/* REX before the legacy prefixes (so ignored) */
	bool no_rex;		/* AH..BH in use: the generator must add no REX */
	bool pfx_fixed;		/* keep the prefix order (else g_insn shuffles it) */
	u8 map;			/* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
	u8 op;
	bool modrm;
	u8 reg;			/* ModRM.reg: register 0-15 or /digit */
	bool rm_mem;
	u8 rm;			/* register 0-15 when !rm_mem */
	struct enc_mem mem;
	u8 imm_size;		/* 0, 1, 2, 4, 8 */
	u64 imm;
	u8 imm2_size;
	u64 imm2;
	u8 suffix[4];		/* fixed bytes after everything (none usually) */
	u8 nsuffix;
};

/* Longest output: over-long instructions are generated on purpose. */
#define ENC_MAX 32

static inline void enc_pfx(struct enc *e, u8 b)
{
	if (e->npfx < sizeof(e->pfx))
		e->pfx[e->npfx++] = b;
}

/*
 * Encodes e for address addr into out (ENC_MAX bytes). Returns the length.
 * *disp_off, when not NULL, gets the offset of a RIP-relative disp32 (or
 * -1), for jump targets patched later.
 */
unsigned int enc_emit(const struct enc *e, u64 addr, u8 *out, int *disp_off);

#endif

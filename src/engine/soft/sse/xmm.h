/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_XMM_H
#define KILN_SOFT_SSE_XMM_H

#include "lib/types.h"

/*
 * One 128-bit XMM register, seen through every lane width. The soft CPU's
 * register file is an array of these.
 */
union xmm {
	u8 b[16];
	u16 w[8];
	u32 d[4];
	u64 q[2];
	float f[4];
	double df[2];
} __attribute__((aligned(16)));

#define NR_XMM 16

#endif

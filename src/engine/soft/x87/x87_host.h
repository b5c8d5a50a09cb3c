/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_X87_X87_HOST_H
#define KILN_SOFT_X87_X87_HOST_H

#include "lib/types.h"

/* FNSAVE/FRSTOR image, 32-bit protected-mode layout. */
#define X87_SAVE_BYTES 108

/* Stub index of a register form (mod == 3) and of a memory form. */
static inline unsigned int x87_host_reg_index(u8 opcode, u8 modrm)
{
	return (opcode - 0xd8u) * 64 + (modrm - 0xc0u);
}

static inline unsigned int x87_host_mem_index(u8 opcode, u8 modrm)
{
	return 512 + (opcode - 0xd8u) * 8 + ((modrm >> 3) & 7);
}

/*
 * FRSTOR image, run stub index (mem: its memory operand, or NULL), FNSAVE
 * back into image. The guest's OF, SF, ZF, AF, PF and CF from rflags are
 * loaded first (FCMOVcc reads them); returns rflags with those six as the
 * instruction left them (FCOMI writes them). The state in image must have
 * no unmasked exception pending.
 */
u64 x87_host_run(u8 image[X87_SAVE_BYTES], unsigned int index, void *mem,
		 u64 rflags);

#endif

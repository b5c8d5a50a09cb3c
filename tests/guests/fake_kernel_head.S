/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The start of the bzImage payload: a 32-bit entry we do not support (it
 * halts), and the 64-bit entry exactly at offset 0x200 as the boot protocol
 * wants. mkbzimage checks that the ELF entry sits there.
 */
#include "fake_kernel.h"

	.section .text.head, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
1:	hlt
	jmp	1b

	.org	FK_ENTRY64_OFFSET
	.code64
	.globl startup_64
startup_64:
	jmp	_start

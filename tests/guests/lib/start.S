/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The 64-bit entry: the loader leaves us in long mode with 0-4 GiB
 * identity mapped, interrupts off and RSI = boot_params. Everything here is
 * RIP-relative, so that it runs wherever the image was loaded.
 */
	.section .text.start, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	lea	stack_top(%rip), %rsp
	mov	%rsi, %rbx
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	mov	%rbx, %rdi
	call	guest_start
1:	cli
	hlt
	jmp	1b

	.section .stack, "aw", @nobits
	.balign 16
	.skip 16384
stack_top:

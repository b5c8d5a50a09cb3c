/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where an AP starts after INIT-SIPI-SIPI: copied by the BSP to
 * TRAMPOLINE_BASE (the SIPI vector's page), never run in place. Real mode
 * -> protected mode -> long mode with the BSP's page tables, then
 * ap_main(slot) on a stack of its own. The BSP patches the tr_* words.
 */
#include "smp.h"

#define TR(sym) (TRAMPOLINE_BASE + ((sym) - trampoline_start))

	.section .rodata, "a"
	.globl trampoline_start, trampoline_end
	.globl tr_cr3, tr_cr4, tr_efer, tr_entry, tr_stacks
	.code16
trampoline_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	tr_gdt_desc - trampoline_start
	mov	%cr0, %eax
	or	$1, %eax			/* PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $TR(tr_protected)

	.code32
tr_protected:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	TR(tr_cr4), %eax		/* the BSP's, PAE included */
	mov	%eax, %cr4
	mov	TR(tr_cr3), %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* EFER: LME, and NXE if the BSP has it */
	mov	TR(tr_efer), %eax
	mov	TR(tr_efer) + 4, %edx
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax		/* PG */
	mov	%eax, %cr0
	ljmpl	$0x18, $TR(tr_long)

	.code64
tr_long:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	/* A stack slot no other AP has, whatever APIC ID it claims. */
	mov	$1, %eax
	lock xadd %eax, TR(tr_next_slot)
	mov	%eax, %edi
	lea	1(%rax), %rax
	shl	$AP_STACK_SHIFT, %rax
	add	TR(tr_stacks), %rax
	mov	%rax, %rsp
	call	*TR(tr_entry)
1:	cli
	hlt
	jmp	1b

	.balign 8
tr_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
	.quad	0x00af9a000000ffff		/* 0x18: 64-bit code */
tr_gdt_desc:
	.word	4 * 8 - 1
	.long	TR(tr_gdt)
	.balign 8
tr_cr3:		.quad 0
tr_cr4:		.quad 0
tr_efer:	.quad 0
tr_entry:	.quad 0
tr_stacks:	.quad 0
tr_next_slot:	.long 0
trampoline_end:

	.section .stack, "aw", @nobits
	.balign 4096
	.globl ap_stacks
ap_stacks:
	.skip	(MAX_APS + 1) << AP_STACK_SHIFT

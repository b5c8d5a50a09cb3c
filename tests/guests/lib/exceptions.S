/* SPDX-License-Identifier: Apache-2.0 */
/* One 16-byte stub per CPU exception: a fault is reported, not a triple fault. */
	.text
	.code64

.macro exception_stub n
	.balign 16
	.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	push	$0			/* no error code from the CPU: a dummy one */
	.endif
	push	$\n
	jmp	exception_common
.endm

	.balign 16
	.globl exception_stubs
exception_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	exception_stub \n
	.endr

exception_common:
	mov	(%rsp), %rdi		/* vector */
	mov	8(%rsp), %rsi		/* error code */
	mov	16(%rsp), %rdx		/* faulting RIP */
	and	$-16, %rsp
	call	exception_report	/* does not return */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native side's way in and out of a sequence (native.c).
 *
 * dt_native_enter(const struct dt_regs *in, struct dt_regs *out) saves the
 * C caller's state, loads every register of *in (FXRSTOR for x87/SSE, the
 * FS/GS bases when the host allows WRFSBASE) and jumps to in->rip. The
 * sequence ends with "jmp *dt_native_exit", which stores every register
 * into *out without touching the sequence's stack, restores the caller's
 * state and returns 0 from dt_native_enter. A fault inside the sequence
 * goes to the signal handler instead, through dt_signal_entry.
 */
#define R_RIP 128
#define R_RFLAGS 136
#define R_FS 144
#define R_GS 152
#define R_FX 160
#define HOST_RFLAGS 0x202	/* IF (fixed at CPL 3) and bit 1: no DF, AC, TF */

	.text
	.globl dt_native_text_start, dt_native_text_end
dt_native_text_start:
	.globl dt_native_enter
	.type dt_native_enter, @function
dt_native_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, dt_host_rsp(%rip)
	mov %rsi, dt_out(%rip)
	fxsave64 dt_host_fx(%rip)
	cmpb $0, dt_use_fsgsbase(%rip)
	je 1f
	mov R_FS(%rdi), %rax
	wrfsbase %rax
	mov R_GS(%rdi), %rax
	wrgsbase %rax
1:	mov R_RIP(%rdi), %rax
	mov %rax, dt_entry(%rip)
	fxrstor64 R_FX(%rdi)
	pushq R_RFLAGS(%rdi)
	popfq
	mov 0(%rdi), %rax
	mov 8(%rdi), %rcx
	mov 16(%rdi), %rdx
	mov 24(%rdi), %rbx
	mov 32(%rdi), %rsp
	mov 40(%rdi), %rbp
	mov 48(%rdi), %rsi
	mov 64(%rdi), %r8
	mov 72(%rdi), %r9
	mov 80(%rdi), %r10
	mov 88(%rdi), %r11
	mov 96(%rdi), %r12
	mov 104(%rdi), %r13
	mov 112(%rdi), %r14
	mov 120(%rdi), %r15
	mov 56(%rdi), %rdi
	jmp *dt_entry(%rip)
	.size dt_native_enter, . - dt_native_enter

	.globl dt_native_exit
	.type dt_native_exit, @function
dt_native_exit:
	/* No flag-changing instruction before the pushfq. */
	mov %rdi, dt_scratch(%rip)
	mov dt_out(%rip), %rdi
	mov %rax, 0(%rdi)
	mov %rcx, 8(%rdi)
	mov %rdx, 16(%rdi)
	mov %rbx, 24(%rdi)
	mov %rsp, 32(%rdi)
	mov %rbp, 40(%rdi)
	mov %rsi, 48(%rdi)
	mov %r8, 64(%rdi)
	mov %r9, 72(%rdi)
	mov %r10, 80(%rdi)
	mov %r11, 88(%rdi)
	mov %r12, 96(%rdi)
	mov %r13, 104(%rdi)
	mov %r14, 112(%rdi)
	mov %r15, 120(%rdi)
	mov dt_scratch(%rip), %rax
	mov %rax, 56(%rdi)
	mov dt_host_rsp(%rip), %rsp
	pushfq
	popq R_RFLAGS(%rdi)
	pushq $HOST_RFLAGS
	popfq
	fxsave64 R_FX(%rdi)
	fxrstor64 dt_host_fx(%rip)
	call dt_restore_host_bases
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret
	.size dt_native_exit, . - dt_native_exit

/* Clobbers rax only. */
	.type dt_restore_host_bases, @function
dt_restore_host_bases:
	cmpb $0, dt_use_fsgsbase(%rip)
	je 1f
	mov dt_host_fsbase(%rip), %rax
	wrfsbase %rax
	mov dt_host_gsbase(%rip), %rax
	wrgsbase %rax
1:	ret
	.size dt_restore_host_bases, . - dt_restore_host_bases

/*
 * Signal handler entry: the host's flags and FS/GS bases come back before
 * any C code runs (glibc reads its TLS through FS).
 */
	.globl dt_signal_entry
	.type dt_signal_entry, @function
dt_signal_entry:
	pushq $HOST_RFLAGS
	popfq
	call dt_restore_host_bases
	jmp dt_signal_handler
	.size dt_signal_entry, . - dt_signal_entry
dt_native_text_end:

	.bss
	.balign 16
dt_host_fx:	.skip 512
	.globl dt_host_fsbase, dt_host_gsbase, dt_use_fsgsbase
dt_host_rsp:	.skip 8
dt_out:		.skip 8
dt_entry:	.skip 8
dt_scratch:	.skip 8
dt_host_fsbase:	.skip 8
dt_host_gsbase:	.skip 8
dt_use_fsgsbase: .skip 1

	.section .note.GNU-stack, "", @progbits

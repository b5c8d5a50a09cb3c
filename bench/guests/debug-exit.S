/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The start-up benchmark's guest: a multiboot (v1) kernel, which Kiln and
 * QEMU's -kernel both load, whose first instructions write 0 to the
 * debug-exit port. The VMM then exits with (0 << 1) | 1 = 1, so the time to
 * its exit is the time to the guest's first I/O, plus the exit path.
 *
 * Built by bench/run: gcc -m32 -c; ld -m elf_i386 -n -Ttext=0x100000 -e _start
 */
#define MULTIBOOT_MAGIC 0x1badb002
#define DEBUG_EXIT_PORT 0xf4

	.text
	.code32
	/* The header: in the first 8 KiB, 4-byte aligned; flags 0. */
	.balign 4
	.long MULTIBOOT_MAGIC
	.long 0
	.long -MULTIBOOT_MAGIC

	.globl _start
_start:
	xor	%eax, %eax
	out	%al, $DEBUG_EXIT_PORT
	/* A VMM without the port goes on: stop here rather than run off. */
1:	cli
	hlt
	jmp	1b

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_DEBUG_EXIT_H
#define KILN_DEV_DEBUG_EXIT_H

/*
 * QEMU's isa-debug-exit (iobase 0xf4, iosize 4): a write of v at any width
 * stops the VM with exit code (v << 1) | 1, so test guests can report a
 * result that never looks like Kiln's own codes (which are even).
 */

struct vm;

int debug_exit_create(struct vm *vm);

#endif

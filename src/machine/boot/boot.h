/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_BOOT_H
#define KILN_MACHINE_BOOT_BOOT_H

#include "engine/cpu_state.h"

struct vm;

/*
 * Loads vm->cfg->kernel_path (bzImage, ELF vmlinux with a PVH note or a
 * 64-bit entry, or a multiboot v1 image), the initrd and the cmdline into
 * guest memory, and fills the boot vCPU's entry state. Prints a precise
 * error and returns -1 for a malformed image.
 */
int boot_load(struct vm *vm, struct cpu_state *bsp);

#endif

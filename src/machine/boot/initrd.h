/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_INITRD_H
#define KILN_MACHINE_BOOT_INITRD_H

#include "lib/types.h"

struct vm;

struct initrd_info {
	bool present;
	u64 addr;
	u64 size;
};

/*
 * Loads --initrd, when given, page-aligned inside usable RAM [lo, hi): as
 * high as it goes when high is true (where Linux wants it, clear of the
 * kernel's decompression), else as low as it goes (a multiboot module
 * right after the kernel). Errors when the file is missing or won't fit.
 */
int initrd_load(struct vm *vm, u64 lo, u64 hi, bool high, struct initrd_info *out);

#endif

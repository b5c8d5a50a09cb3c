/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_CMDLINE_H
#define KILN_MACHINE_BOOT_CMDLINE_H

#include "lib/types.h"

struct vm;

/*
 * Writes "prefix cmdline" (or just cmdline when prefix is NULL) with its
 * NUL at LAYOUT_CMDLINE. max_len is the longest string the kernel accepts,
 * NUL excluded; a longer one is an error, not silently cut.
 */
int boot_cmdline_write(struct vm *vm, const char *prefix, u64 max_len);

#endif

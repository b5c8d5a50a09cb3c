/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_PLACEMENT_H
#define KILN_MACHINE_BOOT_PLACEMENT_H

#include "lib/types.h"

struct vm;

/*
 * Where the loader may put a kernel, an initrd or a module: usable RAM
 * (e820 type RAM) from 1 MiB up. Below 1 MiB live the loader's own boot
 * data (GDT, boot_params, page tables, cmdline) and the ACPI tables.
 */

/* End of the RAM that starts at 1 MiB: the top of RAM below the PCI hole. */
u64 boot_low_ram_end(const struct vm *vm);

/* True when [addr, addr + len) lies in one e820 RAM entry at or above 1 MiB. */
bool boot_range_usable(const struct vm *vm, u64 addr, u64 len);

#endif

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

/*
 * Conventional RAM a multiboot entry leaves free, as a BIOS-loaded kernel
 * may use it (kvm-unit-tests' realmode test links at 32 KiB): from
 * BOOT_LOW_LOAD_START to the EBDA, except the command line. Below 32 KiB
 * are the IVT, the BIOS data area, the boot GDT, the BIOS stub and the
 * multiboot info. Long-mode entries keep their page tables in this range,
 * so only the multiboot loader may load here.
 */
#define BOOT_LOW_LOAD_START	0x8000ULL
bool boot_low_range_usable(const struct vm *vm, u64 addr, u64 len);

/* What the two say, for error messages. */
#define BOOT_USABLE_HIGH	"which starts at 1 MiB"
#define BOOT_USABLE_LOW_TOO	"from 1 MiB up, or 0x8000-0x9fbff outside the command line " \
				"at 0x20000-0x2ffff"

#endif

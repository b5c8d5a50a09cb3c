/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_ACPI_ACPI_H
#define KILN_MACHINE_ACPI_ACPI_H

#include "lib/types.h"

struct vm;

/*
 * Writes RSDP, XSDT, RSDT, FADT, FACS, MADT and DSDT into guest memory at
 * LAYOUT_ACPI_TABLES: every vCPU, the IOAPIC, PM1 power-off and the reset
 * register. The RSDP comes first, in the 0xe0000-0xfffff BIOS area that
 * guests scan for "RSD PTR ".
 */
int acpi_build(struct vm *vm);

/* Guest-physical address of the RSDP, for boot_params and PVH start info. */
u64 acpi_rsdp_addr(void);

#endif

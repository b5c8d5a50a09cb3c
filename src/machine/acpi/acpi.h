/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_ACPI_ACPI_H
#define KILN_MACHINE_ACPI_ACPI_H

struct vm;

/*
 * Writes RSDP, XSDT, MADT, FADT and DSDT into guest memory at
 * LAYOUT_ACPI_TABLES: every vCPU, the IOAPIC, PM1 power-off and the reset
 * register.
 */
int acpi_build(struct vm *vm);

#endif

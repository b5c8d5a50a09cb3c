/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_ACPI_BUILDERS_H
#define KILN_MACHINE_ACPI_BUILDERS_H

#include "machine/acpi/acpi_tables.h"
#include "machine/acpi/aml.h"

/*
 * One builder per table, each into host memory; acpi.c places them in
 * guest RAM and links them. Variable-sized tables come back malloc'd.
 */

/* The DSDT, header included and sealed; NULL on error. */
u8 *dsdt_build(size_t *len);

/* The MADT for nr_cpus vCPUs, sealed; NULL on error. */
struct acpi_madt *madt_build(unsigned int nr_cpus, size_t *len);

void fadt_build(struct acpi_fadt *fadt, u64 dsdt_addr, u64 facs_addr);
void facs_build(struct acpi_facs *facs);

#endif

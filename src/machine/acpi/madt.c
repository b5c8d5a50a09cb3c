// SPDX-License-Identifier: Apache-2.0
/*
 * MADT: one local APIC per vCPU (APIC ID = vCPU index), the IOAPIC, the
 * ISA overrides for the PIT and the SCI, and LINT1 as NMI.
 */
#include <stdlib.h>
#include <string.h>

#include "machine/acpi/builders.h"
#include "machine/layout.h"

#define ISA_IRQ_PIT		0
#define ISA_IRQ_SCI		GSI_ACPI_SCI	/* ISA IRQ 9 is GSI 9 */
#define MADT_ALL_PROCESSORS	0xff
#define LAPIC_LINT1		1

struct acpi_madt *madt_build(unsigned int nr_cpus, size_t *len)
{
	size_t size = sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_lapic) +
		      sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_int_override) +
		      sizeof(struct madt_lapic_nmi);
	struct madt_int_override *iso;
	struct madt_lapic_nmi *nmi;
	struct madt_ioapic *ioapic;
	struct madt_lapic *lapic;
	struct acpi_madt *madt;
	u8 *p;

	if (nr_cpus == 0 || nr_cpus > 0xff)
		return NULL;
	madt = calloc(1, size);
	if (!madt)
		return NULL;
	acpi_header_init(&madt->hdr, "APIC", (u32)size, ACPI_MADT_REVISION);
	madt->lapic_addr = (u32)LAYOUT_LAPIC_BASE;
	madt->flags = MADT_PCAT_COMPAT;	/* a pair of 8259s is there too */
	p = (u8 *)(madt + 1);

	for (unsigned int i = 0; i < nr_cpus; i++) {
		lapic = (struct madt_lapic *)p;
		*lapic = (struct madt_lapic){
			.type = MADT_LAPIC, .length = sizeof(*lapic),
			.processor_uid = (u8)i, .apic_id = (u8)i,
			.flags = MADT_LAPIC_ENABLED,
		};
		p += sizeof(*lapic);
	}

	ioapic = (struct madt_ioapic *)p;
	*ioapic = (struct madt_ioapic){
		.type = MADT_IOAPIC, .length = sizeof(*ioapic),
		.ioapic_id = (u8)nr_cpus, .address = (u32)LAYOUT_IOAPIC_BASE,
		.gsi_base = 0,
	};
	p += sizeof(*ioapic);

	iso = (struct madt_int_override *)p;
	*iso = (struct madt_int_override){
		.type = MADT_INT_OVERRIDE, .length = sizeof(*iso),
		.source = ISA_IRQ_PIT, .gsi = GSI_PIT, .flags = 0,	/* ISA: edge, high */
	};
	p += sizeof(*iso);
	iso = (struct madt_int_override *)p;
	*iso = (struct madt_int_override){
		.type = MADT_INT_OVERRIDE, .length = sizeof(*iso),
		.source = ISA_IRQ_SCI, .gsi = GSI_ACPI_SCI,
		.flags = MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL,
	};
	p += sizeof(*iso);

	nmi = (struct madt_lapic_nmi *)p;
	*nmi = (struct madt_lapic_nmi){
		.type = MADT_LAPIC_NMI, .length = sizeof(*nmi),
		.processor_uid = MADT_ALL_PROCESSORS, .flags = 0, .lint = LAPIC_LINT1,
	};

	acpi_header_seal(&madt->hdr);
	*len = size;
	return madt;
}

// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "machine/acpi/acpi_tables.h"

_Static_assert(sizeof(struct acpi_header) == 36, "acpi_header layout");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "acpi_rsdp layout");
_Static_assert(sizeof(struct acpi_gas) == 12, "acpi_gas layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.0 layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags offset");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT offset");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC layout");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC layout");
_Static_assert(sizeof(struct madt_int_override) == 10, "MADT ISO layout");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT NMI layout");

u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

void acpi_header_init(struct acpi_header *h, const char sig[4], u32 length, u8 revision)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = 1;
}

void acpi_header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (u8)-acpi_checksum(h, h->length);
}

// SPDX-License-Identifier: Apache-2.0
#include "machine/acpi/acpi.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/acpi/builders.h"
#include "machine/layout.h"
#include "machine/vm.h"

/* The tables fill the BIOS area, from the RSDP at its start to 1 MiB. */
#define ACPI_AREA_END	LAYOUT_HIGH_RAM_START
#define ACPI_ALIGN	16
#define FACS_ALIGN	64

_Static_assert(LAYOUT_ACPI_TABLES >= 0xe0000 && LAYOUT_ACPI_TABLES % 16 == 0,
	       "the RSDP must be where guests scan for it");

/* Hands out guest addresses in the ACPI area and copies tables there. */
struct acpi_area {
	struct vm *vm;
	u64 next;
};

static int place(struct acpi_area *area, const void *table, size_t len, u64 align, u64 *addr)
{
	u64 at = ALIGN_UP(area->next, align);

	if (at > ACPI_AREA_END || len > ACPI_AREA_END - at ||
	    guest_write(&area->vm->mem, at, table, len)) {
		pr_err("ACPI: tables do not fit in %#llx..%#llx", LAYOUT_ACPI_TABLES,
		       ACPI_AREA_END);
		return -1;
	}
	area->next = at + len;
	*addr = at;
	return 0;
}

/* XSDT (64-bit entries) or RSDT (32-bit entries) listing the tables at addrs. */
static int place_sdt(struct acpi_area *area, const char *sig, unsigned int width,
		     const u64 *addrs, unsigned int n, u64 *at)
{
	u8 buf[sizeof(struct acpi_header) + 8 * 8];
	struct acpi_header *h = (struct acpi_header *)buf;
	u32 len = (u32)(sizeof(*h) + (size_t)width * n);

	if (len > sizeof(buf))
		return -1;
	acpi_header_init(h, sig, len, 1);
	for (unsigned int i = 0; i < n; i++)
		memcpy(buf + sizeof(*h) + (size_t)i * width, &addrs[i], width);
	acpi_header_seal(h);
	return place(area, buf, len, ACPI_ALIGN, at);
}

static void rsdp_build(struct acpi_rsdp *rsdp, u64 rsdt, u64 xsdt)
{
	memset(rsdp, 0, sizeof(*rsdp));
	memcpy(rsdp->signature, "RSD PTR ", sizeof(rsdp->signature));
	memcpy(rsdp->oem_id, ACPI_OEM_ID, sizeof(rsdp->oem_id));
	rsdp->revision = 2;
	rsdp->rsdt_addr = (u32)rsdt;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_addr = xsdt;
	rsdp->checksum = (u8)-acpi_checksum(rsdp, ACPI_RSDP_V1_SIZE);
	rsdp->ext_checksum = (u8)-acpi_checksum(rsdp, sizeof(*rsdp));
}

u64 acpi_rsdp_addr(void)
{
	return LAYOUT_ACPI_TABLES;
}

int acpi_build(struct vm *vm)
{
	struct acpi_area area = { .vm = vm, .next = LAYOUT_ACPI_TABLES + sizeof(struct acpi_rsdp) };
	struct acpi_madt *madt = NULL;
	u64 dsdt_at, facs_at, tables[2], xsdt_at, rsdt_at, rsdp_at;
	struct acpi_rsdp rsdp;
	struct acpi_fadt fadt;
	struct acpi_facs facs;
	size_t dsdt_len, madt_len;
	u8 *dsdt;
	int ret = -1;

	dsdt = dsdt_build(&dsdt_len);
	madt = madt_build(vm->nr_vcpus ? vm->nr_vcpus : vm->cfg->nr_cpus, &madt_len);
	if (!dsdt || !madt) {
		pr_err("ACPI: cannot build the %s", dsdt ? "MADT" : "DSDT");
		goto out;
	}
	facs_build(&facs);
	if (place(&area, dsdt, dsdt_len, ACPI_ALIGN, &dsdt_at) ||
	    place(&area, &facs, sizeof(facs), FACS_ALIGN, &facs_at))
		goto out;
	fadt_build(&fadt, dsdt_at, facs_at);
	if (place(&area, &fadt, sizeof(fadt), ACPI_ALIGN, &tables[0]) ||
	    place(&area, madt, madt_len, ACPI_ALIGN, &tables[1]) ||
	    place_sdt(&area, "XSDT", 8, tables, ARRAY_SIZE(tables), &xsdt_at) ||
	    place_sdt(&area, "RSDT", 4, tables, ARRAY_SIZE(tables), &rsdt_at))
		goto out;

	rsdp_build(&rsdp, rsdt_at, xsdt_at);
	area.next = LAYOUT_ACPI_TABLES;
	if (place(&area, &rsdp, sizeof(rsdp), ACPI_ALIGN, &rsdp_at))
		goto out;
	ret = 0;
out:
	free(dsdt);
	free(madt);
	return ret;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The DSDT: \_S5 for power-off, the PCI host bridge with its windows and
 * INTx routing, and COM1.
 */
#include <stdlib.h>
#include <string.h>

#include "machine/acpi/builders.h"
#include "machine/layout.h"

#define DSDT_REVISION	2	/* 64-bit AML integers */
#define PCI_SLOTS	32
#define PCI_PINS	4
#define STA_PRESENT	0x0f	/* present, enabled, shown, functioning */

static void emit_s5(struct aml *a)
{
	size_t pkg;

	/* SLP_TYPa, SLP_TYPb, then two reserved entries. */
	aml_name(a, "_S5");
	pkg = aml_package_open(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);
}

/* Wraps the descriptors in res (ended here) as Name(_CRS, Buffer(){...}). */
static void emit_crs(struct aml *a, struct aml *res)
{
	aml_res_end(res);
	if (res->failed)
		a->failed = true;
	aml_name(a, "_CRS");
	aml_buffer(a, res->buf, res->len);
	aml_free(res);
}

static void emit_pci_crs(struct aml *a)
{
	struct aml res;

	aml_init(&res);
	aml_res_word_bus(&res, 0x00, 0xff);
	aml_res_io(&res, PORT_PCI_CONFIG_ADDR, PORT_PCI_CONFIG_ADDR, 1, 8);
	aml_res_word_io(&res, 0x0000, PORT_PCI_CONFIG_ADDR - 1);
	aml_res_word_io(&res, 0x0d00, 0xffff);
	aml_res_dword_memory(&res, (u32)LAYOUT_PCI_MMIO_START, (u32)(LAYOUT_PCI_MMIO_END - 1));
	emit_crs(a, &res);
}

/*
 * _PRT: one entry per slot and pin, straight to a GSI (source 0), the
 * same swizzle the host bridge uses to raise them (GSI_PCI_INTX).
 */
static void emit_prt(struct aml *a)
{
	size_t prt, entry;

	aml_name(a, "_PRT");
	prt = aml_package_open(a, (PCI_SLOTS - 1) * PCI_PINS);
	for (unsigned int slot = 1; slot < PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < PCI_PINS; pin++) {
			entry = aml_package_open(a, 4);
			aml_integer(a, ((u64)slot << 16) | 0xffff);	/* any function */
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, GSI_PCI_INTX(slot, pin + 1));
			aml_close(a, entry);
		}
	}
	aml_close(a, prt);
}

static void emit_pci0(struct aml *a)
{
	size_t dev = aml_device_open(a, "PCI0");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	emit_pci_crs(a);
	emit_prt(a);
	aml_close(a, dev);
}

static void emit_com1(struct aml *a)
{
	size_t dev = aml_device_open(a, "COM1");
	size_t method;
	struct aml res;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	method = aml_method_open(a, "_STA", 0);
	aml_return(a);
	aml_integer(a, STA_PRESENT);
	aml_close(a, method);

	aml_init(&res);
	aml_res_io(&res, PORT_COM1, PORT_COM1, 1, 8);
	aml_res_irq(&res, 1U << GSI_COM1);
	emit_crs(a, &res);
	aml_close(a, dev);
}

u8 *dsdt_build(size_t *len)
{
	struct acpi_header hdr;
	struct aml a;
	size_t sb;

	aml_init(&a);
	memset(&hdr, 0, sizeof(hdr));
	aml_bytes(&a, &hdr, sizeof(hdr));	/* filled in below */
	emit_s5(&a);
	sb = aml_scope_open(&a, "\\_SB");
	emit_pci0(&a);
	emit_com1(&a);
	aml_close(&a, sb);
	if (a.failed || a.len > UINT32_MAX) {
		aml_free(&a);
		return NULL;
	}
	acpi_header_init(&hdr, "DSDT", (u32)a.len, DSDT_REVISION);
	memcpy(a.buf, &hdr, sizeof(hdr));
	acpi_header_seal((struct acpi_header *)a.buf);
	*len = a.len;
	return a.buf;
}

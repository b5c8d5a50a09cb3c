/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_LAYOUT_H
#define KILN_MACHINE_LAYOUT_H

/*
 * The guest's physical address map and I/O ports, in one place so that the
 * boot loader, ACPI tables, devices and engines agree.
 */

/* Memory. */
#define LAYOUT_LOW_RAM_END	0x0009fc00ULL	/* usable conventional memory */
#define LAYOUT_EBDA_START	0x0009fc00ULL
#define LAYOUT_BIOS_START	0x000e0000ULL	/* RSDP search area, reserved */
#define LAYOUT_HIGH_RAM_START	0x00100000ULL
#define LAYOUT_MMIO_HOLE_START	0xc0000000ULL	/* RAM below 4 GiB stops here */
#define LAYOUT_MMIO_HOLE_END	0x100000000ULL
#define LAYOUT_PCI_MMIO_START	0xc0000000ULL	/* 32-bit BARs */
#define LAYOUT_PCI_MMIO_END	0xfe000000ULL
#define LAYOUT_IOAPIC_BASE	0xfec00000ULL
#define LAYOUT_VTD_BASE		0xfed90000ULL	/* --iommu intel: 4 KiB of VT-d registers, q35's address */
#define LAYOUT_LAPIC_BASE	0xfee00000ULL
#define LAYOUT_MAX_RAM		(1ULL << 40)	/* 1 TiB */
/*
 * Pages the kvm engine hands to KVM on Intel hosts (real-mode TSS, three
 * pages, and the EPT identity map, one page): above the PCI window, below
 * 4 GiB, clear of RAM and of the IOAPIC/LAPIC. Reserved for nothing else.
 */
#define LAYOUT_KVM_IDENTITY_MAP	0xfffbc000ULL
#define LAYOUT_KVM_TSS		0xfffbd000ULL
/* --testdev only: pc-testdev's 64 KiB MMIO scratch, where QEMU puts it. */
#define LAYOUT_TESTDEV_IOMEM	0xff000000ULL

/* Boot data placed by the loader, all in low RAM. */
#define LAYOUT_GDT		0x00000500ULL
#define LAYOUT_BOOT_PARAMS	0x00007000ULL
#define LAYOUT_PAGE_TABLES	0x00009000ULL	/* PML4, PDPT, PDs: 0x9000-0xffff */
#define LAYOUT_CMDLINE		0x00020000ULL
#define LAYOUT_CMDLINE_MAX	0x00010000ULL
#define LAYOUT_BOOT_STACK	0x0008ff00ULL
#define LAYOUT_ACPI_TABLES	0x000e0000ULL	/* RSDP first, then the rest */
#define LAYOUT_KERNEL_DEFAULT	0x00100000ULL

/* I/O ports. */
#define PORT_PIT		0x40	/* ..0x43 */
#define PORT_I8042_DATA		0x60
#define PORT_I8042_CMD		0x64
#define PORT_RTC		0x70	/* index, data at 0x71 */
#define PORT_POST		0x80
#define PORT_PIC_MASTER		0x20
#define PORT_PIC_SLAVE		0xa0
#define PORT_DEBUG_EXIT		0xf4	/* 4 bytes, as QEMU's isa-debug-exit */
#define PORT_COM1		0x3f8
#define PORT_FW_CFG		0x510
#define PORT_ACPI_PM_BASE	0x600
#define PORT_ACPI_PM1_EVT	(PORT_ACPI_PM_BASE + 0x0)	/* 4 bytes: STS, EN */
#define PORT_ACPI_PM1_CNT	(PORT_ACPI_PM_BASE + 0x4)	/* 2 bytes */
#define PORT_ACPI_PM_TMR	(PORT_ACPI_PM_BASE + 0x8)	/* 4 bytes */
#define PORT_PCI_CONFIG_ADDR	0xcf8
#define PORT_PCI_RESET		0xcf9	/* byte writes: reset control */
#define PORT_PCI_CONFIG_DATA	0xcfc

/* The CMOS register holding the century, shared by the RTC and the FADT. */
#define CMOS_REG_CENTURY	0x32

/* Interrupt lines (GSIs) of the legacy devices. */
#define GSI_I8042_KBD		1
#define GSI_COM1		4
#define GSI_RTC			8
#define GSI_ACPI_SCI		9
#define GSI_I8042_AUX		12	/* PS/2 AUX port: ISA IRQ12 */
#define GSI_PCI_INTX_BASE	16	/* PCI INTx lines use GSIs 16..19 */
#define GSI_PIT			2	/* ISA IRQ0 is wired to IOAPIC pin 2 */

/*
 * PCI INTx routing, shared by the host bridge and the DSDT's _PRT: pin 1..4
 * (INTA..INTD) of slot s is swizzled onto GSI 16..19, level, active low.
 */
#define GSI_PCI_INTX(slot, pin)	(GSI_PCI_INTX_BASE + (((slot) + (pin) - 1) & 3))

/* PCI host bridge identity (00:00.0): Intel 440FX, which every OS knows. */
#define PCI_HOST_VENDOR_ID	0x8086
#define PCI_HOST_DEVICE_ID	0x1237

/* ACPI: the \_S5 SLP_TYP value the DSDT advertises and the PM block obeys. */
#define ACPI_SLP_TYP_S5		5
/* FADT RESET_REG: this value written to PORT_PCI_RESET resets the machine. */
#define ACPI_RESET_VALUE	0x06
#define PCI_IO_BAR_START	0xc000	/* port I/O BARs are allocated from here */

#endif

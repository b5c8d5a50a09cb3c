// SPDX-License-Identifier: Apache-2.0
/*
 * Bus 0 through configuration mechanism #1: the host bridge at 00:00.0 is
 * the one layout.h names, a bridge by class, and empty slots read all ones,
 * at every access width.
 */
#include "guest.h"
#include "machine/layout.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_CLASS_BRIDGE_HOST 0x0600

static void check_address_register(void)
{
	u32 addr = pci_cfg_address(0, 3, 2, 0x40);

	outl(PORT_PCI_CONFIG_ADDR, addr);
	CHECK(inl(PORT_PCI_CONFIG_ADDR) == addr,
	      "0xcf8 reads back 0x%x after writing 0x%x", inl(PORT_PCI_CONFIG_ADDR), addr);
}

static void check_host_bridge(void)
{
	u32 id = pci_cfg_read32(0, 0, 0, PCI_VENDOR_ID);
	u32 class_rev = pci_cfg_read32(0, 0, 0, PCI_CLASS_REVISION);

	CHECK((id & 0xffff) == PCI_HOST_VENDOR_ID && id >> 16 == PCI_HOST_DEVICE_ID,
	      "00:00.0 is %04x:%04x, expected the host bridge %04x:%04x",
	      id & 0xffff, id >> 16, PCI_HOST_VENDOR_ID, PCI_HOST_DEVICE_ID);
	CHECK(class_rev >> 16 == PCI_CLASS_BRIDGE_HOST,
	      "00:00.0 has class %04x, expected %04x (host bridge)",
	      class_rev >> 16, PCI_CLASS_BRIDGE_HOST);
	/* The same registers through the data port's narrower windows. */
	CHECK(pci_cfg_read16(0, 0, 0, PCI_VENDOR_ID) == PCI_HOST_VENDOR_ID,
	      "16-bit read of 00:00.0 vendor gives %04x", pci_cfg_read16(0, 0, 0, PCI_VENDOR_ID));
	CHECK(pci_cfg_read16(0, 0, 0, PCI_DEVICE_ID) == PCI_HOST_DEVICE_ID,
	      "16-bit read at 0xcfe of 00:00.0 device gives %04x",
	      pci_cfg_read16(0, 0, 0, PCI_DEVICE_ID));
	CHECK(pci_cfg_read8(0, 0, 0, PCI_CLASS_REVISION + 3) == PCI_CLASS_BRIDGE_HOST >> 8,
	      "8-bit read at 0xcff of 00:00.0 base class gives %02x",
	      pci_cfg_read8(0, 0, 0, PCI_CLASS_REVISION + 3));
	/* Read-only identity: a write to it must not stick. */
	pci_cfg_write32(0, 0, 0, PCI_VENDOR_ID, 0x12345678);
	CHECK(pci_cfg_read32(0, 0, 0, PCI_VENDOR_ID) == id,
	      "a write changed 00:00.0's vendor/device to 0x%x",
	      pci_cfg_read32(0, 0, 0, PCI_VENDOR_ID));
}

static void check_empty_slot(u8 dev, u8 fn)
{
	CHECK(pci_cfg_read32(0, dev, fn, 0x00) == 0xffffffff &&
	      pci_cfg_read32(0, dev, fn, PCI_CLASS_REVISION) == 0xffffffff &&
	      pci_cfg_read16(0, dev, fn, PCI_DEVICE_ID) == 0xffff &&
	      pci_cfg_read8(0, dev, fn, PCI_HEADER_TYPE) == 0xff,
	      "empty 00:%02x.%u does not read all ones", dev, fn);
}

void guest_main(void)
{
	unsigned int present = 0, empty = 0;
	u8 dev;

	check_address_register();
	check_host_bridge();

	for (dev = 0; dev < 32; dev++) {
		u16 vendor = pci_cfg_read16(0, dev, 0, PCI_VENDOR_ID);

		if (vendor == 0xffff) {
			check_empty_slot(dev, 0);
			empty++;
			continue;
		}
		present++;
		gprintf("00:%02x.0 %04x:%04x class %06x\n", dev, vendor,
			pci_cfg_read16(0, dev, 0, PCI_DEVICE_ID),
			pci_cfg_read32(0, dev, 0, PCI_CLASS_REVISION) >> 8);
		if (!(pci_cfg_read8(0, dev, 0, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION))
			for (u8 fn = 1; fn < 8; fn++)
				check_empty_slot(dev, fn);
	}
	CHECK(empty > 0, "no empty slot on bus 0 to check");
	/* A bus behind no bridge reads all ones too. */
	CHECK(pci_cfg_read32(1, 0, 0, 0) == 0xffffffff, "bus 1 slot 0 does not read all ones");
	gprintf("bus 0: %u device(s), %u empty slot(s)\n", present, empty);
}

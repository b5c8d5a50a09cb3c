// SPDX-License-Identifier: Apache-2.0
/* PCI configuration mechanism #1: address at 0xcf8, data at 0xcfc..0xcff. */
#include "guest.h"
#include "machine/layout.h"

u32 pci_cfg_address(u8 bus, u8 dev, u8 fn, u8 off)
{
	return 1U << 31 | (u32)bus << 16 | (u32)(dev & 31) << 11 | (u32)(fn & 7) << 8 | (off & 0xfc);
}

u32 pci_cfg_read32(u8 bus, u8 dev, u8 fn, u8 off)
{
	outl(PORT_PCI_CONFIG_ADDR, pci_cfg_address(bus, dev, fn, off));
	return inl(PORT_PCI_CONFIG_DATA);
}

u16 pci_cfg_read16(u8 bus, u8 dev, u8 fn, u8 off)
{
	outl(PORT_PCI_CONFIG_ADDR, pci_cfg_address(bus, dev, fn, off));
	return inw(PORT_PCI_CONFIG_DATA + (off & 2));
}

u8 pci_cfg_read8(u8 bus, u8 dev, u8 fn, u8 off)
{
	outl(PORT_PCI_CONFIG_ADDR, pci_cfg_address(bus, dev, fn, off));
	return inb(PORT_PCI_CONFIG_DATA + (off & 3));
}

void pci_cfg_write32(u8 bus, u8 dev, u8 fn, u8 off, u32 v)
{
	outl(PORT_PCI_CONFIG_ADDR, pci_cfg_address(bus, dev, fn, off));
	outl(PORT_PCI_CONFIG_DATA, v);
}

// SPDX-License-Identifier: Apache-2.0
/* One PCI function's type 0 header: BARs, capabilities, INTx. */
#include <string.h>

#include "bus/pci_internal.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/layout.h"
#include "machine/vm.h"

#define COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
			 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
			 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define IO_BAR_MAX	256
#define PHYS_ADDR_LIMIT	(1ULL << 52)	/* the most any x86-64 CPU addresses */

static u32 bar_offset(unsigned int n)
{
	return PCI_BASE_ADDRESS_0 + 4 * n;
}

static bool overlaps(u32 off, unsigned int len, u32 start, unsigned int size)
{
	return off < start + size && start < off + len;
}

void pci_device_init(struct pci_device *dev, const char *name, u16 vendor_id,
		     u16 device_id, u32 class_code, u8 revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->slot = -1;
	dev->cap_next = PCI_CAP_START;
	pci_config_set(dev, PCI_VENDOR_ID, vendor_id, 2);
	pci_config_set(dev, PCI_DEVICE_ID, device_id, 2);
	pci_config_set(dev, PCI_CLASS_REVISION, class_code << 8 | revision, 4);
	pci_config_set(dev, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, 1);
	pci_config_set_wmask(dev, PCI_COMMAND, COMMAND_WRITABLE, 2);
	pci_config_set_wmask(dev, PCI_CACHE_LINE_SIZE, 0xff, 1);
	pci_config_set_wmask(dev, PCI_LATENCY_TIMER, 0xff, 1);
	pci_config_set_wmask(dev, PCI_INTERRUPT_LINE, 0xff, 1);
	bus_data_put(&dev->w1cmask[PCI_STATUS], 2, STATUS_W1C);
}

void pci_device_set_subsystem(struct pci_device *dev, u16 vendor_id, u16 id)
{
	pci_config_set(dev, PCI_SUBSYSTEM_VENDOR_ID, vendor_id, 2);
	pci_config_set(dev, PCI_SUBSYSTEM_ID, id, 2);
}

static bool bar_slot_free(const struct pci_device *dev, unsigned int n)
{
	return n < PCI_STD_NUM_BARS && dev->bars[n].type == PCI_BAR_NONE &&
	       (n == 0 || dev->bars[n - 1].type != PCI_BAR_MEM64);
}

int pci_device_set_bar(struct pci_device *dev, unsigned int n, enum pci_bar_type type,
		       u64 size, bool prefetchable, const struct bus_device_ops *ops,
		       void *opaque)
{
	u32 flags = prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
	u64 mask = ~(size - 1);

	if (!bar_slot_free(dev, n) || !ops || !size || (size & (size - 1)))
		return -1;
	switch (type) {
	case PCI_BAR_IO:
		if (size < 4 || size > IO_BAR_MAX || prefetchable)
			return -1;
		/* A 16-bit decoder: the upper half reads 0, as x86 ports need. */
		pci_config_set(dev, bar_offset(n), PCI_BASE_ADDRESS_SPACE_IO, 4);
		pci_config_set_wmask(dev, bar_offset(n), mask & 0xfffc, 4);
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > 2 * GiB)
			return -1;
		pci_config_set(dev, bar_offset(n), flags, 4);
		pci_config_set_wmask(dev, bar_offset(n), mask & 0xfffffff0, 4);
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || size > PHYS_ADDR_LIMIT / 2 || !bar_slot_free(dev, n + 1))
			return -1;
		pci_config_set(dev, bar_offset(n), flags | PCI_BASE_ADDRESS_MEM_TYPE_64, 4);
		pci_config_set_wmask(dev, bar_offset(n), mask & 0xfffffff0, 4);
		pci_config_set_wmask(dev, bar_offset(n + 1), mask >> 32, 4);
		break;
	default:
		return -1;
	}
	dev->bars[n] = (struct pci_bar){
		.type = type, .prefetchable = prefetchable, .size = size,
		.ops = ops, .opaque = opaque,
	};
	return 0;
}

int pci_device_set_intx_pin(struct pci_device *dev, u8 pin)
{
	if (pin < 1 || pin > 4)
		return -1;
	pci_config_set(dev, PCI_INTERRUPT_PIN, pin, 1);
	return 0;
}

int pci_add_capability(struct pci_device *dev, u8 id, unsigned int len)
{
	unsigned int off = ALIGN_UP(dev->cap_next, 4U);

	if (len < 2 || off + len > PCI_CFG_SPACE_SIZE)
		return -1;
	dev->config[off] = id;
	dev->config[off + PCI_CAP_LIST_NEXT] = 0;
	if (dev->cap_last)
		dev->config[dev->cap_last + PCI_CAP_LIST_NEXT] = off;
	else
		dev->config[PCI_CAPABILITY_LIST] = off;
	dev->cap_last = off;
	dev->cap_next = off + len;
	dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return off;
}

u8 pci_find_capability(const struct pci_device *dev, u8 id)
{
	u8 off = dev->config[PCI_CAPABILITY_LIST];

	/* Bounded: 48 capabilities fill the space; a loop cannot hang us. */
	for (int i = 0; off >= PCI_CAP_START && i < 48; i++) {
		if (dev->config[off] == id)
			return off;
		off = dev->config[off + PCI_CAP_LIST_NEXT];
	}
	return 0;
}

u64 pci_bar_address(const struct pci_device *dev, unsigned int n)
{
	u32 lo;

	if (n >= PCI_STD_NUM_BARS)
		return 0;
	lo = pci_config_get(dev, bar_offset(n), 4);
	switch (dev->bars[n].type) {
	case PCI_BAR_IO:
		return lo & (u32)PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & (u32)PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & (u32)PCI_BASE_ADDRESS_MEM_MASK) |
		       (u64)pci_config_get(dev, bar_offset(n + 1), 4) << 32;
	default:
		return 0;
	}
}

/* Whether the BAR, holding addr, decodes: enabled, assigned, in range. */
static bool bar_decodes(const struct pci_device *dev, const struct pci_bar *bar, u64 addr)
{
	u16 cmd = pci_config_get(dev, PCI_COMMAND, 2);

	if (!addr)
		return false;	/* 0 is "unassigned" to firmware and OSes alike */
	switch (bar->type) {
	case PCI_BAR_IO:
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		if (addr < PCI_IO_BAR_START || addr + bar->size > PCI_IO_WINDOW_END) {
			pr_warn_once("pci: %s: I/O BAR at 0x%llx is outside the PCI I/O window; not decoded",
				     dev->name, (unsigned long long)addr);
			return false;
		}
		return true;
	case PCI_BAR_MEM32:
		return (cmd & PCI_COMMAND_MEMORY) && addr + bar->size <= 4 * GiB;
	case PCI_BAR_MEM64:
		return (cmd & PCI_COMMAND_MEMORY) && addr + bar->size <= PHYS_ADDR_LIMIT;
	default:
		return false;
	}
}

static void unmap_bar(struct pci_device *dev, struct pci_bar *bar)
{
	struct pci_root *root = dev->root;

	if (!bar->mapped)
		return;
	if (bar->type == PCI_BAR_IO) {
		pthread_rwlock_wrlock(&root->io_lock);
		bar->mapped = false;
		pthread_rwlock_unlock(&root->io_lock);
	} else {
		bus_unregister(&root->vm->mmio_bus, bar->mapped_addr);
		bar->mapped = false;
	}
}

static void map_bar(struct pci_device *dev, struct pci_bar *bar, u64 addr)
{
	struct pci_root *root = dev->root;

	if (bar->type == PCI_BAR_IO) {
		pthread_rwlock_wrlock(&root->io_lock);
		bar->mapped_addr = addr;
		bar->mapped = true;
		pthread_rwlock_unlock(&root->io_lock);
		return;
	}
	if (bus_register(&root->vm->mmio_bus, addr, bar->size, bar->ops, bar->opaque, dev->name)) {
		pr_warn_once("pci: %s: BAR at 0x%llx overlaps another range; not decoded",
			     dev->name, (unsigned long long)addr);
		return;
	}
	bar->mapped_addr = addr;
	bar->mapped = true;
}

void pci_update_mappings(struct pci_device *dev)
{
	if (!dev->root)
		return;
	for (unsigned int n = 0; n < PCI_STD_NUM_BARS; n++) {
		struct pci_bar *bar = &dev->bars[n];
		u64 addr = pci_bar_address(dev, n);
		bool decode;

		if (bar->type == PCI_BAR_NONE)
			continue;
		decode = bar_decodes(dev, bar, addr);
		if (bar->mapped && (!decode || bar->mapped_addr != addr))
			unmap_bar(dev, bar);
		if (decode && !bar->mapped)
			map_bar(dev, bar, addr);
	}
}

void pci_unmap_bars(struct pci_device *dev)
{
	for (unsigned int n = 0; n < PCI_STD_NUM_BARS; n++)
		unmap_bar(dev, &dev->bars[n]);
}

u32 pci_default_config_read(struct pci_device *dev, u32 offset, unsigned int len)
{
	u32 v = pci_config_get(dev, offset, len);

	/* The interrupt status bit follows the pin, whatever COMMAND says. */
	if (overlaps(offset, len, PCI_STATUS, 1) &&
	    __atomic_load_n(&dev->intx_level, __ATOMIC_RELAXED))
		v |= (u32)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - offset));
	return v;
}

void pci_default_config_write(struct pci_device *dev, u32 offset, u32 value, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int o = offset + i;
		u8 b = value >> (8 * i);

		dev->config[o] = (dev->config[o] & ~dev->wmask[o]) | (b & dev->wmask[o]);
		dev->config[o] &= ~(b & dev->w1cmask[o]);
	}
	if (overlaps(offset, len, PCI_COMMAND, 2) ||
	    overlaps(offset, len, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS))
		pci_update_mappings(dev);
	if (overlaps(offset, len, PCI_COMMAND, 2) && dev->root) {
		pthread_mutex_lock(&dev->root->intx_lock);
		dev->intx_disabled = pci_config_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
		pci_update_intx_locked(dev);
		pthread_mutex_unlock(&dev->root->intx_lock);
	}
}

void pci_update_intx_locked(struct pci_device *dev)
{
	struct pci_root *root = dev->root;
	u8 pin = dev->config[PCI_INTERRUPT_PIN];
	bool assert = dev->intx_level && !dev->intx_disabled && pin && dev->slot >= 0;
	unsigned int gsi, *count;

	if (assert == dev->intx_asserted)
		return;
	dev->intx_asserted = assert;
	gsi = GSI_PCI_INTX(dev->slot, pin);
	count = &root->intx_count[gsi - GSI_PCI_INTX_BASE];
	/* A shared level-triggered line is high while any device holds it. */
	if (assert && (*count)++ == 0)
		irq_set_level(root->vm, gsi, true);
	else if (!assert && --(*count) == 0)
		irq_set_level(root->vm, gsi, false);
}

void pci_set_intx(struct pci_device *dev, bool level)
{
	struct pci_root *root = dev->root;

	if (!root)
		return;
	pthread_mutex_lock(&root->intx_lock);
	__atomic_store_n(&dev->intx_level, level, __ATOMIC_RELAXED);
	pci_update_intx_locked(dev);
	pthread_mutex_unlock(&root->intx_lock);
}

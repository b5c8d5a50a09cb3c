// SPDX-License-Identifier: Apache-2.0
/* The PCI root: config mechanism #1, reset control, the I/O window, slots. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_internal.h"
#include "lib/log.h"
#include "machine/layout.h"
#include "machine/stats.h"
#include "machine/vm.h"

#define CONFIG_ENABLE	0x80000000U
#define RCR_SYS_RST	0x02	/* hard reset when the CPU reset fires */
#define RCR_RST_CPU	0x04	/* a write with this bit set resets */
#define RCR_FULL_RST	0x08
#define RCR_STORED	(RCR_SYS_RST | RCR_FULL_RST)

#define HOST_BRIDGE_CLASS	0x060000	/* bridge, host, no prog-if */
#define HOST_BRIDGE_REVISION	0x02

/*
 * The config register an access to 0xcfc + offset reaches. Bits 1:0 of
 * CONFIG_ADDRESS read back as zero, but, as on QEMU's hosts, they still
 * select the byte: kvm-unit-tests reads the device ID with "register 2"
 * there and a 16-bit read of 0xcfc. False when the access would run past
 * the 256-byte config space.
 */
static bool config_register(const struct pci_root *root, u64 offset, unsigned int len,
			    u32 *reg)
{
	*reg = (root->config_address & 0xff) | offset;
	return *reg + len <= PCI_CFG_SPACE_SIZE;
}

/* The function CONFIG_ADDRESS selects, or NULL; cfg lock held. */
static struct pci_device *selected_device(const struct pci_root *root)
{
	u32 a = root->config_address;

	if (!(a & CONFIG_ENABLE))
		return NULL;
	/* Bus 0 only, single-function devices only. */
	if ((a >> 16) & 0xff || (a >> 8) & 0x7)
		return NULL;
	return root->slots[(a >> 11) & 0x1f];
}

static void conf_addr_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	u64 v = ~0ULL;

	pthread_mutex_lock(&root->cfg_lock);
	if (offset == 0 && len == 4)
		v = root->config_address & ~3U;	/* bits 1:0 read as zero */
	else if (offset == 1 && len == 1)
		v = root->reset_control;
	pthread_mutex_unlock(&root->cfg_lock);
	bus_data_put(data, len, v);
}

static void conf_addr_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	u32 v = bus_data_get(data, len);
	bool reset = false;

	pthread_mutex_lock(&root->cfg_lock);
	/* Only dword accesses reach CONFIG_ADDRESS; 0xcf9 is its own byte. */
	if (offset == 0 && len == 4) {
		root->config_address = v;
	} else if (offset == 1 && len == 1) {
		root->reset_control = v & RCR_STORED;
		reset = v & RCR_RST_CPU;
	}
	pthread_mutex_unlock(&root->cfg_lock);
	if (reset) {
		pr_info("pci: reset through port 0xcf9");
		vm_request_stop(root->vm, VM_STOP_RESET, EXIT_CODE_RESET);
	}
}

static void conf_data_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	struct pci_device *dev;
	u64 v = ~0ULL;		/* nothing there: all ones */
	u32 reg;

	pthread_mutex_lock(&root->cfg_lock);
	root->config_accesses++;
	dev = selected_device(root);
	if (dev && config_register(root, offset, len, &reg)) {
		if (dev->ops && dev->ops->config_read)
			v = dev->ops->config_read(dev, reg, len);
		else
			v = pci_default_config_read(dev, reg, len);
	}
	pthread_mutex_unlock(&root->cfg_lock);
	bus_data_put(data, len, v);
}

static void conf_data_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	u32 v = bus_data_get(data, len);
	struct pci_device *dev;
	u32 reg;

	pthread_mutex_lock(&root->cfg_lock);
	root->config_accesses++;
	dev = selected_device(root);
	if (dev && config_register(root, offset, len, &reg)) {
		if (dev->ops && dev->ops->config_write)
			dev->ops->config_write(dev, reg, v, len);
		else
			pci_default_config_write(dev, reg, v, len);
	}
	pthread_mutex_unlock(&root->cfg_lock);
}

static const struct bus_device_ops conf_addr_ops = {
	.read = conf_addr_read,
	.write = conf_addr_write,
};

static const struct bus_device_ops conf_data_ops = {
	.read = conf_data_read,
	.write = conf_data_write,
};

/* The I/O BAR holding [port, port + len); io lock held. */
static const struct pci_bar *find_io_bar(const struct pci_root *root, u64 port,
					 unsigned int len)
{
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		const struct pci_device *dev = root->slots[s];

		if (!dev)
			continue;
		for (unsigned int n = 0; n < PCI_STD_NUM_BARS; n++) {
			const struct pci_bar *bar = &dev->bars[n];

			if (bar->type == PCI_BAR_IO && bar->mapped &&
			    port >= bar->mapped_addr &&
			    port + len <= bar->mapped_addr + bar->size)
				return bar;
		}
	}
	return NULL;
}

static void io_window_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	u64 port = PCI_IO_BAR_START + offset;
	const struct pci_bar *bar;

	pthread_rwlock_rdlock(&root->io_lock);
	bar = find_io_bar(root, port, len);
	if (bar && bar->ops->read)
		bar->ops->read(bar->opaque, port - bar->mapped_addr, data, len);
	else
		memset(data, 0xff, len);
	pthread_rwlock_unlock(&root->io_lock);
}

static void io_window_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	u64 port = PCI_IO_BAR_START + offset;
	const struct pci_bar *bar;

	pthread_rwlock_rdlock(&root->io_lock);
	bar = find_io_bar(root, port, len);
	if (bar && bar->ops->write)
		bar->ops->write(bar->opaque, port - bar->mapped_addr, data, len);
	pthread_rwlock_unlock(&root->io_lock);
}

static const struct bus_device_ops io_window_ops = {
	.read = io_window_read,
	.write = io_window_write,
};

/* Firmware-style: the next naturally aligned block of the window. */
static int alloc_range(u64 *next, u64 end, u64 size, u64 align, u64 *addr)
{
	u64 a = ALIGN_UP(*next, align);

	if (a < *next || a + size > end || a + size < a)
		return -1;
	*addr = a;
	*next = a + size;
	return 0;
}

static int assign_bars(struct pci_root *root, struct pci_device *dev)
{
	u16 cmd = pci_config_get(dev, PCI_COMMAND, 2);

	for (unsigned int n = 0; n < PCI_STD_NUM_BARS; n++) {
		const struct pci_bar *bar = &dev->bars[n];
		u32 off = PCI_BASE_ADDRESS_0 + 4 * n;
		u64 addr;

		if (bar->type == PCI_BAR_NONE)
			continue;
		if (bar->type == PCI_BAR_IO) {
			if (alloc_range(&root->io_next, PCI_IO_WINDOW_END, bar->size,
					bar->size, &addr)) {
				pr_err("pci: %s: no room for a %" PRIu64 "-byte I/O BAR",
				       dev->name, bar->size);
				return -1;
			}
			cmd |= PCI_COMMAND_IO;
		} else {
			/* Page-aligned at least, so each BAR has pages of its own. */
			if (alloc_range(&root->mmio_next, LAYOUT_PCI_MMIO_END, bar->size,
					MAX(bar->size, 4 * KiB), &addr)) {
				pr_err("pci: %s: no room for a %" PRIu64 "-byte memory BAR",
				       dev->name, bar->size);
				return -1;
			}
			cmd |= PCI_COMMAND_MEMORY;
		}
		pci_config_set(dev, off, pci_config_get(dev, off, 4) | (u32)addr, 4);
		if (bar->type == PCI_BAR_MEM64)
			pci_config_set(dev, off + 4, addr >> 32, 4);
	}
	pci_config_set(dev, PCI_COMMAND, cmd, 2);
	return 0;
}

static int pick_slot(const struct pci_root *root, const struct pci_device *dev)
{
	if (dev->slot >= 0)
		return dev->slot < PCI_MAX_SLOTS && !root->slots[dev->slot] ? dev->slot : -1;
	for (int s = 0; s < PCI_MAX_SLOTS; s++)
		if (!root->slots[s])
			return s;
	return -1;
}

int pci_register_device(struct vm *vm, struct pci_device *dev)
{
	struct pci_root *root = vm->pci;
	u8 pin = dev->config[PCI_INTERRUPT_PIN];
	int slot;

	if (!root) {
		pr_err("pci: %s: the machine has no PCI bus", dev->name);
		return -1;
	}
	pthread_mutex_lock(&root->cfg_lock);
	slot = pick_slot(root, dev);
	if (slot < 0) {
		pthread_mutex_unlock(&root->cfg_lock);
		pr_err("pci: %s: no free slot%s", dev->name, dev->slot >= 0 ? " there" : "");
		return -1;
	}
	if (assign_bars(root, dev)) {
		pthread_mutex_unlock(&root->cfg_lock);
		return -1;
	}
	dev->slot = slot;
	dev->root = root;
	if (pin)
		pci_config_set(dev, PCI_INTERRUPT_LINE, GSI_PCI_INTX(slot, pin), 1);
	pthread_rwlock_wrlock(&root->io_lock);
	root->slots[slot] = dev;
	pthread_rwlock_unlock(&root->io_lock);
	pci_update_mappings(dev);
	pthread_mutex_unlock(&root->cfg_lock);
	pr_debug("pci: 00:%02x.0 %s", slot, dev->name);
	return 0;
}

void pci_unregister_device(struct pci_device *dev)
{
	struct pci_root *root = dev->root;

	if (!root)
		return;
	pthread_mutex_lock(&root->cfg_lock);
	pci_unmap_bars(dev);
	pthread_rwlock_wrlock(&root->io_lock);
	root->slots[dev->slot] = NULL;
	pthread_rwlock_unlock(&root->io_lock);
	pthread_mutex_lock(&root->intx_lock);
	dev->intx_level = false;
	pci_update_intx_locked(dev);
	dev->root = NULL;
	pthread_mutex_unlock(&root->intx_lock);
	pthread_mutex_unlock(&root->cfg_lock);
}

static void pci_root_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct pci_root *root = opaque;
	u64 n = 0, accesses;

	pthread_mutex_lock(&root->cfg_lock);
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		n += root->slots[s] != NULL;
	accesses = root->config_accesses;
	pthread_mutex_unlock(&root->cfg_lock);
	stats_emit(v, "pci", "devices", n);
	stats_emit(v, "pci", "config_accesses", accesses);
}

static void unregister_ports(struct vm *vm)
{
	bus_unregister(&vm->pio_bus, PORT_PCI_CONFIG_ADDR);
	bus_unregister(&vm->pio_bus, PORT_PCI_CONFIG_DATA);
	bus_unregister(&vm->pio_bus, PCI_IO_BAR_START);
}

/* All three or none, leaving other owners' ranges alone. */
static int register_ports(struct pci_root *root)
{
	struct bus *pio = &root->vm->pio_bus;

	if (bus_register(pio, PORT_PCI_CONFIG_ADDR, 4, &conf_addr_ops, root, "pci-config-address"))
		goto taken;
	if (bus_register(pio, PORT_PCI_CONFIG_DATA, 4, &conf_data_ops, root, "pci-config-data")) {
		bus_unregister(pio, PORT_PCI_CONFIG_ADDR);
		goto taken;
	}
	if (bus_register(pio, PCI_IO_BAR_START, PCI_IO_WINDOW_END - PCI_IO_BAR_START,
			 &io_window_ops, root, "pci-io")) {
		bus_unregister(pio, PORT_PCI_CONFIG_ADDR);
		bus_unregister(pio, PORT_PCI_CONFIG_DATA);
		goto taken;
	}
	return 0;
taken:
	pr_err("pci: the configuration ports or the I/O window are taken");
	return -1;
}

static void pci_root_destroy(void *opaque)
{
	struct pci_root *root = opaque;
	struct vm *vm = root->vm;

	unregister_ports(vm);
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		if (root->slots[s])
			pci_unregister_device(root->slots[s]);
	vm->pci = NULL;
	pthread_mutex_destroy(&root->cfg_lock);
	pthread_mutex_destroy(&root->intx_lock);
	pthread_rwlock_destroy(&root->io_lock);
	free(root);
}

int pci_root_create(struct vm *vm)
{
	struct pci_root *root = calloc(1, sizeof(*root));
	struct vm_device dev = {
		.name = "pci", .opaque = root, .destroy = pci_root_destroy,
		.report_stats = pci_root_report_stats,
	};

	if (!root)
		return -1;
	root->vm = vm;
	pthread_mutex_init(&root->cfg_lock, NULL);
	pthread_mutex_init(&root->intx_lock, NULL);
	pthread_rwlock_init(&root->io_lock, NULL);
	root->mmio_next = LAYOUT_PCI_MMIO_START;
	root->io_next = PCI_IO_BAR_START;

	if (register_ports(root))
		goto fail;
	vm->pci = root;
	pci_device_init(&root->host_bridge, "host-bridge", PCI_HOST_VENDOR_ID,
			PCI_HOST_DEVICE_ID, HOST_BRIDGE_CLASS, HOST_BRIDGE_REVISION);
	root->host_bridge.slot = 0;
	if (pci_register_device(vm, &root->host_bridge) || vm_add_device(vm, &dev)) {
		vm->pci = NULL;
		unregister_ports(vm);
		goto fail;
	}
	return pci_snapshot_register(root);
fail:
	pthread_mutex_destroy(&root->cfg_lock);
	pthread_mutex_destroy(&root->intx_lock);
	pthread_rwlock_destroy(&root->io_lock);
	free(root);
	return -1;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * PCI in a snapshot: CONFIG_ADDRESS and, for every function on bus 0, its
 * configuration space. A restore takes only the bits the guest can change
 * (the write and write-1-to-clear masks); the rest must already match,
 * which also checks that the same device sits in each slot. BARs then
 * decode where the guest had put them.
 */
#include <string.h>

#include "bus/pci_internal.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

static void pci_save(void *opaque, struct snap_writer *w)
{
	struct pci_root *root = opaque;

	pthread_mutex_lock(&root->cfg_lock);
	snap_put_u32(w, root->config_address);
	snap_put_u8(w, root->reset_control);
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		const struct pci_device *dev = root->slots[s];

		snap_put_bool(w, dev != NULL);
		if (dev)
			snap_put_bytes(w, dev->config, PCI_CFG_SPACE_SIZE);
	}
	pthread_mutex_unlock(&root->cfg_lock);
}

/* Vendor, device, class and revision: what says which function this is. */
static bool same_function(const struct pci_device *dev, const u8 *cfg)
{
	return !memcmp(dev->config + PCI_VENDOR_ID, cfg + PCI_VENDOR_ID, 4) &&
	       !memcmp(dev->config + PCI_CLASS_REVISION, cfg + PCI_CLASS_REVISION, 4);
}

static void apply_config(struct pci_device *dev, const u8 *cfg)
{
	for (unsigned int o = 0; o < PCI_CFG_SPACE_SIZE; o++) {
		u8 guest = dev->wmask[o] | dev->w1cmask[o];

		dev->config[o] = (dev->config[o] & ~guest) | (cfg[o] & guest);
	}
	pci_update_mappings(dev);
	pthread_mutex_lock(&dev->root->intx_lock);
	dev->intx_disabled = pci_config_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	pci_update_intx_locked(dev);
	pthread_mutex_unlock(&dev->root->intx_lock);
}

static int pci_load(void *opaque, struct snap_reader *r)
{
	struct pci_root *root = opaque;
	u8 cfg[PCI_MAX_SLOTS][PCI_CFG_SPACE_SIZE];
	bool present[PCI_MAX_SLOTS];
	u32 address = snap_get_u32(r, "CONFIG_ADDRESS");
	u8 reset = snap_get_u8(r, "the reset control register");

	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		present[s] = snap_get_bool(r, "a slot's presence");
		if (present[s])
			snap_get_bytes(r, cfg[s], PCI_CFG_SPACE_SIZE, "a configuration space");
	}
	if (snap_reader_failed(r))
		return -1;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		const struct pci_device *dev = root->slots[s];

		if (present[s] != (dev != NULL))
			return snap_fail(r, "slot %u %s in the snapshot but %s here", s,
					 present[s] ? "has a function" : "is empty",
					 dev ? "has one" : "not");
		if (dev && !same_function(dev, cfg[s]))
			return snap_fail(r, "slot %u holds another device (%s here)", s, dev->name);
	}
	pthread_mutex_lock(&root->cfg_lock);
	root->config_address = address;
	root->reset_control = reset;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		if (root->slots[s])
			apply_config(root->slots[s], cfg[s]);
	pthread_mutex_unlock(&root->cfg_lock);
	return 0;
}

static const struct snap_section_ops pci_snap_ops = { .save = pci_save, .load = pci_load };

int pci_snapshot_register(struct pci_root *root)
{
	return snap_register(root->vm, "pci", &pci_snap_ops, root);
}

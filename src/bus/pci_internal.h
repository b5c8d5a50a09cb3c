/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BUS_PCI_INTERNAL_H
#define KILN_BUS_PCI_INTERNAL_H

#include "bus/pci.h"

/* Shared between pci.c (the root) and pci_device.c (one function's header). */

/* Makes each BAR decode where its register and COMMAND say; cfg lock held. */
void pci_update_mappings(struct pci_device *dev);

/* Unmaps every BAR; cfg lock held. */
void pci_unmap_bars(struct pci_device *dev);

/* Recomputes the device's contribution to its INTx line; intx lock held. */
void pci_update_intx_locked(struct pci_device *dev);

/* pci_snapshot.c: the "pci" snapshot section (every function's config space). */
int pci_snapshot_register(struct pci_root *root);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_IRQ_H
#define KILN_MACHINE_IRQ_H

#include "lib/types.h"

struct vm;

/*
 * The interrupt router. Devices raise GSI lines or send MSI messages here
 * and never talk to the engine: kvm turns them into KVM_IRQ_LINE and
 * KVM_SIGNAL_MSI, soft into its IOAPIC and LAPICs.
 */
void irq_set_level(struct vm *vm, u32 gsi, bool level);
/* An edge: raise then lower, for edge-triggered ISA lines. */
void irq_pulse(struct vm *vm, u32 gsi);
void irq_send_msi(struct vm *vm, u64 addr, u32 data);
/*
 * An MSI from the PCI requester sid (bus << 8 | devfn): with an IOMMU
 * (iommu/iommu.h) it is remapped, or dropped when the IOMMU blocks it.
 * irq_send_msi() is the same with no requester to verify.
 */
void irq_send_msi_from(struct vm *vm, u32 sid, u64 addr, u32 data);

#endif

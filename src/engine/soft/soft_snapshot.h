/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SOFT_SNAPSHOT_H
#define KILN_ENGINE_SOFT_SOFT_SNAPSHOT_H

struct vm;
struct soft_irqchip;

/*
 * The soft engine's snapshot sections: "vcpuN" for each CPU (every
 * architectural register, MSRs, the FXSAVE area, pending events, HLT and
 * wait-for-SIPI), then the interrupt controllers (irqchip_snapshot.c).
 * engine_ops.snapshot_register.
 */
int soft_snapshot_register(struct vm *vm);

/* irqchip/irqchip_snapshot.c: "soft-clock", "lapicN", "ioapic", "pic", "pit". */
int soft_irqchip_snapshot_register(struct vm *vm, struct soft_irqchip *chip);

#endif

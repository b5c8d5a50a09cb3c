/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_CHIP_H
#define KILN_ENGINE_SOFT_IRQCHIP_CHIP_H

#include "engine/soft/irqchip/clock.h"
#include "engine/soft/irqchip/ioapic.h"
#include "engine/soft/irqchip/irqchip.h"
#include "engine/soft/irqchip/lapic.h"
#include "engine/soft/irqchip/pic.h"
#include "engine/soft/irqchip/pit.h"

struct guest_mem;

/* The whole chip set of one VM, shared by the files of this directory. */
struct soft_irqchip {
	struct vm *vm;
	const struct guest_mem *mem;
	struct soft_clock clock;
	unsigned int nr_cpus;
	struct lapic *lapics;
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
	unsigned int lowest_prio_next;	/* after the last lowest-priority pick; atomic */
	unsigned int nr_ranges;		/* bus ranges claimed, for destroy */
};

static inline u64 chip_now(const struct soft_irqchip *chip)
{
	return soft_clock_now(&chip->clock);
}

/* The PIC's INTR may have risen: tell the LAPICs that take ExtINT. */
void chip_extint_notify(struct soft_irqchip *chip);

/* ---- the APIC bus (apic_bus.c) ---- */

/* One interrupt message, however it was sent (ICR, IOAPIC entry, MSI). */
struct apic_msg {
	u8 vector;
	u8 mode;		/* APIC_DM_* */
	u32 dest;		/* 8 bits, or 32 with x2dest */
	bool x2dest;		/* from an x2APIC ICR */
	u8 shorthand;		/* APIC_SH_*, ICR only */
	bool logical;
	bool level_trig;
	bool lowest;		/* arbitrate: deliver to one (lowest, or RH) */
};

/*
 * Delivers m; src is the sending LAPIC for shorthands, else NULL. Returns
 * how many LAPICs took it.
 */
unsigned int apic_bus_deliver(struct soft_irqchip *chip, const struct apic_msg *m,
			      struct lapic *src);

/* Decodes an MSI write (compatibility format); false when it must be dropped. */
bool apic_msg_from_msi(u64 addr, u32 data, struct apic_msg *m);

/* Decodes and delivers an MSI write. */
void apic_bus_send_msi(struct soft_irqchip *chip, u64 addr, u32 data);

#endif

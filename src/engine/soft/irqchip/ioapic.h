/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_IOAPIC_H
#define KILN_ENGINE_SOFT_IRQCHIP_IOAPIC_H

#include <pthread.h>

#include "bus/bus.h"
#include "lib/types.h"

struct soft_irqchip;

/*
 * The IOAPIC (82093AA style, version 0x11): 24 pins, each with a
 * redirection entry that turns a GSI into an APIC bus message.
 *
 * A pin's input is the line's logical level (asserted or not): devices
 * say "asserted", so the polarity bit is stored for the guest to read and
 * does not invert anything. Edge entries fire on a 0 -> 1 transition;
 * level entries fire while asserted with remote IRR clear, and fire again
 * after the EOI if still asserted. A masked pin holds its request (a level
 * still asserted, or an edge that came while masked) until it is unmasked.
 */

#define IOAPIC_NR_PINS		24
#define IOAPIC_MMIO_SIZE	0x1000
#define IOAPIC_VERSION		0x11

struct ioapic {
	pthread_mutex_t lock;
	struct soft_irqchip *chip;
	u32 ioregsel;
	u32 id;			/* ID register, bits 27:24 */
	u64 redir[IOAPIC_NR_PINS];
	u32 level;		/* input levels, one bit per pin */
	u32 pending;		/* edges that came while masked */
};

extern const struct bus_device_ops ioapic_mmio_ops;

/* id: the 4-bit IOAPIC ID the guest first reads (the MADT's, ideally). */
void ioapic_init(struct ioapic *io, struct soft_irqchip *chip, u8 id);
void ioapic_destroy(struct ioapic *io);
void ioapic_set_irq(struct ioapic *io, unsigned int pin, bool level);
/* A LAPIC's EOI of a level-triggered vector: clears remote IRR. */
void ioapic_eoi(struct ioapic *io, u8 vector);

#endif

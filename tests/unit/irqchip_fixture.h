/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_UNIT_IRQCHIP_FIXTURE_H
#define KILN_TESTS_UNIT_IRQCHIP_FIXTURE_H

/*
 * A soft irqchip on a fake VM: real buses, 1 MiB of guest RAM over a
 * malloc'd buffer, a clock the test steps by hand, and a kick counter per
 * vCPU. Header-only, so it links into the irqchip tests alone.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/soft/irqchip/apic_defs.h"
#include "engine/soft/irqchip/irqchip.h"
#include "machine/layout.h"
#include "machine/vm.h"

#define FIX_CPUS 4
#define FIX_RAM (1 * MiB)
#define FIX_T0 1000000000000ULL	/* the fake clock starts at 1000 s */

struct fixture {
	struct vm vm;
	u8 *ram;
	struct soft_irqchip *chip;
	struct lapic *l[FIX_CPUS];
	u64 now;
	unsigned int kicks[FIX_CPUS];
};

static u64 fix_now(void *opaque)
{
	return ((struct fixture *)opaque)->now;
}

static void fix_kick(void *opaque)
{
	__atomic_add_fetch((unsigned int *)opaque, 1, __ATOMIC_RELAXED);
}

static int fix_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (vm_skeleton_init(&f->vm, NULL))
		return -1;
	/* Too little RAM for memmap_build(): one region over a plain buffer. */
	f->ram = calloc(1, FIX_RAM);
	if (!f->ram || guest_mem_add_region(&f->vm.mem, 0, FIX_RAM, f->ram))
		return -1;
	f->chip = soft_irqchip_create(&f->vm, FIX_CPUS);
	if (!f->chip)
		return -1;
	f->now = FIX_T0;
	soft_irqchip_set_clock(f->chip, fix_now, f);
	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		f->l[i] = soft_irqchip_lapic(f->chip, i);
		lapic_set_kick(f->l[i], fix_kick, &f->kicks[i]);
	}
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fixture *f = *state;

	soft_irqchip_destroy(f->chip);
	vm_skeleton_release(&f->vm);
	free(f->ram);
	free(f);
	return 0;
}

static inline u32 apic_read(struct lapic *l, u32 reg)
{
	u32 v;

	lapic_mmio_read(l, reg, &v, 4);
	return v;
}

static inline void apic_write(struct lapic *l, u32 reg, u32 v)
{
	lapic_mmio_write(l, reg, &v, 4);
}

/* Software-enables a LAPIC with spurious vector 0xff. */
static inline void apic_enable(struct lapic *l)
{
	apic_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

/* Bit v of the 256-bit register at base (ISR, TMR, IRR). */
static inline bool apic_bit(struct lapic *l, u32 base, unsigned int v)
{
	return apic_read(l, base + (v / 32) * 0x10) & (1U << (v % 32));
}

static inline void outb(struct fixture *f, u16 port, u8 v)
{
	assert_true(bus_write(&f->vm.pio_bus, port, &v, 1));
}

static inline u8 inb(struct fixture *f, u16 port)
{
	u8 v;

	assert_true(bus_read(&f->vm.pio_bus, port, &v, 1));
	return v;
}

static inline void ioapic_write(struct fixture *f, u32 reg, u32 v)
{
	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE, &reg, 4));
	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE + 0x10, &v, 4));
}

static inline u32 ioapic_read(struct fixture *f, u32 reg)
{
	u32 v;

	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE, &reg, 4));
	assert_true(bus_read(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE + 0x10, &v, 4));
	return v;
}

/* Programs IOAPIC pin's redirection entry. */
static inline void ioapic_route(struct fixture *f, unsigned int pin, u32 lo, u8 dest)
{
	ioapic_write(f, 0x10 + 2 * pin + 1, (u32)dest << 24);
	ioapic_write(f, 0x10 + 2 * pin, lo);
}

/* Acknowledges every deliverable interrupt; returns how many. */
static inline unsigned int drain(struct lapic *l)
{
	unsigned int n = 0;

	while (lapic_ack_interrupt(l) >= 0) {
		apic_write(l, APIC_EOI, 0);
		n++;
	}
	return n;
}

#endif

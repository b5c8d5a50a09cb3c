// SPDX-License-Identifier: Apache-2.0
/* The soft engine's IOAPIC, GSI routing and MSI decoding. */
#include "irqchip_fixture.h"

#define EDGE(vec) ((u32)(vec))
#define LEVEL(vec) ((u32)(vec) | APIC_TRIGGER_LEVEL | APIC_POLARITY_LOW)

static void enable_all(struct fixture *f)
{
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		apic_enable(f->l[i]);
}

static void identity_registers(void **state)
{
	struct fixture *f = *state;

	/* Version 0x11 with 24 pins (max redirection entry 23). */
	assert_int_equal(ioapic_read(f, 0x01), 0x00170011);
	/* The ID the MADT gives it: after the last CPU's APIC ID. */
	assert_int_equal(ioapic_read(f, 0x00), FIX_CPUS << 24);
	ioapic_write(f, 0x00, 0x0a000000);
	assert_int_equal(ioapic_read(f, 0x00), 0x0a000000);
	assert_int_equal(ioapic_read(f, 0x02), 0x0a000000);
	ioapic_write(f, 0x01, 0);			/* read-only */
	assert_int_equal(ioapic_read(f, 0x01), 0x00170011);
	/* Every pin starts masked; out-of-range registers read 0. */
	for (unsigned int pin = 0; pin < 24; pin++)
		assert_int_equal(ioapic_read(f, 0x10 + 2 * pin), APIC_LVT_MASKED);
	assert_int_equal(ioapic_read(f, 0x40), 0);
	/* IOREGSEL reads back; unaligned writes do nothing. */
	u8 sel;
	assert_true(bus_read(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE, &sel, 1));
	assert_int_equal(sel, 0x40);
	u32 v = 0;
	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_IOAPIC_BASE + 0x14, &v, 4));
}

static void redirection_entry_bits(void **state)
{
	struct fixture *f = *state;

	ioapic_route(f, 5, 0xffffffff, 0xff);
	/* Delivery status and remote IRR are read-only; reserved bits stay 0. */
	assert_int_equal(ioapic_read(f, 0x10 + 10), 0x0001afff);
	assert_int_equal(ioapic_read(f, 0x10 + 11), 0xff000000);
}

static void edge_fires_on_rising_edge_only(void **state)
{
	struct fixture *f = *state;
	unsigned int kicks;

	enable_all(f);
	ioapic_route(f, GSI_COM1, EDGE(0x41), 1);
	kicks = f->kicks[1];
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_true(f->kicks[1] > kicks);
	assert_int_equal(lapic_ack_interrupt(f->l[1]), 0x41);
	apic_write(f->l[1], APIC_EOI, 0);
	assert_false(apic_bit(f->l[1], APIC_TMR, 0x41));
	/* Held high: no new edge. */
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_false(lapic_has_interrupt(f->l[1]));
	soft_irqchip_set_irq(f->chip, GSI_COM1, false);
	assert_false(lapic_has_interrupt(f->l[1]));
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(lapic_ack_interrupt(f->l[1]), 0x41);
	assert_int_equal(ioapic_read(f, 0x10 + 2 * GSI_COM1) & APIC_REMOTE_IRR, 0);
	/* Nobody else got it. */
	assert_false(lapic_has_interrupt(f->l[0]));
	assert_false(lapic_has_interrupt(f->l[2]));
}

static void level_remote_irr_and_eoi(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	const unsigned int pin = 16, reg = 0x10 + 2 * 16;

	enable_all(f);
	ioapic_route(f, pin, LEVEL(0x51), 0);
	soft_irqchip_set_irq(f->chip, pin, true);
	assert_true(ioapic_read(f, reg) & APIC_REMOTE_IRR);
	assert_int_equal(lapic_ack_interrupt(l), 0x51);
	assert_true(apic_bit(l, APIC_TMR, 0x51));
	/* Asserting again while remote IRR is set sends nothing. */
	soft_irqchip_set_irq(f->chip, pin, true);
	assert_false(apic_bit(l, APIC_IRR, 0x51));

	/* EOI while still asserted: remote IRR clears and the line fires again. */
	apic_write(l, APIC_EOI, 0);
	assert_true(apic_bit(l, APIC_IRR, 0x51));
	assert_true(ioapic_read(f, reg) & APIC_REMOTE_IRR);
	assert_int_equal(lapic_ack_interrupt(l), 0x51);

	/* The device deasserts before the EOI: the EOI ends it. */
	soft_irqchip_set_irq(f->chip, pin, false);
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(ioapic_read(f, reg) & APIC_REMOTE_IRR, 0);
	assert_false(lapic_has_interrupt(l));
}

static void level_to_logical_destinations(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		apic_write(f->l[i], APIC_LDR, 1U << (24 + i));
	/* Logical flat, CPUs 2 and 3. */
	ioapic_route(f, 17, LEVEL(0x61) | APIC_DEST_LOGICAL, 0xc);
	soft_irqchip_set_irq(f->chip, 17, true);
	assert_false(apic_bit(f->l[0], APIC_IRR, 0x61));
	assert_false(apic_bit(f->l[1], APIC_IRR, 0x61));
	assert_true(apic_bit(f->l[2], APIC_IRR, 0x61));
	assert_true(apic_bit(f->l[3], APIC_IRR, 0x61));
	/* Lowest priority: one of them. */
	ioapic_route(f, 18, EDGE(0x62) | (APIC_DM_LOWEST << 8) | APIC_DEST_LOGICAL, 0xc);
	soft_irqchip_set_irq(f->chip, 18, true);
	assert_true(apic_bit(f->l[2], APIC_IRR, 0x62) != apic_bit(f->l[3], APIC_IRR, 0x62));
}

static void masked_pins_hold_level_requests(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];

	enable_all(f);
	/* Level: asserted while masked, delivered once unmasked. */
	ioapic_route(f, 19, LEVEL(0x71) | APIC_LVT_MASKED, 0);
	soft_irqchip_set_irq(f->chip, 19, true);
	assert_false(lapic_has_interrupt(l));
	ioapic_route(f, 19, LEVEL(0x71), 0);
	assert_int_equal(lapic_ack_interrupt(l), 0x71);
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(lapic_ack_interrupt(l), 0x71);	/* still asserted */
	soft_irqchip_set_irq(f->chip, 19, false);
	apic_write(l, APIC_EOI, 0);

	/* Level deasserted before the unmask: nothing. */
	ioapic_route(f, 20, LEVEL(0x72) | APIC_LVT_MASKED, 0);
	soft_irqchip_set_irq(f->chip, 20, true);
	soft_irqchip_set_irq(f->chip, 20, false);
	ioapic_route(f, 20, LEVEL(0x72), 0);
	assert_false(lapic_has_interrupt(l));

	/*
	 * Edge: an edge on a masked pin is ignored (the 82093AA datasheet;
	 * kvm-unit-tests' ioapic test counts on it), even with the line still
	 * high at the unmask; the next edge is delivered.
	 */
	ioapic_route(f, GSI_RTC, EDGE(0x73) | APIC_LVT_MASKED, 0);
	soft_irqchip_set_irq(f->chip, GSI_RTC, true);
	soft_irqchip_set_irq(f->chip, GSI_RTC, false);
	assert_false(lapic_has_interrupt(l));
	ioapic_route(f, GSI_RTC, EDGE(0x73), 0);
	assert_false(lapic_has_interrupt(l));
	ioapic_route(f, GSI_RTC, EDGE(0x73) | APIC_LVT_MASKED, 0);
	soft_irqchip_set_irq(f->chip, GSI_RTC, true);
	ioapic_route(f, GSI_RTC, EDGE(0x73), 0);
	assert_false(lapic_has_interrupt(l));
	soft_irqchip_set_irq(f->chip, GSI_RTC, false);
	soft_irqchip_set_irq(f->chip, GSI_RTC, true);
	assert_int_equal(lapic_ack_interrupt(l), 0x73);
	apic_write(l, APIC_EOI, 0);
	assert_false(lapic_has_interrupt(l));
}

static void isa_irq0_is_pin_2(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	ioapic_route(f, 0, EDGE(0x30), 0);
	ioapic_route(f, 2, EDGE(0x32), 0);
	soft_irqchip_set_irq(f->chip, GSI_PIT, true);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), 0x32);
	assert_false(lapic_has_interrupt(f->l[0]));
	/* Out-of-range GSIs are refused, not a crash. */
	soft_irqchip_set_irq(f->chip, 24, true);
	soft_irqchip_set_irq(f->chip, 0xffffffff, true);
}

static void nmi_and_init_through_the_ioapic(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	ioapic_route(f, 21, EDGE(0) | (APIC_DM_NMI << 8), 3);
	soft_irqchip_set_irq(f->chip, 21, true);
	assert_int_equal(lapic_take_events(f->l[3], NULL), LAPIC_EV_NMI);
	/* A level NMI entry never gets an EOI, so no remote IRR either. */
	ioapic_route(f, 22, LEVEL(0) | (APIC_DM_NMI << 8), 3);
	soft_irqchip_set_irq(f->chip, 22, true);
	assert_int_equal(ioapic_read(f, 0x10 + 44) & APIC_REMOTE_IRR, 0);
	assert_int_equal(lapic_take_events(f->l[3], NULL), LAPIC_EV_NMI);
}

/* ---- MSI ---- */

static u32 msi_addr(u8 dest, bool logical, bool rh)
{
	return 0xfee00000U | ((u32)dest << 12) | (rh ? 8 : 0) | (logical ? 4 : 0);
}

static void msi_decoding(void **state)
{
	struct fixture *f = *state;
	unsigned int kicks = f->kicks[2];

	enable_all(f);
	soft_irqchip_send_msi(f->chip, msi_addr(2, false, false), 0x45);
	assert_true(f->kicks[2] > kicks);
	assert_int_equal(lapic_ack_interrupt(f->l[2]), 0x45);
	assert_false(apic_bit(f->l[2], APIC_TMR, 0x45));
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		if (i != 2)
			assert_false(lapic_has_interrupt(f->l[i]));

	/* Logical flat destinations. */
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		apic_write(f->l[i], APIC_LDR, 1U << (24 + i));
	soft_irqchip_send_msi(f->chip, msi_addr(0x3, true, false), 0x46);
	assert_true(apic_bit(f->l[0], APIC_IRR, 0x46));
	assert_true(apic_bit(f->l[1], APIC_IRR, 0x46));
	assert_false(apic_bit(f->l[2], APIC_IRR, 0x46));

	/* The redirection hint picks one of the set. */
	soft_irqchip_send_msi(f->chip, msi_addr(0xc, true, true), 0x47);
	assert_true(apic_bit(f->l[2], APIC_IRR, 0x47) != apic_bit(f->l[3], APIC_IRR, 0x47));
	/* So does lowest-priority delivery. */
	soft_irqchip_send_msi(f->chip, msi_addr(0xc, true, false), 0x148);
	assert_true(apic_bit(f->l[2], APIC_IRR, 0x48) != apic_bit(f->l[3], APIC_IRR, 0x48));

	/* Level trigger sets TMR; NMI delivery mode makes an NMI. */
	soft_irqchip_send_msi(f->chip, msi_addr(1, false, false), 0xc049);
	assert_true(apic_bit(f->l[1], APIC_TMR, 0x49));
	soft_irqchip_send_msi(f->chip, msi_addr(1, false, false), 0x400);
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	/* Broadcast. */
	soft_irqchip_send_msi(f->chip, msi_addr(0xff, false, false), 0x4a);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_true(apic_bit(f->l[i], APIC_IRR, 0x4a));
}

static void msi_bad_messages_are_dropped(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	soft_irqchip_send_msi(f->chip, 0xfed00000, 0x45);		/* not 0xfee */
	soft_irqchip_send_msi(f->chip, 0x1fee00000ULL, 0x45);	/* upper bits */
	soft_irqchip_send_msi(f->chip, msi_addr(0, false, false), 0x645);	/* SIPI */
	soft_irqchip_send_msi(f->chip, msi_addr(0, false, false), 0x345);	/* reserved */
	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		assert_false(lapic_has_interrupt(f->l[i]));
		assert_false(lapic_has_events(f->l[i]));
	}
	/* A vector below 16 is an error at the receiver. */
	apic_write(f->l[0], 0x370, 0xfe);
	soft_irqchip_send_msi(f->chip, msi_addr(0, false, false), 0x05);
	apic_write(f->l[0], APIC_ESR, 0);
	assert_int_equal(apic_read(f->l[0], APIC_ESR), APIC_ESR_RECV_ILLEGAL);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), 0xfe);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(identity_registers),
		T(redirection_entry_bits),
		T(edge_fires_on_rising_edge_only),
		T(level_remote_irr_and_eoi),
		T(level_to_logical_destinations),
		T(masked_pins_hold_level_requests),
		T(isa_irq0_is_pin_2),
		T(nmi_and_init_through_the_ioapic),
		T(msi_decoding),
		T(msi_bad_messages_are_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

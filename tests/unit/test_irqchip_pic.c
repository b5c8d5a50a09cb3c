// SPDX-License-Identifier: Apache-2.0
/* The soft engine's 8259A pair, its ELCR, and ExtINT through LINT0. */
#include "irqchip_fixture.h"

#define M_CMD 0x20
#define M_DATA 0x21
#define S_CMD 0xa0
#define S_DATA 0xa1

/* Linux's init_8259A(): vectors 0x30 and 0x38, cascade on IRQ2, no AEOI. */
static void linux_init(struct fixture *f, u8 icw4)
{
	outb(f, M_DATA, 0xff);
	outb(f, S_DATA, 0xff);
	outb(f, M_CMD, 0x11);
	outb(f, M_DATA, 0x30);
	outb(f, M_DATA, 0x04);
	outb(f, M_DATA, icw4);
	outb(f, S_CMD, 0x11);
	outb(f, S_DATA, 0x38);
	outb(f, S_DATA, 0x02);
	outb(f, S_DATA, 0x01);
}

static u8 read_isr(struct fixture *f, u16 cmd)
{
	u8 v;

	outb(f, cmd, 0x0b);
	v = inb(f, cmd);
	outb(f, cmd, 0x0a);
	return v;
}

/* The BSP's INTA cycle, through its LAPIC's LINT0. */
static int intack(struct fixture *f)
{
	if (!lapic_has_interrupt(f->l[0]))
		return -1;
	return lapic_ack_interrupt(f->l[0]);
}

static void linux_probe(void **state)
{
	struct fixture *f = *state;

	/* probe_8259A(): the mask register must read back what was written. */
	outb(f, S_DATA, 0xff);
	outb(f, M_DATA, 0xfb);
	assert_int_equal(inb(f, M_DATA), 0xfb);
	outb(f, M_DATA, 0xff);
	assert_int_equal(inb(f, M_DATA), 0xff);
	linux_init(f, 0x01);
	/* ICW1 cleared the masks; Linux then restores its own. */
	assert_int_equal(inb(f, M_DATA), 0x00);
	outb(f, M_DATA, 0xfb);
	outb(f, S_DATA, 0xff);
	assert_int_equal(inb(f, M_DATA), 0xfb);
	assert_int_equal(inb(f, S_DATA), 0xff);
	/* IRR reads by default, ISR after OCW3 0x0b. */
	assert_int_equal(inb(f, M_CMD), 0);
	assert_int_equal(read_isr(f, M_CMD), 0);
	/* All masked: a raised line sets IRR but never INTR. */
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(inb(f, M_CMD), 1U << 4);
	assert_false(lapic_has_interrupt(f->l[0]));
}

static void extint_through_lint0(void **state)
{
	struct fixture *f = *state;
	unsigned int kicks = f->kicks[0];

	linux_init(f, 0x01);
	outb(f, M_DATA, 0xff & ~(1U << 4));
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_true(f->kicks[0] > kicks);
	/* Only the BSP's LINT0 is in ExtINT mode. */
	assert_false(lapic_has_interrupt(f->l[1]));
	assert_int_equal(intack(f), 0x34);
	assert_int_equal(read_isr(f, M_CMD), 1U << 4);
	assert_int_equal(inb(f, M_CMD), 0);	/* edge: IRR cleared by INTA */
	assert_false(lapic_has_interrupt(f->l[0]));
	outb(f, M_CMD, 0x20);			/* non-specific EOI */
	assert_int_equal(read_isr(f, M_CMD), 0);
	assert_false(lapic_has_interrupt(f->l[0]));

	/* LINT0 masked: the PIC no longer reaches the CPU. */
	apic_enable(f->l[0]);
	apic_write(f->l[0], 0x350, APIC_LVT_MASKED | (APIC_DM_EXTINT << 8));
	soft_irqchip_set_irq(f->chip, GSI_COM1, false);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_false(lapic_has_interrupt(f->l[0]));
	/* Unmasking it lets the pending request through. */
	kicks = f->kicks[0];
	apic_write(f->l[0], 0x350, APIC_DM_EXTINT << 8);
	assert_true(f->kicks[0] > kicks);
	assert_int_equal(intack(f), 0x34);
}

static void slave_cascade(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x01);
	outb(f, M_DATA, 0xfb);
	outb(f, S_DATA, 0xfe);			/* IRQ8 (RTC) only */
	soft_irqchip_set_irq(f->chip, GSI_RTC, true);
	assert_int_equal(intack(f), 0x38);
	assert_int_equal(read_isr(f, M_CMD), 1U << 2);
	assert_int_equal(read_isr(f, S_CMD), 1U << 0);
	/* Linux's EOI order for a slave IRQ: slave first, then the cascade. */
	outb(f, S_CMD, 0x60);			/* specific EOI, IRQ 0 */
	outb(f, M_CMD, 0x62);			/* specific EOI, IRQ 2 */
	assert_int_equal(read_isr(f, M_CMD), 0);
	assert_int_equal(read_isr(f, S_CMD), 0);
	assert_int_equal(intack(f), -1);
}

static void priority_and_nesting(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x01);
	outb(f, M_DATA, 0x00);
	soft_irqchip_set_irq(f->chip, 3, true);
	soft_irqchip_set_irq(f->chip, GSI_I8042_KBD, true);
	assert_int_equal(intack(f), 0x31);	/* IRQ1 before IRQ3 */
	/* IRQ3 is lower: held while IRQ1 is in service. */
	assert_int_equal(intack(f), -1);
	/* IRQ0 is higher: it nests. */
	soft_irqchip_set_irq(f->chip, GSI_PIT, true);
	assert_int_equal(intack(f), 0x30);
	assert_int_equal(read_isr(f, M_CMD), 0x03);
	outb(f, M_CMD, 0x20);			/* ends IRQ0, the highest */
	assert_int_equal(read_isr(f, M_CMD), 0x02);
	assert_int_equal(intack(f), -1);
	outb(f, M_CMD, 0x20);
	assert_int_equal(intack(f), 0x33);
	outb(f, M_CMD, 0x63);

	/* Set priority: IRQ4 lowest makes IRQ5 the highest. */
	outb(f, M_CMD, 0xc4);
	soft_irqchip_set_irq(f->chip, 5, true);
	soft_irqchip_set_irq(f->chip, 6, true);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(intack(f), 0x35);
	/* Rotate on non-specific EOI: IRQ5 becomes the lowest. */
	outb(f, M_CMD, 0xa0);
	assert_int_equal(intack(f), 0x36);
	outb(f, M_CMD, 0x20);
	assert_int_equal(intack(f), 0x34);
	outb(f, M_CMD, 0x20);
	assert_int_equal(intack(f), -1);
}

static void in_service_irq_waits_for_its_eoi(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x01);
	outb(f, M_DATA, 0x00);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(intack(f), 0x34);
	/* A new edge on the line in service is latched but not raised. */
	soft_irqchip_set_irq(f->chip, GSI_COM1, false);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(inb(f, M_CMD), 1U << 4);
	assert_int_equal(intack(f), -1);
	outb(f, M_CMD, 0x64);
	assert_int_equal(intack(f), 0x34);
}

static void auto_eoi(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x03);
	outb(f, M_DATA, 0x00);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(intack(f), 0x34);
	assert_int_equal(read_isr(f, M_CMD), 0);
	soft_irqchip_set_irq(f->chip, 3, true);
	assert_int_equal(intack(f), 0x33);	/* nothing in service blocks it */
}

static void elcr_level_lines(void **state)
{
	struct fixture *f = *state;
	u16 elcr;

	/* IRQs 0-2 and 8, 13 cannot be level-triggered. */
	outb(f, 0x4d0, 0xff);
	outb(f, 0x4d1, 0xff);
	assert_int_equal(inb(f, 0x4d0), 0xf8);
	assert_int_equal(inb(f, 0x4d1), 0xde);
	assert_true(bus_read(&f->vm.pio_bus, 0x4d0, &elcr, 2));
	assert_int_equal(elcr, 0xdef8);
	outb(f, 0x4d0, 0x00);
	outb(f, 0x4d1, 0x02);			/* IRQ9 level */

	linux_init(f, 0x01);
	outb(f, M_DATA, 0xfb);
	outb(f, S_DATA, 0xfd);
	soft_irqchip_set_irq(f->chip, GSI_ACPI_SCI, true);
	assert_int_equal(intack(f), 0x39);
	/* Level: IRR follows the line, so after the EOI it fires again. */
	assert_int_equal(inb(f, S_CMD), 0x02);
	outb(f, S_CMD, 0x20);
	outb(f, M_CMD, 0x20);
	assert_int_equal(intack(f), 0x39);
	outb(f, S_CMD, 0x20);
	outb(f, M_CMD, 0x20);
	soft_irqchip_set_irq(f->chip, GSI_ACPI_SCI, false);
	assert_int_equal(inb(f, S_CMD), 0);
	assert_int_equal(intack(f), -1);
}

static void vanished_request_and_spurious_irq7(void **state)
{
	struct fixture *f = *state;

	outb(f, 0x4d1, 0x02);
	linux_init(f, 0x01);
	outb(f, M_DATA, 0xfb);
	outb(f, S_DATA, 0xfd);
	soft_irqchip_set_irq(f->chip, GSI_ACPI_SCI, true);
	assert_true(lapic_has_interrupt(f->l[0]));
	/* The level line drops before the CPU takes it: INTR falls, no INTA. */
	soft_irqchip_set_irq(f->chip, GSI_ACPI_SCI, false);
	assert_false(lapic_has_interrupt(f->l[0]));
	assert_int_equal(lapic_ack_interrupt(f->l[0]), -1);

	/*
	 * An ExtINT message (here from IOAPIC pin 0) makes the CPU run INTA
	 * whatever the PIC holds: with nothing there it reads IRQ7's vector,
	 * and nothing goes in service.
	 */
	apic_enable(f->l[1]);
	ioapic_route(f, 0, APIC_DM_EXTINT << 8, 1);
	soft_irqchip_set_irq(f->chip, 0, true);
	assert_true(lapic_has_interrupt(f->l[1]));
	assert_int_equal(lapic_ack_interrupt(f->l[1]), 0x37);
	assert_int_equal(read_isr(f, M_CMD), 0);
	assert_false(lapic_has_interrupt(f->l[1]));
}

static void poll_command(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x01);
	outb(f, M_DATA, 0x00);
	outb(f, M_CMD, 0x0c);
	assert_int_equal(inb(f, M_CMD), 0);	/* nothing pending */
	soft_irqchip_set_irq(f->chip, 6, true);
	outb(f, M_CMD, 0x0c);
	assert_int_equal(inb(f, M_CMD), 0x86);
	assert_int_equal(read_isr(f, M_CMD), 1U << 6);
	/* The poll read is over: the next read is IRR again. */
	assert_int_equal(inb(f, M_CMD), 0);
}

static void icw1_resets_state(void **state)
{
	struct fixture *f = *state;

	linux_init(f, 0x01);
	outb(f, M_DATA, 0x00);
	soft_irqchip_set_irq(f->chip, 3, true);
	assert_int_equal(intack(f), 0x33);
	linux_init(f, 0x01);
	assert_int_equal(read_isr(f, M_CMD), 0);
	assert_int_equal(inb(f, M_CMD), 0);
	/* The line is still high: an edge needs it to fall and rise again. */
	outb(f, M_DATA, 0x00);
	soft_irqchip_set_irq(f->chip, 3, true);
	assert_int_equal(intack(f), -1);
	soft_irqchip_set_irq(f->chip, 3, false);
	soft_irqchip_set_irq(f->chip, 3, true);
	assert_int_equal(intack(f), 0x33);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(linux_probe),
		T(extint_through_lint0),
		T(slave_cascade),
		T(priority_and_nesting),
		T(in_service_irq_waits_for_its_eoi),
		T(auto_eoi),
		T(elcr_level_lines),
		T(vanished_request_and_spurious_irq7),
		T(poll_command),
		T(icw1_resets_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

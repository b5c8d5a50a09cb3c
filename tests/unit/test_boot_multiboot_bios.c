// SPDX-License-Identifier: Apache-2.0
/*
 * The port writes of the multiboot entry's BIOS stub (multiboot_bios.c),
 * made to the soft engine's own PIC and PIT: afterwards the machine must be
 * in the state a PC BIOS leaves, which kvm-unit-tests' realmode test waits
 * on: the timer ticking at 18.2 Hz on vector 0x08 through the PIC and the
 * BSP's LINT0, the slave at vector 0x70, everything but the timer masked.
 */
#include "irqchip_fixture.h"

#include "engine/soft/irqchip/clock.h"
#include "machine/boot/multiboot.h"

#define PIT_PERIOD_NS	((65536ULL * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ)	/* 54.9 ms */

static void bios_init(struct fixture *f)
{
	for (unsigned int i = 0; i < mb_bios_nr_writes; i++)
		outb(f, mb_bios_writes[i].port, mb_bios_writes[i].value);
}

/* The BSP's INTA cycle through LINT0 (ExtINT after reset), then the BIOS's EOI. */
static int intack_eoi(struct fixture *f, u16 eoi_port)
{
	int v;

	if (!lapic_has_interrupt(f->l[0]))
		return -1;
	v = lapic_ack_interrupt(f->l[0]);
	outb(f, eoi_port, 0x20);
	return v;
}

static void timer_ticks_on_vector_8(void **state)
{
	struct fixture *f = *state;
	u64 t0;

	bios_init(f);
	t0 = f->now;
	assert_int_equal(inb(f, 0x21), 0xfa);
	assert_int_equal(inb(f, 0xa1), 0xff);
	/* No tick before a period has passed, one per period after. */
	f->now = t0 + PIT_PERIOD_NS / 2;
	lapic_update(f->l[0], f->now);
	assert_int_equal(intack_eoi(f, 0x20), -1);
	for (unsigned int i = 1; i <= 3; i++) {
		f->now = t0 + i * PIT_PERIOD_NS + 1000;
		lapic_update(f->l[0], f->now);
		assert_int_equal(intack_eoi(f, 0x20), 0x08);
		assert_int_equal(intack_eoi(f, 0x20), -1);
	}
}

static void other_lines_masked_slave_at_0x70(void **state)
{
	struct fixture *f = *state;

	bios_init(f);
	/* IRQ11, as the realmode test pulses it through pc-testdev: masked. */
	soft_irqchip_set_irq(f->chip, 11, true);
	soft_irqchip_set_irq(f->chip, 11, false);
	soft_irqchip_set_irq(f->chip, GSI_COM1, true);
	assert_int_equal(intack_eoi(f, 0x20), -1);
	/* Unmasked by the guest, a slave line arrives at 0x70 + 3 through the cascade. */
	soft_irqchip_set_irq(f->chip, 11, true);
	outb(f, 0xa1, 0xff & ~(1U << 3));
	assert_int_equal(intack_eoi(f, 0xa0), 0x73);
	outb(f, 0x20, 0x20);			/* the cascade's EOI */
	assert_int_equal(intack_eoi(f, 0x20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(timer_ticks_on_vector_8, fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(other_lines_masked_slave_at_0x70, fix_setup,
						fix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

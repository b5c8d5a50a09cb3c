// SPDX-License-Identifier: Apache-2.0
/* The soft IOAPIC's remappable-format entries, through a VT-d unit. */
#include "irqchip_fixture.h"
#include "iommu/iommu.h"
#include "iommu/vtd.h"

#define IRT		0x10000ULL
#define PIN		17
#define REMAPPABLE_HI(handle) ((u32)1 << 16 | (u32)((handle) & 0x7fff) << 17)

static void put64(struct fixture *f, u64 gpa, u64 v)
{
	assert_int_equal(guest_write(&f->vm.mem, gpa, &v, 8), 0);
}

static void gcmd_set(struct fixture *f, u32 cmd)
{
	u32 sts;

	assert_true(bus_read(&f->vm.mmio_bus, LAYOUT_VTD_BASE + VTD_REG_GSTS, &sts, 4));
	sts |= cmd;
	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_VTD_BASE + VTD_REG_GCMD, &sts, 4));
}

static int setup(void **state)
{
	struct fixture *f;
	u64 irta = IRT | 7;

	if (fix_setup(state))
		return -1;
	f = *state;
	if (vtd_create(&f->vm, true))
		return -1;
	assert_true(bus_write(&f->vm.mmio_bus, LAYOUT_VTD_BASE + VTD_REG_IRTA, &irta, 8));
	gcmd_set(f, VTD_GCMD_SIRTP);
	gcmd_set(f, VTD_GCMD_IRE);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		apic_enable(f->l[i]);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	while (f->vm.nr_devices) {
		struct vm_device *d = &f->vm.devices[--f->vm.nr_devices];

		d->destroy(d->opaque);
	}
	return fix_teardown(state);
}

static void entry_goes_through_the_table(void **state)
{
	struct fixture *f = *state;

	/* IRTE 3: vector 0x66 to APIC 2, edge. The entry's own vector matches. */
	put64(f, IRT + 16 * 3, 1 | 0x66ULL << 16 | 2ULL << 40);
	put64(f, IRT + 16 * 3 + 8, 0);
	ioapic_write(f, 0x10 + 2 * PIN + 1, REMAPPABLE_HI(3));
	ioapic_write(f, 0x10 + 2 * PIN, 0x66);
	/* Bits 63:48 hold the format bit and the handle. */
	assert_int_equal(ioapic_read(f, 0x10 + 2 * PIN + 1), REMAPPABLE_HI(3));
	soft_irqchip_set_irq(f->chip, PIN, true);
	assert_int_equal(lapic_ack_interrupt(f->l[2]), 0x66);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), -1);
	soft_irqchip_set_irq(f->chip, PIN, false);
}

static void handle_bit_15_and_blocked_entries(void **state)
{
	struct fixture *f = *state;

	/* Handle 0x8001 is past the 256-entry table: blocked, nothing delivered. */
	ioapic_write(f, 0x10 + 2 * PIN + 1, REMAPPABLE_HI(1));
	ioapic_write(f, 0x10 + 2 * PIN, 0x67 | 1 << 11);
	soft_irqchip_set_irq(f->chip, PIN, true);
	soft_irqchip_set_irq(f->chip, PIN, false);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(lapic_ack_interrupt(f->l[i]), -1);
	/* A present entry with the same handle's low bits is not used instead. */
	put64(f, IRT + 16 * 1, 1 | 0x67ULL << 16);
	soft_irqchip_set_irq(f->chip, PIN, true);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), -1);
	soft_irqchip_set_irq(f->chip, PIN, false);
	/* An entry that is not present blocks too. */
	ioapic_write(f, 0x10 + 2 * PIN, 0x67);
	put64(f, IRT + 16 * 1, 0x67ULL << 16);
	soft_irqchip_set_irq(f->chip, PIN, true);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), -1);
}

static void level_entry_waits_for_eoi(void **state)
{
	struct fixture *f = *state;

	put64(f, IRT + 16 * 4, 1 | 1 << 4 | 0x68ULL << 16 | 1ULL << 40);
	ioapic_write(f, 0x10 + 2 * PIN + 1, REMAPPABLE_HI(4));
	ioapic_write(f, 0x10 + 2 * PIN, 0x68 | APIC_TRIGGER_LEVEL);
	soft_irqchip_set_irq(f->chip, PIN, true);
	assert_int_equal(lapic_ack_interrupt(f->l[1]), 0x68);
	/* Remote IRR holds it until the EOI; still asserted, it fires again. */
	assert_true(ioapic_read(f, 0x10 + 2 * PIN) & APIC_REMOTE_IRR);
	apic_write(f->l[1], APIC_EOI, 0);
	assert_int_equal(lapic_ack_interrupt(f->l[1]), 0x68);
	soft_irqchip_set_irq(f->chip, PIN, false);
	apic_write(f->l[1], APIC_EOI, 0);
	assert_false(ioapic_read(f, 0x10 + 2 * PIN) & APIC_REMOTE_IRR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(entry_goes_through_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(handle_bit_15_and_blocked_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(level_entry_waits_for_eoi, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

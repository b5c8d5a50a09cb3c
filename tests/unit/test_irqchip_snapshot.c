// SPDX-License-Identifier: Apache-2.0
/*
 * The soft interrupt controllers' snapshot sections
 * (engine/soft/irqchip/irqchip_snapshot.c), saved and loaded without a
 * file: what a restore must bring back, and what it must refuse.
 */
#include "irqchip_fixture.h"
#include "snap_section_io.h"

#include "engine/soft/irqchip/lapic.h"
#include "engine/soft/soft_snapshot.h"

static void register_sections(struct fixture *f)
{
	assert_int_equal(soft_irqchip_snapshot_register(&f->vm, f->chip), 0);
}

static void unregister_sections(struct fixture *f)
{
	snap_registry_free(f->vm.snap);
	f->vm.snap = NULL;
}

/* The NMIs a vCPU takes, one per call, until none is left. */
static unsigned int take_nmis(struct lapic *l)
{
	unsigned int n = 0;

	while (lapic_take_events(l, NULL) & LAPIC_EV_NMI)
		n++;
	return n;
}

/* Two NMIs queued at the snapshot are two after the restore, not one. */
static void queued_nmis_come_back(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];
	struct snap_writer w;
	char why[SECTION_WHY_MAX];

	register_sections(f);
	for (unsigned int i = 0; i < 3; i++)
		lapic_accept(l, APIC_DM_NMI, 0, false);
	section_save(&f->vm, "lapic1", &w);
	/* At most LAPIC_MAX_NMIS wait: the third was dropped, as on hardware. */
	assert_int_equal(take_nmis(l), LAPIC_MAX_NMIS);
	assert_int_equal(section_load(&f->vm, "lapic1", w.buf, w.len, why), 0);
	assert_int_equal(take_nmis(l), LAPIC_MAX_NMIS);

	/* And one is one. */
	lapic_accept(l, APIC_DM_NMI, 0, false);
	snap_writer_free(&w);
	section_save(&f->vm, "lapic1", &w);
	assert_int_equal(take_nmis(l), 1);
	assert_int_equal(section_load(&f->vm, "lapic1", w.buf, w.len, why), 0);
	assert_int_equal(take_nmis(l), 1);
	snap_writer_free(&w);
	unregister_sections(f);
}

/*
 * Saved while a device thread was between counting an NMI and raising its
 * event bit: the NMI is delivered after the restore, not lost.
 */
static void counted_nmi_without_its_bit_is_delivered(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[2];
	struct snap_writer w;
	char why[SECTION_WHY_MAX];

	register_sections(f);
	__atomic_store_n(&l->nmis, 1, __ATOMIC_RELAXED);
	section_save(&f->vm, "lapic2", &w);
	__atomic_store_n(&l->nmis, 0, __ATOMIC_RELAXED);
	assert_int_equal(section_load(&f->vm, "lapic2", w.buf, w.len, why), 0);
	assert_int_equal(take_nmis(l), 1);
	snap_writer_free(&w);
	unregister_sections(f);
}

/* A count no LAPIC can hold is refused, and the LAPIC keeps its own state. */
static void impossible_nmi_count_is_refused(void **state)
{
	static const u32 bad[] = { LAPIC_MAX_NMIS + 1, 0x80000000, 0xffffffff };
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	struct snap_writer w;

	register_sections(f);
	section_save(&f->vm, "lapic0", &w);
	lapic_accept(l, APIC_DM_NMI, 0, false);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[80];

		/* The count is the section's last field. */
		for (unsigned int b = 0; b < 4; b++)
			w.buf[w.len - 4 + b] = bad[i] >> (8 * b);
		snprintf(want, sizeof(want), "the count of queued NMIs is %u, more than %u", bad[i],
			 LAPIC_MAX_NMIS);
		section_refuses(&f->vm, "lapic0", w.buf, w.len, want);
	}
	assert_int_equal(take_nmis(l), 1);
	snap_writer_free(&w);
	unregister_sections(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(queued_nmis_come_back, fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(counted_nmi_without_its_bit_is_delivered, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(impossible_nmi_count_is_refused, fix_setup,
						fix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

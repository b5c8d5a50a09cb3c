// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>
#include <unistd.h>

#include "dev/acpi_pm.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define PWRBTN (1U << 8)
#define SLP_EN (1U << 13)

static int setup(void **state)
{
	struct vm *vm = fake_vm_create(0);

	if (!vm || acpi_pm_create(vm))
		return -1;
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	vm_destroy(*state);
	return 0;
}

static void s5_powers_off(void **state)
{
	struct vm *vm = *state;

	assert_int_equal(pio_in(vm, PORT_ACPI_PM1_CNT, 2) & 1, 1);	/* SCI_EN */
	/* Another sleep type is refused; SLP_TYP alone does nothing. */
	pio_out(vm, PORT_ACPI_PM1_CNT, 1 << 10 | SLP_EN, 2);
	assert_false(vm_stopping(vm));
	pio_out(vm, PORT_ACPI_PM1_CNT, ACPI_SLP_TYP_S5 << 10, 2);
	assert_false(vm_stopping(vm));
	assert_int_equal(pio_in(vm, PORT_ACPI_PM1_CNT, 2), ACPI_SLP_TYP_S5 << 10 | 1);
	/* SLP_EN in a byte write to the high half, as some AML does. */
	pio_out(vm, PORT_ACPI_PM1_CNT + 1, (ACPI_SLP_TYP_S5 << 2) | (SLP_EN >> 8), 1);
	assert_true(vm_stopping(vm));
	assert_int_equal(vm->stop_reason, VM_STOP_POWEROFF);
	assert_int_equal(vm->exit_code, 0);
}

static void power_button_raises_sci(void **state)
{
	struct vm *vm = *state;

	assert_int_equal(acpi_pm_press_power_button(vm), 0);
	assert_int_equal(pio_in(vm, PORT_ACPI_PM1_EVT, 2) & PWRBTN, PWRBTN);
	assert_false(fake_irq_level(GSI_ACPI_SCI));		/* not enabled yet */
	pio_out(vm, PORT_ACPI_PM1_EVT + 2, PWRBTN, 2);		/* PWRBTN_EN */
	assert_true(fake_irq_level(GSI_ACPI_SCI));
	pio_out(vm, PORT_ACPI_PM1_EVT, 0, 2);			/* writing 0 clears nothing */
	assert_true(fake_irq_level(GSI_ACPI_SCI));
	pio_out(vm, PORT_ACPI_PM1_EVT, PWRBTN, 2);		/* write 1 to clear */
	assert_false(fake_irq_level(GSI_ACPI_SCI));
	assert_int_equal(pio_in(vm, PORT_ACPI_PM1_EVT, 4), PWRBTN << 16);	/* STS 0, EN kept */
	assert_int_equal(acpi_pm_press_power_button(vm), 0);
	assert_true(fake_irq_level(GSI_ACPI_SCI));
}

static void no_pm_block_no_button(void **state)
{
	struct vm *vm = fake_vm_create(0);

	(void)state;
	assert_int_equal(acpi_pm_press_power_button(vm), -1);
	vm_destroy(vm);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void timer_counts_at_3_58_mhz(void **state)
{
	struct vm *vm = *state;
	u32 t0, t1, prev;
	u64 ns0, ns1, expected, got;

	ns0 = now_ns();
	t0 = pio_in(vm, PORT_ACPI_PM_TMR, 4);
	prev = t0;
	/* Monotonic over many reads... */
	for (int i = 0; i < 100000; i++) {
		u32 t = pio_in(vm, PORT_ACPI_PM_TMR, 4);

		assert_true((u32)(t - prev) < 0x80000000U);
		prev = t;
	}
	usleep(200 * 1000);
	t1 = pio_in(vm, PORT_ACPI_PM_TMR, 4);
	ns1 = now_ns();
	/* ...and at the right rate: within 2% over 200 ms. */
	got = (u32)(t1 - t0);
	expected = (ns1 - ns0) * ACPI_PM_TIMER_HZ / 1000000000ULL;
	assert_true(got <= expected + expected / 50);
	assert_true(got >= expected - expected / 50);
	/* The timer is read-only. */
	pio_out(vm, PORT_ACPI_PM_TMR, 0, 4);
	assert_true((u32)(pio_in(vm, PORT_ACPI_PM_TMR, 4) - t1) < ACPI_PM_TIMER_HZ);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(s5_powers_off),
		T(power_button_raises_sci),
		cmocka_unit_test(no_pm_block_no_button),
		T(timer_counts_at_3_58_mhz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

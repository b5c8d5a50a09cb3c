// SPDX-License-Identifier: Apache-2.0
/*
 * The API suite's guest (tests/integration/api.sh): prints "tick N" on
 * COM1 every 100 ms of ACPI PM-timer time, so that the suite can see the
 * guest make progress, or not while paused. It polls PM1a_STS and, once
 * the power button is pressed (PUT /actions Shutdown), clears the bit and
 * enters S5 as an OS does: Kiln then exits 0. It never stops on its own.
 */
#include "guest.h"
#include "machine/layout.h"

#define PM_TIMER_HZ 3579545U
#define TICK (PM_TIMER_HZ / 10)
#define PM1_PWRBTN_STS (1U << 8)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1U << 13)
#define POWEROFF_WAIT_LOOPS 100000

static __attribute__((noreturn)) void power_off(void)
{
	outw(PORT_ACPI_PM1_EVT, PM1_PWRBTN_STS);	/* write 1 to clear */
	gprintf("api_counter: power button: powering off\n");
	outw(PORT_ACPI_PM1_CNT, ACPI_SLP_TYP_S5 << PM1_SLP_TYP_SHIFT | PM1_SLP_EN);
	for (int i = 0; i < POWEROFF_WAIT_LOOPS; i++)
		cpu_relax();
	guest_fail("still running after entering S5");
}

void guest_main(void)
{
	u32 last = inl(PORT_ACPI_PM_TMR);
	u64 ticks = 0;

	gprintf("api_counter: running\n");
	for (;;) {
		u32 now = inl(PORT_ACPI_PM_TMR);

		if (inw(PORT_ACPI_PM1_EVT) & PM1_PWRBTN_STS)
			power_off();
		/* u32 arithmetic: the 32-bit timer may wrap. Time paused is not caught up. */
		if (now - last >= TICK) {
			last = now;
			gprintf("tick %lu\n", (unsigned long)++ticks);
		}
	}
}

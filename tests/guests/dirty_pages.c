// SPDX-License-Identifier: Apache-2.0
/*
 * Dirty-log guest for tests/unit/test_mem_dirty.c: writes a known set of
 * pages (phase 1), reports it in the mailbox, waits for the host's go,
 * writes a disjoint set (phase 2), reports it and exits quietly through
 * the debug-exit port (Kiln exits 1). See dirty_pages.h.
 */
#include "guest.h"
#include "dirty_pages.h"
#include "machine/layout.h"

#define PM_TIMER_HZ 3579545U

extern const u8 __image_end[];

static void write_phase(unsigned int phase)
{
	for (u64 i = 0; i < DIRTY_AREA_PAGES / DIRTY_STRIDE; i++) {
		u64 page = i * DIRTY_STRIDE + phase - 1;

		*(volatile u64 *)(DIRTY_AREA_GPA + page * DIRTY_GUEST_PAGE) = page + 1;
	}
}

void guest_main(void)
{
	struct dirty_mailbox *mb = (struct dirty_mailbox *)DIRTY_MAILBOX_GPA;
	u32 last = inl(PORT_ACPI_PM_TMR);
	u64 waited = 0;

	CHECK(e820_is_ram(DIRTY_MAILBOX_GPA, DIRTY_GUEST_PAGE) &&
	      e820_is_ram(DIRTY_AREA_GPA, DIRTY_AREA_PAGES * DIRTY_GUEST_PAGE),
	      "the mailbox and area are not RAM: use --mem 64M or more");
	mb->image_end = (u64)__image_end;
	write_phase(1);
	mb->phase = 1;
	while (!mb->go) {
		u32 now = inl(PORT_ACPI_PM_TMR);

		waited += now - last;	/* u32: the timer may wrap */
		last = now;
		CHECK(waited < (u64)DIRTY_GO_TIMEOUT_S * PM_TIMER_HZ,
		      "no go from the host in %u s", DIRTY_GO_TIMEOUT_S);
	}
	write_phase(2);
	mb->phase = 2;
	guest_exit_quietly(0);
}

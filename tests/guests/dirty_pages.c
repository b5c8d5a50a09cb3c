// SPDX-License-Identifier: Apache-2.0
/*
 * Dirty-log guest for tests/unit/test_mem_dirty.c: writes a known set of
 * pages (phase 1), reports it in the mailbox, waits for the host's go,
 * writes a disjoint set (phase 2), reports it, then on the next go stores
 * to pseudo-random words of the area until told to stop (phase 3), and
 * exits quietly through the debug-exit port (Kiln exits 1). See
 * dirty_pages.h.
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

/* Spins until the host's go reaches want; fails after DIRTY_GO_TIMEOUT_S. */
static void wait_go(struct dirty_mailbox *mb, u64 want)
{
	u32 last = inl(PORT_ACPI_PM_TMR);
	u64 waited = 0;

	while (mb->go < want) {
		u32 now = inl(PORT_ACPI_PM_TMR);

		waited += now - last;	/* u32: the timer may wrap */
		last = now;
		CHECK(waited < (u64)DIRTY_GO_TIMEOUT_S * PM_TIMER_HZ,
		      "no go %llu from the host in %u s", (unsigned long long)want,
		      DIRTY_GO_TIMEOUT_S);
	}
}

/* Stores a counter to pseudo-random words of the area until go reaches 3. */
static u64 stress(struct dirty_mailbox *mb)
{
	volatile u64 *area = (volatile u64 *)DIRTY_AREA_GPA;
	const u64 words = DIRTY_AREA_PAGES * DIRTY_GUEST_PAGE / 8;
	u64 x = 0x9e3779b97f4a7c15ULL, n = 0;
	u32 start = inl(PORT_ACPI_PM_TMR), now;

	while (mb->go < 3) {
		for (int i = 0; i < 256; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			area[x % words] = ++n;
		}
		now = inl(PORT_ACPI_PM_TMR);
		CHECK(now - start < (u32)(DIRTY_GO_TIMEOUT_S * PM_TIMER_HZ),
		      "no stop from the host in %u s", DIRTY_GO_TIMEOUT_S);
	}
	return n;
}

void guest_main(void)
{
	struct dirty_mailbox *mb = (struct dirty_mailbox *)DIRTY_MAILBOX_GPA;

	CHECK(e820_is_ram(DIRTY_MAILBOX_GPA, DIRTY_GUEST_PAGE) &&
	      e820_is_ram(DIRTY_AREA_GPA, DIRTY_AREA_PAGES * DIRTY_GUEST_PAGE),
	      "the mailbox and area are not RAM: use --mem 64M or more");
	mb->image_end = (u64)__image_end;
	write_phase(1);
	mb->phase = 1;
	wait_go(mb, 1);
	write_phase(2);
	mb->phase = 2;
	wait_go(mb, 2);
	mb->stores = stress(mb);
	mb->phase = 3;
	guest_exit_quietly(0);
}

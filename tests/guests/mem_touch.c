// SPDX-License-Identifier: Apache-2.0
/*
 * The memory suites' guest (tests/integration/mem-*.sh, bench/mem-scale):
 * writes touch.mib MiB of RAM from touch.start_mib (default 16), prints
 * "mem_touch: touched N MiB" on COM1, then halts until Kiln is stopped
 * (SIGTERM), or exits through the debug-exit port when touch.exit=1.
 *
 * Every page gets content that depends only on its index and touch.seed,
 * so identical guests fill identical pages (what KSM merges) while the
 * pages of one guest differ from each other. touch.fill=1 writes whole
 * pages (rep stosq); the default writes one word per page, which is
 * enough to make the host commit it and costs ~1000 times fewer stores.
 */
#include "guest.h"

#define PAGE_SIZE 4096UL
#define PATTERN_MUL 0x9e3779b97f4a7c15UL	/* spreads page indices apart */

static u64 page_pattern(u64 index, u64 seed)
{
	return (index + 1) * PATTERN_MUL ^ seed;
}

static void fill_page(u64 *page, u64 value)
{
	u64 count = PAGE_SIZE / sizeof(u64);

	__asm__ volatile("rep stosq" : "+D"(page), "+c"(count) : "a"(value) : "memory");
}

void guest_main(void)
{
	u64 mib = cmdline_need_u64("touch.mib");
	u64 start = 16, seed = 0, fill = 0, exit = 0;
	u64 base, len, pages;

	cmdline_u64("touch.start_mib", &start);
	cmdline_u64("touch.seed", &seed);
	cmdline_u64("touch.fill", &fill);
	cmdline_u64("touch.exit", &exit);
	CHECK(mib < 4096 && start < 4096, "touch.mib=%lu touch.start_mib=%lu: stay below 4 GiB",
	      (unsigned long)mib, (unsigned long)start);
	base = start * MiB;
	len = mib * MiB;
	/* Only 0-4 GiB is identity mapped, and the range must be RAM. */
	CHECK(len == 0 || e820_is_ram(base, len),
	      "%lu MiB from %lu MiB is not RAM in e820 (use a larger --mem)",
	      (unsigned long)mib, (unsigned long)start);

	pages = len / PAGE_SIZE;
	for (u64 i = 0; i < pages; i++) {
		u64 *page = (u64 *)(base + i * PAGE_SIZE);

		if (fill)
			fill_page(page, page_pattern(i, seed));
		else
			*(volatile u64 *)page = page_pattern(i, seed);
	}
	gprintf("mem_touch: touched %lu MiB\n", (unsigned long)mib);
	if (exit)
		return;
	halt_forever();
}

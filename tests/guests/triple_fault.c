// SPDX-License-Identifier: Apache-2.0
/*
 * A guest that shuts its CPU down: an empty IDT, then #UD. Kiln must exit
 * 6 with a register dump; R12 carries a marker the runner finds in it.
 */
#include "guest.h"

void guest_main(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) empty = { 0, 0 };

	__asm__ volatile("lidt %0\n"
			 "mov $0x6b696c6e, %%r12\n"	/* "kiln" */
			 "ud2" : : "m"(empty) : "r12");
	guest_fail("ud2 with an empty IDT did not shut the CPU down");
}

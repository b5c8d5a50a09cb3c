// SPDX-License-Identifier: Apache-2.0
/*
 * bench/run's kvm exit-cost guest (benchmark 7): exits.n=N port writes to
 * 0x80, between two lines on COM1 that bench/probe timestamps. The loop is
 * the very instructions bench/kvm-raw.c runs under a bare KVM_RUN loop
 * (out; dec %rcx; jnz), so the difference per exit is what Kiln adds: a
 * nested host emulates each ring-0 instruction, and any other loop would
 * weigh differently.
 */
#include "guest.h"

void guest_main(void)
{
	u64 n = cmdline_need_u64("exits.n");

	CHECK(n > 0, "exits.n must be at least 1");
	serial_puts("exit_loop: start\n");
	asm volatile("1:\n\t"
		     "outb %%al, $0x80\n\t"
		     "dec %%rcx\n\t"
		     "jnz 1b"
		     : "+c"(n)
		     : "a"(0)
		     : "cc", "memory");
	serial_puts("exit_loop: done\n");
}

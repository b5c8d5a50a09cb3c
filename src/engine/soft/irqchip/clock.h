/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_CLOCK_H
#define KILN_ENGINE_SOFT_IRQCHIP_CLOCK_H

#include "lib/types.h"

/*
 * Time for the soft engine's timers, TSC and kvmclock.
 *
 * Everything counts from one host clock, CLOCK_MONOTONIC in nanoseconds,
 * which a test can replace with a clock it steps by hand. Deadlines handed
 * to the CPU engine are absolute values of that clock, so the HLT wait can
 * sleep until them directly.
 *
 * The guest sees a fixed 2 GHz TSC that is 0 when the VM is created, and an
 * APIC bus clock of 1 GHz (one LAPIC timer tick per ns before the divider,
 * as KVM does), so no host frequency ever leaks into the guest and the
 * conversions are exact integer multiplies.
 */

#define SOFT_TSC_HZ		2000000000ULL
#define SOFT_APIC_BUS_HZ	1000000000ULL
#define PIT_HZ			1193182ULL
#define NSEC_PER_SEC		1000000000ULL
#define SOFT_TIME_NEVER		UINT64_MAX	/* no deadline */

_Static_assert(SOFT_TSC_HZ % NSEC_PER_SEC == 0,
	       "the TSC must tick a whole number of times per ns");
_Static_assert(SOFT_APIC_BUS_HZ == NSEC_PER_SEC,
	       "LAPIC timer maths assumes one bus tick per ns");

#define SOFT_TSC_PER_NS (SOFT_TSC_HZ / NSEC_PER_SEC)

typedef u64 (*soft_clock_fn)(void *opaque);

struct soft_clock {
	soft_clock_fn now;	/* absolute ns */
	void *opaque;
	u64 start_ns;		/* guest time zero: TSC 0, kvmclock 0 */
};

/* The host's CLOCK_MONOTONIC in ns; opaque is unused. */
u64 host_monotonic_ns(void *opaque);

/* now NULL means the host clock. Sets guest time zero to the clock's now. */
void soft_clock_init(struct soft_clock *c, soft_clock_fn now, void *opaque);

static inline u64 soft_clock_now(const struct soft_clock *c)
{
	return c->now(c->opaque);
}

/* Guest ns since creation at host time now (0 before creation). */
static inline u64 soft_clock_guest_ns(const struct soft_clock *c, u64 now)
{
	return now > c->start_ns ? now - c->start_ns : 0;
}

/* The TSC value at host time now, before any per-vCPU offset. */
static inline u64 soft_clock_tsc_at(const struct soft_clock *c, u64 now)
{
	return soft_clock_guest_ns(c, now) * SOFT_TSC_PER_NS;
}

/* Host time at which the unoffset TSC reaches tsc. */
static inline u64 soft_clock_tsc_to_host_ns(const struct soft_clock *c, u64 tsc)
{
	u64 ns = tsc / SOFT_TSC_PER_NS + (tsc % SOFT_TSC_PER_NS != 0);

	if (ns > SOFT_TIME_NEVER - c->start_ns)
		return SOFT_TIME_NEVER;
	return c->start_ns + ns;
}

/* a * b / c without overflow in the product; c must not be 0. */
static inline u64 mul_div_u64(u64 a, u64 b, u64 c)
{
	return (u64)((unsigned __int128)a * b / c);
}

#endif

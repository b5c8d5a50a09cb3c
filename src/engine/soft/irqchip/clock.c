// SPDX-License-Identifier: Apache-2.0
#include "engine/soft/irqchip/clock.h"

#include <time.h>

u64 host_monotonic_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

void soft_clock_init(struct soft_clock *c, soft_clock_fn now, void *opaque)
{
	c->now = now ? now : host_monotonic_ns;
	c->opaque = now ? opaque : NULL;
	c->start_ns = soft_clock_now(c);
}

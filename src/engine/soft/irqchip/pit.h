/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_PIT_H
#define KILN_ENGINE_SOFT_IRQCHIP_PIT_H

#include <pthread.h>

#include "bus/bus.h"
#include "lib/types.h"

struct soft_irqchip;

/*
 * The 8254 PIT at 0x40-0x43 and port 0x61 (NMI status and control, which
 * gates channel 2 and reads back its output).
 *
 * Counters are not ticked: each channel remembers the host time its count
 * was loaded and computes count and OUT from the clock at 1.193182 MHz.
 * Channel 0's OUT is ISA IRQ0: every rising edge pulses GSI_PIT. The next
 * edge is a deadline the CPU engine asks for; pit_update() fires it, and
 * several periods missed in between make one interrupt, not a burst.
 */

#define PIT_PORT_CONTROL	0x43
#define PIT_PORT_61		0x61

struct pit_channel {
	u8 mode;		/* 0-5 */
	u8 access;		/* 1 lo, 2 hi, 3 lo then hi */
	bool bcd;
	bool loaded;		/* a count was written since the mode */
	bool gate;
	u32 count;		/* 1..0x10000 */
	u64 load_ns;		/* host time counting (re)started */
	u64 frozen_ticks;	/* modes 0/1/4/5 with gate low: count held */
	/* reads */
	bool count_latched;
	u16 latch;
	bool status_latched;
	u8 status;
	bool read_hi;		/* lo/hi flip-flop for reads */
	bool write_hi;		/* and for writes */
	u8 write_lo;
	/* channel 0's interrupt: the OUT edges already delivered */
	u64 edges_done;
};

struct pit {
	pthread_mutex_t lock;
	struct soft_irqchip *chip;
	struct pit_channel ch[3];
	u8 port61;		/* the writable bits 3:0 */
	u64 deadline;		/* channel 0's next edge; atomic */
};

extern const struct bus_device_ops pit_ops;
extern const struct bus_device_ops pit_port61_ops;

void pit_init(struct pit *pit, struct soft_irqchip *chip);
void pit_destroy(struct pit *pit);

/* Any thread: when pit_update next has work, or SOFT_TIME_NEVER. */
static inline u64 pit_next_deadline(struct pit *pit)
{
	return __atomic_load_n(&pit->deadline, __ATOMIC_ACQUIRE);
}

void pit_update(struct pit *pit, u64 now);

#endif

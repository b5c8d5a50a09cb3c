// SPDX-License-Identifier: Apache-2.0
/* The 8254 PIT and port 0x61, computed from the clock. */
#include "engine/soft/irqchip/pit.h"

#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"
#include "machine/layout.h"

#define CTRL_CHANNEL_SHIFT	6
#define CTRL_ACCESS_SHIFT	4
#define CTRL_MODE_SHIFT		1
#define CTRL_READBACK		3	/* in the channel field */
#define RB_NO_COUNT		0x20	/* read-back: bit clear latches the count */
#define RB_NO_STATUS		0x10	/* ... and the status */

#define ACCESS_LATCH		0
#define ACCESS_LO		1
#define ACCESS_HI		2
#define ACCESS_LOHI		3

#define P61_GATE2		0x01
#define P61_SPEAKER		0x02
#define P61_WRITABLE		0x0f
#define P61_REFRESH		0x10
#define P61_OUT2		0x20
#define REFRESH_HALF_NS		15085	/* DRAM refresh toggles every ~15 us */

/* Modes 2 and 3 reload themselves; 0, 1, 4 and 5 run out once. */
static bool periodic(const struct pit_channel *ch)
{
	return ch->mode == 2 || ch->mode == 3;
}

/*
 * A low gate stops the count in modes 0, 2, 3 and 4. In 1 and 5 the gate
 * is a trigger instead; with no trigger modelled, they count from the load.
 */
static bool counting(const struct pit_channel *ch)
{
	return ch->loaded && (ch->gate || ch->mode == 1 || ch->mode == 5);
}

static u64 ticks_to_ns(u64 ticks)
{
	return mul_div_u64(ticks, NSEC_PER_SEC, PIT_HZ) + 1;
}

/* Input clocks counted since the count was loaded. */
static u64 pit_ticks(const struct pit_channel *ch, u64 now)
{
	if (!counting(ch))
		return ch->frozen_ticks;
	if (now <= ch->load_ns)
		return ch->frozen_ticks;
	return ch->frozen_ticks + mul_div_u64(now - ch->load_ns, PIT_HZ, NSEC_PER_SEC);
}

static u16 pit_count(const struct pit_channel *ch, u64 ticks)
{
	u64 n = ch->count, p;

	if (!ch->loaded)
		return 0;
	switch (ch->mode) {
	case 2:
		return (u16)(n - ticks % n);
	case 3:
		/* Counts down by two, through each half of the period. */
		p = ticks % n;
		if (p >= (n + 1) / 2)
			p -= (n + 1) / 2;
		return (u16)((n - 2 * p) & ~1ULL);
	default:
		return (u16)(n - ticks);	/* wraps past 0, as the chip does */
	}
}

static bool pit_out(const struct pit_channel *ch, u64 ticks)
{
	u64 n = ch->count;

	if (!ch->loaded)
		return ch->mode != 0;	/* mode 0 starts low, the rest high */
	switch (ch->mode) {
	case 0:
	case 1:
		return ticks >= n;
	case 2:
		return !ch->gate || ticks % n != n - 1;
	case 3:
		return !ch->gate || ticks % n < (n + 1) / 2;
	default:	/* 4, 5: one low clock at terminal count */
		return ticks != n;
	}
}

/*
 * The tick of the (k+1)th rising edge of OUT after loading, or 0 when
 * there is none: periodic modes rise at every multiple of the count,
 * mode 0 and 1 once at terminal count, 4 and 5 one clock after it.
 */
static u64 pit_edge_tick(const struct pit_channel *ch, u64 k)
{
	if (periodic(ch))
		return (k + 1) * ch->count;
	if (k)
		return 0;
	return ch->mode <= 1 ? ch->count : ch->count + 1;
}

/* Recomputes channel 0's next interrupt deadline. Lock held. */
static void pit_set_deadline(struct pit *pit)
{
	struct pit_channel *ch = &pit->ch[0];
	u64 tick, deadline = SOFT_TIME_NEVER;

	if (counting(ch)) {
		tick = pit_edge_tick(ch, ch->edges_done);
		if (tick && tick > ch->frozen_ticks)
			deadline = ch->load_ns + ticks_to_ns(tick - ch->frozen_ticks);
	}
	__atomic_store_n(&pit->deadline, deadline, __ATOMIC_RELEASE);
}

static void pit_raise_irq0(struct pit *pit)
{
	/* ISA IRQ0: the PIC's IRQ0 and IOAPIC pin 2. */
	soft_irqchip_set_irq(pit->chip, GSI_PIT, true);
	soft_irqchip_set_irq(pit->chip, GSI_PIT, false);
}

void pit_update(struct pit *pit, u64 now)
{
	struct pit_channel *ch = &pit->ch[0];
	bool fire = false;

	pthread_mutex_lock(&pit->lock);
	if (now >= __atomic_load_n(&pit->deadline, __ATOMIC_RELAXED) && counting(ch)) {
		u64 ticks = pit_ticks(ch, now);

		/* Every edge up to now counts as delivered: one interrupt. */
		if (periodic(ch))
			ch->edges_done = MAX(ch->edges_done + 1, ticks / ch->count);
		else
			ch->edges_done = 1;
		fire = true;
		pit_set_deadline(pit);
	}
	if (fire)
		pit_raise_irq0(pit);
	pthread_mutex_unlock(&pit->lock);
}

/* Loads a new count: counting restarts from it now. Lock held. */
static void pit_load(struct pit *pit, unsigned int idx, u32 value, u64 now)
{
	struct pit_channel *ch = &pit->ch[idx];

	ch->count = value ? value : 0x10000;
	/* Modes 2 and 3 cannot count from 1. */
	if (periodic(ch) && ch->count < 2)
		ch->count = 2;
	ch->loaded = true;
	ch->load_ns = now;
	ch->frozen_ticks = 0;
	ch->edges_done = 0;
	if (idx == 0)
		pit_set_deadline(pit);
}

static void pit_latch_count(struct pit_channel *ch, u64 now)
{
	if (ch->count_latched)
		return;
	ch->latch = pit_count(ch, pit_ticks(ch, now));
	ch->count_latched = true;
	ch->read_hi = false;
}

static void pit_latch_status(struct pit_channel *ch, u64 now)
{
	if (ch->status_latched)
		return;
	ch->status = (pit_out(ch, pit_ticks(ch, now)) << 7) |
		     (ch->access << CTRL_ACCESS_SHIFT) |
		     (ch->mode << CTRL_MODE_SHIFT) | ch->bcd;
	ch->status_latched = true;
}

static void pit_control(struct pit *pit, u8 v, u64 now)
{
	unsigned int sel = v >> CTRL_CHANNEL_SHIFT;
	unsigned int access = (v >> CTRL_ACCESS_SHIFT) & 3;
	struct pit_channel *ch;

	if (sel == CTRL_READBACK) {
		for (unsigned int i = 0; i < 3; i++) {
			if (!(v & (2U << i)))
				continue;
			if (!(v & RB_NO_STATUS))
				pit_latch_status(&pit->ch[i], now);
			if (!(v & RB_NO_COUNT))
				pit_latch_count(&pit->ch[i], now);
		}
		return;
	}
	ch = &pit->ch[sel];
	if (access == ACCESS_LATCH) {
		pit_latch_count(ch, now);
		return;
	}
	ch->access = access;
	ch->mode = (v >> CTRL_MODE_SHIFT) & 7;
	if (ch->mode > 5)
		ch->mode -= 4;	/* 6 and 7 are aliases of 2 and 3 */
	ch->bcd = v & 1;
	if (ch->bcd)
		pr_warn_once("pit: BCD counting is not supported: counting in binary");
	/* A control word stops the channel until a count is written. */
	ch->loaded = false;
	ch->frozen_ticks = 0;
	ch->count_latched = false;
	ch->status_latched = false;
	ch->read_hi = false;
	ch->write_hi = false;
	if (sel == 0)
		pit_set_deadline(pit);
}

static void pit_write_count(struct pit *pit, unsigned int idx, u8 v, u64 now)
{
	struct pit_channel *ch = &pit->ch[idx];

	switch (ch->access) {
	case ACCESS_LO:
		pit_load(pit, idx, v, now);
		break;
	case ACCESS_HI:
		pit_load(pit, idx, (u32)v << 8, now);
		break;
	case ACCESS_LOHI:
		if (!ch->write_hi) {
			ch->write_lo = v;
			ch->write_hi = true;
		} else {
			ch->write_hi = false;
			pit_load(pit, idx, ch->write_lo | ((u32)v << 8), now);
		}
		break;
	default:
		break;	/* no control word yet */
	}
}

static u8 pit_read_count(struct pit_channel *ch, u64 now)
{
	u16 count;
	u8 v;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	count = ch->count_latched ? ch->latch : pit_count(ch, pit_ticks(ch, now));
	switch (ch->access) {
	case ACCESS_HI:
		v = count >> 8;
		ch->count_latched = false;
		break;
	case ACCESS_LOHI:
		v = ch->read_hi ? count >> 8 : count & 0xff;
		if (ch->read_hi)
			ch->count_latched = false;
		ch->read_hi = !ch->read_hi;
		break;
	default:
		v = count & 0xff;
		ch->count_latched = false;
		break;
	}
	return v;
}

static void pit_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pit *pit = opaque;
	u64 now = chip_now(pit->chip);
	u8 v = 0xff;	/* the control port cannot be read */

	pthread_mutex_lock(&pit->lock);
	if (offset < 3)
		v = pit_read_count(&pit->ch[offset], now);
	pthread_mutex_unlock(&pit->lock);
	bus_data_put(data, len, v);
}

static void pit_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pit *pit = opaque;
	u64 now = chip_now(pit->chip);
	u8 v = (u8)bus_data_get(data, len);

	pthread_mutex_lock(&pit->lock);
	if (offset == 3)
		pit_control(pit, v, now);
	else
		pit_write_count(pit, offset, v, now);
	pthread_mutex_unlock(&pit->lock);
}

const struct bus_device_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
};

/*
 * Channel 2's gate. Modes 0 and 4 hold their count while it is low; the
 * others restart from the full count when it rises.
 */
static void pit_set_gate2(struct pit_channel *ch, bool gate, u64 now)
{
	if (gate == ch->gate)
		return;
	if (!gate) {
		ch->frozen_ticks = pit_ticks(ch, now);
		ch->gate = false;
		return;
	}
	ch->gate = true;
	ch->load_ns = now;
	if (ch->mode != 0 && ch->mode != 4)
		ch->frozen_ticks = 0;
}

static void port61_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pit *pit = opaque;
	u64 now = chip_now(pit->chip);
	struct pit_channel *ch = &pit->ch[2];
	u8 v;

	(void)offset;
	pthread_mutex_lock(&pit->lock);
	v = pit->port61 & P61_WRITABLE;
	if (pit_out(ch, pit_ticks(ch, now)))
		v |= P61_OUT2;
	if ((now / REFRESH_HALF_NS) & 1)
		v |= P61_REFRESH;
	pthread_mutex_unlock(&pit->lock);
	bus_data_put(data, len, v);
}

static void port61_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pit *pit = opaque;
	u64 now = chip_now(pit->chip);
	u8 v = (u8)bus_data_get(data, len);

	(void)offset;
	pthread_mutex_lock(&pit->lock);
	pit->port61 = v & P61_WRITABLE;
	pit_set_gate2(&pit->ch[2], v & P61_GATE2, now);
	pthread_mutex_unlock(&pit->lock);
}

const struct bus_device_ops pit_port61_ops = {
	.read = port61_read,
	.write = port61_write,
};

void pit_init(struct pit *pit, struct soft_irqchip *chip)
{
	pthread_mutex_init(&pit->lock, NULL);
	pit->chip = chip;
	pit->port61 = 0;
	for (unsigned int i = 0; i < 3; i++)
		pit->ch[i] = (struct pit_channel){ .gate = i != 2 };
	pit->deadline = SOFT_TIME_NEVER;
}

void pit_destroy(struct pit *pit)
{
	pthread_mutex_destroy(&pit->lock);
}

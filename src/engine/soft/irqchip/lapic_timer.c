// SPDX-License-Identifier: Apache-2.0
/*
 * The LAPIC timer: one-shot, periodic and TSC-deadline, as a deadline on
 * the host clock. The APIC bus runs at 1 GHz, so one timer tick is
 * "divide" ns and every conversion is exact.
 */
#include "engine/soft/irqchip/lapic.h"

#include "engine/soft/irqchip/chip.h"

/*
 * A periodic timer faster than this would keep a vCPU taking interrupts
 * and nothing else; KVM has the same floor.
 */
#define LAPIC_MIN_PERIOD_NS 200000ULL

static unsigned int mode_of(u32 lvt)
{
	u32 bits = (lvt >> APIC_TIMER_MODE_SHIFT) & 3;

	if (bits & APIC_TIMER_TSC_DEADLINE)
		return APIC_TIMER_TSC_DEADLINE;
	return bits;
}

static unsigned int timer_mode(const struct lapic *l)
{
	return mode_of(lapic_load(&l->lvt[LVT_TIMER]));
}

/* TDCR bits 3, 1:0 -> divide by 2, 4, ..., 128, or 1 for 0b1011. */
static u32 divide_from_reg(u32 v)
{
	u32 x = (v & 3) | ((v & 8) >> 1);

	return x == 7 ? 1 : 2U << x;
}

static void timer_fire(struct lapic *l)
{
	u32 lvt = lapic_load(&l->lvt[LVT_TIMER]);

	if (!(lvt & APIC_LVT_MASKED))
		lapic_accept(l, APIC_DM_FIXED, lvt & APIC_VECTOR_MASK, false);
}

static u64 count_ns(const struct lapic *l)
{
	return (u64)l->timer.initial * l->timer.divide;
}

/* (Re)arms a one-shot or periodic count that started at l->timer.start_ns. */
static void timer_arm_count(struct lapic *l)
{
	struct lapic_timer *t = &l->timer;

	if (!t->initial) {
		t->deadline_ns = SOFT_TIME_NEVER;
		return;
	}
	t->period_ns = count_ns(l);
	if (timer_mode(l) == APIC_TIMER_PERIODIC)
		t->period_ns = MAX(t->period_ns, LAPIC_MIN_PERIOD_NS);
	t->deadline_ns = t->start_ns + t->period_ns;
}

void lapic_timer_reset(struct lapic *l)
{
	struct lapic_timer *t = &l->timer;

	t->initial = 0;
	t->divide_reg = 0;
	t->divide = divide_from_reg(0);
	t->start_ns = 0;
	t->period_ns = 0;
	t->deadline_ns = SOFT_TIME_NEVER;
	t->tsc_deadline = 0;
}

static void timer_stop(struct lapic *l)
{
	l->timer.initial = 0;
	l->timer.tsc_deadline = 0;
	l->timer.deadline_ns = SOFT_TIME_NEVER;
}

void lapic_timer_write_lvt(struct lapic *l, u32 value)
{
	struct lapic_timer *t = &l->timer;
	unsigned int old = timer_mode(l);
	bool running;

	/* A count that ran out in the old mode has done so: it fires there. */
	if (mode_of(value) != old)
		lapic_timer_update(l, chip_now(l->chip));
	running = t->deadline_ns != SOFT_TIME_NEVER;
	lapic_store(&l->lvt[LVT_TIMER], value);
	if (timer_mode(l) == old)
		return;
	/* Entering or leaving TSC-deadline mode disarms the timer. */
	if (old == APIC_TIMER_TSC_DEADLINE || timer_mode(l) == APIC_TIMER_TSC_DEADLINE) {
		timer_stop(l);
		return;
	}
	/*
	 * One-shot <-> periodic keeps counting from where the count is: a
	 * periodic count is in its current period; a one-shot count that
	 * reached zero stays there.
	 */
	if (!running)
		return;
	if (old == APIC_TIMER_PERIODIC)
		t->start_ns = t->deadline_ns - t->period_ns;
	timer_arm_count(l);
}

void lapic_timer_write_initial(struct lapic *l, u32 count)
{
	/* TMICT is ignored in TSC-deadline mode. */
	if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
		return;
	l->timer.initial = count;
	l->timer.start_ns = chip_now(l->chip);
	timer_arm_count(l);
}

u32 lapic_timer_current(struct lapic *l)
{
	const struct lapic_timer *t = &l->timer;
	u64 now, ticks;

	/* Not armed: never loaded, or a one-shot count that reached zero. */
	if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE || !t->initial ||
	    t->deadline_ns == SOFT_TIME_NEVER)
		return 0;
	now = chip_now(l->chip);
	ticks = now > t->start_ns ? (now - t->start_ns) / t->divide : 0;
	if (timer_mode(l) == APIC_TIMER_PERIODIC)
		return t->initial - (u32)(ticks % t->initial);
	return ticks >= t->initial ? 0 : t->initial - (u32)ticks;
}

void lapic_timer_write_divide(struct lapic *l, u32 value)
{
	struct lapic_timer *t = &l->timer;
	bool running = t->initial && t->deadline_ns != SOFT_TIME_NEVER &&
		       timer_mode(l) != APIC_TIMER_TSC_DEADLINE;
	u32 remaining = running ? lapic_timer_current(l) : 0;

	t->divide_reg = value & 0xb;
	t->divide = divide_from_reg(t->divide_reg);
	if (!running)
		return;
	/* Keep the current count, and count the rest at the new rate. */
	t->start_ns = chip_now(l->chip) - (u64)(t->initial - remaining) * t->divide;
	timer_arm_count(l);
}

void lapic_timer_write_tsc_deadline(struct lapic *l, u64 tsc)
{
	struct lapic_timer *t = &l->timer;
	u64 now, cur;

	/* Outside TSC-deadline mode the MSR ignores writes. */
	if (timer_mode(l) != APIC_TIMER_TSC_DEADLINE)
		return;
	t->tsc_deadline = tsc;
	if (!tsc) {
		t->deadline_ns = SOFT_TIME_NEVER;
		return;
	}
	now = chip_now(l->chip);
	cur = soft_clock_tsc_at(&l->chip->clock, now) + l->tsc_offset;
	if (tsc <= cur)
		t->deadline_ns = now;
	else
		t->deadline_ns = now + (tsc - cur + SOFT_TSC_PER_NS - 1) / SOFT_TSC_PER_NS;
}

u64 lapic_timer_read_tsc_deadline(struct lapic *l)
{
	return timer_mode(l) == APIC_TIMER_TSC_DEADLINE ? l->timer.tsc_deadline : 0;
}

void lapic_timer_update(struct lapic *l, u64 now)
{
	struct lapic_timer *t = &l->timer;

	if (now < t->deadline_ns)
		return;
	timer_fire(l);
	switch (timer_mode(l)) {
	case APIC_TIMER_PERIODIC:
		/* Periods missed while the vCPU was busy make one interrupt. */
		t->deadline_ns += ((now - t->deadline_ns) / t->period_ns + 1) * t->period_ns;
		break;
	case APIC_TIMER_TSC_DEADLINE:
		t->tsc_deadline = 0;
		t->deadline_ns = SOFT_TIME_NEVER;
		break;
	default:
		t->deadline_ns = SOFT_TIME_NEVER;
		break;
	}
}

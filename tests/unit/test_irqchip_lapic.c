// SPDX-License-Identifier: Apache-2.0
/* The soft engine's local APIC: registers, priorities, timer, IPIs, MSRs. */
#include "irqchip_fixture.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

/* Sends an IPI from l through its ICR. */
static void send_ipi(struct lapic *l, u8 dest, u32 lo)
{
	apic_write(l, APIC_ICR2, (u32)dest << 24);
	apic_write(l, APIC_ICR, lo);
}

#define ICR(vec, mode) ((u32)(vec) | ((u32)(mode) << APIC_DM_SHIFT) | APIC_LEVEL_ASSERT)
#define SH(s) ((u32)(s) << APIC_SHORTHAND_SHIFT)

static void reset_values(void **state)
{
	struct fixture *f = *state;
	u64 base;

	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		struct lapic *l = f->l[i];

		assert_int_equal(apic_read(l, APIC_ID), i << 24);
		assert_int_equal(apic_read(l, APIC_LVR), 0x50014);
		assert_int_equal(apic_read(l, APIC_SVR), 0xff);
		assert_int_equal(apic_read(l, APIC_DFR), 0xffffffff);
		assert_int_equal(apic_read(l, APIC_TPR), 0);
		assert_int_equal(apic_read(l, 0x320), APIC_LVT_MASKED);
		assert_int_equal(apic_read(l, 0x370), APIC_LVT_MASKED);
		/* The BSP's LINT0 takes the PIC, as firmware would leave it. */
		assert_int_equal(apic_read(l, 0x350),
				 i == 0 ? APIC_DM_EXTINT << 8 : APIC_LVT_MASKED);
		assert_int_equal(lapic_rdmsr(l, MSR_IA32_APIC_BASE, &base), LAPIC_MSR_OK);
		assert_int_equal(base, LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE |
				       (i == 0 ? APIC_BASE_BSP : 0));
		assert_int_equal(lapic_mmio_base(l), LAYOUT_LAPIC_BASE);
		assert_false(lapic_has_interrupt(l));
		assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);
	}
}

static void narrow_reads_and_bad_writes(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];
	u8 b;
	u16 w;
	u64 q = 0;

	lapic_mmio_read(l, APIC_ID + 3, &b, 1);
	assert_int_equal(b, 1);
	lapic_mmio_read(l, APIC_LVR, &w, 2);
	assert_int_equal(w, 0x0014);
	/* Past the register's 32 bits, and past the page: zeros. */
	lapic_mmio_read(l, APIC_LVR + 4, &b, 1);
	assert_int_equal(b, 0);
	lapic_mmio_read(l, 0x5000, &q, 8);
	assert_int_equal(q, 0);
	/* Misaligned and narrow writes are dropped. */
	w = 0xffff;
	lapic_mmio_write(l, APIC_TPR, &w, 2);
	lapic_mmio_write(l, APIC_TPR + 1, &w, 2);
	lapic_mmio_write(l, 0x7000, &w, 2);
	assert_int_equal(apic_read(l, APIC_TPR), 0);
}

static void disabled_lapic_drops_fixed_keeps_nmi(void **state)
{
	struct fixture *f = *state;

	apic_enable(f->l[0]);
	send_ipi(f->l[0], 1, ICR(0x40, APIC_DM_FIXED));
	assert_false(apic_bit(f->l[1], APIC_IRR, 0x40));
	send_ipi(f->l[0], 1, ICR(0, APIC_DM_NMI));
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	assert_int_equal(lapic_take_events(f->l[1], NULL), 0);

	apic_enable(f->l[1]);
	send_ipi(f->l[0], 1, ICR(0x40, APIC_DM_FIXED));
	assert_true(apic_bit(f->l[1], APIC_IRR, 0x40));
	assert_true(lapic_has_interrupt(f->l[1]));
}

static void tpr_and_ppr_mask_by_class(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];

	apic_enable(l);
	send_ipi(l, 0, ICR(0x51, APIC_DM_FIXED) | SH(APIC_SH_SELF));
	send_ipi(l, 0, ICR(0x62, APIC_DM_FIXED) | SH(APIC_SH_SELF));
	assert_true(apic_bit(l, APIC_IRR, 0x51));
	assert_true(apic_bit(l, APIC_IRR, 0x62));

	/* Class 6 is not above TPR class 6. */
	apic_write(l, APIC_TPR, 0x60);
	assert_int_equal(apic_read(l, APIC_PPR), 0x60);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(lapic_ack_interrupt(l), -1);

	apic_write(l, APIC_TPR, 0x5f);
	assert_true(lapic_has_interrupt(l));
	assert_int_equal(lapic_ack_interrupt(l), 0x62);
	assert_true(apic_bit(l, APIC_ISR, 0x62));
	assert_false(apic_bit(l, APIC_IRR, 0x62));
	/* In service, 0x62 raises PPR to its class and holds back 0x51. */
	assert_int_equal(apic_read(l, APIC_PPR), 0x60);
	assert_false(lapic_has_interrupt(l));

	apic_write(l, APIC_EOI, 0);
	assert_false(apic_bit(l, APIC_ISR, 0x62));
	assert_int_equal(apic_read(l, APIC_PPR), 0x5f);
	assert_false(lapic_has_interrupt(l));	/* 0x51 is class 5: TPR holds it */

	/* CR8 is TPR[7:4]; lowering it releases 0x51 and kicks. */
	unsigned int kicks = f->kicks[0];
	lapic_set_cr8(l, 0);
	assert_int_equal(apic_read(l, APIC_TPR), 0);
	assert_true(f->kicks[0] > kicks);
	assert_int_equal(lapic_ack_interrupt(l), 0x51);
	lapic_set_cr8(l, 0xa);
	assert_int_equal(apic_read(l, APIC_TPR), 0xa0);
	assert_int_equal(lapic_get_cr8(l), 0xa);
}

static void isr_nests_and_eoi_takes_highest(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[2];

	apic_enable(f->l[0]);
	apic_enable(l);
	send_ipi(f->l[0], 2, ICR(0x40, APIC_DM_FIXED));
	assert_int_equal(lapic_ack_interrupt(l), 0x40);
	/* A same-class vector waits; a higher class nests. */
	send_ipi(f->l[0], 2, ICR(0x41, APIC_DM_FIXED));
	assert_false(lapic_has_interrupt(l));
	send_ipi(f->l[0], 2, ICR(0x80, APIC_DM_FIXED));
	assert_int_equal(lapic_ack_interrupt(l), 0x80);
	assert_true(apic_bit(l, APIC_ISR, 0x40));
	assert_true(apic_bit(l, APIC_ISR, 0x80));
	assert_int_equal(apic_read(l, APIC_PPR), 0x80);

	apic_write(l, APIC_EOI, 0);
	assert_false(apic_bit(l, APIC_ISR, 0x80));
	assert_true(apic_bit(l, APIC_ISR, 0x40));
	assert_int_equal(apic_read(l, APIC_PPR), 0x40);
	assert_false(lapic_has_interrupt(l));
	apic_write(l, APIC_EOI, 0);
	assert_false(apic_bit(l, APIC_ISR, 0x40));
	assert_int_equal(lapic_ack_interrupt(l), 0x41);
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(apic_read(l, APIC_PPR), 0);
	/* An EOI with nothing in service is harmless. */
	apic_write(l, APIC_EOI, 0);
}

static void svr_disable_masks_lvts(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];

	apic_enable(l);
	apic_write(l, 0x370, 0xfe);
	assert_int_equal(apic_read(l, 0x370), 0xfe);
	apic_write(l, APIC_SVR, 0xff);
	assert_int_equal(apic_read(l, 0x370), 0xfe | APIC_LVT_MASKED);
	/* And cannot be unmasked while disabled. */
	apic_write(l, 0x370, 0xfe);
	assert_int_equal(apic_read(l, 0x370), 0xfe | APIC_LVT_MASKED);
}

static void illegal_vectors_set_esr(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];

	apic_enable(l);
	apic_enable(f->l[1]);
	apic_write(l, 0x370, 0xfe);	/* error LVT */
	send_ipi(l, 1, ICR(0x05, APIC_DM_FIXED));
	assert_false(apic_bit(f->l[1], APIC_IRR, 0x05));
	/* ESR shows errors only once a write latches them. */
	assert_int_equal(apic_read(l, APIC_ESR), 0);
	apic_write(l, APIC_ESR, 0);
	assert_int_equal(apic_read(l, APIC_ESR), APIC_ESR_SEND_ILLEGAL);
	assert_int_equal(lapic_ack_interrupt(l), 0xfe);
	apic_write(l, APIC_ESR, 0);
	assert_int_equal(apic_read(l, APIC_ESR), 0);
}

/* ---- timer ---- */

static void timer_one_shot(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	u64 start = f->now;

	apic_enable(l);
	apic_write(l, APIC_TDCR, 0x3);		/* divide by 16 */
	apic_write(l, 0x320, 0x30);		/* one-shot, vector 0x30 */
	apic_write(l, APIC_TMICT, 1000);
	assert_int_equal(lapic_next_deadline_ns(l), start + 16000);

	f->now = start + 8000;
	assert_int_equal(apic_read(l, APIC_TMCCT), 500);
	f->now = start + 15999;
	lapic_update(l, f->now);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(apic_read(l, APIC_TMCCT), 1);

	unsigned int kicks = f->kicks[0];
	f->now = start + 16000;
	lapic_update(l, f->now);
	assert_true(f->kicks[0] > kicks);
	assert_int_equal(lapic_ack_interrupt(l), 0x30);
	assert_int_equal(apic_read(l, APIC_TMCCT), 0);
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);
	f->now += 1000000;
	lapic_update(l, f->now);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(apic_read(l, APIC_TMICT), 1000);
	assert_int_equal(apic_read(l, APIC_TDCR), 0x3);

	/* Writing 0 stops a running count. */
	apic_write(l, APIC_TMICT, 50);
	apic_write(l, APIC_TMICT, 0);
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);
}

static void timer_periodic_and_missed_periods(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];
	u64 start = f->now, period = 300000;	/* 150000 ticks, divide by 2 */

	apic_enable(l);
	apic_write(l, APIC_TDCR, 0x0);
	apic_write(l, 0x320, 0x31 | (APIC_TIMER_PERIODIC << 17));
	apic_write(l, APIC_TMICT, 150000);
	assert_int_equal(lapic_next_deadline_ns(l), start + period);

	for (unsigned int i = 1; i <= 3; i++) {
		f->now = start + i * period;
		lapic_update(l, f->now);
		assert_int_equal(lapic_ack_interrupt(l), 0x31);
		apic_write(l, APIC_EOI, 0);
		assert_int_equal(lapic_next_deadline_ns(l), start + (i + 1) * period);
	}
	/* A quarter into the period, the count has a quarter gone. */
	f->now = start + 3 * period + period / 4;
	assert_int_equal(apic_read(l, APIC_TMCCT), 150000 - 150000 / 4);

	/* Five periods missed make one interrupt, and the phase holds. */
	f->now = start + 8 * period + 10;
	lapic_update(l, f->now);
	assert_int_equal(lapic_ack_interrupt(l), 0x31);
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(lapic_ack_interrupt(l), -1);
	assert_int_equal(lapic_next_deadline_ns(l), start + 9 * period);

	/* Masked: still counts, delivers nothing. */
	apic_write(l, 0x320, 0x31 | (APIC_TIMER_PERIODIC << 17) | APIC_LVT_MASKED);
	f->now = start + 9 * period;
	lapic_update(l, f->now);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(lapic_next_deadline_ns(l), start + 10 * period);
}

/*
 * Switching between one-shot and periodic keeps the count where it is: a
 * spent one-shot count stays at zero, a periodic one keeps its phase.
 */
static void timer_mode_change_keeps_count(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	u64 start = f->now;

	apic_enable(l);
	apic_write(l, APIC_TDCR, 0xb);			/* divide by 1: 1 ms counts, above the periodic floor */
	apic_write(l, 0x320, 0x30);			/* one-shot */
	apic_write(l, APIC_TMICT, 1000000);
	/* Run out, unseen by lapic_update, then made periodic: it fired, stays 0. */
	f->now = start + 1500000;
	apic_write(l, 0x320, 0x30 | (APIC_TIMER_PERIODIC << 17));
	assert_int_equal(apic_read(l, APIC_TMCCT), 0);
	assert_int_equal(lapic_ack_interrupt(l), 0x30);
	apic_write(l, APIC_EOI, 0);
	f->now = start + 5500000;
	lapic_update(l, f->now);
	assert_int_equal(apic_read(l, APIC_TMCCT), 0);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);

	/* Periodic, 2.25 periods in, made one-shot: 750000 left, then it fires once. */
	start = f->now;
	apic_write(l, APIC_TMICT, 1000000);
	f->now = start + 1000000;
	lapic_update(l, f->now);
	assert_int_equal(lapic_ack_interrupt(l), 0x30);
	apic_write(l, APIC_EOI, 0);
	f->now = start + 2250000;
	apic_write(l, 0x320, 0x30);
	assert_int_equal(lapic_ack_interrupt(l), 0x30);	/* the tick at 2 ms */
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(apic_read(l, APIC_TMCCT), 750000);
	assert_int_equal(lapic_next_deadline_ns(l), start + 3000000);
	f->now = start + 3000000;
	lapic_update(l, f->now);
	assert_int_equal(lapic_ack_interrupt(l), 0x30);
	apic_write(l, APIC_EOI, 0);
	assert_int_equal(apic_read(l, APIC_TMCCT), 0);
	/* And back to periodic: nothing left to count. */
	apic_write(l, 0x320, 0x30 | (APIC_TIMER_PERIODIC << 17));
	f->now = start + 9000000;
	lapic_update(l, f->now);
	assert_false(lapic_has_interrupt(l));
	assert_int_equal(apic_read(l, APIC_TMCCT), 0);
}

static void timer_periodic_has_a_floor(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	u64 start = f->now;

	apic_enable(l);
	apic_write(l, APIC_TDCR, 0xb);		/* divide by 1 */
	apic_write(l, 0x320, 0x31 | (APIC_TIMER_PERIODIC << 17));
	apic_write(l, APIC_TMICT, 10);
	/* A 10 ns period would starve the vCPU: it is at least 200 us. */
	assert_true(lapic_next_deadline_ns(l) >= start + 200000);
}

static void timer_divide_change_keeps_count(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	u64 start = f->now;

	apic_enable(l);
	apic_write(l, APIC_TDCR, 0x0);		/* by 2 */
	apic_write(l, 0x320, 0x30);
	apic_write(l, APIC_TMICT, 1000);
	f->now = start + 600;			/* 300 ticks gone */
	apic_write(l, APIC_TDCR, 0xa);		/* by 128 */
	assert_int_equal(apic_read(l, APIC_TMCCT), 700);
	assert_int_equal(lapic_next_deadline_ns(l), f->now + 700 * 128);
}

static void timer_tsc_deadline(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[2];
	u64 tsc, v;

	apic_enable(l);
	/* Not in TSC-deadline mode: the MSR ignores writes and reads 0. */
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_TSC_DEADLINE, 12345), LAPIC_MSR_OK);
	assert_int_equal(lapic_rdmsr(l, MSR_IA32_TSC_DEADLINE, &v), LAPIC_MSR_OK);
	assert_int_equal(v, 0);

	apic_write(l, 0x320, 0x32 | (APIC_TIMER_TSC_DEADLINE << 17));
	tsc = lapic_rdtsc(l);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_TSC_DEADLINE, tsc + 2000), LAPIC_MSR_OK);
	lapic_rdmsr(l, MSR_IA32_TSC_DEADLINE, &v);
	assert_int_equal(v, tsc + 2000);
	/* 2000 ticks of a 2 GHz TSC are 1000 ns. */
	assert_int_equal(lapic_next_deadline_ns(l), f->now + 1000);
	/* TMICT is ignored in this mode. */
	apic_write(l, APIC_TMICT, 5);
	assert_int_equal(lapic_next_deadline_ns(l), f->now + 1000);

	f->now += 999;
	lapic_update(l, f->now);
	assert_false(lapic_has_interrupt(l));
	f->now += 1;
	assert_int_equal(lapic_rdtsc(l), tsc + 2000);
	lapic_update(l, f->now);
	assert_int_equal(lapic_ack_interrupt(l), 0x32);
	lapic_rdmsr(l, MSR_IA32_TSC_DEADLINE, &v);
	assert_int_equal(v, 0);		/* it disarms once fired */
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);

	/* A deadline already past fires at once; 0 disarms. */
	lapic_wrmsr(l, MSR_IA32_TSC_DEADLINE, 1);
	assert_int_equal(lapic_next_deadline_ns(l), f->now);
	lapic_wrmsr(l, MSR_IA32_TSC_DEADLINE, 0);
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);

	/* Leaving TSC-deadline mode disarms it. */
	lapic_wrmsr(l, MSR_IA32_TSC_DEADLINE, lapic_rdtsc(l) + 100);
	apic_write(l, 0x320, 0x32);
	assert_int_equal(lapic_next_deadline_ns(l), SOFT_TIME_NEVER);
}

/* ---- IPIs ---- */

/* Which LAPICs have vector v in their IRR, as a bit mask; clears them. */
static unsigned int who_got(struct fixture *f, u8 v)
{
	unsigned int mask = 0;

	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		if (!apic_bit(f->l[i], APIC_IRR, v))
			continue;
		mask |= 1U << i;
		assert_int_equal(lapic_ack_interrupt(f->l[i]), v);
		apic_write(f->l[i], APIC_EOI, 0);
	}
	return mask;
}

static void enable_all(struct fixture *f)
{
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		apic_enable(f->l[i]);
}

static void ipi_fixed_physical_and_shorthands(void **state)
{
	struct fixture *f = *state;
	unsigned int kicks2;

	enable_all(f);
	kicks2 = f->kicks[2];
	send_ipi(f->l[1], 2, ICR(0x40, APIC_DM_FIXED));
	assert_int_equal(who_got(f, 0x40), 1U << 2);
	assert_true(f->kicks[2] > kicks2);
	assert_int_equal(apic_read(f->l[1], APIC_ICR) & APIC_DELIVERY_PENDING, 0);

	send_ipi(f->l[1], 0xff, ICR(0x41, APIC_DM_FIXED));
	assert_int_equal(who_got(f, 0x41), 0xf);
	send_ipi(f->l[1], 7, ICR(0x42, APIC_DM_FIXED));	/* nobody */
	assert_int_equal(who_got(f, 0x42), 0);
	/* Shorthands ignore the destination field. */
	send_ipi(f->l[1], 3, ICR(0x43, APIC_DM_FIXED) | SH(APIC_SH_SELF));
	assert_int_equal(who_got(f, 0x43), 1U << 1);
	send_ipi(f->l[1], 3, ICR(0x44, APIC_DM_FIXED) | SH(APIC_SH_ALL));
	assert_int_equal(who_got(f, 0x44), 0xf);
	send_ipi(f->l[1], 3, ICR(0x45, APIC_DM_FIXED) | SH(APIC_SH_OTHERS));
	assert_int_equal(who_got(f, 0x45), 0xf & ~(1U << 1));
}

static void ipi_logical_flat(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		apic_write(f->l[i], APIC_DFR, 0xffffffff);
		apic_write(f->l[i], APIC_LDR, 1U << (24 + i));
		assert_int_equal(apic_read(f->l[i], APIC_LDR), 1U << (24 + i));
	}
	send_ipi(f->l[0], 0x5, ICR(0x50, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x50), 0x5);
	send_ipi(f->l[0], 0x8, ICR(0x51, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x51), 0x8);
	send_ipi(f->l[0], 0x30, ICR(0x52, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x52), 0);
	send_ipi(f->l[0], 0xff, ICR(0x53, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x53), 0xf);
}

static void ipi_logical_cluster(void **state)
{
	struct fixture *f = *state;
	/* CPUs 0, 1 in cluster 1 (members 1, 2); 2, 3 in cluster 2 (1, 2). */
	static const u8 ldr[FIX_CPUS] = { 0x11, 0x12, 0x21, 0x22 };

	enable_all(f);
	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		apic_write(f->l[i], APIC_DFR, 0x0fffffff);
		apic_write(f->l[i], APIC_LDR, (u32)ldr[i] << 24);
	}
	assert_int_equal(apic_read(f->l[0], APIC_DFR), 0x0fffffff);
	send_ipi(f->l[0], 0x13, ICR(0x60, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x60), 0x3);
	send_ipi(f->l[0], 0x22, ICR(0x61, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x61), 0x8);
	send_ipi(f->l[0], 0x31, ICR(0x62, APIC_DM_FIXED) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x62), 0);
}

static void ipi_lowest_priority_picks_one(void **state)
{
	struct fixture *f = *state;
	static const u32 tpr[FIX_CPUS] = { 0x20, 0x10, 0x30, 0x20 };

	enable_all(f);
	for (unsigned int i = 0; i < FIX_CPUS; i++) {
		apic_write(f->l[i], APIC_LDR, 1U << (24 + i));
		apic_write(f->l[i], APIC_TPR, tpr[i]);
	}
	send_ipi(f->l[0], 0xf, ICR(0x70, APIC_DM_LOWEST) | APIC_DEST_LOGICAL);
	assert_int_equal(who_got(f, 0x70), 1U << 1);
	/* Among CPUs 0 and 3 (equal priority), each gets one in turn. */
	unsigned int got = 0;
	for (unsigned int i = 0; i < 2; i++) {
		unsigned int w;

		send_ipi(f->l[0], 0x9, ICR(0x71, APIC_DM_LOWEST) | APIC_DEST_LOGICAL);
		w = who_got(f, 0x71);
		assert_true(w == 0x1 || w == 0x8);
		got |= w;
	}
	assert_int_equal(got, 0x9);
}

static void ipi_init_sipi_nmi(void **state)
{
	struct fixture *f = *state;
	u8 sipi = 0;

	enable_all(f);
	/* Linux's AP wake-up: INIT assert, INIT de-assert, SIPI twice. */
	send_ipi(f->l[0], 1, ICR(0, APIC_DM_INIT) | APIC_TRIGGER_LEVEL);
	assert_true(lapic_has_events(f->l[1]));
	assert_int_equal(lapic_take_events(f->l[1], &sipi), LAPIC_EV_INIT);
	lapic_init_reset(f->l[1]);
	assert_int_equal(apic_read(f->l[1], APIC_SVR), 0xff);
	assert_int_equal(apic_read(f->l[1], APIC_ID), 1U << 24);
	send_ipi(f->l[0], 1, (APIC_DM_INIT << 8) | APIC_TRIGGER_LEVEL);
	assert_false(lapic_has_events(f->l[1]));
	send_ipi(f->l[0], 1, ICR(0x9a, APIC_DM_STARTUP));
	assert_int_equal(lapic_take_events(f->l[1], &sipi), LAPIC_EV_SIPI);
	assert_int_equal(sipi, 0x9a);

	/* INIT and SIPI both pending come out together, for INIT first. */
	send_ipi(f->l[0], 2, ICR(0, APIC_DM_INIT));
	send_ipi(f->l[0], 2, ICR(0x10, APIC_DM_STARTUP));
	assert_int_equal(lapic_take_events(f->l[2], &sipi), LAPIC_EV_INIT | LAPIC_EV_SIPI);
	assert_int_equal(sipi, 0x10);

	/* NMI to all but self; even software-disabled LAPICs take it. */
	apic_write(f->l[3], APIC_SVR, 0xff);
	send_ipi(f->l[0], 0, ICR(0, APIC_DM_NMI) | SH(APIC_SH_OTHERS));
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(lapic_take_events(f->l[i], NULL), i ? LAPIC_EV_NMI : 0);
	/* NMI is not a maskable interrupt. */
	assert_false(lapic_has_interrupt(f->l[1]));
}

/*
 * NMIs that arrive together are not merged: two wait, one per
 * lapic_take_events, each call kicking for the next; a third is lost.
 */
static void two_nmis_wait(void **state)
{
	struct fixture *f = *state;
	unsigned int kicks;

	enable_all(f);
	for (unsigned int i = 0; i < 3; i++)
		send_ipi(f->l[0], 1, ICR(0, APIC_DM_NMI));
	kicks = f->kicks[1];
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	assert_true(f->kicks[1] > kicks);
	assert_true(lapic_has_events(f->l[1]));
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	assert_false(lapic_has_events(f->l[1]));
	assert_int_equal(lapic_take_events(f->l[1], NULL), 0);

	/* One the vCPU could not hold goes back in line. */
	send_ipi(f->l[0], 1, ICR(0, APIC_DM_NMI));
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	kicks = f->kicks[1];
	lapic_requeue_nmi(f->l[1]);
	assert_true(f->kicks[1] > kicks);
	assert_int_equal(lapic_take_events(f->l[1], NULL), LAPIC_EV_NMI);
	assert_int_equal(lapic_take_events(f->l[1], NULL), 0);
}

/* KVM_HC_SEND_IPI: a bitmap of APIC IDs from min, in two halves. */
static void pv_send_ipi(void **state)
{
	struct fixture *f = *state;
	const u32 fixed = 0x40 | (APIC_DM_FIXED << APIC_DM_SHIFT);

	enable_all(f);
	/* Nobody at or above APIC ID 0xffffffff: none delivered (kvm-unit-tests' check). */
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 0xffffffff, 0, 0xffffffff, 0, true), 0);
	/* IDs 1 and 3 from min 0, 64-bit: bits 1 and 3 of the low half. */
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 0xa, 0, 0, fixed, true), 2);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(lapic_ack_interrupt(f->l[i]), i == 1 || i == 3 ? 0x40 : -1);
	drain(f->l[1]), drain(f->l[3]);
	/* 32-bit: the high half starts at min + 32; ID 2 is bit 2 of the low half from 0. */
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 0, 1, 2 - 32, fixed | 1, false), 1);
	assert_int_equal(lapic_ack_interrupt(f->l[2]), 0x41);
	/* min above an ID does not wrap around to it. */
	assert_int_equal(lapic_pv_send_ipi(f->l[0], ~0ULL, ~0ULL, 4, fixed, true), 0);
	/* NMI mode, and the ICR fields KVM refuses. */
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 1, 0, 2, APIC_DM_NMI << APIC_DM_SHIFT, true),
			 1);
	assert_int_equal(lapic_take_events(f->l[2], NULL), LAPIC_EV_NMI);
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 1, 0, 0, fixed | APIC_DEST_LOGICAL, true),
			 -KVM_EINVAL);
	assert_int_equal(lapic_pv_send_ipi(f->l[0], 1, 0, 0, fixed | SH(APIC_SH_SELF), true),
			 -KVM_EINVAL);
	assert_int_equal(lapic_ack_interrupt(f->l[0]), -1);
}

/* ---- concurrency ---- */

#define STRESS_SENDERS 3
#define STRESS_ROUNDS 2000

struct stress {
	struct fixture *f;
	unsigned int id;
	unsigned int *acked;	/* per sender, written by the owner */
	bool failed;
};

/*
 * Each sender sends its own vector, by IPI or MSI, and waits until the
 * owner has taken it before sending again: a lost IRR bit would stall.
 */
static void *stress_sender(void *arg)
{
	struct stress *s = arg;
	u8 vector = 0x40 + 0x10 * s->id;

	for (unsigned int i = 0; i < STRESS_ROUNDS; i++) {
		struct timespec start, now;

		/* Physical CPU 0, or a broadcast that CPU 0 takes too. */
		soft_irqchip_send_msi(s->f->chip, 0xfee00000 | (s->id ? 0xffU << 12 : 0),
				      vector);
		clock_gettime(CLOCK_MONOTONIC, &start);
		while (__atomic_load_n(&s->acked[s->id], __ATOMIC_ACQUIRE) <= i) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec > 10) {
				s->failed = true;
				return NULL;
			}
			sched_yield();
		}
	}
	return NULL;
}

static void interrupts_from_many_threads(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	unsigned int acked[STRESS_SENDERS] = { 0 };
	struct stress s[STRESS_SENDERS];
	pthread_t t[STRESS_SENDERS];
	unsigned int total = 0;
	struct timespec start, now;

	apic_enable(l);		/* the others stay disabled and drop broadcasts */
	for (unsigned int i = 0; i < STRESS_SENDERS; i++) {
		s[i] = (struct stress){ .f = f, .id = i, .acked = acked };
		assert_int_equal(pthread_create(&t[i], NULL, stress_sender, &s[i]), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (total < STRESS_SENDERS * STRESS_ROUNDS) {
		int v = lapic_ack_interrupt(l);

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 20)
			break;
		if (v < 0) {
			sched_yield();
			continue;
		}
		apic_write(l, APIC_EOI, 0);
		assert_int_equal((v - 0x40) % 0x10, 0);
		__atomic_add_fetch(&acked[(v - 0x40) / 0x10], 1, __ATOMIC_RELEASE);
		total++;
	}
	for (unsigned int i = 0; i < STRESS_SENDERS; i++) {
		pthread_join(t[i], NULL);
		assert_false(s[i].failed);
		assert_int_equal(acked[i], STRESS_ROUNDS);
	}
	assert_int_equal(apic_read(l, APIC_ISR + 0x20), 0);
	assert_true(f->kicks[0] >= STRESS_SENDERS * STRESS_ROUNDS);
}

/* ---- MSRs ---- */

static void apic_base_msr(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];
	u64 v;

	/* Moving the page. */
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, 0xfed00000 | APIC_BASE_ENABLE),
			 LAPIC_MSR_OK);
	assert_int_equal(lapic_mmio_base(l), 0xfed00000);
	/* Reserved bits fault; so does x2APIC without enable. */
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, 1ULL << 63), LAPIC_MSR_GP);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, LAYOUT_LAPIC_BASE | APIC_BASE_X2APIC),
			 LAPIC_MSR_GP);
	assert_int_equal(lapic_mmio_base(l), 0xfed00000);
	/* The BSP flag is read-only. */
	lapic_wrmsr(l, MSR_IA32_APIC_BASE, LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP);
	lapic_rdmsr(l, MSR_IA32_APIC_BASE, &v);
	assert_int_equal(v, LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE);

	/* Hardware-disabled: no page, no IPIs. */
	apic_enable(l);
	lapic_wrmsr(l, MSR_IA32_APIC_BASE, LAYOUT_LAPIC_BASE);
	assert_int_equal(lapic_mmio_base(l), SOFT_LAPIC_OFF);
	apic_enable(f->l[0]);
	send_ipi(f->l[0], 1, ICR(0, APIC_DM_NMI));
	assert_false(lapic_has_events(l));
	/* Re-enabled, it starts from reset, its ID too. */
	apic_write(l, APIC_ID, 7U << 24);
	lapic_wrmsr(l, MSR_IA32_APIC_BASE, LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE);
	assert_int_equal(apic_read(l, APIC_SVR), 0xff);
	assert_int_equal(apic_read(l, APIC_ID), 1U << 24);
	/* An INIT keeps the ID. */
	apic_write(l, APIC_ID, 7U << 24);
	lapic_init_reset(l);
	assert_int_equal(apic_read(l, APIC_ID), 7U << 24);
	/* The base is below MAXPHYADDR (40 bits, as CPUID says). */
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE,
				     LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE | (1ULL << 40)),
			 LAPIC_MSR_GP);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE,
				     (1ULL << 39) | LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE),
			 LAPIC_MSR_OK);
	assert_int_equal(lapic_mmio_base(l), (1ULL << 39) | LAYOUT_LAPIC_BASE);

	assert_int_equal(lapic_rdmsr(l, 0xc0000080, &v), LAPIC_MSR_NOT_MINE);
	assert_int_equal(lapic_wrmsr(l, 0x900, 0), LAPIC_MSR_NOT_MINE);
	/* The x2APIC MSRs are the chip's: #GP outside x2APIC mode. */
	assert_int_equal(lapic_wrmsr(l, 0x802, 0), LAPIC_MSR_GP);
}

static u64 x2rd(struct lapic *l, u32 reg)
{
	u64 v = 0xdead;

	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + (reg >> 4), &v), LAPIC_MSR_OK);
	return v;
}

static enum lapic_msr_result x2wr(struct lapic *l, u32 reg, u64 v)
{
	return lapic_wrmsr(l, X2APIC_MSR_BASE + (reg >> 4), v);
}

#define X2 (LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_X2APIC)
#define XAPIC (LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE)

/* IA32_APIC_BASE's mode transitions (SDM 10.12.5) and the registers as MSRs. */
static void x2apic_mode(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[2];
	u64 v;

	/* In xAPIC mode the MSRs do not exist. */
	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + 3, &v), LAPIC_MSR_GP);
	apic_write(l, APIC_ID, 9U << 24);
	apic_write(l, APIC_LDR, 0x40U << 24);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, X2), LAPIC_MSR_OK);
	/* The page is gone; the ID is the x2APIC ID, the LDR follows it. */
	assert_int_equal(lapic_mmio_base(l), SOFT_LAPIC_OFF);
	assert_int_equal(x2rd(l, APIC_ID), 2);
	assert_int_equal(x2rd(l, APIC_LDR), 1U << 2);
	assert_int_equal(x2rd(l, APIC_LVR), APIC_VERSION);
	/* x2APIC -> xAPIC directly faults; via disabled it is allowed, not disabled -> x2APIC. */
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, XAPIC), LAPIC_MSR_GP);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, LAYOUT_LAPIC_BASE), LAPIC_MSR_OK);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, X2), LAPIC_MSR_GP);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, XAPIC), LAPIC_MSR_OK);
	assert_int_equal(apic_read(l, APIC_ID), 2U << 24);
	assert_int_equal(apic_read(l, APIC_LDR), 0);
	assert_int_equal(lapic_wrmsr(l, MSR_IA32_APIC_BASE, X2), LAPIC_MSR_OK);

	/* Registers that do not exist, read-only and write-only ones, bits 63:32. */
	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + (APIC_DFR >> 4), &v), LAPIC_MSR_GP);
	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + (APIC_ICR2 >> 4), &v), LAPIC_MSR_GP);
	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + (APIC_EOI >> 4), &v), LAPIC_MSR_GP);
	assert_int_equal(lapic_rdmsr(l, X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4), &v), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_ID, 5), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_LDR, 5), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_IRR, 0), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_TPR, 1ULL << 32), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_EOI, 1), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_SVR, APIC_SVR_ENABLE | 0xff), LAPIC_MSR_OK);
	assert_int_equal(x2rd(l, APIC_SVR), APIC_SVR_ENABLE | 0xff);
	assert_int_equal(x2wr(l, APIC_TPR, 0x20), LAPIC_MSR_OK);
	assert_int_equal(x2rd(l, APIC_TPR), 0x20);
	assert_int_equal(x2wr(l, APIC_TPR, 0), LAPIC_MSR_OK);

	/* SELF_IPI: a fixed interrupt to itself; EOI through the MSR. */
	assert_int_equal(x2wr(l, APIC_SELF_IPI, 0x1ff), LAPIC_MSR_GP);
	assert_int_equal(x2wr(l, APIC_SELF_IPI, 0x55), LAPIC_MSR_OK);
	assert_int_equal(lapic_ack_interrupt(l), 0x55);
	assert_int_equal(x2wr(l, APIC_EOI, 0), LAPIC_MSR_OK);
	assert_false(apic_bit(l, APIC_ISR, 0x55));

	/* An INIT keeps x2APIC mode, its ID and its LDR. */
	lapic_init_reset(l);
	assert_int_equal(x2rd(l, APIC_LDR), 1U << 2);
	assert_int_equal(x2rd(l, APIC_ID), 2);
}

/* Acknowledges the highest interrupt and ends it; -1 when there is none. */
static int ack_eoi(struct lapic *l)
{
	int v = lapic_ack_interrupt(l);

	if (v >= 0)
		apic_write(l, APIC_EOI, 0);
	return v;
}

/* x2APIC destinations: 32-bit physical IDs, clusters, and broadcasts. */
static void x2apic_ipis(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(lapic_wrmsr(f->l[i], MSR_IA32_APIC_BASE,
					     X2 | (i ? 0 : APIC_BASE_BSP)), LAPIC_MSR_OK);
	/* Physical: the 64-bit ICR names ID 3 in bits 63:32; reads back whole. */
	assert_int_equal(x2wr(f->l[0], APIC_ICR, (3ULL << 32) | 0x61), LAPIC_MSR_OK);
	assert_int_equal(x2rd(f->l[0], APIC_ICR), (3ULL << 32) | 0x61);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(ack_eoi(f->l[i]), i == 3 ? 0x61 : -1);
	/* 0x103 is nobody: no truncation to the low byte. */
	x2wr(f->l[0], APIC_ICR, (0x103ULL << 32) | 0x61);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_false(lapic_has_interrupt(f->l[i]));
	/* Logical: cluster 0, members 0, 2 and 3 (the ioapic test's 0xd). */
	x2wr(f->l[0], APIC_ICR, (0xdULL << 32) | APIC_DEST_LOGICAL | 0x62);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(ack_eoi(f->l[i]), i == 1 ? -1 : 0x62);
	/* Cluster 1 has nobody here. */
	x2wr(f->l[0], APIC_ICR, (0x1000fULL << 32) | APIC_DEST_LOGICAL | 0x62);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_false(lapic_has_interrupt(f->l[i]));
	/* 0xffffffff is everyone. */
	x2wr(f->l[0], APIC_ICR, (0xffffffffULL << 32) | 0x63);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(ack_eoi(f->l[i]), 0x63);

	/* An IOAPIC's 8-bit logical destination to x2APIC CPUs: the same clusters. */
	ioapic_route(f, 5, 0x64 | APIC_DEST_LOGICAL, 0x0d);
	soft_irqchip_set_irq(f->chip, 5, true);
	for (unsigned int i = 0; i < FIX_CPUS; i++)
		assert_int_equal(ack_eoi(f->l[i]), i == 1 ? -1 : 0x64);
}

static void tsc_msr_is_per_vcpu(void **state)
{
	struct fixture *f = *state;
	u64 v;

	f->now += 500;
	/* 2 GHz from guest time zero (the clock's value at set-up). */
	assert_int_equal(lapic_rdtsc(f->l[0]), 1000);
	assert_int_equal(lapic_wrmsr(f->l[0], MSR_IA32_TSC, 1000000), LAPIC_MSR_OK);
	f->now += 10;
	assert_int_equal(lapic_rdmsr(f->l[0], MSR_IA32_TSC, &v), LAPIC_MSR_OK);
	assert_int_equal(v, 1000020);
	assert_int_equal(lapic_rdtsc(f->l[1]), 1020);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reset_values),
		T(narrow_reads_and_bad_writes),
		T(disabled_lapic_drops_fixed_keeps_nmi),
		T(tpr_and_ppr_mask_by_class),
		T(isr_nests_and_eoi_takes_highest),
		T(svr_disable_masks_lvts),
		T(illegal_vectors_set_esr),
		T(timer_one_shot),
		T(timer_periodic_and_missed_periods),
		T(timer_mode_change_keeps_count),
		T(timer_periodic_has_a_floor),
		T(timer_divide_change_keeps_count),
		T(timer_tsc_deadline),
		T(ipi_fixed_physical_and_shorthands),
		T(ipi_logical_flat),
		T(ipi_logical_cluster),
		T(ipi_lowest_priority_picks_one),
		T(ipi_init_sipi_nmi),
		T(two_nmis_wait),
		T(pv_send_ipi),
		T(interrupts_from_many_threads),
		T(apic_base_msr),
		T(x2apic_mode),
		T(x2apic_ipis),
		T(tsc_msr_is_per_vcpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

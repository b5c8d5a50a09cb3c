// SPDX-License-Identifier: Apache-2.0
/* The soft engine's 8254 PIT and port 0x61, against a hand-stepped clock. */
#include "irqchip_fixture.h"

#include "engine/soft/irqchip/clock.h"

#define CH0 0x40
#define CH2 0x42
#define CTRL 0x43

/* The first host ns at which t PIT clocks have passed since load. */
static u64 ns_for_ticks(u64 t)
{
	return (t * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static void load16(struct fixture *f, u16 port, u16 count)
{
	outb(f, port, count & 0xff);
	outb(f, port, count >> 8);
}

/* Latches channel ch's count with the counter-latch command and reads it. */
static u16 latch16(struct fixture *f, unsigned int ch)
{
	u16 v;

	outb(f, CTRL, ch << 6);
	v = inb(f, CH0 + ch);
	return v | (u16)inb(f, CH0 + ch) << 8;
}

/* Read-back of channel ch's status byte. */
static u8 status(struct fixture *f, unsigned int ch)
{
	outb(f, CTRL, 0xc0 | 0x20 | (2U << ch));
	return inb(f, CH0 + ch);
}

/* Routes ISA IRQ0 (IOAPIC pin 2) to CPU 0's vector 0x30, edge. */
static void route_irq0(struct fixture *f)
{
	apic_enable(f->l[0]);
	ioapic_route(f, GSI_PIT, 0x30, 0);
}

/* Steps to t0 + ns and runs the vCPU's timer update; true if IRQ0 came. */
static bool tick_to(struct fixture *f, u64 t0, u64 ns)
{
	f->now = t0 + ns;
	lapic_update(f->l[0], f->now);
	if (lapic_ack_interrupt(f->l[0]) != 0x30)
		return false;
	apic_write(f->l[0], APIC_EOI, 0);
	return true;
}

static void mode0_interrupt_on_terminal_count(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	route_irq0(f);
	outb(f, CTRL, 0x30);		/* channel 0, lo/hi, mode 0 */
	assert_int_equal(status(f, 0), 0x30);	/* OUT low, lo/hi, mode 0 */
	load16(f, CH0, 1000);
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), t0 + ns_for_ticks(1000));

	f->now = t0 + ns_for_ticks(400);
	assert_int_equal(latch16(f, 0), 600);
	assert_false(tick_to(f, t0, ns_for_ticks(999)));
	assert_int_equal(status(f, 0) & 0x80, 0);
	assert_true(tick_to(f, t0, ns_for_ticks(1000)));
	assert_int_equal(status(f, 0) & 0x80, 0x80);
	/* One interrupt only; the count wraps on past 0. */
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), SOFT_TIME_NEVER);
	assert_false(tick_to(f, t0, ns_for_ticks(5000)));
	f->now = t0 + ns_for_ticks(1100);
	assert_int_equal(latch16(f, 0), (u16)(1000 - 1100));
}

static void mode2_rate_generator(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	route_irq0(f);
	outb(f, CTRL, 0x34);		/* channel 0, lo/hi, mode 2 */
	load16(f, CH0, 100);
	f->now = t0 + ns_for_ticks(30);
	assert_int_equal(latch16(f, 0), 70);
	assert_int_equal(status(f, 0) & 0x80, 0x80);
	f->now = t0 + ns_for_ticks(99);
	assert_int_equal(latch16(f, 0), 1);
	assert_int_equal(status(f, 0) & 0x80, 0);	/* low for the last clock */
	f->now = t0 + ns_for_ticks(100);
	assert_int_equal(latch16(f, 0), 100);	/* reloaded */

	assert_true(tick_to(f, t0, ns_for_ticks(100)));
	assert_false(tick_to(f, t0, ns_for_ticks(150)));
	assert_true(tick_to(f, t0, ns_for_ticks(200)));
	/* Three periods missed: one interrupt, then back in phase. */
	assert_true(tick_to(f, t0, ns_for_ticks(550)));
	assert_false(tick_to(f, t0, ns_for_ticks(550)));
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), t0 + ns_for_ticks(600));
	assert_true(tick_to(f, t0, ns_for_ticks(600)));
}

static void mode3_square_wave(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	route_irq0(f);
	outb(f, CTRL, 0x36);		/* channel 0, lo/hi, mode 3 */
	load16(f, CH0, 100);
	f->now = t0 + ns_for_ticks(10);
	assert_int_equal(latch16(f, 0), 80);	/* counts by two */
	assert_int_equal(status(f, 0), 0x80 | 0x36);
	f->now = t0 + ns_for_ticks(60);
	assert_int_equal(latch16(f, 0), 80);	/* second half, same count */
	assert_int_equal(status(f, 0) & 0x80, 0);
	assert_true(tick_to(f, t0, ns_for_ticks(100)));
	assert_int_equal(status(f, 0) & 0x80, 0x80);
	assert_true(tick_to(f, t0, ns_for_ticks(200)));
}

static void mode4_strobe(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	route_irq0(f);
	outb(f, CTRL, 0x38);		/* channel 0, lo/hi, mode 4 */
	load16(f, CH0, 100);
	assert_int_equal(status(f, 0) & 0x80, 0x80);
	f->now = t0 + ns_for_ticks(100);
	assert_int_equal(status(f, 0) & 0x80, 0);
	assert_false(tick_to(f, t0, ns_for_ticks(100)));
	assert_true(tick_to(f, t0, ns_for_ticks(101)));
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), SOFT_TIME_NEVER);
}

static void latch_and_read_back(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;
	u8 lo;

	outb(f, CTRL, 0x34);
	load16(f, CH0, 1000);
	f->now = t0 + ns_for_ticks(10);
	outb(f, CTRL, 0x00);		/* latch */
	f->now = t0 + ns_for_ticks(60);
	outb(f, CTRL, 0x00);		/* a second latch keeps the first */
	lo = inb(f, CH0);
	assert_int_equal(lo | inb(f, CH0) << 8, 990);
	/* Unlatched reads follow the count. */
	lo = inb(f, CH0);
	assert_int_equal(lo | inb(f, CH0) << 8, 940);

	/* Read-back of status and count: status comes first. */
	outb(f, CTRL, 0xc2);
	assert_int_equal(inb(f, CH0), 0x80 | 0x34);
	lo = inb(f, CH0);
	assert_int_equal(lo | inb(f, CH0) << 8, 940);

	/* Lobyte-only and hibyte-only access. */
	outb(f, CTRL, 0x14);		/* lo only, mode 2 */
	outb(f, CH0, 0x80);
	f->now += ns_for_ticks(0x10);
	assert_int_equal(inb(f, CH0), 0x70);
	assert_int_equal(inb(f, CH0), 0x70);
	outb(f, CTRL, 0x24);		/* hi only, mode 2 */
	outb(f, CH0, 0x02);		/* count 0x200 */
	f->now += ns_for_ticks(0x100);
	assert_int_equal(inb(f, CH0), 0x01);

	/* The control port reads nothing useful; channel 1 counts too. */
	assert_int_equal(inb(f, CTRL), 0xff);
	outb(f, CTRL, 0x74);		/* channel 1, lo/hi, mode 2 */
	load16(f, 0x41, 18);
	f->now += ns_for_ticks(5);
	assert_int_equal(latch16(f, 1), 13);
}

static void channel2_gate_and_out2(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	/* Linux's pit_calibrate_tsc(): gate on, speaker off, mode 0. */
	outb(f, 0x61, (inb(f, 0x61) & ~0x02) | 0x01);
	outb(f, CTRL, 0xb0);
	load16(f, CH2, 1193);
	assert_int_equal(inb(f, 0x61) & 0x23, 0x01);
	f->now = t0 + ns_for_ticks(1192);
	assert_int_equal(inb(f, 0x61) & 0x20, 0);
	f->now = t0 + ns_for_ticks(1193);
	assert_int_equal(inb(f, 0x61) & 0x20, 0x20);

	/* Mode 0 holds its count while the gate is low. */
	t0 = f->now;
	load16(f, CH2, 1000);
	f->now = t0 + ns_for_ticks(400);
	outb(f, 0x61, 0x00);
	f->now = t0 + ns_for_ticks(5000);
	assert_int_equal(latch16(f, 2), 600);
	assert_int_equal(inb(f, 0x61) & 0x20, 0);
	t0 = f->now;
	outb(f, 0x61, 0x01);
	f->now = t0 + ns_for_ticks(599);
	assert_int_equal(inb(f, 0x61) & 0x20, 0);
	f->now = t0 + ns_for_ticks(601);
	assert_int_equal(inb(f, 0x61) & 0x20, 0x20);

	/* Mode 2 restarts from the full count when the gate rises. */
	outb(f, CTRL, 0xb4);
	load16(f, CH2, 500);
	f->now += ns_for_ticks(100);
	assert_int_equal(latch16(f, 2), 400);
	outb(f, 0x61, 0x00);
	assert_int_equal(inb(f, 0x61) & 0x20, 0x20);	/* OUT high, gate low */
	outb(f, 0x61, 0x01);
	assert_int_equal(latch16(f, 2), 500);

	/* Speaker data and the refresh toggle. */
	outb(f, 0x61, 0x03);
	assert_int_equal(inb(f, 0x61) & 0x03, 0x03);
	u8 a = inb(f, 0x61) & 0x10;
	f->now += 15085;
	assert_int_equal(inb(f, 0x61) & 0x10, a ^ 0x10);
}

static void linux_shutdown_fires_once(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	route_irq0(f);
	outb(f, CTRL, 0x34);
	load16(f, CH0, 11932);
	assert_true(tick_to(f, t0, ns_for_ticks(11932)));
	/* pit_shutdown(): mode 0 with count 0, i.e. 65536 clocks. */
	t0 = f->now;
	outb(f, CTRL, 0x30);
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), SOFT_TIME_NEVER);
	outb(f, CH0, 0);
	outb(f, CH0, 0);
	assert_false(tick_to(f, t0, ns_for_ticks(65535)));
	assert_true(tick_to(f, t0, ns_for_ticks(65536)));
	assert_int_equal(lapic_next_deadline_ns(f->l[0]), SOFT_TIME_NEVER);
}

static void irq0_through_the_pic(void **state)
{
	struct fixture *f = *state;
	u64 t0 = f->now;

	outb(f, 0x20, 0x11);
	outb(f, 0x21, 0x30);
	outb(f, 0x21, 0x04);
	outb(f, 0x21, 0x01);
	outb(f, 0x21, 0xfe);
	outb(f, CTRL, 0x34);
	load16(f, CH0, 1000);
	f->now = t0 + ns_for_ticks(1000);
	lapic_update(f->l[1], f->now);	/* any vCPU may run the PIT */
	assert_true(lapic_has_interrupt(f->l[0]));
	assert_int_equal(lapic_ack_interrupt(f->l[0]), 0x30);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(mode0_interrupt_on_terminal_count),
		T(mode2_rate_generator),
		T(mode3_square_wave),
		T(mode4_strobe),
		T(latch_and_read_back),
		T(channel2_gate_and_out2),
		T(linux_shutdown_fires_once),
		T(irq0_through_the_pic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

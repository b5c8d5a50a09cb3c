// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/rtc_cmos.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define RTC_DATA (PORT_RTC + 1)

static u8 cmos_read(struct vm *vm, u8 reg)
{
	outb(vm, PORT_RTC, reg);
	return inb(vm, RTC_DATA);
}

static void cmos_write(struct vm *vm, u8 reg, u8 v)
{
	outb(vm, PORT_RTC, reg);
	outb(vm, RTC_DATA, v);
}

static u8 bcd(unsigned int v)
{
	return (v / 10) << 4 | v % 10;
}

struct clock_regs {
	u8 sec, min, hour, wday, mday, month, year, century;
};

static void read_clock(struct vm *vm, struct clock_regs *c)
{
	c->sec = cmos_read(vm, 0x00);
	c->min = cmos_read(vm, 0x02);
	c->hour = cmos_read(vm, 0x04);
	c->wday = cmos_read(vm, 0x06);
	c->mday = cmos_read(vm, 0x07);
	c->month = cmos_read(vm, 0x08);
	c->year = cmos_read(vm, 0x09);
	c->century = cmos_read(vm, 0x32);
}

/*
 * Reads the RTC between two host clock reads in the same second, so the
 * expected value is unambiguous; retries across a second boundary.
 */
static void read_clock_at(struct vm *vm, struct clock_regs *c, struct tm *tm)
{
	for (int tries = 0; tries < 5; tries++) {
		time_t before = time(NULL), after;

		read_clock(vm, c);
		after = time(NULL);
		if (before == after) {
			gmtime_r(&before, tm);
			return;
		}
	}
	fail_msg("the host clock kept crossing seconds");
}

static struct vm *new_vm(u64 ram)
{
	struct vm *vm = fake_vm_create(ram);

	assert_non_null(vm);
	assert_int_equal(rtc_cmos_create(vm), 0);
	return vm;
}

static void bcd_and_binary_time(void **state)
{
	struct vm *vm = new_vm(0);
	struct clock_regs c;
	struct tm tm;

	(void)state;
	assert_int_equal(cmos_read(vm, 0x0b), 0x02);	/* BCD, 24 h */
	assert_int_equal(cmos_read(vm, 0x0d), 0x80);	/* valid RAM and time */
	read_clock_at(vm, &c, &tm);
	assert_int_equal(c.sec, bcd(tm.tm_sec));
	assert_int_equal(c.min, bcd(tm.tm_min));
	assert_int_equal(c.hour, bcd(tm.tm_hour));
	assert_int_equal(c.wday, tm.tm_wday + 1);
	assert_int_equal(c.mday, bcd(tm.tm_mday));
	assert_int_equal(c.month, bcd(tm.tm_mon + 1));
	assert_int_equal(c.year, bcd(tm.tm_year % 100));
	assert_int_equal(c.century, bcd((tm.tm_year + 1900) / 100));

	cmos_write(vm, 0x0b, 0x06);			/* binary, 24 h */
	read_clock_at(vm, &c, &tm);
	assert_int_equal(c.sec, tm.tm_sec);
	assert_int_equal(c.min, tm.tm_min);
	assert_int_equal(c.hour, tm.tm_hour);
	assert_int_equal(c.mday, tm.tm_mday);
	assert_int_equal(c.year, tm.tm_year % 100);
	assert_int_equal(c.century, (tm.tm_year + 1900) / 100);
	vm_destroy(vm);
}

/* Sets the clock through SET, as Linux's mc146818_set_time() does. */
static void set_clock(struct vm *vm, u8 b, u8 hour, u8 min, u8 sec)
{
	cmos_write(vm, 0x0b, b | 0x80);
	cmos_write(vm, 0x00, sec);
	cmos_write(vm, 0x02, min);
	cmos_write(vm, 0x04, hour);
	cmos_write(vm, 0x07, 0x15);
	cmos_write(vm, 0x08, 0x06);
	cmos_write(vm, 0x09, 0x24);
	cmos_write(vm, 0x32, 0x20);
	cmos_write(vm, 0x0b, b);
}

/*
 * A century the clock cannot keep (guest time is s64 nanoseconds) is
 * ignored, whether set through SET or written to a running clock: the
 * clock keeps the host's time. Year 2300 overflowed the arithmetic.
 */
static void time_outside_the_clock_range_is_ignored(void **state)
{
	struct vm *vm = new_vm(0);
	struct clock_regs c;
	struct tm tm;

	(void)state;
	cmos_write(vm, 0x0b, 0x02 | 0x80);
	cmos_write(vm, 0x32, 0x23);			/* 2324 */
	cmos_write(vm, 0x0b, 0x02);
	read_clock_at(vm, &c, &tm);
	assert_int_equal(c.year, bcd(tm.tm_year % 100));
	assert_int_equal(c.century, bcd((tm.tm_year + 1900) / 100));

	cmos_write(vm, 0x0b, 0x06);			/* binary */
	cmos_write(vm, 0x32, 0xff);			/* year 25599, running */
	cmos_write(vm, 0x32, 0x00);			/* year 0-99 */
	read_clock_at(vm, &c, &tm);
	assert_int_equal(c.century, (tm.tm_year + 1900) / 100);
	assert_int_equal(c.mday, tm.tm_mday);

	set_clock(vm, 0x06, 12, 0, 0);			/* 2199 stays settable... */
	cmos_write(vm, 0x0b, 0x86);
	cmos_write(vm, 0x32, 21);
	cmos_write(vm, 0x09, 99);
	cmos_write(vm, 0x0b, 0x06);
	assert_int_equal(cmos_read(vm, 0x32), 21);
	assert_int_equal(cmos_read(vm, 0x09), 99);
	vm_destroy(vm);
}

/*
 * Before 1970 the divider chain's ticks are negative: the periodic flag and
 * the timer's next period still come (they were computed with shifts of
 * negative numbers, which UBSan reports).
 */
static void periodic_flag_before_1970(void **state)
{
	struct vm *vm = new_vm(0);

	(void)state;
	cmos_write(vm, 0x0b, 0x86);			/* SET, binary, 24 h */
	cmos_write(vm, 0x32, 19);
	cmos_write(vm, 0x09, 50);			/* 1950 */
	cmos_write(vm, 0x0b, 0x06);
	assert_int_equal(cmos_read(vm, 0x32), 19);
	cmos_write(vm, 0x0a, 0x26);			/* 1024 Hz */
	cmos_write(vm, 0x0b, 0x46);			/* PIE: the timer is armed */
	cmos_read(vm, 0x0c);
	usleep(5000);
	assert_true(cmos_read(vm, 0x0c) & 0x40);
	vm_destroy(vm);
}

static void set_time_and_12_hour_mode(void **state)
{
	struct vm *vm = new_vm(0);
	u8 sec;

	(void)state;
	set_clock(vm, 0x02, 0x15, 0x30, 0x00);		/* 15:30:00, 2024-06-15 */
	assert_int_equal(cmos_read(vm, 0x04), 0x15);
	assert_int_equal(cmos_read(vm, 0x02), 0x30);
	sec = cmos_read(vm, 0x00);
	assert_true(sec <= 0x01);
	assert_int_equal(cmos_read(vm, 0x09), 0x24);
	assert_int_equal(cmos_read(vm, 0x06), 7);	/* a Saturday */

	cmos_write(vm, 0x0b, 0x00);			/* BCD, 12 h */
	assert_int_equal(cmos_read(vm, 0x04), 0x80 | 0x03);	/* 3 PM */
	cmos_write(vm, 0x0b, 0x04);			/* binary, 12 h */
	assert_int_equal(cmos_read(vm, 0x04), 0x80 | 3);

	/* Midnight and noon in 12 h mode: 12 AM and 12 PM. */
	set_clock(vm, 0x00, 0x12, 0x00, 0x00);		/* 12 AM, BCD */
	assert_int_equal(cmos_read(vm, 0x04), 0x12);
	cmos_write(vm, 0x0b, 0x02);
	assert_int_equal(cmos_read(vm, 0x04), 0x00);
	set_clock(vm, 0x00, 0x80 | 0x12, 0x00, 0x00);	/* 12 PM */
	cmos_write(vm, 0x0b, 0x02);
	assert_int_equal(cmos_read(vm, 0x04), 0x12);

	/* While SET is on, the clock holds still. */
	cmos_write(vm, 0x0b, 0x82);
	sec = cmos_read(vm, 0x00);
	usleep(1100 * 1000);
	assert_int_equal(cmos_read(vm, 0x00), sec);
	vm_destroy(vm);
}

static s64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void uip_comes_and_goes(void **state)
{
	struct vm *vm = new_vm(0);
	bool set = false, clear = false;

	(void)state;
	/*
	 * UIP shows for 244 us before each second (the clock runs on host
	 * time here): sleep to just before a boundary, then poll across it.
	 * A few tries, so that a busy host cannot make the test flaky.
	 */
	for (int tries = 0; tries < 10 && !(set && clear); tries++) {
		s64 to_boundary = 1000000000LL - realtime_ns() % 1000000000LL;
		s64 end;

		if (to_boundary > 2000000)
			usleep((to_boundary - 2000000) / 1000);
		end = realtime_ns() + 4000000;
		while (realtime_ns() < end) {
			u8 a = cmos_read(vm, 0x0a);

			assert_int_equal(a & 0x7f, 0x26);
			if (a & 0x80)
				set = true;
			else
				clear = true;
		}
	}
	assert_true(set);
	assert_true(clear);
	vm_destroy(vm);
}

/* Sleeps to ms milliseconds past the next second of host (= RTC) time. */
static void sleep_past_boundary(unsigned int ms)
{
	s64 to_boundary = 1000000000LL - realtime_ns() % 1000000000LL;

	usleep((to_boundary + ms * 1000000LL) / 1000);
}

static void update_alarm_and_periodic_flags(void **state)
{
	struct vm *vm = new_vm(0);
	u8 c;

	(void)state;
	/* An alarm of "any hour, any minute, any second" fires every second. */
	cmos_write(vm, 0x01, 0xc0);
	cmos_write(vm, 0x03, 0xc0);
	cmos_write(vm, 0x05, 0xc0);
	cmos_read(vm, 0x0c);				/* start clean */
	sleep_past_boundary(20);
	c = cmos_read(vm, 0x0c);
	assert_int_equal(c & 0x30, 0x30);		/* UF and AF */
	assert_int_equal(c & 0x80, 0);			/* nothing enabled: no IRQF */
	assert_int_equal(cmos_read(vm, 0x0c) & 0xb0, 0);	/* cleared by the read */
	assert_int_equal(fake_irqs.raises[GSI_RTC], 0);

	/* An alarm set to an hour that never comes never fires. */
	cmos_write(vm, 0x05, 0x25);
	cmos_read(vm, 0x0c);
	sleep_past_boundary(20);
	c = cmos_read(vm, 0x0c);
	assert_int_equal(c & 0x30, 0x10);		/* UF only */

	/* The periodic flag at 1024 Hz. */
	cmos_write(vm, 0x0a, 0x26);
	usleep(5000);
	assert_true(cmos_read(vm, 0x0c) & 0x40);
	cmos_write(vm, 0x0a, 0x20);			/* rate 0: periodic off */
	cmos_read(vm, 0x0c);
	usleep(5000);
	assert_int_equal(cmos_read(vm, 0x0c) & 0x40, 0);
	vm_destroy(vm);
}

/*
 * The guest's side of the IRQ 8 test, run on the I/O thread every 1.2 s
 * (the loop can only be run once per VM: a stop is final).
 */
struct irq8_guest {
	struct vm *vm;
	int fd;
	int step;
	bool ok[3];
};

static void irq8_step(void *opaque, u32 events)
{
	struct irq8_guest *g = opaque;
	struct vm *vm = g->vm;
	u64 n;

	(void)events;
	if (read(g->fd, &n, sizeof(n)) < 0)
		return;
	switch (g->step++) {
	case 0:
		/* Nobody touched the RTC: its own timer raised the line. */
		g->ok[0] = fake_irqs.raises[GSI_RTC] == 1 && fake_irq_level(GSI_RTC) &&
			   (cmos_read(vm, 0x0c) & 0x90) == 0x90 &&	/* IRQF, UF */
			   !fake_irq_level(GSI_RTC);
		break;
	case 1:
		/* Acknowledged, so the next second raised it again. */
		g->ok[1] = fake_irqs.raises[GSI_RTC] == 2 && fake_irq_level(GSI_RTC);
		cmos_write(vm, 0x0b, 0x02);		/* UIE off */
		cmos_read(vm, 0x0c);
		break;
	default:
		g->ok[2] = fake_irqs.raises[GSI_RTC] == 2 && !fake_irq_level(GSI_RTC);
		event_loop_stop(vm->loop);
		break;
	}
}

static void update_interrupt_on_irq8(void **state)
{
	struct vm *vm = new_vm(0);
	struct irq8_guest g = { .vm = vm };
	struct itimerspec its = {
		.it_value = { .tv_sec = 1, .tv_nsec = 200000000L },
		.it_interval = { .tv_sec = 1, .tv_nsec = 200000000L },
	};

	(void)state;
	cmos_read(vm, 0x0c);
	cmos_write(vm, 0x0b, 0x12);			/* UIE, 24 h */
	g.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_true(g.fd >= 0);
	assert_int_equal(timerfd_settime(g.fd, 0, &its, NULL), 0);
	assert_int_equal(event_loop_add(vm->loop, g.fd, EPOLLIN, irq8_step, &g), 0);
	event_loop_run(vm->loop);
	event_loop_remove(vm->loop, g.fd);
	close(g.fd);
	assert_true(g.ok[0]);
	assert_true(g.ok[1]);
	assert_true(g.ok[2]);
	vm_destroy(vm);
}

static void nvram_memory_sizes_above_4g(void **state)
{
	/* 6 GiB: 3 GiB below the PCI hole, 3 GiB from 4 GiB. */
	struct vm *vm = new_vm(6 * GiB);

	(void)state;
	assert_int_equal(cmos_read(vm, 0x15) | cmos_read(vm, 0x16) << 8, 640);
	assert_int_equal(cmos_read(vm, 0x17) | cmos_read(vm, 0x18) << 8, 0xffff);
	assert_int_equal(cmos_read(vm, 0x30) | cmos_read(vm, 0x31) << 8, 0xffff);
	assert_int_equal(cmos_read(vm, 0x34) | cmos_read(vm, 0x35) << 8,
			 (3 * GiB - 16 * MiB) / (64 * KiB));
	assert_int_equal(cmos_read(vm, 0x5b) | cmos_read(vm, 0x5c) << 8 |
			 cmos_read(vm, 0x5d) << 16, 3 * GiB / (64 * KiB));
	/* The NMI mask bit in the index does not change the register chosen. */
	outb(vm, PORT_RTC, 0x80 | 0x15);
	assert_int_equal(inb(vm, RTC_DATA), 640 & 0xff);
	/* Plain NVRAM keeps what is written; C and D do not. */
	cmos_write(vm, 0x40, 0x5a);
	assert_int_equal(cmos_read(vm, 0x40), 0x5a);
	cmos_write(vm, 0x0d, 0x00);
	assert_int_equal(cmos_read(vm, 0x0d), 0x80);
	vm_destroy(vm);
}

static void nvram_small_guest(void **state)
{
	struct vm *vm = new_vm(64 * MiB);

	(void)state;
	assert_int_equal(cmos_read(vm, 0x17) | cmos_read(vm, 0x18) << 8, 63 * 1024);
	assert_int_equal(cmos_read(vm, 0x34) | cmos_read(vm, 0x35) << 8, 48 * 16);
	assert_int_equal(cmos_read(vm, 0x5b) | cmos_read(vm, 0x5c) | cmos_read(vm, 0x5d), 0);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bcd_and_binary_time),
		cmocka_unit_test(set_time_and_12_hour_mode),
		cmocka_unit_test(time_outside_the_clock_range_is_ignored),
		cmocka_unit_test(periodic_flag_before_1970),
		cmocka_unit_test(uip_comes_and_goes),
		cmocka_unit_test(update_alarm_and_periodic_flags),
		cmocka_unit_test(update_interrupt_on_irq8),
		cmocka_unit_test(nvram_memory_sizes_above_4g),
		cmocka_unit_test(nvram_small_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

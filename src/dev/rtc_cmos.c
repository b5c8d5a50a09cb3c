// SPDX-License-Identifier: Apache-2.0
#include "dev/rtc_cmos.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/event_loop.h"
#include "machine/irq.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

#define NSEC_PER_SEC 1000000000LL

/* Clock registers. */
#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d

#define A_UIP		0x80
#define A_WRITABLE	0x7f
#define A_RATE		0x0f
#define A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */

#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_BINARY	0x04
#define B_24H		0x02
#define B_DEFAULT	B_24H	/* BCD, 24 h: Linux's rtc-cmos wants 24 h */

#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10

#define D_VRT		0x80	/* the battery is fine */

#define HOUR_PM		0x80	/* 12 h mode */
#define ALARM_ANY	0xc0	/* 0xc0-0xff in an alarm register matches all */

/* The RTC raises UIP this long before each update, as the MC146818 does. */
#define UIP_LEAD_NS	244000LL

/* NVRAM bytes a PC BIOS fills in. */
#define NV_BASE_KB_LO	0x15
#define NV_EXT_KB_LO	0x17
#define NV_EXT_KB2_LO	0x30
#define NV_RAM16M_LO	0x34	/* RAM above 16 MiB, 64 KiB units */
#define NV_HIGH_RAM	0x5b	/* RAM above 4 GiB, 64 KiB units, 3 bytes */
#define NV_NR_CPUS	0x5f	/* CPUs - 1 */

struct rtc {
	pthread_mutex_t lock;
	struct vm *vm;
	u8 index;
	u8 nmi_mask;		/* bit 7 of the index port: kept, not acted on */
	u8 cmos[128];		/* the time registers live here only while SET */
	s64 offset_ns;		/* guest time = host CLOCK_REALTIME + offset */
	s64 last_ns;		/* guest time when the C flags were last brought up to date */
	int timer_fd;
	bool irq_level;
};

static s64 host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static s64 guest_now_ns(const struct rtc *r)
{
	return host_now_ns() + r->offset_ns;
}

static s64 floor_div(s64 a, s64 b)
{
	return a / b - (a % b < 0);
}

static bool binary_mode(const struct rtc *r)
{
	return r->cmos[REG_B] & B_BINARY;
}

static u8 to_reg(const struct rtc *r, unsigned int v)
{
	return binary_mode(r) ? v : ((v / 10) << 4) | (v % 10);
}

static unsigned int from_reg(const struct rtc *r, u8 v)
{
	return binary_mode(r) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static u8 hour_to_reg(const struct rtc *r, unsigned int hour)
{
	unsigned int h12;

	if (r->cmos[REG_B] & B_24H)
		return to_reg(r, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return to_reg(r, h12) | (hour >= 12 ? HOUR_PM : 0);
}

static unsigned int hour_from_reg(const struct rtc *r, u8 v)
{
	if (r->cmos[REG_B] & B_24H)
		return from_reg(r, v);
	return from_reg(r, v & ~HOUR_PM) % 12 + ((v & HOUR_PM) ? 12 : 0);
}

/* Writes the time sec (seconds since the epoch, UTC) into the registers. */
static void render_time(struct rtc *r, s64 sec)
{
	time_t t = sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return;
	r->cmos[REG_SEC] = to_reg(r, tm.tm_sec);
	r->cmos[REG_MIN] = to_reg(r, tm.tm_min);
	r->cmos[REG_HOUR] = hour_to_reg(r, tm.tm_hour);
	r->cmos[REG_WDAY] = to_reg(r, tm.tm_wday + 1);
	r->cmos[REG_MDAY] = to_reg(r, tm.tm_mday);
	r->cmos[REG_MONTH] = to_reg(r, tm.tm_mon + 1);
	r->cmos[REG_YEAR] = to_reg(r, (tm.tm_year + 1900) % 100);
	r->cmos[CMOS_REG_CENTURY] = to_reg(r, (tm.tm_year + 1900) / 100);
}

/*
 * The times the clock can be set to. Guest time is kept in nanoseconds
 * since the epoch in an s64, which spans 1677-2262, and the timer's
 * arithmetic wants room on both sides; a binary century register reaches
 * year 25599 and century 0 means years 0-99.
 */
#define RTC_MIN_SEC	(-2208988800LL)	/* 1900-01-01 */
#define RTC_MAX_SEC	7258118400LL	/* 2200-01-01, excluded */

/*
 * The time the registers hold; timegm() makes sense of nonsense. False
 * when there is none, or it is outside the clock's range (the guest's
 * write is then ignored, the clock runs on).
 */
static bool parse_time(const struct rtc *r, s64 *sec)
{
	struct tm tm = {
		.tm_sec = from_reg(r, r->cmos[REG_SEC]),
		.tm_min = from_reg(r, r->cmos[REG_MIN]),
		.tm_hour = hour_from_reg(r, r->cmos[REG_HOUR]),
		.tm_mday = from_reg(r, r->cmos[REG_MDAY]),
		.tm_mon = (int)from_reg(r, r->cmos[REG_MONTH]) - 1,
		.tm_year = from_reg(r, r->cmos[CMOS_REG_CENTURY]) * 100 +
			   from_reg(r, r->cmos[REG_YEAR]) - 1900,
	};
	time_t t = timegm(&tm);

	if (t == (time_t)-1)
		return false;
	if (t < RTC_MIN_SEC || t >= RTC_MAX_SEC) {
		pr_warn_once("rtc: the guest set the year %d, outside 1900-2199; ignored",
			     tm.tm_year + 1900);
		return false;
	}
	*sec = t;
	return true;
}

static bool is_time_reg(unsigned int reg)
{
	return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR ||
	       (reg >= REG_WDAY && reg <= REG_YEAR) || reg == CMOS_REG_CENTURY;
}

/* Alarm field as a number, or -1 for "any". */
static int alarm_field(const struct rtc *r, unsigned int reg)
{
	u8 v = r->cmos[reg];

	if ((v & ALARM_ANY) == ALARM_ANY)
		return -1;
	return reg == REG_HOUR_ALARM ? (int)hour_from_reg(r, v) : (int)from_reg(r, v);
}

/* Range [*lo, *hi] an alarm field allows; false when it can never match. */
static bool alarm_range(int field, int max, int *lo, int *hi)
{
	if (field < 0) {
		*lo = 0;
		*hi = max;
		return true;
	}
	*lo = *hi = field;
	return field <= max;
}

/* The first second after `after` whose time of day matches the alarm. */
static s64 next_alarm(const struct rtc *r, s64 after)
{
	int h0, h1, m0, m1, s0, s1;
	s64 day = floor_div(after + 1, 86400) * 86400;
	s64 from = after + 1 - day;	/* time of day to search from */

	if (!alarm_range(alarm_field(r, REG_HOUR_ALARM), 23, &h0, &h1) ||
	    !alarm_range(alarm_field(r, REG_MIN_ALARM), 59, &m0, &m1) ||
	    !alarm_range(alarm_field(r, REG_SEC_ALARM), 59, &s0, &s1))
		return INT64_MAX;	/* a time that never comes */
	/* Today from `from` on, else tomorrow: candidates in time order. */
	for (int d = 0; d < 2; d++, day += 86400, from = 0) {
		for (int h = h0; h <= h1; h++) {
			if ((h + 1) * 3600 <= from)
				continue;
			for (int m = m0; m <= m1; m++) {
				if (h * 3600 + (m + 1) * 60 <= from)
					continue;
				for (int s = s0; s <= s1; s++)
					if (h * 3600 + m * 60 + s >= from)
						return day + h * 3600 + m * 60 + s;
			}
		}
	}
	return INT64_MAX;
}

/* The periodic interrupt's period as a power of two of 1/32768 s. */
static int periodic_shift(const struct rtc *r)
{
	int rs = r->cmos[REG_A] & A_RATE;

	if (!rs)
		return -1;
	return rs <= 2 ? rs + 6 : rs - 1;
}

/* Guest time in 1/32768 s ticks, the divider chain's own unit. */
static s64 ticks_of(s64 ns)
{
	s64 sec = floor_div(ns, NSEC_PER_SEC);

	return sec * 32768 + (ns - sec * NSEC_PER_SEC) * 32768 / NSEC_PER_SEC;
}

static bool clock_frozen(const struct rtc *r)
{
	return r->cmos[REG_B] & B_SET;
}

/* Sets the C flags for every event between the last update and now. */
static void update_flags(struct rtc *r, s64 now)
{
	s64 prev = r->last_ns;
	s64 prev_s = floor_div(prev, NSEC_PER_SEC), now_s = floor_div(now, NSEC_PER_SEC);
	int shift = periodic_shift(r);
	u8 c = 0;

	r->last_ns = now;
	if (now <= prev)
		return;		/* the host clock stepped back */
	if (shift >= 0 && floor_div(ticks_of(now), 1LL << shift) !=
			  floor_div(ticks_of(prev), 1LL << shift))
		c |= C_PF;
	if (!clock_frozen(r) && now_s != prev_s) {
		c |= C_UF;
		if (next_alarm(r, prev_s) <= now_s)
			c |= C_AF;
	}
	r->cmos[REG_C] |= c;
}

static void update_irq(struct rtc *r)
{
	u8 c = r->cmos[REG_C];
	bool level = c & r->cmos[REG_B] & (C_PF | C_AF | C_UF);

	r->cmos[REG_C] = level ? (c | C_IRQF) : (c & ~C_IRQF);
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_set_level(r->vm, GSI_RTC, level);
	}
}

/*
 * Arms the timer for the next event that would raise the line: one whose
 * interrupt is enabled and whose flag is not already pending. A pending
 * flag keeps the line up until register C is read, so its source can rest.
 */
static void arm_timer(struct rtc *r, s64 now)
{
	u8 want = r->cmos[REG_B] & ~r->cmos[REG_C];
	struct itimerspec its = { 0 };
	s64 next = INT64_MAX;
	int shift = periodic_shift(r);

	if ((want & B_PIE) && shift >= 0) {
		/* Periods before 1970 are negative ticks: divide, don't shift. */
		s64 tick = (floor_div(ticks_of(now), 1LL << shift) + 1) * (1LL << shift);
		s64 sec = floor_div(tick, 32768);

		next = MIN(next, sec * NSEC_PER_SEC + (tick - sec * 32768) * NSEC_PER_SEC / 32768 + 1);
	}
	if (!clock_frozen(r) && (want & (B_UIE | B_AIE))) {
		s64 now_s = floor_div(now, NSEC_PER_SEC);
		s64 sec = (want & B_UIE) ? now_s + 1 : next_alarm(r, now_s);

		if (sec != INT64_MAX)
			next = MIN(next, sec * NSEC_PER_SEC);
	}
	if (next != INT64_MAX) {
		/* The timer runs on the host clock: undo the guest's offset. */
		s64 host = next - r->offset_ns;

		its.it_value.tv_sec = floor_div(host, NSEC_PER_SEC);
		its.it_value.tv_nsec = host - its.it_value.tv_sec * NSEC_PER_SEC;
		if (its.it_value.tv_sec <= 0)
			its.it_value.tv_nsec = 1;	/* already due: fire at once */
	}
	if (r->timer_fd >= 0 &&
	    timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn_once("rtc: cannot arm its timer: %m");
}

/* Everything after a change: flags, the line, the next wake-up. */
static void refresh(struct rtc *r, s64 now)
{
	update_flags(r, now);
	update_irq(r);
	arm_timer(r, now);
}

static void set_guest_time(struct rtc *r, s64 sec, s64 host_now)
{
	r->offset_ns = sec * NSEC_PER_SEC - host_now;
	r->last_ns = sec * NSEC_PER_SEC;
}

static u8 data_read(struct rtc *r, unsigned int reg, s64 now)
{
	u8 v;

	switch (reg) {
	case REG_A:
		v = r->cmos[REG_A] & A_WRITABLE;
		/* Set in the last 244 us before each update, never while SET. */
		if (!clock_frozen(r) &&
		    now - floor_div(now, NSEC_PER_SEC) * NSEC_PER_SEC >= NSEC_PER_SEC - UIP_LEAD_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		return v;
	case REG_D:
		return D_VRT;
	default:
		if (is_time_reg(reg) && !clock_frozen(r))
			render_time(r, floor_div(now, NSEC_PER_SEC));
		return r->cmos[reg];
	}
}

static void data_write(struct rtc *r, unsigned int reg, u8 v, s64 now, s64 host_now)
{
	u8 old_b = r->cmos[REG_B];
	s64 sec;

	switch (reg) {
	case REG_A:
		r->cmos[REG_A] = v & A_WRITABLE;
		return;
	case REG_B:
		if ((v & B_SET) && !(old_b & B_SET)) {
			/* Freeze: the registers hold the time while the guest edits it. */
			render_time(r, floor_div(now, NSEC_PER_SEC));
			v &= ~B_UIE;	/* SET clears UIE on the MC146818 */
		}
		r->cmos[REG_B] = v;
		if (!(v & B_SET) && (old_b & B_SET) && parse_time(r, &sec))
			set_guest_time(r, sec, host_now);
		return;
	case REG_C:
	case REG_D:
		return;		/* read-only */
	default:
		if (!is_time_reg(reg) || clock_frozen(r)) {
			r->cmos[reg] = v;
			return;
		}
		/* A running clock takes the write and counts on from it. */
		render_time(r, floor_div(now, NSEC_PER_SEC));
		r->cmos[reg] = v;
		if (parse_time(r, &sec))
			set_guest_time(r, sec, host_now);
		return;
	}
}

static void rtc_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct rtc *r = opaque;
	u8 v = 0xff;	/* the index port is write-only */

	if (offset == 1) {
		s64 now;

		pthread_mutex_lock(&r->lock);
		now = guest_now_ns(r);
		update_flags(r, now);
		v = data_read(r, r->index, now);
		update_irq(r);
		arm_timer(r, now);
		pthread_mutex_unlock(&r->lock);
	}
	bus_data_put(data, len, v);
}

static void rtc_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct rtc *r = opaque;
	u8 v = bus_data_get(data, len);

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		r->index = v & 0x7f;
		r->nmi_mask = v & 0x80;
	} else {
		s64 host_now = host_now_ns();

		update_flags(r, host_now + r->offset_ns);
		data_write(r, r->index, v, host_now + r->offset_ns, host_now);
		refresh(r, guest_now_ns(r));
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_device_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

static void on_timer(void *opaque, u32 events)
{
	struct rtc *r = opaque;
	u64 expirations;

	(void)events;
	if (read(r->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn_once("rtc: timer: %m");
	pthread_mutex_lock(&r->lock);
	refresh(r, guest_now_ns(r));
	pthread_mutex_unlock(&r->lock);
}

static void put16(u8 *p, u64 v)
{
	v = MIN(v, 0xffff);
	p[0] = v;
	p[1] = v >> 8;
}

/* The memory sizes SeaBIOS and friends read, as QEMU's pc machine fills them. */
static void fill_nvram(struct rtc *r, const struct vm *vm)
{
	u64 below_4g = 0, above_4g = 0, high64k;

	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct mem_region *m = &vm->mem.regions[i];

		if (m->gpa < LAYOUT_MMIO_HOLE_END)
			below_4g += m->size;
		else
			above_4g += m->size;
	}
	put16(&r->cmos[NV_BASE_KB_LO], MIN(below_4g / KiB, 640));
	put16(&r->cmos[NV_EXT_KB_LO], below_4g > MiB ? (below_4g - MiB) / KiB : 0);
	put16(&r->cmos[NV_EXT_KB2_LO], below_4g > MiB ? (below_4g - MiB) / KiB : 0);
	put16(&r->cmos[NV_RAM16M_LO], below_4g > 16 * MiB ? (below_4g - 16 * MiB) / (64 * KiB) : 0);
	high64k = MIN(above_4g / (64 * KiB), 0xffffff);
	r->cmos[NV_HIGH_RAM] = high64k;
	r->cmos[NV_HIGH_RAM + 1] = high64k >> 8;
	r->cmos[NV_HIGH_RAM + 2] = high64k >> 16;
	r->cmos[NV_NR_CPUS] = vm->nr_vcpus ? vm->nr_vcpus - 1 : 0;
}

static void rtc_destroy(void *opaque)
{
	struct rtc *r = opaque;

	bus_unregister(&r->vm->pio_bus, PORT_RTC);
	if (r->timer_fd >= 0) {
		event_loop_remove(r->vm->loop, r->timer_fd);
		close(r->timer_fd);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/*
 * Snapshot: CMOS, the index, and the guest's offset from the host's wall
 * clock, which is kept: after a restore the RTC reads the host's time
 * shifted as before, so the time spent in the file passes for the guest.
 */
#define RTC_SNAP_MAX_NS (4000000000LL * NSEC_PER_SEC)	/* ~127 years */

static void rtc_save(void *opaque, struct snap_writer *w)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	snap_put_u8(w, r->index);
	snap_put_u8(w, r->nmi_mask);
	snap_put_bytes(w, r->cmos, sizeof(r->cmos));
	snap_put_u64(w, r->offset_ns);
	snap_put_u64(w, r->last_ns);
	pthread_mutex_unlock(&r->lock);
}

static int rtc_load(void *opaque, struct snap_reader *r)
{
	struct rtc *rtc = opaque;
	u8 index, nmi_mask, cmos[sizeof(rtc->cmos)];
	s64 offset, last;

	index = snap_get_max(r, 1, sizeof(rtc->cmos) - 1, "the CMOS index");
	nmi_mask = snap_get_max(r, 1, 1, "the NMI mask");
	snap_get_bytes(r, cmos, sizeof(cmos), "CMOS");
	offset = snap_get_u64(r, "the clock offset");
	last = snap_get_u64(r, "the last update");
	if (snap_reader_failed(r))
		return -1;
	/* Within a century or so of the host's clock: the sums cannot overflow. */
	if (offset < -RTC_SNAP_MAX_NS || offset > RTC_SNAP_MAX_NS || last < -RTC_SNAP_MAX_NS ||
	    last > RTC_SNAP_MAX_NS + host_now_ns())
		return snap_fail(r, "the clock offset or last update is out of range");
	pthread_mutex_lock(&rtc->lock);
	rtc->index = index;
	rtc->nmi_mask = nmi_mask;
	memcpy(rtc->cmos, cmos, sizeof(cmos));
	rtc->offset_ns = offset;
	rtc->last_ns = last;
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}

/* The timer follows the loaded registers. */
static void rtc_post_load(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	/* The interrupt controllers' snapshot already has the line at this level. */
	r->irq_level = r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF);
	arm_timer(r, guest_now_ns(r));
	pthread_mutex_unlock(&r->lock);
}

static const struct snap_section_ops rtc_snap_ops = {
	.save = rtc_save, .load = rtc_load, .post_load = rtc_post_load,
};

int rtc_cmos_create(struct vm *vm)
{
	struct rtc *r = calloc(1, sizeof(*r));
	struct vm_device dev = { .name = "rtc", .opaque = r, .destroy = rtc_destroy };

	if (!r)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	r->vm = vm;
	r->cmos[REG_A] = A_DEFAULT;
	r->cmos[REG_B] = B_DEFAULT;
	r->last_ns = guest_now_ns(r);
	fill_nvram(r, vm);

	r->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->timer_fd < 0 || event_loop_add(vm->loop, r->timer_fd, EPOLLIN, on_timer, r)) {
		pr_err("rtc: cannot set up its timer: %m");
		goto fail;
	}
	if (bus_register(&vm->pio_bus, PORT_RTC, 2, &rtc_ops, r, "rtc")) {
		pr_err("rtc: ports 0x%x-0x%x are taken", PORT_RTC, PORT_RTC + 1);
		event_loop_remove(vm->loop, r->timer_fd);
		goto fail;
	}
	if (vm_add_device(vm, &dev)) {
		bus_unregister(&vm->pio_bus, PORT_RTC);
		event_loop_remove(vm->loop, r->timer_fd);
		goto fail;
	}
	return snap_register(vm, "rtc", &rtc_snap_ops, r);
fail:
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return -1;
}

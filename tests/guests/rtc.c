// SPDX-License-Identifier: Apache-2.0
/*
 * The CMOS RTC: a consistent read (UIP clear, the same twice), every field
 * valid in the encoding register B announces, a plausible date close to the
 * host's clock (rtc.epoch= on the command line, Unix seconds), and the
 * NVRAM memory-size bytes a BIOS leaves there matching the e820 map.
 */
#include "guest.h"
#include "machine/layout.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32	/* the FADT's CENTURY index, as on every PC */
#define REG_A_UIP 0x80
#define REG_B_24H 0x02
#define REG_B_BINARY 0x04
#define REG_D_VRT 0x80
#define HOUR_PM 0x80

/* NVRAM memory sizes, as PC BIOSes and QEMU keep them. */
#define NVRAM_EXT_MEM_KB_LO 0x30	/* KiB above 1 MiB, up to 0xffff */
#define NVRAM_EXT_MEM_KB_HI 0x31
#define NVRAM_MEM_16M_LO 0x34		/* 64 KiB units above 16 MiB, below 4 GiB */
#define NVRAM_MEM_16M_HI 0x35
#define NVRAM_MEM_4G_0 0x5b		/* 64 KiB units above 4 GiB, 3 bytes */

#define UIP_POLLS 20000			/* UIP is set for 244 us a second */
#define READ_TRIES 5
#define CLOCK_SLACK_S 300

struct rtc_time {
	u8 sec, min, hour, day, mon, year, century;
};

static u8 cmos_read(u8 reg)
{
	outb(PORT_RTC, reg);
	return inb(PORT_RTC + 1);
}

static void read_raw(struct rtc_time *t)
{
	int i;

	for (i = 0; i < UIP_POLLS; i++)
		if (!(cmos_read(RTC_REG_A) & REG_A_UIP))
			break;
	CHECK(i < UIP_POLLS, "register A's update-in-progress bit never clears");
	t->sec = cmos_read(RTC_SECONDS);
	t->min = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->mon = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static void read_consistent(struct rtc_time *t)
{
	struct rtc_time again;

	for (int i = 0; i < READ_TRIES; i++) {
		read_raw(t);
		read_raw(&again);
		if (!memcmp(t, &again, sizeof(*t)))
			return;
	}
	guest_fail("the RTC never reads the same twice in a row");
}

static unsigned int decode(u8 v, bool binary, const char *what)
{
	if (binary)
		return v;
	CHECK((v & 0x0f) <= 9 && (v >> 4) <= 9, "RTC %s 0x%02x is not BCD", what, v);
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Days since 1970-01-01 of a Gregorian date, for years after 1970. */
static u64 days_since_epoch(u64 y, u64 m, u64 d)
{
	u64 era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static u64 check_time(void)
{
	u8 b = cmos_read(RTC_REG_B);
	bool binary = b & REG_B_BINARY;
	struct rtc_time raw;
	unsigned int sec, min, hour, day, mon, year, century;

	CHECK(cmos_read(RTC_REG_D) & REG_D_VRT, "register D says the CMOS lost power (VRT clear)");
	read_consistent(&raw);
	sec = decode(raw.sec, binary, "seconds");
	min = decode(raw.min, binary, "minutes");
	hour = decode(raw.hour & (b & REG_B_24H ? 0xff : ~HOUR_PM), binary, "hours");
	day = decode(raw.day, binary, "day");
	mon = decode(raw.mon, binary, "month");
	year = decode(raw.year, binary, "year");
	century = decode(raw.century, binary, "century");

	if (!(b & REG_B_24H)) {
		CHECK(hour >= 1 && hour <= 12, "12-hour RTC reads hour %u", hour);
		hour = hour % 12 + (raw.hour & HOUR_PM ? 12 : 0);
	}
	CHECK(sec < 60 && min < 60 && hour < 24, "RTC time %u:%u:%u is not a time", hour, min, sec);
	CHECK(mon >= 1 && mon <= 12 && day >= 1 && day <= 31,
	      "RTC date month %u day %u is not a date", mon, day);
	CHECK(year < 100, "RTC year register %u", year);
	CHECK(century >= 19 && century <= 21, "RTC century register (0x32) reads %u", century);
	year += century * 100;
	CHECK(year >= 2024, "RTC says the year is %u", year);
	gprintf("RTC: %u-%02u-%02u %02u:%02u:%02u (%s, %s)\n", year, mon, day, hour, min, sec,
		binary ? "binary" : "BCD", b & REG_B_24H ? "24h" : "12h");
	return days_since_epoch(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

static u16 cmos_read16(u8 lo)
{
	return cmos_read(lo) | cmos_read(lo + 1) << 8;
}

/* The sizes a BIOS stores, which older OSes and bootloaders read. */
static void check_nvram_memory(void)
{
	u64 low_ram = e820_ram_between(0, 4 * GiB);
	u64 high_ram = e820_ram_between(4 * GiB, ~0ULL);
	u64 low_top = 0, ext_kb, above_16m, above_4g;
	unsigned int nr;
	const struct e820_entry *e = e820_table(&nr);

	CHECK(low_ram > 16 * MiB, "e820 lists only %lu bytes of RAM below 4 GiB", low_ram);
	for (unsigned int i = 0; i < nr; i++)
		if (e[i].type == E820_RAM && e[i].addr < 4 * GiB && e[i].addr + e[i].size > low_top)
			low_top = e[i].addr + e[i].size;

	ext_kb = (low_top - MiB) / 1024;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	above_16m = (low_top - 16 * MiB) / (64 * 1024);
	if (above_16m > 0xffff)
		above_16m = 0xffff;
	above_4g = high_ram / (64 * 1024);

	CHECK(cmos_read16(NVRAM_EXT_MEM_KB_LO) == ext_kb,
	      "CMOS 0x30/0x31 say %u KiB above 1 MiB, e820 gives %lu",
	      cmos_read16(NVRAM_EXT_MEM_KB_LO), ext_kb);
	CHECK(cmos_read16(NVRAM_MEM_16M_LO) == above_16m,
	      "CMOS 0x34/0x35 say %u x 64 KiB above 16 MiB, e820 gives %lu",
	      cmos_read16(NVRAM_MEM_16M_LO), above_16m);
	CHECK((cmos_read16(NVRAM_MEM_4G_0) | (u64)cmos_read(NVRAM_MEM_4G_0 + 2) << 16) == above_4g,
	      "CMOS 0x5b-0x5d say %lu x 64 KiB above 4 GiB, e820 gives %lu",
	      cmos_read16(NVRAM_MEM_4G_0) | (u64)cmos_read(NVRAM_MEM_4G_0 + 2) << 16, above_4g);
	gprintf("NVRAM: %lu KiB below 4 GiB, %lu MiB above\n", low_top / 1024, high_ram >> 20);
}

void guest_main(void)
{
	u64 host = cmdline_need_u64("rtc.epoch"), rtc = check_time();

	CHECK(rtc + CLOCK_SLACK_S >= host && rtc <= host + CLOCK_SLACK_S,
	      "RTC is %ld s away from the host clock", (long)(rtc - host));
	check_nvram_memory();
}

// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "bus/bus.h"

struct fake_dev {
	u64 last_offset;
	unsigned int last_len;
	u64 last_value;
	unsigned int reads, writes;
};

static void fake_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct fake_dev *d = opaque;

	d->reads++;
	d->last_offset = offset;
	d->last_len = len;
	bus_data_put(data, len, 0x1122334455667788ULL);
}

static void fake_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct fake_dev *d = opaque;

	d->writes++;
	d->last_offset = offset;
	d->last_len = len;
	d->last_value = bus_data_get(data, len);
}

static const struct bus_device_ops fake_ops = { .read = fake_read, .write = fake_write };

static void dispatch_by_offset(void **state)
{
	struct bus bus;
	struct fake_dev a = { 0 }, b = { 0 };
	u32 v = 0xdeadbeef;
	u16 r;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &fake_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x60, 1, &fake_ops, &b, "b"), 0);
	assert_true(bus_write(&bus, 0x3fb, &v, 1));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_offset, 3);
	assert_int_equal(a.last_value, 0xef);
	assert_true(bus_read(&bus, 0x3f8, &r, 2));
	assert_int_equal(r, 0x7788);
	assert_int_equal(b.reads + b.writes, 0);
	bus_destroy(&bus);
}

static void unclaimed_reads_all_ones(void **state)
{
	struct bus bus;
	struct fake_dev a = { 0 };
	u32 v = 0;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x1000, 0x10, &fake_ops, &a, "a"), 0);
	assert_false(bus_read(&bus, 0x2000, &v, 4));
	assert_int_equal(v, 0xffffffff);
	assert_false(bus_write(&bus, 0xfff, &v, 1));
	/* Starts inside, runs past the end: never reaches the device. */
	assert_false(bus_read(&bus, 0x100e, &v, 4));
	assert_int_equal(a.reads, 0);
	assert_int_equal(bus.unclaimed_accesses, 3);
	bus_destroy(&bus);
}

static void overlap_refused_and_unregister(void **state)
{
	struct bus bus;
	struct fake_dev a = { 0 };
	u8 v = 1;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &fake_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x10f, 1, &fake_ops, &a, "x"), -1);
	assert_int_equal(bus_register(&bus, 0xf0, 0x11, &fake_ops, &a, "x"), -1);
	assert_int_equal(bus_register(&bus, 0xf0, 0x10, &fake_ops, &a, "x"), 0);
	assert_int_equal(bus_register(&bus, ~0ULL, 2, &fake_ops, &a, "wrap"), -1);
	assert_int_equal(bus_register(&bus, 0x200, 0, &fake_ops, &a, "empty"), -1);
	assert_int_equal(bus_unregister(&bus, 0x100), 0);
	assert_int_equal(bus_unregister(&bus, 0x100), -1);
	assert_false(bus_write(&bus, 0x100, &v, 1));
	assert_true(bus_write(&bus, 0xff, &v, 1));
	bus_destroy(&bus);
}

static void many_ranges_stay_sorted(void **state)
{
	struct bus bus;
	struct fake_dev d[64] = { 0 };
	u8 v = 0;

	(void)state;
	bus_init(&bus, "test");
	/* Registered in a scrambled order; lookups must still find each. */
	for (unsigned int i = 0; i < 64; i++) {
		unsigned int k = (i * 37) % 64;

		assert_int_equal(bus_register(&bus, 0x1000 + k * 0x100, 0x80, &fake_ops, &d[k], "d"), 0);
	}
	for (unsigned int k = 0; k < 64; k++) {
		assert_true(bus_read(&bus, 0x1000 + k * 0x100 + 0x7f, &v, 1));
		assert_int_equal(d[k].reads, 1);
		assert_int_equal(d[k].last_offset, 0x7f);
		assert_false(bus_read(&bus, 0x1000 + k * 0x100 + 0x80, &v, 1));
	}
	bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dispatch_by_offset),
		cmocka_unit_test(unclaimed_reads_all_ones),
		cmocka_unit_test(overlap_refused_and_unregister),
		cmocka_unit_test(many_ranges_stay_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

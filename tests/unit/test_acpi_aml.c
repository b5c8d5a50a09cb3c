// SPDX-License-Identifier: Apache-2.0
/* The AML emitter, against byte sequences worked out from the ACPI spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "machine/acpi/aml.h"

#define assert_aml(a, ...)                                                      \
	do {                                                                     \
		static const u8 want_[] = { __VA_ARGS__ };                       \
		assert_false((a)->failed);                                       \
		assert_int_equal((a)->len, sizeof(want_));                       \
		assert_memory_equal((a)->buf, want_, sizeof(want_));             \
	} while (0)

static void integers_use_the_shortest_form(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0x100000000ULL);
	assert_aml(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		   0x0c, 0x00, 0x00, 0x01, 0x00,
		   0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	aml_free(&a);
}

static void name_strings(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_name_string(&a, "\\_SB.PCI0");
	aml_name_string(&a, "_S5");
	aml_name_string(&a, "^COM1");
	aml_name_string(&a, "\\");
	aml_name_string(&a, "A.B.C");
	assert_aml(&a, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		   '_', 'S', '5', '_',
		   0x5e, 'C', 'O', 'M', '1',
		   0x5c, 0x00,
		   0x2f, 0x03, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_');
	aml_free(&a);
}

static void bad_names_fail(void **state)
{
	static const char *const bad[] = { "pci0", "TOOLONG", "1ABC", "A..B", "A.", ".A", "A-B" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct aml a;

		aml_init(&a);
		aml_name_string(&a, bad[i]);
		assert_true(a.failed);
		aml_free(&a);
	}
}

static void eisaid_and_string(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_eisaid(&a, "PNP0A03");
	aml_eisaid(&a, "PNP0501");
	aml_string(&a, "ok");
	assert_aml(&a, 0x0c, 0x41, 0xd0, 0x0a, 0x03, 0x0c, 0x41, 0xd0, 0x05, 0x01,
		   0x0d, 'o', 'k', 0x00);
	aml_free(&a);

	aml_init(&a);
	aml_eisaid(&a, "pnp0a03");
	assert_true(a.failed);
	aml_free(&a);
}

static void method_returning_a_constant(void **state)
{
	struct aml a;
	size_t m;

	(void)state;
	aml_init(&a);
	m = aml_method_open(&a, "_STA", 0);
	aml_return(&a);
	aml_integer(&a, 0x0f);
	aml_close(&a, m);
	assert_aml(&a, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f);
	aml_free(&a);
}

static void device_with_name(void **state)
{
	struct aml a;
	size_t d;

	(void)state;
	aml_init(&a);
	d = aml_device_open(&a, "COM1");
	aml_name(&a, "_UID");
	aml_integer(&a, 1);
	aml_close(&a, d);
	assert_aml(&a, 0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x01);
	aml_free(&a);
}

/* A package whose body is body_len bytes: the PkgLength bytes it gets. */
static void check_pkglen(size_t nelems_bytes, const u8 *want, size_t want_len)
{
	struct aml a;
	size_t p;

	aml_init(&a);
	p = aml_package_open(&a, 0);		/* the NumElements byte counts too */
	for (size_t i = 0; i + 1 < nelems_bytes; i++)
		aml_byte(&a, 0);
	aml_close(&a, p);
	assert_false(a.failed);
	assert_int_equal(a.len, 1 + want_len + nelems_bytes);
	assert_int_equal(a.buf[0], 0x12);
	assert_memory_equal(a.buf + 1, want, want_len);
	assert_int_equal(a.buf[1 + want_len], 0);	/* NumElements after the length */
	aml_free(&a);
}

static void pkglength_boundaries(void **state)
{
	(void)state;
	check_pkglen(0x3e, (const u8[]){ 0x3f }, 1);			/* 63: one byte */
	check_pkglen(0x3f, (const u8[]){ 0x41, 0x04 }, 2);		/* 65 */
	check_pkglen(0xffd, (const u8[]){ 0x4f, 0xff }, 2);		/* 0xfff */
	check_pkglen(0xffe, (const u8[]){ 0x81, 0x00, 0x01 }, 3);	/* 0x1001 */
	check_pkglen(0xffffc, (const u8[]){ 0x8f, 0xff, 0xff }, 3);	/* 0xfffff */
	check_pkglen(0xffffd, (const u8[]){ 0xc1, 0x00, 0x00, 0x01 }, 4);	/* 0x100001 */
}

static void nested_closes_measure_their_own_body(void **state)
{
	struct aml a;
	size_t outer, inner;

	(void)state;
	aml_init(&a);
	outer = aml_package_open(&a, 1);
	inner = aml_package_open(&a, 2);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_close(&a, inner);
	aml_close(&a, outer);
	assert_aml(&a, 0x12, 0x08, 0x01, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00);
	aml_free(&a);
}

static void buffer_and_resources(void **state)
{
	struct aml res, a;

	(void)state;
	aml_init(&res);
	aml_res_word_bus(&res, 0, 0xff);
	aml_res_io(&res, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq(&res, 1 << 4);
	aml_res_dword_memory(&res, 0xc0000000, 0xfdffffff);
	aml_res_end(&res);
	assert_aml(&res,
		   /* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xff, 0, 0x100) */
		   0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00,
		   0x00, 0x00, 0x00, 0x01,
		   /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
		   0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		   /* IRQNoFlags(){4} */
		   0x22, 0x10, 0x00,
		   /* DWordMemory(..., Cacheable, ReadWrite, 0, 0xc0000000, 0xfdffffff, 0, 0x3e000000) */
		   0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00,
		   0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x00,
		   0x00, 0x00, 0x00, 0x3e,
		   /* EndTag */
		   0x79, 0x00);

	aml_init(&a);
	aml_buffer(&a, res.buf, 4);
	assert_aml(&a, 0x11, 0x07, 0x0a, 0x04, 0x88, 0x0d, 0x00, 0x02);
	aml_free(&a);
	aml_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integers_use_the_shortest_form),
		cmocka_unit_test(name_strings),
		cmocka_unit_test(bad_names_fail),
		cmocka_unit_test(eisaid_and_string),
		cmocka_unit_test(method_returning_a_constant),
		cmocka_unit_test(device_with_name),
		cmocka_unit_test(pkglength_boundaries),
		cmocka_unit_test(nested_closes_measure_their_own_body),
		cmocka_unit_test(buffer_and_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

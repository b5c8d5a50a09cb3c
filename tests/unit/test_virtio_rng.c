// SPDX-License-Identifier: Apache-2.0
/* virtio-rng through the test driver: bytes come back, big asks are capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <string.h>

#include "machine/vm.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"
#include "virtio_test_driver.h"

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	u64 buf;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.vm = vtd_vm_create();
	if (!f.vm || !virtio_rng_create(f.vm) || vtd_probe(f.vm, VIRTIO_ID_RNG, &f.d) ||
	    vtd_negotiate(&f.d, ~0ULL))
		return -1;
	vtd_enable_msix(&f.d);
	vtd_common_write(&f.d, VIRTIO_PCI_COMMON_MSIX, 1, 2);
	if (vtd_setup_queue(&f.d, 0, 64, 0))
		return -1;
	vtd_driver_ok(&f.d);
	f.buf = vtd_alloc(f.vm, 256 * KiB, 4096);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vtd_vm_destroy(f->vm);
	return 0;
}

/* How many of len bytes at gpa are still the fill value. */
static unsigned int untouched(struct fixture *f, u64 gpa, unsigned int len, u8 fill)
{
	const u8 *p = vtd_hva(f->vm, gpa);
	unsigned int n = 0;

	for (unsigned int i = 0; i < len; i++)
		n += p[i] == fill;
	return n;
}

static void test_entropy(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->buf, 40, true }, { f->buf + 100, 24, true } };
	u32 id, len;

	/* Only ring features are offered. */
	assert_int_equal(f->d.features >> 32, 1);
	memset(vtd_hva(f->vm, f->buf), 0, 128);
	vtd_add_chain(&f->d, 0, b, 2, false);
	vtd_kick(&f->d, 0);
	assert_int_equal(vtd_wait_used(&f->d, 0, 1000, &id, &len), 0);
	assert_int_equal(len, 64);
	/* 64 random bytes with more than 8 zeroes: odds below 1e-9. */
	assert_true(untouched(f, f->buf, 40, 0) + untouched(f, f->buf + 100, 24, 0) <= 8);
	assert_int_equal(untouched(f, f->buf + 40, 60, 0), 60);	/* the gap is left alone */
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
}

static void test_big_request_capped(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf, 256 * KiB, true };
	u32 id, len;

	vtd_add_chain(&f->d, 0, &b, 1, true);
	vtd_kick(&f->d, 0);
	assert_int_equal(vtd_wait_used(&f->d, 0, 1000, &id, &len), 0);
	assert_int_equal(len, 64 * KiB);
}

static void test_readable_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf, 16, false };

	vtd_add_chain(&f->d, 0, &b, 1, false);
	vtd_kick(&f->d, 0);
	assert_true(vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(vtd_used_idx(&f->d, 0), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(1)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entropy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_request_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_buffer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-console (hvc0) through the test driver, its host side on a
 * socketpair served by the event loop: output, input, input that waits for
 * buffers, and buffers in the wrong direction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine/event_loop.h"
#include "machine/vm.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"
#include "virtio_test_driver.h"

#define RX 0
#define TX 1

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	int host;		/* our end of the socketpair */
	int guest_side;
	pthread_t io;
	u64 buf;
};

static void *io_thread(void *arg)
{
	event_loop_run(arg);
	return NULL;
}

static int setup(void **state)
{
	static struct fixture f;
	struct console_config cfg = { .escapes = false, .raw_tty = false };
	int sv[2];

	memset(&f, 0, sizeof(f));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	f.host = sv[0];
	f.guest_side = sv[1];
	cfg.in_fd = cfg.out_fd = sv[1];
	f.vm = vtd_vm_create();
	if (!f.vm || !virtio_console_create(f.vm, &cfg) ||
	    vtd_probe(f.vm, VIRTIO_ID_CONSOLE, &f.d) || vtd_negotiate(&f.d, ~0ULL))
		return -1;
	vtd_enable_msix(&f.d);
	vtd_common_write(&f.d, VIRTIO_PCI_COMMON_MSIX, 2, 2);
	if (vtd_setup_queue(&f.d, RX, 128, 0) || vtd_setup_queue(&f.d, TX, 128, 1))
		return -1;
	f.buf = vtd_alloc(f.vm, 64 * KiB, 4096);
	if (pthread_create(&f.io, NULL, io_thread, f.vm->loop))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	event_loop_stop(f->vm->loop);
	pthread_join(f->io, NULL);
	vtd_vm_destroy(f->vm);
	close(f->host);
	close(f->guest_side);
	return 0;
}

static ssize_t read_host(struct fixture *f, char *buf, size_t len)
{
	struct pollfd p = { .fd = f->host, .events = POLLIN };
	size_t got = 0;

	while (got < len && poll(&p, 1, 2000) == 1) {
		ssize_t n = read(f->host, buf + got, len - got);

		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

static void test_output(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->buf, 6, false }, { f->buf + 100, 5, false } };
	char got[16] = { 0 };
	u32 id, len;

	vtd_driver_ok(&f->d);
	vtd_mem_write(f->vm, f->buf, "hello ", 6);
	vtd_mem_write(f->vm, f->buf + 100, "hvc0\n", 5);
	vtd_add_chain(&f->d, TX, b, 2, true);
	vtd_kick(&f->d, TX);
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(read_host(f, got, 11), 11);
	assert_string_equal(got, "hello hvc0\n");
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(1)), 1);
}

static void test_input(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf a = { f->buf, 4, true }, b = { f->buf + 64, 4, true };
	u32 id, len;

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, RX, &a, 1, false);
	vtd_add_chain(&f->d, RX, &b, 1, false);
	vtd_kick(&f->d, RX);
	assert_int_equal(write(f->host, "abcdefgh", 8), 8);
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(vtd_hva(f->vm, f->buf), "abcd", 4);
	assert_memory_equal(vtd_hva(f->vm, f->buf + 64), "efgh", 4);
	assert_true(vtd_msi_count(VTD_MSI_DATA(0)) >= 1);
}

static void test_input_waits_for_buffers(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf a = { f->buf, 16, true };
	u32 id, len;

	/* Input before DRIVER_OK and before any buffer waits on the host side. */
	assert_int_equal(write(f->host, "xy", 2), 2);
	usleep(20 * 1000);
	vtd_driver_ok(&f->d);
	assert_int_equal(write(f->host, "z", 1), 1);
	usleep(50 * 1000);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	vtd_add_chain(&f->d, RX, &a, 1, false);
	vtd_kick(&f->d, RX);
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	if (len < 3) {	/* "xy" and "z" may come as two chunks */
		struct vtd_buf b = { f->buf + len, 16, true };

		vtd_add_chain(&f->d, RX, &b, 1, false);
		vtd_kick(&f->d, RX);
		assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	}
	assert_memory_equal(vtd_hva(f->vm, f->buf), "xyz", 3);
}

static void test_wrong_directions(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf w = { f->buf, 16, true };

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, TX, &w, 1, false);
	vtd_kick(&f->d, TX);
	assert_true(vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(vtd_used_idx(&f->d, TX), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(2)), 1);
}

static bool needs_reset(void *arg)
{
	return vtd_status(arg) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void test_readable_receive_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf r = { f->buf, 16, false };

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, RX, &r, 1, false);
	vtd_kick(&f->d, RX);
	assert_int_equal(write(f->host, "q", 1), 1);
	assert_true(vtd_wait_for(needs_reset, &f->d, 2000));
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_directions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_receive_buffer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

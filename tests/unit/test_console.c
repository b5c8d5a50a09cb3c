// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backend/console.h"
#include "dev/uart_8250.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

/* Stops the loop after a while, so that a broken console fails, not hangs. */
struct watchdog {
	struct vm *vm;
	int fd;
	bool fired;
};

static void on_watchdog(void *opaque, u32 events)
{
	struct watchdog *w = opaque;
	u64 n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
	w->fired = true;
	event_loop_stop(w->vm->loop);
}

static void run_loop(struct vm *vm, unsigned int ms, struct watchdog *w)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
	};

	w->vm = vm;
	w->fired = false;
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_true(w->fd >= 0);
	assert_int_equal(timerfd_settime(w->fd, 0, &its, NULL), 0);
	assert_int_equal(event_loop_add(vm->loop, w->fd, EPOLLIN, on_watchdog, w), 0);
	event_loop_run(vm->loop);
	event_loop_remove(vm->loop, w->fd);
	close(w->fd);
}

/* A frontend that takes everything and stops the loop at a byte count. */
struct recorder {
	struct vm *vm;
	u8 buf[8192];
	size_t len;
	size_t stop_at;
};

static size_t record(void *opaque, const u8 *buf, size_t len)
{
	struct recorder *r = opaque;

	len = MIN(len, sizeof(r->buf) - r->len);
	memcpy(r->buf + r->len, buf, len);
	r->len += len;
	if (r->stop_at && r->len >= r->stop_at)
		event_loop_stop(r->vm->loop);
	return len;
}

static void write_str(int fd, const char *s, size_t len)
{
	assert_int_equal(write(fd, s, len), (ssize_t)len);
}

static void ctrl_a_commands(void **state)
{
	struct vm *vm = fake_vm_create(0);
	struct recorder rec = { .vm = vm };
	struct watchdog wd;
	int in[2], out[2];
	char help[512];
	ssize_t n;

	(void)state;
	assert_non_null(vm);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	assert_non_null(console_create(vm, &(struct console_config){
		.in_fd = in[0], .out_fd = out[1], .escapes = true,
	}, &(struct console_frontend){ .receive = record, .opaque = &rec }));

	/* a, b, Ctrl-A a, Ctrl-A Ctrl-A, Ctrl-A h, Ctrl-A q (unknown), Ctrl-A x, then more. */
	write_str(in[1], "ab\001a\001\001\001h\001q\001xzz", 13);
	run_loop(vm, 5000, &wd);
	assert_false(wd.fired);
	assert_int_equal(vm->stop_reason, VM_STOP_QUIT);
	assert_int_equal(vm->exit_code, 0);
	assert_int_equal(rec.len, 4);
	assert_memory_equal(rec.buf, "ab\001\001", 4);
	n = read(out[0], help, sizeof(help) - 1);
	assert_true(n > 0);
	help[n] = 0;
	assert_non_null(strstr(help, "C-a x"));

	vm_destroy(vm);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

static void input_as_is_without_escapes(void **state)
{
	struct vm *vm = fake_vm_create(0);
	struct recorder rec = { .vm = vm, .stop_at = 6 };
	struct watchdog wd;
	int in[2];

	(void)state;
	assert_non_null(vm);
	assert_int_equal(pipe(in), 0);
	assert_non_null(console_create(vm, &(struct console_config){
		.in_fd = in[0], .out_fd = -1, .escapes = false,
	}, &(struct console_frontend){ .receive = record, .opaque = &rec }));
	write_str(in[1], "\001x\001hey", 6);
	close(in[1]);
	run_loop(vm, 5000, &wd);
	assert_false(wd.fired);
	assert_false(vm_stopping(vm));		/* Ctrl-A x was just data */
	assert_int_equal(rec.len, 6);
	assert_memory_equal(rec.buf, "\001x\001hey", 6);
	vm_destroy(vm);
	close(in[0]);
}

static void output_reaches_the_fd(void **state)
{
	struct vm *vm = fake_vm_create(0);
	struct recorder rec = { .vm = vm };
	struct console *con;
	int out[2];
	char buf[16];

	(void)state;
	assert_non_null(vm);
	assert_int_equal(pipe(out), 0);
	con = console_create(vm, &(struct console_config){ .in_fd = -1, .out_fd = out[1] },
			     &(struct console_frontend){ .receive = record, .opaque = &rec });
	assert_non_null(con);
	console_write(con, (const u8 *)"hello\r\n", 7);
	assert_int_equal(read(out[0], buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "hello\r\n", 7);
	vm_destroy(vm);
	close(out[0]);
	close(out[1]);
}

/* A guest writing to a console whose reader went to sleep. */
struct stuck_writer {
	struct console *con;
	bool returned;
};

static void *write_thread(void *arg)
{
	struct stuck_writer *w = arg;

	console_write(w->con, (const u8 *)"x", 1);
	__atomic_store_n(&w->returned, true, __ATOMIC_RELEASE);
	return NULL;
}

static void full_output_does_not_outlive_the_vm(void **state)
{
	struct vm *vm = fake_vm_create(0);
	struct recorder rec = { .vm = vm };
	struct stuck_writer w = { 0 };
	char fill[4096];
	pthread_t t;
	int out[2];

	(void)state;
	assert_non_null(vm);
	assert_int_equal(pipe(out), 0);
	/* Fill the pipe, then make its writing end blocking again. */
	assert_int_equal(fcntl(out[1], F_SETFL, O_NONBLOCK), 0);
	memset(fill, 'f', sizeof(fill));
	while (write(out[1], fill, sizeof(fill)) > 0)
		;
	assert_int_equal(fcntl(out[1], F_SETFL, 0), 0);
	w.con = console_create(vm, &(struct console_config){ .in_fd = -1, .out_fd = out[1] },
			       &(struct console_frontend){ .receive = record, .opaque = &rec });
	assert_non_null(w.con);
	assert_int_equal(pthread_create(&t, NULL, write_thread, &w), 0);
	usleep(300 * 1000);
	assert_false(__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE));	/* output waits... */
	vm_request_stop(vm, VM_STOP_QUIT, 0);
	usleep(500 * 1000);
	assert_true(__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE));	/* ...but not forever */
	pthread_join(t, NULL);
	vm_destroy(vm);
	close(out[0]);
	close(out[1]);
}

/*
 * End to end with back-pressure: more input than the UART's FIFO holds,
 * read by a "guest" thread through the port bus as a driver would, slower
 * than it arrives. Nothing may be lost or reordered.
 */
struct guest_reader {
	struct vm *vm;
	u8 got[4096];
	size_t want, len;
};

static void *guest_read_thread(void *arg)
{
	struct guest_reader *g = arg;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (g->len < g->want) {
		if (inb(g->vm, PORT_COM1 + 5) & 0x01)
			g->got[g->len++] = inb(g->vm, PORT_COM1);
		else
			usleep(100);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 10)
			break;
	}
	vm_request_stop(g->vm, VM_STOP_QUIT, 0);
	return NULL;
}

static size_t to_uart(void *opaque, const u8 *buf, size_t len)
{
	return uart_8250_receive(opaque, buf, len);
}

static void uart_has_room(void *opaque)
{
	console_input_ready(opaque);
}

static void backpressure_through_the_uart(int in_fd, const u8 *data, size_t len)
{
	struct vm *vm = fake_vm_create(0);
	struct guest_reader g = { .vm = vm, .want = len };
	struct uart_8250 *uart;
	struct console *con;
	struct watchdog wd;
	pthread_t t;

	assert_non_null(vm);
	uart = uart_8250_create(vm, PORT_COM1, GSI_COM1, "com1");
	assert_non_null(uart);
	con = console_create(vm, &(struct console_config){ .in_fd = in_fd, .out_fd = -1 },
			     &(struct console_frontend){ .receive = to_uart, .opaque = uart });
	assert_non_null(con);
	uart_8250_set_backend(uart, &(struct uart_backend){
		.rx_ready = uart_has_room, .opaque = con,
	});
	outb(vm, PORT_COM1 + 2, 0x07);		/* 16-byte FIFOs */
	assert_int_equal(pthread_create(&t, NULL, guest_read_thread, &g), 0);
	run_loop(vm, 15000, &wd);
	pthread_join(t, NULL);
	assert_false(wd.fired);
	assert_int_equal(g.len, len);
	assert_memory_equal(g.got, data, len);
	vm_destroy(vm);
}

static void pipe_input_is_never_dropped(void **state)
{
	u8 data[1000];
	int in[2];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 7 + (i >> 8);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(write(in[1], data, sizeof(data)), (ssize_t)sizeof(data));
	backpressure_through_the_uart(in[0], data, sizeof(data));
	close(in[0]);
	close(in[1]);
}

static void file_input_is_read_at_the_guests_pace(void **state)
{
	char path[] = "/tmp/kiln-console-XXXXXX";
	u8 data[600];
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = 'A' + i % 26;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	/* A regular file cannot be polled: the console must cope regardless. */
	backpressure_through_the_uart(fd, data, sizeof(data));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ctrl_a_commands),
		cmocka_unit_test(input_as_is_without_escapes),
		cmocka_unit_test(output_reaches_the_fd),
		cmocka_unit_test(full_output_does_not_outlive_the_vm),
		cmocka_unit_test(pipe_input_is_never_dropped),
		cmocka_unit_test(file_input_is_read_at_the_guests_pace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
#include "backend/console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/console_tty.h"
#include "lib/log.h"
#include "machine/event_loop.h"
#include "machine/stats.h"
#include "machine/vm.h"

#define CONSOLE_CHUNK 256

static const char console_help[] =
	"\r\n"
	"C-a h    print this help\r\n"
	"C-a x    exit Kiln\r\n"
	"C-a a    send C-a\r\n"
	"C-a C-a  send C-a\r\n";

struct console {
	struct vm *vm;
	struct console_frontend fe;
	int in_fd;
	int out_fd;
	int wake_fd;		/* eventfd: the frontend has room again */
	bool escapes;
	bool tty_raw;

	/* Input state, touched only on the I/O thread. */
	bool pollable;		/* in_fd works with epoll (not a file) */
	bool watching;		/* in_fd is in the event loop */
	bool eof;
	bool got_escape;
	u8 pending[CONSOLE_CHUNK];	/* input the frontend has not taken */
	size_t pending_off, pending_len;

	pthread_mutex_t out_lock;
	bool out_broken;

	u64 in_bytes, out_bytes;
};

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

void console_config_stdio(struct console_config *cfg)
{
	bool tty = isatty(STDIN_FILENO);
	pid_t fg = tty ? tcgetpgrp(STDIN_FILENO) : -1;

	cfg->in_fd = fd_open(STDIN_FILENO) ? STDIN_FILENO : -1;
	cfg->out_fd = STDOUT_FILENO;
	/*
	 * Our controlling terminal while Kiln runs in the background would
	 * stop us with SIGTTIN or SIGTTOU on the first read or mode change:
	 * leave it to the foreground job and take no input. (Job control
	 * does not apply to any other terminal: tcgetpgrp() fails there.)
	 */
	if (fg >= 0 && fg != getpgrp()) {
		pr_info("console: stdin is another job's terminal; no console input");
		cfg->in_fd = -1;
		tty = false;
	}
	cfg->escapes = tty;
	cfg->raw_tty = tty;
}

/*
 * Waits until out_fd takes a write of up to PIPE_BUF bytes without
 * blocking. A reader that never reads must not hold a vCPU forever: once
 * the VM is stopping, waiting gives up. Returns false then.
 */
static bool wait_writable(struct console *con)
{
	struct pollfd p = { .fd = con->out_fd, .events = POLLOUT };

	for (;;) {
		int r = poll(&p, 1, 100);

		if (r > 0 || (r < 0 && errno != EINTR))
			return true;	/* ready, or let write() report the error */
		if (vm_stopping(con->vm))
			return false;
	}
}

static void write_all(struct console *con, const u8 *buf, size_t len)
{
	while (len && !con->out_broken) {
		ssize_t n;

		if (!wait_writable(con))
			return;
		n = write(con->out_fd, buf, MIN(len, (size_t)PIPE_BUF));
		if (n > 0) {
			buf += n;
			len -= n;
			con->out_bytes += n;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		pr_warn("console output: %s; dropping the rest", n < 0 ? strerror(errno) : "closed");
		con->out_broken = true;
	}
}

void console_write(struct console *con, const u8 *buf, size_t len)
{
	pthread_mutex_lock(&con->out_lock);
	write_all(con, buf, len);
	pthread_mutex_unlock(&con->out_lock);
}

void console_input_ready(struct console *con)
{
	u64 one = 1;

	/* A saturated counter still leaves the wake-up pending. */
	if (write(con->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("console wake-up: %m");
}

static void on_input(void *opaque, u32 events);

static void watch_input(struct console *con, bool on)
{
	if (!con->pollable || on == con->watching)
		return;
	if (on) {
		if (event_loop_add(con->vm->loop, con->in_fd, EPOLLIN, on_input, con)) {
			pr_warn("console: cannot watch input: %m");
			con->eof = true;
			return;
		}
	} else {
		event_loop_remove(con->vm->loop, con->in_fd);
	}
	con->watching = on;
}

/* Turns raw input into what the guest receives, acting on Ctrl-A commands. */
static void filter_input(struct console *con, const u8 *buf, size_t len)
{
	u8 *out = con->pending;
	size_t n = 0;

	for (size_t i = 0; i < len && !con->eof; i++) {
		u8 c = buf[i];

		if (!con->escapes) {
			out[n++] = c;
		} else if (!con->got_escape) {
			if (c == CONSOLE_ESCAPE_CHAR)
				con->got_escape = true;
			else
				out[n++] = c;
		} else {
			con->got_escape = false;
			switch (c) {
			case 'a':
			case CONSOLE_ESCAPE_CHAR:
				out[n++] = CONSOLE_ESCAPE_CHAR;
				break;
			case 'x':
				/* Whatever came before still reaches the guest. */
				con->eof = true;
				vm_request_stop(con->vm, VM_STOP_QUIT, 0);
				break;
			case 'h':
			case '?':
				console_write(con, (const u8 *)console_help,
					      sizeof(console_help) - 1);
				break;
			default:
				break;	/* unknown commands are dropped, as in QEMU */
			}
		}
	}
	con->pending_off = 0;
	con->pending_len = n;
}

/* Reads one chunk of host input into pending; false at its end. */
static bool read_input(struct console *con)
{
	u8 buf[CONSOLE_CHUNK];
	ssize_t n = read(con->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (n < 0)
			pr_warn("console input: %m; no more input");
		con->eof = true;
		return false;
	}
	__atomic_add_fetch(&con->in_bytes, n, __ATOMIC_RELAXED);
	filter_input(con, buf, n);
	return true;
}

/* Hands pending input to the frontend; true once all of it is taken. */
static bool flush_pending(struct console *con)
{
	while (con->pending_len) {
		size_t n = con->fe.receive(con->fe.opaque,
					   con->pending + con->pending_off,
					   con->pending_len);

		if (n == 0)
			return false;
		con->pending_off += n;
		con->pending_len -= n;
	}
	return true;
}

/*
 * Moves input along. Back-pressure: while the frontend is full, in_fd is
 * not watched, so the host's buffer (pipe, terminal) holds the rest. A
 * file cannot be polled: it is read a chunk per wake-up instead.
 */
static void pump(struct console *con)
{
	if (!flush_pending(con)) {
		watch_input(con, false);
		return;
	}
	if (con->eof) {
		watch_input(con, false);
		return;
	}
	if (con->pollable) {
		watch_input(con, true);
		return;
	}
	if (read_input(con) && flush_pending(con) && !con->eof)
		console_input_ready(con);	/* the next chunk, next turn */
}

static void on_input(void *opaque, u32 events)
{
	struct console *con = opaque;

	(void)events;
	read_input(con);
	if (!flush_pending(con) || con->eof)
		watch_input(con, false);
}

static void on_wake(void *opaque, u32 events)
{
	struct console *con = opaque;
	u64 v;

	(void)events;
	if (read(con->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn_once("console wake-up: %m");
	pump(con);
}

static void console_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct console *con = opaque;
	u64 out;

	pthread_mutex_lock(&con->out_lock);
	out = con->out_bytes;
	pthread_mutex_unlock(&con->out_lock);
	/* in_bytes belongs to the I/O thread: a snapshot may lag a little. */
	stats_emit(v, "console", "in_bytes", __atomic_load_n(&con->in_bytes, __ATOMIC_RELAXED));
	stats_emit(v, "console", "out_bytes", out);
}

static void console_destroy(void *opaque)
{
	struct console *con = opaque;

	watch_input(con, false);
	if (con->wake_fd >= 0) {
		event_loop_remove(con->vm->loop, con->wake_fd);
		close(con->wake_fd);
	}
	if (con->tty_raw)
		console_tty_restore();
	pthread_mutex_destroy(&con->out_lock);
	free(con);
}

/* Whether epoll accepts fd: regular files and /dev/null it refuses. */
static bool fd_pollable(struct event_loop *loop, int fd, void *opaque)
{
	if (event_loop_add(loop, fd, EPOLLIN, on_input, opaque))
		return false;
	event_loop_remove(loop, fd);
	return true;
}

struct console *console_create(struct vm *vm, const struct console_config *cfg,
			       const struct console_frontend *fe)
{
	struct console *con = calloc(1, sizeof(*con));
	struct vm_device dev;

	if (!con)
		return NULL;
	con->vm = vm;
	con->fe = *fe;
	con->in_fd = cfg->in_fd;
	con->out_fd = cfg->out_fd;
	con->escapes = cfg->escapes;
	con->eof = cfg->in_fd < 0;
	pthread_mutex_init(&con->out_lock, NULL);
	/* A reader that goes away must not kill Kiln: writes fail instead. */
	signal(SIGPIPE, SIG_IGN);

	con->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->wake_fd < 0 ||
	    event_loop_add(vm->loop, con->wake_fd, EPOLLIN, on_wake, con)) {
		pr_err("console: cannot set up its wake-up: %m");
		if (con->wake_fd >= 0)
			close(con->wake_fd);
		goto fail;
	}
	if (!con->eof)
		con->pollable = fd_pollable(vm->loop, con->in_fd, con);
	if (cfg->raw_tty && !con->eof && console_tty_make_raw(con->in_fd) == 0)
		con->tty_raw = true;

	dev = (struct vm_device){
		.name = "console", .opaque = con, .destroy = console_destroy,
		.report_stats = console_report_stats,
	};
	if (vm_add_device(vm, &dev)) {
		con->tty_raw = false;
		console_tty_restore();
		event_loop_remove(vm->loop, con->wake_fd);
		close(con->wake_fd);
		goto fail;
	}
	/* The first pump runs on the I/O thread, like every later one. */
	console_input_ready(con);
	return con;
fail:
	pthread_mutex_destroy(&con->out_lock);
	free(con);
	return NULL;
}

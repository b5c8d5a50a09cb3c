/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_CONSOLE_H
#define KILN_BACKEND_CONSOLE_H

#include "lib/types.h"

/*
 * The host side of the guest's serial console: input from a file
 * descriptor (stdin), read on the I/O thread, and output to another
 * (stdout). A terminal is put in raw mode and restored on every exit path.
 *
 * With escapes on, Ctrl-A starts a command, as in QEMU:
 *   Ctrl-A x   quit (the VM stops with VM_STOP_QUIT)
 *   Ctrl-A a   send a literal Ctrl-A (Ctrl-A Ctrl-A too)
 *   Ctrl-A h   print this list (also Ctrl-A ?)
 */

struct vm;
struct console;

#define CONSOLE_ESCAPE_CHAR 0x01	/* Ctrl-A */

/* The guest device that consumes the input. */
struct console_frontend {
	/*
	 * Offers host input; returns how many bytes the device took. When
	 * that is fewer than len, the device must call console_input_ready()
	 * once it has room: the console stops reading until then.
	 */
	size_t (*receive)(void *opaque, const u8 *buf, size_t len);
	void *opaque;
};

struct console_config {
	int in_fd;		/* -1 for no input */
	int out_fd;
	bool escapes;		/* Ctrl-A commands */
	bool raw_tty;		/* put in_fd in raw mode when it is a terminal */
};

/*
 * The console for stdin and stdout: escapes and raw mode when stdin is a
 * terminal; otherwise stdin is read as-is until its end.
 */
void console_config_stdio(struct console_config *cfg);

/* Watches cfg->in_fd on vm->loop and registers with the VM for teardown. */
struct console *console_create(struct vm *vm, const struct console_config *cfg,
			       const struct console_frontend *fe);

/* Guest output; any thread. Blocks while the output is full. */
void console_write(struct console *con, const u8 *buf, size_t len);

/* The frontend has room for input again; any thread. */
void console_input_ready(struct console *con);

#endif

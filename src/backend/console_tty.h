/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_CONSOLE_TTY_H
#define KILN_BACKEND_CONSOLE_TTY_H

/*
 * Raw mode for the terminal the console reads, undone on every way out:
 * console_tty_restore() at teardown, an atexit() hook, and a handler for
 * the signals that would otherwise kill Kiln with the terminal still raw.
 */

/*
 * Puts the terminal fd in raw mode: no echo, no line editing, no signals
 * from the keyboard (Ctrl-C goes to the guest), output processing kept so
 * that Kiln's own messages stay readable. Returns -1 if fd is no terminal.
 */
int console_tty_make_raw(int fd);

/* Restores the saved settings; idempotent and async-signal-safe. */
void console_tty_restore(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_UART_8250_H
#define KILN_DEV_UART_8250_H

#include "lib/types.h"

/*
 * A 16550A UART on the PIO bus: 8 registers, 16-byte FIFOs, its interrupt
 * line gated by MCR.OUT2 as on PCs. The far end of the serial line is a
 * backend (the host console, or a test).
 */

struct vm;
struct uart_8250;

#define UART_8250_NR_PORTS 8
#define UART_8250_FIFO_SIZE 16

struct uart_backend {
	/* Guest output, on a vCPU thread, outside the UART's lock. */
	void (*tx)(void *opaque, const u8 *buf, size_t len);
	/*
	 * The guest made room after uart_8250_receive() took less than it
	 * was offered: the backend may offer more. Any thread; must not call
	 * back into the UART.
	 */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

/* Claims [port, port + 8) on vm->pio_bus and registers with the VM. */
struct uart_8250 *uart_8250_create(struct vm *vm, u16 port, u32 gsi, const char *name);

void uart_8250_set_backend(struct uart_8250 *uart, const struct uart_backend *be);

/*
 * Host input for the receiver. Returns how many bytes fit in the RX FIFO;
 * when that is fewer than len, the backend is told through rx_ready() once
 * the guest has drained some. Nothing is dropped.
 */
size_t uart_8250_receive(struct uart_8250 *uart, const u8 *buf, size_t len);

#endif

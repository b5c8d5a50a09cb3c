// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/uart_8250.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define RBR (PORT_COM1 + 0)
#define THR (PORT_COM1 + 0)
#define DLL (PORT_COM1 + 0)
#define IER (PORT_COM1 + 1)
#define DLM (PORT_COM1 + 1)
#define IIR (PORT_COM1 + 2)
#define FCR (PORT_COM1 + 2)
#define LCR (PORT_COM1 + 3)
#define MCR (PORT_COM1 + 4)
#define LSR (PORT_COM1 + 5)
#define MSR (PORT_COM1 + 6)
#define SCR (PORT_COM1 + 7)

#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

struct fixture {
	struct vm *vm;
	struct uart_8250 *uart;
	u8 tx[256];
	unsigned int nr_tx;
	unsigned int rx_ready_calls;
};

static void test_tx(void *opaque, const u8 *buf, size_t len)
{
	struct fixture *f = opaque;

	for (size_t i = 0; i < len && f->nr_tx < sizeof(f->tx); i++)
		f->tx[f->nr_tx++] = buf[i];
}

static void test_rx_ready(void *opaque)
{
	struct fixture *f = opaque;

	f->rx_ready_calls++;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.vm = fake_vm_create(0);
	if (!f.vm)
		return -1;
	f.uart = uart_8250_create(f.vm, PORT_COM1, GSI_COM1, "com1");
	if (!f.uart)
		return -1;
	uart_8250_set_backend(f.uart, &(struct uart_backend){
		.tx = test_tx, .rx_ready = test_rx_ready, .opaque = &f,
	});
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vm_destroy(f->vm);
	return 0;
}

static void divisor_latch_and_ier(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	outb(vm, LCR, 0x83);		/* DLAB, 8N1 */
	outb(vm, DLL, 0x01);
	outb(vm, DLM, 0x02);
	assert_int_equal(inb(vm, DLL), 0x01);
	assert_int_equal(inb(vm, DLM), 0x02);
	assert_int_equal(inb(vm, LCR), 0x83);
	outb(vm, LCR, 0x03);
	/* With DLAB off the same ports are THR/RBR and IER, untouched. */
	assert_int_equal(inb(vm, IER), 0x00);
	outb(vm, IER, 0xff);
	assert_int_equal(inb(vm, IER), 0x0f);	/* a 16550A has four IER bits */
	outb(vm, LCR, 0x83);
	assert_int_equal(inb(vm, DLL), 0x01);
	assert_int_equal(inb(vm, DLM), 0x02);
	assert_int_equal(f->nr_tx, 0);		/* DLL writes never transmit */
	outb(vm, SCR, 0x5a);
	assert_int_equal(inb(vm, SCR), 0x5a);
}

static void thre_interrupt_as_linux_probes_it(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	assert_int_equal(inb(vm, LSR), 0x60);	/* THRE | TEMT */
	assert_int_equal(inb(vm, IIR), 0x01);	/* nothing pending, FIFO off */
	outb(vm, MCR, MCR_OUT2);

	outb(vm, IER, 0x02);
	assert_int_equal(inb(vm, IIR), 0x02);	/* THRE raised on enable */
	/* That IIR read acknowledged it. */
	assert_false(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, IIR), 0x01);
	/* Linux's UART_BUG_THRE test: re-enabling must re-assert. */
	outb(vm, IER, 0x00);
	outb(vm, IER, 0x02);
	assert_true(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, IIR), 0x02);

	/* A THR write sends the byte and the register empties again. */
	outb(vm, THR, 'k');
	assert_int_equal(f->nr_tx, 1);
	assert_int_equal(f->tx[0], 'k');
	assert_true(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, LSR) & 0x60, 0x60);
	assert_int_equal(inb(vm, IIR), 0x02);
	assert_false(fake_irq_level(GSI_COM1));
	/* Disabling THRI drops a pending THRE. */
	outb(vm, THR, 'i');
	outb(vm, IER, 0x00);
	assert_int_equal(inb(vm, IIR), 0x01);
	assert_false(fake_irq_level(GSI_COM1));
}

static void out2_gates_the_line(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	outb(vm, MCR, 0x03);			/* DTR | RTS, no OUT2 */
	outb(vm, IER, 0x01);
	assert_int_equal(uart_8250_receive(f->uart, (const u8 *)"x", 1), 1);
	assert_int_equal(inb(vm, IIR) & 0x0f, 0x04);	/* pending inside... */
	assert_false(fake_irq_level(GSI_COM1));		/* ...but not on the line */
	outb(vm, MCR, 0x03 | MCR_OUT2);
	assert_true(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, RBR), 'x');
	assert_false(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, LSR) & 0x01, 0);
}

static void fifo_fill_drain_and_backpressure(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	u8 in[20];

	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = 'a' + i;
	outb(vm, FCR, 0x07);			/* enable, clear both */
	assert_int_equal(inb(vm, IIR) & 0xc0, 0xc0);
	assert_int_equal(uart_8250_receive(f->uart, in, sizeof(in)), UART_8250_FIFO_SIZE);
	assert_int_equal(uart_8250_receive(f->uart, in + 16, 4), 0);
	assert_int_equal(inb(vm, LSR) & 0x03, 0x01);	/* data, no overrun */
	assert_int_equal(f->rx_ready_calls, 0);
	for (unsigned int i = 0; i < UART_8250_FIFO_SIZE; i++) {
		assert_int_equal(inb(vm, LSR) & 0x01, 0x01);
		assert_int_equal(inb(vm, RBR), 'a' + i);
		/* Told once, as soon as there is room again. */
		assert_int_equal(f->rx_ready_calls, 1);
	}
	assert_int_equal(inb(vm, LSR) & 0x01, 0);
	assert_int_equal(uart_8250_receive(f->uart, in + 16, 4), 4);
	assert_int_equal(inb(vm, RBR), 'q');
	/* FCR's clear bit empties the receiver. */
	outb(vm, FCR, 0x03);
	assert_int_equal(inb(vm, LSR) & 0x01, 0);

	/* With the FIFO off the receiver holds one byte, as a 16450. */
	outb(vm, FCR, 0x00);
	assert_int_equal(inb(vm, IIR) & 0xc0, 0);
	assert_int_equal(uart_8250_receive(f->uart, in, 3), 1);
	assert_int_equal(inb(vm, RBR), 'a');
}

static void rx_trigger_level_and_timeout(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	u8 in[14];

	memset(in, 'z', sizeof(in));
	outb(vm, FCR, 0xc1);			/* FIFO on, trigger at 14 */
	outb(vm, IER, 0x01);
	assert_int_equal(uart_8250_receive(f->uart, in, 5), 5);
	assert_int_equal(inb(vm, IIR), 0xcc);	/* below the trigger: timeout */
	assert_int_equal(uart_8250_receive(f->uart, in, 9), 9);
	assert_int_equal(inb(vm, IIR), 0xc4);	/* at the trigger: data available */
	for (int i = 0; i < 14; i++)
		inb(vm, RBR);
	assert_int_equal(inb(vm, IIR), 0xc1);
}

static void loopback_overrun_and_priority(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	/* Linux's autoconfig loopback test: MSR must show DCD and CTS. */
	assert_int_equal(inb(vm, MSR) & 0xf0, 0xb0);
	outb(vm, MCR, MCR_LOOP | 0x0a);		/* LOOP | OUT2 | RTS */
	assert_int_equal(inb(vm, MSR) & 0xf0, 0x90);
	outb(vm, MCR, MCR_LOOP | MCR_OUT2 | 0x07);
	assert_int_equal(inb(vm, MSR) & 0xf0, 0xf0);

	outb(vm, FCR, 0x07);
	for (int i = 0; i < 17; i++)
		outb(vm, THR, 0x40 + i);
	assert_int_equal(f->nr_tx, 0);		/* looped back, not sent */
	outb(vm, IER, 0x07);			/* RLS, RX, THRE */
	assert_int_equal(inb(vm, IIR), 0xc6);	/* the overrun comes first */
	assert_false(fake_irq_level(GSI_COM1));	/* loopback cuts the line */
	assert_int_equal(inb(vm, LSR) & 0x03, 0x03);
	assert_int_equal(inb(vm, LSR) & 0x02, 0);	/* read clears OE */
	assert_int_equal(inb(vm, IIR), 0xc4);	/* then received data */
	for (int i = 0; i < 16; i++)
		assert_int_equal(inb(vm, RBR), 0x40 + i);
	assert_int_equal(inb(vm, IIR), 0xc2);	/* then THRE */
	assert_int_equal(inb(vm, IIR), 0xc1);

	/* Host input waits while looped back, and flows after. */
	assert_int_equal(uart_8250_receive(f->uart, (const u8 *)"h", 1), 0);
	outb(vm, MCR, MCR_OUT2);
	assert_int_equal(f->rx_ready_calls, 1);
	assert_int_equal(uart_8250_receive(f->uart, (const u8 *)"h", 1), 1);
	assert_true(fake_irq_level(GSI_COM1));
	assert_int_equal(inb(vm, RBR), 'h');
}

static void msr_deltas_clear_on_read(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	outb(vm, MCR, MCR_LOOP | 0x02);		/* CTS up, DSR and DCD down */
	assert_int_equal(inb(vm, MSR), 0x10 | 0x02 | 0x08);	/* DDSR, DDCD */
	assert_int_equal(inb(vm, MSR), 0x10);
	outb(vm, IER, 0x08);
	outb(vm, MCR, MCR_LOOP | 0x06);		/* OUT1: RI rises */
	outb(vm, MCR, MCR_LOOP | 0x02);		/* RI falls: TERI */
	assert_int_equal(inb(vm, IIR), 0x00);	/* modem status pending */
	assert_int_equal(inb(vm, MSR) & 0x0f, 0x04);
	assert_int_equal(inb(vm, IIR), 0x01);
}

static void wide_access_reads_the_register(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	/* A word read of LSR sees LSR in the low byte and nothing above. */
	assert_int_equal(pio_in(vm, LSR, 2), 0x0060);
	/* Past the last register: not the UART's. */
	assert_int_equal(pio_in(vm, SCR, 2), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(divisor_latch_and_ier, setup, teardown),
		cmocka_unit_test_setup_teardown(thre_interrupt_as_linux_probes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(out2_gates_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_fill_drain_and_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_trigger_level_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(loopback_overrun_and_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(msr_deltas_clear_on_read, setup, teardown),
		cmocka_unit_test_setup_teardown(wide_access_reads_the_register, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

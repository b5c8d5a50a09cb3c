// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/i8042.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define DATA PORT_I8042_DATA
#define CMD PORT_I8042_CMD

#define STR_OBF		0x01
#define STR_AUXDATA	0x20
#define STR_TIMEOUT	0x40

static int setup(void **state)
{
	struct vm *vm = fake_vm_create(0);

	if (!vm || i8042_create(vm))
		return -1;
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	vm_destroy(*state);
	return 0;
}

/* One command with an optional parameter; returns the first reply or -1. */
static int command(struct vm *vm, u8 cmd, int param)
{
	outb(vm, CMD, cmd);
	if (param >= 0)
		outb(vm, DATA, param);
	if (!(inb(vm, CMD) & STR_OBF))
		return -1;
	return inb(vm, DATA);
}

/* Reads every byte waiting, as Linux's i8042_flush() does. */
static unsigned int drain(struct vm *vm, u8 *out, unsigned int max)
{
	unsigned int n = 0;

	while ((inb(vm, CMD) & STR_OBF) && n < max)
		out[n++] = inb(vm, DATA);
	return n;
}

static void controller_commands(void **state)
{
	struct vm *vm = *state;
	u8 buf[4];

	assert_int_equal(drain(vm, buf, sizeof(buf)), 0);	/* nothing pending */
	assert_int_equal(command(vm, 0xaa, -1), 0x55);		/* self test */
	assert_int_equal(inb(vm, CMD) & STR_OBF, 0);
	assert_int_equal(command(vm, 0xab, -1), 0x00);		/* keyboard port test */
	assert_int_equal(command(vm, 0xa9, -1), 0x00);		/* AUX port test */

	assert_int_equal(command(vm, 0x20, -1), 0x65);		/* as a BIOS leaves it */
	assert_int_equal(command(vm, 0x60, 0x47), -1);
	assert_int_equal(command(vm, 0x20, -1), 0x47);
	assert_int_equal(command(vm, 0xa7, -1), -1);		/* AUX off */
	assert_int_equal(command(vm, 0x20, -1) & 0x20, 0x20);
	assert_int_equal(command(vm, 0xa8, -1), -1);		/* AUX on */
	assert_int_equal(command(vm, 0x20, -1) & 0x20, 0);
	assert_int_equal(command(vm, 0xad, -1), -1);		/* keyboard off */
	assert_int_equal(command(vm, 0x20, -1) & 0x10, 0x10);
	assert_int_equal(command(vm, 0xae, -1), -1);
	assert_int_equal(command(vm, 0x20, -1) & 0x10, 0);

	/* The output port: not in reset, A20 on; writing it back is harmless. */
	assert_int_equal(command(vm, 0xd0, -1) & 0x03, 0x03);
	assert_int_equal(command(vm, 0xd1, 0x03), -1);
	assert_false(vm_stopping(vm));
	/* The last write went to 0x64: status bit 3. */
	outb(vm, CMD, 0xae);
	assert_int_equal(inb(vm, CMD) & 0x08, 0x08);

	/* 0x61 is the PIT's: the i8042 claims only 0x60 and 0x64. */
	assert_false(bus_read(&vm->pio_bus, 0x61, buf, 1));
}

static void aux_loopback_interrupts_on_irq12(void **state)
{
	struct vm *vm = *state;

	/*
	 * Linux's active-multiplexing probe loops bytes with the AUX port
	 * still disabled: the controller echoes them all, 0xa4 included, so
	 * no multiplexer is found.
	 */
	assert_int_equal(command(vm, 0x20, -1) & 0x20, 0x20);
	for (unsigned int i = 0; i < 3; i++) {
		static const u8 probe[] = { 0xf0, 0x56, 0xa4 };

		outb(vm, CMD, 0xd3);
		outb(vm, DATA, probe[i]);
		assert_int_equal(inb(vm, CMD) & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
		assert_int_equal(inb(vm, DATA), probe[i]);
	}
	assert_false(fake_irq_level(GSI_I8042_AUX));		/* AUXINT is off */

	assert_int_equal(command(vm, 0x60, 0x47), -1);		/* KBDINT | AUXINT */
	outb(vm, CMD, 0xa8);
	outb(vm, CMD, 0xd3);
	outb(vm, DATA, 0x5a);
	assert_int_equal(inb(vm, CMD) & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	assert_true(fake_irq_level(GSI_I8042_AUX));
	assert_false(fake_irq_level(GSI_I8042_KBD));
	assert_int_equal(inb(vm, DATA), 0x5a);
	assert_false(fake_irq_level(GSI_I8042_AUX));

	/* No mouse: a byte for it times out, reported as AUX data. */
	outb(vm, CMD, 0xd4);
	outb(vm, DATA, 0xf2);
	assert_int_equal(inb(vm, CMD) & (STR_OBF | STR_AUXDATA | STR_TIMEOUT),
			 STR_OBF | STR_AUXDATA | STR_TIMEOUT);
	assert_int_equal(inb(vm, DATA), 0xfe);
}

static void keyboard_acks_and_irq1_edges(void **state)
{
	struct vm *vm = *state;
	u8 buf[8];

	assert_int_equal(command(vm, 0x60, 0x45), -1);		/* KBDINT, XLATE */
	outb(vm, DATA, 0xff);					/* reset */
	assert_true(fake_irq_level(GSI_I8042_KBD));
	assert_int_equal(inb(vm, DATA), 0xfa);
	/* The next byte comes with a fresh edge. */
	assert_int_equal(fake_irqs.raises[GSI_I8042_KBD], 2);
	assert_int_equal(inb(vm, DATA), 0xaa);
	assert_false(fake_irq_level(GSI_I8042_KBD));

	outb(vm, DATA, 0xf2);					/* get ID, translated */
	assert_int_equal(drain(vm, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "\xfa\xab\x41", 3);
	outb(vm, DATA, 0xf0);					/* which scancode set? */
	outb(vm, DATA, 0x00);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "\xfa\xfa\x02", 3);
	outb(vm, DATA, 0xed);					/* LEDs off */
	outb(vm, DATA, 0x00);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\xfa\xfa", 2);
	outb(vm, DATA, 0xee);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0xee);
	outb(vm, DATA, 0x42);					/* nonsense: resend */
	assert_int_equal(drain(vm, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0xfe);

	/* With the keyboard port off its replies wait. */
	outb(vm, CMD, 0xad);
	outb(vm, DATA, 0xf4);
	assert_int_equal(inb(vm, CMD) & STR_OBF, 0);
	outb(vm, CMD, 0xae);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0xfa);
}

static void pulse_reset_line(void **state)
{
	struct vm *vm = *state;

	outb(vm, CMD, 0xff);					/* pulse nothing */
	assert_false(vm_stopping(vm));
	outb(vm, CMD, 0xfe);
	assert_true(vm_stopping(vm));
	assert_int_equal(vm->stop_reason, VM_STOP_RESET);
	assert_int_equal(vm->exit_code, EXIT_CODE_RESET);
}

static void output_port_reset(void **state)
{
	struct vm *vm = *state;

	outb(vm, CMD, 0xd1);
	outb(vm, DATA, 0x02);					/* bit 0 clear */
	assert_int_equal(vm->stop_reason, VM_STOP_RESET);
	assert_int_equal(vm->exit_code, EXIT_CODE_RESET);
}

static void ctrl_alt_del_is_typed(void **state)
{
	struct vm *vm = *state;
	u8 buf[16];

	/* The BIOS default translates: the guest reads set 1 codes on IRQ 1. */
	assert_int_equal(i8042_send_ctrl_alt_del(vm), 0);
	assert_true(fake_irqs.level[GSI_I8042_KBD]);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "\x1d\x38\xe0\x53\xe0\xd3\xb8\x9d", 8);

	/* Without translation, set 2: make codes, then F0-prefixed breaks. */
	assert_int_equal(command(vm, 0x20, -1) & 0x40, 0x40);
	outb(vm, CMD, 0x60);
	outb(vm, DATA, 0x05);					/* KBDINT, SYS */
	assert_int_equal(i8042_send_ctrl_alt_del(vm), 0);
	assert_int_equal(drain(vm, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "\x14\x11\xe0\x71\xe0\xf0\x71\xf0\x11\xf0\x14", 11);

	/* A full queue refuses the whole sequence rather than half of it. */
	outb(vm, CMD, 0xad);					/* keyboard port off */
	assert_int_equal(i8042_send_ctrl_alt_del(vm), 0);
	assert_int_equal(i8042_send_ctrl_alt_del(vm), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(controller_commands),
		T(aux_loopback_interrupts_on_irq12),
		T(keyboard_acks_and_irq1_edges),
		T(pulse_reset_line),
		T(output_port_reset),
		T(ctrl_alt_del_is_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

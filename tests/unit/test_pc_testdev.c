// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/pc_testdev.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

static struct vm *create(void)
{
	struct vm *vm = fake_vm_create(0);

	assert_non_null(vm);
	assert_int_equal(pc_testdev_create(vm), 0);
	return vm;
}

/* realmode.c's io tests: what goes out at any width comes back. */
static void scratch_register_round_trips(void **state)
{
	struct vm *vm = create();

	(void)state;
	pio_out(vm, PC_TESTDEV_PORT_SCRATCH, 0xff, 1);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 1), 0xff);
	pio_out(vm, PC_TESTDEV_PORT_SCRATCH, 0xf00f, 2);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 2), 0xf00f);
	pio_out(vm, PC_TESTDEV_PORT_SCRATCH, 0xfff0f0ff, 4);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 4), 0xfff0f0ff);
	/* A byte at 0xe2 is byte 2 of the register. */
	pio_out(vm, PC_TESTDEV_PORT_SCRATCH + 2, 0x12, 1);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 4), 0xff12f0ff);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH + 1, 2), 0x12f0);
	/* 0xe8 is the same register. */
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH_BYTE, 4), 0xff12f0ff);
	pio_out(vm, PC_TESTDEV_PORT_SCRATCH_BYTE + 3, 0x34, 1);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 4), 0x3412f0ff);
	vm_destroy(vm);
}

/* ioapic.c's set_irq_line(): port 0x2000 + n drives GSI n. */
static void irq_lines_follow_writes(void **state)
{
	struct vm *vm = create();

	(void)state;
	outb(vm, PC_TESTDEV_PORT_IRQ + 0x0e, 1);
	assert_true(fake_irq_level(0x0e));
	assert_false(fake_irq_level(0x0f));
	outb(vm, PC_TESTDEV_PORT_IRQ + 0x0e, 0);
	assert_false(fake_irq_level(0x0e));
	assert_int_equal(fake_irqs.raises[0x0e], 1);
	/* Any non-zero value raises; the last line is 23. */
	outb(vm, PC_TESTDEV_PORT_IRQ + 23, 0x80);
	assert_true(fake_irq_level(23));
	/* Port 0x2018 is past the lines: nothing happens. */
	outb(vm, PC_TESTDEV_PORT_IRQ + PC_TESTDEV_NR_IRQ_LINES, 1);
	assert_int_equal(fake_irqs.calls[24], 0);
	vm_destroy(vm);
}

static void flush_port_takes_addresses(void **state)
{
	struct vm *vm = create();

	(void)state;
	pio_out(vm, PC_TESTDEV_PORT_FLUSH, 0x12345000, 4);
	/* It is write-only, and the scratch register is untouched. */
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_FLUSH, 4), 0xffffffff);
	assert_int_equal(pio_in(vm, PC_TESTDEV_PORT_SCRATCH, 4), 0);
	assert_false(vm_stopping(vm));
	vm_destroy(vm);
}

/* The emulator test's MMIO page: what is written reads back, at any width. */
static void iomem_is_memory_behind_mmio(void **state)
{
	struct vm *vm = create();
	u64 v = 0x1122334455667788ULL, r = 0;
	u32 w;
	u8 b;

	(void)state;
	assert_true(bus_write(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + 0x100, &v, 8));
	assert_true(bus_read(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + 0x100, &r, 8));
	assert_int_equal(r, v);
	assert_true(bus_read(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + 0x102, &w, 4));
	assert_int_equal(w, 0x33445566);
	b = 0xab;
	assert_true(bus_write(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + 0x103, &b, 1));
	assert_true(bus_read(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + 0x100, &r, 8));
	assert_int_equal(r, 0x11223344ab667788ULL);
	/* The last 8 bytes are inside; an access running past the end is not. */
	assert_true(bus_write(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_SIZE - 8,
			      &v, 8));
	assert_false(bus_write(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_SIZE - 4,
			       &v, 8));
	assert_false(bus_read(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_SIZE, &r, 1));
	vm_destroy(vm);
}

static void ports_are_claimed_once(void **state)
{
	struct vm *vm = create();

	(void)state;
	/* A second instance cannot take the same ports. */
	assert_int_equal(pc_testdev_create(vm), -1);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scratch_register_round_trips),
		cmocka_unit_test(irq_lines_follow_writes),
		cmocka_unit_test(flush_port_takes_addresses),
		cmocka_unit_test(iomem_is_memory_behind_mmio),
		cmocka_unit_test(ports_are_claimed_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

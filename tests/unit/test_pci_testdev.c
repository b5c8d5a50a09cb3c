// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/pci.h"
#include "dev/pci_testdev.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

/* Finds the device as a guest would: config mechanism #1 over slots 0..31. */
static int find_slot(struct vm *vm)
{
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		pio_out(vm, PORT_PCI_CONFIG_ADDR, 0x80000000u | slot << 11, 4);
		if (pio_in(vm, PORT_PCI_CONFIG_DATA, 4) ==
		    (PCI_TESTDEV_DEVICE_ID << 16 | PCI_TESTDEV_VENDOR_ID))
			return (int)slot;
	}
	return -1;
}

static u32 cfg_read32(struct vm *vm, int slot, unsigned int reg)
{
	pio_out(vm, PORT_PCI_CONFIG_ADDR, 0x80000000u | (u32)slot << 11 | reg, 4);
	return pio_in(vm, PORT_PCI_CONFIG_DATA, 4);
}

/* Both BARs behind one interface, so each check runs on MMIO and on ports. */
struct bar_view {
	struct vm *vm;
	bool io;
	u64 base;
	u32 size;
};

static u32 view_read(const struct bar_view *b, u32 off, unsigned int len)
{
	u64 v = 0;

	if (b->io)
		return pio_in(b->vm, (u16)(b->base + off), len);
	assert_true(bus_read(&b->vm->mmio_bus, b->base + off, &v, len));
	return (u32)v;
}

static void view_write(const struct bar_view *b, u32 off, u32 v, unsigned int len)
{
	if (b->io)
		pio_out(b->vm, (u16)(b->base + off), v, len);
	else
		assert_true(bus_write(&b->vm->mmio_bus, b->base + off, &v, len));
}

static void view_name(const struct bar_view *b, char *buf, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		buf[i] = (char)view_read(b, PCI_TESTDEV_HDR_NAME + i, 1);
		if (!buf[i])
			break;
	}
	buf[i] = 0;
}

static struct vm *create(struct bar_view *mem, struct bar_view *io)
{
	struct vm *vm = fake_vm_create(0);
	int slot;
	u32 bar0, bar1;

	assert_non_null(vm);
	assert_int_equal(pci_root_create(vm), 0);
	assert_int_equal(pci_testdev_create(vm), 0);
	slot = find_slot(vm);
	assert_true(slot > 0);
	bar0 = cfg_read32(vm, slot, PCI_BASE_ADDRESS_0);
	bar1 = cfg_read32(vm, slot, PCI_BASE_ADDRESS_1);
	assert_int_equal(bar0 & PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_MEMORY);
	assert_int_equal(bar1 & PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_IO);
	*mem = (struct bar_view){ vm, false, bar0 & PCI_BASE_ADDRESS_MEM_MASK,
				  PCI_TESTDEV_MEM_SIZE };
	*io = (struct bar_view){ vm, true, bar1 & PCI_BASE_ADDRESS_IO_MASK, PCI_TESTDEV_IO_SIZE };
	assert_true(mem->base >= LAYOUT_PCI_MMIO_START);
	assert_true(io->base >= PCI_IO_BAR_START);
	return vm;
}

/* kvm-unit-tests' driver loop (lib/pci-testdev.c), with its expectations. */
static void tests_listed_and_counted(const struct bar_view *b, const char *kind)
{
	static const char *const names[] = { "no-eventfd", "wildcard-eventfd",
					     "datamatch-eventfd" };
	char name[64], want[64];

	for (u32 t = 0; t < PCI_TESTDEV_NR_TESTS; t++) {
		u32 off, data;

		view_write(b, PCI_TESTDEV_HDR_TEST, t, 1);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_TEST, 1), t);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_COUNT, 4), 0);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_WIDTH, 1), 1);
		off = view_read(b, PCI_TESTDEV_HDR_OFFSET, 4);
		data = view_read(b, PCI_TESTDEV_HDR_DATA, 4);
		/* The doorbell is in the BAR, past the header. */
		assert_true(off >= b->size / 2 && off < b->size);
		view_name(b, name, sizeof(name));
		snprintf(want, sizeof(want), "%s-%s", kind, names[t]);
		assert_string_equal(name, want);
		for (int i = 0; i < 16; i++)
			view_write(b, off, data, 1);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_COUNT, 4), 16);
		/* Writes elsewhere do not count. */
		view_write(b, off + 8, data, 1);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_COUNT, 4), 16);
		/* Selecting again starts from zero. */
		view_write(b, PCI_TESTDEV_HDR_TEST, t, 1);
		assert_int_equal(view_read(b, PCI_TESTDEV_HDR_COUNT, 4), 0);
	}
	/* Past the last test: the header reads as zeros, which ends the loop. */
	view_write(b, PCI_TESTDEV_HDR_TEST, PCI_TESTDEV_NR_TESTS, 1);
	assert_int_equal(view_read(b, PCI_TESTDEV_HDR_WIDTH, 1), 0);
	assert_int_equal(view_read(b, PCI_TESTDEV_HDR_COUNT, 4), 0);
	assert_int_equal(view_read(b, PCI_TESTDEV_HDR_NAME, 4), 0);
	/* A wide select of a huge number is out of range too. */
	view_write(b, PCI_TESTDEV_HDR_TEST, 0x100, 4);
	assert_int_equal(view_read(b, PCI_TESTDEV_HDR_WIDTH, 1), 0);
}

static void mmio_and_io_tests(void **state)
{
	struct bar_view mem, io;
	struct vm *vm = create(&mem, &io);

	(void)state;
	tests_listed_and_counted(&mem, "mmio");
	tests_listed_and_counted(&io, "portio");
	vm_destroy(vm);
}

static void datamatch_counts_only_its_value_and_width(void **state)
{
	struct bar_view mem, io;
	struct vm *vm = create(&mem, &io);
	u32 off, data;

	(void)state;
	view_write(&mem, PCI_TESTDEV_HDR_TEST, 2, 1);
	off = view_read(&mem, PCI_TESTDEV_HDR_OFFSET, 4);
	data = view_read(&mem, PCI_TESTDEV_HDR_DATA, 4);
	assert_int_equal(data, PCI_TESTDEV_DATAMATCH);
	view_write(&mem, off, data ^ 1, 1);
	assert_int_equal(view_read(&mem, PCI_TESTDEV_HDR_COUNT, 4), 0);
	view_write(&mem, off, data, 2);
	assert_int_equal(view_read(&mem, PCI_TESTDEV_HDR_COUNT, 4), 0);
	view_write(&mem, off, data, 1);
	assert_int_equal(view_read(&mem, PCI_TESTDEV_HDR_COUNT, 4), 1);
	/* The wildcard test takes any value. */
	view_write(&mem, PCI_TESTDEV_HDR_TEST, 1, 1);
	off = view_read(&mem, PCI_TESTDEV_HDR_OFFSET, 4);
	view_write(&mem, off, 0x12345678, 4);
	assert_int_equal(view_read(&mem, PCI_TESTDEV_HDR_COUNT, 4), 1);
	vm_destroy(vm);
}

static void bars_are_independent(void **state)
{
	struct bar_view mem, io;
	struct vm *vm = create(&mem, &io);

	(void)state;
	view_write(&mem, PCI_TESTDEV_HDR_TEST, 1, 1);
	view_write(&io, PCI_TESTDEV_HDR_TEST, 2, 1);
	assert_int_equal(view_read(&mem, PCI_TESTDEV_HDR_TEST, 1), 1);
	assert_int_equal(view_read(&io, PCI_TESTDEV_HDR_TEST, 1), 2);
	/* Nothing is selected at first: all zeros. */
	vm_destroy(vm);
	vm = create(&mem, &io);
	assert_int_equal(view_read(&io, PCI_TESTDEV_HDR_WIDTH, 4), 0);
	/* Reads anywhere in the BAR, any width, stay inside it. */
	for (u32 off = 0; off + 4 <= mem.size; off += 4)
		(void)view_read(&mem, off, 4);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mmio_and_io_tests),
		cmocka_unit_test(datamatch_counts_only_its_value_and_width),
		cmocka_unit_test(bars_are_independent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

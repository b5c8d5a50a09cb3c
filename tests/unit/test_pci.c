// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/pci.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define CFG_ADDR PORT_PCI_CONFIG_ADDR
#define CFG_DATA PORT_PCI_CONFIG_DATA

static u32 cfg_address(unsigned int bus, unsigned int slot, unsigned int fn, unsigned int reg)
{
	return 0x80000000U | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* Config reads and writes as a guest does them, through 0xcf8/0xcfc. */
static u32 cfg_read(struct vm *vm, unsigned int slot, unsigned int reg, unsigned int len)
{
	pio_out(vm, CFG_ADDR, cfg_address(0, slot, 0, reg), 4);
	return pio_in(vm, CFG_DATA + (reg & 3), len);
}

static void cfg_write(struct vm *vm, unsigned int slot, unsigned int reg, u32 v, unsigned int len)
{
	pio_out(vm, CFG_ADDR, cfg_address(0, slot, 0, reg), 4);
	pio_out(vm, CFG_DATA + (reg & 3), v, len);
}

/* A device whose BARs record what reaches them. */
struct test_bar {
	unsigned int reads, writes;
	u64 last_offset;
	u64 last_value;
};

static void bar_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct test_bar *b = opaque;

	b->reads++;
	b->last_offset = offset;
	bus_data_put(data, len, 0xa5a5a5a5a5a5a5a5ULL);
}

static void bar_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct test_bar *b = opaque;

	b->writes++;
	b->last_offset = offset;
	b->last_value = bus_data_get(data, len);
}

static const struct bus_device_ops bar_ops = { .read = bar_read, .write = bar_write };

struct fixture {
	struct vm *vm;
	struct pci_device dev;
	struct test_bar bars[PCI_STD_NUM_BARS];
};

static int setup(void **state)
{
	static struct fixture f;
	struct pci_device *d = &f.dev;

	memset(&f, 0, sizeof(f));
	f.vm = fake_vm_create(0);
	if (!f.vm || pci_root_create(f.vm))
		return -1;
	pci_device_init(d, "test", 0x1af4, 0x1041, 0x020000, 1);
	pci_device_set_subsystem(d, 0x1af4, 0x0001);
	if (pci_device_set_bar(d, 0, PCI_BAR_MEM32, 4096, false, &bar_ops, &f.bars[0]) ||
	    pci_device_set_bar(d, 2, PCI_BAR_MEM64, 1 * MiB, true, &bar_ops, &f.bars[2]) ||
	    pci_device_set_bar(d, 4, PCI_BAR_IO, 32, false, &bar_ops, &f.bars[4]) ||
	    pci_device_set_intx_pin(d, 1) ||
	    pci_register_device(f.vm, d))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_unregister_device(&f->dev);
	vm_destroy(f->vm);
	return 0;
}

static void host_bridge_identity(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	assert_ptr_not_equal(vm->pci, NULL);
	assert_int_equal(cfg_read(vm, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	assert_int_equal(cfg_read(vm, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(vm, 0, PCI_HEADER_TYPE, 1), 0);
	/* IDs and class are read-only. */
	cfg_write(vm, 0, PCI_VENDOR_ID, 0x12345678, 4);
	assert_int_equal(cfg_read(vm, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
}

static void config_access_widths_and_offsets(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 0, 0), 4);
	assert_int_equal(pio_in(vm, CFG_ADDR, 4), 0x80000000);
	assert_int_equal(pio_in(vm, CFG_DATA + 2, 2), PCI_HOST_DEVICE_ID);
	assert_int_equal(pio_in(vm, CFG_DATA + 1, 1), PCI_HOST_VENDOR_ID >> 8);
	assert_int_equal(pio_in(vm, CFG_DATA + 3, 1), PCI_HOST_DEVICE_ID >> 8);
	/* A word at 0xcfd: bytes 1 and 2 of the dword. */
	assert_int_equal(pio_in(vm, CFG_DATA + 1, 2),
			 (PCI_HOST_VENDOR_ID >> 8) | (PCI_HOST_DEVICE_ID & 0xff) << 8);
	/* Linux's type 1 probe pokes 0xcfb with a byte: not CONFIG_ADDRESS. */
	pio_out(vm, CFG_ADDR + 3, 0x01, 1);
	assert_int_equal(pio_in(vm, CFG_ADDR, 4), 0x80000000);
	/* The low two bits of CONFIG_ADDRESS read as 0... */
	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 0, 0) | 3, 4);
	assert_int_equal(pio_in(vm, CFG_ADDR, 4), 0x80000000);
	/* ...but select the byte, as kvm-unit-tests' pci_find_dev() expects. */
	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 0, 0) | PCI_DEVICE_ID, 4);
	assert_int_equal(pio_in(vm, CFG_DATA, 2), PCI_HOST_DEVICE_ID);
	/* Past the end of config space: all ones, nothing written. */
	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 0, 0xfc) | 3, 4);
	assert_int_equal(pio_in(vm, CFG_DATA + 3, 2), 0xffff);

	/* A byte write at an odd offset lands in that byte only. */
	cfg_write(vm, f->dev.slot, PCI_LATENCY_TIMER, 0x40, 1);
	assert_int_equal(cfg_read(vm, f->dev.slot, PCI_CACHE_LINE_SIZE, 4) & 0xffff00ff, 0);
	assert_int_equal(cfg_read(vm, f->dev.slot, PCI_LATENCY_TIMER, 1), 0x40);
}

static void enable_bit_and_absent_functions(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 0, 0) & ~0x80000000U, 4);
	assert_int_equal(pio_in(vm, CFG_DATA, 4), 0xffffffff);
	pio_out(vm, CFG_DATA, 0, 4);	/* dropped */
	assert_int_equal(cfg_read(vm, 0, 0, 4), PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);

	assert_int_equal(cfg_read(vm, 31, 0, 4), 0xffffffff);	/* empty slot */
	pio_out(vm, CFG_ADDR, cfg_address(0, 0, 1, 0), 4);	/* function 1 */
	assert_int_equal(pio_in(vm, CFG_DATA, 4), 0xffffffff);
	pio_out(vm, CFG_ADDR, cfg_address(1, 0, 0, 0), 4);	/* bus 1 */
	assert_int_equal(pio_in(vm, CFG_DATA, 2), 0xffff);
}

static void firmware_assignment(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	int slot = f->dev.slot;
	u32 bar0 = cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4);
	u64 bar2 = cfg_read(vm, slot, PCI_BASE_ADDRESS_2, 4) |
		   (u64)cfg_read(vm, slot, PCI_BASE_ADDRESS_3, 4) << 32;
	u32 bar4 = cfg_read(vm, slot, PCI_BASE_ADDRESS_4, 4);
	u32 v;

	assert_true(slot > 0);
	assert_int_equal(bar0 & 0xf, 0);
	assert_true(bar0 >= LAYOUT_PCI_MMIO_START && bar0 + 4096 <= LAYOUT_PCI_MMIO_END);
	assert_int_equal(bar0 % 4096, 0);
	assert_int_equal(bar2 & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	bar2 &= ~0xfULL;
	assert_int_equal(bar2 % MiB, 0);
	assert_true(bar2 >= LAYOUT_PCI_MMIO_START && bar2 + MiB <= LAYOUT_PCI_MMIO_END);
	assert_int_equal(bar4 & 3, PCI_BASE_ADDRESS_SPACE_IO);
	bar4 &= ~3U;
	assert_true(bar4 >= PCI_IO_BAR_START && bar4 % 32 == 0);
	assert_int_equal(cfg_read(vm, slot, PCI_COMMAND, 2) & 3, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);

	/* Each BAR decodes where it was put, with offsets from its start. */
	assert_true(bus_read(&vm->mmio_bus, bar0 + 0x10, &v, 4));
	assert_int_equal(f->bars[0].last_offset, 0x10);
	assert_true(bus_write(&vm->mmio_bus, bar2 + MiB - 8, &v, 4));
	assert_int_equal(f->bars[2].last_offset, MiB - 8);
	pio_out(vm, bar4 + 4, 0x1234, 2);
	assert_int_equal(f->bars[4].writes, 1);
	assert_int_equal(f->bars[4].last_offset, 4);
	assert_int_equal(f->bars[4].last_value, 0x1234);
	assert_int_equal(pio_in(vm, bar4 + 30, 2), 0xa5a5);
	assert_int_equal(pio_in(vm, bar4 + 32, 2), 0xffff);	/* just past it */
}

static void bar_sizing(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	int slot = f->dev.slot;
	u32 saved0 = cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4);

	cfg_write(vm, slot, PCI_COMMAND, 0, 2);	/* as Linux: decode off first */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
	cfg_write(vm, slot, PCI_BASE_ADDRESS_0, saved0, 4);
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4), saved0);

	cfg_write(vm, slot, PCI_BASE_ADDRESS_2, 0xffffffff, 4);
	cfg_write(vm, slot, PCI_BASE_ADDRESS_3, 0xffffffff, 4);
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_2, 4), 0xfff0000c);
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_3, 4), 0xffffffff);

	cfg_write(vm, slot, PCI_BASE_ADDRESS_4, 0xffffffff, 4);
	/* A 16-bit I/O decoder: the upper half stays 0. */
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_4, 4), 0x0000ffe1);
	/* Unimplemented BARs and the ROM BAR size to 0. */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cfg_read(vm, slot, PCI_BASE_ADDRESS_1, 4), 0);
	cfg_write(vm, slot, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(cfg_read(vm, slot, PCI_ROM_ADDRESS, 4), 0);
}

static void bar_relocation_and_decode_enable(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	int slot = f->dev.slot;
	u32 old0 = cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4);
	u32 old4 = cfg_read(vm, slot, PCI_BASE_ADDRESS_4, 4) & ~3U;
	u32 v = 0;

	/* COMMAND.MEM off: the range goes away. */
	cfg_write(vm, slot, PCI_COMMAND, PCI_COMMAND_IO, 2);
	assert_false(bus_read(&vm->mmio_bus, old0, &v, 4));
	assert_int_equal(f->bars[0].reads, 0);
	/* Moved while off, then on: only the new place decodes. */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_0, 0xd0000000, 4);
	cfg_write(vm, slot, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	assert_false(bus_read(&vm->mmio_bus, old0, &v, 4));
	assert_true(bus_read(&vm->mmio_bus, 0xd0000ffc, &v, 4));
	assert_int_equal(f->bars[0].last_offset, 0xffc);
	/* Moved while decoding: re-registered at once. */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_0, 0xd0100000, 4);
	assert_false(bus_read(&vm->mmio_bus, 0xd0000000, &v, 4));
	assert_true(bus_read(&vm->mmio_bus, 0xd0100000, &v, 4));

	/* The 64-bit BAR moves above 4 GiB. */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_2, 0x00000000, 4);
	cfg_write(vm, slot, PCI_BASE_ADDRESS_3, 0x00000010, 4);
	assert_true(bus_read(&vm->mmio_bus, 0x1000000000ULL + 64, &v, 4));
	assert_int_equal(f->bars[2].last_offset, 64);
	assert_int_equal(pci_bar_address(&f->dev, 2), 0x1000000000ULL);

	/* I/O: moved inside the window, then switched off. */
	cfg_write(vm, slot, PCI_BASE_ADDRESS_4, 0xd000, 4);
	assert_int_equal(pio_in(vm, old4, 2), 0xffff);
	assert_int_equal(pio_in(vm, 0xd002, 2), 0xa5a5);
	assert_int_equal(f->bars[4].last_offset, 2);
	cfg_write(vm, slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(pio_in(vm, 0xd002, 2), 0xffff);
	assert_int_equal(f->bars[4].reads, 1);
}

static void capability_list(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	struct pci_device d;
	int vndr, msix, slot;
	u8 ids[4] = { 0 };
	unsigned int n = 0;

	pci_device_init(&d, "caps", 0x1af4, 0x1042, 0x010000, 1);
	vndr = pci_add_capability(&d, PCI_CAP_ID_VNDR, 14);
	msix = pci_add_capability(&d, PCI_CAP_ID_MSIX, 12);
	assert_int_equal(vndr, PCI_CAP_START);
	assert_int_equal(msix, PCI_CAP_START + 16);	/* dword-aligned */
	d.config[vndr + 2] = 14;			/* cap_len, as virtio's */
	pci_config_set_wmask(&d, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(pci_add_capability(&d, 0x01, 200), -1);	/* no room */
	assert_int_equal(pci_register_device(vm, &d), 0);
	slot = d.slot;

	/* Walked as a guest walks it. */
	assert_true(cfg_read(vm, slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (u8 off = cfg_read(vm, slot, PCI_CAPABILITY_LIST, 1); off && n < 4;
	     off = cfg_read(vm, slot, off + PCI_CAP_LIST_NEXT, 1))
		ids[n++] = cfg_read(vm, slot, off, 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(vm, slot, vndr + 2, 1), 14);
	assert_int_equal(pci_find_capability(&d, PCI_CAP_ID_MSIX), msix);
	assert_int_equal(pci_find_capability(&d, PCI_CAP_ID_MSI), 0);
	/* Only the bits the device allowed are writable. */
	cfg_write(vm, slot, msix + PCI_MSIX_FLAGS, 0xffff, 2);
	assert_int_equal(cfg_read(vm, slot, msix + PCI_MSIX_FLAGS, 2), PCI_MSIX_FLAGS_ENABLE);
	cfg_write(vm, slot, PCI_CAPABILITY_LIST, 0x80, 1);
	assert_int_equal(cfg_read(vm, slot, PCI_CAPABILITY_LIST, 1), vndr);
	pci_unregister_device(&d);
	assert_int_equal(cfg_read(vm, slot, 0, 4), 0xffffffff);
}

static void intx_routing_and_sharing(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	int slot = f->dev.slot;
	u32 gsi = GSI_PCI_INTX(slot, 1);
	struct pci_device other;

	assert_int_equal(cfg_read(vm, slot, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_read(vm, slot, PCI_INTERRUPT_LINE, 1), gsi);

	pci_set_intx(&f->dev, true);
	assert_true(fake_irq_level(gsi));
	assert_true(cfg_read(vm, slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* INTX_DISABLE masks the line but not the status bit. */
	cfg_write(vm, slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
		  PCI_COMMAND_INTX_DISABLE, 2);
	assert_false(fake_irq_level(gsi));
	assert_true(cfg_read(vm, slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(vm, slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_true(fake_irq_level(gsi));

	/* Four slots on, the same pin swizzles onto the same GSI. */
	pci_device_init(&other, "other", 0x1af4, 0x1043, 0x078000, 1);
	other.slot = slot + 4;
	assert_int_equal(pci_device_set_intx_pin(&other, 1), 0);
	assert_int_equal(pci_register_device(vm, &other), 0);
	assert_int_equal(cfg_read(vm, other.slot, PCI_INTERRUPT_LINE, 1), gsi);
	pci_set_intx(&other, true);
	pci_set_intx(&f->dev, false);
	assert_true(fake_irq_level(gsi));	/* still held by the other */
	assert_false(cfg_read(vm, slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&other, false);
	assert_false(fake_irq_level(gsi));
	/* A slot already taken is refused. */
	assert_int_equal(pci_register_device(vm, &other), -1);
	pci_unregister_device(&other);
}

/* A device that owns config dword 0x40 and counts writes to 0x44. */
static unsigned int hook_writes;

static u32 hook_read(struct pci_device *dev, u32 off, unsigned int len)
{
	if (off >= 0x40 && off < 0x44)
		return 0xdeadbeefU >> (8 * (off - 0x40));
	return pci_default_config_read(dev, off, len);
}

static void hook_write(struct pci_device *dev, u32 off, u32 v, unsigned int len)
{
	if (off == 0x44)
		hook_writes++;
	pci_default_config_write(dev, off, v, len);
}

static const struct pci_device_ops hook_ops = {
	.config_read = hook_read,
	.config_write = hook_write,
};

static void config_hooks(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;
	struct pci_device d;

	pci_device_init(&d, "hooked", 0x1af4, 0x1044, 0x050000, 1);
	d.ops = &hook_ops;
	assert_int_equal(pci_register_device(vm, &d), 0);
	assert_int_equal(cfg_read(vm, d.slot, 0x40, 4), 0xdeadbeef);
	assert_int_equal(cfg_read(vm, d.slot, 0x42, 2), 0xdead);
	assert_int_equal(cfg_read(vm, d.slot, PCI_DEVICE_ID, 2), 0x1044);
	hook_writes = 0;
	cfg_write(vm, d.slot, 0x44, 1, 4);
	assert_int_equal(hook_writes, 1);
	pci_unregister_device(&d);
}

static void reset_control_register(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = f->vm;

	outb(vm, PORT_PCI_RESET, 0x02);		/* select a hard reset: no reset yet */
	assert_false(vm_stopping(vm));
	assert_int_equal(inb(vm, PORT_PCI_RESET), 0x02);
	outb(vm, PORT_PCI_RESET, ACPI_RESET_VALUE);
	assert_true(vm_stopping(vm));
	assert_int_equal(vm->stop_reason, VM_STOP_RESET);
	assert_int_equal(vm->exit_code, EXIT_CODE_RESET);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(host_bridge_identity),
		T(config_access_widths_and_offsets),
		T(enable_bit_and_absent_functions),
		T(firmware_assignment),
		T(bar_sizing),
		T(bar_relocation_and_decode_enable),
		T(capability_list),
		T(intx_routing_and_sharing),
		T(config_hooks),
		T(reset_control_register),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

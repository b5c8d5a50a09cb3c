// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/fw_cfg.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

#define SEL PORT_FW_CFG
#define DATA (PORT_FW_CFG + 1)

/* What kvm-unit-tests' fwcfg_get_u() does: select, then N byte reads. */
static u64 read_item(struct vm *vm, u16 key, unsigned int bytes)
{
	u64 v = 0;

	pio_out(vm, SEL, key, 2);
	for (unsigned int i = 0; i < bytes; i++)
		v |= (u64)inb(vm, DATA) << (8 * i);
	return v;
}

static struct vm *create(u64 mem, unsigned int cpus)
{
	struct vm *vm = fake_vm_create(0);
	static struct vm_config cfg;

	assert_non_null(vm);
	cfg = *vm->cfg;
	cfg.mem_size = mem;
	cfg.nr_cpus = cpus;
	vm->cfg = &cfg;
	assert_int_equal(fw_cfg_create(vm), 0);
	return vm;
}

static void machine_items(void **state)
{
	struct vm *vm = create(3 * GiB + 4 * MiB, 7);

	(void)state;
	assert_int_equal(read_item(vm, FW_CFG_SIGNATURE, 4), 0x554d4551);	/* "QEMU" */
	assert_int_equal(read_item(vm, FW_CFG_ID, 4), FW_CFG_VERSION_TRADITIONAL);
	assert_int_equal(read_item(vm, FW_CFG_RAM_SIZE, 8), 3 * GiB + 4 * MiB);
	assert_int_equal(read_item(vm, FW_CFG_NB_CPUS, 2), 7);
	assert_int_equal(read_item(vm, FW_CFG_MAX_CPUS, 2), 7);
	assert_int_equal(read_item(vm, FW_CFG_IRQ0_OVERRIDE, 4), 1);
	vm_destroy(vm);
}

static void unknown_keys_and_past_the_end_read_zero(void **state)
{
	struct vm *vm = create(512 * MiB, 1);

	(void)state;
	/* kvm-unit-tests reads FW_CFG_MAX_RAM (0x11) and wants 0: no limit. */
	assert_int_equal(read_item(vm, 0x11, 8), 0);
	assert_int_equal(read_item(vm, 0xffff, 8), 0);
	/* The 2-byte NB_CPUS item, read as 8 bytes, ends in zeros. */
	assert_int_equal(read_item(vm, FW_CFG_NB_CPUS, 8), 1);
	/* Reading on continues to return zeros, not the next item. */
	assert_int_equal(inb(vm, DATA), 0);
	vm_destroy(vm);
}

static void selecting_restarts_and_streams(void **state)
{
	struct vm *vm = create(512 * MiB, 2);

	(void)state;
	pio_out(vm, SEL, FW_CFG_SIGNATURE, 2);
	assert_int_equal(inb(vm, DATA), 'Q');
	assert_int_equal(inb(vm, DATA), 'E');
	/* Selecting again starts over. */
	pio_out(vm, SEL, FW_CFG_SIGNATURE, 2);
	assert_int_equal(inb(vm, DATA), 'Q');
	/* As on QEMU, a byte read of the selector port also streams data. */
	assert_int_equal(inb(vm, SEL), 'E');
	vm_destroy(vm);
}

static void odd_accesses_change_nothing(void **state)
{
	struct vm *vm = create(512 * MiB, 4);

	(void)state;
	pio_out(vm, SEL, FW_CFG_NB_CPUS, 2);
	/* A byte write to the selector, data writes and wide writes: ignored. */
	outb(vm, SEL, FW_CFG_SIGNATURE);
	outb(vm, DATA, 0x55);
	pio_out(vm, SEL, FW_CFG_SIGNATURE, 4);
	assert_int_equal(inb(vm, DATA), 4);
	/* Wide reads are not the data port: all ones, and nothing consumed. */
	assert_int_equal(pio_in(vm, SEL, 2), 0xffff);
	assert_int_equal(inb(vm, DATA), 0);
	/* Only 0x510-0x511 are fw_cfg's. */
	assert_int_equal(inb(vm, PORT_FW_CFG + 2), 0xff);
	vm_destroy(vm);
}

static void table_rejects_duplicates(void **state)
{
	struct fw_cfg *fw = fw_cfg_new();
	u8 b = 1;

	(void)state;
	assert_non_null(fw);
	assert_int_equal(fw_cfg_add(fw, 0x42, &b, 1), 0);
	assert_int_equal(fw_cfg_add(fw, 0x42, &b, 1), -1);
	fw_cfg_select(fw, 0x42);
	assert_int_equal(fw_cfg_next_byte(fw), 1);
	assert_int_equal(fw_cfg_next_byte(fw), 0);
	fw_cfg_free(fw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(machine_items),
		cmocka_unit_test(unknown_keys_and_past_the_end_read_zero),
		cmocka_unit_test(selecting_restarts_and_streams),
		cmocka_unit_test(odd_accesses_change_nothing),
		cmocka_unit_test(table_rejects_duplicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

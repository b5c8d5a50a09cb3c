// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/fw_cfg.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"
#include "snap_section_io.h"

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

/* The "fw-cfg" section: flag (u8), selector (u16), offset (u32). */
#define SECTION_LEN 7

static void put_state(u8 *b, u8 selected, u16 selector, u32 offset)
{
	b[0] = selected;
	for (unsigned int i = 0; i < 2; i++)
		b[1 + i] = selector >> (8 * i);
	for (unsigned int i = 0; i < 4; i++)
		b[3 + i] = offset >> (8 * i);
}

/*
 * A new VM of the same shape with from's "fw-cfg" section loaded. It has
 * the signature selected before, so that a load that did nothing shows.
 */
static struct vm *restored_copy(struct vm *from)
{
	struct vm *to = create(from->cfg->mem_size, from->cfg->nr_cpus);
	struct snap_writer w;
	char why[SECTION_WHY_MAX];

	section_save(from, "fw-cfg", &w);
	assert_int_equal(w.len, SECTION_LEN);
	pio_out(to, SEL, FW_CFG_SIGNATURE, 2);
	if (section_load(to, "fw-cfg", w.buf, w.len, why))
		fail_msg("the saved state is refused: %s", why);
	snap_writer_free(&w);
	return to;
}

/* A guest stopped halfway through an item reads on from there after a restore. */
static void snapshot_keeps_selector_and_offset(void **state)
{
	struct vm *vm = create(3 * GiB + 4 * MiB, 7), *to;

	(void)state;
	pio_out(vm, SEL, FW_CFG_RAM_SIZE, 2);
	assert_int_equal(inb(vm, DATA), 0x00);
	assert_int_equal(inb(vm, DATA), 0x00);
	assert_int_equal(inb(vm, DATA), 0x40);
	to = restored_copy(vm);
	/* 0xc0400000: the bytes after the first three. */
	assert_int_equal(inb(to, DATA), 0xc0);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(inb(to, DATA), 0);
	vm_destroy(to);
	vm_destroy(vm);
}

/* Nothing selected, an unknown key, an item read to its end: each reads zeros after. */
static void snapshot_round_trips_edge_states(void **state)
{
	struct vm *vm = create(512 * MiB, 2), *to;

	(void)state;
	to = restored_copy(vm);
	assert_int_equal(inb(to, DATA), 0);
	vm_destroy(to);
	pio_out(vm, SEL, 0x1234, 2);
	to = restored_copy(vm);
	assert_int_equal(inb(to, DATA), 0);
	vm_destroy(to);
	assert_int_equal(read_item(vm, FW_CFG_NB_CPUS, 2), 2);
	to = restored_copy(vm);
	assert_int_equal(inb(to, DATA), 0);
	vm_destroy(to);
	vm_destroy(vm);
}

/* Values behind a valid CRC that no guest could have left: refused, the state kept. */
static void snapshot_refuses_bad_state(void **state)
{
	struct vm *vm = create(512 * MiB, 2);
	u8 b[SECTION_LEN + 1];

	(void)state;
	pio_out(vm, SEL, FW_CFG_SIGNATURE, 2);
	assert_int_equal(inb(vm, DATA), 'Q');
	/* Past the end of the 4-byte signature; exactly at it is fine. */
	put_state(b, 1, FW_CFG_SIGNATURE, 5);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN,
			"the read offset 5 is past the end of item 0 (4 bytes)");
	put_state(b, 1, FW_CFG_SIGNATURE, 0xffffffff);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN, "the read offset 4294967295 is past");
	/* A key this VM does not hold has no bytes to be inside of. */
	put_state(b, 1, 0x4242, 1);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN, "past the end of item 0x4242 (0 bytes)");
	put_state(b, 0, FW_CFG_RAM_SIZE, 0);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN, "no key is selected, yet the selector is 0x3");
	put_state(b, 0, 0, 2);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN, "no key is selected, yet");
	put_state(b, 2, FW_CFG_SIGNATURE, 0);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN, "whether a key is selected is 2");
	/* Short and long sections. */
	put_state(b, 1, FW_CFG_SIGNATURE, 1);
	section_refuses(vm, "fw-cfg", b, SECTION_LEN - 1, "the section ends inside the read offset");
	b[SECTION_LEN] = 0;
	section_refuses(vm, "fw-cfg", b, SECTION_LEN + 1, "1 unexpected bytes after the last field");
	/* None of that changed where the guest is. */
	assert_int_equal(inb(vm, DATA), 'E');
	/* The offset at the item's end is a state a guest reaches. */
	{
		char why[SECTION_WHY_MAX];

		put_state(b, 1, FW_CFG_SIGNATURE, 4);
		assert_int_equal(section_load(vm, "fw-cfg", b, SECTION_LEN, why), 0);
		assert_int_equal(inb(vm, DATA), 0);
	}
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(machine_items),
		cmocka_unit_test(unknown_keys_and_past_the_end_read_zero),
		cmocka_unit_test(selecting_restarts_and_streams),
		cmocka_unit_test(odd_accesses_change_nothing),
		cmocka_unit_test(table_rejects_duplicates),
		cmocka_unit_test(snapshot_keeps_selector_and_offset),
		cmocka_unit_test(snapshot_round_trips_edge_states),
		cmocka_unit_test(snapshot_refuses_bad_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

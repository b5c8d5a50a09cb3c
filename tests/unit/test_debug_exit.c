// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/debug_exit.h"
#include "dev_fake_vm.h"
#include "machine/layout.h"

static void exit_code_is_value_shifted_with_one(void **state)
{
	static const struct {
		u16 port;
		u32 value;
		unsigned int len;
		int code;
	} cases[] = {
		{ PORT_DEBUG_EXIT, 0x10, 1, 0x21 },
		{ PORT_DEBUG_EXIT, 0x00, 4, 0x01 },
		{ PORT_DEBUG_EXIT + 2, 0x31, 2, 0x63 },
		{ PORT_DEBUG_EXIT, 0x12345678, 4, 0x2468acf1 },
	};

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vm *vm = fake_vm_create(0);

		assert_non_null(vm);
		assert_int_equal(debug_exit_create(vm), 0);
		assert_false(vm_stopping(vm));
		pio_out(vm, cases[i].port, cases[i].value, cases[i].len);
		assert_int_equal(vm->stop_reason, VM_STOP_DEBUG_EXIT);
		assert_int_equal(vm->exit_code, cases[i].code);
		vm_destroy(vm);
	}
}

static void reads_do_not_stop(void **state)
{
	struct vm *vm = fake_vm_create(0);

	(void)state;
	assert_non_null(vm);
	assert_int_equal(debug_exit_create(vm), 0);
	assert_int_equal(pio_in(vm, PORT_DEBUG_EXIT, 1), 0xff);
	assert_false(vm_stopping(vm));
	/* Only 0xf4-0xf7 are the device's. */
	pio_out(vm, PORT_DEBUG_EXIT + 4, 1, 1);
	assert_false(vm_stopping(vm));
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_code_is_value_shifted_with_one),
		cmocka_unit_test(reads_do_not_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

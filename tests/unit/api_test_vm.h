/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_API_TEST_VM_H
#define KILN_TESTS_API_TEST_VM_H

/*
 * A machine with no vCPUs and no devices, for the API tests: enough for
 * every handler (state, stats, pause with nothing to park, stop) without
 * an engine or a guest.
 */

#include <stdlib.h>

#include "machine/event_loop.h"
#include "machine/vm.h"

static const struct engine_ops api_test_engine = { .name = "test" };

static inline void api_test_vm_destroy(struct vm *vm)
{
	vm_skeleton_release(vm);
	free(vm);
}

static inline struct vm *api_test_vm_create(void)
{
	static struct vm_config cfg;
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	cfg.kernel_path = "/boot/test-kernel";
	cfg.cmdline = "console=ttyS0";
	cfg.accel = "kvm";
	cfg.nr_cpus = 2;
	cfg.mem_size = 256ULL << 20;
	vm->engine = &api_test_engine;
	/* The size the handlers report; no RAM is mapped behind it. */
	vm->mem.ram_size = cfg.mem_size;
	if (vm_skeleton_init(vm, &cfg)) {
		api_test_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

#endif

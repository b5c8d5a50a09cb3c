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

static inline struct vm *api_test_vm_create(void)
{
	static struct vm_config cfg;
	struct vm *vm = calloc(1, sizeof(*vm));

	cfg.kernel_path = "/boot/test-kernel";
	cfg.cmdline = "console=ttyS0";
	cfg.accel = "kvm";
	cfg.nr_cpus = 2;
	cfg.mem_size = 256ULL << 20;
	vm->cfg = &cfg;
	vm->engine = &api_test_engine;
	vm->mem.ram_size = cfg.mem_size;
	vm->loop = event_loop_create();
	vm->signal_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	return vm;
}

static inline void api_test_vm_destroy(struct vm *vm)
{
	event_loop_destroy(vm->loop);
	free(vm);
}

#endif

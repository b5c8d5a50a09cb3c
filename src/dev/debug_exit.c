// SPDX-License-Identifier: Apache-2.0
#include "dev/debug_exit.h"

#include <limits.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/layout.h"
#include "machine/vm.h"

#define DEBUG_EXIT_NR_PORTS 4

static void debug_exit_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	bus_data_put(data, len, ~0ULL);	/* write-only, like nothing there */
}

static void debug_exit_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct vm *vm = opaque;
	u64 v = bus_data_get(data, len);

	(void)offset;
	pr_debug("debug-exit: the guest wrote 0x%llx", (unsigned long long)v);
	/* The process keeps only the low byte; the full value stays in an int. */
	vm_request_stop(vm, VM_STOP_DEBUG_EXIT, (int)(((v << 1) | 1) & INT_MAX));
}

static const struct bus_device_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

static void debug_exit_destroy(void *opaque)
{
	struct vm *vm = opaque;

	bus_unregister(&vm->pio_bus, PORT_DEBUG_EXIT);
}

int debug_exit_create(struct vm *vm)
{
	struct vm_device dev = {
		.name = "debug-exit", .opaque = vm, .destroy = debug_exit_destroy,
	};

	if (bus_register(&vm->pio_bus, PORT_DEBUG_EXIT, DEBUG_EXIT_NR_PORTS,
			 &debug_exit_ops, vm, "debug-exit")) {
		pr_err("debug-exit: ports 0x%x-0x%x are taken", PORT_DEBUG_EXIT,
		       PORT_DEBUG_EXIT + DEBUG_EXIT_NR_PORTS - 1);
		return -1;
	}
	if (vm_add_device(vm, &dev)) {
		bus_unregister(&vm->pio_bus, PORT_DEBUG_EXIT);
		return -1;
	}
	return 0;
}

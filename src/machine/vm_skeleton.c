// SPDX-License-Identifier: Apache-2.0
/*
 * The parts of a struct vm that come before any engine or device: the one
 * place they are set up and torn down, for vm_create() and for every test
 * that builds a machine by hand, so that a field the machine starts to
 * need is set in the tests too.
 */
#include "machine/vm.h"

#include <inttypes.h>
#include <unistd.h>

#include "lib/log.h"
#include "machine/event_loop.h"
#include "mem/dirty_dma.h"
#include "mem/ram.h"

int vm_skeleton_init(struct vm *vm, const struct vm_config *cfg)
{
	vm->cfg = cfg;
	vm->signal_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio_bus, "pio");
	bus_init(&vm->mmio_bus, "mmio");
	vm->loop = event_loop_create();
	return vm->loop ? 0 : -1;
}

int vm_skeleton_add_ram(struct vm *vm)
{
	u64 size = vm->cfg->mem_size;
	u8 *ram = ram_create(size, &vm->cfg->ram);

	if (!ram)
		return -1;
	vm->mem.base = ram;
	vm->mem.map_size = size;
	if (memmap_build(&vm->memmap, &vm->mem, ram, size)) {
		pr_err("cannot lay out %" PRIu64 " bytes of guest RAM", size);
		return -1;
	}
	return 0;
}

void vm_skeleton_release(struct vm *vm)
{
	dirty_dma_release(&vm->mem);
	ram_free(vm->mem.base, vm->mem.map_size);
	vm->mem.base = NULL;
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	vm->signal_fd = -1;
	event_loop_destroy(vm->loop);
	vm->loop = NULL;
	bus_destroy(&vm->pio_bus);
	bus_destroy(&vm->mmio_bus);
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DEV_FAKE_VM_H
#define KILN_TESTS_DEV_FAKE_VM_H

/*
 * A struct vm built by hand for device tests: both buses, an event loop, an
 * engine whose only job is to record interrupt line levels, and optionally
 * guest RAM laid out as the machine does. Header-only (static functions) so
 * that it links into nothing it is not included by.
 */

#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "engine/engine.h"
#include "machine/event_loop.h"
#include "machine/vm.h"

#define FAKE_NR_GSIS 32

struct fake_irq_log {
	bool level[FAKE_NR_GSIS];
	unsigned int raises[FAKE_NR_GSIS];	/* low-to-high transitions */
	unsigned int calls[FAKE_NR_GSIS];
};

static struct fake_irq_log fake_irqs;

static void fake_set_irq_line(struct vm *vm, u32 gsi, bool level)
{
	(void)vm;
	if (gsi >= FAKE_NR_GSIS)
		return;
	__atomic_add_fetch(&fake_irqs.calls[gsi], 1, __ATOMIC_RELAXED);
	if (level && !fake_irqs.level[gsi])
		__atomic_add_fetch(&fake_irqs.raises[gsi], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&fake_irqs.level[gsi], level, __ATOMIC_RELEASE);
}

static void fake_send_msi(struct vm *vm, u64 addr, u32 data)
{
	(void)vm;
	(void)addr;
	(void)data;
}

static const struct engine_ops fake_engine_ops = {
	.name = "fake",
	.set_irq_line = fake_set_irq_line,
	.send_msi = fake_send_msi,
};

static inline bool fake_irq_level(u32 gsi)
{
	return __atomic_load_n(&fake_irqs.level[gsi], __ATOMIC_ACQUIRE);
}

/* ram_size 0: no guest RAM. */
static inline struct vm *fake_vm_create(u64 ram_size)
{
	static struct vm_config cfg;
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	memset(&fake_irqs, 0, sizeof(fake_irqs));
	cfg.mem_size = ram_size;
	cfg.nr_cpus = 1;
	vm->engine = &fake_engine_ops;
	if (vm_skeleton_init(vm, &cfg) || (ram_size && vm_skeleton_add_ram(vm)))
		goto fail;
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

/* Port I/O as a vCPU would do it. */
static inline u32 pio_in(struct vm *vm, u16 port, unsigned int len)
{
	u32 v = 0;

	bus_read(&vm->pio_bus, port, &v, len);
	return v;
}

static inline void pio_out(struct vm *vm, u16 port, u32 v, unsigned int len)
{
	bus_write(&vm->pio_bus, port, &v, len);
}

static inline u32 inb(struct vm *vm, u16 port)
{
	return pio_in(vm, port, 1);
}

static inline void outb(struct vm *vm, u16 port, u8 v)
{
	pio_out(vm, port, v, 1);
}

#endif

// SPDX-License-Identifier: Apache-2.0
#include "machine/irq.h"

#include "machine/vm.h"

void irq_set_level(struct vm *vm, u32 gsi, bool level)
{
	vm->engine->set_irq_line(vm, gsi, level);
}

void irq_pulse(struct vm *vm, u32 gsi)
{
	vm->engine->set_irq_line(vm, gsi, true);
	vm->engine->set_irq_line(vm, gsi, false);
}

void irq_send_msi(struct vm *vm, u64 addr, u32 data)
{
	vm->engine->send_msi(vm, addr, data);
}

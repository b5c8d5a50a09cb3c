// SPDX-License-Identifier: Apache-2.0
#include "machine/irq.h"

#include "iommu/iommu.h"
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
	irq_send_msi_from(vm, IOMMU_SID_NONE, addr, data);
}

void irq_send_msi_from(struct vm *vm, u32 sid, u64 addr, u32 data)
{
	if (iommu_remap_msi(vm, sid, &addr, &data))
		return;
	vm->engine->send_msi(vm, addr, data);
}

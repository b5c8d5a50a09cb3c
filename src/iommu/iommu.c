// SPDX-License-Identifier: Apache-2.0
#include "iommu/iommu.h"

#include "engine/engine.h"
#include "iommu/vtd.h"
#include "lib/log.h"
#include "machine/vm.h"
#include "mem/guest_mem.h"

int iommu_create_from_config(struct vm *vm)
{
	if (!vm->cfg->iommu)
		return 0;
	/* kvm's in-kernel IOAPIC would deliver remappable entries unremapped. */
	if (vm->cfg->iommu_intremap && vm->engine != &soft_engine_ops) {
		pr_err("--iommu intel,intremap=on: interrupt remapping needs the soft engine's IOAPIC (--accel soft), not %s's",
		       vm->engine->name);
		return -1;
	}
	return vtd_create(vm, vm->cfg->iommu_intremap);
}

/* Walks [addr, addr + len) one translated span at a time. */
static int dma_rw(struct vm *vm, u16 sid, u64 addr, u8 *buf, u64 len, bool write)
{
	const struct iommu *iommu = vm->iommu;

	if (!iommu)
		return write ? guest_write(&vm->mem, addr, buf, len) :
			       guest_read(&vm->mem, addr, buf, len);
	while (len) {
		u64 gpa, span;
		int ret;

		if (iommu->ops->translate(iommu->opaque, sid, addr, len, write, &gpa, &span) ||
		    !span || span > len)
			return -1;
		ret = write ? guest_write(&vm->mem, gpa, buf, span) :
			      guest_read(&vm->mem, gpa, buf, span);
		if (ret) {
			pr_warn_once("iommu: DMA by %04x to %#llx (translated from %#llx) is not guest RAM",
				     sid, (unsigned long long)gpa, (unsigned long long)addr);
			return -1;
		}
		addr += span;
		buf += span;
		len -= span;
	}
	return 0;
}

int dma_read(struct vm *vm, u16 sid, u64 addr, void *buf, u64 len)
{
	return dma_rw(vm, sid, addr, buf, len, false);
}

int dma_write(struct vm *vm, u16 sid, u64 addr, const void *buf, u64 len)
{
	return dma_rw(vm, sid, addr, (u8 *)buf, len, true);
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_IOMMU_IOMMU_H
#define KILN_IOMMU_IOMMU_H

#include "lib/types.h"
#include "machine/vm.h"

/*
 * What a DMA-capable device or an interrupt source sees of an IOMMU, whichever
 * model sits behind it (iommu/vtd.h is the only one). Without an IOMMU
 * (vm->iommu NULL, the default) DMA goes straight to guest RAM and MSIs
 * straight to the engine, exactly as before.
 *
 * A requester is named by its PCI source ID, bus << 8 | device << 3 |
 * function. Messages with no PCI requester (the IOAPIC's) pass
 * IOMMU_SID_NONE, which skips source-ID checks.
 */
#define IOMMU_SID_NONE	0xffffffffu

struct iommu_ops {
	/*
	 * One DMA access of len bytes at iova by sid. On success returns 0 with
	 * the guest-physical address and how many bytes from there are
	 * contiguous (0 < *span <= len). Returns -1 when the IOMMU blocks it
	 * (the fault is recorded as the model says).
	 */
	int (*translate)(void *opaque, u16 sid, u64 iova, u64 len, bool write, u64 *gpa,
			 u64 *span);
	/*
	 * An interrupt message (an MSI write, or an IOAPIC entry turned into
	 * one) from sid. Returns 0 with addr/data rewritten into a message the
	 * engine delivers (compatibility format), or -1 when it is blocked.
	 */
	int (*remap_msi)(void *opaque, u32 sid, u64 *addr, u32 *data);
};

struct iommu {
	const struct iommu_ops *ops;
	void *opaque;
};

/*
 * Creates what --iommu asked for (nothing without it) and sets vm->iommu.
 * Returns -1 with a message when it cannot be had with this engine.
 */
int iommu_create_from_config(struct vm *vm);

/*
 * Device DMA: through vm->iommu when there is one, else straight to guest
 * RAM. Returns -1 when any byte was blocked or is not guest RAM (a master
 * abort: nothing past that point was transferred).
 */
int dma_read(struct vm *vm, u16 sid, u64 addr, void *buf, u64 len);
int dma_write(struct vm *vm, u16 sid, u64 addr, const void *buf, u64 len);

/*
 * Inline, so that interrupt controllers (the soft engine's IOAPIC) call
 * them without linking the IOMMU models in.
 */

/* True when vm has an IOMMU that may remap interrupts. */
static inline bool iommu_remaps_interrupts(const struct vm *vm)
{
	return vm && vm->iommu && vm->iommu->ops->remap_msi;
}

/*
 * Remaps an interrupt message when vm has an IOMMU; returns 0 (deliver
 * addr/data) or -1 (blocked). Without an IOMMU it leaves them alone.
 */
static inline int iommu_remap_msi(struct vm *vm, u32 sid, u64 *addr, u32 *data)
{
	if (!iommu_remaps_interrupts(vm))
		return 0;
	return vm->iommu->ops->remap_msi(vm->iommu->opaque, sid, addr, data);
}

#endif

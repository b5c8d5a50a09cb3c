/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_IOMMU_VTD_INTERNAL_H
#define KILN_IOMMU_VTD_INTERNAL_H

#include <pthread.h>

#include "iommu/iommu.h"
#include "iommu/vtd.h"

/* Shared by vtd.c (registers, faults), vtd_dmar.c, vtd_ir.c and vtd_qi.c. */

struct vtd {
	struct vm *vm;
	struct iommu iommu;
	pthread_mutex_t lock;		/* everything below */

	u64 cap, ecap;
	u32 gsts;
	u64 rtaddr;			/* the register */
	u64 root_table;			/* latched by GCMD.SRTP */
	u64 ccmd;
	u32 fsts, fectl, fedata, feaddr, feuaddr;
	u64 frcd_lo, frcd_hi;		/* the one fault recording register */
	u64 iqh, iqt, iqa;
	u32 ics, iectl, iedata, ieaddr, ieuaddr;
	u64 irta;			/* the register */
	u64 ir_table;			/* latched by GCMD.SIRTP */
	u32 ir_entries;
	u64 iva, iotlb;

	u64 faults;			/* recorded or not, for --stats */
	u64 dma_translations;
	u64 interrupts_remapped;
};

/*
 * Records a fault (unless fpd: the entry disabled fault processing) and
 * raises the fault event. info is the page address for DMA faults, the
 * interrupt index << 48 for interrupt remapping faults. Lock held.
 */
void vtd_fault(struct vtd *v, u32 sid, enum vtd_fault reason, u64 info, bool read, bool fpd);

/*
 * Raises the fault event (fault) or the invalidation completion event:
 * sent now, or held pending in FECTL/IECTL.IP while masked. Lock held.
 */
void vtd_event(struct vtd *v, bool fault);

/* Processes the invalidation queue from IQH to IQT. Lock held. */
void vtd_qi_process(struct vtd *v);

/* The iommu_ops halves; each takes the lock. */
int vtd_translate(void *opaque, u16 sid, u64 iova, u64 len, bool write, u64 *gpa, u64 *span);
int vtd_remap_msi(void *opaque, u32 sid, u64 *addr, u32 *data);

/* Reads a little-endian table entry from guest RAM; -1 when not RAM. */
int vtd_read_entry(struct vtd *v, u64 gpa, u64 *out, unsigned int nr_quads);

#endif

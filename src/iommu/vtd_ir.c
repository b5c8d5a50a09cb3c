// SPDX-License-Identifier: Apache-2.0
/*
 * Interrupt remapping. A remappable-format message (address bit 4 set)
 * carries a handle instead of a destination; the handle indexes the
 * interrupt remapping table, whose entry (IRTE) holds the vector,
 * destination and modes the interrupt is delivered with. The result is
 * rewritten as a compatibility-format MSI for the engine's APIC bus.
 */
#include "iommu/vtd_internal.h"
#include "machine/vm.h"

#define MSI_ADDR_BASE		0xfee00000ULL
#define MSI_ADDR_REMAPPABLE	(1ULL << 4)
#define MSI_ADDR_SHV		(1ULL << 3)
#define MSI_ADDR_HANDLE15	(1ULL << 2)
#define MSI_ADDR_HANDLE_SHIFT	5
#define MSI_DATA_LEVEL_ASSERT	(1u << 14)

#define IRTE_PRESENT		(1ULL << 0)
#define IRTE_FPD		(1ULL << 1)
#define IRTE_DM			(1ULL << 2)
#define IRTE_RH			(1ULL << 3)
#define IRTE_TM			(1ULL << 4)
#define IRTE_DLM_SHIFT		5
#define IRTE_IM_POSTED		(1ULL << 15)
#define IRTE_VECTOR_SHIFT	16
#define IRTE_DEST_XAPIC_SHIFT	40	/* destination ID bits 15:8, xAPIC mode */
/* Bits 14:12 and 31:24; bit 15 (posted, ECAP.PI clear) is checked apart. */
#define IRTE_LO_RESERVED	0x00000000ff007000ULL
#define IRTE_HI_RESERVED	0xfffffffffff00000ULL
#define IRTE_SVT_NONE		0
#define IRTE_SVT_SID		1
#define IRTE_SVT_BUS_RANGE	2

/* Source-ID qualifier: which low function bits a SID check ignores. */
static const u16 sq_masks[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

static bool sid_allowed(u64 hi, u32 sid)
{
	u16 want = hi & 0xffff;

	if (sid == IOMMU_SID_NONE)
		return true;	/* no PCI requester to check (the IOAPIC) */
	switch ((hi >> 18) & 3) {
	case IRTE_SVT_NONE:
		return true;
	case IRTE_SVT_SID: {
		u16 mask = sq_masks[(hi >> 16) & 3];

		return (sid & mask) == (want & mask);
	}
	case IRTE_SVT_BUS_RANGE:
		return (sid >> 8) >= (want >> 8u) && (sid >> 8) <= (want & 0xffu);
	default:
		return false;	/* reserved: reported before we get here */
	}
}

/* Remaps one remappable-format message; lock held. */
static int remap_locked(struct vtd *v, u32 sid, u64 *addr, u32 *data)
{
	u64 a = *addr, irte[2];
	u32 handle = (u32)((a >> MSI_ADDR_HANDLE_SHIFT) & 0x7fff) |
		     ((a & MSI_ADDR_HANDLE15) ? 0x8000u : 0);
	u32 fault_sid = sid == IOMMU_SID_NONE ? 0 : sid;
	enum vtd_fault reason;
	bool fpd = false;

	if (a & MSI_ADDR_SHV) {
		/* Subhandle valid: the data's low 16 bits add to the handle. */
		if (*data >> 16) {
			reason = VTD_FR_IR_REQ_RESERVED;
			goto fault;
		}
		handle += *data & 0xffff;
	}
	if (handle >= v->ir_entries) {
		reason = VTD_FR_IR_INDEX_OVER;
		goto fault;
	}
	if (vtd_read_entry(v, v->ir_table + 16ULL * handle, irte, 2)) {
		reason = VTD_FR_IR_TABLE_ACCESS;
		goto fault;
	}
	fpd = irte[0] & IRTE_FPD;
	if (!(irte[0] & IRTE_PRESENT)) {
		reason = VTD_FR_IR_NOT_PRESENT;
		goto fault;
	}
	if ((irte[0] & (IRTE_LO_RESERVED | IRTE_IM_POSTED)) || (irte[1] & IRTE_HI_RESERVED) ||
	    ((irte[1] >> 18) & 3) == 3) {
		reason = VTD_FR_IR_ENTRY_RESERVED;
		goto fault;
	}
	if (!sid_allowed(irte[1], sid)) {
		reason = VTD_FR_IR_SID;
		goto fault;
	}
	*addr = MSI_ADDR_BASE | ((irte[0] >> IRTE_DEST_XAPIC_SHIFT) & 0xff) << 12 |
		((irte[0] & IRTE_RH) ? 1u << 3 : 0) | ((irte[0] & IRTE_DM) ? 1u << 2 : 0);
	*data = (u32)((irte[0] >> IRTE_VECTOR_SHIFT) & 0xff) |
		(u32)((irte[0] >> IRTE_DLM_SHIFT) & 7) << 8 |
		((irte[0] & IRTE_TM) ? (1u << 15) | MSI_DATA_LEVEL_ASSERT : 0);
	v->interrupts_remapped++;
	return 0;
fault:
	vtd_fault(v, fault_sid, reason, (u64)handle << 48, false, fpd);
	return -1;
}

int vtd_remap_msi(void *opaque, u32 sid, u64 *addr, u32 *data)
{
	struct vtd *v = opaque;
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	if (!(v->gsts & VTD_GCMD_IRE) || (*addr >> 20) != (MSI_ADDR_BASE >> 20)) {
		/* Remapping off, or not an interrupt at all: untouched. */
	} else if (*addr & MSI_ADDR_REMAPPABLE) {
		ret = remap_locked(v, sid, addr, data);
	} else if (!(v->gsts & VTD_GCMD_CFI)) {
		/* Compatibility format while remapping is on: blocked unless CFI. */
		vtd_fault(v, sid == IOMMU_SID_NONE ? 0 : sid, VTD_FR_IR_COMPAT_BLOCKED, 0,
			  false, false);
		ret = -1;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

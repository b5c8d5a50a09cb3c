// SPDX-License-Identifier: Apache-2.0
/*
 * DMA remapping, legacy mode: the requester's bus picks a root entry, its
 * device and function a context entry, and the context entry's
 * second-level page tables turn the I/O virtual address into a
 * guest-physical one. Every table lives in guest memory, where the guest
 * may have put anything: each read goes through guest_read(), and every
 * field the model relies on is checked before use.
 */
#include "iommu/vtd_internal.h"
#include "lib/log.h"
#include "machine/vm.h"

#define ENTRY_PRESENT		(1ULL << 0)
#define ADDR_MASK		0x000ffffffffff000ULL	/* bits 51:12 */
#define ROOT_LO_RESERVED	0xffeULL		/* bits 11:1 */
#define CTX_FPD			(1ULL << 1)
#define CTX_TT_SHIFT		2
#define CTX_LO_RESERVED		0xff0ULL		/* bits 11:4 */
#define CTX_HI_RESERVED		(0xffffffffff000000ULL | (1ULL << 7))
#define CTX_TT_MULTI_LEVEL	0
#define CTX_TT_PASS_THROUGH	2
#define PTE_R			(1ULL << 0)
#define PTE_W			(1ULL << 1)
#define PTE_PS			(1ULL << 7)
#define LEVEL_SHIFT(l)		(12 + 9 * ((l) - 1))

/* What a walk found: the page that holds the address, or why not. */
struct walk {
	u64 page_gpa;		/* start of the page (4 KiB, 2 MiB or 1 GiB) */
	u64 page_size;
	enum vtd_fault reason;	/* 0: translated */
	bool fpd;		/* the context entry disables fault recording */
};

static bool walk_fail(struct walk *w, enum vtd_fault reason)
{
	w->reason = reason;
	return false;
}

/* The second-level walk from the table at table_gpa, levels deep. */
static bool walk_tables(struct vtd *v, u64 table_gpa, unsigned int levels, u64 iova,
			bool write, struct walk *w)
{
	for (unsigned int level = levels; level >= 1; level--) {
		u64 index = (iova >> LEVEL_SHIFT(level)) & 511;
		u64 page_size = 1ULL << LEVEL_SHIFT(level);
		u64 pte;

		if (vtd_read_entry(v, table_gpa + 8 * index, &pte, 1))
			return walk_fail(w, level == levels ? VTD_FR_CTX_INVALID :
					 VTD_FR_PAGING_ENTRY_ACCESS);
		/* Rights are checked at every level: each must allow the access. */
		if (!(pte & (write ? PTE_W : PTE_R)))
			return walk_fail(w, write ? VTD_FR_WRITE : VTD_FR_READ);
		if (level == 1 || (pte & PTE_PS)) {
			bool supported = level == 1 ||
				(level == 2 && (v->cap & VTD_CAP_SLLPS_2M)) ||
				(level == 3 && (v->cap & VTD_CAP_SLLPS_1G));
			u64 addr = pte & ADDR_MASK;

			/* A large page's address must be aligned to its size. */
			if (!supported || (addr & (page_size - 1)))
				return walk_fail(w, VTD_FR_PAGING_ENTRY_RESERVED);
			w->page_gpa = addr;
			w->page_size = page_size;
			return true;
		}
		table_gpa = pte & ADDR_MASK;
	}
	return walk_fail(w, VTD_FR_PAGING_ENTRY_RESERVED);	/* not reached */
}

/* Root entry, context entry, then the tables. Lock held. */
static bool walk(struct vtd *v, u16 sid, u64 iova, bool write, struct walk *w)
{
	u64 re[2], ce[2];
	unsigned int aw, levels, agaw;

	if (vtd_read_entry(v, v->root_table + 16ULL * (sid >> 8), re, 2))
		return walk_fail(w, VTD_FR_ROOT_TABLE_ACCESS);
	if (!(re[0] & ENTRY_PRESENT))
		return walk_fail(w, VTD_FR_ROOT_NOT_PRESENT);
	if ((re[0] & ROOT_LO_RESERVED) || re[1])
		return walk_fail(w, VTD_FR_ROOT_RESERVED);
	if (vtd_read_entry(v, (re[0] & ADDR_MASK) + 16ULL * (sid & 0xff), ce, 2))
		return walk_fail(w, VTD_FR_CTX_TABLE_ACCESS);
	if (!(ce[0] & ENTRY_PRESENT))
		return walk_fail(w, VTD_FR_CTX_NOT_PRESENT);
	w->fpd = ce[0] & CTX_FPD;
	if ((ce[0] & CTX_LO_RESERVED) || (ce[1] & CTX_HI_RESERVED))
		return walk_fail(w, VTD_FR_CTX_RESERVED);
	switch ((ce[0] >> CTX_TT_SHIFT) & 3) {
	case CTX_TT_PASS_THROUGH:
		/* Untranslated, up to the guest address width. */
		if (iova >> VTD_MGAW)
			return walk_fail(w, VTD_FR_ADDR_BEYOND_AGAW);
		w->page_gpa = iova & ~0xfffULL;
		w->page_size = 4096;
		return true;
	case CTX_TT_MULTI_LEVEL:
		break;
	default:
		/* Device-TLB translation (ECAP.DT clear) and the reserved value. */
		return walk_fail(w, VTD_FR_CTX_INVALID);
	}
	aw = ce[1] & 7;
	levels = aw + 2;
	if (aw > 4 || !(v->cap & (1ULL << (8 + aw))))
		return walk_fail(w, VTD_FR_CTX_INVALID);
	agaw = 30 + 9 * aw;
	if (iova >> (agaw < VTD_MGAW ? agaw : VTD_MGAW))
		return walk_fail(w, VTD_FR_ADDR_BEYOND_AGAW);
	return walk_tables(v, ce[0] & ADDR_MASK, levels, iova, write, w);
}

int vtd_translate(void *opaque, u16 sid, u64 iova, u64 len, bool write, u64 *gpa, u64 *span)
{
	struct vtd *v = opaque;
	struct walk w = { 0 };
	u64 in_page;

	pthread_mutex_lock(&v->lock);
	if (!(v->gsts & VTD_GCMD_TE)) {
		/* Translation off: DMA addresses are guest-physical. */
		pthread_mutex_unlock(&v->lock);
		*gpa = iova;
		*span = len;
		return 0;
	}
	v->dma_translations++;
	if (!walk(v, sid, iova, write, &w)) {
		vtd_fault(v, sid, w.reason, iova, !write, w.fpd);
		pthread_mutex_unlock(&v->lock);
		return -1;
	}
	pthread_mutex_unlock(&v->lock);
	in_page = iova & (w.page_size - 1);
	*gpa = w.page_gpa + in_page;
	*span = w.page_size - in_page < len ? w.page_size - in_page : len;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Queued invalidation: software writes 128-bit descriptors into a ring in
 * guest memory and moves the tail; the unit consumes them up to the tail.
 * Nothing is cached here, so the context-cache, IOTLB and interrupt entry
 * cache invalidations complete as they are read; the invalidation-wait
 * descriptor does what software waits for (a status write, an interrupt).
 */
#include <endian.h>

#include "iommu/vtd_internal.h"
#include "lib/log.h"
#include "machine/vm.h"

#define DESC_TYPE_MASK		0xe0fULL	/* bits 11:9 and 3:0 */
#define DESC_CONTEXT_CACHE	0x1
#define DESC_IOTLB		0x2
#define DESC_INTERRUPT_CACHE	0x4
#define DESC_WAIT		0x5
#define WAIT_IF			(1ULL << 4)
#define WAIT_SW			(1ULL << 5)
#define IQ_QS_MASK		0x7ULL

static void queue_error(struct vtd *v)
{
	v->faults++;
	pr_warn_once("iommu: invalid descriptor in the invalidation queue at %#llx",
		     (unsigned long long)v->iqh);
	if (!(v->fsts & VTD_FSTS_IQE)) {
		v->fsts |= VTD_FSTS_IQE;
		vtd_event(v, true);
	}
}

static bool do_wait(struct vtd *v, const u64 d[2])
{
	if (d[0] & WAIT_SW) {
		u32 status = htole32((u32)(d[0] >> 32));

		if (guest_write(&v->vm->mem, d[1] & ~3ULL, &status, sizeof(status)))
			return false;
	}
	/* An IWC software has not cleared yet already stands for this one. */
	if ((d[0] & WAIT_IF) && !(v->ics & VTD_ICS_IWC)) {
		v->ics |= VTD_ICS_IWC;
		vtd_event(v, false);
	}
	return true;
}

void vtd_qi_process(struct vtd *v)
{
	u64 base = v->iqa & ~0xfffULL;
	u32 entries = 256u << (v->iqa & IQ_QS_MASK);
	u32 head = (u32)(v->iqh >> 4), tail = (u32)(v->iqt >> 4);

	/* A stopped queue waits for software to clear IQE. */
	if (v->fsts & VTD_FSTS_IQE)
		return;
	if (tail >= entries || head >= entries) {
		queue_error(v);
		return;
	}
	/* head walks toward tail: at most entries - 1 steps. */
	while (head != tail) {
		u64 d[2];
		bool ok;

		if (vtd_read_entry(v, base + 16ULL * head, d, 2)) {
			queue_error(v);
			return;
		}
		switch (d[0] & DESC_TYPE_MASK) {
		case DESC_CONTEXT_CACHE:
		case DESC_IOTLB:
			ok = true;
			break;
		case DESC_INTERRUPT_CACHE:
			ok = v->ecap & VTD_ECAP_IR;
			break;
		case DESC_WAIT:
			ok = do_wait(v, d);
			break;
		default:
			ok = false;
			break;
		}
		if (!ok) {
			/* IQH stays on the bad descriptor, for software to find. */
			queue_error(v);
			return;
		}
		head = (head + 1) % entries;
		v->iqh = (u64)head << 4;
	}
}

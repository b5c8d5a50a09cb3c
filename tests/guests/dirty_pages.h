/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_GUEST_DIRTY_PAGES_H
#define KILN_GUEST_DIRTY_PAGES_H

/*
 * What the dirty_pages guest and its host side (tests/unit/test_mem_dirty.c)
 * agree on. Phase p (1 or 2) writes page i * DIRTY_STRIDE + p - 1 of the
 * area for every i < DIRTY_AREA_PAGES / DIRTY_STRIDE, so the two phases'
 * sets are disjoint and neither is contiguous. Phase 3 (go = 2) writes a
 * counter to pseudo-random words of the area without pause until go = 3,
 * while the host copies what the log says changed.
 */
#define DIRTY_MAILBOX_GPA	0x00f00000ULL	/* 15 MiB: one page, see below */
#define DIRTY_AREA_GPA		0x01000000ULL	/* 16 MiB */
#define DIRTY_AREA_PAGES	240
#define DIRTY_STRIDE		3
#define DIRTY_GUEST_PAGE	4096ULL

/* The mailbox page: the guest writes phase and image_end, the host go. */
struct dirty_mailbox {
	volatile unsigned long long phase;	/* last phase the guest finished */
	volatile unsigned long long image_end;	/* end of the guest's image, stack included */
	volatile unsigned long long go;		/* the host: 1 phase 2, 2 phase 3, 3 stop */
	volatile unsigned long long stores;	/* phase 3's stores, written at its end */
};

/* Seconds the guest waits for go before it fails. */
#define DIRTY_GO_TIMEOUT_S 60

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_DIRTY_DMA_H
#define KILN_MEM_DIRTY_DMA_H

#include "mem/dirty.h"
#include "mem/guest_mem.h"

/*
 * The dirty log of Kiln's own writes to guest RAM: virtio rings and
 * buffers, the balloon's discards, guest_write(). No engine sees those
 * (KVM's log covers only what runs in the guest), so they are logged here
 * and vm_dirty_log_get() merges them with the engine's log.
 *
 * The log hangs off guest_mem (mem->dma_log) from the first start until
 * dirty_dma_release(), so a device thread that read the pointer can always
 * use it; stopping only turns it off.
 */
struct dirty_dma_log {
	bool on;			/* atomic */
	struct dirty_bitmap map;
	/* vm_dirty_log_get() figures, for --stats and the API (dirty_log.h). */
	u64 clearing_reads;
	u64 pages_reported;		/* by clearing reads */
};

/*
 * Clears the log and turns it on (allocating it the first time); already
 * on, it changes nothing. -ENOMEM.
 */
int dirty_dma_start(struct guest_mem *mem);
void dirty_dma_stop(struct guest_mem *mem);
/* ORs the pages devices wrote into out (shaped on mem); with clear, clears them. */
void dirty_dma_collect(struct guest_mem *mem, struct dirty_bitmap *out, bool clear);
/* Frees the log; no device may write guest RAM any more (vm_destroy). */
void dirty_dma_release(struct guest_mem *mem);

#endif

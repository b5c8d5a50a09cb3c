// SPDX-License-Identifier: Apache-2.0
/* The dirty log of device writes to guest RAM (dirty_dma.h). */
#include "mem/dirty_dma.h"

#include <errno.h>
#include <stdlib.h>

int dirty_dma_start(struct guest_mem *mem)
{
	struct dirty_dma_log *log = mem->dma_log;

	if (!log) {
		log = calloc(1, sizeof(*log));
		if (!log)
			return -ENOMEM;
		if (dirty_bitmap_alloc(&log->map, mem)) {
			free(log);
			return -ENOMEM;
		}
		__atomic_store_n(&mem->dma_log, log, __ATOMIC_RELEASE);
	}
	/* Already on: keep what it holds, as the engines do. */
	if (__atomic_load_n(&log->on, __ATOMIC_SEQ_CST))
		return 0;
	dirty_bitmap_clear(&log->map);
	__atomic_store_n(&log->on, true, __ATOMIC_SEQ_CST);
	return 0;
}

void dirty_dma_stop(struct guest_mem *mem)
{
	if (mem->dma_log)
		__atomic_store_n(&mem->dma_log->on, false, __ATOMIC_SEQ_CST);
}

void dirty_dma_collect(struct guest_mem *mem, struct dirty_bitmap *out, bool clear)
{
	struct dirty_dma_log *log = __atomic_load_n(&mem->dma_log, __ATOMIC_ACQUIRE);

	if (!log)
		return;
	for (unsigned int i = 0; i < out->nr_regions && i < log->map.nr_regions; i++)
		dirty_bitmap_collect(&log->map, i, out->regions[i].bits, clear);
}

void dirty_dma_release(struct guest_mem *mem)
{
	struct dirty_dma_log *log = mem->dma_log;

	if (!log)
		return;
	mem->dma_log = NULL;
	dirty_bitmap_free(&log->map);
	free(log);
}

void guest_mem_dirty_slow(const struct guest_mem *mem, u64 gpa, u64 len)
{
	struct dirty_dma_log *log = __atomic_load_n(&mem->dma_log, __ATOMIC_ACQUIRE);

	if (log && __atomic_load_n(&log->on, __ATOMIC_ACQUIRE))
		dirty_bitmap_set_range_atomic(&log->map, gpa, len);
}

void guest_mem_dirty_hva_slow(const struct guest_mem *mem, const void *hva, u64 len)
{
	uintptr_t p = (uintptr_t)hva;

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		uintptr_t start = (uintptr_t)r->hva;

		/* As in gpa_to_hva(): unsigned offsets, no overflowing sums. */
		if (p - start < r->size) {
			guest_mem_dirty_slow(mem, r->gpa + (p - start), MIN(len, r->size - (p - start)));
			return;
		}
	}
}

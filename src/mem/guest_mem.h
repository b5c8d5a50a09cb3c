/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_GUEST_MEM_H
#define KILN_MEM_GUEST_MEM_H

#include "lib/types.h"

/*
 * Guest RAM: one host mapping split into guest-physical regions.
 *
 * This is the only path from a guest-controlled address to host memory.
 * Every lookup checks that [gpa, gpa + len) lies wholly inside one region,
 * so a guest value can never name host memory outside guest RAM.
 */

#define GUEST_MEM_MAX_REGIONS 4

struct mem_region {
	u64 gpa;
	u64 size;
	u8 *hva;
};

struct dirty_dma_log;

struct guest_mem {
	struct mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	u8 *base;		/* the single host mapping behind all regions */
	u64 ram_size;		/* bytes of guest RAM, summed over regions */
	u64 map_size;		/* bytes mapped at base */
	/*
	 * Pages Kiln's devices wrote while dirty logging is on (mem/dirty_dma.h);
	 * NULL until logging first starts. Atomic.
	 */
	struct dirty_dma_log *dma_log;
};

/*
 * Adds a region backed by hva. Regions must not overlap; returns -1 when
 * they would, or when the table is full.
 */
int guest_mem_add_region(struct guest_mem *mem, u64 gpa, u64 size, u8 *hva);

/*
 * Host address of [gpa, gpa + len), or NULL when any byte of it is not
 * guest RAM (outside every region, straddling a hole, or wrapping around).
 * len 0 is valid for any gpa inside or at the end of a region.
 */
void *gpa_to_hva(const struct guest_mem *mem, u64 gpa, u64 len);

/*
 * Copies between guest RAM and a host buffer; -1 when gpa..len is not RAM.
 * guest_write() marks the pages in the dirty log (guest_mem_dirty()).
 */
int guest_read(const struct guest_mem *mem, u64 gpa, void *buf, u64 len);
int guest_write(const struct guest_mem *mem, u64 gpa, const void *buf, u64 len);

/*
 * Kiln wrote guest RAM behind the guest's back (DMA): through a pointer
 * from gpa_to_hva(), by gpa or by host address. Call after the store, so a
 * dirty-log reader that clears the page sees the data. Costs one load while
 * dirty logging has never been started. Bytes outside RAM are ignored.
 */
void guest_mem_dirty_slow(const struct guest_mem *mem, u64 gpa, u64 len);
void guest_mem_dirty_hva_slow(const struct guest_mem *mem, const void *hva, u64 len);

static inline void guest_mem_dirty(const struct guest_mem *mem, u64 gpa, u64 len)
{
	if (unlikely(__atomic_load_n(&mem->dma_log, __ATOMIC_ACQUIRE)))
		guest_mem_dirty_slow(mem, gpa, len);
}

static inline void guest_mem_dirty_hva(const struct guest_mem *mem, const void *hva, u64 len)
{
	if (unlikely(__atomic_load_n(&mem->dma_log, __ATOMIC_ACQUIRE)))
		guest_mem_dirty_hva_slow(mem, hva, len);
}

/* True when the whole range is guest RAM. */
static inline bool gpa_range_is_ram(const struct guest_mem *mem, u64 gpa, u64 len)
{
	return gpa_to_hva(mem, gpa, len) != NULL;
}

/* Region holding gpa, or NULL: for engines that cache translations. */
const struct mem_region *guest_mem_find(const struct guest_mem *mem, u64 gpa);

#endif

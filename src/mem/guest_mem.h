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

struct guest_mem {
	struct mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	u8 *base;		/* the single host mapping behind all regions */
	u64 ram_size;		/* bytes of guest RAM, summed over regions */
	u64 map_size;		/* bytes mapped at base */
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

/* Copies between guest RAM and a host buffer; -1 when gpa..len is not RAM. */
int guest_read(const struct guest_mem *mem, u64 gpa, void *buf, u64 len);
int guest_write(const struct guest_mem *mem, u64 gpa, const void *buf, u64 len);

/* True when the whole range is guest RAM. */
static inline bool gpa_range_is_ram(const struct guest_mem *mem, u64 gpa, u64 len)
{
	return gpa_to_hva(mem, gpa, len) != NULL;
}

/* Region holding gpa, or NULL: for engines that cache translations. */
const struct mem_region *guest_mem_find(const struct guest_mem *mem, u64 gpa);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_DIRTY_H
#define KILN_MEM_DIRTY_H

#include <limits.h>

#include "lib/types.h"
#include "mem/guest_mem.h"

/*
 * A dirty-page bitmap over all of guest RAM: per RAM region, one bit per
 * 4 KiB page, bit i of word w standing for page w * DIRTY_BITS_PER_WORD + i
 * of the region. That is KVM's layout (KVM_GET_DIRTY_LOG), so an engine
 * fills a region's words directly.
 */

#define DIRTY_PAGE_SHIFT 12
#define DIRTY_PAGE_SIZE (1ULL << DIRTY_PAGE_SHIFT)
#define DIRTY_BITS_PER_WORD (sizeof(unsigned long) * CHAR_BIT)

struct dirty_region {
	u64 gpa;
	u64 nr_pages;
	unsigned long *bits;
};

struct dirty_bitmap {
	struct dirty_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr_regions;
};

/* Words that hold nr_pages bits. */
static inline u64 dirty_words(u64 nr_pages)
{
	return (nr_pages + DIRTY_BITS_PER_WORD - 1) / DIRTY_BITS_PER_WORD;
}

/* Allocates a clear bitmap shaped like mem's regions; -1 when out of memory. */
int dirty_bitmap_alloc(struct dirty_bitmap *b, const struct guest_mem *mem);
void dirty_bitmap_free(struct dirty_bitmap *b);
void dirty_bitmap_clear(struct dirty_bitmap *b);

/* Marks the page holding gpa; false when gpa is not RAM. */
bool dirty_bitmap_set(struct dirty_bitmap *b, u64 gpa);
/* True when the page holding gpa is marked. */
bool dirty_bitmap_test(const struct dirty_bitmap *b, u64 gpa);
/*
 * Marks every page that [gpa, gpa + len) touches, with atomic ORs, so any
 * thread may mark while another collects. Bytes outside RAM are ignored.
 */
void dirty_bitmap_set_range_atomic(struct dirty_bitmap *b, u64 gpa, u64 len);
/*
 * ORs region's marked pages into out (dirty_words(nr_pages) words, the same
 * layout) and, with clear, clears exactly those bits: one atomic exchange
 * per word, so a page marked concurrently is either collected now or stays
 * marked for the next call.
 */
void dirty_bitmap_collect(struct dirty_bitmap *b, unsigned int region, unsigned long *out,
			  bool clear);
/* Marked pages, over every region. */
u64 dirty_bitmap_count(const struct dirty_bitmap *b);
/*
 * The first marked page at or after gpa, as a guest-physical address;
 * ~0ULL when there is none. Walks the regions in their gpa order.
 */
u64 dirty_bitmap_next(const struct dirty_bitmap *b, u64 gpa);

#endif

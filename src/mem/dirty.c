// SPDX-License-Identifier: Apache-2.0
#include "mem/dirty.h"

#include <stdlib.h>
#include <string.h>

int dirty_bitmap_alloc(struct dirty_bitmap *b, const struct guest_mem *mem)
{
	memset(b, 0, sizeof(*b));
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		struct dirty_region *r = &b->regions[i];

		r->gpa = mem->regions[i].gpa;
		r->nr_pages = mem->regions[i].size >> DIRTY_PAGE_SHIFT;
		r->bits = calloc(dirty_words(r->nr_pages), sizeof(unsigned long));
		b->nr_regions = i + 1;
		if (!r->bits) {
			dirty_bitmap_free(b);
			return -1;
		}
	}
	return 0;
}

void dirty_bitmap_free(struct dirty_bitmap *b)
{
	for (unsigned int i = 0; i < b->nr_regions; i++)
		free(b->regions[i].bits);
	memset(b, 0, sizeof(*b));
}

void dirty_bitmap_clear(struct dirty_bitmap *b)
{
	for (unsigned int i = 0; i < b->nr_regions; i++)
		memset(b->regions[i].bits, 0,
		       dirty_words(b->regions[i].nr_pages) * sizeof(unsigned long));
}

/* The region and page index holding gpa, or NULL. */
static const struct dirty_region *find_page(const struct dirty_bitmap *b, u64 gpa, u64 *page)
{
	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->regions[i];
		u64 index = (gpa - r->gpa) >> DIRTY_PAGE_SHIFT;

		/* gpa below the region wraps to a huge index. */
		if (gpa >= r->gpa && index < r->nr_pages) {
			*page = index;
			return r;
		}
	}
	return NULL;
}

bool dirty_bitmap_set(struct dirty_bitmap *b, u64 gpa)
{
	u64 page;
	const struct dirty_region *r = find_page(b, gpa, &page);

	if (!r)
		return false;
	r->bits[page / DIRTY_BITS_PER_WORD] |= 1UL << (page % DIRTY_BITS_PER_WORD);
	return true;
}

bool dirty_bitmap_test(const struct dirty_bitmap *b, u64 gpa)
{
	u64 page;
	const struct dirty_region *r = find_page(b, gpa, &page);

	return r && (r->bits[page / DIRTY_BITS_PER_WORD] >> (page % DIRTY_BITS_PER_WORD) & 1);
}

u64 dirty_bitmap_count(const struct dirty_bitmap *b)
{
	u64 n = 0;

	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->regions[i];

		for (u64 w = 0; w < dirty_words(r->nr_pages); w++)
			n += __builtin_popcountl(r->bits[w]);
	}
	return n;
}

/* The first marked page of r at or after page index from, or r->nr_pages. */
static u64 region_next(const struct dirty_region *r, u64 from)
{
	u64 w = from / DIRTY_BITS_PER_WORD;
	unsigned long word;

	if (from >= r->nr_pages)
		return r->nr_pages;
	word = r->bits[w] & (~0UL << (from % DIRTY_BITS_PER_WORD));
	for (;;) {
		if (word) {
			u64 page = w * DIRTY_BITS_PER_WORD + __builtin_ctzl(word);

			return MIN(page, r->nr_pages);
		}
		if (++w >= dirty_words(r->nr_pages))
			return r->nr_pages;
		word = r->bits[w];
	}
}

u64 dirty_bitmap_next(const struct dirty_bitmap *b, u64 gpa)
{
	u64 best = ~0ULL;

	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->regions[i];
		u64 from = gpa <= r->gpa ? 0 : (gpa - r->gpa + DIRTY_PAGE_SIZE - 1) >> DIRTY_PAGE_SHIFT;
		u64 page = region_next(r, from);

		if (page < r->nr_pages)
			best = MIN(best, r->gpa + (page << DIRTY_PAGE_SHIFT));
	}
	return best;
}

void dirty_bitmap_set_range_atomic(struct dirty_bitmap *b, u64 gpa, u64 len)
{
	if (!len)
		return;
	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->regions[i];
		u64 end = r->gpa + (r->nr_pages << DIRTY_PAGE_SHIFT);
		u64 first, last;

		/* The overlap of [gpa, gpa + len) with the region, in pages. */
		if (gpa >= end || gpa + len - 1 < r->gpa || gpa + len - 1 < gpa)
			continue;
		first = (MAX(gpa, r->gpa) - r->gpa) >> DIRTY_PAGE_SHIFT;
		last = (MIN(gpa + len - 1, end - 1) - r->gpa) >> DIRTY_PAGE_SHIFT;
		for (u64 page = first; page <= last; page++) {
			/*
			 * Always the locked OR, even when the bit looks set:
			 * as a full barrier it orders the caller's data store
			 * before the mark, so a collector that clears the bit
			 * and then copies the page sees the data.
			 */
			__atomic_fetch_or(&r->bits[page / DIRTY_BITS_PER_WORD],
					  1UL << (page % DIRTY_BITS_PER_WORD), __ATOMIC_SEQ_CST);
		}
	}
}

void dirty_bitmap_collect(struct dirty_bitmap *b, unsigned int region, unsigned long *out,
			  bool clear)
{
	const struct dirty_region *r = &b->regions[region];

	for (u64 w = 0; w < dirty_words(r->nr_pages); w++) {
		unsigned long v = __atomic_load_n(&r->bits[w], __ATOMIC_RELAXED);

		if (v && clear)
			v = __atomic_exchange_n(&r->bits[w], 0, __ATOMIC_SEQ_CST);
		out[w] |= v;
	}
}

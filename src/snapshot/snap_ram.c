// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snap_ram.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ULL
#define WORD_BITS 64

static bool page_is_zero(const u8 *p)
{
	const u64 *w = (const u64 *)p;

	for (unsigned int i = 0; i < PAGE / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static u64 region_pages(const struct mem_region *r)
{
	return r->size / PAGE;
}

static u64 bitmap_words(u64 pages)
{
	return (pages + WORD_BITS - 1) / WORD_BITS;
}

static bool bit_test(const u64 *bm, u64 i)
{
	return bm[i / WORD_BITS] >> (i % WORD_BITS) & 1;
}

/* The region's pages to store, as 64-bit words; the count in *stored. */
static u64 *pick_pages(const struct mem_region *r, const struct dirty_bitmap *only,
		       unsigned int region, u64 *stored)
{
	u64 pages = region_pages(r);
	u64 *bm = calloc(bitmap_words(pages) ? bitmap_words(pages) : 1, 8);

	if (!bm)
		return NULL;
	*stored = 0;
	for (u64 i = 0; i < pages; i++) {
		bool take;

		if (only) {
			const unsigned long *d = only->regions[region].bits;

			take = d[i / DIRTY_BITS_PER_WORD] >> (i % DIRTY_BITS_PER_WORD) & 1;
		} else {
			take = !page_is_zero(r->hva + i * PAGE);
		}
		if (take) {
			bm[i / WORD_BITS] |= 1ULL << (i % WORD_BITS);
			(*stored)++;
		}
	}
	return bm;
}

static void put_u64(struct snap_out *o, u64 v)
{
	u8 b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
	snap_out_bytes(o, b, 8);
}

int snap_ram_write(struct snap_out *o, const struct guest_mem *mem,
		   const struct dirty_bitmap *only, struct snap_ram_stats *st)
{
	u64 *maps[GUEST_MEM_MAX_REGIONS] = { 0 };
	u64 stored[GUEST_MEM_MAX_REGIONS] = { 0 };
	u64 len = 0;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		maps[i] = pick_pages(&mem->regions[i], only, i, &stored[i]);
		if (!maps[i]) {
			o->error = ENOMEM;
			goto out;
		}
		len += 24 + bitmap_words(region_pages(&mem->regions[i])) * 8 + stored[i] * PAGE;
		st->pages_stored += stored[i];
	}
	st->bytes = len;
	snap_section_begin(o, SNAP_RAM_SECTION, len);
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		u64 pages = region_pages(r);

		put_u64(o, r->gpa);
		put_u64(o, r->size);
		put_u64(o, stored[i]);
		for (u64 w = 0; w < bitmap_words(pages); w++)
			put_u64(o, maps[i][w]);
		for (u64 p = 0; p < pages && !o->error; p++)
			if (bit_test(maps[i], p))
				snap_out_bytes(o, r->hva + p * PAGE, PAGE);
	}
	snap_section_end(o);
	ret = o->error ? -1 : 0;
out:
	for (unsigned int i = 0; i < GUEST_MEM_MAX_REGIONS; i++)
		free(maps[i]);
	return ret;
}

static int get_u64(struct snap_in *in, u64 *v, const char *what)
{
	u8 b[8];

	if (snap_in_bytes(in, b, 8, what))
		return -1;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (u64)b[i] << (8 * i);
	return 0;
}

static int read_region(struct snap_in *in, u64 *left, const struct mem_region *r,
		       unsigned int idx, bool diff)
{
	u64 gpa, size, stored, count = 0, pages = region_pages(r);
	u64 words = bitmap_words(pages), need;
	u64 *bm;
	int ret = -1;

	if (*left < 24 || get_u64(in, &gpa, "a RAM region") || get_u64(in, &size, "a RAM region") ||
	    get_u64(in, &stored, "a RAM region"))
		return *left < 24 ? snap_in_fail(in, "section 'ram' is too short") : -1;
	*left -= 24;
	if (gpa != r->gpa || size != r->size)
		return snap_in_fail(in, "RAM region %u is %#llx+%#llx in the file, %#llx+%#llx here",
				    idx, (unsigned long long)gpa, (unsigned long long)size,
				    (unsigned long long)r->gpa, (unsigned long long)r->size);
	if (stored > pages)
		return snap_in_fail(in, "RAM region %u stores %llu pages of %llu", idx,
				    (unsigned long long)stored, (unsigned long long)pages);
	need = words * 8 + stored * PAGE;
	if (need > *left)
		return snap_in_fail(in, "section 'ram' is shorter than its region %u", idx);
	bm = malloc(words ? words * 8 : 8);
	if (!bm)
		return snap_in_fail(in, "out of memory");
	for (u64 w = 0; w < words; w++)
		if (get_u64(in, &bm[w], "a RAM bitmap"))
			goto out;
	if (pages % WORD_BITS && words && bm[words - 1] >> (pages % WORD_BITS)) {
		snap_in_fail(in, "RAM region %u's bitmap names pages past its end", idx);
		goto out;
	}
	for (u64 w = 0; w < words; w++)
		count += __builtin_popcountll(bm[w]);
	if (count != stored) {
		snap_in_fail(in, "RAM region %u's bitmap has %llu pages, its count says %llu", idx,
			     (unsigned long long)count, (unsigned long long)stored);
		goto out;
	}
	/* Pages go straight into the region: p < pages keeps them inside it. */
	for (u64 p = 0; p < pages; p++) {
		u8 *hva = r->hva + p * PAGE;

		if (bit_test(bm, p)) {
			if (snap_in_bytes(in, hva, PAGE, "a RAM page"))
				goto out;
		} else if (!diff && !page_is_zero(hva)) {
			memset(hva, 0, PAGE);
		}
	}
	*left -= need;
	ret = 0;
out:
	free(bm);
	return ret;
}

int snap_ram_read(struct snap_in *in, u64 len, const struct guest_mem *mem, bool diff)
{
	u64 left = len;

	for (unsigned int i = 0; i < mem->nr_regions; i++)
		if (read_region(in, &left, &mem->regions[i], i, diff))
			return -1;
	if (left)
		return snap_in_fail(in, "section 'ram' has %llu bytes more than its regions",
				    (unsigned long long)left);
	return 0;
}

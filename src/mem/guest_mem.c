// SPDX-License-Identifier: Apache-2.0
#include "mem/guest_mem.h"

#include <string.h>

int guest_mem_add_region(struct guest_mem *mem, u64 gpa, u64 size, u8 *hva)
{
	unsigned int i;

	if (mem->nr_regions >= GUEST_MEM_MAX_REGIONS || size == 0)
		return -1;
	if (gpa + size < gpa)
		return -1;
	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -1;
	}
	mem->regions[mem->nr_regions++] = (struct mem_region){
		.gpa = gpa, .size = size, .hva = hva,
	};
	mem->ram_size += size;
	return 0;
}

const struct mem_region *guest_mem_find(const struct guest_mem *mem, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *gpa_to_hva(const struct guest_mem *mem, u64 gpa, u64 len)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		u64 off = gpa - r->gpa;

		/*
		 * Unsigned arithmetic: a gpa below the region wraps to a huge
		 * offset, and comparing len against the room left cannot
		 * overflow the way gpa + len could.
		 */
		if (off > r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_read(const struct guest_mem *mem, u64 gpa, void *buf, u64 len)
{
	void *src = gpa_to_hva(mem, gpa, len);

	if (!src)
		return -1;
	memcpy(buf, src, len);
	return 0;
}

int guest_write(const struct guest_mem *mem, u64 gpa, const void *buf, u64 len)
{
	void *dst = gpa_to_hva(mem, gpa, len);

	if (!dst)
		return -1;
	memcpy(dst, buf, len);
	guest_mem_dirty(mem, gpa, len);
	return 0;
}

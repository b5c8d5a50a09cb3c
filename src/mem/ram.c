// SPDX-License-Identifier: Apache-2.0
/* The guest RAM allocator: backing, KSM marking and pre-allocation. */
#include "mem/ram.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "api/stats_format.h"
#include "lib/log.h"
#include "mem/hugetlb.h"
#include "mem/ksm.h"

/* x86-64's smaller huge page: the alignment that lets the host and KVM use it. */
#define RAM_ALIGN (2 * MiB)
#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

/*
 * Anonymous memory aligned to RAM_ALIGN: over-reserve by the alignment and
 * give the slack back, so that the mapping is exactly size bytes.
 */
static u8 *anon_map_aligned(u64 size, bool noreserve)
{
	u64 len = size + RAM_ALIGN;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0);
	u8 *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	u8 *start, *end;

	if (p == MAP_FAILED) {
		pr_err("cannot reserve %llu MiB of guest RAM: %m", size / MiB);
		return NULL;
	}
	start = (u8 *)ALIGN_UP((uintptr_t)p, RAM_ALIGN);
	end = start + size;
	if (start > p)
		munmap(p, start - p);
	if (p + len > end)
		munmap(end, p + len - end);
	return start;
}

static bool thp_disabled(void)
{
	char line[128] = "";
	FILE *f = fopen(THP_ENABLED, "re");

	if (!f)
		return true;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "[never]") != NULL;
}

static u8 *thp_map(u64 size, bool noreserve)
{
	u8 *ram = anon_map_aligned(size, noreserve);

	if (!ram)
		return NULL;
	if (madvise(ram, size, MADV_HUGEPAGE)) {
		pr_err("--mem-backing thp: MADV_HUGEPAGE: %m (is the kernel built with "
		       "CONFIG_TRANSPARENT_HUGEPAGE?)");
		ram_free(ram, size);
		return NULL;
	}
	if (thp_disabled())
		pr_warn("--mem-backing thp: transparent huge pages are disabled on this host ("
			THP_ENABLED " says never): guest RAM gets 4K pages");
	return ram;
}

static u8 *hugetlb_create(u64 size, const struct ram_options *opts)
{
	u64 page = ram_page_size(opts);
	struct hugetlb_pool pool;
	char why[512], name[16];

	if (hugetlb_pool_read(HUGETLB_SYSFS, page, &pool)) {
		pr_err("--mem-backing hugetlb: this host has no %s huge pages (no "
		       HUGETLB_SYSFS "/hugepages-%llukB)",
		       hugetlb_size_name(page, name, sizeof(name)), page / KiB);
		return NULL;
	}
	if (hugetlb_pool_check(&pool, size, why, sizeof(why))) {
		pr_err("%s", why);
		return NULL;
	}
	return hugetlb_map(size, page, opts->hugetlbfs_dir);
}

/* Refuses up front what would end in the OOM killer half-way through. */
static int prealloc_fits(u64 size)
{
	u64 avail;

	if (proc_read_field("/proc/meminfo", "MemAvailable", &avail) || size <= avail)
		return 0;
	pr_err("--mem-prealloc: %llu MiB of guest RAM is more than the %llu MiB the host "
	       "has available", size / MiB, avail / MiB);
	return -1;
}

/*
 * Commits every page now: MADV_POPULATE_WRITE (Linux 5.14) fails cleanly
 * when memory runs out; older kernels get a write to each page.
 */
static int ram_prealloc(u8 *ram, u64 size, u64 page_size)
{
	if (!madvise(ram, size, MADV_POPULATE_WRITE))
		return 0;
	if (errno != EINVAL) {
		pr_err("--mem-prealloc: cannot populate %llu MiB of guest RAM: %m",
		       size / MiB);
		return -1;
	}
	for (u64 off = 0; off < size; off += page_size)
		((volatile u8 *)ram)[off] = 0;
	return 0;
}

u8 *ram_create(u64 size, const struct ram_options *opts)
{
	static const struct ram_options lazy_anon;
	u8 *ram;

	if (!opts)
		opts = &lazy_anon;
	if (opts->prealloc && opts->backing != RAM_BACKING_HUGETLB && prealloc_fits(size))
		return NULL;
	switch (opts->backing) {
	case RAM_BACKING_HUGETLB:
		ram = hugetlb_create(size, opts);
		break;
	case RAM_BACKING_THP:
		ram = thp_map(size, !opts->prealloc);
		break;
	default:
		ram = anon_map_aligned(size, !opts->prealloc);
		break;
	}
	if (!ram)
		return NULL;
	/*
	 * A fork() (a helper Kiln may start) must not copy or share guest RAM.
	 * The flag also keeps the kernel from merging the mapping with a
	 * neighbouring anonymous one, so guest RAM stays one mapping of its
	 * own in /proc/PID/smaps, where tools (bench/probe) find it by size.
	 */
	if (madvise(ram, size, MADV_DONTFORK))
		pr_warn("cannot mark guest RAM MADV_DONTFORK: %m");
	if (opts->ksm && ksm_mark_mergeable(ram, size))
		goto fail;
	if (opts->prealloc && ram_prealloc(ram, size, ram_page_size(opts)))
		goto fail;
	return ram;
fail:
	ram_free(ram, size);
	return NULL;
}

u8 *ram_alloc(u64 size)
{
	return ram_create(size, NULL);
}

void ram_free(u8 *ram, u64 size)
{
	if (ram)
		munmap(ram, size);
}

int ram_resident_bytes(const u8 *ram, u64 size, u64 *bytes)
{
	unsigned char vec[4096];
	const u64 chunk = sizeof(vec) * RAM_PAGE_SIZE;
	u64 pages = 0;

	for (u64 off = 0; off < size; off += chunk) {
		u64 len = MIN(size - off, chunk);

		if (mincore((void *)(ram + off), len, vec))
			return -1;
		for (u64 i = 0; i < (len + RAM_PAGE_SIZE - 1) / RAM_PAGE_SIZE; i++)
			pages += vec[i] & 1;
	}
	*bytes = pages * RAM_PAGE_SIZE;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_HUGETLB_H
#define KILN_MEM_HUGETLB_H

#include <stddef.h>

#include "lib/types.h"

/*
 * The host's pool of huge pages of one size, as
 * /sys/kernel/mm/hugepages/hugepages-<size>kB/ shows it.
 */
struct hugetlb_pool {
	u64 page_size;
	u64 total;		/* nr_hugepages */
	u64 free;		/* free_hugepages: not faulted in by anyone */
	u64 resv;		/* resv_hugepages: free, but promised to a mapping */
	u64 overcommit;		/* nr_overcommit_hugepages: may be allocated on demand */
	u64 surplus;		/* surplus_hugepages: on-demand pages in use */
};

#define HUGETLB_SYSFS "/sys/kernel/mm/hugepages"

/* Reads the pool of page_size pages under sysfs_dir (HUGETLB_SYSFS). */
int hugetlb_pool_read(const char *sysfs_dir, u64 page_size, struct hugetlb_pool *pool);

/* Pages of the pool's size that ram_size bytes take, rounded up. */
u64 hugetlb_pages_needed(u64 ram_size, u64 page_size);

/* Pages a new mapping can still reserve: free minus reserved, plus overcommit. */
u64 hugetlb_pool_available(const struct hugetlb_pool *pool);

/*
 * 0 when the pool can back ram_size bytes; otherwise -1, and err says how
 * many pages are needed, how many are free and how to grow the pool.
 */
int hugetlb_pool_check(const struct hugetlb_pool *pool, u64 ram_size, char *err,
		       size_t err_len);

/* "2M", "1G": a page size for messages. */
const char *hugetlb_size_name(u64 page_size, char *buf, size_t len);

/*
 * Maps size bytes of hugetlb pages (MAP_SHARED), from a memfd, or from an
 * unlinked file in the hugetlbfs mount dir when dir is not NULL. The file
 * is closed once mapped: the mapping keeps the pages. Prints why and
 * returns NULL on failure.
 */
u8 *hugetlb_map(u64 size, u64 page_size, const char *dir);

/* The page size of a hugetlbfs mount; -1 when dir is not hugetlbfs. */
int hugetlbfs_page_size(const char *dir, u64 *page_size);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_RAM_H
#define KILN_MEM_RAM_H

#include <stddef.h>

#include "lib/types.h"

/*
 * Guest RAM's host mapping: one contiguous mapping, aligned to 2 MiB (or
 * the huge page size) so that the host and KVM can back it with huge
 * pages; machine/memmap.c slices it into guest-physical regions.
 *
 * Lazy by default: nothing is touched, and anonymous RAM is MAP_NORESERVE,
 * so the host commits a page only when the guest first writes it. That is
 * what lets guests whose RAM adds up to more than the host's run together.
 */

#define RAM_PAGE_SIZE 4096ULL

enum ram_backing {
	RAM_BACKING_ANON,	/* anonymous, 4 KiB pages (the default) */
	RAM_BACKING_THP,	/* anonymous with MADV_HUGEPAGE */
	RAM_BACKING_HUGETLB,	/* hugetlb pages: a memfd, or a file on hugetlbfs */
};

/* How guest RAM is backed: --mem-backing, --ksm, --mem-prealloc. */
struct ram_options {
	enum ram_backing backing;
	u64 page_size;			/* hugetlb: 2 MiB or 1 GiB; 0 means 4 KiB */
	const char *hugetlbfs_dir;	/* hugetlb path=DIR, or NULL for a memfd */
	bool ksm;			/* MADV_MERGEABLE */
	bool prealloc;			/* populate every page before the guest starts */
};

/*
 * Parses --mem-backing: "anon", "thp", "hugetlb[,size=2M|1G][,path=DIR]".
 * Fills opts' backing, page_size and hugetlbfs_dir (pointing into spec).
 * Returns -1 with why in err.
 */
int ram_parse_backing(const char *spec, struct ram_options *opts, char *err, size_t err_len);

/*
 * Checks the options against each other and the RAM size before anything
 * is allocated: a hugetlbfs path=DIR must be a hugetlbfs mount (its page
 * size is filled in), the RAM size a multiple of the page size, and KSM
 * cannot merge hugetlb pages. Returns -1 with why in err.
 */
int ram_check_options(u64 size, struct ram_options *opts, char *err, size_t err_len);

/* The page size the backing uses: 4 KiB unless hugetlb. */
u64 ram_page_size(const struct ram_options *opts);

/*
 * Maps size bytes of guest RAM as opts asks (NULL: anonymous, lazy). For
 * hugetlb, checks first that the host's pool has the pages, and says how
 * many it needs and has when it does not. With prealloc, every page is
 * populated, or it fails. Prints why and returns NULL on failure. The
 * result is released with ram_free(ram, size) whatever the backing.
 */
u8 *ram_create(u64 size, const struct ram_options *opts);

/* ram_create(size, NULL): anonymous, MAP_NORESERVE, nothing touched. */
u8 *ram_alloc(u64 size);
void ram_free(u8 *ram, u64 size);

/* Bytes of [ram, ram + size) the host has resident (mincore); -1 on error. */
int ram_resident_bytes(const u8 *ram, u64 size, u64 *bytes);

#endif

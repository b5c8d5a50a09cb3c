// SPDX-License-Identifier: Apache-2.0
#include "mem/ksm.h"

#include <sys/mman.h>

#include "lib/log.h"
#include "mem/host_files.h"
#include "mem/ram.h"

bool ksm_running(void)
{
	u64 run;

	return !host_read_u64(KSM_SYSFS "/run", &run) && run == 1;
}

int ksm_mark_mergeable(u8 *ram, u64 size)
{
	if (madvise(ram, size, MADV_MERGEABLE)) {
		pr_err("--ksm: cannot mark %llu MiB of guest RAM mergeable: %m "
		       "(is the kernel built with CONFIG_KSM?)", size / MiB);
		return -1;
	}
	if (!ksm_running())
		pr_warn("--ksm: ksmd is not running (" KSM_SYSFS "/run is not 1): nothing "
			"is merged until it is");
	return 0;
}

int ksm_merging_pages(u64 *pages)
{
	return host_read_u64("/proc/self/ksm_merging_pages", pages);
}

u64 ksm_merged_permille(u64 merged_pages, u64 ram_size)
{
	u64 ram_pages = ram_size / RAM_PAGE_SIZE;

	if (!ram_pages)
		return 0;
	/* A page count times 1000 cannot overflow: 2^40 bytes is 2^28 pages. */
	return MIN(merged_pages, ram_pages) * 1000 / ram_pages;
}

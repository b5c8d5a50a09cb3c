/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_KSM_H
#define KILN_MEM_KSM_H

#include "lib/types.h"

/*
 * Kernel samepage merging of guest RAM (--ksm). Kiln only marks the RAM
 * mergeable; ksmd, when /sys/kernel/mm/ksm/run is 1, does the merging.
 */

#define KSM_SYSFS "/sys/kernel/mm/ksm"

/* MADV_MERGEABLE on [ram, ram + size); warns when ksmd is not running. */
int ksm_mark_mergeable(u8 *ram, u64 size);

/* True when ksmd is merging (/sys/kernel/mm/ksm/run is 1). */
bool ksm_running(void);

/*
 * Pages of this process that KSM has merged, shared or not, from
 * /proc/self/ksm_merging_pages (Linux 5.19 and later); -1 when the kernel
 * does not say.
 */
int ksm_merging_pages(u64 *pages);

/* Merged share of ram_size bytes in thousandths, from a merged page count. */
u64 ksm_merged_permille(u64 merged_pages, u64 ram_size);

#endif

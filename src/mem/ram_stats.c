// SPDX-License-Identifier: Apache-2.0
#include "mem/ram_stats.h"

#include "api/stats_format.h"
#include "machine/stats.h"
#include "mem/hugetlb.h"
#include "mem/ksm.h"

#define GROUP "memory"

static void report_backing(const struct guest_mem *mem, const struct ram_options *opts,
			   const struct stats_visitor *v)
{
	u64 page = ram_page_size(opts);
	struct hugetlb_pool pool;
	u64 value;

	stats_emit(v, GROUP, "page_size_bytes", page);
	stats_emit(v, GROUP, "hugetlb", opts->backing == RAM_BACKING_HUGETLB);
	stats_emit(v, GROUP, "thp", opts->backing == RAM_BACKING_THP);
	stats_emit(v, GROUP, "prealloc", opts->prealloc);
	if (opts->backing == RAM_BACKING_HUGETLB) {
		stats_emit(v, GROUP, "hugetlb_pages", mem->map_size / page);
		if (!hugetlb_pool_read(HUGETLB_SYSFS, page, &pool)) {
			stats_emit(v, GROUP, "hugetlb_pool_pages", pool.total);
			stats_emit(v, GROUP, "hugetlb_pool_free", pool.free);
		}
	}
	/* Kiln's own THP: only guest RAM asks for it. */
	if (!proc_read_field("/proc/self/smaps_rollup", "AnonHugePages", &value))
		stats_emit(v, GROUP, "thp_bytes", value);
}

static void report_ksm(const struct guest_mem *mem, const struct ram_options *opts,
		       const struct stats_visitor *v)
{
	u64 merged;

	stats_emit(v, GROUP, "ksm", opts->ksm);
	if (ksm_merging_pages(&merged))
		return;
	stats_emit(v, GROUP, "ksm_merged_pages", merged);
	stats_emit(v, GROUP, "ksm_merged_permille", ksm_merged_permille(merged, mem->ram_size));
}

void ram_report_stats(const struct guest_mem *mem, const struct ram_options *opts,
		      const struct stats_visitor *v)
{
	u64 value;

	if (!mem->base)
		return;
	report_backing(mem, opts, v);
	if (!ram_resident_bytes(mem->base, mem->map_size, &value))
		stats_emit(v, GROUP, "touched_bytes", value);
	if (!proc_read_field("/proc/self/status", "VmRSS", &value))
		stats_emit(v, GROUP, "rss_bytes", value);
	report_ksm(mem, opts, v);
}

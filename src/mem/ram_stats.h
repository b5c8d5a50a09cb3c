/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_RAM_STATS_H
#define KILN_MEM_RAM_STATS_H

#include "mem/guest_mem.h"
#include "mem/ram.h"

struct stats_visitor;

/*
 * Guest RAM as the host holds it, as group "memory" (--stats, GET /stats,
 * /metrics; docs/MEMORY.md lists the figures): the backing's page size and
 * switches, the bytes of guest RAM touched (resident), Kiln's RSS, KSM's
 * merged pages and share of guest RAM, and the hugetlb pool or THP use.
 */
void ram_report_stats(const struct guest_mem *mem, const struct ram_options *opts,
		      const struct stats_visitor *v);

#endif

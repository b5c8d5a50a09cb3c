/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_STATS_FORMAT_H
#define KILN_API_STATS_FORMAT_H

#include <stddef.h>

#include "lib/types.h"
#include "machine/stats.h"

struct json_object;

/* A stats visitor that gathers {"group": {"name": value}} (GET /stats). */
struct stats_json {
	struct json_object *root;
};

void stats_json_init(struct stats_json *sj);
void stats_json_emit(void *ctx, const char *group, const char *name, u64 value);

/*
 * A stats visitor that renders the Prometheus text exposition format
 * (GET /metrics). The mapping, documented in docs/API.md:
 *  - a group ending in digits becomes a label: "vcpu3" -> {vcpu="3"} on
 *    family kiln_vcpu_<name>;
 *  - "exits_<reason>" becomes kiln_<base>_exits_total{reason="<reason>"};
 *  - other names map to kiln_<base>_<name>; characters outside
 *    [a-zA-Z0-9_] become '_'.
 * Samples of one family are printed together under one # TYPE line
 * (counter for *_total, untyped otherwise: the visitor does not say).
 */
struct prom_sample;

struct prom_writer {
	struct prom_sample *samples;
	size_t nr, cap;
	bool out_of_memory;
};

void prom_writer_init(struct prom_writer *w);
void prom_writer_free(struct prom_writer *w);
void prom_emit(void *ctx, const char *group, const char *name, u64 value);
/* Renders the gathered samples into a malloc'd text; -1 when out of memory. */
int prom_format(struct prom_writer *w, char **out, size_t *out_len);

/*
 * This process's memory as the host sees it, as group "host_mem":
 * rss_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes,
 * hugetlb_bytes, anon_huge_bytes (THP), ksm_merging_pages (when the
 * kernel has /proc/self/ksm_merging_pages), and the host's hugetlbfs pool
 * (hugepages_pool, hugepages_pool_free, hugepage_size_bytes).
 */
void host_mem_report(const struct stats_visitor *v);

/* Finds "key: N kB" (or "key: N") in a /proc file; 0 on success. */
int proc_read_field(const char *path, const char *key, u64 *value);

#endif

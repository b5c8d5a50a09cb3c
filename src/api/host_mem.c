// SPDX-License-Identifier: Apache-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/stats_format.h"
#include "mem/host_files.h"

int proc_read_field(const char *path, const char *key, u64 *value)
{
	size_t key_len = strlen(key);
	char line[256];
	int ret = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + key_len, *end;
		unsigned long long v;

		if (strncmp(line, key, key_len) || *p != ':')
			continue;
		v = strtoull(p + 1, &end, 10);
		if (end == p + 1)
			break;
		while (*end == ' ' || *end == '\t')
			end++;
		*value = strncmp(end, "kB", 2) ? v : v * 1024;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

struct host_field {
	const char *path;
	const char *key;	/* NULL: the file holds one number */
	const char *name;
};

/* Missing files or fields (older kernels) are left out, not reported as 0. */
static const struct host_field host_fields[] = {
	{ "/proc/self/status", "VmRSS", "rss_bytes" },
	{ "/proc/self/status", "RssAnon", "rss_anon_bytes" },
	{ "/proc/self/status", "RssFile", "rss_file_bytes" },
	{ "/proc/self/status", "RssShmem", "rss_shmem_bytes" },
	{ "/proc/self/status", "HugetlbPages", "hugetlb_bytes" },
	{ "/proc/self/smaps_rollup", "AnonHugePages", "anon_huge_bytes" },
	{ "/proc/self/ksm_merging_pages", NULL, "ksm_merging_pages" },
	{ "/proc/meminfo", "HugePages_Total", "hugepages_pool" },
	{ "/proc/meminfo", "HugePages_Free", "hugepages_pool_free" },
	{ "/proc/meminfo", "Hugepagesize", "hugepage_size_bytes" },
};

void host_mem_report(const struct stats_visitor *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_fields); i++) {
		const struct host_field *f = &host_fields[i];
		u64 value;
		int ret = f->key ? proc_read_field(f->path, f->key, &value)
				 : host_read_u64(f->path, &value);

		if (!ret)
			stats_emit(v, "host_mem", f->name, value);
	}
}

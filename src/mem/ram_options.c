// SPDX-License-Identifier: Apache-2.0
/* --mem-backing, and the checks on the RAM options before anything is mapped. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem/hugetlb.h"
#include "mem/ram.h"

/* x86-64's huge page sizes, under the spellings a user may type. */
static const struct {
	const char *name;
	u64 size;
} huge_sizes[] = {
	{ "2M", 2 * MiB }, { "2MB", 2 * MiB }, { "2MiB", 2 * MiB }, { "2048K", 2 * MiB },
	{ "1G", GiB }, { "1GB", GiB }, { "1GiB", GiB }, { "1024M", GiB },
};

#define DEFAULT_HUGE_PAGE (2 * MiB)

static int parse_huge_size(const char *s, u64 *size)
{
	for (size_t i = 0; i < ARRAY_SIZE(huge_sizes); i++) {
		if (!strcasecmp(s, huge_sizes[i].name)) {
			*size = huge_sizes[i].size;
			return 0;
		}
	}
	return -1;
}

/* The options after "hugetlb,": size=2M|1G, then path=DIR last. */
static int parse_hugetlb_opts(const char *spec, const char *p, struct ram_options *opts,
			      char *err, size_t err_len)
{
	for (;;) {
		size_t n = strcspn(p, ",");
		char opt[64];

		if (!strncmp(p, "path=", 5)) {
			if (!p[5] || strchr(p + 5, ',')) {
				snprintf(err, err_len, "--mem-backing '%s': path= takes a directory "
					 "with no comma in it, and comes last", spec);
				return -1;
			}
			opts->hugetlbfs_dir = p + 5;
			return 0;
		}
		if (n == 0 || n >= sizeof(opt)) {
			snprintf(err, err_len, "--mem-backing '%s': empty or overlong option", spec);
			return -1;
		}
		memcpy(opt, p, n);
		opt[n] = '\0';
		if (strncmp(opt, "size=", 5) || parse_huge_size(opt + 5, &opts->page_size)) {
			snprintf(err, err_len, "--mem-backing '%s': unknown option '%s' (hugetlb takes "
				 "size=2M or size=1G, and path=DIR of a hugetlbfs mount)", spec, opt);
			return -1;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int ram_parse_backing(const char *spec, struct ram_options *opts, char *err, size_t err_len)
{
	opts->page_size = 0;
	opts->hugetlbfs_dir = NULL;
	if (!strcmp(spec, "anon") || !strcmp(spec, "default")) {
		opts->backing = RAM_BACKING_ANON;
		return 0;
	}
	if (!strcmp(spec, "thp")) {
		opts->backing = RAM_BACKING_THP;
		return 0;
	}
	if (!strncmp(spec, "hugetlb", 7) && (spec[7] == '\0' || spec[7] == ',')) {
		opts->backing = RAM_BACKING_HUGETLB;
		if (spec[7] == ',')
			return parse_hugetlb_opts(spec, spec + 8, opts, err, err_len);
		return 0;
	}
	snprintf(err, err_len, "--mem-backing '%s': use anon, thp or hugetlb[,size=2M|1G]"
		 "[,path=DIR]", spec);
	return -1;
}

u64 ram_page_size(const struct ram_options *opts)
{
	if (opts && opts->backing == RAM_BACKING_HUGETLB)
		return opts->page_size ? opts->page_size : DEFAULT_HUGE_PAGE;
	return RAM_PAGE_SIZE;
}

/* path=DIR: its page size wins, and must agree with an explicit size=. */
static int resolve_hugetlbfs(struct ram_options *opts, char *err, size_t err_len)
{
	char want[16], have[16];
	u64 fs_page;

	if (hugetlbfs_page_size(opts->hugetlbfs_dir, &fs_page)) {
		snprintf(err, err_len, "--mem-backing hugetlb,path=%s: not a hugetlbfs mount "
			 "(mount -t hugetlbfs -o pagesize=2M none DIR)", opts->hugetlbfs_dir);
		return -1;
	}
	if (opts->page_size && opts->page_size != fs_page) {
		snprintf(err, err_len, "--mem-backing hugetlb: size=%s but %s holds %s pages",
			 hugetlb_size_name(opts->page_size, want, sizeof(want)),
			 opts->hugetlbfs_dir, hugetlb_size_name(fs_page, have, sizeof(have)));
		return -1;
	}
	opts->page_size = fs_page;
	return 0;
}

int ram_check_options(u64 size, struct ram_options *opts, char *err, size_t err_len)
{
	char name[16];
	u64 page;

	if (opts->backing == RAM_BACKING_HUGETLB) {
		if (opts->hugetlbfs_dir && resolve_hugetlbfs(opts, err, err_len))
			return -1;
		opts->page_size = ram_page_size(opts);
		if (opts->ksm) {
			snprintf(err, err_len, "--ksm cannot merge hugetlb pages: use "
				 "--mem-backing thp or anon with --ksm");
			return -1;
		}
	}
	page = ram_page_size(opts);
	if (size % page) {
		hugetlb_size_name(page, name, sizeof(name));
		snprintf(err, err_len, "--mem %llu MiB is not a multiple of the %s page "
			 "size of --mem-backing (try --mem %lluM)", size / MiB, name,
			 ALIGN_UP(size, page) / MiB);
		return -1;
	}
	return 0;
}

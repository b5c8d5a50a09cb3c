// SPDX-License-Identifier: Apache-2.0
/*
 * hugetlb-backed guest RAM: the pool check that runs before the guest
 * starts, and the mapping itself.
 */
#include "mem/hugetlb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/log.h"
#include "mem/host_files.h"

const char *hugetlb_size_name(u64 page_size, char *buf, size_t len)
{
	if (page_size >= GiB && !(page_size % GiB))
		snprintf(buf, len, "%lluG", page_size / GiB);
	else if (page_size >= MiB && !(page_size % MiB))
		snprintf(buf, len, "%lluM", page_size / MiB);
	else
		snprintf(buf, len, "%lluK", page_size / KiB);
	return buf;
}

static int read_u64_file(const char *dir, const char *name, u64 *value)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return host_read_u64(path, value);
}

int hugetlb_pool_read(const char *sysfs_dir, u64 page_size, struct hugetlb_pool *pool)
{
	char dir[PATH_MAX];

	*pool = (struct hugetlb_pool){ .page_size = page_size };
	snprintf(dir, sizeof(dir), "%s/hugepages-%llukB", sysfs_dir, page_size / KiB);
	if (read_u64_file(dir, "nr_hugepages", &pool->total) ||
	    read_u64_file(dir, "free_hugepages", &pool->free))
		return -1;
	/* Older kernels lack some of these; absent means none. */
	read_u64_file(dir, "resv_hugepages", &pool->resv);
	read_u64_file(dir, "nr_overcommit_hugepages", &pool->overcommit);
	read_u64_file(dir, "surplus_hugepages", &pool->surplus);
	return 0;
}

u64 hugetlb_pages_needed(u64 ram_size, u64 page_size)
{
	return ram_size / page_size + (ram_size % page_size != 0);
}

u64 hugetlb_pool_available(const struct hugetlb_pool *pool)
{
	u64 unreserved = pool->free > pool->resv ? pool->free - pool->resv : 0;
	u64 on_demand = pool->overcommit > pool->surplus ? pool->overcommit - pool->surplus : 0;

	return unreserved + on_demand;
}

int hugetlb_pool_check(const struct hugetlb_pool *pool, u64 ram_size, char *err,
		       size_t err_len)
{
	unsigned long long need = hugetlb_pages_needed(ram_size, pool->page_size);
	unsigned long long have = hugetlb_pool_available(pool);
	char name[16];

	if (need <= have)
		return 0;
	hugetlb_size_name(pool->page_size, name, sizeof(name));
	snprintf(err, err_len,
		 "--mem-backing hugetlb: %llu MiB of guest RAM needs %llu huge pages of %s, "
		 "but the host's pool has %llu free (%llu pages in all, %llu unused, %llu of "
		 "those reserved by other mappings); add at least %llu to " HUGETLB_SYSFS
		 "/hugepages-%llukB/nr_hugepages",
		 ram_size / MiB, need, name, have, (unsigned long long)pool->total,
		 (unsigned long long)pool->free, (unsigned long long)pool->resv, need - have,
		 pool->page_size / KiB);
	return -1;
}

int hugetlbfs_page_size(const char *dir, u64 *page_size)
{
	struct statfs st;

	if (statfs(dir, &st) || st.f_type != HUGETLBFS_MAGIC)
		return -1;
	*page_size = st.f_bsize;
	return 0;
}

/* An unlinked file on the hugetlbfs mount: gone when the mapping is. */
static int hugetlbfs_open(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/kiln-ram-XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

u8 *hugetlb_map(u64 size, u64 page_size, const char *dir)
{
	unsigned int huge_flag = (unsigned int)__builtin_ctzll(page_size) << MFD_HUGE_SHIFT;
	int fd;
	void *p;

	if (dir)
		fd = hugetlbfs_open(dir);
	else
		fd = memfd_create("kiln-guest-ram", MFD_CLOEXEC | MFD_HUGETLB | huge_flag);
	if (fd < 0) {
		pr_err("--mem-backing hugetlb: cannot create the RAM file%s%s: %m",
		       dir ? " in " : "", dir ? dir : "");
		return NULL;
	}
	if (ftruncate(fd, size)) {
		pr_err("--mem-backing hugetlb: cannot size the RAM file to %llu MiB: %m",
		       size / MiB);
		close(fd);
		return NULL;
	}
	/* No MAP_NORESERVE: the pool reserves every page now, or mmap fails. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		pr_err("--mem-backing hugetlb: cannot map %llu MiB of huge pages: %m%s",
		       size / MiB, errno == ENOMEM ? " (the pool shrank or another process "
		       "reserved pages since the check)" : "");
		return NULL;
	}
	return p;
}

// SPDX-License-Identifier: Apache-2.0
#include "mem/ram.h"

#include <sys/mman.h>

#include "lib/log.h"

u8 *ram_alloc(u64 size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		pr_err("cannot reserve %llu MiB of guest RAM: %m",
		       (unsigned long long)(size >> 20));
		return NULL;
	}
	return p;
}

void ram_free(u8 *ram, u64 size)
{
	if (ram)
		munmap(ram, size);
}

// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/initrd.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "machine/boot/image.h"
#include "machine/boot/placement.h"
#include "machine/vm.h"

#define INITRD_ALIGN (4 * KiB)

int initrd_load(struct vm *vm, u64 lo, u64 hi, bool high, struct initrd_info *out)
{
	const char *path = vm->cfg->initrd_path;
	u64 size, addr;
	void *dst;
	int fd;

	memset(out, 0, sizeof(*out));
	if (!path)
		return 0;
	fd = boot_open_regular("initrd", path, &size);
	if (fd < 0)
		return -1;

	lo = ALIGN_UP(lo, INITRD_ALIGN);
	if (lo >= hi || size > hi - lo) {
		pr_err("initrd %s: %" PRIu64 " bytes do not fit in guest RAM between %#" PRIx64
		       " and %#" PRIx64, path, size, lo, hi);
		goto fail;
	}
	addr = high ? ALIGN_DOWN(hi - size, INITRD_ALIGN) : lo;
	if (!boot_range_usable(vm, addr, size) ||
	    !(dst = gpa_to_hva(&vm->mem, addr, size))) {
		pr_err("initrd %s: %#" PRIx64 "..%#" PRIx64 " is not usable guest RAM",
		       path, addr, addr + size);
		goto fail;
	}
	/* Straight into guest RAM: an initrd can be most of it. */
	if (boot_read_full(fd, dst, size)) {
		pr_err("initrd %s: read error", path);
		goto fail;
	}
	close(fd);
	*out = (struct initrd_info){ .present = true, .addr = addr, .size = size };
	return 0;
fail:
	close(fd);
	return -1;
}

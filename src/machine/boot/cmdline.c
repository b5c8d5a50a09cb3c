// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/cmdline.h"

#include <inttypes.h>
#include <string.h>

#include "lib/log.h"
#include "machine/layout.h"
#include "machine/vm.h"

int boot_cmdline_write(struct vm *vm, const char *prefix, u64 max_len)
{
	const char *cmdline = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	u64 clen = strlen(cmdline);
	/* The prefix and, when a command line follows, a space. */
	u64 plen = prefix ? strlen(prefix) + (clen ? 1 : 0) : 0;
	u64 addr = LAYOUT_CMDLINE;

	max_len = MIN(max_len, LAYOUT_CMDLINE_MAX - 1);
	if (plen + clen > max_len) {
		pr_err("kernel command line is %" PRIu64 " bytes; this kernel takes at most %" PRIu64,
		       plen + clen, max_len);
		return -1;
	}
	if (prefix && (guest_write(&vm->mem, addr, prefix, strlen(prefix)) ||
		       (clen && guest_write(&vm->mem, addr + plen - 1, " ", 1))))
		goto fail;
	if (guest_write(&vm->mem, addr + plen, cmdline, clen + 1))
		goto fail;
	return 0;
fail:
	pr_err("boot: no guest RAM for the command line at %#" PRIx64, addr);
	return -1;
}

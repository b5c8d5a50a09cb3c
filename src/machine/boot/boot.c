// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/boot.h"

#include "lib/log.h"

int boot_load(struct vm *vm, struct cpu_state *bsp)
{
	(void)vm;
	(void)bsp;
	pr_err("the boot loader is not yet available");
	return -1;
}

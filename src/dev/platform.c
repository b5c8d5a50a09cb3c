// SPDX-License-Identifier: Apache-2.0
#include "dev/platform.h"

int platform_devices_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

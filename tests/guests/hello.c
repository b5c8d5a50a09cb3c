// SPDX-License-Identifier: Apache-2.0
/* The smallest guest: one line on COM1; the runner looks for it on stdout. */
#include "guest.h"

void guest_main(void)
{
	serial_puts("Hello from Kiln\n");
}

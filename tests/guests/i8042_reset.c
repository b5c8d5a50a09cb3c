// SPDX-License-Identifier: Apache-2.0
/* Reboot through the keyboard controller's pulse-reset command: Kiln exits 4. */
#include "guest.h"
#include "machine/layout.h"

#define I8042_CMD_PULSE_RESET 0xfe
#define I8042_STATUS_INPUT_FULL 0x02
#define I8042_READY_POLLS 1000
#define RESET_WAIT_LOOPS 100000

void guest_main(void)
{
	int i;

	/* A command may only be written once the controller's input buffer is empty. */
	for (i = 0; i < I8042_READY_POLLS; i++)
		if (!(inb(PORT_I8042_CMD) & I8042_STATUS_INPUT_FULL))
			break;
	CHECK(i < I8042_READY_POLLS, "the i8042 input buffer never empties (status 0x%x)",
	      inb(PORT_I8042_CMD));
	outb(PORT_I8042_CMD, I8042_CMD_PULSE_RESET);
	for (i = 0; i < RESET_WAIT_LOOPS; i++)
		cpu_relax();
	guest_fail("still running after the i8042 reset command");
}

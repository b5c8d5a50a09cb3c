// SPDX-License-Identifier: Apache-2.0
/*
 * Exactly EXIT_COUNT_IO port writes and EXIT_COUNT_MMIO reads of unclaimed
 * MMIO, then the debug-exit port with no other I/O at all: the runner
 * checks --stats reports exits_io = EXIT_COUNT_IO + 1 and exits_mmio =
 * EXIT_COUNT_MMIO for vcpu0.
 */
#include "guest.h"
#include "machine/layout.h"

#define EXIT_COUNT_IO 1000
#define EXIT_COUNT_MMIO 100
/* In the PCI window, below the IOAPIC, where no BAR is placed this early. */
#define UNCLAIMED_MMIO (LAYOUT_PCI_MMIO_END - 0x1000)

void guest_main(void)
{
	for (int i = 0; i < EXIT_COUNT_IO; i++)
		outb(PORT_POST, (u8)i);
	for (int i = 0; i < EXIT_COUNT_MMIO; i++) {
		u32 v = mmio_read32(UNCLAIMED_MMIO);

		/* Unclaimed MMIO reads all ones, as on a PC. */
		CHECK(v == 0xffffffff, "unclaimed MMIO at 0x%llx read 0x%x", UNCLAIMED_MMIO, v);
	}
	guest_exit_quietly(0);
}

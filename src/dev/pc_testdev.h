/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_PC_TESTDEV_H
#define KILN_DEV_PC_TESTDEV_H

#include "lib/types.h"

/*
 * The ISA test device kvm-unit-tests expects (QEMU's -device pc-testdev),
 * present only with --testdev:
 *   0xe0-0xe3    a 32-bit scratch register, any width at any byte: what is
 *                written reads back (port I/O and string I/O checks);
 *   0xe4-0xe7    "flush page": takes a guest-physical address. QEMU drops
 *                the host mapping so KVM refaults it during event delivery;
 *                Kiln accepts and ignores it, since neither engine caches a
 *                page in a way a guest could observe;
 *   0xe8-0xeb    the same scratch register, byte-wide view;
 *   0x2000+n     n < 24: writing v sets interrupt line GSI n to (v != 0),
 *                what the IOAPIC tests use to raise edges and levels;
 *   MMIO at LAYOUT_TESTDEV_IOMEM, 64 KiB that read back what was written:
 *                memory the engine must emulate access by access (the
 *                emulator test runs its ALU, string and SSE checks there).
 */

struct vm;

#define PC_TESTDEV_PORT_SCRATCH		0xe0
#define PC_TESTDEV_PORT_FLUSH		0xe4
#define PC_TESTDEV_PORT_SCRATCH_BYTE	0xe8
#define PC_TESTDEV_PORT_IRQ		0x2000
#define PC_TESTDEV_NR_IRQ_LINES		24	/* the IOAPIC's pins */
#define PC_TESTDEV_IOMEM_SIZE		0x10000

int pc_testdev_create(struct vm *vm);

#endif

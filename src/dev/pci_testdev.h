/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_PCI_TESTDEV_H
#define KILN_DEV_PCI_TESTDEV_H

#include "lib/types.h"

/*
 * The PCI test device kvm-unit-tests drives (QEMU's -device pci-testdev,
 * 1b36:0005), present only with --testdev: BAR0 is 4 KiB of MMIO, BAR1
 * 256 I/O ports, each holding the same three "doorbell" tests so a guest
 * can time MMIO and port-I/O exits.
 *
 * The first half of a BAR is a read-only header describing the selected
 * test (the layout below, then its NUL-terminated name, "mmio-no-eventfd"
 * and so on); writing a
 * test number to byte 0 selects it and zeroes its count, and a number out
 * of range deselects (the header then reads as zeros, which is how
 * drivers find the end of the list). A write at the test's doorbell
 * offset (in the second half) adds one to count; the datamatch test counts
 * only writes of the advertised width and data value. Kiln has no
 * ioeventfds, so every test counts every write: the "eventfd" names are
 * QEMU's, kept so results compare line by line.
 */

struct vm;

#define PCI_TESTDEV_VENDOR_ID	0x1b36	/* Red Hat */
#define PCI_TESTDEV_DEVICE_ID	0x0005
#define PCI_TESTDEV_MEM_SIZE	4096
#define PCI_TESTDEV_IO_SIZE	256
#define PCI_TESTDEV_NR_TESTS	3
#define PCI_TESTDEV_DATAMATCH	0xfa	/* the datamatch test's value */
#define PCI_TESTDEV_NOMATCH	0xce	/* what the other tests advertise */

/* The header's layout (little endian), as kvm-unit-tests' lib/pci.h. */
#define PCI_TESTDEV_HDR_TEST	0	/* u8, write: select */
#define PCI_TESTDEV_HDR_WIDTH	1	/* u8: 1, 2 or 4 */
#define PCI_TESTDEV_HDR_OFFSET	4	/* u32: the doorbell, from the BAR start */
#define PCI_TESTDEV_HDR_DATA	8	/* u32 */
#define PCI_TESTDEV_HDR_COUNT	12	/* u32 */
#define PCI_TESTDEV_HDR_NAME	16	/* NUL-terminated */

int pci_testdev_create(struct vm *vm);

#endif

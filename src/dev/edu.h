/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_EDU_H
#define KILN_DEV_EDU_H

#include "lib/types.h"

struct vm;

/*
 * QEMU's "edu" educational PCI device (1234:11e8, QEMU's docs/specs/edu),
 * which kvm-unit-tests' intel_iommu test drives (--device edu):
 *
 *  - BAR0, 1 MiB of MMIO: identification, liveness check (inversion),
 *    factorial, status, interrupt status/raise/acknowledge, and a DMA
 *    engine (source, destination, count, command) between guest memory
 *    and a 4 KiB buffer the device shows at EDU_DMA_BUF_ADDR;
 *  - INTA, or one 64-bit MSI vector when the guest enables it.
 *
 * Its DMA goes through the IOMMU when there is one (iommu/iommu.h), with
 * the device's requester ID; guest-side addresses are masked to 28 bits,
 * as the specification's default dma_mask. Factorials and transfers finish
 * before the register write that starts them returns.
 */

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_BAR_SIZE		(1u << 20)
#define EDU_ID_VALUE		0x010000edu	/* version 1.0 */

#define EDU_REG_ID		0x00
#define EDU_REG_ALIVE		0x04
#define EDU_REG_FACTORIAL	0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_INTR_STATUS	0x24
#define EDU_REG_INTR_RAISE	0x60
#define EDU_REG_INTR_ACK	0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQ_FACT	0x80
#define EDU_CMD_START		0x01
#define EDU_CMD_FROM_DEVICE	0x02	/* buffer to guest memory */
#define EDU_CMD_IRQ		0x04
#define EDU_IRQ_FACT		0x001	/* interrupt status value, factorial done */
#define EDU_IRQ_DMA		0x100	/* interrupt status value, transfer done */

#define EDU_DMA_BUF_ADDR	0x40000
#define EDU_DMA_BUF_SIZE	4096
#define EDU_DMA_MASK		((1ULL << 28) - 1)

int edu_create(struct vm *vm);

#endif

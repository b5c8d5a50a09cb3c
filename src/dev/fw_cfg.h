/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_FW_CFG_H
#define KILN_DEV_FW_CFG_H

#include "lib/types.h"

/*
 * QEMU's firmware configuration device, legacy port interface only: a
 * 16-bit write to 0x510 selects an item, byte reads (0x511) stream it.
 * Guests written for QEMU (kvm-unit-tests reads the CPU count and RAM size
 * here; SeaBIOS and others probe the signature) find the machine's shape
 * without parsing tables. No DMA interface (FW_CFG_ID says so), no file
 * directory entries, and data writes are ignored, as on QEMU since 2.4.
 *
 * Selecting a key Kiln does not hold reads as zeros, as QEMU does, which is
 * also what an empty file directory (0x19), no NUMA nodes (0x0d) or a nil
 * UUID (0x02) look like.
 */

struct vm;

/* Selector keys (QEMU's numbering, which guests hard-code). */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_IRQ0_OVERRIDE	(FW_CFG_ARCH_LOCAL + 2)

/* FW_CFG_ID bits. */
#define FW_CFG_VERSION_TRADITIONAL	(1u << 0)

#define FW_CFG_NR_PORTS		2	/* selector (16-bit) and data (8-bit) */

/* A standalone item table, so tests can drive it without a bus. */
struct fw_cfg;

struct fw_cfg *fw_cfg_new(void);
void fw_cfg_free(struct fw_cfg *fw);
/* Copies len bytes as item key; -1 when the key is taken or on no memory. */
int fw_cfg_add(struct fw_cfg *fw, u16 key, const void *data, size_t len);
void fw_cfg_select(struct fw_cfg *fw, u16 key);
/* The next byte of the selected item, 0 past its end or for unknown keys. */
u8 fw_cfg_next_byte(struct fw_cfg *fw);

/*
 * Builds the items from vm->cfg (RAM size, CPU count) and claims ports
 * PORT_FW_CFG..+1 on vm->pio_bus.
 */
int fw_cfg_create(struct vm *vm);

#endif

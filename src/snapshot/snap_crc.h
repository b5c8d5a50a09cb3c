/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_CRC_H
#define KILN_SNAPSHOT_SNAP_CRC_H

#include <stddef.h>

#include "lib/types.h"

/*
 * CRC-32C (Castagnoli), what every snapshot section and the header carry.
 * Chained: crc = snap_crc32c(crc, next_chunk, len), starting from 0. Uses
 * the SSE4.2 instruction when the host has it, a table otherwise; both
 * give the same value.
 */
u32 snap_crc32c(u32 crc, const void *data, size_t len);

#endif

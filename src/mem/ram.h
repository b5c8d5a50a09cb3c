/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_RAM_H
#define KILN_MEM_RAM_H

#include "lib/types.h"

/*
 * Reserves size bytes of guest RAM without touching it: MAP_NORESERVE, so
 * the host commits pages only as the guest writes them.
 */
u8 *ram_alloc(u64 size);
void ram_free(u8 *ram, u64 size);

#endif

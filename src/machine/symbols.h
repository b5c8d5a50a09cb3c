/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_SYMBOLS_H
#define KILN_MACHINE_SYMBOLS_H

#include <stddef.h>

#include "lib/types.h"

/*
 * Names addr as "symbol+0xoff" from a System.map file. Returns -1 when
 * there is no map or no symbol at or below addr.
 */
int symbols_lookup(const char *system_map, u64 addr, char *out, size_t len);

#endif

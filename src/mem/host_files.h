/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_HOST_FILES_H
#define KILN_MEM_HOST_FILES_H

#include "lib/types.h"

/* Reads a sysfs or procfs file that holds one decimal number; 0 on success. */
int host_read_u64(const char *path, u64 *value);

#endif

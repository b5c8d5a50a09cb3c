/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IO_PERM_H
#define KILN_ENGINE_SOFT_IO_PERM_H

#include "engine/soft/cpu.h"

/* #GP(0) unless the CPU may access ports [port, port + size). */
void io_check_perm(struct soft_cpu *cpu, u16 port, unsigned int size);

#endif

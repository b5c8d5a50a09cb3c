/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_GUEST_SMP_H
#define KILN_GUEST_SMP_H

/* Shared by the SMP guest's C and its real-mode trampoline. */
#define TRAMPOLINE_BASE 0x30000		/* SIPI vector 0x30; free low RAM */
#define AP_STACK_SHIFT 12		/* 4 KiB per AP */
#define MAX_APS 254

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_COMPARE_H
#define KILN_TESTS_DIFFTEST_COMPARE_H

#include "dt.h"

/* What differed, as bits. */
#define D_VECTOR	(1u << 0)
#define D_ERRCODE	(1u << 1)
#define D_CR2		(1u << 2)
#define D_RIP		(1u << 3)
#define D_GPR		(1u << 4)
#define D_FLAGS		(1u << 5)
#define D_XMM		(1u << 6)
#define D_MXCSR		(1u << 7)
#define D_X87		(1u << 8)
#define D_MEM		(1u << 9)
#define D_SOFTERR	(1u << 10)

struct dt_diff {
	unsigned int kinds;
	char text[4096];
};

/* True when they differ where it counts; d says how. */
bool dt_compare(const struct dt_seq *seq, const struct dt_outcome *native,
		const struct dt_outcome *soft, struct dt_diff *d);

/* The undefined state where a run stopped at rip (all: scratch space). */
const struct dt_taint *dt_taint_at(const struct dt_seq *seq, u64 rip, struct dt_taint *all);

/* "gpr,rflags" for a kinds mask. */
void dt_kinds_text(unsigned int kinds, char *out, size_t n);

#endif

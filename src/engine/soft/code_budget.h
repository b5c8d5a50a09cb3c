/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_CODE_BUDGET_H
#define KILN_ENGINE_SOFT_CODE_BUDGET_H

#include <stddef.h>

#include "lib/types.h"

/*
 * How much memory the translated-code caches may hold: the decoded-block
 * arena (block.c) and, with the same figure, the compiled code (jit.c).
 * When either is full, everything is flushed and its memory goes back to
 * the host. The limit starts small, since a Linux boot's working set fits
 * in it with a few flushes; a workload that flushes again soon after a
 * flush (it thrashes) doubles it, and a long calm between two flushes
 * halves it again, never below where it started.
 */

/* The starting limit. */
#define CODE_BUDGET_BASE (8 * MiB)
/* A flush sooner than this after the previous one doubles the limit. */
#define CODE_BUDGET_THRASH_NS (100ULL * 1000 * 1000)
/* A flush later than this after the previous one halves it. */
#define CODE_BUDGET_CALM_NS (10ULL * 1000 * 1000 * 1000)

struct code_budget {
	size_t base;		/* where the limit starts and comes back to */
	size_t limit;		/* bytes allowed now */
	size_t max;		/* never more (what is reserved) */
	u64 last_flush_ns;	/* CLOCK_MONOTONIC of the last flush; 0: none yet */
};

/*
 * The starting limit: KILN_SOFT_CODE_CACHE_KB (64 or more; max at the
 * most) fixes it, so that tests can make flushes frequent; otherwise it
 * grows and shrinks between CODE_BUDGET_BASE and max.
 */
void code_budget_init(struct code_budget *cb, size_t max);

/* A full flush happens at now_ns: returns the limit from now on. */
size_t code_budget_flushed(struct code_budget *cb, u64 now_ns);

#endif

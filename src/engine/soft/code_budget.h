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
 * in it with a few flushes. At each flush, the guest instructions run
 * since the previous one, per instruction translated meanwhile, say
 * whether the cache is too small: translating an instruction (decoding,
 * compiling, running it interpreted until it is hot again) costs about as
 * much as running a hundred or so, so a workload whose instructions run
 * fewer than CODE_BUDGET_THRASH_RATIO times each before a flush throws
 * them away, twice in a row, spends much of its time translating: the
 * limit doubles. (Once is not enough: a Linux boot has a burst of new code
 * at 265 runs per instruction, then goes back to 400-7000.) When they ran
 * more than CODE_BUDGET_CALM_RATIO times each, it halves, never below
 * where it started. Counting work instead of time keeps the decision the
 * same on a fast, a slow or a loaded host.
 */

/* The starting limit. */
#define CODE_BUDGET_BASE (16 * MiB)
/* Fewer instructions run per instruction translated: the limit doubles. */
#define CODE_BUDGET_THRASH_RATIO 256
/* More: it halves. */
#define CODE_BUDGET_CALM_RATIO 65536

struct code_budget {
	size_t base;		/* where the limit starts and comes back to */
	size_t limit;		/* bytes allowed now */
	size_t max;		/* never more (what is reserved) */
	u64 run, translated;	/* the counts at the last flush */
	unsigned int thrashing;	/* flushes in a row below the thrash ratio */
};

/*
 * The starting limit: KILN_SOFT_CODE_CACHE_KB (64 or more; max at the
 * most) fixes it, so that tests can make flushes frequent; otherwise it
 * grows and shrinks between CODE_BUDGET_BASE and max.
 */
void code_budget_init(struct code_budget *cb, size_t max);

/*
 * A full flush, after run guest instructions and translated instructions
 * in all (since the cache was made): returns the limit from now on.
 */
size_t code_budget_flushed(struct code_budget *cb, u64 run, u64 translated);

#endif

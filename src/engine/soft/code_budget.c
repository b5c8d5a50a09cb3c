// SPDX-License-Identifier: Apache-2.0
/* The translated-code caches' size limit (see code_budget.h). */
#include "engine/soft/code_budget.h"

#include <stdlib.h>

void code_budget_init(struct code_budget *cb, size_t max)
{
	const char *env = getenv("KILN_SOFT_CODE_CACHE_KB");

	*cb = (struct code_budget){ .base = MIN((size_t)CODE_BUDGET_BASE, max), .max = max };
	if (env) {
		unsigned long long kb = strtoull(env, NULL, 0);

		/* Fixed: a test wants exactly this many flushes, not fewer. */
		if (kb >= 64)
			cb->base = cb->max = MIN(kb, (unsigned long long)max >> 10) << 10;
	}
	cb->limit = cb->base;
}

size_t code_budget_flushed(struct code_budget *cb, u64 run, u64 translated)
{
	u64 ran = run - cb->run, new = translated - cb->translated;

	if (new && ran < new * CODE_BUDGET_THRASH_RATIO) {
		if (++cb->thrashing >= 2 && cb->limit <= cb->max / 2) {
			cb->limit *= 2;
			cb->thrashing = 0;
		}
	} else {
		cb->thrashing = 0;
		if (ran / CODE_BUDGET_CALM_RATIO > new && cb->limit / 2 >= cb->base)
			cb->limit /= 2;
	}
	cb->run = run;
	cb->translated = translated;
	return cb->limit;
}

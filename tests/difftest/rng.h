/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_RNG_H
#define KILN_TESTS_DIFFTEST_RNG_H

#include "lib/types.h"

/*
 * Deterministic random numbers: splitmix64 seeding a xoshiro256** state.
 * Every sequence and every template in it gets its own stream, derived
 * from the run's seed, so one can be regenerated (and shrunk) alone.
 */
struct rng {
	u64 s[4];
};

static inline u64 splitmix64(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A seed for item i of the stream named by seed (sequence n, template k). */
static inline u64 rng_derive(u64 seed, u64 i)
{
	u64 x = seed ^ (i * 0xd1342543de82ef95ULL);

	return splitmix64(&x);
}

static inline void rng_seed(struct rng *r, u64 seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline u64 rng_next(struct rng *r)
{
	u64 *s = r->s, t = s[1] << 17;
	u64 res = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = s[3] << 45 | s[3] >> 19;
	return res;
}

/* Uniform in [0, n), n > 0. */
static inline u32 rng_below(struct rng *r, u32 n)
{
	return (u32)(((rng_next(r) >> 32) * n) >> 32);
}

/* True with probability num/den. */
static inline bool rng_chance(struct rng *r, u32 num, u32 den)
{
	return rng_below(r, den) < num;
}

/* Uniform in [lo, hi]. */
static inline s64 rng_range(struct rng *r, s64 lo, s64 hi)
{
	return lo + (s64)(rng_next(r) % (u64)(hi - lo + 1));
}

u64 rng_value(struct rng *r, unsigned int size);
u64 rng_fp_bits(struct rng *r, unsigned int size);

#endif

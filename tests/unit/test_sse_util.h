/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the SSE and x87 unit tests: a seeded random source, operand
 * generators biased towards the values that find bugs (zeros, infinities,
 * NaNs, denormals, integer boundaries, rounding ties), and a way to run a
 * host instruction that may trap with SIGFPE and learn what it did.
 */
#ifndef KILN_TEST_SSE_UTIL_H
#define KILN_TEST_SSE_UTIL_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "lib/types.h"

/* Cases per instruction; KILN_SSE_CASES overrides (e.g. for a long soak). */
static inline unsigned int test_cases(unsigned int dflt)
{
	const char *e = getenv("KILN_SSE_CASES");

	return e ? (unsigned int)strtoul(e, NULL, 0) : dflt;
}

/* xorshift64*, seeded from KILN_SSE_SEED or a fixed value: reproducible. */
static u64 rng_state;

static inline void rng_seed(void)
{
	const char *e = getenv("KILN_SSE_SEED");

	rng_state = e ? strtoull(e, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (!rng_state)
		rng_state = 1;
}

static inline u64 rng64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static inline u32 rng_below(u32 n)
{
	return (u32)(rng64() % n);
}

/*
 * A float of width bits (32 or 64) with the given exponent and mantissa
 * widths, drawn from the categories below.
 */
static inline u64 rand_fp_bits(unsigned int ebits, unsigned int mbits)
{
	const u64 mmask = (1ULL << mbits) - 1, emax = (1ULL << ebits) - 1;
	const u64 sign = (rng64() & 1) << (ebits + mbits);
	const u64 bias = emax >> 1;
	u64 m = rng64() & mmask, e;

	switch (rng_below(14)) {
	case 0: /* zero */
		return sign;
	case 1: /* infinity */
		return sign | emax << mbits;
	case 2: /* quiet NaN, random payload */
		return sign | emax << mbits | 1ULL << (mbits - 1) | m;
	case 3: /* signalling NaN: quiet bit clear, payload non-zero */
		m &= mmask >> 1;
		return sign | emax << mbits | (m ? m : 1);
	case 4: /* denormal */
		return sign | (m ? m : 1);
	case 5: /* near the top: products and sums overflow */
		return sign | (emax - 1 - rng_below(4)) << mbits | m;
	case 6: /* near the bottom: results underflow */
		return sign | (u64)(1 + rng_below(4)) << mbits | m;
	case 7: /* one, and its neighbours */
		return sign | bias << mbits | (m & 3);
	case 8: /* integer boundaries for the conversions: 2^30 .. 2^64 */
		e = bias + 30 + rng_below(35);
		return sign | e << mbits | (rng64() & 1 ? 0 : m & 0xff) |
		       (rng64() & 1 ? mmask & ~0xffULL : 0);
	case 9: /* halves: rounding ties */
		e = bias + rng_below(24);
		return sign | e << mbits | ((m >> 24) << 24) |
		       (1ULL << (mbits > 24 ? 23 : mbits - 1));
	case 10: /* small integers and simple fractions */
		return sign | (bias - 4 + rng_below(12)) << mbits |
		       (m & ~(mmask >> 3));
	default: /* any bits */
		return sign | (rng64() & (emax << mbits)) | m;
	}
}

static inline u32 rand_f32(void)
{
	return (u32)rand_fp_bits(8, 23);
}

static inline u64 rand_f64(void)
{
	return rand_fp_bits(11, 52);
}

/* An integer of the given width, biased to the edges of every type. */
static inline u64 rand_int(unsigned int bits)
{
	static const u64 edges[] = {
		0, 1, -1ULL, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x1000001, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, 0x20000000000001ULL,
	};
	u64 v, mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;

	switch (rng_below(4)) {
	case 0:
		v = edges[rng_below(ARRAY_SIZE(edges))] + rng_below(3) - 1;
		break;
	case 1: /* small, either sign */
		v = (u64)(s64)(s8)rng64();
		break;
	default:
		v = rng64() >> rng_below(64);
		if (rng64() & 1)
			v = -v;
		break;
	}
	return v & mask;
}

/*
 * A random MXCSR: any rounding mode, DAZ and FTZ either way, any sticky
 * flags already set, and usually every exception masked, since that is
 * how programs run; otherwise a random set of masks.
 */
static inline u32 rand_mxcsr(void)
{
	u32 v = (u32)rng64() & 0xffff;

	if (rng_below(3))
		v |= 0x1f80;
	if (rng_below(2))
		v &= ~0x3fu;
	return v;
}

/*
 * Running an instruction that may raise an unmasked SIMD or x87
 * exception. Install with trap_install() at the start of a test (cmocka
 * installs its own SIGFPE handler around each test), then:
 *
 *	if (!sigsetjmp(trap_env, 1)) { ...asm... } else { trapped }
 *
 * trap_mxcsr and trap_fsw hold the MXCSR and x87 status at the fault.
 */
static sigjmp_buf trap_env;
static volatile u32 trap_mxcsr;
static volatile u16 trap_fsw;
static volatile int trap_count;
static struct sigaction trap_old;

static void trap_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	(void)si;
	trap_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	trap_fsw = uc->uc_mcontext.fpregs->swd;
	trap_count++;
	siglongjmp(trap_env, 1);
}

static inline void trap_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGFPE, &sa, &trap_old);
}

static inline void trap_remove(void)
{
	sigaction(SIGFPE, &trap_old, NULL);
}

/* After a trap the handler's FPU state remains: put the host's back. */
static inline void host_fpu_reset(void)
{
	u32 m = 0x1f80;

	asm volatile("fninit\n\tldmxcsr %0" : : "m"(m));
}

#endif

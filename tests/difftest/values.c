// SPDX-License-Identifier: Apache-2.0
/* Random values biased toward the cases where implementations go wrong. */
#include "rng.h"

static u64 mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

u64 rng_value(struct rng *r, unsigned int size)
{
	unsigned int bits = size * 8;
	u64 m = mask_of(size), sign = 1ULL << (bits - 1), a;

	switch (rng_below(r, 10)) {
	case 0: {
		const u64 edge[] = { 0, 1, m, m - 1, sign, sign - 1, sign + 1, 2 };

		return edge[rng_below(r, ARRAY_SIZE(edge))];
	}
	case 1: {
		u64 p = 1ULL << rng_below(r, bits);

		switch (rng_below(r, 4)) {
		case 0: return p;
		case 1: return (p - 1) & m;
		case 2: return (0 - p) & m;
		default: return (p + 1) & m;
		}
	}
	case 2:
		return (u64)rng_range(r, -16, 16) & m;
	case 3:
		/* Small values in the low bits, random above: sign-extension bugs. */
		a = rng_next(r) & ~0xffULL & m;	/* one draw a statement (gen.c fp_pair()) */
		return a | rng_below(r, 256);
	case 4:
		/* Values whose 8/16/32-bit parts are edges. */
		a = rng_next(r) & m;
		return a ^ (u64)(0xffULL << (8 * rng_below(r, size)));
	default:
		return rng_next(r) & m;
	}
}

/* IEEE single (size 4) or double (size 8) bit patterns. */
u64 rng_fp_bits(struct rng *r, unsigned int size)
{
	bool dbl = size == 8;
	unsigned int mbits = dbl ? 52 : 23, ebits = dbl ? 11 : 8;
	u64 emax = (1ULL << ebits) - 1, bias = emax >> 1;
	u64 mant = rng_next(r) & ((1ULL << mbits) - 1), exp, sign = rng_below(r, 2);

	switch (rng_below(r, 12)) {
	case 0: exp = 0; mant = 0; break;			/* zero */
	case 1: exp = emax; mant = 0; break;			/* infinity */
	case 2: exp = emax; mant |= 1ULL << (mbits - 1); break;/* quiet NaN */
	case 3: exp = emax; mant &= ~(1ULL << (mbits - 1)); mant |= 1; break; /* signalling */
	case 4: exp = 0; mant |= 1; break;			/* denormal */
	case 5: exp = rng_chance(r, 1, 2) ? 1 : emax - 1; break;	/* extremes */
	case 6: exp = bias + rng_below(r, 8); mant = 0; break;	/* small powers of two */
	case 7:
		/* Integers and half-integers: conversion edge cases. */
		exp = bias + rng_below(r, dbl ? 64 : 32);
		mant &= ~((1ULL << (mbits > exp - bias ? mbits - (exp - bias) - 1 : 0)) - 1);
		break;
	default: exp = bias + (u64)rng_range(r, -40, 40); break;
	}
	return sign << (ebits + mbits) | exp << mbits | mant;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tests' own Internet checksum and big-endian field helpers: an
 * oracle written apart from src/virtio/net_csum.c, shared by the tests
 * that build or check frames.
 */
#ifndef KILN_TESTS_NET_REF_H
#define KILN_TESTS_NET_REF_H

#include <stddef.h>

#include "lib/types.h"

/* The ones'-complement sum of p[0..len) added to sum, folded to 16 bits. */
static inline u32 ref_sum(u32 sum, const u8 *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline u16 get16(const u8 *p)
{
	return p[0] << 8 | p[1];
}

#endif

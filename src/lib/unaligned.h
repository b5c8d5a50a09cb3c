/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_LIB_UNALIGNED_H
#define KILN_LIB_UNALIGNED_H

/*
 * Little-endian loads and stores at any alignment, for the byte images
 * Kiln reads and writes (kernel files, FXSAVE and FNSAVE areas, tables).
 * Kiln runs on x86-64 hosts only, so little-endian is the host's order and
 * memcpy() is the whole job: the compiler makes it one move. Network
 * headers are big-endian: get_be16() reads their 16-bit fields.
 */

#include <string.h>

#include "lib/types.h"

static inline u16 get_le16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline u16 get_be16(const u8 *p)
{
	return p[0] << 8 | p[1];
}

static inline u32 get_le32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline u64 get_le64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put_le16(u8 *p, u16 v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_le32(u8 *p, u32 v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_le64(u8 *p, u64 v)
{
	memcpy(p, &v, sizeof(v));
}

#endif

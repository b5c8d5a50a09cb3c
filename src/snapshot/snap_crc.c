// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snap_crc.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82f63b78u	/* reflected */

static u32 table[256];
static bool use_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[i] = c;
	}
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2")))
static u32 crc_hw(u32 c, const u8 *p, size_t len)
{
	u64 c64 = c;

	for (; len >= 8; p += 8, len -= 8) {
		u64 v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = c64;
	for (; len; p++, len--)
		c = __builtin_ia32_crc32qi(c, *p);
	return c;
}

static u32 crc_sw(u32 c, const u8 *p, size_t len)
{
	for (; len; p++, len--)
		c = table[(c ^ *p) & 0xff] ^ (c >> 8);
	return c;
}

u32 snap_crc32c(u32 crc, const void *data, size_t len)
{
	u32 c = ~crc;

	pthread_once(&once, crc_init);
	c = use_hw ? crc_hw(c, data, len) : crc_sw(c, data, len);
	return ~c;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Internet checksums over flat frames (see net_csum.h). The sum is taken
 * over little-endian words; the ones' complement sum does not care about
 * byte order as long as the result is stored the same way (RFC 1071 §2),
 * and 32-bit words fold to the same 16-bit sum as 16-bit ones do.
 */
#include "virtio/net_csum.h"

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/unaligned.h"

#define IPV4_MF		0x2000
#define IPV4_OFFSET	0x1fff

static u32 fold(u64 acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

u32 net_csum_add(u32 sum, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 acc = sum;

	/* Four words per step keep the adds independent; 2^32 of them cannot overflow. */
	while (len >= 16) {
		u32 w[4];

		memcpy(w, p, sizeof(w));
		acc += (u64)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		u32 w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		u16 w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len)
		acc += *p;	/* the last byte, padded with a zero after it */
	return fold(acc);
}

u16 net_csum_finish(u32 sum)
{
	return ~fold(sum) & 0xffff;
}

bool net_csum_complete(u8 *frame, size_t len, size_t start, size_t offset)
{
	u16 c;

	if (start > len || offset > len - start || len - start - offset < 2)
		return false;
	c = net_csum_finish(net_csum_add(0, frame + start, len - start));
	memcpy(frame + start + offset, &c, 2);
	return true;
}

u32 net_csum_pseudo(const u8 *ip, bool v6, u32 l4len, u8 proto)
{
	/* The length and protocol words, in the summing order. */
	u8 t[8] = { l4len >> 24, l4len >> 16, l4len >> 8, l4len, 0, 0, 0, proto };
	u32 sum = v6 ? net_csum_add(0, ip + 8, 32) : net_csum_add(0, ip + 12, 8);

	return net_csum_add(sum, t, sizeof(t));
}

/* The transport header under ip fits and its checksum is present and right. */
static bool l4_valid(const u8 *ip, bool v6, const u8 *l4, size_t l4len, u8 proto)
{
	if (proto == IPPROTO_TCP) {
		if (l4len < 20)
			return false;
	} else if (proto == IPPROTO_UDP) {
		if (l4len < 8 || get_be16(l4 + 6) == 0)	/* 0: sent without one */
			return false;
	} else {
		return false;
	}
	return fold(net_csum_add(net_csum_pseudo(ip, v6, l4len, proto), l4, l4len)) == 0xffff;
}

static bool ipv4_valid(const u8 *ip, size_t avail)
{
	size_t ihl, total;

	if (avail < 20 || ip[0] >> 4 != 4)
		return false;
	ihl = (ip[0] & 0xf) * 4;
	total = get_be16(ip + 2);
	if (ihl < 20 || total < ihl || total > avail)
		return false;
	if (get_be16(ip + 6) & (IPV4_MF | IPV4_OFFSET))
		return false;		/* a fragment: the sum covers the whole datagram */
	return l4_valid(ip, false, ip + ihl, total - ihl, ip[9]);
}

static bool ipv6_valid(const u8 *ip, size_t avail)
{
	size_t payload;

	if (avail < 40 || ip[0] >> 4 != 6)
		return false;
	payload = get_be16(ip + 4);
	if (payload > avail - 40)
		return false;
	/* Only TCP or UDP straight after the fixed header. */
	return l4_valid(ip, true, ip + 40, payload, ip[6]);
}

bool net_csum_valid(const u8 *frame, size_t len)
{
	if (len < ETH_HLEN)
		return false;
	switch (get_be16(frame + 12)) {
	case ETH_P_IP:
		return ipv4_valid(frame + ETH_HLEN, len - ETH_HLEN);
	case ETH_P_IPV6:
		return ipv6_valid(frame + ETH_HLEN, len - ETH_HLEN);
	default:
		return false;
	}
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Transmit headers checked against their frames (see net_gso.h). The
 * frame is the guest's: every offset and length in it or in the header is
 * checked before it is used, and the rules are stricter than the
 * specification's where a looser frame would be no TCP stack's (a GSO
 * frame must be TCP over IPv4 or IPv6 with lengths that agree), so that
 * what the host's stack or our own segmentation gets is well formed.
 */
#include "virtio/net_gso.h"

#include <endian.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/unaligned.h"
#include "virtio/net_csum.h"

#define VLAN_HLEN	4
#define IPV4_FRAG	0x3fff		/* MF and the fragment offset */
#define TCP_CSUM_OFF	16

/* The IP header at l3: sets *l4; NULL or why the frame is not TCP/IP for GSO. */
static const char *check_ip(const u8 *head, size_t avail, size_t len, size_t l3, bool v6,
			    size_t *l4)
{
	const u8 *ip = head + l3;

	if (!v6) {
		size_t ihl;

		if (avail < l3 + 20 || ip[0] >> 4 != 4)
			return "GSO TCPv4 frame without an IPv4 header";
		ihl = (ip[0] & 0xf) * 4;
		if (ihl < 20 || l3 + ihl > avail)
			return "GSO frame with a bad IPv4 header length";
		if (get_be16(ip + 2) != len - l3)
			return "GSO frame whose IPv4 total length is not the frame's";
		if (get_be16(ip + 6) & IPV4_FRAG)
			return "GSO frame that is an IPv4 fragment";
		if (ip[9] != IPPROTO_TCP)
			return "GSO frame that is not TCP";
		*l4 = l3 + ihl;
		return NULL;
	}
	if (avail < l3 + 40 || ip[0] >> 4 != 6)
		return "GSO TCPv6 frame without an IPv6 header";
	if (get_be16(ip + 4) != len - l3 - 40)
		return "GSO frame whose IPv6 payload length is not the frame's";
	if (ip[6] != IPPROTO_TCP)
		return "GSO frame that is not TCP right after the IPv6 header";
	*l4 = l3 + 40;
	return NULL;
}

/* The Ethernet, IP and TCP headers of a GSO frame; fills g's offsets. */
static const char *check_headers(const u8 *head, size_t len, bool v6, struct net_gso *g)
{
	size_t avail = MIN(len, (size_t)NET_GSO_HEAD), l3 = ETH_HLEN, l4, th;
	u16 type;
	const char *why;

	if (avail < ETH_HLEN)
		return "GSO frame shorter than an Ethernet header";
	type = get_be16(head + 12);
	if (type == ETH_P_8021Q) {
		if (avail < ETH_HLEN + VLAN_HLEN)
			return "GSO frame shorter than its VLAN tag";
		type = get_be16(head + 16);
		l3 += VLAN_HLEN;
	}
	if (type != (v6 ? ETH_P_IPV6 : ETH_P_IP))
		return "GSO frame whose ethertype is not its gso_type's";
	why = check_ip(head, avail, len, l3, v6, &l4);
	if (why)
		return why;
	if (g->csum_start != l4 || g->csum_offset != TCP_CSUM_OFF)
		return "GSO frame whose checksum field is not the TCP header's";
	if (avail < l4 + 20)
		return "GSO frame shorter than its TCP header";
	th = (head[l4 + 12] >> 4) * 4;
	if (th < 20 || l4 + th > avail)
		return "GSO frame with a bad TCP header length";
	if (l4 + th >= len)
		return "GSO frame without payload";
	g->l3 = l3;
	g->hdr_len = l4 + th;
	return NULL;
}

const char *net_gso_check(const struct virtio_net_hdr_v1 *hdr, const u8 *head, size_t len,
			  unsigned int allow, struct net_gso *g)
{
	u8 type = hdr->gso_type;

	*g = (struct net_gso){ .type = VIRTIO_NET_HDR_GSO_NONE };
	if (le16toh(hdr->hdr_len) > len)
		return "hdr_len past the frame's end";
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = le16toh(hdr->csum_start), off = le16toh(hdr->csum_offset);

		if (start > len || off > len - start || len - start - off < 2)
			return "checksum field outside the frame";
		g->needs_csum = true;
		g->csum_start = start;
		g->csum_offset = off;
	}
	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return NULL;
	if (!((type == VIRTIO_NET_HDR_GSO_TCPV4 && (allow & NET_GSO_TCPV4)) ||
	      (type == VIRTIO_NET_HDR_GSO_TCPV6 && (allow & NET_GSO_TCPV6))))
		return "a gso_type that was not negotiated";
	if (!g->needs_csum)
		return "GSO without NEEDS_CSUM";
	if (le16toh(hdr->gso_size) < NET_GSO_MIN_SIZE)
		return "gso_size below the minimum";
	g->gso_size = le16toh(hdr->gso_size);
	g->type = type;
	return check_headers(head, len, type == VIRTIO_NET_HDR_GSO_TCPV6, g);
}

void net_gso_whole(u8 *frame, size_t len, const struct net_gso *g)
{
	bool v6 = g->type == VIRTIO_NET_HDR_GSO_TCPV6;
	u8 *ip = frame + g->l3, *th = frame + g->csum_start;
	u32 tcp_len = len - g->csum_start;
	u16 c;

	if (!v6) {
		memset(ip + 10, 0, 2);
		c = net_csum_finish(net_csum_add(0, ip, (ip[0] & 0xf) * 4));
		memcpy(ip + 10, &c, 2);
	}
	memset(th + TCP_CSUM_OFF, 0, 2);
	c = net_csum_finish(net_csum_add(net_csum_pseudo(ip, v6, tcp_len, IPPROTO_TCP), th,
					 tcp_len));
	memcpy(th + TCP_CSUM_OFF, &c, 2);
}

void net_gso_to_hdr(const struct net_gso *g, struct virtio_net_hdr_v1 *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	if (g->needs_csum) {
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = htole16(g->csum_start);
		hdr->csum_offset = htole16(g->csum_offset);
	}
	hdr->gso_type = g->type;
	if (g->type != VIRTIO_NET_HDR_GSO_NONE) {
		hdr->gso_size = htole16(g->gso_size);
		hdr->hdr_len = htole16(g->hdr_len);
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP segments in Ethernet frames, built field by field for the tests of
 * virtio-net's segmentation offloads (test_net_gso, test_virtio_net): as
 * a guest's Linux hands them to its driver for TSO, the checksum field
 * holding the pseudo-header's sum over the whole segment's length.
 */
#ifndef KILN_TESTS_NET_TCP_FRAME_H
#define KILN_TESTS_NET_TCP_FRAME_H

#include <endian.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <string.h>

#include "lib/types.h"
#include "net_ref.h"

#define TF_TCP_HDR	32		/* 20 bytes and a 12-byte timestamp option */
#define TF_SEQ		0xfffff000u	/* wraps within the first 64 KiB */
#define TF_IP_ID	0xfff0		/* wraps too */
#define TF_FLAGS	0x19		/* FIN, PSH, ACK: FIN and PSH belong to the last segment */

struct tcp_frame_opts {
	bool v6;
	bool vlan;			/* one 802.1Q tag */
	size_t payload;
	u16 mss;			/* gso_size; 0: no GSO */
};

/* The offsets of the IP and TCP headers in a frame built from o. */
static inline size_t tf_l3(const struct tcp_frame_opts *o)
{
	return o->vlan ? 18 : 14;
}

static inline size_t tf_l4(const struct tcp_frame_opts *o)
{
	return tf_l3(o) + (o->v6 ? 40 : 20);
}

/* The payload's byte i, shared by the builder and the checks. */
static inline u8 tf_byte(size_t i)
{
	return i * 7 + (i >> 8) + 3;
}

/*
 * Builds the frame into f (room for tf_l4(o) + TF_TCP_HDR + o->payload
 * bytes) and, when hdr is not NULL, the driver's header for it. Returns
 * the frame's length.
 */
static inline size_t tcp_frame(u8 *f, const struct tcp_frame_opts *o,
			       struct virtio_net_hdr_v1 *hdr)
{
	static const u8 src6[16] = { 0xfe, 0xc0, [15] = 0x15 }, dst6[16] = { 0xfe, 0xc0, [15] = 2 };
	size_t l3 = tf_l3(o), l4 = tf_l4(o), tcp_len = TF_TCP_HDR + o->payload;
	size_t len = l4 + tcp_len;
	u8 *ip = f + l3, *th = f + l4, pseudo[40] = { 0 };
	size_t plen;

	memset(f, 0, l4 + TF_TCP_HDR);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x52\x54\x00\xab\xcd\xef", 12);
	if (o->vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, 42);
	}
	put16(f + l3 - 2, o->v6 ? 0x86dd : 0x0800);
	if (o->v6) {
		ip[0] = 0x60;
		put16(ip + 4, tcp_len);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, dst6, 16);
		memcpy(pseudo, ip + 8, 32);
		put16(pseudo + 34, tcp_len);
		pseudo[39] = 6;
		plen = 40;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, 20 + tcp_len);
		put16(ip + 4, TF_IP_ID);
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
		put16(ip + 10, ~ref_sum(0, ip, 20));
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = 6;
		put16(pseudo + 10, tcp_len);
		plen = 12;
	}
	put16(th, 40000);
	put16(th + 2, 5001);
	put16(th + 4, TF_SEQ >> 16);
	put16(th + 6, TF_SEQ & 0xffff);
	put16(th + 8, 0x0a0b);
	put16(th + 10, 0x0c0d);
	th[12] = (TF_TCP_HDR / 4) << 4;
	th[13] = TF_FLAGS;
	put16(th + 14, 512);
	memcpy(th + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
	for (size_t i = 0; i < o->payload; i++)
		th[TF_TCP_HDR + i] = tf_byte(i);
	put16(th + 16, ref_sum(0, pseudo, plen));
	if (hdr) {
		memset(hdr, 0, sizeof(*hdr));
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = htole16(l4);
		hdr->csum_offset = htole16(16);
		if (o->mss) {
			hdr->gso_type = o->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
			hdr->gso_size = htole16(o->mss);
			hdr->hdr_len = htole16(l4 + TF_TCP_HDR);
		}
	}
	return len;
}

/*
 * Whether a frame built from o (its length len now) holds right IPv4
 * header and TCP checksums, by the textbook sums.
 */
static inline bool tf_sums_right(const u8 *f, const struct tcp_frame_opts *o, size_t len)
{
	const u8 *ip = f + tf_l3(o), *th = f + tf_l4(o);
	size_t tcp_len = len - tf_l4(o);
	u8 tail[4] = { 0, 6, tcp_len >> 8, tcp_len };
	u32 sum;

	if (!o->v6 && ref_sum(0, ip, 20) != 0xffff)
		return false;
	sum = o->v6 ? ref_sum(0, ip + 8, 32) : ref_sum(0, ip + 12, 8);
	sum = ref_sum(sum, tail, sizeof(tail));
	return ref_sum(sum, th, tcp_len) == 0xffff;
}

#endif

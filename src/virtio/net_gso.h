/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_NET_GSO_H
#define KILN_VIRTIO_NET_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>

#include "lib/types.h"

/*
 * The virtio-net header of a frame the guest transmits, checked against
 * the frame (virtio 1.2 §5.1.6.2) before anything on the host acts on it:
 * a checksum to fill in, or a TCP segment of up to 64 KiB to cut into
 * gso_size pieces (HOST_TSO4/6). Pure functions over flat bytes, fuzzed.
 */

/* Which segmentation the driver negotiated: net_gso_check()'s allow. */
#define NET_GSO_TCPV4	(1u << 0)
#define NET_GSO_TCPV6	(1u << 1)

/*
 * The smallest gso_size taken: Linux's TCP_MIN_MSS. A smaller one is no
 * TCP stack's, and would let one frame become thousands of segments.
 */
#define NET_GSO_MIN_SIZE	88

/*
 * How much of the frame net_gso_check() reads: an Ethernet header with one
 * 802.1Q tag, IPv4 with options (60) or IPv6 (40), TCP with options (60).
 */
#define NET_GSO_HEAD	(18 + 60 + 60)

/* What a checked header says. */
struct net_gso {
	u8 type;		/* VIRTIO_NET_HDR_GSO_NONE, _TCPV4 or _TCPV6 */
	bool needs_csum;	/* csum_start and csum_offset are in the frame */
	u16 csum_start, csum_offset;
	u16 gso_size;		/* segments' payload; 0 without GSO */
	u16 l3;			/* GSO: the IP header's offset */
	u16 hdr_len;		/* GSO: Ethernet + IP + TCP headers, repeated in each segment */
};

/*
 * Checks hdr against a frame of len bytes, whose first MIN(len,
 * NET_GSO_HEAD) bytes are head (which may be NULL when hdr asks for
 * neither a checksum nor segmentation). allow: the NET_GSO_* the driver may use.
 * Returns NULL and fills g, or why the frame must be dropped. GSO needs
 * NEEDS_CSUM at the TCP header (csum_offset 16), IPv4 without fragments or
 * IPv6 without extension headers, IP lengths that match len, a gso_size
 * of at least NET_GSO_MIN_SIZE and some payload; hdr_len, only a hint,
 * must not exceed len. Flags other than NEEDS_CSUM are ignored.
 */
const char *net_gso_check(const struct virtio_net_hdr_v1 *hdr, const u8 *head, size_t len,
			  unsigned int allow, struct net_gso *g);

/*
 * Makes a checked GSO frame (g from net_gso_check() on these bytes) one
 * whole, valid TCP segment for a peer that takes segments of any size:
 * the IPv4 header's checksum and the TCP checksum computed afresh, over a
 * pseudo-header built from the frame's own addresses and lengths (not the
 * guest's partial sum, whatever it left there).
 */
void net_gso_whole(u8 *frame, size_t len, const struct net_gso *g);

/*
 * The header a host stack that takes them (a tap's vnet header) gets for
 * g: only what was checked, hdr_len exact, num_buffers 0.
 */
void net_gso_to_hdr(const struct net_gso *g, struct virtio_net_hdr_v1 *hdr);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_NET_CSUM_H
#define KILN_VIRTIO_NET_CSUM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/types.h"

/*
 * Internet checksums (RFC 1071) for virtio-net's checksum offloads, done
 * on the host because the guest's CPU may be emulated and far slower per
 * byte. Pure functions over flat frames, fuzzed.
 */

/* The ones' complement sum of buf, folded to 16 bits, added to sum. */
u32 net_csum_add(u32 sum, const void *buf, size_t len);

/*
 * The sum of the pseudo-header (RFC 793, RFC 8200 §8.1) for an l4len-byte
 * transport segment of protocol proto under the IPv4 or IPv6 header at
 * ip: its addresses, the length and the protocol.
 */
u32 net_csum_pseudo(const u8 *ip, bool v6, u32 l4len, u8 proto);

/* ~fold(sum): the value a checksum field holds. */
u16 net_csum_finish(u32 sum);

/*
 * VIRTIO_NET_HDR_F_NEEDS_CSUM on transmit (virtio 1.2 §5.1.6.2): the sum
 * of frame[start, len), with the field at start + offset already holding
 * the pseudo-header's sum, complemented into that field. Returns false,
 * changing nothing, when the field does not lie in the frame.
 */
bool net_csum_complete(u8 *frame, size_t len, size_t start, size_t offset);

/*
 * Whether frame is an Ethernet frame carrying IPv4 or IPv6 TCP or UDP
 * whose checksum is present and right: what VIRTIO_NET_HDR_F_DATA_VALID
 * promises on receive. Anything else (other protocols, IPv4 fragments or
 * options past the frame, IPv6 extension headers, UDP without a
 * checksum, a wrong one) is false, and the guest checks for itself.
 */
bool net_csum_valid(const u8 *frame, size_t len);

#endif

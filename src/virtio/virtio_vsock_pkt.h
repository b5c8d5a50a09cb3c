/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_VSOCK_PKT_H
#define KILN_VIRTIO_VIRTIO_VSOCK_PKT_H

#include <linux/virtio_vsock.h>

#include "lib/types.h"

/*
 * The virtio-vsock packet header (virtio 1.2 §5.10.6), checked before the
 * device acts on it. Pure: no device state, so it is fuzzed on its own.
 */

#define VSOCK_HDR_LEN		sizeof(struct virtio_vsock_hdr)	/* 44 */
#define VSOCK_HOST_CID		2
#define VSOCK_MAX_PAYLOAD	(64 * 1024)	/* Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */

enum vsock_verdict {
	VSOCK_PKT_OK,
	VSOCK_PKT_DROP,		/* not for us: dropped without an answer */
	VSOCK_PKT_RST,		/* malformed: the connection is reset */
};

/*
 * What to do with a packet from the guest whose header is h and which has
 * payload_len bytes after the header. why is set for anything but OK.
 */
enum vsock_verdict vsock_pkt_check(const struct virtio_vsock_hdr *h, u64 guest_cid,
				   u64 payload_len, const char **why);

#endif

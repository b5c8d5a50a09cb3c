// SPDX-License-Identifier: Apache-2.0
#include "virtio/virtio_vsock_pkt.h"

_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "the vsock header is 44 bytes");

enum vsock_verdict vsock_pkt_check(const struct virtio_vsock_hdr *h, u64 guest_cid,
				   u64 payload_len, const char **why)
{
	/* Nothing to answer a packet that is not from our guest to the host. */
	if (h->src_cid != guest_cid || h->dst_cid != VSOCK_HOST_CID) {
		*why = "wrong source or destination CID";
		return VSOCK_PKT_DROP;
	}
	/* An RST is never answered, however malformed. */
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return VSOCK_PKT_OK;
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM) {
		*why = "not a stream packet";
		return VSOCK_PKT_RST;
	}
	if (h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		*why = "unknown operation";
		return VSOCK_PKT_RST;
	}
	if (h->len > payload_len || h->len > VSOCK_MAX_PAYLOAD) {
		*why = "length beyond the buffer or the largest packet";
		return VSOCK_PKT_RST;
	}
	return VSOCK_PKT_OK;
}

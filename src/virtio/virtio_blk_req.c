// SPDX-License-Identifier: Apache-2.0
/* virtio-blk request framing: header, data, status. */
#include "virtio/virtio_blk_req.h"

#include <linux/virtio_blk.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define BLK_HDR_SIZE	16	/* le32 type, le32 reserved, le64 sector */

/* The len bytes of iov after skip, as a new vector in dst; returns its length. */
static unsigned int iov_slice(const struct iovec *iov, unsigned int cnt, u64 skip, u64 len,
			      struct iovec *dst)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cnt && len; i++) {
		u64 take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = MIN(iov[i].iov_len - skip, len);
		dst[n].iov_base = (u8 *)iov[i].iov_base + skip;
		dst[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

int blk_parse(struct vq_elem *e, struct iovec *data, struct blk_parsed *p, const char **why)
{
	const struct iovec *in = vq_elem_in(e);
	u8 hdr[BLK_HDR_SIZE];

	memset(p, 0, sizeof(*p));
	p->data = data;
	if (e->out_len < BLK_HDR_SIZE) {
		*why = "request header is shorter than 16 bytes";
		return -1;
	}
	if (e->in_len < 1) {
		*why = "request has no writable status byte";
		return -1;
	}
	iov_to_buf(e->iov, e->out_num, 0, hdr, sizeof(hdr));
	memcpy(&p->type, hdr, 4);
	memcpy(&p->sector, hdr + 8, 8);
	p->status = (u8 *)in[e->in_num - 1].iov_base + in[e->in_num - 1].iov_len - 1;

	switch (p->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		if (e->out_len != BLK_HDR_SIZE) {
			*why = "read request carries device-readable data";
			return -1;
		}
		p->data_len = e->in_len - 1;
		p->data_cnt = iov_slice(in, e->in_num, 0, p->data_len, data);
		break;
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (e->in_len != 1) {
			*why = "write request carries device-writable data";
			return -1;
		}
		p->data_len = e->out_len - BLK_HDR_SIZE;
		p->data_cnt = iov_slice(e->iov, e->out_num, BLK_HDR_SIZE, p->data_len, data);
		break;
	default:
		break;		/* flush and unknown types carry nothing we look at */
	}
	return 0;
}

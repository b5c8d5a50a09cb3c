/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_BLK_REQ_H
#define KILN_VIRTIO_VIRTIO_BLK_REQ_H

#include <sys/uio.h>

#include "lib/types.h"

/*
 * Splits a popped virtio-blk chain into its parts (virtio 1.2 §5.2.6): the
 * 16-byte header at the front of the readable bytes, the status byte at
 * the very end of the writable ones, and the data between, wherever the
 * driver's buffer boundaries fall. Pure: no device, no disk, so that the
 * fuzzer can feed it anything.
 */

struct vq_elem;

struct blk_parsed {
	u32 type;		/* VIRTIO_BLK_T_* */
	u64 sector;
	u8 *status;		/* host address of the status byte */
	struct iovec *data;	/* the caller's array, of iov_count(elem) entries */
	unsigned int data_cnt;
	u64 data_len;
};


/*
 * Fills p from elem, with data pointing into the caller's array of
 * elem->out_num + elem->in_num iovecs. Returns -1 with why set when the
 * chain cannot be a request: no room for the header or the status, or
 * buffers in the wrong direction for the type (device-writable data for a
 * write, device-readable data for a read).
 */
int blk_parse(struct vq_elem *elem, struct iovec *data, struct blk_parsed *p, const char **why);

#endif

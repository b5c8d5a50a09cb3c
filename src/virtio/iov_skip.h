/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_IOV_SKIP_H
#define KILN_VIRTIO_IOV_SKIP_H

#include <sys/uio.h>

#include "lib/types.h"

/*
 * The iovecs of in[0..cnt) past their first skip bytes, into out (room for
 * cnt entries): a packet's payload after its header, ready for writev().
 * Returns how many entries out holds.
 */
static inline unsigned int iov_skip(const struct iovec *in, unsigned int cnt, size_t skip,
				    struct iovec *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cnt; i++) {
		if (skip >= in[i].iov_len) {
			skip -= in[i].iov_len;
			continue;
		}
		out[n].iov_base = (u8 *)in[i].iov_base + skip;
		out[n].iov_len = in[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

#endif

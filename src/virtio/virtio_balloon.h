/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_BALLOON_H
#define KILN_VIRTIO_VIRTIO_BALLOON_H

#include "lib/types.h"

struct vm;
struct virtio_device;

struct virtio_balloon_options {
	u64 target_mib;			/* the initial size */
	bool deflate_on_oom;		/* VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	bool free_page_reporting;	/* VIRTIO_BALLOON_F_REPORTING */
};

/*
 * virtio-balloon: inflated and reported pages go back to the host with
 * MADV_DONTNEED; guest statistics on request. Registers with the control
 * API (api/hooks.h) for PUT /balloon and GET /balloon/statistics.
 */
struct virtio_device *virtio_balloon_create(struct vm *vm, const struct virtio_balloon_options *o);

#endif

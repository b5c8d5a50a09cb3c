/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_BALLOON_INTERNAL_H
#define KILN_VIRTIO_VIRTIO_BALLOON_INTERNAL_H

/* Shared by virtio_balloon.c (queues, pages) and virtio_balloon_stats.c. */

#include <linux/virtio_balloon.h>
#include <pthread.h>

#include "virtio/virtio_dev.h"

#define BALLOON_STATS_MAX	16	/* tags we keep: 0..15 */

struct virtio_balloon {
	struct virtio_device *vdev;
	struct vm *vm;
	struct virtio_balloon_config config;	/* under vdev->lock */
	u32 target_pages;			/* what num_pages must read: atomic */

	/*
	 * The guest's statistics buffer, held until we want new figures.
	 * Exchanged atomically: the reset op runs under the transport lock.
	 */
	struct vq_elem *stats_elem;
	struct virtqueue *stats_vq;		/* where stats_elem came from */

	pthread_mutex_t lock;			/* the figures below */
	u64 stats[BALLOON_STATS_MAX];
	u32 stats_valid;			/* bit n: tag n was reported */
	u64 stats_updates;

	/* Atomic counters. */
	u64 inflated, deflated;			/* pages */
	u64 discarded, reported;		/* bytes handed back to the host */
	u64 bad_pfns, discard_errors;
};

/* A buffer on the statistics queue, on the vCPU thread. */
void balloon_stats_notify(struct virtio_balloon *vb, struct virtqueue *vq);

/* Asks the guest for new statistics, if it gave us its buffer back. Any thread. */
void balloon_stats_request(struct virtio_balloon *vb);

/* Gives the held buffer back: reset and teardown. */
void balloon_stats_release(struct virtio_balloon *vb);

/* Registers the control-API hooks. */
void balloon_api_register(struct virtio_balloon *vb);

#endif

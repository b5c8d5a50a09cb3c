// SPDX-License-Identifier: Apache-2.0
/* virtio-rng (virtio 1.2 §5.4): the guest's buffers filled from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/log.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"

#define RNG_QUEUE_SIZE		64
#define RNG_MAX_REQUEST		(64 * KiB)	/* a vCPU does not spin on a 4 GiB ask */
#define RNG_PCI_CLASS		0x00ff00	/* unclassified */

/* Fills up to len bytes at p; returns how many. */
static size_t fill(u8 *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_warn_once("virtio-rng: getrandom: %m");
			break;
		}
		done += n;
	}
	return done;
}

static void rng_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct vq_elem *e;

	(void)vdev;
	while ((e = vq_pop(vq))) {
		size_t total = 0;

		if (e->out_num || !e->in_num) {
			vq_fail(vq, e, "entropy request with device-readable buffers");
			return;
		}
		for (unsigned int i = 0; i < e->in_num && total < RNG_MAX_REQUEST; i++) {
			struct iovec *v = &vq_elem_in(e)[i];
			size_t want = MIN(v->iov_len, RNG_MAX_REQUEST - total);
			size_t got = fill(v->iov_base, want);

			total += got;
			if (got < want)
				break;
		}
		vq_push(vq, e, total);
	}
	vq_notify(vq);
}

static const struct virtio_device_ops rng_ops = {
	.queue_notify = rng_notify,
};

struct virtio_device *virtio_rng_create(struct vm *vm)
{
	struct virtio_device_params p = {
		.name = "virtio-rng", .device_id = VIRTIO_ID_RNG, .class_code = RNG_PCI_CLASS,
		.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 1, .queue_size = RNG_QUEUE_SIZE, .ops = &rng_ops,
	};

	return virtio_pci_create(vm, &p);
}

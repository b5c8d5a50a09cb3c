/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_DEV_H
#define KILN_VIRTIO_VIRTIO_DEV_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <pthread.h>

#include "lib/types.h"
#include "virtio/virtqueue.h"

/*
 * What a virtio device implements, and what the transport does for it.
 *
 * A device (blk, rng, console, later net, balloon, vsock) fills a struct
 * virtio_device_params -- its type, features, queues, config space and a
 * small ops table -- and calls virtio_pci_create(). The transport
 * (virtio_pci.c) does everything else: the PCI function and its vendor
 * capabilities, feature negotiation, the status state machine and reset,
 * queue set-up, MSI-X and INTx. See docs/VIRTIO.md.
 *
 * Threads and locks: queue_notify() runs on the vCPU thread that wrote the
 * notify register, with no transport lock held; it pops with vq_pop() and
 * completes with vq_push() + vq_notify(), from any thread. config_write()
 * and reset() run under the device's transport lock, so they must not
 * block on the device's own completions.
 */

struct vm;
struct virtio_device;

struct virtio_device_ops {
	/* A driver notification for vq; the queue is enabled and DRIVER_OK set. */
	void (*queue_notify)(struct virtio_device *vdev, struct virtqueue *vq);
	/*
	 * Optional: the driver wrote the device config. offset + len is within
	 * config_size; the transport has already stored the bytes.
	 */
	void (*config_write)(struct virtio_device *vdev, u32 offset, unsigned int len);
	/* Optional: DRIVER_OK was set; queues are live. */
	void (*driver_ok)(struct virtio_device *vdev);
	/*
	 * Optional: the driver reset the device. Queues are already disabled;
	 * requests still in flight may complete, and their pushes are dropped.
	 */
	void (*reset)(struct virtio_device *vdev);
	/* Optional: final teardown; stop backend threads before returning. */
	void (*destroy)(struct virtio_device *vdev);
};

struct virtio_device_params {
	const char *name;		/* "virtio-blk0": messages and stats */
	u16 device_id;			/* VIRTIO_ID_* */
	u32 class_code;			/* PCI class: base << 16 | sub << 8 | prog-if */
	u64 features;			/* device-specific and ring features offered */
	unsigned int nr_queues;
	u16 queue_size;			/* maximum, a power of two <= 32768 */
	void *config;			/* device config space, little-endian */
	u32 config_size;
	const struct virtio_device_ops *ops;
	void *opaque;
};

struct virtio_device {
	struct vm *vm;
	const char *name;
	u16 device_id;
	const struct virtio_device_ops *ops;
	void *opaque;
	u64 host_features;		/* offered, VERSION_1 included */
	u64 features;			/* negotiated: valid once FEATURES_OK is set */
	unsigned int nr_queues;
	struct virtqueue *vqs;
	u8 *config;
	u32 config_size;
	pthread_mutex_t lock;		/* status, features, queue set-up, config */
	unsigned int inflight;		/* requests popped and not yet pushed */
};

/* Creates the device and its PCI function; registers teardown with vm. */
struct virtio_device *virtio_pci_create(struct vm *vm, const struct virtio_device_params *p);

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned int bit)
{
	return vdev->features & (1ULL << bit);
}

/*
 * The device found the guest misbehaving: sets DEVICE_NEEDS_RESET, sends a
 * configuration-change interrupt, and logs why once per device. Any thread.
 */
void virtio_device_needs_reset(struct virtio_device *vdev, const char *why);

/*
 * The device changed its config space: stores bytes at offset, bumps
 * config_generation and interrupts the driver. Any thread.
 */
void virtio_config_update(struct virtio_device *vdev, u32 offset, const void *data,
			  unsigned int len);

/* The device status the driver set (VIRTIO_CONFIG_S_*). */
u8 virtio_device_status(struct virtio_device *vdev);

#endif

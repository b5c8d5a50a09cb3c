/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTQUEUE_H
#define KILN_VIRTIO_VIRTQUEUE_H

#include <pthread.h>
#include <sys/uio.h>

#include "lib/types.h"

/*
 * A split virtqueue (virtio 1.2 §2.7), the device side. It knows nothing of
 * the transport: the transport fills the guest-set fields (size, ring
 * addresses), calls vq_enable(), and gets errors and interrupts back
 * through the two callbacks.
 *
 * The guest is not trusted. Every ring and buffer address goes through
 * gpa_to_hva(); a malformed ring or chain (loops, chains longer than the
 * queue, bad indirect tables, readable-after-writable, zero or overflowing
 * lengths, an avail index too far ahead) breaks the queue: vq_pop() returns
 * NULL from then on and the error callback runs once, outside the lock.
 *
 * Threads: vq_pop(), vq_push() and vq_notify() take the queue's own lock,
 * so the vCPU thread that pops and a backend thread that completes can run
 * at once on different queues, and safely on the same one.
 */

struct guest_mem;
struct virtqueue;

/* One popped request: readable buffers first, then writable ones. */
struct vq_elem {
	u16 head;		/* the chain's first descriptor, for the used ring */
	u32 gen;		/* vq->gen when popped: stale after a reset */
	unsigned int out_num;	/* device-readable iovecs, iov[0..out_num) */
	unsigned int in_num;	/* device-writable ones, after them */
	u64 out_len, in_len;	/* their byte totals */
	struct iovec iov[];
};

static inline struct iovec *vq_elem_in(struct vq_elem *e)
{
	return &e->iov[e->out_num];
}

struct virtqueue {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	u16 index;
	u16 max_size;

	/* Set by the transport while the queue is disabled. */
	u16 size;
	u16 msix_vector;
	u64 desc_gpa, avail_gpa, used_gpa;
	bool event_idx;		/* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_F_RING_INDIRECT_DESC negotiated */

	/* Ring state, under lock. */
	bool enabled;
	bool broken;
	u32 gen;
	u8 *desc;		/* host addresses, from gpa_to_hva() at enable */
	u8 *avail;
	u8 *used;
	u16 last_avail;
	u16 used_idx;
	u16 signalled_used;	/* used_idx at the last interrupt decision */
	struct iovec *scratch;	/* max_size entries: the walker's workspace */

	/* Requests popped and not yet pushed; may point at a shared counter. */
	unsigned int *inflight;
	unsigned int own_inflight;

	/* Transport hooks; error() runs once per break, with no lock held. */
	void (*error)(struct virtqueue *vq, const char *why);
	void (*interrupt)(struct virtqueue *vq);
	void *opaque;

	u64 popped, pushed, interrupts;
};

int vq_init(struct virtqueue *vq, const struct guest_mem *mem, u16 index, u16 max_size);
void vq_destroy(struct virtqueue *vq);

/* Back to the reset state: disabled, size = max_size, addresses 0. */
void vq_reset(struct virtqueue *vq);

/*
 * Validates size and ring addresses and starts the queue. On failure
 * returns -1 with why set; the queue stays disabled.
 */
int vq_enable(struct virtqueue *vq, const char **why);

bool vq_is_enabled(struct virtqueue *vq);

/* The next available chain, or NULL (empty, disabled or broken). */
struct vq_elem *vq_pop(struct virtqueue *vq);

/*
 * Returns elem to the guest with len bytes written, and frees it. A stale
 * elem (popped before a reset) is only freed.
 */
void vq_push(struct virtqueue *vq, struct vq_elem *elem, u32 len);

/*
 * vq_push() for n elems at once, elems[i] with lens[i] bytes written: the
 * driver sees all of them or none (one used-index update), as a frame
 * spread over several receive buffers must appear (virtio-net MRG_RXBUF).
 */
void vq_push_n(struct virtqueue *vq, struct vq_elem *const *elems, const u32 *lens,
	       unsigned int n);

/*
 * The device found elem malformed (a request the device cannot parse):
 * frees it without returning it, breaks the queue and reports why through
 * the error callback, as for a malformed ring.
 */
void vq_fail(struct virtqueue *vq, struct vq_elem *elem, const char *why);

/* Interrupts the driver if anything was pushed and it wants to know. */
void vq_notify(struct virtqueue *vq);

/* Copies between an iovec array and a flat buffer; returns bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t skip, const void *buf,
		    size_t len);

#endif

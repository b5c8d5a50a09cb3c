// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net (virtio 1.2 §5.1): one receive and one transmit queue, the
 * MAC, link status and (when the backend has one) MTU in config space.
 * The frames go to and come from a backend (backend/net_backend.h):
 * libslirp or a tap.
 *
 * Checksums are offloaded both ways and done here, on the host: the
 * guest's CPU may be the soft engine, for which every byte summed costs
 * far more than it does natively. On transmit (VIRTIO_NET_F_CSUM) a frame
 * marked NEEDS_CSUM is copied out and its checksum filled in before the
 * backend sees it; on receive (VIRTIO_NET_F_GUEST_CSUM) a TCP or UDP
 * frame whose checksum we verified is marked DATA_VALID, anything else
 * goes up unmarked and the guest checks it. No segmentation offload: the
 * backends take only whole frames, and user networking's large MTU makes
 * one frame carry what TSO would. Without MRG_RXBUF, Linux posts receive
 * buffers of a whole frame (MTU-sized "big packets" above 1500).
 *
 * Threads: transmit runs on the backend's thread when it offers kick_tx
 * (slirp: the vCPU returns to the guest at once, and frames go out in
 * batches), else on the vCPU thread that kicks the queue; either way under
 * tx_lock, which keeps frames in order and owns tx_buf. The backend never
 * blocks it. Receive runs on the backend's
 * thread; a frame the guest has no buffer for waits in a bounded queue
 * (NET_RX_PENDING frames), then is dropped and counted. A receive notify
 * (new buffers) drains that queue on the vCPU thread.
 *
 * Locks: rx_lock orders receive; vq_pop() and vq_fail() under it may take
 * the transport lock, so the reset op, which runs under the transport lock,
 * does not take rx_lock: it flags the reset (resets) and returns the
 * spare buffer with an atomic exchange.
 */
#include "virtio/virtio_net.h"

#include <endian.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "virtio/iov_skip.h"
#include "virtio/net_csum.h"
#include "virtio/virtio_dev.h"

#define NET_QUEUE_SIZE	256
#define NET_PCI_CLASS	0x020000	/* network controller, Ethernet */
#define RX_QUEUE	0
#define TX_QUEUE	1
#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)	/* VERSION_1: always 12 */
#define NET_TX_MAX	65536		/* the largest frame a guest may send */
#define NET_RX_PENDING	256		/* frames held while the guest has no buffers */
#define NET_OFFLOADS	(1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM)

struct pending_frame {
	size_t len;
	u8 data[];
};

struct virtio_net {
	struct virtio_device *vdev;
	struct net_backend *be;
	char name[24];
	struct virtio_net_config config;

	pthread_mutex_t rx_lock;
	struct pending_frame *pending[NET_RX_PENDING];	/* a ring */
	unsigned int pending_head, pending_count;
	unsigned int resets_seen;	/* resets when the ring was last valid */

	/* Set without rx_lock (see the top of the file). */
	struct vq_elem *rx_spare;	/* popped, too small for the last frame */
	unsigned int resets;

	/* Under rx_lock. */
	u64 rx_frames, rx_bytes, rx_dropped, rx_not_ready, rx_oversize, rx_csum_valid;

	pthread_mutex_t tx_lock;	/* transmit, from any vCPU */
	u8 tx_buf[NET_TX_MAX];		/* a frame whose checksum we fill in */
	/* Atomic: read by the statistics without tx_lock. */
	u64 tx_frames, tx_bytes, tx_dropped, tx_errors, tx_csum;
};

static void count(u64 *c, u64 n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* --- receive --- */

enum rx_result { RX_DONE, RX_NO_BUFFER, RX_BROKEN };

/* Puts one frame in the guest's next buffer. rx_lock held. */
static enum rx_result deliver(struct virtio_net *vn, struct virtqueue *vq, const u8 *frame,
			      size_t len, bool *pushed)
{
	struct virtio_net_hdr_v1 hdr = { .num_buffers = htole16(1) };
	struct vq_elem *e = __atomic_exchange_n(&vn->rx_spare, NULL, __ATOMIC_ACQ_REL);

	if (!e)
		e = vq_pop(vq);
	if (!e)
		return RX_NO_BUFFER;
	if (e->out_num) {
		vq_fail(vq, e, "receive buffer is device-readable");
		return RX_BROKEN;
	}
	if (e->in_len < NET_HDR_LEN + len) {
		/* Dropped; the buffer waits for a frame it can hold. */
		vn->rx_oversize++;
		__atomic_store_n(&vn->rx_spare, e, __ATOMIC_SEQ_CST);
		/*
		 * A reset that took the spare before we stored it counted
		 * itself first: give the buffer back now, or the reset would
		 * wait for it.
		 */
		if (__atomic_load_n(&vn->resets, __ATOMIC_SEQ_CST) != vn->resets_seen) {
			e = __atomic_exchange_n(&vn->rx_spare, NULL, __ATOMIC_SEQ_CST);
			if (e)
				vq_push(vq, e, 0);
		}
		return RX_DONE;
	}
	if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM) && net_csum_valid(frame, len)) {
		hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
		vn->rx_csum_valid++;
	}
	iov_from_buf(vq_elem_in(e), e->in_num, 0, &hdr, NET_HDR_LEN);
	iov_from_buf(vq_elem_in(e), e->in_num, NET_HDR_LEN, frame, len);
	vq_push(vq, e, NET_HDR_LEN + len);
	vn->rx_frames++;
	vn->rx_bytes += len;
	*pushed = true;
	return RX_DONE;
}

static void pending_drop_all(struct virtio_net *vn)
{
	while (vn->pending_count) {
		free(vn->pending[vn->pending_head]);
		vn->pending_head = (vn->pending_head + 1) % NET_RX_PENDING;
		vn->pending_count--;
	}
}

/* Delivers held frames while there are buffers. rx_lock held. */
static void flush_pending(struct virtio_net *vn, struct virtqueue *vq, bool *pushed)
{
	unsigned int resets = __atomic_load_n(&vn->resets, __ATOMIC_ACQUIRE);

	/* Frames held for a driver that has since reset are not the new one's. */
	if (resets != vn->resets_seen) {
		pending_drop_all(vn);
		vn->resets_seen = resets;
	}
	while (vn->pending_count) {
		struct pending_frame *f = vn->pending[vn->pending_head];
		enum rx_result r = deliver(vn, vq, f->data, f->len, pushed);

		if (r == RX_NO_BUFFER)
			return;
		if (r == RX_BROKEN) {
			vn->rx_dropped += vn->pending_count;
			pending_drop_all(vn);
			return;
		}
		free(f);
		vn->pending_head = (vn->pending_head + 1) % NET_RX_PENDING;
		vn->pending_count--;
	}
}

static bool driver_ready(struct virtio_net *vn)
{
	u8 status = virtio_device_status(vn->vdev);

	return (status & VIRTIO_CONFIG_S_DRIVER_OK) && !(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* A frame from the backend, on its thread. */
static void net_receive(void *opaque, const u8 *frame, size_t len)
{
	struct virtio_net *vn = opaque;
	struct virtqueue *vq = &vn->vdev->vqs[RX_QUEUE];
	bool pushed = false;

	pthread_mutex_lock(&vn->rx_lock);
	if (!driver_ready(vn)) {
		vn->rx_not_ready++;
		goto out;
	}
	flush_pending(vn, vq, &pushed);
	if (!vn->pending_count) {
		enum rx_result r = deliver(vn, vq, frame, len, &pushed);

		if (r == RX_BROKEN)
			vn->rx_dropped++;
		if (r != RX_NO_BUFFER)
			goto out;
	}
	if (vn->pending_count < NET_RX_PENDING) {
		struct pending_frame *f = malloc(sizeof(*f) + len);

		if (f) {
			f->len = len;
			memcpy(f->data, frame, len);
			vn->pending[(vn->pending_head + vn->pending_count) % NET_RX_PENDING] = f;
			vn->pending_count++;
			goto out;
		}
	}
	vn->rx_dropped++;
out:
	pthread_mutex_unlock(&vn->rx_lock);
	if (pushed)
		vq_notify(vq);
}

/* New receive buffers: on the vCPU thread. */
static void rx_notify(struct virtio_net *vn, struct virtqueue *vq)
{
	bool pushed = false;

	pthread_mutex_lock(&vn->rx_lock);
	flush_pending(vn, vq, &pushed);
	pthread_mutex_unlock(&vn->rx_lock);
	if (pushed)
		vq_notify(vq);
}

/* --- transmit --- */

/*
 * NEEDS_CSUM: copies the frame into tx_buf and fills in its checksum.
 * False when the header's checksum field is not in the frame.
 */
static bool complete_csum(struct virtio_net *vn, const struct virtio_net_hdr_v1 *hdr,
			  const struct iovec *iov, unsigned int n, size_t len)
{
	iov_to_buf(iov, n, 0, vn->tx_buf, len);
	return net_csum_complete(vn->tx_buf, len, le16toh(hdr->csum_start),
				 le16toh(hdr->csum_offset));
}

/* One chain: the header, then the frame. tx_lock held. */
static void transmit_one(struct virtio_net *vn, struct vq_elem *e)
{
	struct iovec iov[NET_QUEUE_SIZE];
	struct virtio_net_hdr_v1 hdr;
	size_t len = e->out_len - NET_HDR_LEN;
	unsigned int n = iov_skip(e->iov, e->out_num, NET_HDR_LEN, iov);

	if (len < NET_MIN_FRAME || len > NET_TX_MAX) {
		count(&vn->tx_errors, 1);
		return;
	}
	/* Of the header only NEEDS_CSUM matters: no segmentation was offered. */
	iov_to_buf(e->iov, e->out_num, 0, &hdr, NET_HDR_LEN);
	if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    virtio_has_feature(vn->vdev, VIRTIO_NET_F_CSUM)) {
		if (!complete_csum(vn, &hdr, iov, n, len)) {
			pr_warn_once("%s: transmit checksum field outside the frame: dropped",
				     vn->name);
			count(&vn->tx_errors, 1);
			return;
		}
		iov[0] = (struct iovec){ vn->tx_buf, len };
		n = 1;
		count(&vn->tx_csum, 1);
	}
	if (vn->be->ops->send(vn->be, iov, n, len)) {
		count(&vn->tx_dropped, 1);
	} else {
		count(&vn->tx_frames, 1);
		count(&vn->tx_bytes, len);
	}
}

static void transmit(struct virtio_net *vn, struct virtqueue *vq)
{
	struct vq_elem *e;

	pthread_mutex_lock(&vn->tx_lock);
	while ((e = vq_pop(vq))) {
		if (e->in_num) {
			vq_fail(vq, e, "transmit buffer is device-writable");
			break;
		}
		if (e->out_len < NET_HDR_LEN) {
			vq_fail(vq, e, "transmit buffer is shorter than the virtio-net header");
			break;
		}
		transmit_one(vn, e);
		vq_push(vq, e, 0);
	}
	pthread_mutex_unlock(&vn->tx_lock);
	vq_notify(vq);
}

/* --- the device --- */

/* On the backend's thread, after kick_tx(). */
static void net_transmit(void *opaque)
{
	struct virtio_net *vn = opaque;

	transmit(vn, &vn->vdev->vqs[TX_QUEUE]);
}

static void net_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_net *vn = vdev->opaque;

	if (vq->index != TX_QUEUE)
		rx_notify(vn, vq);
	else if (vn->be->ops->kick_tx)
		vn->be->ops->kick_tx(vn->be);
	else
		transmit(vn, vq);
}

/* Under the transport lock: no rx_lock here (see the top of the file). */
static void net_reset(struct virtio_device *vdev)
{
	struct virtio_net *vn = vdev->opaque;
	struct vq_elem *e;

	__atomic_add_fetch(&vn->resets, 1, __ATOMIC_SEQ_CST);
	e = __atomic_exchange_n(&vn->rx_spare, NULL, __ATOMIC_SEQ_CST);
	if (e)
		vq_push(&vdev->vqs[RX_QUEUE], e, 0);	/* stale: only freed */
}

static void net_destroy(struct virtio_device *vdev)
{
	struct virtio_net *vn = vdev->opaque;
	struct vq_elem *e;

	/* The backend's thread is gone after this: no more net_receive(). */
	vn->be->ops->destroy(vn->be);
	e = __atomic_exchange_n(&vn->rx_spare, NULL, __ATOMIC_ACQ_REL);
	if (e)
		vq_push(&vdev->vqs[RX_QUEUE], e, 0);
	pending_drop_all(vn);
	pthread_mutex_destroy(&vn->rx_lock);
	pthread_mutex_destroy(&vn->tx_lock);
	free(vn);
}

static const struct virtio_device_ops net_ops = {
	.queue_notify = net_notify,
	.reset = net_reset,
	.destroy = net_destroy,
};

static void net_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct virtio_net *vn = opaque;

	pthread_mutex_lock(&vn->rx_lock);
	stats_emit(v, vn->name, "rx_frames", vn->rx_frames);
	stats_emit(v, vn->name, "rx_bytes", vn->rx_bytes);
	stats_emit(v, vn->name, "rx_dropped", vn->rx_dropped);
	stats_emit(v, vn->name, "rx_not_ready", vn->rx_not_ready);
	stats_emit(v, vn->name, "rx_oversize", vn->rx_oversize);
	stats_emit(v, vn->name, "rx_csum_valid", vn->rx_csum_valid);
	stats_emit(v, vn->name, "rx_pending", vn->pending_count);
	pthread_mutex_unlock(&vn->rx_lock);
	stats_emit(v, vn->name, "tx_frames", __atomic_load_n(&vn->tx_frames, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_bytes", __atomic_load_n(&vn->tx_bytes, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_dropped", __atomic_load_n(&vn->tx_dropped, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_errors", __atomic_load_n(&vn->tx_errors, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_csum", __atomic_load_n(&vn->tx_csum, __ATOMIC_RELAXED));
	if (vn->be->ops->report_stats)
		vn->be->ops->report_stats(vn->be, vn->name, v);
}

struct virtio_device *virtio_net_create(struct vm *vm, const struct virtio_net_options *o,
					struct net_backend *be)
{
	struct virtio_net *vn = calloc(1, sizeof(*vn));
	struct virtio_device_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = NET_PCI_CLASS,
		.features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS | NET_OFFLOADS |
			    1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 2, .queue_size = NET_QUEUE_SIZE, .ops = &net_ops,
		.config_size = sizeof(struct virtio_net_config),
	};

	if (!vn) {
		be->ops->destroy(be);
		return NULL;
	}
	snprintf(vn->name, sizeof(vn->name), "virtio-net%u", o->index);
	memcpy(vn->config.mac, o->mac, 6);
	vn->config.status = VIRTIO_NET_S_LINK_UP;
	vn->config.max_virtqueue_pairs = htole16(1);
	if (be->mtu) {
		vn->config.mtu = htole16(be->mtu);
		p.features |= 1ULL << VIRTIO_NET_F_MTU;
	}
	vn->be = be;
	pthread_mutex_init(&vn->rx_lock, NULL);
	pthread_mutex_init(&vn->tx_lock, NULL);
	p.name = vn->name;
	p.config = &vn->config;
	p.opaque = vn;
	vn->vdev = virtio_pci_create(vm, &p);
	if (!vn->vdev) {
		be->ops->destroy(be);
		pthread_mutex_destroy(&vn->rx_lock);
		pthread_mutex_destroy(&vn->tx_lock);
		free(vn);
		return NULL;
	}
	/* From here the transport's teardown calls net_destroy. */
	if (vm_add_device(vm, &(struct vm_device){
		.name = vn->name, .opaque = vn, .report_stats = net_report_stats,
	}))
		return NULL;
	if (be->ops->start(be, &(struct net_frontend){
		.receive = net_receive, .transmit = net_transmit, .opaque = vn,
	}))
		return NULL;
	return vn->vdev;
}

int virtio_net_init_all(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		const struct net_config *nc = &cfg->nets[i];
		struct virtio_net_options o = { .index = i, .mac = VIRTIO_NET_DEFAULT_MAC };
		struct net_backend *be;
		char name[24];

		snprintf(name, sizeof(name), "virtio-net%u", i);
		if (nc->has_mac)
			memcpy(o.mac, nc->mac, 6);
		else
			o.mac[5] += i;
		if (nc->kind == NET_TAP)
			be = net_tap_create(nc->tap_name);
		else
			be = net_slirp_create(&(struct net_slirp_options){
				.hostfwd = nc->hostfwd, .nr_hostfwd = nc->nr_hostfwd, .name = name,
				.mtu = nc->mtu,
			});
		if (!be || !virtio_net_create(vm, &o, be))
			return -1;
	}
	return 0;
}

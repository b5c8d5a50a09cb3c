// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net (virtio 1.2 §5.1): one receive and one transmit queue, the
 * MAC, link status and (when the backend has one) MTU in config space.
 * The frames go to and come from a backend (backend/net_backend.h):
 * libslirp or a tap.
 *
 * Checksums are offloaded both ways and done here, on the host, when the
 * backend takes only whole frames (slirp): the guest's CPU may be the soft
 * engine, for which every byte summed costs far more than it does
 * natively. On transmit (VIRTIO_NET_F_CSUM) a frame marked NEEDS_CSUM is
 * copied out and its checksum filled in before the backend sees it; on
 * receive (VIRTIO_NET_F_GUEST_CSUM) a TCP or UDP frame whose checksum we
 * verified is marked DATA_VALID, anything else goes up unmarked and the
 * guest checks it.
 *
 * A backend that carries a virtio-net header (a tap with IFF_VNET_HDR,
 * net_backend.vnet_hdr) gets segmentation too: the guest sends TCP
 * segments of up to 64 KiB (HOST_TSO4/6), whose header we check
 * (net_gso_check()) and pass on, and the host's kernel cuts them and sums
 * them; the other way it hands over its own 64 KiB segments and partial
 * checksums (GUEST_TSO4/6, GUEST_CSUM), as far as the driver negotiated
 * (set_rx_offloads() at DRIVER_OK). slirp, which takes a TCP/IPv4
 * segment of any size (net_backend.tso4_whole), gets the guest's 64 KiB
 * segments (HOST_TSO4) whole, their checksums made here
 * (net_gso_whole()). Either way the guest's TCP does a fraction of the
 * per-segment work, which on the soft engine is most of the cost of
 * networking.
 *
 * Receive buffers (MRG_RXBUF): a frame may span several of the guest's
 * buffers, num_buffers of them, pushed together (vq_push_n()). Buffers
 * popped for a frame that needs more than the ring holds yet are kept
 * (held, in order) until more come; a frame that cannot fit even in a
 * full ring is dropped and counted, and the buffers wait for the next.
 * Without MRG_RXBUF each frame takes one buffer (Linux then posts whole
 * 64 KiB "big packets" buffers when it negotiated GUEST_TSO).
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
 * does not take rx_lock: it counts the reset and gives back the held
 * buffers under held_lock, a leaf lock that receive holds only to move
 * buffers in and out of the held set.
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
#include "virtio/net_gso.h"
#include "virtio/virtio_dev.h"

#define NET_QUEUE_SIZE	256
#define NET_PCI_CLASS	0x020000	/* network controller, Ethernet */
#define RX_QUEUE	0
#define TX_QUEUE	1
#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)	/* VERSION_1: always 12 */
#define NET_TX_MAX	65536		/* the largest frame a guest may send */
#define NET_RX_PENDING	256		/* frames held while the guest has no buffers */
#define FEATURE(f)	(1ULL << VIRTIO_NET_F_##f)
/* Offered on every backend. */
#define NET_OFFLOADS	(FEATURE(CSUM) | FEATURE(GUEST_CSUM) | FEATURE(MRG_RXBUF))
/* Offered on a backend with vnet_hdr: the host's stack does the work. */
#define NET_TSO		(FEATURE(HOST_TSO4) | FEATURE(HOST_TSO6) | FEATURE(GUEST_TSO4) | \
			 FEATURE(GUEST_TSO6))

struct pending_frame {
	struct virtio_net_hdr_v1 hdr;	/* what the guest gets, but num_buffers */
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

	/* Under held_lock (see the top of the file). */
	pthread_mutex_t held_lock;
	struct vq_elem *held[NET_QUEUE_SIZE];	/* popped, not used yet; oldest first */
	unsigned int nr_held;
	unsigned int resets;		/* also read atomically */

	/* Under rx_lock. */
	u8 rx_buf[NET_TX_MAX];		/* a received frame whose checksum we fill in */
	u64 rx_frames, rx_bytes, rx_dropped, rx_not_ready, rx_oversize, rx_csum_valid;
	u64 rx_merged, rx_gso, rx_gso_dropped, rx_bad_hdr, rx_csum;

	pthread_mutex_t tx_lock;	/* transmit, from any vCPU */
	u8 tx_buf[NET_TX_MAX];		/* a frame whose checksum we fill in */
	/* Atomic: read by the statistics without tx_lock. */
	u64 tx_frames, tx_bytes, tx_dropped, tx_errors, tx_csum, tx_gso;
};

static void count(u64 *c, u64 n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* --- receive --- */

enum rx_result { RX_DONE, RX_NO_BUFFER, RX_BROKEN };

/* Gives back buffers of a driver that has since reset: only freed. */
static void give_back_stale(struct virtqueue *vq, struct vq_elem **e, unsigned int n)
{
	static const u32 nothing[NET_QUEUE_SIZE];

	if (n)
		vq_push_n(vq, e, nothing, n);
}

/* Takes the held buffers into e; *resets: the reset count they belong to. */
static unsigned int take_held(struct virtio_net *vn, struct vq_elem **e, unsigned int *resets)
{
	unsigned int n;

	pthread_mutex_lock(&vn->held_lock);
	n = vn->nr_held;
	memcpy(e, vn->held, n * sizeof(*e));
	vn->nr_held = 0;
	*resets = vn->resets;
	pthread_mutex_unlock(&vn->held_lock);
	return n;
}

/*
 * Keeps e[0..n) for the next frame, unless the driver reset since
 * take_held(): then they are stale, and given back (only freed) so that
 * the reset completes.
 */
static void put_held(struct virtio_net *vn, struct virtqueue *vq, struct vq_elem **e,
		     unsigned int n, unsigned int resets)
{
	pthread_mutex_lock(&vn->held_lock);
	if (vn->resets == resets) {
		memcpy(vn->held, e, n * sizeof(*e));
		vn->nr_held = n;
		n = 0;
	}
	pthread_mutex_unlock(&vn->held_lock);
	give_back_stale(vq, e, n);
}

/* Writes bytes [off, off + cap) of hdr + frame at the start of e's buffers. */
static void fill(struct vq_elem *e, const struct virtio_net_hdr_v1 *hdr, const u8 *frame,
		 size_t off, size_t cap)
{
	size_t done = 0;

	if (off < NET_HDR_LEN) {
		done = MIN(NET_HDR_LEN - off, cap);
		iov_from_buf(vq_elem_in(e), e->in_num, 0, (const u8 *)hdr + off, done);
	}
	if (done < cap)
		iov_from_buf(vq_elem_in(e), e->in_num, done, frame + off + done - NET_HDR_LEN,
			     cap - done);
}

/*
 * Puts one frame, with hdr, in the guest's next buffers: as many as it
 * needs with MRG_RXBUF, else one. rx_lock held.
 */
static enum rx_result deliver(struct virtio_net *vn, struct virtqueue *vq,
			      const struct virtio_net_hdr_v1 *hdr, const u8 *frame, size_t len,
			      bool *pushed)
{
	bool mrg = virtio_has_feature(vn->vdev, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int max = mrg ? MIN(vq->size, NET_QUEUE_SIZE) : 1, n, used = 0, resets;
	struct vq_elem *e[NET_QUEUE_SIZE];
	u32 lens[NET_QUEUE_SIZE];
	u64 total = NET_HDR_LEN + len, room = 0, off = 0;
	struct virtio_net_hdr_v1 h = *hdr;

	n = take_held(vn, e, &resets);
	while (used < n && room < total)
		room += e[used++]->in_len;
	while (room < total && n < max) {
		struct vq_elem *x = vq_pop(vq);

		if (!x)
			break;
		if (x->out_num) {
			vq_fail(vq, x, "receive buffer is device-readable");
			put_held(vn, vq, e, n, resets);
			return RX_BROKEN;
		}
		e[n++] = x;
		room += x->in_len;
		used = n;
	}
	if (room < total) {
		put_held(vn, vq, e, n, resets);
		if (n < max)
			return RX_NO_BUFFER;
		/* Too big for every buffer the guest can give: dropped. */
		vn->rx_oversize++;
		return RX_DONE;
	}
	h.num_buffers = htole16(mrg ? used : 1);
	for (unsigned int i = 0; i < used; i++) {
		lens[i] = MIN(e[i]->in_len, total - off);
		fill(e[i], &h, frame, off, lens[i]);
		off += lens[i];
	}
	vq_push_n(vq, e, lens, used);
	put_held(vn, vq, e + used, n - used, resets);
	vn->rx_frames++;
	vn->rx_bytes += len;
	vn->rx_merged += used > 1;
	vn->rx_gso += h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
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
	unsigned int resets;

	resets = __atomic_load_n(&vn->resets, __ATOMIC_ACQUIRE);
	/* Frames held for a driver that has since reset are not the new one's. */
	if (resets != vn->resets_seen) {
		pending_drop_all(vn);
		vn->resets_seen = resets;
	}
	while (vn->pending_count) {
		struct pending_frame *f = vn->pending[vn->pending_head];
		enum rx_result r = deliver(vn, vq, &f->hdr, f->data, f->len, pushed);

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

/* Whether the driver takes a GSO frame of this type. */
static bool guest_takes_gso(struct virtio_net *vn, u8 type)
{
	if (!virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	return (type == VIRTIO_NET_HDR_GSO_TCPV4 &&
		virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_TSO4)) ||
	       (type == VIRTIO_NET_HDR_GSO_TCPV6 &&
		virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_TSO6));
}

/*
 * The header the guest gets for a frame from the backend (in: the host's,
 * or NULL), from what the driver negotiated. A checksum the host left
 * undone is passed on (GUEST_CSUM) or filled in here, in rx_buf, and
 * *frame then points there. False: the frame is dropped (counted). The
 * backend set its offloads from the driver's features (set_rx_offloads),
 * so only a frame it made before a reset asks for more.
 */
static bool rx_header(struct virtio_net *vn, const struct virtio_net_hdr_v1 *in,
		      const u8 **frame, size_t len, struct virtio_net_hdr_v1 *out)
{
	bool csum = virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM);

	memset(out, 0, sizeof(*out));
	if (in && in->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (!guest_takes_gso(vn, in->gso_type)) {
			vn->rx_gso_dropped++;
			return false;
		}
		out->gso_type = in->gso_type;
		out->gso_size = in->gso_size;
		out->hdr_len = in->hdr_len;
	}
	if (in && (in->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		size_t start = le16toh(in->csum_start), off = le16toh(in->csum_offset);

		if (start > len || off > len - start || len - start - off < 2) {
			vn->rx_bad_hdr++;
			return false;
		}
		if (csum) {
			out->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			out->csum_start = in->csum_start;
			out->csum_offset = in->csum_offset;
			return true;
		}
		if (len > sizeof(vn->rx_buf)) {
			vn->rx_oversize++;
			return false;
		}
		memcpy(vn->rx_buf, *frame, len);
		net_csum_complete(vn->rx_buf, len, start, off);
		*frame = vn->rx_buf;
		vn->rx_csum++;
		return true;
	}
	if (csum && ((in && (in->flags & VIRTIO_NET_HDR_F_DATA_VALID)) ||
		     net_csum_valid(*frame, len))) {
		out->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		vn->rx_csum_valid++;
	}
	return true;
}

/* A frame from the backend, on its thread. */
static void net_receive(void *opaque, const struct virtio_net_hdr_v1 *in, const u8 *frame,
			size_t len)
{
	struct virtio_net *vn = opaque;
	struct virtqueue *vq = &vn->vdev->vqs[RX_QUEUE];
	struct virtio_net_hdr_v1 hdr;
	bool pushed = false;

	pthread_mutex_lock(&vn->rx_lock);
	if (!driver_ready(vn)) {
		vn->rx_not_ready++;
		goto out;
	}
	if (!rx_header(vn, in, &frame, len, &hdr))
		goto out;
	flush_pending(vn, vq, &pushed);
	if (!vn->pending_count) {
		enum rx_result r = deliver(vn, vq, &hdr, frame, len, &pushed);

		if (r == RX_BROKEN)
			vn->rx_dropped++;
		if (r != RX_NO_BUFFER)
			goto out;
	}
	if (vn->pending_count < NET_RX_PENDING) {
		struct pending_frame *f = malloc(sizeof(*f) + len);

		if (f) {
			f->hdr = hdr;
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

/* The segmentation the driver negotiated, for net_gso_check(). */
static unsigned int tx_gso_allowed(struct virtio_net *vn)
{
	return (virtio_has_feature(vn->vdev, VIRTIO_NET_F_HOST_TSO4) ? NET_GSO_TCPV4 : 0) |
	       (virtio_has_feature(vn->vdev, VIRTIO_NET_F_HOST_TSO6) ? NET_GSO_TCPV6 : 0);
}

/*
 * Checks hdr against the frame in head (its first bytes) and says why it
 * is dropped, once. The header's NEEDS_CSUM means nothing unless the
 * driver negotiated CSUM.
 */
static bool tx_check(struct virtio_net *vn, struct virtio_net_hdr_v1 *hdr, const u8 *head,
		     size_t len, struct net_gso *g)
{
	const char *why;

	if (!virtio_has_feature(vn->vdev, VIRTIO_NET_F_CSUM))
		hdr->flags &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
	why = net_gso_check(hdr, head, len, tx_gso_allowed(vn), g);
	if (why) {
		pr_warn_once("%s: transmit header: %s; dropped (tx_errors counts them)",
			     vn->name, why);
		count(&vn->tx_errors, 1);
		return false;
	}
	return true;
}

/* A backend with vnet_hdr: the checked header goes with the frame. */
static int send_with_hdr(struct virtio_net *vn, struct virtio_net_hdr_v1 *hdr,
			 const struct iovec *iov, unsigned int n, size_t len)
{
	u8 head[NET_GSO_HEAD];
	struct net_gso g;

	iov_to_buf(iov, n, 0, head, MIN(len, sizeof(head)));
	if (!tx_check(vn, hdr, head, len, &g))
		return 1;
	net_gso_to_hdr(&g, hdr);
	count(&vn->tx_csum, g.needs_csum);
	count(&vn->tx_gso, g.type != VIRTIO_NET_HDR_GSO_NONE);
	return vn->be->ops->send(vn->be, hdr, iov, n, len);
}

/*
 * A backend of whole frames: a checksum left to us is filled in on a copy
 * in tx_buf, which the header is checked against (the guest's own memory
 * may change under us). A TSO frame goes as one segment, to a backend
 * that takes those (tso4_whole; else HOST_TSO4 was not offered and
 * tx_check() refused it), its checksums made afresh.
 */
static int send_whole(struct virtio_net *vn, struct virtio_net_hdr_v1 *hdr,
		      const struct iovec *iov, unsigned int n, size_t len)
{
	struct iovec flat = { vn->tx_buf, len };
	struct net_gso g;

	if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		/* Nothing to do but check hdr_len: the frame goes as it is. */
		if (!tx_check(vn, hdr, NULL, len, &g))
			return 1;
		return vn->be->ops->send(vn->be, NULL, iov, n, len);
	}
	iov_to_buf(iov, n, 0, vn->tx_buf, len);
	if (!tx_check(vn, hdr, vn->tx_buf, len, &g))
		return 1;
	if (g.type != VIRTIO_NET_HDR_GSO_NONE) {
		net_gso_whole(vn->tx_buf, len, &g);
		count(&vn->tx_gso, 1);
	} else if (g.needs_csum) {
		net_csum_complete(vn->tx_buf, len, g.csum_start, g.csum_offset);
		count(&vn->tx_csum, 1);
	}
	return vn->be->ops->send(vn->be, NULL, &flat, 1, len);
}

/* One chain: the header, then the frame. tx_lock held. */
static void transmit_one(struct virtio_net *vn, struct vq_elem *e)
{
	struct iovec iov[NET_QUEUE_SIZE];
	struct virtio_net_hdr_v1 hdr;
	size_t len = e->out_len - NET_HDR_LEN;
	unsigned int n = iov_skip(e->iov, e->out_num, NET_HDR_LEN, iov);
	int r;

	if (len < NET_MIN_FRAME || len > NET_TX_MAX) {
		count(&vn->tx_errors, 1);
		return;
	}
	iov_to_buf(e->iov, e->out_num, 0, &hdr, NET_HDR_LEN);
	if (vn->be->vnet_hdr)
		r = send_with_hdr(vn, &hdr, iov, n, len);
	else
		r = send_whole(vn, &hdr, iov, n, len);
	if (r > 0)
		return;		/* a bad header, counted */
	if (r) {
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

/* Gives back the held receive buffers (stale after a reset: only freed). */
static void drop_held(struct virtio_net *vn)
{
	struct vq_elem *e[NET_QUEUE_SIZE];
	unsigned int n;

	pthread_mutex_lock(&vn->held_lock);
	__atomic_add_fetch(&vn->resets, 1, __ATOMIC_SEQ_CST);
	n = vn->nr_held;
	memcpy(e, vn->held, n * sizeof(*e));
	vn->nr_held = 0;
	pthread_mutex_unlock(&vn->held_lock);
	give_back_stale(&vn->vdev->vqs[RX_QUEUE], e, n);
}

/* What the host may hand over, from what the driver negotiated. */
static unsigned int rx_offloads(struct virtio_net *vn)
{
	unsigned int o = 0;

	if (!virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	o |= NET_RX_CSUM;
	if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_TSO4))
		o |= NET_RX_TSO4;
	if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_TSO6))
		o |= NET_RX_TSO6;
	return o;
}

static void net_driver_ok(struct virtio_device *vdev)
{
	struct virtio_net *vn = vdev->opaque;

	if (vn->be->ops->set_rx_offloads)
		vn->be->ops->set_rx_offloads(vn->be, rx_offloads(vn));
}

/* Under the transport lock: no rx_lock here (see the top of the file). */
static void net_reset(struct virtio_device *vdev)
{
	struct virtio_net *vn = vdev->opaque;

	drop_held(vn);
	if (vn->be->ops->set_rx_offloads)
		vn->be->ops->set_rx_offloads(vn->be, 0);
}

static void net_destroy(struct virtio_device *vdev)
{
	struct virtio_net *vn = vdev->opaque;

	/* The backend's thread is gone after this: no more net_receive(). */
	vn->be->ops->destroy(vn->be);
	drop_held(vn);
	pending_drop_all(vn);
	pthread_mutex_destroy(&vn->rx_lock);
	pthread_mutex_destroy(&vn->held_lock);
	pthread_mutex_destroy(&vn->tx_lock);
	free(vn);
}

static const struct virtio_device_ops net_ops = {
	.queue_notify = net_notify,
	.driver_ok = net_driver_ok,
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
	stats_emit(v, vn->name, "rx_merged", vn->rx_merged);
	stats_emit(v, vn->name, "rx_gso", vn->rx_gso);
	stats_emit(v, vn->name, "rx_gso_dropped", vn->rx_gso_dropped);
	stats_emit(v, vn->name, "rx_bad_hdr", vn->rx_bad_hdr);
	stats_emit(v, vn->name, "rx_csum", vn->rx_csum);
	pthread_mutex_unlock(&vn->rx_lock);
	stats_emit(v, vn->name, "tx_frames", __atomic_load_n(&vn->tx_frames, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_bytes", __atomic_load_n(&vn->tx_bytes, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_dropped", __atomic_load_n(&vn->tx_dropped, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_errors", __atomic_load_n(&vn->tx_errors, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_csum", __atomic_load_n(&vn->tx_csum, __ATOMIC_RELAXED));
	stats_emit(v, vn->name, "tx_gso", __atomic_load_n(&vn->tx_gso, __ATOMIC_RELAXED));
	if (vn->be->ops->report_stats)
		vn->be->ops->report_stats(vn->be, vn->name, v);
}

struct virtio_device *virtio_net_create(struct vm *vm, const struct virtio_net_options *o,
					struct net_backend *be)
{
	struct virtio_net *vn = calloc(1, sizeof(*vn));
	struct virtio_device_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = NET_PCI_CLASS,
		.features = FEATURE(MAC) | FEATURE(STATUS) | NET_OFFLOADS |
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
	if (be->vnet_hdr)
		p.features |= NET_TSO;
	else if (be->tso4_whole)
		p.features |= FEATURE(HOST_TSO4);
	vn->be = be;
	pthread_mutex_init(&vn->rx_lock, NULL);
	pthread_mutex_init(&vn->held_lock, NULL);
	pthread_mutex_init(&vn->tx_lock, NULL);
	p.name = vn->name;
	p.config = &vn->config;
	p.opaque = vn;
	vn->vdev = virtio_pci_create(vm, &p);
	if (!vn->vdev) {
		be->ops->destroy(be);
		pthread_mutex_destroy(&vn->rx_lock);
		pthread_mutex_destroy(&vn->held_lock);
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

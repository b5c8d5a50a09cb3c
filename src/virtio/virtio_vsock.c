// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock (virtio 1.2 §5.10) in user space, its host side on unix
 * sockets as Firecracker does it (backend/vsock_uds.h, docs/VIRTIO.md):
 * stream sockets only, with the spec's credit-based flow control.
 *
 * Queues: 0 receive (to the guest), 1 transmit (from it), 2 events: the
 * one event, TRANSPORT_RESET, goes out after a snapshot restore, whose
 * host connections are gone.
 *
 * Threads: guest packets are handled on the vCPU thread that kicks the
 * transmit queue; the host sockets are watched by the device's own thread
 * ("vsock", an epoll loop). vm->loop is not used: connections come and go
 * from both threads, and its registry may only change on its own thread.
 * Both take vs->lock and run the receive pump, which fills the guest's
 * buffers with what the connections owe it (control packets, then data
 * from the host sockets, round robin, within the guest's credit).
 *
 * Locks: vq_pop() and vq_fail() under vs->lock may take the transport
 * lock, so the reset op, which runs under the transport lock, only flags
 * the reset; the connections are closed by whoever next takes vs->lock.
 */
#include "virtio/virtio_vsock.h"

#include <errno.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"
#include "virtio/iov_skip.h"
#include "virtio/virtio_vsock_internal.h"

#define VSOCK_PCI_CLASS		0x078000	/* communication, other */
#define RX_QUEUE		0
#define TX_QUEUE		1
#define EVENT_QUEUE		2
#define EXPIRE_POLL_MS		500

static void wake(struct virtio_vsock *vs)
{
	u64 one = 1;

	if (write(vs->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("virtio-vsock: wake-up: %m");
}

/* A reset the reset op flagged: every connection goes. vs->lock held. */
static void check_reset(struct virtio_vsock *vs)
{
	if (__atomic_exchange_n(&vs->reset_pending, 0, __ATOMIC_ACQ_REL))
		vsock_close_all(vs);
}

/* --- the receive pump --- */

static bool wants_rx(const struct vsock_conn *c)
{
	if (c->state == CONN_FREE || c->state == CONN_HOST_HANDSHAKE)
		return false;
	if (c->owe)
		return true;
	return c->state == CONN_ESTABLISHED && c->readable && !c->host_eof &&
	       !(c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) && conn_peer_credit(c);
}

static struct vsock_conn *next_conn(struct virtio_vsock *vs)
{
	for (unsigned int n = 0; n < VSOCK_MAX_CONNS; n++) {
		unsigned int i = (vs->rr + n) % VSOCK_MAX_CONNS;

		if (wants_rx(&vs->conns[i])) {
			vs->rr = i + 1;
			return &vs->conns[i];
		}
	}
	return NULL;
}

/*
 * Bytes waiting on c's host socket, looked at before a receive buffer is
 * taken for them. 0 when there are none, after noting why: nothing yet
 * (not readable any more), the end of the stream (a SHUTDOWN is owed), or
 * an error (an RST is).
 */
static int host_bytes(struct virtio_vsock *vs, struct vsock_conn *c)
{
	int avail = 0;
	char b;
	ssize_t n;

	if (ioctl(c->fd, FIONREAD, &avail) == 0 && avail > 0)
		return avail;
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		return 0;
	}
	if (n == 0) {
		c->host_eof = true;
		c->owe |= OWE_SHUTDOWN;
		c->shutdown_flags |= VIRTIO_VSOCK_SHUTDOWN_SEND;	/* no more from us */
		return 0;
	}
	conn_reset(vs, c);
	return 0;
}

/* The control packet c owes most. */
static u16 owed_op(struct vsock_conn *c, u32 *flags)
{
	static const struct { u32 bit; u16 op; } order[] = {
		{ OWE_RST, VIRTIO_VSOCK_OP_RST }, { OWE_RESPONSE, VIRTIO_VSOCK_OP_RESPONSE },
		{ OWE_REQUEST, VIRTIO_VSOCK_OP_REQUEST }, { OWE_SHUTDOWN, VIRTIO_VSOCK_OP_SHUTDOWN },
		{ OWE_CREDIT, VIRTIO_VSOCK_OP_CREDIT_UPDATE },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(c->owe & order[i].bit))
			continue;
		c->owe &= ~order[i].bit;
		*flags = order[i].op == VIRTIO_VSOCK_OP_SHUTDOWN ? c->shutdown_flags : 0;
		return order[i].op;
	}
	return VIRTIO_VSOCK_OP_INVALID;
}

/* Reads host data into e's buffers after the header; returns how much. */
static u32 read_host(struct vsock_conn *c, struct vq_elem *e, int avail)
{
	struct iovec iov[VSOCK_QUEUE_SIZE];
	unsigned int n = iov_skip(vq_elem_in(e), e->in_num, VSOCK_HDR_LEN, iov);
	u64 room = MIN(e->in_len - VSOCK_HDR_LEN, (u64)VSOCK_MAX_PAYLOAD);
	u32 want = MIN(MIN((u64)avail, room), (u64)conn_peer_credit(c));
	ssize_t r;

	for (unsigned int i = 0, left = want; i < n; i++) {
		iov[i].iov_len = MIN(iov[i].iov_len, left);
		left -= iov[i].iov_len;
	}
	do {
		r = readv(c->fd, iov, n);
	} while (r < 0 && errno == EINTR);
	return r > 0 ? r : 0;
}

/* Fills the guest's receive buffers with what is owed to it. vs->lock held. */
static void pump(struct virtio_vsock *vs, bool *pushed)
{
	struct virtqueue *vq = &vs->vdev->vqs[RX_QUEUE];

	for (;;) {
		struct vsock_conn *c = NULL, rst_conn;
		struct virtio_vsock_hdr h;
		struct vq_elem *e;
		int avail = 0;
		u32 len = 0, flags = 0;

		if (!vs->rst_count) {
			c = next_conn(vs);
			if (!c)
				return;
			if (!c->owe) {
				avail = host_bytes(vs, c);
				if (!avail)
					continue;	/* c's state changed: look again */
			}
		}
		e = vq_pop(vq);
		if (!e)
			return;		/* an rx notify brings us back */
		if (e->out_num || e->in_len < VSOCK_HDR_LEN) {
			vq_fail(vq, e, "receive buffer is device-readable or shorter than a header");
			return;
		}
		if (!c) {
			rst_conn = (struct vsock_conn){
				.local_port = vs->rst[vs->rst_head].local,
				.peer_port = vs->rst[vs->rst_head].peer,
			};
			vs->rst_head = (vs->rst_head + 1) % VSOCK_RST_BACKLOG;
			vs->rst_count--;
			conn_fill_hdr(vs, &rst_conn, &h, VIRTIO_VSOCK_OP_RST, 0, 0);
		} else if (c->owe) {
			u16 op = owed_op(c, &flags);

			conn_fill_hdr(vs, c, &h, op, 0, flags);
			if (op == VIRTIO_VSOCK_OP_RST)
				conn_free(vs, c);
		} else {
			len = read_host(c, e, avail);
			conn_fill_hdr(vs, c, &h, len ? VIRTIO_VSOCK_OP_RW : VIRTIO_VSOCK_OP_CREDIT_UPDATE,
				      len, 0);
			c->tx_cnt += len;
		}
		iov_from_buf(vq_elem_in(e), e->in_num, 0, &h, VSOCK_HDR_LEN);
		vq_push(vq, e, VSOCK_HDR_LEN + len);
		vs->rx_packets++;
		vs->rx_bytes += len;
		*pushed = true;
	}
}

/* --- the queues --- */

static void transmit(struct virtio_vsock *vs, struct virtqueue *vq)
{
	struct vq_elem *e;

	while ((e = vq_pop(vq))) {
		struct virtio_vsock_hdr h;

		if (e->in_num) {
			vq_fail(vq, e, "transmit buffer is device-writable");
			return;
		}
		if (e->out_len < VSOCK_HDR_LEN) {
			vq_fail(vq, e, "transmit buffer is shorter than a vsock header");
			return;
		}
		iov_to_buf(e->iov, e->out_num, 0, &h, VSOCK_HDR_LEN);
		vsock_guest_packet(vs, &h, e);
		vs->tx_packets++;
		vq_push(vq, e, 0);
	}
}

static void vsock_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_vsock *vs = vdev->opaque;
	bool pushed = false;

	if (vq->index == EVENT_QUEUE)
		return;		/* buffers for the reset event, taken when it is due */
	pthread_mutex_lock(&vs->lock);
	check_reset(vs);
	if (vq->index == TX_QUEUE)
		transmit(vs, vq);
	pump(vs, &pushed);
	pthread_mutex_unlock(&vs->lock);
	if (vq->index == TX_QUEUE)
		vq_notify(vq);
	if (pushed)
		vq_notify(&vdev->vqs[RX_QUEUE]);
}

static void vsock_driver_ok(struct virtio_device *vdev)
{
	struct virtio_vsock *vs = vdev->opaque;

	pthread_mutex_lock(&vs->lock);
	check_reset(vs);
	pthread_mutex_unlock(&vs->lock);
}

/* Under the transport lock: only flag it (see the top of the file). */
static void vsock_reset(struct virtio_device *vdev)
{
	struct virtio_vsock *vs = vdev->opaque;

	__atomic_store_n(&vs->reset_pending, 1, __ATOMIC_RELEASE);
	wake(vs);
}

/* --- the host sockets' thread --- */

static void *vsock_thread(void *arg)
{
	struct virtio_vsock *vs = arg;
	struct epoll_event evs[32];

	while (!__atomic_load_n(&vs->stop, __ATOMIC_ACQUIRE)) {
		int timeout = __atomic_load_n(&vs->handshakes, __ATOMIC_RELAXED) ? EXPIRE_POLL_MS : -1;
		int n = epoll_wait(vs->epfd, evs, ARRAY_SIZE(evs), timeout);
		bool pushed = false;

		if (n < 0 && errno != EINTR) {
			pr_err("virtio-vsock: epoll_wait: %m");
			break;
		}
		pthread_mutex_lock(&vs->lock);
		check_reset(vs);
		for (int i = 0; i < n; i++) {
			u64 v;

			if (evs[i].data.u64 == VSOCK_EV_WAKE) {
				if (read(vs->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					pr_warn_once("virtio-vsock: wake-up: %m");
			} else if (evs[i].data.u64 == VSOCK_EV_LISTEN) {
				vsock_accept(vs);
			} else {
				vsock_host_event(vs, evs[i].data.u64, evs[i].events);
			}
		}
		if (vs->handshakes)
			vsock_expire(vs);
		pump(vs, &pushed);
		pthread_mutex_unlock(&vs->lock);
		if (pushed)
			vq_notify(&vs->vdev->vqs[RX_QUEUE]);
	}
	return NULL;
}

/* --- life cycle --- */

static void vsock_free(struct virtio_vsock *vs)
{
	if (vs->running) {
		__atomic_store_n(&vs->stop, 1, __ATOMIC_RELEASE);
		wake(vs);
		pthread_join(vs->thread, NULL);
	}
	vsock_close_all(vs);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		free(vs->conns[i].buf);
	vsock_uds_unlisten(vs->listen_fd, vs->uds_path);
	if (vs->epfd >= 0)
		close(vs->epfd);
	if (vs->wake_fd >= 0)
		close(vs->wake_fd);
	pthread_mutex_destroy(&vs->lock);
	free(vs->uds_path);
	free(vs);
}

static void vsock_destroy(struct virtio_device *vdev)
{
	vsock_free(vdev->opaque);
}

static const struct virtio_device_ops vsock_ops = {
	.queue_notify = vsock_notify,
	.driver_ok = vsock_driver_ok,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
};

static void vsock_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct virtio_vsock *vs = opaque;
	static const char g[] = "virtio-vsock";
	unsigned int open = 0;

	pthread_mutex_lock(&vs->lock);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		open += vs->conns[i].state != CONN_FREE;
	stats_emit(v, g, "connections_open", open);
	stats_emit(v, g, "connections", vs->connections);
	stats_emit(v, g, "rx_packets", vs->rx_packets);
	stats_emit(v, g, "rx_bytes", vs->rx_bytes);
	stats_emit(v, g, "tx_packets", vs->tx_packets);
	stats_emit(v, g, "tx_bytes", vs->tx_bytes);
	stats_emit(v, g, "dropped", vs->dropped);
	stats_emit(v, g, "malformed", vs->malformed);
	stats_emit(v, g, "refused", vs->refused);
	stats_emit(v, g, "credit_violations", vs->credit_violations);
	stats_emit(v, g, "rst_overflow", vs->rst_overflow);
	pthread_mutex_unlock(&vs->lock);
}

static int watch(struct virtio_vsock *vs, int fd, u64 data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(vs->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * Snapshot: connections are not saved (their host sockets belong to the
 * old process). After a restore the guest is told with TRANSPORT_RESET,
 * so it drops its connections and reads the guest CID again, as after a
 * migration (virtio 1.2 §5.10.6.7). The transport's section, registered
 * before this one, has already restored the queues.
 */
static void vsock_snap_save(void *opaque, struct snap_writer *w)
{
	(void)opaque;
	(void)w;
}

static int vsock_snap_load(void *opaque, struct snap_reader *r)
{
	(void)opaque;
	(void)r;
	return 0;
}

static void vsock_snap_post_load(void *opaque)
{
	struct virtio_vsock *vs = opaque;
	struct virtqueue *vq = &vs->vdev->vqs[EVENT_QUEUE];
	const u32 reset = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET;	/* le32 id */
	struct vq_elem *e;

	if (!(virtio_device_status(vs->vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	e = vq_pop(vq);
	if (!e) {
		pr_warn("virtio-vsock: no event buffer for the transport reset after the restore");
		return;
	}
	if (e->out_num || e->in_len < sizeof(reset)) {
		vq_fail(vq, e, "event buffer is device-readable or too short");
		return;
	}
	iov_from_buf(vq_elem_in(e), e->in_num, 0, &reset, sizeof(reset));
	vq_push(vq, e, sizeof(reset));
	vq_notify(vq);
}

static const struct snap_section_ops vsock_snap_ops = {
	.save = vsock_snap_save,
	.load = vsock_snap_load,
	.post_load = vsock_snap_post_load,
};

struct virtio_device *virtio_vsock_create(struct vm *vm, u64 cid, const char *uds_path)
{
	struct virtio_vsock *vs = calloc(1, sizeof(*vs));
	struct virtio_device_params p = {
		.name = "virtio-vsock", .device_id = VIRTIO_ID_VSOCK, .class_code = VSOCK_PCI_CLASS,
		.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 3, .queue_size = VSOCK_QUEUE_SIZE, .ops = &vsock_ops,
		.config_size = sizeof(u64),
	};

	if (!vs)
		return NULL;
	pthread_mutex_init(&vs->lock, NULL);
	vs->cid = cid;
	vs->config = cid;
	vs->next_local_port = VSOCK_LOCAL_PORT_BASE;
	vs->listen_fd = vs->epfd = -1;
	vs->uds_path = strdup(uds_path);
	vs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!vs->uds_path || vs->wake_fd < 0 || vs->epfd < 0) {
		pr_err("virtio-vsock: %m");
		goto fail;
	}
	vs->listen_fd = vsock_uds_listen(uds_path);
	if (vs->listen_fd < 0)
		goto fail;
	if (watch(vs, vs->listen_fd, VSOCK_EV_LISTEN) || watch(vs, vs->wake_fd, VSOCK_EV_WAKE)) {
		pr_err("virtio-vsock: epoll: %m");
		goto fail;
	}
	p.config = &vs->config;
	p.opaque = vs;
	vs->vdev = virtio_pci_create(vm, &p);
	if (!vs->vdev)
		goto fail;
	/* From here the transport's teardown frees vs. */
	if (vm_add_device(vm, &(struct vm_device){
		.name = "virtio-vsock", .opaque = vs, .report_stats = vsock_report_stats,
	}) || snap_register(vm, "vsock-reset", &vsock_snap_ops, vs))
		return NULL;
	if (pthread_create(&vs->thread, NULL, vsock_thread, vs)) {
		pr_err("virtio-vsock: cannot start its thread");
		return NULL;
	}
	pthread_setname_np(vs->thread, "vsock");
	vs->running = true;
	return vs->vdev;
fail:
	vsock_free(vs);
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * A tap interface (/dev/net/tun, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR). Each
 * frame carries a 12-byte virtio-net header both ways (TUNSETVNETHDRSZ:
 * the VERSION_1 layout, num_buffers unused; its fields are in host byte
 * order, which on x86-64 is virtio's little-endian). Written frames may be
 * TCP segments of up to 64 KiB or leave their checksum to the kernel, which
 * cuts and sums them when it must (its own checks apply too: it treats the
 * header as untrusted). What the kernel may hand us the same way is
 * TUNSETOFFLOAD's, set from what the guest negotiated (set_rx_offloads):
 * nothing until then, so frames come whole and summed. A kernel without
 * IFF_VNET_HDR (older than any we build on) gets plain frames, and the
 * device then offers no segmentation.
 *
 * The fd is non-blocking both ways: a frame the kernel cannot take now is
 * dropped and counted. A thread of the backend's own reads received
 * frames and hands them to the frontend, and transmits what the guest
 * queued when the device kicks it (kick_tx), as for slirp: the vCPU goes
 * straight back to the guest, whose frames stay in flight until this
 * thread has written them. Written from the vCPU thread instead, each
 * frame was done before the guest's next write, so its TCP never had one
 * in flight to merge small writes behind (autocorking): busybox nc's 1 KiB
 * writes left as segments of about that size, and TSO hardly ever
 * applied (measured: 3 GSO frames among 3306 for 4 MiB each way; on this
 * thread 90 to 140 among 1800 to 2200).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "backend/net_wake.h"
#include "lib/log.h"
#include "machine/stats.h"

#define TAP_HDR_LEN	sizeof(struct virtio_net_hdr_v1)
/* A header and the largest frame: the kernel's 64 KiB GSO limit, with room to spare. */
#define TAP_RX_MAX	(TAP_HDR_LEN + 128 * 1024)
#define TAP_IOV_MAX	1024	/* UIO_MAXIOV */

struct tap_net {
	struct net_backend be;
	char ifname[IFNAMSIZ];
	int fd;
	struct net_wake wake;
	int stop;
	int tx_kicked;			/* the device has frames for us */
	pthread_t thread;
	bool running;
	struct net_frontend fe;
	u8 rx_buf[TAP_RX_MAX];
	u64 tx_frames, tx_dropped, rx_frames, rx_gso;
};

static struct tap_net *to_tap(struct net_backend *be)
{
	return container_of(be, struct tap_net, be);
}

/* n bytes read into rx_buf: to the frontend. */
static void deliver(struct tap_net *t, size_t n)
{
	struct virtio_net_hdr_v1 hdr;

	__atomic_add_fetch(&t->rx_frames, 1, __ATOMIC_RELAXED);
	if (!t->be.vnet_hdr) {
		t->fe.receive(t->fe.opaque, NULL, t->rx_buf, n);
		return;
	}
	if (n < TAP_HDR_LEN + NET_MIN_FRAME)
		return;
	memcpy(&hdr, t->rx_buf, TAP_HDR_LEN);
	if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		__atomic_add_fetch(&t->rx_gso, 1, __ATOMIC_RELAXED);
	t->fe.receive(t->fe.opaque, &hdr, t->rx_buf + TAP_HDR_LEN, n - TAP_HDR_LEN);
}

static void *tap_thread(void *arg)
{
	struct tap_net *t = arg;
	struct pollfd p[2] = { { .fd = t->fd, .events = POLLIN }, { .fd = t->wake.fd, .events = POLLIN } };

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		if (poll(p, 2, -1) < 0) {
			if (errno != EINTR)
				pr_warn_once("tap %s: poll: %m", t->ifname);
			continue;
		}
		if (p[1].revents & POLLIN)
			net_wake_taken(&t->wake, t->ifname);
		if (__atomic_exchange_n(&t->tx_kicked, 0, __ATOMIC_ACQ_REL))
			t->fe.transmit(t->fe.opaque);
		if (p[0].revents & (POLLERR | POLLNVAL)) {
			/* Transmit goes on (and fails, counted): the guest's queue must not stall. */
			pr_warn("tap %s: the interface went away; no more input", t->ifname);
			p[0].fd = -1;
			continue;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		for (;;) {
			ssize_t n = read(t->fd, t->rx_buf, sizeof(t->rx_buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			deliver(t, n);
		}
	}
	/*
	 * What the guest queued before it stopped still goes out: a guest's
	 * last FIN, kicked just before it powered off, was lost otherwise
	 * (seen in bench/run: the host's netpeer never saw the guest close).
	 */
	if (__atomic_exchange_n(&t->tx_kicked, 0, __ATOMIC_ACQ_REL))
		t->fe.transmit(t->fe.opaque);
	return NULL;
}

static int tap_start(struct net_backend *be, const struct net_frontend *fe)
{
	struct tap_net *t = to_tap(be);

	t->fe = *fe;
	if (pthread_create(&t->thread, NULL, tap_thread, t)) {
		pr_err("tap %s: cannot start its thread", t->ifname);
		return -1;
	}
	pthread_setname_np(t->thread, "net-tap");
	t->running = true;
	return 0;
}

static int tap_send(struct net_backend *be, const struct virtio_net_hdr_v1 *hdr,
		    const struct iovec *iov, unsigned int cnt, size_t len)
{
	static const struct virtio_net_hdr_v1 plain;
	struct tap_net *t = to_tap(be);
	struct iovec v[TAP_IOV_MAX];
	size_t want = len;
	ssize_t n;

	if (t->be.vnet_hdr) {
		if (cnt >= TAP_IOV_MAX)
			goto drop;
		v[0] = (struct iovec){ (void *)(hdr ? hdr : &plain), TAP_HDR_LEN };
		memcpy(v + 1, iov, cnt * sizeof(*iov));
		iov = v;
		cnt++;
		want += TAP_HDR_LEN;
	}
	do {
		n = writev(t->fd, iov, cnt);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)want) {
drop:
		/* Full (EAGAIN), down (EIO) or too big (EINVAL): the frame is lost. */
		__atomic_add_fetch(&t->tx_dropped, 1, __ATOMIC_RELAXED);
		return -1;
	}
	__atomic_add_fetch(&t->tx_frames, 1, __ATOMIC_RELAXED);
	return 0;
}

static void tap_kick_tx(struct net_backend *be)
{
	struct tap_net *t = to_tap(be);

	__atomic_store_n(&t->tx_kicked, 1, __ATOMIC_RELEASE);
	net_wake(&t->wake, t->ifname);
}

static void tap_report_stats(struct net_backend *be, const char *group,
			     const struct stats_visitor *v)
{
	struct tap_net *t = to_tap(be);

	stats_emit(v, group, "tap_tx_frames", __atomic_load_n(&t->tx_frames, __ATOMIC_RELAXED));
	stats_emit(v, group, "tap_tx_dropped", __atomic_load_n(&t->tx_dropped, __ATOMIC_RELAXED));
	stats_emit(v, group, "tap_rx_frames", __atomic_load_n(&t->rx_frames, __ATOMIC_RELAXED));
	stats_emit(v, group, "tap_rx_gso", __atomic_load_n(&t->rx_gso, __ATOMIC_RELAXED));
}

static void tap_destroy(struct net_backend *be)
{
	struct tap_net *t = to_tap(be);

	if (t->running) {
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		net_wake_force(&t->wake, t->ifname);
		pthread_join(t->thread, NULL);
	}
	if (t->fd >= 0)
		close(t->fd);
	net_wake_destroy(&t->wake);
	free(t);
}

static void tap_set_rx_offloads(struct net_backend *be, unsigned int offloads)
{
	struct tap_net *t = to_tap(be);
	unsigned long f = 0;

	if (offloads & NET_RX_CSUM) {
		f = TUN_F_CSUM;
		if (offloads & NET_RX_TSO4)
			f |= TUN_F_TSO4;
		if (offloads & NET_RX_TSO6)
			f |= TUN_F_TSO6;
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, f))
		pr_warn_once("tap %s: TUNSETOFFLOAD %#lx: %m; frames stay as they were", t->ifname,
			     f);
}

static const struct net_backend_ops tap_ops = {
	.start = tap_start,
	.send = tap_send,
	.kick_tx = tap_kick_tx,
	.set_rx_offloads = tap_set_rx_offloads,
	.report_stats = tap_report_stats,
	.destroy = tap_destroy,
};

struct net_backend *net_tap_create(const char *ifname)
{
	struct tap_net *t = calloc(1, sizeof(*t));
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	unsigned int features = 0;
	int hdr_len = TAP_HDR_LEN;

	if (!t)
		return NULL;
	t->be.ops = &tap_ops;
	t->fd = -1;
	t->wake.fd = -1;
	if (strlen(ifname) >= IFNAMSIZ) {
		pr_err("--net tap=%s: the name is too long", ifname);
		goto fail;
	}
	strcpy(t->ifname, ifname);
	strcpy(ifr.ifr_name, ifname);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		pr_err("--net tap=%s: /dev/net/tun: %m", ifname);
		goto fail;
	}
	if (ioctl(t->fd, TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR))
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, &ifr)) {
		pr_err("--net tap=%s: TUNSETIFF: %m%s", ifname,
		       errno == EPERM ? " (needs root or CAP_NET_ADMIN, or a tap owned by you)" : "");
		goto fail;
	}
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) || ioctl(t->fd, TUNSETOFFLOAD, 0UL)) {
			pr_err("--net tap=%s: setting up its virtio-net header: %m", ifname);
			goto fail;
		}
		t->be.vnet_hdr = true;
	}
	if (net_wake_init(&t->wake)) {
		pr_err("--net tap=%s: eventfd: %m", ifname);
		goto fail;
	}
	return &t->be;
fail:
	tap_destroy(&t->be);
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * User-mode networking with libslirp: QEMU's defaults (10.0.2.0/24, the
 * host's loopback at 10.0.2.2, DNS at 10.0.2.3, the guest's DHCP address
 * 10.0.2.15, IPv6 fec0::/64), no root needed.
 *
 * libslirp is not thread-safe: every call into it holds s->lock. The
 * backend's thread runs slirp's poll loop (slirp_pollfds_fill, poll(),
 * slirp_pollfds_poll) and its timers, and drops the lock inside poll()
 * and while the device transmits. A guest kick only wakes this thread
 * (kick_tx), which then has the device hand it the queued frames
 * (slirp_input(); the replies slirp makes at once, ACKs, ARP, DHCP, go
 * back to the guest from there). Transmitting on the vCPU thread instead
 * made every guest TCP segment wait for slirp's ACK, which came back
 * before the guest's next write: Nagle never merged the 1 KiB writes of
 * busybox nc, and each cost a segment, an exit and an interrupt.
 * A frame sent from another thread wakes the poller so that it sees the
 * sockets slirp opened.
 *
 * Why a thread of its own and not vm->loop: slirp hands out a new set of
 * descriptors on every iteration and needs millisecond timers, while
 * vm->loop is a fixed epoll registry without timers whose table other
 * threads may not change. Measured (docs/VIRTIO.md), a DHCP round trip
 * through this thread costs tens of microseconds, far below the guest's
 * own cost per frame on either engine.
 */
#include <errno.h>
#include <libslirp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "backend/net_wake.h"
#include "cli/config.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "virtio/virtqueue.h"

#define SLIRP_TX_MAX	65536	/* the largest frame we copy into slirp */

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	s64 expire_ms;		/* -1: not armed */
};

struct slirp_net {
	struct net_backend be;
	char name[32];
	struct net_frontend fe;

	pthread_mutex_t lock;		/* every slirp call, the timers, tx_buf */
	Slirp *slirp;
	struct slirp_timer *timers;
	u8 tx_buf[SLIRP_TX_MAX];

	/* The poller's own state. */
	pthread_t thread;
	bool running;
	struct net_wake wake;
	int stop;
	int tx_kicked;			/* the device has frames for us */
	struct pollfd *fds;
	unsigned int nr_fds, cap_fds;

	u64 tx_frames, tx_dropped, rx_frames;
};

static struct slirp_net *to_slirp(struct net_backend *be)
{
	return container_of(be, struct slirp_net, be);
}

static void wake(struct slirp_net *s)
{
	net_wake(&s->wake, s->name);
}

/* Set on the poller: it need not wake itself. */
static __thread bool on_poller;

static s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- callbacks from slirp; s->lock is held --- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_net *s = opaque;

	s->rx_frames++;
	if (s->fe.receive)
		s->fe.receive(s->fe.opaque, NULL, buf, len);
	return len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct slirp_net *s = opaque;

	pr_warn_once("%s: slirp: %s", s->name, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_net *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_net *s = opaque;

	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	if (!t)
		return;
	t->expire_ms = expire_ms;
	wake(opaque);		/* the poller may be sleeping past it */
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_register_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* --- the poll loop --- */

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_net *s = opaque;
	struct pollfd *p;

	if (s->nr_fds == s->cap_fds) {
		unsigned int cap = s->cap_fds ? 2 * s->cap_fds : 32;
		struct pollfd *n = realloc(s->fds, cap * sizeof(*n));

		if (!n)
			return -1;	/* slirp treats a negative index as "not polled" */
		s->fds = n;
		s->cap_fds = cap;
	}
	p = &s->fds[s->nr_fds];
	p->fd = fd;
	p->events = (events & SLIRP_POLL_IN ? POLLIN : 0) | (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
		    (events & SLIRP_POLL_PRI ? POLLPRI : 0);
	p->revents = 0;
	return s->nr_fds++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_net *s = opaque;
	short r;

	if (idx < 0 || (unsigned int)idx >= s->nr_fds)
		return 0;
	r = s->fds[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* Milliseconds until the first armed timer, at most limit. Lock held. */
static u32 timer_timeout(struct slirp_net *s, u32 limit)
{
	s64 now = now_ns() / 1000000;

	for (struct slirp_timer *t = s->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		if (t->expire_ms <= now)
			return 0;
		if ((u64)(t->expire_ms - now) < limit)
			limit = t->expire_ms - now;
	}
	return limit;
}

/* Fires the expired timers, one at a time: a handler may re-arm or free. */
static void run_timers(struct slirp_net *s)
{
	s64 now = now_ns() / 1000000;
	struct slirp_timer *t;

	do {
		for (t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0 && t->expire_ms <= now)
				break;
		if (t) {
			t->expire_ms = -1;
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
		}
	} while (t);
}

static void *slirp_thread(void *arg)
{
	struct slirp_net *s = arg;

	on_poller = true;
	pthread_mutex_lock(&s->lock);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		u32 timeout = UINT32_MAX;
		int n;

		s->nr_fds = 0;
		add_poll(s->wake.fd, SLIRP_POLL_IN, s);
		slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
		timeout = timer_timeout(s, timeout);
		pthread_mutex_unlock(&s->lock);

		n = poll(s->fds, s->nr_fds, timeout == UINT32_MAX ? -1 : (int)MIN(timeout, INT32_MAX));
		if (n < 0 && errno != EINTR)
			pr_warn_once("%s: poll: %m", s->name);
		if (n > 0 && (s->fds[0].revents & POLLIN))
			net_wake_taken(&s->wake, s->name);
		/* The guest's frames first: slirp_input() answers them at once. */
		if (__atomic_exchange_n(&s->tx_kicked, 0, __ATOMIC_ACQ_REL))
			s->fe.transmit(s->fe.opaque);

		pthread_mutex_lock(&s->lock);
		slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
		run_timers(s);
	}
	pthread_mutex_unlock(&s->lock);
	/* The guest's last frames, kicked before it stopped (see net_tap.c). */
	if (__atomic_exchange_n(&s->tx_kicked, 0, __ATOMIC_ACQ_REL))
		s->fe.transmit(s->fe.opaque);
	return NULL;
}

/* --- the backend --- */

static int slirp_start(struct net_backend *be, const struct net_frontend *fe)
{
	struct slirp_net *s = to_slirp(be);

	pthread_mutex_lock(&s->lock);
	s->fe = *fe;
	pthread_mutex_unlock(&s->lock);
	if (pthread_create(&s->thread, NULL, slirp_thread, s)) {
		pr_err("%s: cannot start the slirp thread", s->name);
		return -1;
	}
	pthread_setname_np(s->thread, "net-slirp");
	s->running = true;
	return 0;
}

static int slirp_send(struct net_backend *be, const struct virtio_net_hdr_v1 *hdr,
		      const struct iovec *iov, unsigned int cnt, size_t len)
{
	struct slirp_net *s = to_slirp(be);

	(void)hdr;		/* no vnet_hdr: always NULL */
	pthread_mutex_lock(&s->lock);
	if (len > SLIRP_TX_MAX) {
		s->tx_dropped++;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* slirp_input() copies the frame into an mbuf before it looks at it. */
	if (cnt == 1) {
		slirp_input(s->slirp, iov[0].iov_base, len);
	} else {
		iov_to_buf(iov, cnt, 0, s->tx_buf, len);
		slirp_input(s->slirp, s->tx_buf, len);
	}
	s->tx_frames++;
	pthread_mutex_unlock(&s->lock);
	/* slirp may have opened a socket or queued data the poller must see. */
	if (!on_poller)
		wake(s);
	return 0;
}

static void slirp_kick_tx(struct net_backend *be)
{
	struct slirp_net *s = to_slirp(be);

	__atomic_store_n(&s->tx_kicked, 1, __ATOMIC_RELEASE);
	wake(s);
}

static void slirp_report_stats(struct net_backend *be, const char *group,
			       const struct stats_visitor *v)
{
	struct slirp_net *s = to_slirp(be);

	pthread_mutex_lock(&s->lock);
	stats_emit(v, group, "slirp_tx_frames", s->tx_frames);
	stats_emit(v, group, "slirp_tx_dropped", s->tx_dropped);
	stats_emit(v, group, "slirp_rx_frames", s->rx_frames);
	pthread_mutex_unlock(&s->lock);
}

static void slirp_destroy(struct net_backend *be)
{
	struct slirp_net *s = to_slirp(be);

	if (s->running) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
		net_wake_force(&s->wake, s->name);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	net_wake_destroy(&s->wake);
	free(s->fds);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.start = slirp_start,
	.send = slirp_send,
	.kick_tx = slirp_kick_tx,
	.report_stats = slirp_report_stats,
	.destroy = slirp_destroy,
};

static struct in_addr ip4(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a;
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a = { 0 };

	inet_pton(AF_INET6, s, &a);
	return a;
}

static int add_hostfwd(struct slirp_net *s, const struct net_hostfwd *f)
{
	struct in_addr host = { .s_addr = f->host_addr };
	struct in_addr guest = { .s_addr = f->guest_addr ? f->guest_addr : ip4("10.0.2.15").s_addr };
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port) == 0)
		return 0;
	inet_ntop(AF_INET, &host, h, sizeof(h));
	inet_ntop(AF_INET, &guest, g, sizeof(g));
	pr_err("%s: hostfwd=%s:%s:%u-%s:%u: cannot listen there (in use, or not the guest "
	       "network)", s->name, f->udp ? "udp" : "tcp", f->host_addr ? h : "", f->host_port,
	       g, f->guest_port);
	return -1;
}

struct net_backend *net_slirp_create(const struct net_slirp_options *o)
{
	struct slirp_net *s = calloc(1, sizeof(*s));
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork = ip4("10.0.2.0"),
		.vnetmask = ip4("255.255.255.0"),
		.vhost = ip4("10.0.2.2"),
		.in6_enabled = true,
		.vprefix_addr6 = ip6("fec0::"),
		.vprefix_len = 64,
		.vhost6 = ip6("fec0::2"),
		.vdhcp_start = ip4("10.0.2.15"),
		.vnameserver = ip4("10.0.2.3"),
		.vnameserver6 = ip6("fec0::3"),
		.if_mtu = o->mtu ? o->mtu : NET_SLIRP_MTU,
		.if_mru = o->mtu ? o->mtu : NET_SLIRP_MTU,
	};

	if (!s)
		return NULL;
	s->be.ops = &slirp_ops;
	s->be.mtu = cfg.if_mtu;
	/*
	 * The guest's TSO frames go to slirp whole, one TCP segment of up to
	 * 64 KiB each, which saves cutting them only for slirp to glue them
	 * together again. Checked in libslirp's source (4.7): slirp_input()
	 * grows its mbuf to any frame; ip_input() checks the header's sum and
	 * that the datagram is all there, and no MTU; tcp_input() checks the
	 * TCP sum over the whole segment (the device computes both afresh)
	 * and takes the data up to its receive window, trimming what lies
	 * beyond, as for any segment, which the guest, which sends within
	 * that window, then sends again. Not IPv6: ip6_input() answers a
	 * payload above if_mtu with ICMPv6 Packet Too Big, so no TSO6.
	 */
	s->be.tso4_whole = true;
	snprintf(s->name, sizeof(s->name), "%s", o->name ? o->name : "virtio-net");
	pthread_mutex_init(&s->lock, NULL);
	if (net_wake_init(&s->wake)) {
		pr_err("%s: eventfd: %m", s->name);
		goto fail;
	}
	s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
	if (!s->slirp) {
		pr_err("%s: libslirp refused its configuration", s->name);
		goto fail;
	}
	for (unsigned int i = 0; i < o->nr_hostfwd; i++)
		if (add_hostfwd(s, &o->hostfwd[i]))
			goto fail;
	return &s->be;
fail:
	slirp_destroy(&s->be);
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock connections: what a guest packet does to one, and what its
 * host socket does. Everything runs under vs->lock and never blocks: the
 * sockets are non-blocking, guest data the host socket cannot take now
 * waits in a buffer of VSOCK_BUF_ALLOC bytes -- the credit we give the
 * guest, so a guest that respects it never overflows it and one that does
 * not is reset -- and host data is read only when the guest has credit and
 * a receive buffer for it (virtio_vsock.c's pump).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "lib/log.h"
#include "virtio/iov_skip.h"
#include "virtio/virtio_vsock_internal.h"

u64 vsock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static u64 ev_data(struct virtio_vsock *vs, struct vsock_conn *c)
{
	return (u64)c->gen << 32 | (u64)(c - vs->conns);
}

static struct vsock_conn *conn_alloc(struct virtio_vsock *vs)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &vs->conns[i];
		u32 gen = c->gen;
		u8 *buf = c->buf;

		if (c->state != CONN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->gen = gen;
		c->buf = buf;		/* kept for the next connection in this slot */
		c->fd = -1;
		return c;
	}
	return NULL;
}

static int conn_watch(struct virtio_vsock *vs, struct vsock_conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = ev_data(vs, c),
	};

	return epoll_ctl(vs->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void close_host(struct virtio_vsock *vs, struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(vs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

void conn_free(struct virtio_vsock *vs, struct vsock_conn *c)
{
	if (c->state == CONN_HOST_HANDSHAKE || c->state == CONN_CONNECTING)
		vs->handshakes--;
	close_host(vs, c);
	c->state = CONN_FREE;
	c->gen++;
}

void conn_reset(struct virtio_vsock *vs, struct vsock_conn *c)
{
	if (c->state == CONN_HOST_HANDSHAKE ||
	    (c->state == CONN_CONNECTING && (c->owe & OWE_REQUEST))) {
		conn_free(vs, c);	/* the guest never heard of it */
		return;
	}
	if (c->state == CONN_CONNECTING)
		vs->handshakes--;
	close_host(vs, c);
	c->state = CONN_CLOSING;
	c->owe = OWE_RST;
}

static struct vsock_conn *conn_find(struct virtio_vsock *vs, u32 local, u32 peer)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &vs->conns[i];

		if (c->state > CONN_HOST_HANDSHAKE && c->local_port == local &&
		    c->peer_port == peer)
			return c;
	}
	return NULL;
}

u32 conn_peer_credit(const struct vsock_conn *c)
{
	u32 in_flight = c->tx_cnt - c->peer_fwd_cnt;

	/* A guest that claims to have forwarded more than it got gets nothing. */
	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void conn_fill_hdr(struct virtio_vsock *vs, struct vsock_conn *c, struct virtio_vsock_hdr *h,
		   u16 op, u32 len, u32 flags)
{
	*h = (struct virtio_vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = vs->cid,
		.src_port = c->local_port, .dst_port = c->peer_port,
		.len = len, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};
	c->fwd_cnt_told = c->fwd_cnt;
}

/* An RST for a connection we do not know; dropped when too many are owed. */
static void queue_rst(struct virtio_vsock *vs, const struct virtio_vsock_hdr *h)
{
	unsigned int at;

	if (vs->rst_count == VSOCK_RST_BACKLOG) {
		vs->rst_overflow++;
		return;
	}
	at = (vs->rst_head + vs->rst_count++) % VSOCK_RST_BACKLOG;
	vs->rst[at].local = h->dst_port;
	vs->rst[at].peer = h->src_port;
}

/*
 * The guest believes less than half our buffer is free and we have freed
 * some since we told it: tell it now, or it may wait for credit forever.
 */
static void maybe_credit_update(struct vsock_conn *c)
{
	u32 believed_used = c->rx_cnt - c->fwd_cnt_told;

	if (c->fwd_cnt != c->fwd_cnt_told && believed_used > VSOCK_BUF_ALLOC / 2)
		c->owe |= OWE_CREDIT;
}

/* Writes what waits for the host socket: the OK line, then guest data. */
static void conn_flush(struct virtio_vsock *vs, struct vsock_conn *c)
{
	while (c->fd >= 0 && (c->ok_len > c->ok_off || c->buf_len)) {
		bool ok = c->ok_len > c->ok_off;
		const u8 *p = ok ? (u8 *)c->ok_line + c->ok_off : c->buf + c->buf_off;
		size_t len = ok ? c->ok_len - c->ok_off : c->buf_len;
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;		/* EPOLLOUT brings us back */
		if (n <= 0) {
			conn_reset(vs, c);	/* the host side went away */
			return;
		}
		if (ok) {
			c->ok_off += n;
			continue;
		}
		c->buf_off += n;
		c->buf_len -= n;
		c->fwd_cnt += n;
		if (!c->buf_len)
			c->buf_off = 0;
	}
	if (c->fd >= 0 && !c->buf_len && (c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) &&
	    !c->write_shut) {
		shutdown(c->fd, SHUT_WR);	/* the guest will send no more */
		c->write_shut = true;
	}
	maybe_credit_update(c);
}

/* Guest data for the host: straight to the socket, the rest into the buffer. */
static void conn_write(struct virtio_vsock *vs, struct vsock_conn *c, const struct vq_elem *e,
		       u32 len)
{
	struct iovec iov[VSOCK_QUEUE_SIZE];
	unsigned int n = iov_skip(e->iov, e->out_num, VSOCK_HDR_LEN, iov);
	size_t written = 0;

	if ((u64)(c->rx_cnt - c->fwd_cnt) + len > VSOCK_BUF_ALLOC) {
		vs->credit_violations++;
		pr_warn_once("virtio-vsock: the guest sent past the credit it was given; "
			     "connection reset");
		conn_reset(vs, c);
		return;
	}
	c->rx_cnt += len;
	if (!c->buf_len && c->ok_off == c->ok_len) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t r;

		/* Trim the iovecs to len: the chain may be longer than the packet. */
		for (unsigned int i = 0, left = len; i < n; i++) {
			iov[i].iov_len = MIN(iov[i].iov_len, left);
			left -= iov[i].iov_len;
		}
		do {
			r = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			conn_reset(vs, c);
			return;
		}
		if (r > 0) {
			written = r;
			c->fwd_cnt += r;
		}
	}
	if (written < len) {
		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				conn_reset(vs, c);
				return;
			}
		}
		if (c->buf_off + c->buf_len + (len - written) > VSOCK_BUF_ALLOC) {
			memmove(c->buf, c->buf + c->buf_off, c->buf_len);
			c->buf_off = 0;
		}
		iov_to_buf(e->iov, e->out_num, VSOCK_HDR_LEN + written,
			   c->buf + c->buf_off + c->buf_len, len - written);
		c->buf_len += len - written;
	}
	vs->tx_bytes += len;
	maybe_credit_update(c);
}

/* The guest asks for the host's port: connect to PATH_port. */
static void guest_request(struct virtio_vsock *vs, const struct virtio_vsock_hdr *h)
{
	struct vsock_conn *c = conn_alloc(vs);
	int fd;

	if (!c) {
		pr_warn_once("virtio-vsock: more than %d connections; refused", VSOCK_MAX_CONNS);
		vs->refused++;
		queue_rst(vs, h);
		return;
	}
	fd = vsock_uds_connect(vs->uds_path, h->dst_port);
	if (fd < 0) {
		vs->refused++;
		queue_rst(vs, h);
		return;
	}
	c->fd = fd;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->state = CONN_ESTABLISHED;
	c->owe = OWE_RESPONSE;
	if (conn_watch(vs, c)) {
		conn_reset(vs, c);
		return;
	}
	vs->connections++;
}

static void guest_shutdown(struct virtio_vsock *vs, struct vsock_conn *c, u32 flags)
{
	c->peer_shutdown |= flags & (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	conn_flush(vs, c);
	if (c->state == CONN_ESTABLISHED &&
	    c->peer_shutdown == (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND))
		conn_reset(vs, c);	/* a full close is answered with RST, as Linux does */
}

void vsock_guest_packet(struct virtio_vsock *vs, const struct virtio_vsock_hdr *h,
			const struct vq_elem *e)
{
	const char *why = NULL;
	enum vsock_verdict v = vsock_pkt_check(h, vs->cid, e->out_len - VSOCK_HDR_LEN, &why);
	struct vsock_conn *c;

	if (v == VSOCK_PKT_DROP) {
		vs->dropped++;
		pr_warn_once("virtio-vsock: dropped a guest packet: %s", why);
		return;
	}
	c = conn_find(vs, h->dst_port, h->src_port);
	if (v == VSOCK_PKT_RST) {
		vs->malformed++;
		pr_warn_once("virtio-vsock: malformed guest packet (%s); connection reset", why);
		if (c && c->state != CONN_CLOSING)
			conn_reset(vs, c);
		else if (!c)
			queue_rst(vs, h);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		if (c)
			conn_free(vs, c);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c && c->state != CONN_CLOSING)
			conn_reset(vs, c);	/* a second REQUEST on a live connection */
		else if (!c)
			guest_request(vs, h);
		return;
	}
	if (!c) {
		queue_rst(vs, h);
		return;
	}
	if (c->state == CONN_CLOSING)
		return;		/* in flight before our RST reached the guest */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != CONN_CONNECTING || (c->owe & OWE_REQUEST)) {
			conn_reset(vs, c);
			break;
		}
		vs->handshakes--;
		c->state = CONN_ESTABLISHED;
		c->ok_len = snprintf(c->ok_line, sizeof(c->ok_line), "OK %u\n", c->local_port);
		conn_flush(vs, c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		guest_shutdown(vs, c, h->flags);
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED ||
		    (c->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND)) {
			conn_reset(vs, c);
			break;
		}
		if (h->len)
			conn_write(vs, c, e, h->len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owe |= OWE_CREDIT;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;		/* the credit is in every header */
	}
}

/* --- host-initiated connections --- */

static u32 next_local_port(struct virtio_vsock *vs, u32 peer)
{
	for (;;) {
		u32 p = vs->next_local_port++;

		if (vs->next_local_port < VSOCK_LOCAL_PORT_BASE)
			vs->next_local_port = VSOCK_LOCAL_PORT_BASE;
		if (!conn_find(vs, p, peer))
			return p;
	}
}

void vsock_accept(struct virtio_vsock *vs)
{
	for (;;) {
		int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vsock_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;		/* EAGAIN, or out of fds: try at the next event */
		}
		c = conn_alloc(vs);
		if (!c) {
			pr_warn_once("virtio-vsock: more than %d connections; refused",
				     VSOCK_MAX_CONNS);
			vs->refused++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_HOST_HANDSHAKE;
		c->deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
		c->readable = true;
		vs->handshakes++;
		if (conn_watch(vs, c))
			conn_free(vs, c);
	}
}

/* Reads "CONNECT <port>\n" without taking a byte more from the socket. */
static void read_connect_line(struct virtio_vsock *vs, struct vsock_conn *c)
{
	char line[VSOCK_CONNECT_LINE_MAX];
	ssize_t n = recv(c->fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
	int len;
	u32 port;

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		return;
	}
	len = n > 0 ? vsock_parse_connect(line, n, &port) : -1;
	if (len == 0) {
		c->readable = false;	/* more of the line to come */
		return;
	}
	if (len < 0 || recv(c->fd, line, len, MSG_DONTWAIT) != len) {
		conn_free(vs, c);	/* EOF, or not our protocol */
		return;
	}
	c->peer_port = port;
	c->local_port = next_local_port(vs, port);
	c->state = CONN_CONNECTING;
	c->owe = OWE_REQUEST;
	c->deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	c->readable = true;	/* data after the line waits for the connection */
	vs->connections++;
}

void vsock_host_event(struct virtio_vsock *vs, u64 data, u32 events)
{
	u32 slot = (u32)data, gen = data >> 32;
	struct vsock_conn *c;

	if (slot >= VSOCK_MAX_CONNS)
		return;
	c = &vs->conns[slot];
	if (c->gen != gen || c->state == CONN_FREE || c->state == CONN_CLOSING)
		return;		/* an event for a connection that has gone */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (c->state == CONN_HOST_HANDSHAKE) {
		if (c->readable)
			read_connect_line(vs, c);
		return;
	}
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		conn_flush(vs, c);
}

/* Handshakes past their deadline: the client, or the guest, never answered. */
void vsock_expire(struct virtio_vsock *vs)
{
	u64 now = vsock_now_ms();

	for (unsigned int i = 0; i < VSOCK_MAX_CONNS && vs->handshakes; i++) {
		struct vsock_conn *c = &vs->conns[i];

		if ((c->state != CONN_HOST_HANDSHAKE && c->state != CONN_CONNECTING) ||
		    now < c->deadline_ms)
			continue;
		if (c->state == CONN_CONNECTING && !(c->owe & OWE_REQUEST))
			conn_reset(vs, c);	/* the guest has our REQUEST: cancel it */
		else
			conn_free(vs, c);
	}
}

void vsock_close_all(struct virtio_vsock *vs)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (vs->conns[i].state != CONN_FREE)
			conn_free(vs, &vs->conns[i]);
	vs->rst_count = 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what a guest's vsock packets do to the device's
 * connections (src/virtio/virtio_vsock_conn.c, virtio_vsock_pkt.c) and for
 * the host side's CONNECT line parser (src/backend/vsock_uds.c).
 *
 * The connections are real: the target listens on PATH_1 and PATH_2, so a
 * REQUEST to those ports opens a unix socket, and data goes through it.
 * Beyond "no crash, no sanitizer report" it checks after every packet that
 * each connection's buffered bytes are exactly what the guest sent and we
 * have not written out (rx_cnt - fwd_cnt), within VSOCK_BUF_ALLOC, that the
 * handshake count matches the table, and that the RST backlog is bounded.
 *
 * Input: packets, each [u8 shape][44-byte header][u8 payload length][payload].
 * The shape's bits steer the header towards our CIDs, ports 0-3 and known
 * ops, so that most packets reach the state machine; and cut the packet
 * into up to three iovecs, as a guest's descriptors may.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "virtio/virtio_vsock_internal.h"

#define GUEST_CID	3

static struct virtio_vsock vs;
static int listeners[2];
static char dir[] = "/tmp/kiln-fuzz-vsock-XXXXXX";

static void check(bool cond)
{
	if (!cond)
		__builtin_trap();
}

static void setup(void)
{
	static char path[64];

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/v", dir);
	vs.uds_path = path;
	vs.cid = GUEST_CID;
	vs.listen_fd = -1;
	vs.next_local_port = VSOCK_LOCAL_PORT_BASE;
	vs.epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s_%d", path, i + 1);
		listeners[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (vs.epfd < 0 || listeners[i] < 0 ||
		    bind(listeners[i], (struct sockaddr *)&a, sizeof(a)) || listen(listeners[i], 16))
			abort();
	}
}

static void check_invariants(void)
{
	unsigned int handshakes = 0;

	check(vs.rst_count <= VSOCK_RST_BACKLOG && vs.rst_head < VSOCK_RST_BACKLOG);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &vs.conns[i];

		if (c->state == CONN_FREE)
			continue;
		handshakes += c->state == CONN_HOST_HANDSHAKE || c->state == CONN_CONNECTING;
		check(c->buf_len <= VSOCK_BUF_ALLOC && c->buf_off + c->buf_len <= VSOCK_BUF_ALLOC);
		if (c->state == CONN_ESTABLISHED)
			check(c->rx_cnt - c->fwd_cnt == c->buf_len);
		check(c->state != CONN_CLOSING || (c->fd < 0 && c->owe == OWE_RST));
	}
	check(handshakes == vs.handshakes);
}

/* One packet from the guest, cut into up to three iovecs. */
static void packet(u8 shape, struct virtio_vsock_hdr *h, const u8 *payload, u8 plen)
{
	u8 buf[VSOCK_HDR_LEN + 255];
	struct vq_elem *e = malloc(sizeof(*e) + 3 * sizeof(struct iovec));
	size_t len = VSOCK_HDR_LEN + plen, cut1, cut2;

	if (shape & 1)
		h->src_cid = GUEST_CID;
	if (shape & 2)
		h->dst_cid = VSOCK_HOST_CID;
	if (shape & 4) {
		h->src_port %= 4;
		h->dst_port %= 4;
	}
	if (shape & 8)
		h->op %= 8;
	if (shape & 16)
		h->type = VIRTIO_VSOCK_TYPE_STREAM;
	memcpy(buf, h, VSOCK_HDR_LEN);
	memcpy(buf + VSOCK_HDR_LEN, payload, plen);
	cut1 = (shape >> 5) % 3 ? MIN(len, (size_t)(shape * 7) % 50 + 1) : len;
	cut2 = cut1 < len && (shape & 0x80) ? cut1 + (len - cut1) / 2 : len;
	e->out_num = 0;
	e->in_num = 0;
	e->out_len = len;
	e->in_len = 0;
	e->iov[e->out_num++] = (struct iovec){ buf, cut1 };
	if (cut2 > cut1)
		e->iov[e->out_num++] = (struct iovec){ buf + cut1, cut2 - cut1 };
	if (len > cut2)
		e->iov[e->out_num++] = (struct iovec){ buf + cut2, len - cut2 };
	vsock_guest_packet(&vs, h, e);
	free(e);
	check_invariants();
	/* The smallest send buffers, so that guest data soon has to wait in ours. */
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		int one = 1;

		if (vs.conns[i].state != CONN_FREE && vs.conns[i].fd >= 0)
			setsockopt(vs.conns[i].fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;

	if (!vs.uds_path)
		setup();
	while (at + 1 + VSOCK_HDR_LEN + 1 <= size) {
		struct virtio_vsock_hdr h;
		u8 shape = data[at], plen;

		memcpy(&h, data + at + 1, VSOCK_HDR_LEN);
		plen = data[at + 1 + VSOCK_HDR_LEN];
		at += 2 + VSOCK_HDR_LEN;
		plen = MIN((size_t)plen, size - at);
		packet(shape, &h, data + at, plen);
		at += plen;
		/* Sometimes the host socket becomes writable again. */
		if (shape == 0xff)
			for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
				vsock_host_event(&vs, (u64)vs.conns[i].gen << 32 | i, EPOLLOUT);
	}
	/* The CONNECT line parser, on the whole input. */
	{
		u32 port;
		int n = vsock_parse_connect((const char *)data, size, &port);

		check(n <= (int)size && n <= VSOCK_CONNECT_LINE_MAX);
		if (n > 0)
			check(data[n - 1] == '\n' && !memcmp(data, "CONNECT ", 8));
	}
	vsock_close_all(&vs);
	check(vs.handshakes == 0);
	/* Drop what the listeners queued, so the next input can connect. */
	for (int i = 0; i < 2; i++) {
		int fd;

		while ((fd = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
	}
	return 0;
}

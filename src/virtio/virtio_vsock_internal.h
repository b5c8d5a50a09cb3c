/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_VSOCK_INTERNAL_H
#define KILN_VIRTIO_VIRTIO_VSOCK_INTERNAL_H

/*
 * Shared by virtio_vsock.c (the device, its queues and thread) and
 * virtio_vsock_conn.c (connections: guest packets and host sockets).
 * Everything here is under vs->lock unless it says otherwise.
 */

#include <linux/virtio_vsock.h>
#include <pthread.h>

#include "virtio/virtio_dev.h"
#include "virtio/virtio_vsock_pkt.h"

#define VSOCK_QUEUE_SIZE	128
#define VSOCK_MAX_CONNS		256
#define VSOCK_BUF_ALLOC		(128 * 1024)	/* guest bytes we hold per connection */
#define VSOCK_RST_BACKLOG	64		/* RSTs owed for unknown connections */
#define VSOCK_CONNECT_TIMEOUT_MS 5000		/* for CONNECT lines and the guest's answer */
#define VSOCK_LOCAL_PORT_BASE	(1U << 30)	/* our ports for host-initiated connections */

enum conn_state {
	CONN_FREE,
	CONN_HOST_HANDSHAKE,	/* a host client, its CONNECT line not read yet */
	CONN_CONNECTING,	/* REQUEST owed or sent to the guest */
	CONN_ESTABLISHED,
	CONN_CLOSING,		/* host side closed; only an RST is owed */
};

/* Control packets a connection owes the guest. */
enum {
	OWE_REQUEST = 1 << 0,
	OWE_RESPONSE = 1 << 1,
	OWE_SHUTDOWN = 1 << 2,
	OWE_CREDIT = 1 << 3,
	OWE_RST = 1 << 4,
};

struct vsock_conn {
	enum conn_state state;
	u32 gen;		/* bumped when freed: stale epoll events miss */
	int fd;
	u32 local_port;		/* ours, on CID 2 */
	u32 peer_port;		/* the guest's */
	u32 owe;		/* OWE_* */
	u32 shutdown_flags;	/* for OWE_SHUTDOWN */
	bool readable;		/* the host socket may have data (edge-triggered) */
	bool host_eof;
	bool write_shut;	/* shutdown(SHUT_WR) done */
	u32 peer_shutdown;	/* VIRTIO_VSOCK_SHUTDOWN_* from the guest */
	u64 deadline_ms;	/* for the handshake states */

	/* Guest to host: rx_cnt bytes received, fwd_cnt of them written out. */
	u32 rx_cnt, fwd_cnt, fwd_cnt_told;
	u8 *buf;		/* VSOCK_BUF_ALLOC bytes, allocated when first needed */
	u32 buf_off, buf_len;
	char ok_line[24];	/* "OK <port>\n" for a host-initiated connection */
	u32 ok_off, ok_len;

	/* Host to guest. */
	u32 tx_cnt, peer_buf_alloc, peer_fwd_cnt;
};

struct virtio_vsock {
	struct virtio_device *vdev;
	u64 config;		/* le64 guest_cid */
	u64 cid;
	char *uds_path;
	int listen_fd;
	int epfd;
	int wake_fd;
	pthread_t thread;
	bool running;
	int stop;		/* atomic */
	int reset_pending;	/* atomic: the driver reset; connections go */

	pthread_mutex_t lock;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	unsigned int rr;	/* round robin for the receive pump */
	struct { u32 local, peer; } rst[VSOCK_RST_BACKLOG];
	unsigned int rst_head, rst_count;
	u32 next_local_port;
	unsigned int handshakes;	/* connections with a deadline */

	u64 rx_packets, tx_packets, rx_bytes, tx_bytes;
	u64 dropped, malformed, refused, credit_violations, rst_overflow;
	u64 connections;
};

/* epoll data: a connection's slot and generation, or one of these. */
#define VSOCK_EV_LISTEN		(1ULL << 62)
#define VSOCK_EV_WAKE		(1ULL << 63)

u64 vsock_now_ms(void);

/* virtio_vsock_conn.c */
void vsock_guest_packet(struct virtio_vsock *vs, const struct virtio_vsock_hdr *h,
			const struct vq_elem *e);
void vsock_host_event(struct virtio_vsock *vs, u64 data, u32 events);
void vsock_accept(struct virtio_vsock *vs);
void vsock_expire(struct virtio_vsock *vs);
void vsock_close_all(struct virtio_vsock *vs);
/* Frees c; the guest is told nothing. */
void conn_free(struct virtio_vsock *vs, struct vsock_conn *c);
/* Closes the host side and owes the guest an RST; c is freed once it is sent. */
void conn_reset(struct virtio_vsock *vs, struct vsock_conn *c);
/* Bytes the guest can take on c now. */
u32 conn_peer_credit(const struct vsock_conn *c);
/* Counts a packet's header to the guest: our credit, and the fwd_cnt it tells. */
void conn_fill_hdr(struct virtio_vsock *vs, struct vsock_conn *c, struct virtio_vsock_hdr *h,
		   u16 op, u32 len, u32 flags);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_NET_BACKEND_H
#define KILN_BACKEND_NET_BACKEND_H

#include <linux/virtio_net.h>
#include <sys/uio.h>

#include "lib/types.h"

/*
 * The host side of a guest network card: Ethernet frames in both
 * directions, each with a virtio-net header (struct virtio_net_hdr_v1)
 * when the backend carries one (vnet_hdr below).
 *
 * - net_slirp.c: user-mode networking (libslirp), on its own thread.
 * - net_tap.c: a tap interface (/dev/net/tun), read on its own thread.
 *
 * The device (virtio_net.c) creates a backend, then starts it with the
 * frontend that takes received frames. Neither side ever blocks the
 * other: send() drops what the host cannot take now, and the frontend
 * queues or drops what the guest has no buffers for.
 */

struct net_backend;

struct net_frontend {
	/*
	 * A frame for the guest, on the backend's thread. Must not block.
	 * hdr: the host's header for it (checksum to do, segmentation), from
	 * a backend with vnet_hdr; NULL from others, whose frames are whole
	 * and checksummed.
	 */
	void (*receive)(void *opaque, const struct virtio_net_hdr_v1 *hdr, const u8 *frame,
			size_t len);
	/*
	 * Send what the guest has queued, with send(); called on the
	 * backend's thread after kick_tx(), with none of its locks held.
	 */
	void (*transmit)(void *opaque);
	void *opaque;
};

struct stats_visitor;

struct net_backend_ops {
	/* Starts delivering frames to fe; 0 or -1 with a message. */
	int (*start)(struct net_backend *be, const struct net_frontend *fe);
	/*
	 * A frame from the guest, len bytes in iov; any thread, never
	 * blocks. Returns 0, or -1 when the frame was dropped. hdr: NULL, or
	 * for a backend with vnet_hdr a header the device checked against the
	 * frame (net_gso_check()): a checksum or segmentation left to the host.
	 */
	int (*send)(struct net_backend *be, const struct virtio_net_hdr_v1 *hdr,
		    const struct iovec *iov, unsigned int cnt, size_t len);
	/*
	 * Optional: the guest queued frames. The backend's thread calls
	 * fe->transmit soon, so that the vCPU goes back to the guest at
	 * once and the frames go out in batches, as the backend's peer
	 * (slirp's TCP) answers them. Without it the device transmits on
	 * the thread that kicked.
	 */
	void (*kick_tx)(struct net_backend *be);
	/*
	 * Optional, backends with vnet_hdr: what receive() may hand over from
	 * now on, NET_RX_* (what the guest's driver negotiated). 0 until then:
	 * whole, checksummed frames.
	 */
	void (*set_rx_offloads)(struct net_backend *be, unsigned int offloads);
	/* Optional: the backend's own figures, under group. */
	void (*report_stats)(struct net_backend *be, const char *group,
			     const struct stats_visitor *v);
	/* Stops the backend's thread and frees it; no receive() after this. */
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	/*
	 * The largest IP packet the backend carries each way, offered to the
	 * guest as VIRTIO_NET_F_MTU; 0 offers nothing (the guest's 1500).
	 */
	unsigned int mtu;
	/*
	 * Frames carry a virtio-net header each way (a tap's vnet header):
	 * the host's stack takes the guest's partial checksums and 64 KiB TCP
	 * segments (the device offers HOST_TSO4/6 and passes the header on),
	 * and hands over its own (GUEST_TSO4/6) once set_rx_offloads() allows.
	 */
	bool vnet_hdr;
	/*
	 * Without vnet_hdr: send() takes a TCP/IPv4 segment larger than the
	 * MTU (up to 64 KiB) and handles it as one segment, so the device
	 * offers HOST_TSO4 and hands such a frame over whole, its checksums
	 * done (net_gso_whole()) instead of cutting it. libslirp does (see
	 * net_slirp.c).
	 */
	bool tso4_whole;
};

/* set_rx_offloads(): what receive() may give the guest. */
#define NET_RX_CSUM	(1u << 0)	/* NEEDS_CSUM: a checksum left undone */
#define NET_RX_TSO4	(1u << 1)	/* TCPv4 segments of up to 64 KiB */
#define NET_RX_TSO6	(1u << 2)	/* TCPv6 segments of up to 64 KiB */

#define NET_MIN_FRAME	14	/* an Ethernet header */

/*
 * User networking's default MTU. slirp is a TCP/IP stack of its own, so
 * the guest's packets never meet a real link, and a 16 KiB packet costs
 * the guest about what a 1500-byte one does. Not slirp4netns's 65520:
 * slirp's TCP has no window scaling, so with a 64 KiB MSS one segment
 * fills the guest's whole window and then waits out its delayed ACK
 * (measured: 8 MiB host -> guest took 11-26 s instead of 1-3 s). With
 * 16 KiB, a window holds four. NET_MTU_MIN is IPv4's minimum datagram.
 */
#define NET_SLIRP_MTU	16384
#define NET_MTU_MIN	68
#define NET_MTU_MAX	65520

/* One --net user,hostfwd=: a host port forwarded into the guest. */
struct net_hostfwd;

/* User-mode networking: QEMU's 10.0.2.0/24, the guest at .15, DNS at .3. */
struct net_slirp_options {
	const struct net_hostfwd *hostfwd;
	unsigned int nr_hostfwd;
	unsigned int mtu;	/* 0: NET_SLIRP_MTU */
	const char *name;	/* for messages: "virtio-net0" */
};

struct net_backend *net_slirp_create(const struct net_slirp_options *o);

/* A tap interface, created or attached by name (root or CAP_NET_ADMIN). */
struct net_backend *net_tap_create(const char *ifname);

#endif

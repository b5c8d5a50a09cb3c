// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net through the test driver.
 *
 * On a fake backend: config space and features, transmit (frames reach the
 * backend without the virtio header, however the chain is cut), receive
 * (frames fill guest buffers), the bounded queue and drop counting when
 * the guest has no buffers, and malformed chains; the checksum offloads:
 * NEEDS_CSUM filled in on transmit (and a field outside the frame
 * dropped), DATA_VALID on receive only for a checksum that is right.
 *
 * On real libslirp (which transmits on its own thread, kick_tx): ARP for
 * the gateway, DHCP (DISCOVER in, OFFER of 10.0.2.15 out), a TCP
 * connection from the guest to a listener on the host's loopback through
 * 10.0.2.2, and hostfwd into the guest; the MTU it offers.
 *
 * On a real tap, in a network namespace of a child process: a frame each
 * way. Skipped, with the reason, where namespaces or /dev/net/tun are not
 * available.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "cli/config.h"
#include "machine/vm.h"
#include "virtio/net_csum.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_net.h"
#include "virtio_stat.h"
#include "virtio_test_driver.h"
#include "net_ref.h"
#include "net_tcp_frame.h"

#define RX		0
#define TX		1
#define QSIZE		256
#define HDR		12
#define RXBUF		2048
#define GROUP		"virtio-net0"

static const u8 guest_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

/* --- a fake backend that records what it is sent --- */

#define FAKE_FRAMES 8
#define FRAME_MAX 65536		/* the largest frame a guest may send */

struct fake_be {
	struct net_backend be;
	struct net_frontend fe;
	bool started, destroyed, refuse;
	unsigned int sent;
	u8 frames[FAKE_FRAMES][FRAME_MAX];
	size_t lens[FAKE_FRAMES];
	/* With vnet_hdr: the header each frame came with, and the offloads set. */
	struct virtio_net_hdr_v1 hdrs[FAKE_FRAMES];
	bool had_hdr[FAKE_FRAMES];
	unsigned int rx_offloads, offload_calls;
};

static struct fake_be fake;

static int fake_start(struct net_backend *be, const struct net_frontend *fe)
{
	(void)be;
	fake.fe = *fe;
	fake.started = true;
	return 0;
}

static int fake_send(struct net_backend *be, const struct virtio_net_hdr_v1 *hdr,
		     const struct iovec *iov, unsigned int cnt, size_t len)
{
	(void)be;
	if (fake.refuse)
		return -1;
	if (fake.sent < FAKE_FRAMES && len <= sizeof(fake.frames[0])) {
		fake.lens[fake.sent] = iov_to_buf(iov, cnt, 0, fake.frames[fake.sent], len);
		fake.had_hdr[fake.sent] = hdr;
		if (hdr)
			fake.hdrs[fake.sent] = *hdr;
		fake.sent++;
	}
	return 0;
}

static void fake_set_rx_offloads(struct net_backend *be, unsigned int offloads)
{
	(void)be;
	fake.rx_offloads = offloads;
	fake.offload_calls++;
}

static void fake_destroy(struct net_backend *be)
{
	(void)be;
	fake.destroyed = true;
}

static const struct net_backend_ops fake_ops = {
	.start = fake_start, .send = fake_send, .destroy = fake_destroy,
};

/* A backend like a tap with IFF_VNET_HDR: headers both ways. */
static const struct net_backend_ops fake_vnet_ops = {
	.start = fake_start, .send = fake_send, .destroy = fake_destroy,
	.set_rx_offloads = fake_set_rx_offloads,
};

/* --- fixtures --- */

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	u64 buf;		/* 64 KiB for transmit chains */
	u64 rx;			/* QSIZE receive buffers of RXBUF bytes, by descriptor */
};

static struct fixture fx;

static int common_setup(void **state, struct net_backend *be)
{
	struct virtio_net_options o = { .index = 0 };

	memset(&fx, 0, sizeof(fx));
	memcpy(o.mac, guest_mac, 6);
	fx.vm = vtd_vm_create();
	if (!fx.vm || !be || !virtio_net_create(fx.vm, &o, be) ||
	    vtd_probe(fx.vm, VIRTIO_ID_NET, &fx.d) || vtd_negotiate(&fx.d, ~0ULL))
		return -1;
	vtd_enable_msix(&fx.d);
	vtd_common_write(&fx.d, VIRTIO_PCI_COMMON_MSIX, 2, 2);
	if (vtd_setup_queue(&fx.d, RX, QSIZE, 0) || vtd_setup_queue(&fx.d, TX, QSIZE, 1))
		return -1;
	fx.buf = vtd_alloc(fx.vm, 72 * KiB, 4096);
	fx.rx = vtd_alloc(fx.vm, (u64)QSIZE * RXBUF, 4096);
	*state = &fx;
	return 0;
}

static int setup_fake(void **state)
{
	memset(&fake, 0, sizeof(fake));
	fake.be.ops = &fake_ops;
	return common_setup(state, &fake.be);
}

static int setup_fake_vnet(void **state)
{
	memset(&fake, 0, sizeof(fake));
	fake.be.ops = &fake_vnet_ops;
	fake.be.vnet_hdr = true;
	return common_setup(state, &fake.be);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vtd_vm_destroy(f->vm);
	return 0;
}

/* Posts n receive buffers of len bytes; descriptor i uses rx + i * RXBUF. */
static void post_rx(struct fixture *f, unsigned int n, u32 len)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vtd_buf b = { f->rx + (u64)f->d.q[RX].next_desc * RXBUF, len, true };

		vtd_add_chain(&f->d, RX, &b, 1, false);
	}
	vtd_kick(&f->d, RX);
}

/*
 * Transmits hdr (NULL: zeroes) + frame, cut into pieces of the given sizes
 * (0-terminated).
 */
static void transmit_hdr(struct fixture *f, const struct virtio_net_hdr_v1 *hdr, const u8 *frame,
			 size_t len, const u32 *cuts)
{
	struct vtd_buf b[8];
	u8 *all = calloc(1, HDR + len);	/* the header, then the frame */
	unsigned int n = 0;
	u64 at = f->buf;
	size_t off = 0, total = HDR + len;

	assert_non_null(all);
	assert_true(total <= 68 * KiB);
	if (hdr)
		memcpy(all, hdr, HDR);
	memcpy(all + HDR, frame, len);
	while (off < total) {
		u32 piece = cuts && cuts[n] ? cuts[n] : total - off;

		piece = MIN(piece, total - off);
		vtd_mem_write(f->vm, at, all + off, piece);
		b[n++] = (struct vtd_buf){ at, piece, false };
		at += ALIGN_UP(piece, 64);
		off += piece;
	}
	free(all);
	vtd_add_chain(&f->d, TX, b, n, false);
	vtd_kick(&f->d, TX);
}

static void transmit(struct fixture *f, const u8 *frame, size_t len, const u32 *cuts)
{
	transmit_hdr(f, NULL, frame, len, cuts);
}

/* Resets the device and has the driver take only the features in wanted. */
static void renegotiate(struct fixture *f, u64 wanted)
{
	assert_int_equal(vtd_reset(&f->d), 0);
	assert_int_equal(vtd_negotiate(&f->d, wanted), 0);
	assert_int_equal(vtd_setup_queue(&f->d, RX, QSIZE, 0), 0);
	assert_int_equal(vtd_setup_queue(&f->d, TX, QSIZE, 1), 0);
}

#define NO_MRG	(~(1ULL << VIRTIO_NET_F_MRG_RXBUF))

static bool needs_reset(void *arg)
{
	return vtd_status(arg) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void make_frame(u8 *frame, size_t len, u8 seed)
{
	memset(frame, 0xff, 6);			/* broadcast */
	memcpy(frame + 6, guest_mac, 6);
	frame[12] = 0x88;			/* local experimental ethertype */
	frame[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		frame[i] = seed + i;
}

/* --- fake backend: config, transmit, receive --- */

static void test_config_and_features(void **state)
{
	struct fixture *f = *state;
	u8 mac[6];

	for (int i = 0; i < 6; i++)
		mac[i] = vtd_bar_read(&f->d, f->d.device + i, 1);
	assert_memory_equal(mac, guest_mac, 6);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_STATUS);
	assert_true(f->d.features & 1ULL << VIRTIO_F_VERSION_1);
	/*
	 * Checksums both ways and merged receive buffers; no segmentation,
	 * which a backend without a vnet header cannot carry.
	 */
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_CSUM);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_MRG_RXBUF);
	for (unsigned int bit = VIRTIO_NET_F_GUEST_TSO4; bit <= VIRTIO_NET_F_HOST_UFO; bit++)
		assert_false(f->d.features & 1ULL << bit);
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	/* The fake backend has no MTU to offer. */
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_MTU);
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_CTRL_VQ);
	assert_true(fake.started);
}

static void test_transmit(void **state)
{
	struct fixture *f = *state;
	const u32 whole[] = { 0 }, split_hdr[] = { 5, 7, 20, 0 }, mixed[] = { 30, 0 };
	const u32 *cuts[] = { whole, split_hdr, mixed };
	u8 frame[60];
	u32 id, len;

	vtd_driver_ok(&f->d);
	for (unsigned int i = 0; i < ARRAY_SIZE(cuts); i++) {
		make_frame(frame, sizeof(frame), i);
		transmit(f, frame, sizeof(frame), cuts[i]);
		assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
		assert_int_equal(len, 0);
		assert_int_equal(fake.sent, i + 1);
		assert_int_equal(fake.lens[i], sizeof(frame));
		assert_memory_equal(fake.frames[i], frame, sizeof(frame));
	}
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_frames"), 3);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_bytes"), 180);
	assert_true(vtd_msi_count(VTD_MSI_DATA(1)) >= 1);
}

static void test_transmit_errors(void **state)
{
	struct fixture *f = *state;
	u8 frame[60];
	u32 id, len;

	vtd_driver_ok(&f->d);
	make_frame(frame, sizeof(frame), 1);
	transmit(f, frame, 10, NULL);		/* a runt: not even an Ethernet header */
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
	assert_int_equal(fake.sent, 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 1);
	fake.refuse = true;			/* the host cannot take it now */
	transmit(f, frame, sizeof(frame), NULL);
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_dropped"), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_frames"), 0);
	assert_false(needs_reset(&f->d));
}

static void test_transmit_writable_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->buf, HDR, false }, { f->buf + 64, 60, true } };

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, TX, b, 2, false);
	vtd_kick(&f->d, TX);
	assert_true(needs_reset(&f->d));
	assert_int_equal(vtd_used_idx(&f->d, TX), 0);
	assert_int_equal(fake.sent, 0);
}

static void test_transmit_short_header(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf, HDR - 4, false };

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, TX, &b, 1, true);
	vtd_kick(&f->d, TX);
	assert_true(needs_reset(&f->d));
	assert_int_equal(fake.sent, 0);
}

/* Whether frame's TCP or UDP checksum is right, by the textbook sum. */
static bool l4_sum_right(const u8 *fr, size_t len)
{
	bool v6 = len >= 54 && fr[12] == 0x86 && fr[13] == 0xdd;
	size_t l4 = v6 ? 54 : 14 + (fr[14] & 0xf) * 4;
	size_t l4len = v6 ? (size_t)(fr[18] << 8 | fr[19]) : (size_t)(fr[16] << 8 | fr[17]) + 14 - l4;
	u8 tail[4] = { 0, v6 ? fr[20] : fr[23], l4len >> 8, l4len };
	u16 sum = v6 ? ref_sum(0, fr + 22, 32) : ref_sum(0, fr + 26, 8);

	assert_true(l4 + l4len <= len);
	return ref_sum(ref_sum(sum, tail, 4), fr + l4, l4len) == 0xffff;
}

/* Reads the frame of the used receive entry id; returns the header's flags. */
static u8 rx_frame(struct fixture *f, u32 id, u32 len, u8 *frame)
{
	u8 hdr[HDR];

	vtd_mem_read(f->vm, f->rx + (u64)(id % QSIZE) * RXBUF, hdr, HDR);
	assert_true(len >= HDR);
	vtd_mem_read(f->vm, f->rx + (u64)(id % QSIZE) * RXBUF + HDR, frame, len - HDR);
	/*
	 * No segmentation and no checksum left to do: the header is zero but
	 * for num_buffers = 1 and, for a checksum we checked, DATA_VALID.
	 */
	assert_true(hdr[0] == 0 || hdr[0] == VIRTIO_NET_HDR_F_DATA_VALID);
	for (int i = 1; i < 10; i++)
		assert_int_equal(hdr[i], 0);
	assert_int_equal(hdr[10] | hdr[11] << 8, 1);
	if (hdr[0])
		assert_true(l4_sum_right(frame, len - HDR));
	return hdr[0];
}

static void test_receive(void **state)
{
	struct fixture *f = *state;
	u8 frame[100], got[100];
	u32 id, len;

	vtd_driver_ok(&f->d);
	post_rx(f, 2, 1526);
	make_frame(frame, sizeof(frame), 7);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(len, HDR + sizeof(frame));
	rx_frame(f, id, len, got);
	assert_memory_equal(got, frame, sizeof(frame));
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_frames"), 1);
}

/* No buffers: NET_RX_PENDING (256) frames wait, the rest are dropped, in order. */
static void test_receive_without_buffers(void **state)
{
	struct fixture *f = *state;
	u8 frame[64], got[64];
	u32 id, len;

	vtd_driver_ok(&f->d);
	for (unsigned int i = 0; i < 300; i++) {
		make_frame(frame, sizeof(frame), 0);
		memcpy(frame + 14, &i, sizeof(i));
		fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	}
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_pending"), 256);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_dropped"), 44);
	post_rx(f, QSIZE, RXBUF);
	for (unsigned int i = 0; i < 256; i++) {
		unsigned int seq;

		assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
		assert_int_equal(len, HDR + sizeof(frame));
		rx_frame(f, id, len, got);
		memcpy(&seq, got + 14, sizeof(seq));
		assert_int_equal(seq, i);	/* the oldest first */
	}
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_pending"), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_frames"), 256);
}

static void test_receive_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	u8 frame[64];

	make_frame(frame, sizeof(frame), 3);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_not_ready"), 1);
	vtd_driver_ok(&f->d);
	post_rx(f, 1, RXBUF);
	usleep(20 * 1000);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
}

/*
 * Without MRG_RXBUF, a frame too big for the buffer is dropped; the buffer
 * takes the next one.
 */
static void test_receive_buffer_too_small(void **state)
{
	struct fixture *f = *state;
	u8 frame[100], got[100];
	u32 id, len;

	renegotiate(f, NO_MRG);
	vtd_driver_ok(&f->d);
	post_rx(f, 1, 40);
	make_frame(frame, sizeof(frame), 5);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_oversize"), 1);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	fake.fe.receive(fake.fe.opaque, NULL, frame, 28);
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(len, HDR + 28);
	rx_frame(f, id, len, got);
	assert_memory_equal(got, frame, 28);
}

/*
 * A buffer kept for a later frame does not hold up a reset: without
 * MRG_RXBUF one too small for the last frame, with it one that waits for
 * the rest of a frame.
 */
static void test_reset_with_a_kept_buffer(void **state)
{
	struct fixture *f = *state;
	u8 frame[100];

	renegotiate(f, NO_MRG);
	vtd_driver_ok(&f->d);
	post_rx(f, 1, 40);
	make_frame(frame, sizeof(frame), 5);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_oversize"), 1);
	renegotiate(f, ~0ULL);
	vtd_driver_ok(&f->d);
	post_rx(f, 1, 40);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_pending"), 1);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	assert_int_equal(vtd_reset(&f->d), 0);
}

static void test_receive_readable_buffer(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->rx, RXBUF, false };
	u8 frame[64];

	vtd_driver_ok(&f->d);
	vtd_add_chain(&f->d, RX, &b, 1, false);
	vtd_kick(&f->d, RX);
	make_frame(frame, sizeof(frame), 1);
	fake.fe.receive(fake.fe.opaque, NULL, frame, sizeof(frame));
	assert_true(needs_reset(&f->d));
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
}

/* --- segmentation and merged receive buffers --- */

#define F(x)	(1ULL << VIRTIO_NET_F_##x)

static u8 big[2][70 * 1024];	/* frames: built, and read back */

static void test_vnet_features(void **state)
{
	struct fixture *f = *state;
	const u64 tso = F(HOST_TSO4) | F(HOST_TSO6) | F(GUEST_TSO4) | F(GUEST_TSO6);

	assert_int_equal(f->d.features & tso, tso);
	assert_true(f->d.features & F(MRG_RXBUF));
	assert_false(f->d.features & (F(HOST_ECN) | F(GUEST_ECN) | F(HOST_UFO) | F(GUEST_UFO)));
	vtd_driver_ok(&f->d);
	assert_int_equal(fake.rx_offloads, NET_RX_CSUM | NET_RX_TSO4 | NET_RX_TSO6);
	renegotiate(f, ~F(GUEST_TSO6));
	assert_int_equal(fake.rx_offloads, 0);		/* from the reset on */
	vtd_driver_ok(&f->d);
	assert_int_equal(fake.rx_offloads, NET_RX_CSUM | NET_RX_TSO4);
	renegotiate(f, ~F(GUEST_CSUM));
	vtd_driver_ok(&f->d);
	assert_int_equal(fake.rx_offloads, 0);
}

/* Sends hdr + frame in pieces and waits for the device to be done with it. */
static void send_and_wait(struct fixture *f, const struct virtio_net_hdr_v1 *h, const u8 *fr,
			  size_t len, const u32 *cuts)
{
	u32 id, used;

	transmit_hdr(f, h, fr, len, cuts);
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &used), 0);
}

/* GSO frames reach a vnet-header backend whole, with a header of checked fields. */
static void test_vnet_transmit_gso(void **state)
{
	struct fixture *f = *state;
	const struct tcp_frame_opts cases[] = {
		{ .payload = 60000, .mss = 1448 },
		{ .v6 = true, .vlan = true, .payload = 20000, .mss = 1428 },
		{ .payload = 65536 - 34 - TF_TCP_HDR, .mss = 16344 },
	};
	const u32 cuts[] = { 5, 7, 100, 30000, 0 };
	struct virtio_net_hdr_v1 h;

	vtd_driver_ok(&f->d);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = tcp_frame(big[0], &cases[i], &h);
		const struct virtio_net_hdr_v1 *got = &fake.hdrs[i];

		h.hdr_len = htole16(le16toh(h.hdr_len) + 3);	/* a hint: made exact */
		send_and_wait(f, &h, big[0], len, cuts);
		assert_int_equal(fake.sent, i + 1);
		assert_true(fake.had_hdr[i]);
		assert_int_equal(fake.lens[i], len);
		assert_memory_equal(fake.frames[i], big[0], len);	/* nothing summed here */
		assert_int_equal(got->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(got->gso_type, h.gso_type);
		assert_int_equal(got->gso_size, h.gso_size);
		assert_int_equal(le16toh(got->hdr_len), tf_l4(&cases[i]) + TF_TCP_HDR);
		assert_int_equal(got->csum_start, h.csum_start);
		assert_int_equal(got->csum_offset, h.csum_offset);
	}
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_gso"), ARRAY_SIZE(cases));
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 0);
	/* A frame without offloads goes with a zero header. */
	make_frame(big[0], 60, 1);
	send_and_wait(f, NULL, big[0], 60, NULL);
	assert_true(fake.had_hdr[3]);
	assert_memory_equal(&fake.hdrs[3], &(struct virtio_net_hdr_v1){ 0 }, HDR);
}

/* Headers that lie are dropped and counted; the queue goes on. */
static void test_vnet_transmit_bad_headers(void **state)
{
	struct fixture *f = *state;
	struct tcp_frame_opts o = { .payload = 3000, .mss = 1448 };
	struct virtio_net_hdr_v1 good, h;
	size_t len = tcp_frame(big[0], &o, &good);
	unsigned int n = 0;

	vtd_driver_ok(&f->d);
	h = good, h.hdr_len = htole16(len + 1);
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.gso_size = 0;
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.gso_type = 2;		/* no such type */
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.csum_start = htole16(len);
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.flags = 0;
	send_and_wait(f, &h, big[0], len, NULL), n++;
	h = good, h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* an IPv4 frame */
	send_and_wait(f, &h, big[0], len, NULL), n++;
	send_and_wait(f, &good, big[0], len - 1, NULL), n++;	/* IP length past the end */
	/* 64 KiB + 1: more than any frame may be. */
	o.payload = 65537 - 34 - TF_TCP_HDR;
	send_and_wait(f, &good, big[0], tcp_frame(big[0], &o, &good), NULL), n++;
	assert_int_equal(fake.sent, 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), n);
	assert_false(needs_reset(&f->d));
	o.payload = 3000;
	send_and_wait(f, &good, big[0], tcp_frame(big[0], &o, &good), NULL);
	assert_int_equal(fake.sent, 1);
}

/* Segmentation of a kind the driver did not negotiate is refused. */
static void test_vnet_transmit_gso_not_negotiated(void **state)
{
	struct fixture *f = *state;
	struct tcp_frame_opts v4 = { .payload = 3000, .mss = 1448 }, v6 = v4;
	struct virtio_net_hdr_v1 h;
	size_t len;

	v6.v6 = true;
	renegotiate(f, ~F(HOST_TSO4));
	vtd_driver_ok(&f->d);
	len = tcp_frame(big[0], &v4, &h);
	send_and_wait(f, &h, big[0], len, NULL);
	assert_int_equal(fake.sent, 0);
	len = tcp_frame(big[0], &v6, &h);
	send_and_wait(f, &h, big[0], len, NULL);
	assert_int_equal(fake.sent, 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 1);
}

/*
 * Reads the frame the device spread over receive buffers: *hdr from the
 * first, *nbuf buffers in all. Returns the frame's length.
 */
static size_t rx_merged(struct fixture *f, struct virtio_net_hdr_v1 *hdr, u8 *out, size_t max,
			unsigned int *nbuf)
{
	size_t got;
	u32 id, len;

	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_true(len >= HDR && len <= RXBUF);
	vtd_mem_read(f->vm, f->rx + (u64)(id % QSIZE) * RXBUF, hdr, HDR);
	got = len - HDR;
	assert_true(got <= max);
	vtd_mem_read(f->vm, f->rx + (u64)(id % QSIZE) * RXBUF + HDR, out, got);
	*nbuf = le16toh(hdr->num_buffers);
	for (unsigned int i = 1; i < *nbuf; i++) {
		assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
		assert_true(len > 0 && got + len <= max);
		vtd_mem_read(f->vm, f->rx + (u64)(id % QSIZE) * RXBUF, out + got, len);
		got += len;
	}
	return got;
}

/* A 60 KiB GSO frame from the host over 201 buffers of 300 bytes. */
static void test_vnet_receive_merged(void **state)
{
	struct fixture *f = *state;
	struct tcp_frame_opts o = { .payload = 60000, .mss = 1448 };
	struct virtio_net_hdr_v1 h, got;
	size_t len = tcp_frame(big[0], &o, &h);
	unsigned int nbuf;

	vtd_driver_ok(&f->d);
	post_rx(f, QSIZE, 300);
	fake.fe.receive(fake.fe.opaque, &h, big[0], len);
	assert_int_equal(rx_merged(f, &got, big[1], sizeof(big[1]), &nbuf), len);
	assert_int_equal(nbuf, (HDR + len + 299) / 300);
	assert_memory_equal(big[1], big[0], len);
	assert_int_equal(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(got.gso_size, h.gso_size);
	assert_int_equal(got.hdr_len, h.hdr_len);
	assert_int_equal(got.csum_start, h.csum_start);
	assert_int_equal(got.csum_offset, h.csum_offset);
	assert_int_equal(vtd_used_idx(&f->d, RX), nbuf);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_merged"), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_gso"), 1);
}

/* Buffers that run out mid-frame: the frame waits for the rest. */
static void test_receive_runs_out_mid_frame(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 got;
	unsigned int nbuf;

	vtd_driver_ok(&f->d);
	post_rx(f, 3, 1000);
	make_frame(big[0], 4500, 9);
	fake.fe.receive(fake.fe.opaque, NULL, big[0], 4500);
	usleep(20 * 1000);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_pending"), 1);
	post_rx(f, 2, 1000);
	assert_int_equal(rx_merged(f, &got, big[1], sizeof(big[1]), &nbuf), 4500);
	assert_int_equal(nbuf, 5);
	assert_memory_equal(big[1], big[0], 4500);
	assert_int_equal(got.flags, 0);
	assert_int_equal(got.gso_type, 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_pending"), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_dropped"), 0);
}

/* A frame bigger than the whole ring is dropped; the buffers take the next. */
static void test_receive_bigger_than_ring(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 got;
	unsigned int nbuf;

	vtd_driver_ok(&f->d);
	post_rx(f, QSIZE, 64);
	make_frame(big[0], 20000, 3);
	fake.fe.receive(fake.fe.opaque, NULL, big[0], 20000);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_oversize"), 1);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	make_frame(big[0], 100, 4);
	fake.fe.receive(fake.fe.opaque, NULL, big[0], 100);
	assert_int_equal(rx_merged(f, &got, big[1], sizeof(big[1]), &nbuf), 100);
	assert_int_equal(nbuf, 2);
	assert_memory_equal(big[1], big[0], 100);
}

/*
 * What the host hands over beyond what the driver took: a partial checksum
 * is completed here, segmentation is dropped, and a header that points
 * outside its frame is dropped.
 */
static void test_vnet_receive_fallbacks(void **state)
{
	struct fixture *f = *state;
	struct tcp_frame_opts o = { .payload = 1000 }, g = { .payload = 5000, .mss = 1448 };
	struct virtio_net_hdr_v1 h, got;
	size_t len;
	unsigned int nbuf;

	renegotiate(f, ~F(GUEST_CSUM));
	vtd_driver_ok(&f->d);
	post_rx(f, 8, RXBUF);
	len = tcp_frame(big[0], &o, &h);
	assert_false(l4_sum_right(big[0], len));
	fake.fe.receive(fake.fe.opaque, &h, big[0], len);
	assert_int_equal(rx_merged(f, &got, big[1], sizeof(big[1]), &nbuf), len);
	assert_int_equal(got.flags, 0);
	assert_true(l4_sum_right(big[1], len));
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_csum"), 1);
	len = tcp_frame(big[0], &g, &h);
	fake.fe.receive(fake.fe.opaque, &h, big[0], len);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_gso_dropped"), 1);

	renegotiate(f, ~F(GUEST_TSO4));
	vtd_driver_ok(&f->d);
	post_rx(f, 8, RXBUF);
	fake.fe.receive(fake.fe.opaque, &h, big[0], len);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_gso_dropped"), 2);
	h.gso_type = 0;
	h.csum_start = htole16(len - 1);
	fake.fe.receive(fake.fe.opaque, &h, big[0], len);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_bad_hdr"), 1);
	assert_int_equal(vtd_used_idx(&f->d, RX), 0);
	/* The host's DATA_VALID goes up as it is. */
	h = (struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	make_frame(big[0], 64, 2);
	fake.fe.receive(fake.fe.opaque, &h, big[0], 64);
	assert_int_equal(rx_merged(f, &got, big[1], sizeof(big[1]), &nbuf), 64);
	assert_int_equal(got.flags, VIRTIO_NET_HDR_F_DATA_VALID);
}

/* Without a vnet header there is no segmentation to offer, nor to take. */
static void test_transmit_gso_without_vnet(void **state)
{
	struct fixture *f = *state;
	struct tcp_frame_opts o = { .payload = 3000, .mss = 1448 };
	struct virtio_net_hdr_v1 h;
	size_t len = tcp_frame(big[0], &o, &h);

	vtd_driver_ok(&f->d);
	send_and_wait(f, &h, big[0], len, NULL);
	assert_int_equal(fake.sent, 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 1);
	h.hdr_len = htole16(len + 1);
	h.gso_type = 0;
	h.flags = 0;
	send_and_wait(f, &h, big[0], len, NULL);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 2);
}

/* --- real libslirp --- */

static u16 hostfwd_port;

static int setup_slirp_with(void **state, const struct net_hostfwd *fwd, unsigned int n)
{
	struct net_slirp_options o = { .hostfwd = fwd, .nr_hostfwd = n, .name = GROUP };

	if (common_setup(state, net_slirp_create(&o)))
		return -1;
	vtd_driver_ok(&fx.d);
	post_rx(&fx, 64, RXBUF);
	return 0;
}

static int setup_slirp(void **state)
{
	return setup_slirp_with(state, NULL, 0);
}

/* A TCP port on the loopback that nobody listens on right now. */
static u16 free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	u16 port = 0;

	if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(s, (struct sockaddr *)&a, &alen))
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static int setup_slirp_hostfwd(void **state)
{
	struct net_hostfwd fwd = {
		.host_addr = htonl(INADDR_LOOPBACK), .guest_port = 2222,
	};

	hostfwd_port = free_port();
	fwd.host_port = hostfwd_port;
	return setup_slirp_with(state, &fwd, 1);
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static u32 ip(const char *s)
{
	return ntohl(inet_addr(s));
}

/* Ethernet + IPv4 headers for a payload of plen bytes; returns the IP header. */
static u8 *ipv4_frame(u8 *frame, const u8 *dst_mac, u8 proto, u32 src, u32 dst, size_t plen)
{
	u8 *iph = frame + 14;

	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, guest_mac, 6);
	put16(frame + 12, 0x0800);
	memset(iph, 0, 20);
	iph[0] = 0x45;
	put16(iph + 2, 20 + plen);
	iph[8] = 64;
	iph[9] = proto;
	put32(iph + 12, src);
	put32(iph + 16, dst);
	put16(iph + 10, ~ref_sum(0, iph, 20));
	return iph;
}

static const u8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/*
 * Waits for a received frame that match() accepts, giving every receive
 * buffer back to the ring; returns its length (frame only) or 0.
 */
static size_t wait_frame(struct fixture *f, bool (*match)(const u8 *, size_t, void *), void *arg,
			 u8 *out, unsigned int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		u32 id, len;
		long ms;

		if (!vtd_wait_used(&f->d, RX, 50, &id, &len)) {
			bool ok;

			rx_frame(f, id, len, out);
			ok = match(out, len - HDR, arg);
			post_rx(f, 1, RXBUF);
			if (ok)
				return len - HDR;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > timeout_ms)
			return 0;
	}
}

static void send_arp_request(struct fixture *f, u32 target)
{
	u8 frame[42] = { 0 };

	memcpy(frame, broadcast, 6);
	memcpy(frame + 6, guest_mac, 6);
	put16(frame + 12, 0x0806);
	put16(frame + 14, 1);			/* Ethernet */
	put16(frame + 16, 0x0800);		/* IPv4 */
	frame[18] = 6;
	frame[19] = 4;
	put16(frame + 20, 1);			/* request */
	memcpy(frame + 22, guest_mac, 6);
	put32(frame + 28, ip("10.0.2.15"));
	put32(frame + 38, target);
	transmit(f, frame, sizeof(frame), NULL);
}

static bool is_arp_reply_from(const u8 *fr, size_t len, void *arg)
{
	return len >= 42 && get16(fr + 12) == 0x0806 && get16(fr + 20) == 2 &&
	       (u32)(fr[28] << 24 | fr[29] << 16 | fr[30] << 8 | fr[31]) == *(u32 *)arg;
}

/* ARP for 10.0.2.2; returns the gateway's MAC (and teaches slirp ours). */
static void arp_gateway(struct fixture *f, u8 *gw_mac)
{
	u32 gw = ip("10.0.2.2");
	u8 fr[RXBUF];

	send_arp_request(f, gw);
	assert_int_not_equal(wait_frame(f, is_arp_reply_from, &gw, fr, 3000), 0);
	assert_memory_equal(fr, guest_mac, 6);
	memcpy(gw_mac, fr + 22, 6);
}

static void test_slirp_arp(void **state)
{
	u8 gw_mac[6], zero[6] = { 0 };

	arp_gateway(*state, gw_mac);
	assert_memory_not_equal(gw_mac, zero, 6);
}

static bool is_dhcp_reply(const u8 *fr, size_t len, void *arg)
{
	(void)arg;
	return len >= 14 + 20 + 8 + 240 && get16(fr + 12) == 0x0800 && fr[23] == 17 &&
	       get16(fr + 34) == 67 && get16(fr + 36) == 68 && fr[42] == 2;
}

/* The value of DHCP option code in the reply at bootp, or NULL. */
static const u8 *dhcp_option(const u8 *bootp, size_t len, u8 code, u8 *olen)
{
	size_t i = 240;

	while (i + 2 <= len && bootp[i] != 255) {
		if (bootp[i] == 0) {
			i++;
			continue;
		}
		if (bootp[i] == code) {
			*olen = bootp[i + 1];
			return i + 2 + *olen <= len ? bootp + i + 2 : NULL;
		}
		i += 2 + bootp[i + 1];
	}
	return NULL;
}

static void test_slirp_dhcp(void **state)
{
	struct fixture *f = *state;
	u8 frame[14 + 20 + 8 + 244] = { 0 }, fr[RXBUF];
	u8 *udp, *bootp;
	const u8 *opt;
	struct timespec t0, t1;
	size_t n;
	u8 olen;

	ipv4_frame(frame, broadcast, 17, 0, 0xffffffff, 8 + 244);
	udp = frame + 34;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + 244);		/* checksum 0: none */
	bootp = udp + 8;
	bootp[0] = 1;				/* BOOTREQUEST */
	bootp[1] = 1;				/* Ethernet */
	bootp[2] = 6;
	put32(bootp + 4, 0x4b494c4e);		/* xid */
	put16(bootp + 10, 0x8000);		/* broadcast the reply */
	memcpy(bootp + 28, guest_mac, 6);
	put32(bootp + 236, 0x63825363);		/* magic cookie */
	bootp[240] = 53;			/* DHCP message type: DISCOVER */
	bootp[241] = 1;
	bootp[242] = 1;
	bootp[243] = 255;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	transmit(f, frame, sizeof(frame), NULL);
	n = wait_frame(f, is_dhcp_reply, NULL, fr, 3000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_not_equal(n, 0);
	print_message("DHCP DISCOVER to OFFER through slirp: %ld us\n",
		      (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	bootp = fr + 42;
	assert_int_equal(get16(bootp + 4) << 16 | get16(bootp + 6), 0x4b494c4e);
	assert_int_equal(get16(bootp + 16) << 16 | get16(bootp + 18), ip("10.0.2.15"));
	opt = dhcp_option(bootp, n - 42, 53, &olen);
	assert_non_null(opt);
	assert_int_equal(opt[0], 2);		/* OFFER */
	opt = dhcp_option(bootp, n - 42, 6, &olen);	/* DNS server */
	assert_non_null(opt);
	assert_int_equal(get16(opt) << 16 | get16(opt + 2), ip("10.0.2.3"));
	opt = dhcp_option(bootp, n - 42, 3, &olen);	/* router */
	assert_non_null(opt);
	assert_int_equal(get16(opt) << 16 | get16(opt + 2), ip("10.0.2.2"));
}

struct tcp_match {
	u16 dport;
	u8 flags;
};

static bool is_tcp_to(const u8 *fr, size_t len, void *arg)
{
	struct tcp_match *m = arg;

	return len >= 54 && get16(fr + 12) == 0x0800 && fr[23] == 6 &&
	       get16(fr + 36) == m->dport && (fr[47] & 0x3f) == m->flags;
}

/* A SYN from the guest's port sport to dst:dport. */
static void send_syn(struct fixture *f, const u8 *gw_mac, u32 dst, u16 sport, u16 dport)
{
	u8 frame[14 + 20 + 20] = { 0 }, pseudo[12];
	u8 *tcp;
	u32 sum;

	ipv4_frame(frame, gw_mac, 6, ip("10.0.2.15"), dst, 20);
	tcp = frame + 34;
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, 1000);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;				/* SYN */
	put16(tcp + 14, 65535);
	put32(pseudo, ip("10.0.2.15"));
	put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	sum = ref_sum(0, pseudo, sizeof(pseudo));
	put16(tcp + 16, ~ref_sum(sum, tcp, 20));
	transmit(f, frame, sizeof(frame), NULL);
}

/*
 * A listener on the host's 127.0.0.1 (its fd, and its port in *a), and the
 * guest's SYN to it through 10.0.2.2 from port 40000, the gateway's MAC
 * in gw_mac.
 */
static int connect_to_host(struct fixture *f, struct sockaddr_in *a, u8 *gw_mac)
{
	socklen_t alen = sizeof(*a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)a, &alen), 0);
	arp_gateway(f, gw_mac);
	send_syn(f, gw_mac, ip("10.0.2.2"), 40000, ntohs(a->sin_port));
	return l;
}

/* The guest reaches a listener on the host's 127.0.0.1 through 10.0.2.2. */
static void test_slirp_tcp_to_host_loopback(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a;
	struct tcp_match m = { .dport = 40000, .flags = 0x12 };	/* SYN-ACK */
	struct pollfd p;
	u8 gw_mac[6], fr[RXBUF];
	int l = connect_to_host(f, &a, gw_mac), c;

	p = (struct pollfd){ .fd = l, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	assert_int_not_equal(wait_frame(f, is_tcp_to, &m, fr, 3000), 0);
	assert_int_equal(get16(fr + 34), ntohs(a.sin_port));	/* from the listener's port */
	close(c);
	close(l);
}

/*
 * TSO over slirp: a 40 KB segment of one GSO frame, its sums left as the
 * guest leaves them, reaches a listener on the host whole and intact.
 * HOST_TSO4 only (slirp refuses IPv6 payloads above its MTU), nothing the
 * guest would receive.
 */
static void test_slirp_tso4(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a;
	struct tcp_match m = { .dport = 40000, .flags = 0x12 };	/* SYN-ACK */
	struct tcp_frame_opts o = { .payload = 40000, .mss = 1448 };
	struct virtio_net_hdr_v1 h;
	struct pollfd p;
	u8 gw_mac[6], fr[RXBUF];
	size_t len, got = 0;
	u32 their_seq;
	int l, c;

	assert_true(f->d.features & F(HOST_TSO4));
	assert_false(f->d.features & (F(HOST_TSO6) | F(GUEST_TSO4) | F(GUEST_TSO6)));
	l = connect_to_host(f, &a, gw_mac);
	assert_int_not_equal(wait_frame(f, is_tcp_to, &m, fr, 3000), 0);
	their_seq = (u32)get16(fr + 38) << 16 | get16(fr + 40);
	/* The handshake's ACK, the data and FIN in one GSO frame. */
	len = tcp_frame(big[0], &o, &h);
	memcpy(big[0], gw_mac, 6);
	put16(big[0] + 36, ntohs(a.sin_port));
	put32(big[0] + 38, 1001);
	put32(big[0] + 42, their_seq + 1);
	put16(big[0] + 48, 65535);
	send_and_wait(f, &h, big[0], len, NULL);
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	for (;;) {
		ssize_t n;

		p = (struct pollfd){ .fd = c, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 3000), 1);
		n = recv(c, big[1] + got, sizeof(big[1]) - got, 0);
		assert_true(n >= 0);
		if (n == 0)
			break;			/* the FIN */
		got += n;
	}
	assert_int_equal(got, o.payload);
	for (size_t i = 0; i < got; i++)
		if (big[1][i] != tf_byte(i))
			fail_msg("byte %zu: %#x, sent %#x", i, big[1][i], tf_byte(i));
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_gso"), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), 0);
	close(c);
	close(l);
}

/* User networking offers its MTU, NET_SLIRP_MTU unless mtu= said otherwise. */
static void test_slirp_mtu(void **state)
{
	struct fixture *f = *state;
	struct net_slirp_options o = { .name = "virtio-net0", .mtu = 1500 };
	struct virtio_net_options no = { .index = 0, .mac = VIRTIO_NET_DEFAULT_MAC };
	struct vm *vm = vtd_vm_create();
	struct vtd_dev d;

	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_MTU);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + 10, 2), NET_SLIRP_MTU);
	assert_non_null(vm);
	assert_non_null(virtio_net_create(vm, &no, net_slirp_create(&o)));
	assert_int_equal(vtd_probe(vm, VIRTIO_ID_NET, &d), 0);
	assert_int_equal(vtd_bar_read(&d, d.device + 10, 2), 1500);
	vtd_vm_destroy(vm);
}

/* hostfwd: a host connection to 127.0.0.1:HOSTPORT becomes a SYN to guest port 2222. */
static void test_slirp_hostfwd(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(hostfwd_port),
	};
	struct tcp_match m = { .dport = 2222, .flags = 0x02 };	/* SYN */
	u8 gw_mac[6], fr[RXBUF];
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	assert_int_not_equal(hostfwd_port, 0);
	arp_gateway(f, gw_mac);		/* slirp learns where 10.0.2.15 is */
	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	assert_true(r == 0 || errno == EINPROGRESS);
	assert_int_not_equal(wait_frame(f, is_tcp_to, &m, fr, 3000), 0);
	assert_int_equal(get16(fr + 30) << 16 | get16(fr + 32), ip("10.0.2.15"));
	close(s);
}

/* --- checksum offloads, on the fake backend --- */

/*
 * A TCP/IPv4 frame of len bytes, its checksum field holding the
 * pseudo-header's sum, as Linux leaves it for VIRTIO_NET_HDR_F_NEEDS_CSUM.
 */
static void partial_tcp_frame(u8 *fr, size_t len)
{
	u8 pseudo[12] = { 10, 0, 2, 15, 10, 0, 2, 2, 0, 6, (len - 34) >> 8, len - 34 };

	ipv4_frame(fr, broadcast, 6, ip("10.0.2.15"), ip("10.0.2.2"), len - 34);
	for (size_t i = 34; i < len; i++)
		fr[i] = i * 7;
	fr[34 + 12] = 5 << 4;
	put16(fr + 34 + 16, ref_sum(0, pseudo, sizeof(pseudo)));
}

static void test_transmit_csum(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(34),
		.csum_offset = htole16(16),
	};
	const u32 cuts[] = { 5, 30, 17, 0 };
	u8 fr[1001];
	u32 id, len;

	vtd_driver_ok(&f->d);
	partial_tcp_frame(fr, sizeof(fr));
	assert_false(l4_sum_right(fr, sizeof(fr)));
	transmit_hdr(f, &hdr, fr, sizeof(fr), cuts);
	assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
	assert_int_equal(fake.sent, 1);
	assert_int_equal(fake.lens[0], sizeof(fr));
	assert_true(l4_sum_right(fake.frames[0], sizeof(fr)));
	/* Nothing but the field changed. */
	assert_memory_equal(fake.frames[0], fr, 34 + 16);
	assert_memory_equal(fake.frames[0] + 34 + 18, fr + 34 + 18, sizeof(fr) - 34 - 18);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_csum"), 1);
	/*
	 * The guest's buffer keeps the pseudo-header sum: the device only
	 * reads it. The field (header + 50) is 10 bytes into the fourth piece.
	 */
	{
		u8 field[2];

		vtd_mem_read(f->vm, f->buf + 3 * 64 + 10, field, 2);
		assert_memory_equal(field, fr + 50, 2);
	}
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_frames"), 1);
}

/* A checksum field outside the frame: dropped and counted, the queue lives on. */
static void test_transmit_csum_outside(void **state)
{
	struct fixture *f = *state;
	const u16 bad[][2] = { { 100, 0 }, { 99, 0 }, { 34, 65 }, { 0xffff, 0xffff } };
	u8 fr[100];
	u32 id, len;

	vtd_driver_ok(&f->d);
	partial_tcp_frame(fr, sizeof(fr));
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		struct virtio_net_hdr_v1 hdr = {
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(bad[i][0]),
			.csum_offset = htole16(bad[i][1]),
		};

		transmit_hdr(f, &hdr, fr, sizeof(fr), NULL);
		assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
	}
	assert_int_equal(fake.sent, 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "tx_errors"), ARRAY_SIZE(bad));
	assert_false(needs_reset(&f->d));
	/* The last two bytes are a field like any other. */
	{
		struct virtio_net_hdr_v1 hdr = {
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(34),
			.csum_offset = htole16(64),
		};

		transmit_hdr(f, &hdr, fr, sizeof(fr), NULL);
		assert_int_equal(vtd_wait_used(&f->d, TX, 2000, &id, &len), 0);
		assert_int_equal(fake.sent, 1);
	}
}

/* DATA_VALID for a right TCP checksum only; wrong or absent ones go up unmarked. */
static void test_receive_data_valid(void **state)
{
	struct fixture *f = *state;
	u8 fr[300], got[300];
	u32 id, len;

	vtd_driver_ok(&f->d);
	post_rx(f, 3, RXBUF);
	partial_tcp_frame(fr, sizeof(fr));
	assert_true(net_csum_complete(fr, sizeof(fr), 34, 16));
	fake.fe.receive(fake.fe.opaque, NULL, fr, sizeof(fr));
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(rx_frame(f, id, len, got), VIRTIO_NET_HDR_F_DATA_VALID);
	assert_memory_equal(got, fr, sizeof(fr));
	fr[200] ^= 1;				/* a wrong checksum */
	fake.fe.receive(fake.fe.opaque, NULL, fr, sizeof(fr));
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(rx_frame(f, id, len, got), 0);
	assert_memory_equal(got, fr, sizeof(fr));
	make_frame(fr, 64, 1);			/* not IP */
	fake.fe.receive(fake.fe.opaque, NULL, fr, 64);
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(rx_frame(f, id, len, got), 0);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_csum_valid"), 1);
	assert_int_equal(vm_stat(f->vm, GROUP, "rx_frames"), 3);
}

/* A driver that does not take GUEST_CSUM gets no DATA_VALID. */
static void test_receive_without_guest_csum(void **state)
{
	struct fixture *f = *state;
	u8 fr[300], got[300];
	u32 id, len;

	renegotiate(f, ~(1ULL << VIRTIO_NET_F_GUEST_CSUM));
	vtd_driver_ok(&f->d);
	post_rx(f, 1, RXBUF);
	partial_tcp_frame(fr, sizeof(fr));
	assert_true(net_csum_complete(fr, sizeof(fr), 34, 16));
	fake.fe.receive(fake.fe.opaque, NULL, fr, sizeof(fr));
	assert_int_equal(vtd_wait_used(&f->d, RX, 2000, &id, &len), 0);
	assert_int_equal(rx_frame(f, id, len, got), 0);
}

/* --- a real tap, in a network namespace of a child process --- */

#define CHILD_SKIP 77
#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c)) {                                                        \
			fprintf(stderr, "tap child: %s:%d: %s failed\n", __FILE__, \
				__LINE__, #c);                                     \
			_exit(1);                                                  \
		}                                                                  \
	} while (0)

static bool is_experimental(const u8 *fr, size_t len, void *arg)
{
	return len >= 14 + 11 && get16(fr + 12) == 0x88b5 && !memcmp(fr + 14, arg, 11);
}

/* Whether the packet socket pk sees frame within 100 frames or 2 s of quiet. */
static bool host_sees(int pk, const u8 *frame, size_t len)
{
	u8 fr[RXBUF];

	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = { .fd = pk, .events = POLLIN };

		if (poll(&p, 1, 2000) != 1)
			return false;
		if (recv(pk, fr, sizeof(fr), 0) == (ssize_t)len && !memcmp(fr, frame, len))
			return true;
	}
	return false;
}

static void tap_child(void)
{
	struct ifreq ifr = { .ifr_name = "kiln-t0" };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct net_backend *be;
	u8 frame[64], fr[RXBUF];
	struct fixture *f = &fx;
	void *state;
	int s, pk;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		_exit(CHILD_SKIP);
	}
	if (access("/dev/net/tun", R_OK | W_OK)) {
		fprintf(stderr, "/dev/net/tun: %s\n", strerror(errno));
		_exit(CHILD_SKIP);
	}
	be = net_tap_create("kiln-t0");
	if (!be)
		_exit(CHILD_SKIP);	/* the reason is on stderr */
	CHECK(common_setup(&state, be) == 0);
	vtd_driver_ok(&f->d);
	post_rx(f, 64, RXBUF);
	/* The interface up, and a packet socket on it for the host's side. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
	ifr.ifr_flags |= IFF_UP;
	CHECK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
	CHECK(ioctl(s, SIOCGIFINDEX, &ifr) == 0);
	pk = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	CHECK(pk >= 0);
	sll.sll_ifindex = ifr.ifr_ifindex;
	CHECK(bind(pk, (struct sockaddr *)&sll, sizeof(sll)) == 0);

	/* Guest to host. */
	make_frame(frame, sizeof(frame), 0);
	memcpy(frame + 14, "kiln-tap-tx", 11);
	transmit(f, frame, sizeof(frame), NULL);
	CHECK(host_sees(pk, frame, sizeof(frame)));

	/* Host to guest. */
	memcpy(frame, guest_mac, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(frame + 14, "kiln-tap-rx", 11);
	CHECK(send(pk, frame, sizeof(frame), 0) == sizeof(frame));
	CHECK(wait_frame(f, is_experimental, "kiln-tap-rx", fr, 3000) == sizeof(frame));
	CHECK(!memcmp(fr, frame, sizeof(frame)));

	/* A frame kicked just before the VM goes away still goes out. */
	make_frame(frame, sizeof(frame), 0);
	memcpy(frame + 14, "kiln-tap-end", 12);
	transmit(f, frame, sizeof(frame), NULL);
	vtd_vm_destroy(f->vm);
	CHECK(host_sees(pk, frame, sizeof(frame)));
	close(pk);
	close(s);
	_exit(0);
}

static void test_tap_in_netns(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		tap_child();
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP) {
		print_message("tap: SKIP, no network namespace or tap here (reason above)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- --net --- */

static int parse_net(struct vm_config *cfg, const char *a, const char *b)
{
	char *argv[8] = { "run", "--kernel", "/proc/self/exe", "--net", (char *)a };
	int argc = 5;

	if (b) {
		argv[argc++] = "--net";
		argv[argc++] = (char *)b;
	}
	return config_parse_run(cfg, argc, argv);
}

static void test_cli(void **state)
{
	static const char *const bad[] = {
		"", "bogus", "user,hostfwd=tcp::0-:80", "user,hostfwd=tcp::80",
		"user,hostfwd=sctp::1-:2", "user,hostfwd=tcp:1.2.3:1-:2", "user,hostfwd=tcp::1-:65536",
		"user,mac=01:00:00:00:00:00", "user,mac=52:54:00:00:00", "user,mac=52:54:00:00:00:0g",
		"user,mac=52:54:00:00:00:001", "tap=", "tap=t0,hostfwd=tcp::1-:2",
		"tap=a-name-of-16-chars", "user,colour=blue", "user,mtu=67", "user,mtu=65521",
		"user,mtu=", "user,mtu=1500x", "user,mtu=-1", "tap=t0,mtu=9000",
	};
	struct vm_config cfg;
	char many[16 * 24 + 8] = "user";

	(void)state;
	assert_int_equal(parse_net(&cfg, "user", "tap=kiln0,mac=52:54:00:00:00:07"), 0);
	assert_int_equal(cfg.nr_nets, 2);
	assert_int_equal(cfg.nets[0].kind, NET_USER);
	assert_false(cfg.nets[0].has_mac);
	assert_int_equal(cfg.nets[0].nr_hostfwd, 0);
	assert_int_equal(cfg.nets[1].kind, NET_TAP);
	assert_string_equal(cfg.nets[1].tap_name, "kiln0");
	assert_true(cfg.nets[1].has_mac);
	assert_memory_equal(cfg.nets[1].mac, "\x52\x54\x00\x00\x00\x07", 6);
	config_release(&cfg);

	assert_int_equal(parse_net(&cfg, "user,hostfwd=tcp::8080-:80,"
				   "hostfwd=udp:127.0.0.1:5353-10.0.2.15:53,hostfwd=::2222-:22", NULL), 0);
	assert_int_equal(cfg.nets[0].nr_hostfwd, 3);
	assert_false(cfg.nets[0].hostfwd[0].udp);
	assert_int_equal(cfg.nets[0].hostfwd[0].host_addr, 0);
	assert_int_equal(cfg.nets[0].hostfwd[0].host_port, 8080);
	assert_int_equal(cfg.nets[0].hostfwd[0].guest_addr, 0);
	assert_int_equal(cfg.nets[0].hostfwd[0].guest_port, 80);
	assert_true(cfg.nets[0].hostfwd[1].udp);
	assert_int_equal(cfg.nets[0].hostfwd[1].host_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(cfg.nets[0].hostfwd[1].guest_addr, inet_addr("10.0.2.15"));
	assert_int_equal(cfg.nets[0].hostfwd[1].guest_port, 53);
	assert_false(cfg.nets[0].hostfwd[2].udp);	/* no protocol: tcp */
	assert_int_equal(cfg.nets[0].mtu, 0);		/* the backend's default */
	config_release(&cfg);

	assert_int_equal(parse_net(&cfg, "user,mtu=68", "user,mtu=65520"), 0);
	assert_int_equal(cfg.nets[0].mtu, 68);
	assert_int_equal(cfg.nets[1].mtu, 65520);
	config_release(&cfg);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_net(&cfg, bad[i], NULL) != -1)
			fail_msg("--net '%s' was accepted", bad[i]);
		config_release(&cfg);
	}
	/* At most 16 hostfwd rules, and 4 cards. */
	for (int i = 0; i < 17; i++)
		sprintf(many + strlen(many), ",hostfwd=tcp::%d-:1", 1000 + i);
	assert_int_equal(parse_net(&cfg, many, NULL), -1);
	config_release(&cfg);
	{
		char *argv[] = { "run", "--kernel", "/proc/self/exe", "--net", "user", "--net", "user",
				 "--net", "user", "--net", "user", "--net", "user" };

		assert_int_equal(config_parse_run(&cfg, 13, argv), -1);
		config_release(&cfg);
	}
}

/* A card without mac= gets the default, 52:54:00:12:34:56. */
static void test_default_mac(void **state)
{
	struct vm_config cfg;
	struct vtd_dev d;
	struct vm *vm = vtd_vm_create();
	const struct vm_config *saved = vm->cfg;
	u8 mac[6];

	(void)state;
	assert_int_equal(parse_net(&cfg, "user", NULL), 0);
	cfg.mem_size = saved->mem_size;
	vm->cfg = &cfg;
	assert_int_equal(virtio_net_init_all(vm), 0);
	assert_int_equal(vtd_probe(vm, VIRTIO_ID_NET, &d), 0);
	for (int i = 0; i < 6; i++)
		mac[i] = vtd_bar_read(&d, d.device + i, 1);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x56", 6);
	vm->cfg = saved;
	vtd_vm_destroy(vm);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_errors, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_writable_buffer, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_short_header, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_without_buffers, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_before_driver_ok, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_buffer_too_small, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_a_kept_buffer, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_readable_buffer, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_csum, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_csum_outside, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_data_valid, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_without_guest_csum, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_features, setup_fake_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_transmit_gso, setup_fake_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_transmit_bad_headers, setup_fake_vnet,
						teardown),
		cmocka_unit_test_setup_teardown(test_vnet_transmit_gso_not_negotiated,
						setup_fake_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_receive_merged, setup_fake_vnet, teardown),
		cmocka_unit_test_setup_teardown(test_receive_runs_out_mid_frame, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_receive_bigger_than_ring, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_receive_fallbacks, setup_fake_vnet,
						teardown),
		cmocka_unit_test_setup_teardown(test_transmit_gso_without_vnet, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_arp, setup_slirp, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_dhcp, setup_slirp, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_tcp_to_host_loopback, setup_slirp, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_hostfwd, setup_slirp_hostfwd, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_mtu, setup_slirp, teardown),
		cmocka_unit_test_setup_teardown(test_slirp_tso4, setup_slirp, teardown),
		cmocka_unit_test(test_tap_in_netns),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_default_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

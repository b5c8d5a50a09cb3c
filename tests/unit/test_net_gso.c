// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's transmit header checks (virtio/net_gso.c): the TSO frames a
 * Linux guest sends (TCP over IPv4, IPv6, behind a VLAN tag) pass, with
 * the header lengths worked out; every way a guest could lie in the header
 * or the frame (hdr_len past the end, gso_size 0 or tiny, gso types not
 * negotiated or unknown, ECN, a checksum field outside the frame or not at
 * the TCP header, IP lengths that disagree, fragments, other protocols,
 * IPv6 extension headers, bad TCP header lengths, no payload, truncated
 * frames) is refused with a reason; random corruption never yields an
 * accepted header whose offsets leave the frame; and a TSO frame made one
 * whole segment (for slirp) has both sums right by the textbook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "virtio/net_csum.h"
#include "virtio/net_gso.h"
#include "net_tcp_frame.h"

#define ALL	(NET_GSO_TCPV4 | NET_GSO_TCPV6)
#define BIG	65536

static u8 *frame;

static int setup(void **state)
{
	(void)state;
	frame = malloc(BIG + 64);
	return frame ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(frame);
	return 0;
}

static const char *check(const struct virtio_net_hdr_v1 *h, size_t len, unsigned int allow,
			 struct net_gso *g)
{
	return net_gso_check(h, frame, len, allow, g);
}

static void test_good(void **state)
{
	const struct tcp_frame_opts cases[] = {
		{ .payload = 60000, .mss = 1448 },
		{ .v6 = true, .payload = 30000, .mss = 1428 },
		{ .vlan = true, .payload = 4000, .mss = 1000 },
		{ .v6 = true, .vlan = true, .payload = 89, .mss = 88 },
		{ .payload = 65536 - 14 - 20 - TF_TCP_HDR, .mss = 16344 },
	};
	struct virtio_net_hdr_v1 h;
	struct net_gso g;

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcp_frame_opts *o = &cases[i];
		size_t len = tcp_frame(frame, o, &h);

		assert_null(check(&h, len, ALL, &g));
		assert_int_equal(g.type, o->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
		assert_int_equal(g.gso_size, o->mss);
		assert_int_equal(g.l3, tf_l3(o));
		assert_int_equal(g.hdr_len, tf_l4(o) + TF_TCP_HDR);
		assert_true(g.needs_csum);
		assert_int_equal(g.csum_start, tf_l4(o));
		assert_int_equal(g.csum_offset, 16);
		/* The builder's pseudo-header sum is right: completed, it checks. */
		if (!o->vlan) {
			assert_false(net_csum_valid(frame, len));
			assert_true(net_csum_complete(frame, len, g.csum_start, g.csum_offset));
			assert_true(net_csum_valid(frame, len));
		}
		/* Only the negotiated kind. */
		assert_non_null(check(&h, len, o->v6 ? NET_GSO_TCPV4 : NET_GSO_TCPV6, &g));
		assert_non_null(check(&h, len, 0, &g));
	}
}

/* Without GSO: only hdr_len and the checksum field are checked. */
static void test_plain(void **state)
{
	struct tcp_frame_opts o = { .payload = 100 };
	struct virtio_net_hdr_v1 h = { 0 };
	size_t len = tcp_frame(frame, &o, NULL);
	struct net_gso g;

	(void)state;
	assert_null(check(&h, len, 0, &g));
	assert_int_equal(g.type, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(g.needs_csum);
	h.hdr_len = htole16(len);
	assert_null(check(&h, len, 0, &g));
	h.hdr_len = htole16(len + 1);
	assert_non_null(check(&h, len, 0, &g));
	h.hdr_len = 0;
	/* NULL head is fine when nothing needs it. */
	assert_null(net_gso_check(&h, NULL, len, ALL, &g));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(len - 2);
	assert_null(check(&h, len, 0, &g));
	assert_true(g.needs_csum);
	h.csum_start = htole16(len - 1);
	assert_non_null(check(&h, len, 0, &g));
	h.csum_start = htole16(34);
	h.csum_offset = htole16(len - 35);
	assert_non_null(check(&h, len, 0, &g));
	h.csum_start = htole16(0xffff);
	h.csum_offset = htole16(0xffff);
	assert_non_null(check(&h, len, 0, &g));
	/* DATA_VALID and the rest are not the driver's to send: ignored. */
	h = (struct virtio_net_hdr_v1){ .flags = 0xfe };
	assert_null(check(&h, len, 0, &g));
	assert_false(g.needs_csum);
}

typedef void (*spoil_fn)(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len);

static void hdr_len_past_end(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f;
	h->hdr_len = htole16(*len + 1);
}

static void gso_size_0(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_size = 0;
}

static void gso_size_87(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_size = htole16(NET_GSO_MIN_SIZE - 1);
}

static void type_udp(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
}

static void type_unknown(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_type = 2;
}

static void type_udp_l4(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_type = 5;
}

static void type_ecn(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
}

static void no_needs_csum(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->flags = 0;
}

static void csum_start_past_end(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f;
	h->csum_start = htole16(*len);
}

static void csum_not_tcp(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->csum_offset = htole16(6);
}

static void csum_start_early(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)len;
	h->csum_start = htole16(le16toh(h->csum_start) - 4);
}

static void ip_len_short(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h;
	put16(f + 16, get16(f + 16) - 1);
	(void)len;
}

static void frame_longer(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)h;
	(*len)++;		/* a byte past the IP datagram */
}

static void frame_truncated(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)f, (void)h;
	(*len)--;
}

static void fragment(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	f[20] |= 0x20;		/* MF */
}

static void not_tcp(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	f[23] = 17;
}

static void ihl_4(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	f[14] = 0x44;
}

static void ethertype_v6(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	put16(f + 12, 0x86dd);
}

static void ethertype_arp(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	put16(f + 12, 0x0806);
}

static void doff_4(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	f[34 + 12] = 4 << 4;
}

static void doff_15(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h, (void)len;
	f[34 + 12] = 15 << 4;	/* a 60-byte TCP header ... */
	*len = 34 + 40;		/* ... in a frame that has 40 */
	put16(f + 16, *len - 14);
}

static void no_payload(u8 *f, struct virtio_net_hdr_v1 *h, size_t *len)
{
	(void)h;
	*len = 34 + TF_TCP_HDR;
	put16(f + 16, *len - 14);
}

static void test_bad_v4(void **state)
{
	static const struct {
		const char *name;
		spoil_fn spoil;
	} bad[] = {
		{ "hdr_len > frame", hdr_len_past_end }, { "gso_size 0", gso_size_0 },
		{ "gso_size 87", gso_size_87 }, { "UDP", type_udp }, { "type 2", type_unknown },
		{ "UDP_L4", type_udp_l4 }, { "ECN", type_ecn }, { "no NEEDS_CSUM", no_needs_csum },
		{ "csum_start past the end", csum_start_past_end },
		{ "csum not TCP's", csum_not_tcp }, { "csum_start early", csum_start_early },
		{ "IP length short", ip_len_short }, { "frame longer", frame_longer },
		{ "frame truncated", frame_truncated }, { "fragment", fragment },
		{ "not TCP", not_tcp }, { "ihl 4", ihl_4 }, { "ethertype v6", ethertype_v6 },
		{ "ARP", ethertype_arp }, { "doff 4", doff_4 }, { "doff 15", doff_15 },
		{ "no payload", no_payload },
	};
	struct tcp_frame_opts o = { .payload = 3000, .mss = 1448 };
	struct virtio_net_hdr_v1 h;
	struct net_gso g;

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = tcp_frame(frame, &o, &h);

		assert_null(check(&h, len, ALL, &g));
		bad[i].spoil(frame, &h, &len);
		if (!check(&h, len, ALL, &g))
			fail_msg("accepted: %s", bad[i].name);
	}
}

static void test_bad_v6(void **state)
{
	struct tcp_frame_opts o = { .v6 = true, .payload = 3000, .mss = 1428 };
	struct virtio_net_hdr_v1 h;
	struct net_gso g;
	size_t len = tcp_frame(frame, &o, &h);

	(void)state;
	assert_null(check(&h, len, ALL, &g));
	frame[20] = 0;		/* a hop-by-hop header first */
	assert_non_null(check(&h, len, ALL, &g));
	frame[20] = 6;
	put16(frame + 18, get16(frame + 18) + 1);
	assert_non_null(check(&h, len, ALL, &g));
	put16(frame + 18, get16(frame + 18) - 1);
	frame[14] = 0x40;	/* version 4 in a TCPv6 frame */
	assert_non_null(check(&h, len, ALL, &g));
	frame[14] = 0x60;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_non_null(check(&h, len, ALL, &g));
}

/* Every length shorter than the frame is refused, reading only what is there. */
static void test_truncated(void **state)
{
	struct tcp_frame_opts o = { .vlan = true, .payload = 200, .mss = 100 };
	struct virtio_net_hdr_v1 h;
	struct net_gso g;
	size_t len = tcp_frame(frame, &o, &h);

	(void)state;
	for (size_t l = 0; l < len; l++) {
		u8 *copy = malloc(l ? l : 1);

		memcpy(copy, frame, l);
		assert_non_null(net_gso_check(&h, copy, l, ALL, &g));
		free(copy);
	}
}

static unsigned int seed = 4242;

static u32 rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

/* Whatever passes, its offsets lie in the frame and make sense. */
static void test_random_corruption(void **state)
{
	(void)state;
	for (unsigned int iter = 0; iter < 200000; iter++) {
		struct tcp_frame_opts o = {
			.v6 = rnd() & 1, .vlan = !(rnd() % 4), .payload = 1 + rnd() % 3000,
			.mss = 88 + rnd() % 1500,
		};
		struct virtio_net_hdr_v1 h;
		struct net_gso g;
		size_t len = tcp_frame(frame, &o, &h);
		unsigned int flips = 1 + rnd() % 3;

		for (unsigned int k = 0; k < flips; k++) {
			unsigned int at = rnd() % (sizeof(h) + 100);

			if (at < sizeof(h))
				((u8 *)&h)[at] ^= 1 << (rnd() % 8);
			else
				frame[at - sizeof(h)] ^= 1 << (rnd() % 8);
		}
		if (!(rnd() % 8))
			len = rnd() % (len + 2);
		if (check(&h, len, ALL, &g))
			continue;
		assert_true(le16toh(h.hdr_len) <= len);
		if (g.needs_csum)
			assert_true((size_t)g.csum_start + g.csum_offset + 2 <= len);
		if (g.type == VIRTIO_NET_HDR_GSO_NONE)
			continue;
		assert_true(g.gso_size >= NET_GSO_MIN_SIZE);
		assert_true(g.hdr_len < len && g.hdr_len <= NET_GSO_HEAD);
		assert_true(g.l3 == 14 || g.l3 == 18);
		assert_int_equal(g.csum_offset, 16);
		assert_true(g.csum_start + 20 <= g.hdr_len);
	}
}

/*
 * A TSO frame made one whole segment: both sums right whatever the guest
 * left in them, and nothing else changed.
 */
static void test_whole(void **state)
{
	const struct tcp_frame_opts cases[] = {
		{ .payload = 40000, .mss = 1448 },
		{ .payload = 40001, .mss = 1448 },	/* odd: the last byte padded */
		{ .v6 = true, .payload = 20000, .mss = 1428 },
		{ .vlan = true, .payload = 65536 - 38 - TF_TCP_HDR, .mss = 16344 },
	};
	static u8 copy[BIG + 64];
	struct virtio_net_hdr_v1 h;
	struct net_gso g;

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcp_frame_opts *o = &cases[i];
		size_t len = tcp_frame(frame, o, &h), l4 = tf_l4(o);

		assert_null(check(&h, len, ALL, &g));
		frame[l4 + 16] ^= 0x5a;			/* whatever the guest left */
		frame[tf_l3(o) + 10] ^= 0xa5;		/* IPv4's checksum, or v6's flow label */
		memcpy(copy, frame, len);
		net_gso_whole(frame, len, &g);
		assert_true(tf_sums_right(frame, o, len));
		/* Only the sums changed. */
		if (!o->v6) {
			assert_memory_equal(frame, copy, tf_l3(o) + 10);
			assert_memory_equal(frame + tf_l3(o) + 12, copy + tf_l3(o) + 12,
					    l4 + 16 - tf_l3(o) - 12);
		} else {
			assert_memory_equal(frame, copy, l4 + 16);
		}
		assert_memory_equal(frame + l4 + 18, copy + l4 + 18, len - l4 - 18);
	}
}

static void test_to_hdr(void **state)
{
	struct tcp_frame_opts o = { .payload = 5000, .mss = 1448 };
	struct virtio_net_hdr_v1 h, out;
	struct net_gso g;
	size_t len = tcp_frame(frame, &o, &h);

	(void)state;
	h.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
	h.hdr_len = htole16(200);	/* a hint, and a wrong one */
	h.num_buffers = htole16(7);
	assert_null(check(&h, len, ALL, &g));
	net_gso_to_hdr(&g, &out);
	assert_int_equal(out.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(out.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(out.gso_size), 1448);
	assert_int_equal(le16toh(out.hdr_len), 14 + 20 + TF_TCP_HDR);
	assert_int_equal(le16toh(out.csum_start), 34);
	assert_int_equal(le16toh(out.csum_offset), 16);
	assert_int_equal(out.num_buffers, 0);
	h = (struct virtio_net_hdr_v1){ .hdr_len = htole16(10), .gso_size = htole16(99) };
	assert_null(check(&h, len, ALL, &g));
	net_gso_to_hdr(&g, &out);
	assert_true(out.flags == 0 && out.gso_type == 0 && out.gso_size == 0 && out.hdr_len == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bad_v4),
		cmocka_unit_test(test_bad_v6),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_to_hdr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

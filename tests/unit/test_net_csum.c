// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's host-side checksums (virtio/net_csum.c) against a plain
 * reference written here the textbook way (big-endian 16-bit words, RFC
 * 1071): filling in NEEDS_CSUM fields, and deciding DATA_VALID for IPv4
 * and IPv6, TCP and UDP, at every length and offset; and the frames that
 * must not be called valid (wrong sums, fragments, UDP without a sum,
 * truncated or lying headers, other protocols).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "virtio/net_csum.h"
#include "net_ref.h"

#define MAXF 2048

/* --- the reference --- */

static unsigned int seed = 12345;

static u8 rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 16;
}

/*
 * An Ethernet frame with IPv4 (or IPv6) and a TCP or UDP header, plen
 * bytes of payload; returns its length, and the transport offset and
 * checksum offset.
 */
static size_t build(u8 *f, bool v6, u8 proto, size_t plen, size_t *l4, size_t *csum_off)
{
	size_t iph = v6 ? 40 : 20, th = proto == 6 ? 20 : 8, l4len = th + plen;

	memset(f, 0, 14 + iph + l4len);
	memset(f, 0x52, 12);
	put16(f + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		f[14] = 0x60;
		put16(f + 18, l4len);
		f[20] = proto;
		f[21] = 64;
		for (int i = 0; i < 32; i++)
			f[22 + i] = rnd();
	} else {
		f[14] = 0x45;
		put16(f + 16, iph + l4len);
		f[22] = 64;
		f[23] = proto;
		for (int i = 0; i < 8; i++)
			f[26 + i] = rnd();
	}
	*l4 = 14 + iph;
	for (size_t i = 0; i < l4len; i++)
		f[*l4 + i] = rnd();
	*csum_off = proto == 6 ? 16 : 6;
	f[*l4 + *csum_off] = f[*l4 + *csum_off + 1] = 0;
	if (proto == 6)
		f[*l4 + 12] = 5 << 4;
	else
		put16(f + *l4 + 4, l4len);
	return *l4 + l4len;
}

/* The pseudo-header's sum (not complemented), as Linux leaves it for NEEDS_CSUM. */
static u16 ref_pseudo(const u8 *f, bool v6, u8 proto, size_t l4len)
{
	u8 tail[4] = { 0, proto, l4len >> 8, l4len };
	u32 sum = v6 ? ref_sum(0, f + 22, 32) : ref_sum(0, f + 26, 8);

	return ref_sum(sum, tail, 4);
}

/* The whole transport checksum, as the reference computes it. */
static void ref_fill(u8 *f, size_t len, bool v6, u8 proto, size_t l4, size_t off)
{
	u32 sum = ref_pseudo(f, v6, proto, len - l4);

	put16(f + l4 + off, 0);
	put16(f + l4 + off, ~ref_sum(sum, f + l4, len - l4));
}

/* --- tests --- */

/* RFC 1071 §3's example: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
static void test_rfc1071_example(void **state)
{
	static const u8 data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	u16 c = net_csum_finish(net_csum_add(0, data, sizeof(data)));
	u8 stored[2];

	(void)state;
	memcpy(stored, &c, 2);		/* stored as computed: network order */
	assert_int_equal(get16(stored), (u16)~0xddf2);
}

/* NEEDS_CSUM: the field filled in as the reference would, for every shape. */
static void test_complete_matches_reference(void **state)
{
	u8 f[MAXF], g[MAXF];

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (int udp = 0; udp < 2; udp++) {
			u8 proto = udp ? 17 : 6;

			for (size_t plen = 0; plen < 300; plen++) {
				size_t l4, off, len = build(f, v6, proto, plen, &l4, &off);

				memcpy(g, f, len);
				ref_fill(g, len, v6, proto, l4, off);
				put16(f + l4 + off, ref_pseudo(f, v6, proto, len - l4));
				assert_true(net_csum_complete(f, len, l4, off));
				assert_memory_equal(f, g, len);
				assert_true(net_csum_valid(f, len));
			}
		}
	}
}

/* A checksum start at an odd offset, and large frames. */
static void test_complete_any_start(void **state)
{
	u8 f[MAXF], g[MAXF];

	(void)state;
	for (size_t start = 0; start < 64; start++) {
		for (size_t len = start + 2; len < 200; len += 7) {
			u16 want;

			for (size_t i = 0; i < len; i++)
				f[i] = rnd();
			memcpy(g, f, len);
			assert_true(net_csum_complete(f, len, start, 0));
			/* The field included its old value, as the pseudo-header seed. */
			want = ~ref_sum(0, g + start, len - start);
			assert_int_equal(get16(f + start), want);
			assert_memory_equal(f + start + 2, g + start + 2, len - start - 2);
		}
	}
}

/* A field that is not in the frame changes nothing. */
static void test_complete_out_of_frame(void **state)
{
	u8 f[64], g[64];

	(void)state;
	memset(f, 0xa5, sizeof(f));
	memcpy(g, f, sizeof(f));
	assert_false(net_csum_complete(f, 60, 61, 0));
	assert_false(net_csum_complete(f, 60, 60, 0));
	assert_false(net_csum_complete(f, 60, 50, 9));
	assert_false(net_csum_complete(f, 60, 0, 59));
	assert_false(net_csum_complete(f, 60, 0xffff, 0xffff));
	assert_false(net_csum_complete(f, 60, 40, (size_t)-1));
	assert_memory_equal(f, g, sizeof(f));
	assert_true(net_csum_complete(f, 60, 50, 8));	/* the last two bytes */
}

/* One bit flipped anywhere in the pseudo-header or the segment: not valid. */
static void test_valid_detects_errors(void **state)
{
	u8 f[MAXF];

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (int udp = 0; udp < 2; udp++) {
			u8 proto = udp ? 17 : 6;
			size_t l4, off, len = build(f, v6, proto, 100, &l4, &off);
			size_t from = v6 ? 22 : 26;	/* the addresses */

			ref_fill(f, len, v6, proto, l4, off);
			assert_true(net_csum_valid(f, len));
			for (size_t i = from; i < len; i++) {
				f[i] ^= 0x10;
				if (net_csum_valid(f, len))
					fail_msg("v6=%d udp=%d: byte %zu flipped, still valid", v6, udp, i);
				f[i] ^= 0x10;
			}
			assert_true(net_csum_valid(f, len));
		}
	}
}

static void test_valid_rejects(void **state)
{
	u8 f[MAXF];
	size_t l4, off, len;

	(void)state;
	/* UDP sent without a checksum (0) is not "verified". */
	len = build(f, false, 17, 40, &l4, &off);
	assert_false(net_csum_valid(f, len));
	/* IPv4 fragments: the sum covers the whole datagram. */
	len = build(f, false, 6, 40, &l4, &off);
	ref_fill(f, len, false, 6, l4, off);
	assert_true(net_csum_valid(f, len));
	f[20] = 0x20;				/* more fragments */
	assert_false(net_csum_valid(f, len));
	f[20] = 0;
	f[21] = 1;				/* offset 8 */
	assert_false(net_csum_valid(f, len));
	f[21] = 0;
	/* Lengths that lie: total past the frame, header past the total. */
	put16(f + 16, len - 14 + 1);
	assert_false(net_csum_valid(f, len));
	put16(f + 16, 19);
	assert_false(net_csum_valid(f, len));
	put16(f + 16, len - 14);
	f[14] = 0x4f;				/* 60-byte header */
	assert_false(net_csum_valid(f, len));
	f[14] = 0x44;				/* 16-byte header */
	assert_false(net_csum_valid(f, len));
	f[14] = 0x45;
	/* A TCP segment shorter than a TCP header. */
	put16(f + 16, 20 + 19);
	assert_false(net_csum_valid(f, 14 + 20 + 19));
	put16(f + 16, len - 14);
	/* Other protocols, other ethertypes, truncated frames. */
	f[23] = 1;				/* ICMP */
	assert_false(net_csum_valid(f, len));
	f[23] = 6;
	put16(f + 12, 0x0806);
	assert_false(net_csum_valid(f, len));
	put16(f + 12, 0x0800);
	assert_true(net_csum_valid(f, len));
	for (size_t n = 0; n < len; n++)
		assert_false(net_csum_valid(f, n));
	/* IPv6: a payload length past the frame, an extension header. */
	len = build(f, true, 6, 40, &l4, &off);
	ref_fill(f, len, true, 6, l4, off);
	assert_true(net_csum_valid(f, len));
	put16(f + 18, len - 54 + 1);
	assert_false(net_csum_valid(f, len));
	put16(f + 18, len - 54);
	f[20] = 0;				/* hop-by-hop options */
	assert_false(net_csum_valid(f, len));
	f[20] = 6;
	f[14] = 0x45;				/* not version 6 */
	assert_false(net_csum_valid(f, len));
}

/* Random bytes: never a crash, and "valid" only when the reference agrees. */
static void test_valid_random(void **state)
{
	u8 f[256];

	(void)state;
	for (int n = 0; n < 200000; n++) {
		size_t len = rnd() % sizeof(f);

		for (size_t i = 0; i < len; i++)
			f[i] = rnd();
		if (len > 14 && n % 2) {
			put16(f + 12, n % 4 == 1 ? 0x0800 : 0x86dd);
			f[14] = n % 4 == 1 ? 0x45 : 0x60;
		}
		if (net_csum_valid(f, len)) {
			bool v6 = get16(f + 12) == 0x86dd;
			size_t l4 = v6 ? 54 : 14 + (f[14] & 0xf) * 4;
			size_t l4len = v6 ? get16(f + 18) : get16(f + 16) - (f[14] & 0xf) * 4;
			u8 proto = v6 ? f[20] : f[23];

			assert_int_equal(ref_sum(ref_pseudo(f, v6, proto, l4len), f + l4, l4len), 0xffff);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_complete_matches_reference),
		cmocka_unit_test(test_complete_any_start),
		cmocka_unit_test(test_complete_out_of_frame),
		cmocka_unit_test(test_valid_detects_errors),
		cmocka_unit_test(test_valid_rejects),
		cmocka_unit_test(test_valid_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

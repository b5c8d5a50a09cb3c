// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the split-virtqueue walker (src/virtio/virtqueue.c),
 * the virtio-blk request parser (src/virtio/virtio_blk_req.c) and
 * virtio-net's checksums over each chain's bytes (src/virtio/net_csum.c,
 * with the field position read from the chain as a header would give it,
 * and only those two bytes may change) and its transmit header checks
 * (src/virtio/net_gso.c: what passes lies in the frame): the
 * input is the guest's RAM and the queue's set-up, the very things a
 * hostile guest controls. Beyond "no crash, no sanitizer report" it checks
 * that every buffer the walker hands out, and the blk status byte, lies
 * inside guest RAM, that chains respect the queue size, and that the
 * walker pops at most what the avail ring published.
 *
 * Input: a 16-byte header (queue size, features, ring offsets, pops), then
 * the bytes of a 64 KiB RAM region at 0 (zero-filled past the input) and a
 * 4 KiB region at 1 MiB, as the machine's RAM has holes.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "virtio/net_csum.h"
#include "virtio/net_gso.h"
#include "virtio/virtio_blk_req.h"
#include "virtio/virtqueue.h"

#define LOW_SIZE	(64 * 1024)
#define HIGH_GPA	0x100000ULL
#define HIGH_SIZE	4096
#define HDR_SIZE	16

static u8 low[LOW_SIZE], high[HIGH_SIZE];
static unsigned int errors, interrupts;

static void check(bool cond)
{
	if (!cond)
		__builtin_trap();
}

static bool inside(const void *p, size_t len)
{
	const u8 *b = p;

	return (b >= low && b + len <= low + LOW_SIZE) ||
	       (b >= high && b + len <= high + HIGH_SIZE);
}

static void on_error(struct virtqueue *vq, const char *why)
{
	(void)vq;
	check(why && *why);
	errors++;
}

static void on_interrupt(struct virtqueue *vq)
{
	(void)vq;
	interrupts++;
}

static u64 ring_gpa(const u8 *h)
{
	u16 v = h[0] | h[1] << 8;

	/* Mostly low RAM, sometimes the high region or past both. */
	return v & 0x8000 ? HIGH_GPA + (v & 0x7fff) : v;
}

/* The chain's first 12 bytes as a transmit header, the rest as its frame. */
static void net_gso_chain(const u8 *bytes, size_t len)
{
	struct virtio_net_hdr_v1 hdr;
	struct net_gso g;

	if (len < sizeof(hdr))
		return;
	memcpy(&hdr, bytes, sizeof(hdr));
	bytes += sizeof(hdr);
	len -= sizeof(hdr);
	if (net_gso_check(&hdr, bytes, len, NET_GSO_TCPV4 | NET_GSO_TCPV6, &g))
		return;
	check(le16toh(hdr.hdr_len) <= len);
	check(!g.needs_csum || (size_t)g.csum_start + g.csum_offset + 2 <= len);
	check(g.type == VIRTIO_NET_HDR_GSO_NONE ||
	      (g.gso_size >= NET_GSO_MIN_SIZE && g.hdr_len < len && g.hdr_len <= NET_GSO_HEAD));
}

/* A transmitted frame's checksum work: the chain's bytes as the frame. */
static void net_csum_chain(const struct vq_elem *e)
{
	static u8 frame[LOW_SIZE + HIGH_SIZE], copy[LOW_SIZE + HIGH_SIZE];
	size_t len = iov_to_buf(e->iov, e->out_num + e->in_num, 0, frame, sizeof(frame));
	size_t start, offset;

	net_gso_chain(frame, len);
	if (len < 4)
		return;
	start = frame[0] | frame[1] << 8;
	offset = frame[2] | frame[3] << 8;
	(void)net_csum_valid(frame, len);
	memcpy(copy, frame, len);
	if (net_csum_complete(frame, len, start, offset)) {
		check(start + offset + 2 <= len);
		check(!memcmp(frame, copy, start + offset));
		check(!memcmp(frame + start + offset + 2, copy + start + offset + 2,
			      len - start - offset - 2));
	} else {
		check(!memcmp(frame, copy, len));
	}
}

static void serve(struct virtqueue *vq, unsigned int max_pops, bool complete)
{
	struct vq_elem *e;

	for (unsigned int n = 0; n < max_pops && (e = vq_pop(vq)); n++) {
		struct iovec *data = malloc((e->out_num + e->in_num + 1) * sizeof(*data));
		struct blk_parsed p;
		const char *why;
		u8 scratch[256];

		check(e->out_num + e->in_num <= vq->size && e->head < vq->size);
		for (unsigned int i = 0; i < e->out_num + e->in_num; i++)
			check(e->iov[i].iov_len && inside(e->iov[i].iov_base, e->iov[i].iov_len));
		net_csum_chain(e);
		if (blk_parse(e, data, &p, &why) == 0) {
			u64 sum = 0;

			check(inside(p.status, 1));
			*p.status = 0;
			for (unsigned int i = 0; i < p.data_cnt; i++) {
				check(inside(p.data[i].iov_base, p.data[i].iov_len));
				sum += p.data[i].iov_len;
			}
			check(sum == p.data_len);
			iov_to_buf(p.data, p.data_cnt, 0, scratch, sizeof(scratch));
			iov_from_buf(p.data, p.data_cnt, 0, scratch, sizeof(scratch));
			free(data);
			vq_push(vq, e, p.data_len + 1);
		} else {
			free(data);
			if (complete)
				vq_fail(vq, e, why);
			else
				vq_push(vq, e, 0);
		}
	}
	vq_notify(vq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { 0 };
	struct virtqueue vq;
	const char *why;
	u8 h[HDR_SIZE] = { 0 };
	size_t body;

	memcpy(h, data, size < HDR_SIZE ? size : HDR_SIZE);
	body = size > HDR_SIZE ? size - HDR_SIZE : 0;
	memset(low, 0, sizeof(low));
	memset(high, 0, sizeof(high));
	memcpy(low, data + HDR_SIZE, body < LOW_SIZE ? body : LOW_SIZE);
	if (body > LOW_SIZE)
		memcpy(high, data + HDR_SIZE + LOW_SIZE,
		       body - LOW_SIZE < HIGH_SIZE ? body - LOW_SIZE : HIGH_SIZE);
	guest_mem_add_region(&mem, 0, LOW_SIZE, low);
	guest_mem_add_region(&mem, HIGH_GPA, HIGH_SIZE, high);

	if (vq_init(&vq, &mem, 0, 256))
		return 0;
	vq.error = on_error;
	vq.interrupt = on_interrupt;
	/* Any u16, so non-powers of two and sizes past the maximum come up. */
	vq.size = h[0] | h[1] << 8;
	if (h[0] < 0x80 && !h[1])
		vq.size = 1u << (h[0] % 9);	/* usually a valid size */
	vq.event_idx = h[2] & 1;
	vq.indirect = h[2] & 2;
	vq.desc_gpa = ring_gpa(&h[3]);
	vq.avail_gpa = ring_gpa(&h[5]);
	vq.used_gpa = ring_gpa(&h[7]);
	if (vq_enable(&vq, &why) == 0) {
		u64 popped;

		serve(&vq, h[9] + 1, h[2] & 4);
		popped = vq.popped;
		check(popped <= vq.size && (u16)popped == (u16)(vq.last_avail));
		/* The guest publishes more (byte 10 more entries) and we go again. */
		*(u16 *)gpa_to_hva(&mem, vq.avail_gpa + 2, 2) += h[10];
		serve(&vq, h[11] + 1, h[2] & 4);
		check(*vq.inflight == 0);
	} else {
		check(why != NULL && !vq_is_enabled(&vq));
	}
	vq_destroy(&vq);
	return 0;
}

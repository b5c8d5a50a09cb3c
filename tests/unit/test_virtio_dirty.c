// SPDX-License-Identifier: Apache-2.0
/*
 * The dirty log of device writes (src/mem/dirty_dma.c): a virtqueue
 * request returned with vq_push() or dropped with vq_fail() marks its
 * device-writable buffers and the used-ring entry, and nothing it only
 * read; the avail_event word (EVENT_IDX) marks the used ring's page;
 * guest_write() marks; nothing is marked while logging is off, and a
 * clearing collect returns each page once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "mem/dirty.h"
#include "mem/dirty_dma.h"
#include "mem/guest_mem.h"
#include "virtio/virtqueue.h"

#define RAM_SIZE	(1ULL << 20)
#define DESC_GPA	0x1000ULL
#define AVAIL_GPA	0x2000ULL
#define USED_GPA	0x3000ULL
#define OUT_GPA		0x10000ULL	/* device-readable request header */
#define IN_GPA		0x20800ULL	/* device-writable, over three pages */
#define IN_LEN		0x2000U
#define QSIZE		8

struct fixture {
	struct guest_mem mem;
	u8 *ram;
	struct virtqueue vq;
	struct dirty_bitmap out;
	u16 avail_idx;
};

static struct fixture *fixture_new(bool event_idx)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;

	assert_non_null(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	assert_int_equal(guest_mem_add_region(&f->mem, 0, RAM_SIZE, f->ram), 0);
	assert_int_equal(vq_init(&f->vq, &f->mem, 0, QSIZE), 0);
	f->vq.size = QSIZE;
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	f->vq.event_idx = event_idx;
	assert_int_equal(vq_enable(&f->vq, &why), 0);
	assert_int_equal(dirty_bitmap_alloc(&f->out, &f->mem), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	dirty_bitmap_free(&f->out);
	dirty_dma_release(&f->mem);
	vq_destroy(&f->vq);
	free(f->ram);
	free(f);
}

/* The driver's side: a header to read and a buffer to fill, made available. */
static void offer_request(struct fixture *f)
{
	struct vring_desc d[2] = {
		{ .addr = OUT_GPA, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 1 },
		{ .addr = IN_GPA, .len = IN_LEN, .flags = VRING_DESC_F_WRITE },
	};
	u16 head = 0;

	memcpy(f->ram + DESC_GPA, d, sizeof(d));
	memcpy(f->ram + AVAIL_GPA + 4 + 2 * (f->avail_idx % QSIZE), &head, 2);
	f->avail_idx++;
	memcpy(f->ram + AVAIL_GPA + 2, &f->avail_idx, 2);
}

/* Collects (and clears) the log: exactly the n pages of want. */
static void expect_pages(struct fixture *f, const char *what, const u64 *want, unsigned int n)
{
	u64 seen;

	dirty_bitmap_clear(&f->out);
	dirty_dma_collect(&f->mem, &f->out, true);
	seen = dirty_bitmap_count(&f->out);
	printf("# %s: %u pages expected, %llu marked\n", what, n, (unsigned long long)seen);
	for (unsigned int i = 0; i < n; i++)
		if (!dirty_bitmap_test(&f->out, want[i]))
			fail_msg("%s: page %#llx is not marked", what, (unsigned long long)want[i]);
	assert_int_equal(seen, n);
}

static void push_marks_writable_buffers_and_used_ring(void **state)
{
	struct fixture *f = fixture_new(false);
	const u64 want[] = { USED_GPA, 0x20000, 0x21000, 0x22000 };
	struct vq_elem *e;
	u8 data[100];

	(void)state;
	/* Off: a whole request marks nothing (there is no log yet). */
	offer_request(f);
	e = vq_pop(&f->vq);
	assert_non_null(e);
	vq_push(&f->vq, e, 0);
	assert_null(f->mem.dma_log);

	assert_int_equal(dirty_dma_start(&f->mem), 0);
	offer_request(f);
	e = vq_pop(&f->vq);
	assert_non_null(e);
	assert_int_equal(e->in_num, 1);
	memset(data, 0xab, sizeof(data));
	/* The device writes 100 bytes; every writable page counts. */
	assert_int_equal(iov_from_buf(vq_elem_in(e), e->in_num, 0, data, sizeof(data)), 100);
	expect_pages(f, "popped, not yet returned", NULL, 0);
	vq_push(&f->vq, e, sizeof(data));
	expect_pages(f, "returned with vq_push", want, ARRAY_SIZE(want));
	expect_pages(f, "collected again after a clear", NULL, 0);

	/* A request the device rejects: its buffers may hold partial data. */
	offer_request(f);
	e = vq_pop(&f->vq);
	assert_non_null(e);
	vq_fail(&f->vq, e, "test: rejected");
	expect_pages(f, "dropped with vq_fail", want + 1, ARRAY_SIZE(want) - 1);

	/* Stopped: nothing; started again: a clean log. */
	assert_int_equal(guest_write(&f->mem, 0x40000, data, 8), 0);
	dirty_dma_stop(&f->mem);
	assert_int_equal(guest_write(&f->mem, 0x50000, data, 8), 0);
	assert_int_equal(dirty_dma_start(&f->mem), 0);
	expect_pages(f, "restarted", NULL, 0);
	fixture_free(f);
}

static void event_idx_and_guest_write(void **state)
{
	struct fixture *f = fixture_new(true);
	const u64 used[] = { USED_GPA };
	const u64 writes[] = { 0x40000, 0x41000, 0x7f000 };
	u8 data[0x1000] = { 1 };

	(void)state;
	assert_int_equal(dirty_dma_start(&f->mem), 0);
	/* Nothing available: the device asks for a notification in avail_event. */
	assert_null(vq_pop(&f->vq));
	expect_pages(f, "avail_event written", used, ARRAY_SIZE(used));

	assert_int_equal(guest_write(&f->mem, 0x40ff8, data, 16), 0);
	assert_int_equal(guest_write(&f->mem, 0x7f000, data, sizeof(data)), 0);
	assert_int_equal(guest_write(&f->mem, RAM_SIZE - 8, data, 16), -1);	/* not RAM */
	expect_pages(f, "guest_write", writes, ARRAY_SIZE(writes));
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(push_marks_writable_buffers_and_used_ring),
		cmocka_unit_test(event_idx_and_guest_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

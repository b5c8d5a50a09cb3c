// SPDX-License-Identifier: Apache-2.0
/* The split virtqueue walker: virtio 1.2 §2.7, the device side. */
#include "virtio/virtqueue.h"

#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"

/*
 * Ring layout (all little-endian, which is the host's order on x86-64):
 *   avail: flags u16, idx u16, ring[size] u16, used_event u16
 *   used:  flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16
 * The event fields are always inside the validated ranges, whether or not
 * EVENT_IDX was negotiated.
 */
#define DESC_SIZE		16
#define RING_HDR		4
#define AVAIL_SIZE(n)		(RING_HDR + 2 * (u64)(n) + 2)
#define USED_SIZE(n)		(RING_HDR + 8 * (u64)(n) + 2)
#define USED_ELEM_SIZE		8

struct desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

static inline u16 load16(const u8 *p)
{
	return __atomic_load_n((const u16 *)p, __ATOMIC_RELAXED);
}

static inline void store16(u8 *p, u16 v)
{
	__atomic_store_n((u16 *)p, v, __ATOMIC_RELAXED);
}

static inline u16 avail_idx_acquire(const struct virtqueue *vq)
{
	/* Pairs with the driver's barrier before it publishes the index. */
	return __atomic_load_n((const u16 *)(vq->avail + 2), __ATOMIC_ACQUIRE);
}

static inline u8 *avail_ring(const struct virtqueue *vq, u16 i)
{
	return vq->avail + RING_HDR + 2 * (u64)i;
}

static inline u8 *used_event_ptr(const struct virtqueue *vq)
{
	return avail_ring(vq, vq->size);
}

static inline u8 *avail_event_ptr(const struct virtqueue *vq)
{
	return vq->used + RING_HDR + USED_ELEM_SIZE * (u64)vq->size;
}

/* avail_event lives in the used ring, in guest RAM: the dirty log sees it. */
static void store_avail_event(struct virtqueue *vq, u16 v)
{
	store16(avail_event_ptr(vq), v);
	guest_mem_dirty_hva(vq->mem, avail_event_ptr(vq), 2);
}

/*
 * For the dirty log: the device may have written any writable byte of
 * elem (the length it reports does not say where: virtio-blk's status
 * byte is last), so every writable buffer counts as written.
 */
static void mark_written(const struct virtqueue *vq, struct vq_elem *elem)
{
	for (unsigned int i = 0; i < elem->in_num; i++)
		guest_mem_dirty_hva(vq->mem, vq_elem_in(elem)[i].iov_base,
				    vq_elem_in(elem)[i].iov_len);
}

int vq_init(struct virtqueue *vq, const struct guest_mem *mem, u16 index, u16 max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->index = index;
	vq->max_size = max_size;
	vq->inflight = &vq->own_inflight;
	vq->scratch = calloc(max_size, sizeof(*vq->scratch));
	if (!vq->scratch)
		return -1;
	pthread_mutex_init(&vq->lock, NULL);
	vq_reset(vq);
	return 0;
}

void vq_destroy(struct virtqueue *vq)
{
	if (!vq->scratch)
		return;
	free(vq->scratch);
	vq->scratch = NULL;
	pthread_mutex_destroy(&vq->lock);
}

void vq_reset(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->enabled = false;
	vq->broken = false;
	vq->gen++;
	vq->size = vq->max_size;
	vq->msix_vector = 0xffff;	/* VIRTIO_MSI_NO_VECTOR */
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->desc = vq->avail = vq->used = NULL;
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_used = 0;
	pthread_mutex_unlock(&vq->lock);
}

static u8 *map_ring(const struct virtqueue *vq, u64 gpa, u64 len, u64 align,
		    const char *name, const char **why)
{
	u8 *p;

	if (gpa & (align - 1)) {
		*why = name;
		return NULL;
	}
	p = gpa_to_hva(vq->mem, gpa, len);
	if (!p)
		*why = name;
	return p;
}

int vq_enable(struct virtqueue *vq, const char **why)
{
	u8 *desc, *avail, *used;
	int ret = -1;

	pthread_mutex_lock(&vq->lock);
	if (!vq->size || vq->size > vq->max_size || (vq->size & (vq->size - 1))) {
		*why = "queue size is not a power of two no larger than the maximum";
		goto out;
	}
	desc = map_ring(vq, vq->desc_gpa, (u64)vq->size * DESC_SIZE, 16,
			"descriptor table is misaligned or outside RAM", why);
	avail = map_ring(vq, vq->avail_gpa, AVAIL_SIZE(vq->size), 2,
			 "driver (avail) ring is misaligned or outside RAM", why);
	used = map_ring(vq, vq->used_gpa, USED_SIZE(vq->size), 4,
			"device (used) ring is misaligned or outside RAM", why);
	if (!desc || !avail || !used)
		goto out;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	/* The driver zeroes the rings; only what we read from ourselves matters. */
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->broken = false;
	vq->enabled = true;
	ret = 0;
out:
	pthread_mutex_unlock(&vq->lock);
	return ret;
}

bool vq_is_enabled(struct virtqueue *vq)
{
	bool on;

	pthread_mutex_lock(&vq->lock);
	on = vq->enabled && !vq->broken;
	pthread_mutex_unlock(&vq->lock);
	return on;
}

/* Reads descriptor i of a table once: the guest may change it under us. */
static void read_desc(const u8 *table, u32 i, struct desc *d)
{
	memcpy(d, table + (u64)i * DESC_SIZE, DESC_SIZE);
}

/*
 * Walks the chain at head into vq->scratch. Returns the number of iovecs,
 * or -1 with why set. Lock held.
 */
static int walk_chain(struct virtqueue *vq, u16 head, unsigned int *out_num, u64 *out_len,
		      u64 *in_len, const char **why)
{
	const u8 *table = vq->desc;
	u32 table_len = vq->size, i = head;
	unsigned int n = 0, outs = 0, walked = 0;
	bool indirect = false;
	u64 rd = 0, wr = 0;

	for (;;) {
		struct desc d;
		void *hva;

		/* Each table is walked at most once through: a loop overruns this. */
		if (++walked > table_len) {
			*why = indirect ? "indirect chain loops or is longer than its table"
					: "descriptor chain loops or is longer than the queue";
			return -1;
		}
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect) {
				*why = "nested indirect descriptor";
				return -1;
			}
			if (!vq->indirect) {
				*why = "indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC";
				return -1;
			}
			if (d.flags & VRING_DESC_F_NEXT) {
				*why = "indirect descriptor with NEXT set";
				return -1;
			}
			if (!d.len || d.len % DESC_SIZE || d.len / DESC_SIZE > vq->size) {
				*why = "indirect table is empty, ragged or larger than the queue";
				return -1;
			}
			/*
			 * No alignment check: the spec asks for none, Linux's
			 * kmalloc may hand out 8-byte-aligned tables, and
			 * read_desc() copies each entry out with memcpy.
			 */
			table = gpa_to_hva(vq->mem, d.addr, d.len);
			if (!table) {
				*why = "indirect table is outside RAM";
				return -1;
			}
			table_len = d.len / DESC_SIZE;
			indirect = true;
			walked = 0;
			i = 0;
			continue;
		}
		if (!d.len) {
			*why = "zero-length buffer";
			return -1;
		}
		if (d.flags & VRING_DESC_F_WRITE) {
			wr += d.len;
		} else {
			if (wr) {
				*why = "device-readable buffer after a writable one";
				return -1;
			}
			rd += d.len;
			outs++;
		}
		if (rd + wr > UINT32_MAX) {
			*why = "buffer lengths add up to more than 4 GiB";
			return -1;
		}
		if (n >= vq->size) {
			*why = "descriptor chain is longer than the queue";
			return -1;
		}
		hva = gpa_to_hva(vq->mem, d.addr, d.len);
		if (!hva) {
			*why = "buffer is outside RAM";
			return -1;
		}
		vq->scratch[n].iov_base = hva;
		vq->scratch[n].iov_len = d.len;
		n++;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= table_len) {
			*why = "next descriptor index out of range";
			return -1;
		}
	}
	*out_num = outs;
	*out_len = rd;
	*in_len = wr;
	return n;
}

/* Whether the driver made new chains available; may ask to be told. */
static bool avail_pending(struct virtqueue *vq, u16 *avail_idx)
{
	*avail_idx = avail_idx_acquire(vq);
	if (*avail_idx != vq->last_avail || !vq->event_idx)
		return *avail_idx != vq->last_avail;
	/*
	 * Empty: ask for a notification at the next chain, then look again,
	 * since the driver may have added one before it could see our request.
	 */
	store_avail_event(vq, vq->last_avail);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*avail_idx = avail_idx_acquire(vq);
	return *avail_idx != vq->last_avail;
}

static void vq_break(struct virtqueue *vq)
{
	vq->broken = true;
}

struct vq_elem *vq_pop(struct virtqueue *vq)
{
	const char *why = NULL;
	struct vq_elem *elem = NULL;
	unsigned int outs = 0;
	u64 rd = 0, wr = 0;
	u16 avail_idx, head;
	int n;

	pthread_mutex_lock(&vq->lock);
	if (!vq->enabled || vq->broken || !avail_pending(vq, &avail_idx))
		goto out;
	if ((u16)(avail_idx - vq->last_avail) > vq->size) {
		why = "available index is more than the queue size ahead";
		goto out;
	}
	head = load16(avail_ring(vq, vq->last_avail & (vq->size - 1)));
	if (head >= vq->size) {
		why = "available ring names a descriptor beyond the queue";
		goto out;
	}
	n = walk_chain(vq, head, &outs, &rd, &wr, &why);
	if (n < 0)
		goto out;
	elem = malloc(sizeof(*elem) + n * sizeof(struct iovec));
	if (!elem) {
		why = "out of host memory";
		goto out;
	}
	elem->head = head;
	elem->gen = vq->gen;
	elem->out_num = outs;
	elem->in_num = n - outs;
	elem->out_len = rd;
	elem->in_len = wr;
	memcpy(elem->iov, vq->scratch, n * sizeof(struct iovec));
	vq->last_avail++;
	vq->popped++;
	__atomic_add_fetch(vq->inflight, 1, __ATOMIC_RELAXED);
	/*
	 * avail_event stays where it is: the driver kicks only when it adds
	 * past the index at which we last found the ring empty. Devices pop
	 * until NULL before they wait for a kick, and that is when
	 * avail_pending() asks for one; a kick per chain while we are still
	 * popping (or, on receive, while we hold spare buffers) would cost
	 * the guest an exit each for nothing.
	 */
out:
	if (why)
		vq_break(vq);
	pthread_mutex_unlock(&vq->lock);
	if (why && vq->error)
		vq->error(vq, why);
	return elem;
}

void vq_push_n(struct virtqueue *vq, struct vq_elem *const *elems, const u32 *lens, unsigned int n)
{
	bool published = false;

	pthread_mutex_lock(&vq->lock);
	for (unsigned int i = 0; i < n; i++) {
		struct vq_elem *elem = elems[i];

		if (elem->gen == vq->gen && vq->enabled) {
			u8 *slot = vq->used + RING_HDR +
				   USED_ELEM_SIZE * (u64)(vq->used_idx & (vq->size - 1));
			u32 id = elem->head;

			memcpy(slot, &id, 4);
			memcpy(slot + 4, &lens[i], 4);
			vq->used_idx++;
			vq->pushed++;
			guest_mem_dirty_hva(vq->mem, slot, USED_ELEM_SIZE);
			published = true;
		}
		/* Stale or not, its buffers may hold what the device wrote. */
		mark_written(vq, elem);
	}
	if (published) {
		/* The entries must be visible before the index that publishes them. */
		__atomic_store_n((u16 *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
		guest_mem_dirty_hva(vq->mem, vq->used + 2, 2);
	}
	__atomic_sub_fetch(vq->inflight, n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vq->lock);
	for (unsigned int i = 0; i < n; i++)
		free(elems[i]);
}

void vq_push(struct virtqueue *vq, struct vq_elem *elem, u32 len)
{
	vq_push_n(vq, &elem, &len, 1);
}

void vq_fail(struct virtqueue *vq, struct vq_elem *elem, const char *why)
{
	mark_written(vq, elem);
	pthread_mutex_lock(&vq->lock);
	if (elem->gen == vq->gen)
		vq_break(vq);
	__atomic_sub_fetch(vq->inflight, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vq->lock);
	free(elem);
	if (vq->error)
		vq->error(vq, why);
}

/* vring_need_event(): did new_idx just pass event, coming from old? */
static bool need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

void vq_notify(struct virtqueue *vq)
{
	bool need = false;

	pthread_mutex_lock(&vq->lock);
	if (!vq->enabled)
		goto out;
	/* Our used index must be visible before we read the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		need = need_event(load16(used_event_ptr(vq)), vq->used_idx, vq->signalled_used);
	else
		need = vq->used_idx != vq->signalled_used &&
		       !(load16(vq->avail) & VRING_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	if (need)
		vq->interrupts++;
out:
	pthread_mutex_unlock(&vq->lock);
	if (need && vq->interrupt)
		vq->interrupt(vq);
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - skip, len - done);
		memcpy((u8 *)buf + done, (u8 *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t skip, const void *buf,
		    size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - skip, len - done);
		memcpy((u8 *)iov[i].iov_base + skip, (const u8 *)buf + done, n);
		done += n;
		skip = 0;
	}
	return done;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon (virtio 1.2 §5.5): the inflate and deflate queues, the
 * statistics queue (virtio_balloon_stats.c) and free page reporting.
 *
 * Pages the guest gives up -- inflated, or reported free -- go back to the
 * host with madvise(MADV_DONTNEED) on their host addresses, found page by
 * page (4 KiB) through gpa_to_hva(), so a PFN outside RAM or in the PCI
 * hole is skipped and counted, never touched. Runs of adjacent pages are
 * released with one call. A page the guest uses again reads as zeroes and
 * is committed anew on first touch; deflation needs nothing from us, as
 * MUST_TELL_HOST is not offered.
 *
 * Queues: 0 inflate, 1 deflate, then statistics if STATS_VQ was
 * negotiated, then reporting if REPORTING was: a driver numbers only the
 * queues whose features it accepted (§5.5.2).
 */
#include "virtio/virtio_balloon.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "api/hooks.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"
#include "mem/guest_mem.h"
#include "virtio/virtio_balloon_internal.h"

#define BALLOON_QUEUE_SIZE	128
#define BALLOON_PCI_CLASS	0x00ff00	/* unclassified, as QEMU's */
#define BALLOON_PAGE		4096ULL
#define BALLOON_PAGES_PER_MIB	(MiB / BALLOON_PAGE)
/* PFNs in one request: Linux sends at most 256; more is a driver gone wrong. */
#define BALLOON_MAX_PFNS	4096
#define PFN_CHUNK		256

enum balloon_queue { Q_INFLATE, Q_DEFLATE, Q_STATS, Q_REPORTING, Q_UNUSED };

static void count(u64 *c, u64 n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static enum balloon_queue queue_role(struct virtio_device *vdev, unsigned int index)
{
	unsigned int next = 2;

	if (index < 2)
		return index == 0 ? Q_INFLATE : Q_DEFLATE;
	if (virtio_has_feature(vdev, VIRTIO_BALLOON_F_STATS_VQ) && index == next++)
		return Q_STATS;
	if (virtio_has_feature(vdev, VIRTIO_BALLOON_F_REPORTING) && index == next)
		return Q_REPORTING;
	return Q_UNUSED;
}

/* Hands [p, p + len) back to the host; p and len are multiples of the page. */
static void discard(struct virtio_balloon *vb, u8 *p, size_t len)
{
	if (!len)
		return;
	if (madvise(p, len, MADV_DONTNEED)) {
		/* hugetlb RAM, for one, cannot give back 4 KiB pages. */
		count(&vb->discard_errors, 1);
		pr_warn_once("virtio-balloon: cannot return guest pages to the host: %m");
		return;
	}
	/* They read as zeros now: a change the dirty log must show. */
	guest_mem_dirty_hva(&vb->vm->mem, p, len);
	count(&vb->discarded, len);
}

/* Applies one request's PFNs; discards them when inflating. */
static void apply_pfns(struct virtio_balloon *vb, struct vq_elem *e, bool inflate)
{
	const struct guest_mem *mem = &vb->vm->mem;
	u32 pfns[PFN_CHUNK];
	u8 *run = NULL;
	size_t run_len = 0;
	u64 n = e->out_len / 4, good = 0;

	for (u64 done = 0; done < n;) {
		unsigned int chunk = MIN(n - done, PFN_CHUNK);

		iov_to_buf(e->iov, e->out_num, done * 4, pfns, chunk * 4);
		for (unsigned int i = 0; i < chunk; i++) {
			u8 *hva = gpa_to_hva(mem, (u64)pfns[i] << VIRTIO_BALLOON_PFN_SHIFT,
					     BALLOON_PAGE);

			if (!hva) {
				count(&vb->bad_pfns, 1);
				pr_warn_once("virtio-balloon: the guest named PFN 0x%x, which is not "
					     "RAM; ignored", pfns[i]);
				continue;
			}
			good++;
			if (!inflate)
				continue;
			if (run && hva == run + run_len) {
				run_len += BALLOON_PAGE;
				continue;
			}
			if (run)
				discard(vb, run, run_len);
			run = hva;
			run_len = BALLOON_PAGE;
		}
		done += chunk;
	}
	if (run)
		discard(vb, run, run_len);
	count(inflate ? &vb->inflated : &vb->deflated, good);
}

static void pfn_queue(struct virtio_balloon *vb, struct virtqueue *vq, bool inflate)
{
	struct vq_elem *e;

	while ((e = vq_pop(vq))) {
		if (e->in_num) {
			vq_fail(vq, e, "PFN list is device-writable");
			return;
		}
		if (e->out_len % 4 || e->out_len / 4 > BALLOON_MAX_PFNS) {
			vq_fail(vq, e, "PFN list is not a whole number of PFNs, or too long");
			return;
		}
		apply_pfns(vb, e, inflate);
		vq_push(vq, e, 0);
	}
	vq_notify(vq);
}

/* Free page reporting: each buffer is a free range of guest RAM. */
static void reporting_queue(struct virtio_balloon *vb, struct virtqueue *vq)
{
	struct vq_elem *e;

	while ((e = vq_pop(vq))) {
		for (unsigned int i = 0; i < e->out_num + e->in_num; i++) {
			/* Already checked guest RAM; only whole pages inside it go. */
			u8 *base = e->iov[i].iov_base;
			u8 *start = (u8 *)ALIGN_UP((uintptr_t)base, BALLOON_PAGE);
			u8 *end = (u8 *)ALIGN_DOWN((uintptr_t)base + e->iov[i].iov_len, BALLOON_PAGE);

			if (end > start) {
				discard(vb, start, end - start);
				count(&vb->reported, end - start);
			}
		}
		vq_push(vq, e, 0);
	}
	vq_notify(vq);
}

static void balloon_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_balloon *vb = vdev->opaque;

	switch (queue_role(vdev, vq->index)) {
	case Q_INFLATE:
		pfn_queue(vb, vq, true);
		break;
	case Q_DEFLATE:
		pfn_queue(vb, vq, false);
		break;
	case Q_STATS:
		balloon_stats_notify(vb, vq);
		break;
	case Q_REPORTING:
		reporting_queue(vb, vq);
		break;
	case Q_UNUSED:
		pr_warn_once("virtio-balloon: notify on queue %u, which the features leave unused",
			     vq->index);
		break;
	}
}

/*
 * The driver wrote config space, under the transport lock: it may set
 * actual (and poison_val); the rest is the device's and is put back.
 */
static void balloon_config_write(struct virtio_device *vdev, u32 offset, unsigned int len)
{
	struct virtio_balloon *vb = vdev->opaque;
	const u32 cmd = offsetof(struct virtio_balloon_config, free_page_hint_cmd_id);

	if (offset < sizeof(vb->config.num_pages))
		vb->config.num_pages = __atomic_load_n(&vb->target_pages, __ATOMIC_ACQUIRE);
	if (offset < cmd + 4 && offset + len > cmd)
		vb->config.free_page_hint_cmd_id = 0;
}

/* Under the transport lock. */
static void balloon_reset(struct virtio_device *vdev)
{
	struct virtio_balloon *vb = vdev->opaque;

	balloon_stats_release(vb);
	vb->config.actual = 0;		/* a new driver starts with every page */
}

static void balloon_destroy(struct virtio_device *vdev)
{
	struct virtio_balloon *vb = vdev->opaque;

	if (vb->vm->balloon == vb)
		api_register_balloon(vb->vm, NULL, NULL);
	balloon_stats_release(vb);
	pthread_mutex_destroy(&vb->lock);
	free(vb);
}

static const struct virtio_device_ops balloon_ops = {
	.queue_notify = balloon_notify,
	.config_write = balloon_config_write,
	.reset = balloon_reset,
	.destroy = balloon_destroy,
};

static void balloon_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct virtio_balloon *vb = opaque;
	static const char group[] = "virtio-balloon";

	stats_emit(v, group, "inflated_pages", __atomic_load_n(&vb->inflated, __ATOMIC_RELAXED));
	stats_emit(v, group, "deflated_pages", __atomic_load_n(&vb->deflated, __ATOMIC_RELAXED));
	stats_emit(v, group, "discarded_bytes", __atomic_load_n(&vb->discarded, __ATOMIC_RELAXED));
	stats_emit(v, group, "reported_bytes", __atomic_load_n(&vb->reported, __ATOMIC_RELAXED));
	stats_emit(v, group, "bad_pfns", __atomic_load_n(&vb->bad_pfns, __ATOMIC_RELAXED));
	stats_emit(v, group, "discard_errors",
		   __atomic_load_n(&vb->discard_errors, __ATOMIC_RELAXED));
}

/*
 * Snapshot: the target set through the API (the transport's section has
 * the config space, num_pages and actual included).
 */
static void balloon_save(void *opaque, struct snap_writer *w)
{
	struct virtio_balloon *vb = opaque;

	snap_put_u32(w, __atomic_load_n(&vb->target_pages, __ATOMIC_ACQUIRE));
}

static int balloon_load(void *opaque, struct snap_reader *r)
{
	struct virtio_balloon *vb = opaque;
	u32 pages = snap_get_u32(r, "the balloon's target");

	if (snap_reader_failed(r))
		return -1;
	__atomic_store_n(&vb->target_pages, pages, __ATOMIC_RELEASE);
	return 0;
}

static const struct snap_section_ops balloon_snap_ops = {
	.save = balloon_save, .load = balloon_load,
};

struct virtio_device *virtio_balloon_create(struct vm *vm, const struct virtio_balloon_options *o)
{
	struct virtio_balloon *vb = calloc(1, sizeof(*vb));
	struct virtio_device_params p = {
		.name = "virtio-balloon", .device_id = VIRTIO_ID_BALLOON,
		.class_code = BALLOON_PCI_CLASS,
		.features = 1ULL << VIRTIO_BALLOON_F_STATS_VQ |
			    1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 3, .queue_size = BALLOON_QUEUE_SIZE, .ops = &balloon_ops,
		.config_size = sizeof(struct virtio_balloon_config),
	};

	if (!vb)
		return NULL;
	if (o->target_mib * BALLOON_PAGES_PER_MIB > UINT32_MAX) {
		pr_err("virtio-balloon: a target of %llu MiB is beyond the device's 16 TiB",
		       (unsigned long long)o->target_mib);
		free(vb);
		return NULL;
	}
	if (o->deflate_on_oom)
		p.features |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (o->free_page_reporting) {
		p.features |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
		p.nr_queues++;
	}
	vb->vm = vm;
	vb->target_pages = o->target_mib * BALLOON_PAGES_PER_MIB;
	vb->config.num_pages = vb->target_pages;
	pthread_mutex_init(&vb->lock, NULL);
	p.config = &vb->config;
	p.opaque = vb;
	vb->vdev = virtio_pci_create(vm, &p);
	if (!vb->vdev) {
		pthread_mutex_destroy(&vb->lock);
		free(vb);
		return NULL;
	}
	/* From here the transport's teardown frees vb. */
	if (vm_add_device(vm, &(struct vm_device){
		.name = "virtio-balloon", .opaque = vb, .report_stats = balloon_report_stats,
	}) || snap_register(vm, "virtio-balloon-target", &balloon_snap_ops, vb))
		return NULL;
	balloon_api_register(vb);
	return vb->vdev;
}

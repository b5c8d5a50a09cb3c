// SPDX-License-Identifier: Apache-2.0
/*
 * The balloon's statistics queue (virtio 1.2 §5.5.6.3) and its control-API
 * hooks.
 *
 * The driver hands over one buffer of (tag u16, value u64) pairs when it
 * starts. We keep the figures and hold the buffer; giving it back is how
 * the device asks for new figures, and the driver answers with the same
 * buffer refilled. We ask on demand: each time the API reports the
 * balloon, so that a reader polling GET /balloon/statistics sees figures
 * at most one poll old, and the guest is not woken when nobody looks.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/hooks.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "virtio/virtio_balloon_internal.h"

#define STAT_ENTRY	10	/* le16 tag, le64 value, packed */
#define STATS_MAX_ENTRIES 64	/* a driver sends one per tag it knows */
#define PAGES_PER_MIB	256

/* The virtio names, in snake_case (Linux and the spec up to tag 15). */
static const char *const stat_names[BALLOON_STATS_MAX] = {
	"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
	"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures",
	"oom_kills", "alloc_stalls", "async_scans", "direct_scans", "async_reclaims",
	"direct_reclaims",
};

static void parse_stats(struct virtio_balloon *vb, struct vq_elem *e)
{
	u64 n = MIN(e->out_len / STAT_ENTRY, STATS_MAX_ENTRIES);

	pthread_mutex_lock(&vb->lock);
	for (u64 i = 0; i < n; i++) {
		u8 raw[STAT_ENTRY];
		u16 tag;
		u64 val;

		iov_to_buf(e->iov, e->out_num, i * STAT_ENTRY, raw, STAT_ENTRY);
		memcpy(&tag, raw, 2);
		memcpy(&val, raw + 2, 8);
		if (tag >= BALLOON_STATS_MAX)
			continue;	/* a tag newer than us */
		vb->stats[tag] = val;
		vb->stats_valid |= 1U << tag;
	}
	vb->stats_updates++;
	pthread_mutex_unlock(&vb->lock);
}

void balloon_stats_notify(struct virtio_balloon *vb, struct virtqueue *vq)
{
	struct vq_elem *e, *old;

	while ((e = vq_pop(vq))) {
		if (e->in_num) {
			vq_fail(vq, e, "statistics buffer is device-writable");
			return;
		}
		parse_stats(vb, e);
		__atomic_store_n(&vb->stats_vq, vq, __ATOMIC_RELEASE);
		/* Keep the newest buffer; a second one means the first is done with. */
		old = __atomic_exchange_n(&vb->stats_elem, e, __ATOMIC_ACQ_REL);
		if (old) {
			vq_push(vq, old, 0);
			vq_notify(vq);
		}
	}
}

void balloon_stats_request(struct virtio_balloon *vb)
{
	struct vq_elem *e = __atomic_exchange_n(&vb->stats_elem, NULL, __ATOMIC_ACQ_REL);
	struct virtqueue *vq = __atomic_load_n(&vb->stats_vq, __ATOMIC_ACQUIRE);

	if (!e)
		return;		/* the guest has not answered the last request */
	vq_push(vq, e, 0);
	vq_notify(vq);
}

void balloon_stats_release(struct virtio_balloon *vb)
{
	struct vq_elem *e = __atomic_exchange_n(&vb->stats_elem, NULL, __ATOMIC_ACQ_REL);

	if (e)
		vq_push(vb->stats_vq, e, 0);	/* after a reset: stale, only freed */
}

/* --- the control API (api/hooks.h), on the I/O thread --- */

static int api_set_target(void *opaque, u64 amount_mib, char *err, size_t err_len)
{
	struct virtio_balloon *vb = opaque;
	u32 pages;

	if (amount_mib > UINT32_MAX / PAGES_PER_MIB) {
		snprintf(err, err_len, "%llu MiB is beyond the balloon's 16 TiB",
			 (unsigned long long)amount_mib);
		return -1;
	}
	pages = amount_mib * PAGES_PER_MIB;
	__atomic_store_n(&vb->target_pages, pages, __ATOMIC_RELEASE);
	virtio_config_update(vb->vdev, offsetof(struct virtio_balloon_config, num_pages), &pages,
			     sizeof(pages));
	return 0;
}

static void api_report(void *opaque, const struct stats_visitor *v)
{
	struct virtio_balloon *vb = opaque;
	u32 target, actual;

	pthread_mutex_lock(&vb->vdev->lock);
	target = vb->config.num_pages;
	actual = vb->config.actual;
	pthread_mutex_unlock(&vb->vdev->lock);
	stats_emit(v, "balloon", "target_mib", target / PAGES_PER_MIB);
	stats_emit(v, "balloon", "actual_mib", actual / PAGES_PER_MIB);
	stats_emit(v, "balloon", "target_pages", target);
	stats_emit(v, "balloon", "actual_pages", actual);
	pthread_mutex_lock(&vb->lock);
	for (unsigned int tag = 0; tag < BALLOON_STATS_MAX; tag++)
		if (vb->stats_valid & (1U << tag))
			stats_emit(v, "balloon", stat_names[tag], vb->stats[tag]);
	stats_emit(v, "balloon", "stats_updates", vb->stats_updates);
	pthread_mutex_unlock(&vb->lock);
	balloon_stats_request(vb);
}

static const struct api_balloon_ops balloon_api_ops = {
	.set_target = api_set_target,
	.report = api_report,
};

void balloon_api_register(struct virtio_balloon *vb)
{
	api_register_balloon(vb->vm, &balloon_api_ops, vb);
}

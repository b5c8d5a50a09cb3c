// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk (virtio 1.2 §5.2) over a raw image. The notify handler runs
 * on the vCPU thread: it parses each request and hands it to the disk
 * backend, which never blocks it; the backend's thread writes the status
 * and returns the chain.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/vm.h"
#include "virtio/virtio_blk_req.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"

#define BLK_QUEUE_SIZE		512
#define BLK_SIZE_MAX		(1U << 20)	/* per segment */
#define BLK_MAX_SECTORS		(1U << 22)	/* per discard or write-zeroes: 2 GiB */
#define BLK_DISCARD_ALIGN	8		/* sectors: a 4 KiB file-system block */
#define BLK_PCI_CLASS		0x018000	/* mass storage, other */

struct virtio_blk {
	struct virtio_device *vdev;
	struct disk *disk;
	u64 capacity;			/* sectors */
	bool read_only;
	char id[VIRTIO_BLK_ID_BYTES];
	char name[24];
	struct virtio_blk_config config;
};

struct blk_request {
	struct disk_request dreq;
	struct virtio_blk *blk;
	struct virtqueue *vq;
	struct vq_elem *elem;
	struct blk_parsed p;
	u32 used_len;
	struct iovec data[];
};

static void blk_complete(struct blk_request *r, u8 status)
{
	*r->p.status = status;
	vq_push(r->vq, r->elem, r->used_len);
	vq_notify(r->vq);
	free(r);
}

static void disk_done(struct disk_request *dreq, int err)
{
	struct blk_request *r = container_of(dreq, struct blk_request, dreq);

	if (err)
		pr_warn_once("%s: I/O error: %s", r->blk->name, strerror(-err));
	blk_complete(r, err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* [sector, sector + count) lies on the disk. */
static bool in_capacity(const struct virtio_blk *blk, u64 sector, u64 count)
{
	return sector <= blk->capacity && count <= blk->capacity - sector;
}

static void submit(struct blk_request *r, enum disk_op op, u64 sector, u64 bytes, bool unmap)
{
	r->dreq = (struct disk_request){
		.op = op, .offset = sector * DISK_SECTOR, .len = bytes, .unmap = unmap,
		.iov = r->p.data, .iovcnt = r->p.data_cnt, .complete = disk_done,
	};
	disk_submit(r->blk->disk, &r->dreq);
}

/* Returns the status for a request finished here, or -1 once submitted. */
static int start_rw(struct blk_request *r, bool write)
{
	struct virtio_blk *blk = r->blk;

	if (write && blk->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (r->p.data_len % DISK_SECTOR ||
	    !in_capacity(blk, r->p.sector, r->p.data_len / DISK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (!r->p.data_len)
		return VIRTIO_BLK_S_OK;
	submit(r, write ? DISK_WRITE : DISK_READ, r->p.sector, r->p.data_len, false);
	return -1;
}

/* DISCARD and WRITE_ZEROES: one segment (max_*_seg is 1). */
static int start_range(struct blk_request *r, bool zeroes)
{
	struct virtio_blk *blk = r->blk;
	struct virtio_blk_discard_write_zeroes seg;
	unsigned int feature = zeroes ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;
	u32 allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;

	if (!virtio_has_feature(blk->vdev, feature) || r->p.data_len != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	iov_to_buf(r->p.data, r->p.data_cnt, 0, &seg, sizeof(seg));
	if (seg.flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (blk->read_only || seg.num_sectors > BLK_MAX_SECTORS ||
	    !in_capacity(blk, seg.sector, seg.num_sectors))
		return VIRTIO_BLK_S_IOERR;
	if (!seg.num_sectors)
		return VIRTIO_BLK_S_OK;
	submit(r, zeroes ? DISK_WRITE_ZEROES : DISK_DISCARD, seg.sector,
	       (u64)seg.num_sectors * DISK_SECTOR, seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	return -1;
}

static int start_request(struct blk_request *r)
{
	switch (r->p.type) {
	case VIRTIO_BLK_T_IN:
		r->used_len = r->p.data_len + 1;
		return start_rw(r, false);
	case VIRTIO_BLK_T_OUT:
		return start_rw(r, true);
	case VIRTIO_BLK_T_FLUSH:
		submit(r, DISK_FLUSH, 0, 0, false);
		return -1;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = MIN(r->p.data_len, (u64)VIRTIO_BLK_ID_BYTES);

		r->used_len = iov_from_buf(r->p.data, r->p.data_cnt, 0, r->blk->id, n) + 1;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
		return start_range(r, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return start_range(r, true);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_blk *blk = vdev->opaque;
	struct vq_elem *e;

	while ((e = vq_pop(vq))) {
		struct blk_request *r;
		const char *why;
		int status;

		r = malloc(sizeof(*r) + (e->out_num + e->in_num) * sizeof(struct iovec));
		if (!r) {
			vq_fail(vq, e, "out of host memory");
			return;
		}
		if (blk_parse(e, r->data, &r->p, &why)) {
			free(r);
			vq_fail(vq, e, why);
			return;
		}
		r->blk = blk;
		r->vq = vq;
		r->elem = e;
		r->used_len = 1;
		status = start_request(r);
		if (status >= 0)
			blk_complete(r, status);
	}
}

static void blk_destroy(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->opaque;

	disk_close(blk->disk);
	free(blk);
}

static const struct virtio_device_ops blk_ops = {
	.queue_notify = blk_notify,
	.destroy = blk_destroy,
};

static void fill_config(struct virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->config;

	c->capacity = blk->capacity;
	c->size_max = BLK_SIZE_MAX;
	c->seg_max = BLK_QUEUE_SIZE - 2;	/* room for the header and the status */
	c->blk_size = DISK_SECTOR;
	c->num_queues = 1;
	c->max_discard_sectors = BLK_MAX_SECTORS;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = BLK_DISCARD_ALIGN;
	c->max_write_zeroes_sectors = BLK_MAX_SECTORS;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;
}

struct virtio_device *virtio_blk_create(struct vm *vm, const struct virtio_blk_options *o)
{
	static unsigned int count;
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	struct virtio_device_params p = {
		.device_id = VIRTIO_ID_BLOCK, .class_code = BLK_PCI_CLASS,
		.nr_queues = 1, .queue_size = BLK_QUEUE_SIZE, .ops = &blk_ops,
		.config_size = sizeof(struct virtio_blk_config),
	};

	if (!blk)
		return NULL;
	if (o->id && strlen(o->id) > VIRTIO_BLK_ID_BYTES) {
		pr_err("disk %s: id '%s' is longer than %d bytes", o->path, o->id,
		       VIRTIO_BLK_ID_BYTES);
		goto fail;
	}
	if (o->id)
		strncpy(blk->id, o->id, sizeof(blk->id));	/* NUL-padded, as GET_ID wants */
	snprintf(blk->name, sizeof(blk->name), "virtio-blk%u", count++);
	blk->disk = disk_open(o->path, o->read_only, o->aio);
	if (!blk->disk)
		goto fail;
	blk->read_only = o->read_only;
	blk->capacity = disk_size(blk->disk) / DISK_SECTOR;
	fill_config(blk);
	p.features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		     1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
		     1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX;
	/* A read-only disk offers nothing that writes. */
	p.features |= blk->read_only ? 1ULL << VIRTIO_BLK_F_RO :
		      1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	p.name = blk->name;
	p.config = &blk->config;
	p.opaque = blk;
	blk->vdev = virtio_pci_create(vm, &p);
	if (!blk->vdev) {
		disk_close(blk->disk);
		goto fail;
	}
	pr_debug("%s: %s, %llu sectors%s, %s", blk->name, o->path,
		 (unsigned long long)blk->capacity, blk->read_only ? ", read-only" : "",
		 disk_backend_name(blk->disk));
	return blk->vdev;
fail:
	free(blk);
	return NULL;
}

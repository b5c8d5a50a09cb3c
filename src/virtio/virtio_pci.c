// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio 1.x modern PCI transport (virtio 1.2 §4.1): no legacy
 * interface. One 64-bit memory BAR holds every structure:
 *
 *   0x0000  common configuration (struct virtio_pci_common_cfg)
 *   0x1000  ISR status
 *   0x2000  device-specific configuration
 *   0x3000  notifications: queue n at 0x3000 + 4 n
 *   0x4000  MSI-X table, one vector per queue plus the config vector
 *   0x5000  MSI-X pending bits
 */
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_msix.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + the virtio device ID */
#define VIRTIO_PCI_SUBSYS_ID	0x1100
#define VIRTIO_PCI_REVISION	1	/* non-transitional */

#define BAR_INDEX		0
#define BAR_SIZE		0x8000
#define COMMON_OFF		0x0000
#define COMMON_LEN		0x40	/* struct virtio_pci_common_cfg + 1.2's two fields */
#define ISR_OFF			0x1000
#define ISR_LEN			4
#define DEVICE_OFF		0x2000
#define DEVICE_MAX		0x1000
#define NOTIFY_OFF		0x3000
#define NOTIFY_MULT		4
#define MSIX_TABLE_OFF		0x4000
#define MSIX_PBA_OFF		0x5000
#define REGION_SIZE		0x1000
#define MAX_QUEUES		(REGION_SIZE / NOTIFY_MULT - 1)

#define MSIX_CAP_LEN		12
#define PCI_CFG_DATA		offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)

#define ISR_QUEUE		1
#define ISR_CONFIG		2

struct virtio_pci {
	struct virtio_device vdev;
	struct pci_device pci;
	struct msix msix;
	u8 msix_cap;		/* config-space offsets of our capabilities */
	u8 pci_cfg_cap;

	/* Under vdev.lock. */
	u8 status;
	bool resetting;		/* written 0; reads show old_status until drained */
	u8 old_status;
	u8 config_generation;
	char why[160];		/* a set-up error to report once unlocked */
	u32 dfselect, gfselect;
	u64 driver_features;
	u16 queue_select;
	u16 config_vector;

	pthread_mutex_t isr_lock;
	u8 isr;

	u64 notifies;
};

static struct virtio_pci *to_vp(struct virtio_device *vdev)
{
	return container_of(vdev, struct virtio_pci, vdev);
}

/* --- interrupts --- */

static void vp_interrupt(struct virtio_pci *vp, u16 vector, u8 isr_bit)
{
	if (msix_enabled(&vp->msix)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	/* INTx: the line follows ISR, which the driver's read clears. */
	pthread_mutex_lock(&vp->isr_lock);
	vp->isr |= isr_bit;
	pci_set_intx(&vp->pci, true);
	pthread_mutex_unlock(&vp->isr_lock);
}

static void vp_queue_interrupt(struct virtqueue *vq)
{
	struct virtio_pci *vp = vq->opaque;

	vp_interrupt(vp, __atomic_load_n(&vq->msix_vector, __ATOMIC_RELAXED), ISR_QUEUE);
}

static void vp_config_interrupt(struct virtio_pci *vp)
{
	vp_interrupt(vp, __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED), ISR_CONFIG);
}

static u8 isr_read_clear(struct virtio_pci *vp)
{
	u8 v;

	pthread_mutex_lock(&vp->isr_lock);
	v = vp->isr;
	vp->isr = 0;
	pci_set_intx(&vp->pci, false);
	pthread_mutex_unlock(&vp->isr_lock);
	return v;
}

/* Sets DEVICE_NEEDS_RESET; true the first time. vdev.lock held. */
static bool set_needs_reset(struct virtio_pci *vp)
{
	u8 old = vp->status;

	__atomic_store_n(&vp->status, old | VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_RELEASE);
	return !(old & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void report_needs_reset(struct virtio_pci *vp, const char *why)
{
	pr_warn("%s: %s; the device needs a reset", vp->vdev.name, why);
	vp_config_interrupt(vp);
}

void virtio_device_needs_reset(struct virtio_device *vdev, const char *why)
{
	struct virtio_pci *vp = to_vp(vdev);
	bool first;

	pthread_mutex_lock(&vdev->lock);
	first = set_needs_reset(vp);
	pthread_mutex_unlock(&vdev->lock);
	if (first)
		report_needs_reset(vp, why);
}

static void vq_error(struct virtqueue *vq, const char *why)
{
	struct virtio_pci *vp = vq->opaque;
	char msg[160];

	snprintf(msg, sizeof(msg), "queue %u: %s", vq->index, why);
	virtio_device_needs_reset(&vp->vdev, msg);
}

void virtio_config_update(struct virtio_device *vdev, u32 offset, const void *data,
			  unsigned int len)
{
	struct virtio_pci *vp = to_vp(vdev);

	if (offset > vdev->config_size || len > vdev->config_size - offset)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(vdev->config + offset, data, len);
	vp->config_generation++;
	pthread_mutex_unlock(&vdev->lock);
	vp_config_interrupt(vp);
}

u8 virtio_device_status(struct virtio_device *vdev)
{
	return __atomic_load_n(&to_vp(vdev)->status, __ATOMIC_ACQUIRE);
}

/* --- status and reset --- */

/* vdev.lock held. */
static void vp_reset(struct virtio_pci *vp)
{
	struct virtio_device *vdev = &vp->vdev;

	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		vq_reset(&vdev->vqs[i]);
	vp->old_status = vp->status;
	vp->resetting = vp->status != 0;
	__atomic_store_n(&vp->status, 0, __ATOMIC_RELEASE);
	vdev->features = 0;
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	isr_read_clear(vp);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

/*
 * A reset completes once the requests popped before it are back: until
 * then the driver, which waits for status to read 0 (§4.1.4.3.2), sees
 * the old value. vdev.lock held.
 */
static u8 vp_status_read(struct virtio_pci *vp)
{
	if (vp->resetting) {
		if (__atomic_load_n(&vp->vdev.inflight, __ATOMIC_ACQUIRE))
			return vp->old_status;
		vp->resetting = false;
	}
	return vp->status;
}

/* Returns true when DRIVER_OK was just set. vdev.lock held. */
static bool vp_status_write(struct virtio_pci *vp, u8 v)
{
	struct virtio_device *vdev = &vp->vdev;
	u8 old = vp->status, new;

	if (v == 0) {
		vp_reset(vp);
		return false;
	}
	if (vp->resetting && vp_status_read(vp)) {
		pr_warn_once("%s: status written before the reset completed; ignored",
			     vdev->name);
		return false;
	}
	new = (v & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if (old & ~new) {
		pr_warn_once("%s: the driver cleared device status bits (0x%x to 0x%x); ignored",
			     vdev->name, old, v);
		return false;
	}
	if ((new & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if ((vp->driver_features & ~vdev->host_features) ||
		    !(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			pr_warn_once("%s: the driver accepted features 0x%llx of 0x%llx offered; refused",
				     vdev->name, (unsigned long long)vp->driver_features,
				     (unsigned long long)vdev->host_features);
			new &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		} else {
			vdev->features = vp->driver_features;
		}
	}
	if ((new & VIRTIO_CONFIG_S_DRIVER_OK) && !(new & VIRTIO_CONFIG_S_FEATURES_OK)) {
		pr_warn_once("%s: DRIVER_OK without FEATURES_OK; ignored", vdev->name);
		new &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	__atomic_store_n(&vp->status, new, __ATOMIC_RELEASE);
	return (new & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK);
}

/* DRIVER_OK: chains made available before it are served now. No lock held. */
static void vp_driver_ok(struct virtio_pci *vp)
{
	struct virtio_device *vdev = &vp->vdev;

	if (vdev->ops->driver_ok)
		vdev->ops->driver_ok(vdev);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vq_is_enabled(&vdev->vqs[i]))
			vdev->ops->queue_notify(vdev, &vdev->vqs[i]);
}

/* --- common configuration --- */

struct field {
	u8 off, size;
};

static const struct field common_fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
	{ VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_NUMQ, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_CFGGENERATION, 1 },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2 }, { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2 },
	{ VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_DESCHI, 4 },
	{ VIRTIO_PCI_COMMON_Q_AVAILLO, 4 }, { VIRTIO_PCI_COMMON_Q_AVAILHI, 4 },
	{ VIRTIO_PCI_COMMON_Q_USEDLO, 4 }, { VIRTIO_PCI_COMMON_Q_USEDHI, 4 },
	{ VIRTIO_PCI_COMMON_Q_NDATA, 2 }, { VIRTIO_PCI_COMMON_Q_RESET, 2 },
};

static struct virtqueue *selected_vq(struct virtio_pci *vp)
{
	return vp->queue_select < vp->vdev.nr_queues ? &vp->vdev.vqs[vp->queue_select] : NULL;
}

static u32 half(u64 v, bool hi)
{
	return hi ? v >> 32 : (u32)v;
}

/* The value of one field; vdev.lock held. */
static u32 common_get(struct virtio_pci *vp, u8 off)
{
	struct virtqueue *vq = selected_vq(vp);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vp->dfselect < 2 ? half(vp->vdev.host_features, vp->dfselect) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect < 2 ? half(vp->driver_features, vp->gfselect) : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return vp->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vp->vdev.nr_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return vp_status_read(vp);
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vp->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vp->queue_select;
	}
	if (!vq)
		return 0;	/* a queue that does not exist: size 0 says so */
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return vq->index;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		return half(vq->desc_gpa, off == VIRTIO_PCI_COMMON_Q_DESCHI);
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return half(vq->avail_gpa, off == VIRTIO_PCI_COMMON_Q_AVAILHI);
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return half(vq->used_gpa, off == VIRTIO_PCI_COMMON_Q_USEDHI);
	}
	return 0;
}

static void set_half(u64 *v, bool hi, u32 x)
{
	*v = hi ? (*v & 0xffffffffULL) | (u64)x << 32 : (*v & ~0xffffffffULL) | x;
}

static u16 valid_vector(struct virtio_pci *vp, u32 v)
{
	return v < vp->msix.nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

/* A queue the driver cannot have meant; vdev.lock held, reported after. */
static void queue_enable(struct virtio_pci *vp, struct virtqueue *vq)
{
	const char *why = NULL;

	if (!(vp->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		why = "enabled before FEATURES_OK";
	} else {
		vq->event_idx = virtio_has_feature(&vp->vdev, VIRTIO_RING_F_EVENT_IDX);
		vq->indirect = virtio_has_feature(&vp->vdev, VIRTIO_RING_F_INDIRECT_DESC);
		if (!vq_enable(vq, &why))
			return;
	}
	if (set_needs_reset(vp))
		snprintf(vp->why, sizeof(vp->why), "queue %u: %s", vq->index, why);
}

/* Writes one whole field; vdev.lock held. Returns true on DRIVER_OK. */
static bool common_set(struct virtio_pci *vp, u8 off, u32 v)
{
	struct virtqueue *vq = selected_vq(vp);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = v;
		return false;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = v;
		return false;
	case VIRTIO_PCI_COMMON_GF:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK))
			set_half(&vp->driver_features, vp->gfselect, v);
		return false;
	case VIRTIO_PCI_COMMON_MSIX:
		__atomic_store_n(&vp->config_vector, valid_vector(vp, v), __ATOMIC_RELAXED);
		return false;
	case VIRTIO_PCI_COMMON_STATUS:
		return vp_status_write(vp, v);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_select = v;
		return false;
	}
	if (!vq)
		return false;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		__atomic_store_n(&vq->msix_vector, valid_vector(vp, v), __ATOMIC_RELAXED);
		return false;
	}
	/* A live queue's set-up is fixed until reset (§4.1.4.3.2). */
	if (vq->enabled)
		return false;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		vq->size = v;
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1)
			queue_enable(vp, vq);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		set_half(&vq->desc_gpa, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		set_half(&vq->avail_gpa, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		set_half(&vq->used_gpa, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	}
	return false;
}

static void common_read(struct virtio_pci *vp, u64 off, void *data, unsigned int len)
{
	u8 buf[COMMON_LEN] = { 0 };

	memset(data, 0, len);
	if (off >= COMMON_LEN || len > COMMON_LEN - off)
		return;
	pthread_mutex_lock(&vp->vdev.lock);
	for (size_t i = 0; i < ARRAY_SIZE(common_fields); i++) {
		const struct field *f = &common_fields[i];

		if (f->off < off + len && off < (u64)f->off + f->size)
			bus_data_put(&buf[f->off], f->size, common_get(vp, f->off));
	}
	pthread_mutex_unlock(&vp->vdev.lock);
	memcpy(data, &buf[off], len);
}

/*
 * Each field the access touches is read, has the written bytes merged in,
 * and is written whole: any width works, as on a real register file.
 */
static void common_write(struct virtio_pci *vp, u64 off, const void *data, unsigned int len)
{
	bool driver_ok = false;
	char why[sizeof(vp->why)] = "";

	if (off >= COMMON_LEN || len > COMMON_LEN - off)
		return;
	pthread_mutex_lock(&vp->vdev.lock);
	for (size_t i = 0; i < ARRAY_SIZE(common_fields); i++) {
		const struct field *f = &common_fields[i];
		u8 field[4];

		if (!(f->off < off + len && off < (u64)f->off + f->size))
			continue;
		bus_data_put(field, f->size, common_get(vp, f->off));
		for (unsigned int b = 0; b < f->size; b++) {
			u64 at = f->off + b;

			if (at >= off && at < off + len)
				field[b] = ((const u8 *)data)[at - off];
		}
		driver_ok |= common_set(vp, f->off, bus_data_get(field, f->size));
	}
	if (vp->why[0]) {
		snprintf(why, sizeof(why), "%s", vp->why);
		vp->why[0] = '\0';
	}
	pthread_mutex_unlock(&vp->vdev.lock);
	if (why[0])
		report_needs_reset(vp, why);
	if (driver_ok)
		vp_driver_ok(vp);
}

/* --- the BAR --- */

static void device_cfg_read(struct virtio_pci *vp, u64 off, void *data, unsigned int len)
{
	struct virtio_device *vdev = &vp->vdev;

	memset(data, 0, len);
	if (off >= vdev->config_size)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(data, vdev->config + off, MIN((u64)len, vdev->config_size - off));
	pthread_mutex_unlock(&vdev->lock);
}

static void device_cfg_write(struct virtio_pci *vp, u64 off, const void *data,
			     unsigned int len)
{
	struct virtio_device *vdev = &vp->vdev;

	if (!vdev->ops->config_write || off >= vdev->config_size ||
	    len > vdev->config_size - off)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(vdev->config + off, data, len);
	vdev->ops->config_write(vdev, off, len);
	pthread_mutex_unlock(&vdev->lock);
}

static void notify_write(struct virtio_pci *vp, u64 off)
{
	struct virtio_device *vdev = &vp->vdev;
	struct virtqueue *vq;
	u64 q = off / NOTIFY_MULT;

	if (q >= vdev->nr_queues)
		return;
	vq = &vdev->vqs[q];
	__atomic_add_fetch(&vp->notifies, 1, __ATOMIC_RELAXED);
	/* Nothing is consumed before DRIVER_OK (§2.1.2). */
	if (!(virtio_device_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	if (vq_is_enabled(vq))
		vdev->ops->queue_notify(vdev, vq);
}

static void vp_bar_read(void *opaque, u64 off, void *data, unsigned int len)
{
	struct virtio_pci *vp = opaque;
	u64 region = off & ~(u64)(REGION_SIZE - 1), in = off - region;

	/* An access never straddles two regions. */
	if (in + len > REGION_SIZE) {
		memset(data, 0xff, len);
		return;
	}
	switch (region) {
	case COMMON_OFF:
		common_read(vp, in, data, len);
		break;
	case ISR_OFF:
		memset(data, 0, len);
		if (in == 0)
			*(u8 *)data = isr_read_clear(vp);
		break;
	case DEVICE_OFF:
		device_cfg_read(vp, in, data, len);
		break;
	case MSIX_TABLE_OFF:
		msix_table_read(&vp->msix, in, data, len);
		break;
	case MSIX_PBA_OFF:
		msix_pba_read(&vp->msix, in, data, len);
		break;
	default:
		memset(data, 0, len);	/* notify reads, and the unused pages */
		break;
	}
}

static void vp_bar_write(void *opaque, u64 off, const void *data, unsigned int len)
{
	struct virtio_pci *vp = opaque;
	u64 region = off & ~(u64)(REGION_SIZE - 1), in = off - region;

	if (in + len > REGION_SIZE)
		return;
	switch (region) {
	case COMMON_OFF:
		common_write(vp, in, data, len);
		break;
	case DEVICE_OFF:
		device_cfg_write(vp, in, data, len);
		break;
	case NOTIFY_OFF:
		notify_write(vp, in);
		break;
	case MSIX_TABLE_OFF:
		msix_table_write(&vp->msix, in, data, len);
		break;
	default:
		break;		/* ISR and the PBA are read-only */
	}
}

static const struct bus_device_ops vp_bar_ops = {
	.read = vp_bar_read,
	.write = vp_bar_write,
};

/* --- config space: MSI-X control and the PCI configuration access window --- */

static bool in_range(u32 off, unsigned int len, u32 start, unsigned int size)
{
	return off < start + size && start < off + len;
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG (§4.1.4.9): pci_cfg_data reaches the BAR at the
 * offset and length the driver put in the capability. Returns false when
 * the window is not set up for a BAR access.
 */
static bool cfg_window(struct virtio_pci *vp, u64 *bar_off, unsigned int *len)
{
	const u8 *cap = &vp->pci.config[vp->pci_cfg_cap];
	u32 off = bus_data_get(cap + offsetof(struct virtio_pci_cap, offset), 4);
	u32 n = bus_data_get(cap + offsetof(struct virtio_pci_cap, length), 4);

	if (cap[offsetof(struct virtio_pci_cap, bar)] != BAR_INDEX ||
	    (n != 1 && n != 2 && n != 4) || off % n || off + n > BAR_SIZE)
		return false;
	*bar_off = off;
	*len = n;
	return true;
}

static u32 vp_config_read(struct pci_device *dev, u32 offset, unsigned int len)
{
	struct virtio_pci *vp = dev->opaque;
	u32 data_at = vp->pci_cfg_cap + PCI_CFG_DATA;
	u64 bar_off;
	unsigned int n;
	u8 buf[4] = { 0 };

	if (!in_range(offset, len, data_at, 4) || offset < data_at)
		return pci_default_config_read(dev, offset, len);
	if (cfg_window(vp, &bar_off, &n))
		vp_bar_read(vp, bar_off, buf, n);
	return bus_data_get(&buf[offset - data_at], MIN(len, 4 - (offset - data_at)));
}

static void vp_config_write(struct pci_device *dev, u32 offset, u32 value, unsigned int len)
{
	struct virtio_pci *vp = dev->opaque;
	u32 data_at = vp->pci_cfg_cap + PCI_CFG_DATA;
	u32 ctrl_at = vp->msix_cap + PCI_MSIX_FLAGS;

	if (offset == data_at) {
		u64 bar_off;
		unsigned int n;
		u8 buf[4];

		bus_data_put(buf, 4, value);
		if (cfg_window(vp, &bar_off, &n) && n <= len)
			vp_bar_write(vp, bar_off, buf, n);
		return;
	}
	pci_default_config_write(dev, offset, value, len);
	if (in_range(offset, len, ctrl_at, 2)) {
		u16 ctrl = pci_config_get(dev, ctrl_at, 2);

		msix_set_control(&vp->msix, ctrl & PCI_MSIX_FLAGS_ENABLE,
				 ctrl & PCI_MSIX_FLAGS_MASKALL);
	}
}

static const struct pci_device_ops vp_pci_ops = {
	.config_read = vp_config_read,
	.config_write = vp_config_write,
};

static int add_virtio_cap(struct pci_device *dev, u8 type, u32 off, u32 len,
			  unsigned int cap_len)
{
	int at = pci_add_capability(dev, PCI_CAP_ID_VNDR, cap_len);

	if (at < 0)
		return -1;
	pci_config_set(dev, at + offsetof(struct virtio_pci_cap, cap_len), cap_len, 1);
	pci_config_set(dev, at + offsetof(struct virtio_pci_cap, cfg_type), type, 1);
	pci_config_set(dev, at + offsetof(struct virtio_pci_cap, bar), BAR_INDEX, 1);
	pci_config_set(dev, at + offsetof(struct virtio_pci_cap, offset), off, 4);
	pci_config_set(dev, at + offsetof(struct virtio_pci_cap, length), len, 4);
	return at;
}

static int build_config_space(struct virtio_pci *vp)
{
	struct pci_device *dev = &vp->pci;
	int notify, cfg, msix;

	if (add_virtio_cap(dev, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF, COMMON_LEN,
			   sizeof(struct virtio_pci_cap)) < 0 ||
	    add_virtio_cap(dev, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, ISR_LEN,
			   sizeof(struct virtio_pci_cap)) < 0)
		return -1;
	if (vp->vdev.config_size &&
	    add_virtio_cap(dev, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFF, vp->vdev.config_size,
			   sizeof(struct virtio_pci_cap)) < 0)
		return -1;
	notify = add_virtio_cap(dev, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF,
				vp->vdev.nr_queues * NOTIFY_MULT,
				sizeof(struct virtio_pci_notify_cap));
	if (notify < 0)
		return -1;
	pci_config_set(dev, notify + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier),
		       NOTIFY_MULT, 4);

	cfg = add_virtio_cap(dev, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, sizeof(struct virtio_pci_cfg_cap));
	if (cfg < 0)
		return -1;
	vp->pci_cfg_cap = cfg;
	pci_config_set_wmask(dev, cfg + offsetof(struct virtio_pci_cap, bar), 0xff, 1);
	pci_config_set_wmask(dev, cfg + offsetof(struct virtio_pci_cap, offset), 0xffffffff, 4);
	pci_config_set_wmask(dev, cfg + offsetof(struct virtio_pci_cap, length), 0xffffffff, 4);

	msix = pci_add_capability(dev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (msix < 0)
		return -1;
	vp->msix_cap = msix;
	pci_config_set(dev, msix + PCI_MSIX_FLAGS, vp->msix.nr_vectors - 1, 2);
	pci_config_set_wmask(dev, msix + PCI_MSIX_FLAGS,
			     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	pci_config_set(dev, msix + PCI_MSIX_TABLE, MSIX_TABLE_OFF | BAR_INDEX, 4);
	pci_config_set(dev, msix + PCI_MSIX_PBA, MSIX_PBA_OFF | BAR_INDEX, 4);

	if (pci_device_set_bar(dev, BAR_INDEX, PCI_BAR_MEM64, BAR_SIZE, false, &vp_bar_ops, vp) ||
	    pci_device_set_intx_pin(dev, 1))
		return -1;
	return 0;
}

/* --- life cycle --- */

static void vp_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct virtio_pci *vp = opaque;
	u64 popped = 0, interrupts = 0;

	for (unsigned int i = 0; i < vp->vdev.nr_queues; i++) {
		struct virtqueue *vq = &vp->vdev.vqs[i];

		pthread_mutex_lock(&vq->lock);
		popped += vq->popped;
		interrupts += vq->interrupts;
		pthread_mutex_unlock(&vq->lock);
	}
	stats_emit(v, vp->vdev.name, "notifies", __atomic_load_n(&vp->notifies, __ATOMIC_RELAXED));
	stats_emit(v, vp->vdev.name, "requests", popped);
	stats_emit(v, vp->vdev.name, "interrupts", interrupts);
}

static void vp_free(struct virtio_pci *vp)
{
	for (unsigned int i = 0; vp->vdev.vqs && i < vp->vdev.nr_queues; i++)
		vq_destroy(&vp->vdev.vqs[i]);
	free(vp->vdev.vqs);
	msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->isr_lock);
	pthread_mutex_destroy(&vp->vdev.lock);
	free(vp);
}

static void vp_destroy(void *opaque)
{
	struct virtio_pci *vp = opaque;

	if (vp->vdev.ops->destroy)
		vp->vdev.ops->destroy(&vp->vdev);
	pci_unregister_device(&vp->pci);
	vp_free(vp);
}

static bool params_ok(const struct virtio_device_params *p)
{
	return p->ops && p->ops->queue_notify && p->nr_queues && p->nr_queues <= MAX_QUEUES &&
	       p->queue_size && p->queue_size <= 32768 && !(p->queue_size & (p->queue_size - 1)) &&
	       p->config_size <= DEVICE_MAX;
}

/* --- snapshots (snapshot/snap_section.h) --- */

/*
 * Block requests complete by themselves: wait for them, so that the disk
 * file and the used rings agree with the snapshot. Other devices hold
 * buffers for as long as they like (the balloon's statistics buffer, a
 * spare receive buffer); a restore takes those back by rewinding each
 * queue to its used index, which re-pops them (they were popped last and
 * are returned in order).
 */
static int vp_quiesce(void *opaque, char *err, size_t err_len)
{
	struct virtio_pci *vp = opaque;

	if (vp->vdev.device_id != VIRTIO_ID_BLOCK)
		return 0;
	for (int ms = 0; ms < 10000; ms++) {
		if (!__atomic_load_n(&vp->vdev.inflight, __ATOMIC_ACQUIRE))
			return 0;
		usleep(1000);
	}
	snprintf(err, err_len, "%u requests still in flight after 10 s",
		 __atomic_load_n(&vp->vdev.inflight, __ATOMIC_ACQUIRE));
	return -1;
}

static void vq_save(struct snap_writer *w, struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	snap_put_u16(w, vq->size);
	snap_put_u16(w, __atomic_load_n(&vq->msix_vector, __ATOMIC_RELAXED));
	snap_put_u64(w, vq->desc_gpa);
	snap_put_u64(w, vq->avail_gpa);
	snap_put_u64(w, vq->used_gpa);
	snap_put_bool(w, vq->event_idx);
	snap_put_bool(w, vq->indirect);
	snap_put_bool(w, vq->enabled);
	snap_put_bool(w, vq->broken);
	snap_put_u16(w, vq->last_avail);
	snap_put_u16(w, vq->used_idx);
	snap_put_u16(w, vq->signalled_used);
	pthread_mutex_unlock(&vq->lock);
}

static void vp_save(void *opaque, struct snap_writer *w)
{
	struct virtio_pci *vp = opaque;
	struct virtio_device *vdev = &vp->vdev;
	struct msix *m = &vp->msix;

	pthread_mutex_lock(&vdev->lock);
	snap_put_u8(w, vp->status);
	snap_put_bool(w, vp->resetting);
	snap_put_u8(w, vp->old_status);
	snap_put_u8(w, vp->config_generation);
	snap_put_u32(w, vp->dfselect);
	snap_put_u32(w, vp->gfselect);
	snap_put_u64(w, vp->driver_features);
	snap_put_u64(w, vdev->features);
	snap_put_u16(w, vp->queue_select);
	snap_put_u16(w, __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED));
	snap_put_u32(w, vdev->config_size);
	snap_put_bytes(w, vdev->config, vdev->config_size);
	snap_put_u32(w, vdev->nr_queues);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		vq_save(w, &vdev->vqs[i]);
	pthread_mutex_unlock(&vdev->lock);

	pthread_mutex_lock(&vp->isr_lock);
	snap_put_u8(w, vp->isr);
	pthread_mutex_unlock(&vp->isr_lock);

	pthread_mutex_lock(&m->lock);
	snap_put_u32(w, m->nr_vectors);
	snap_put_bytes(w, m->table, msix_table_size(m));
	snap_put_bytes(w, m->pba, msix_pba_size(m));
	pthread_mutex_unlock(&m->lock);
}

struct vq_snap {
	u16 size, vector, last_avail, used_idx, signalled_used;
	u64 desc, avail, used;
	bool event_idx, indirect, enabled, broken;
};

static void vq_snap_read(struct snap_reader *r, struct vq_snap *q)
{
	q->size = snap_get_u16(r, "a queue size");
	q->vector = snap_get_u16(r, "a queue's MSI-X vector");
	q->desc = snap_get_u64(r, "a descriptor table address");
	q->avail = snap_get_u64(r, "a driver ring address");
	q->used = snap_get_u64(r, "a device ring address");
	q->event_idx = snap_get_bool(r, "EVENT_IDX");
	q->indirect = snap_get_bool(r, "INDIRECT_DESC");
	q->enabled = snap_get_bool(r, "a queue's enable");
	q->broken = snap_get_bool(r, "a queue's broken flag");
	q->last_avail = snap_get_u16(r, "last_avail");
	q->used_idx = snap_get_u16(r, "used_idx");
	q->signalled_used = snap_get_u16(r, "the last signalled used index");
}

/* Sets up one queue as saved; the rings must lie in guest RAM. */
static int vq_restore(struct snap_reader *r, struct virtio_pci *vp, struct virtqueue *vq,
		      const struct vq_snap *q)
{
	const char *why;

	if (q->size > vq->max_size)
		return snap_fail(r, "queue %u has %u entries, more than %u", vq->index, q->size,
				 vq->max_size);
	if (q->vector != VIRTIO_MSI_NO_VECTOR && q->vector >= vp->msix.nr_vectors)
		return snap_fail(r, "queue %u uses MSI-X vector %u of %u", vq->index, q->vector,
				 vp->msix.nr_vectors);
	vq_reset(vq);
	vq->size = q->size;
	vq->msix_vector = q->vector;
	vq->desc_gpa = q->desc;
	vq->avail_gpa = q->avail;
	vq->used_gpa = q->used;
	vq->event_idx = q->event_idx;
	vq->indirect = q->indirect;
	if (!q->enabled)
		return 0;
	if (vq_enable(vq, &why))
		return snap_fail(r, "queue %u: %s", vq->index, why);
	pthread_mutex_lock(&vq->lock);
	vq->last_avail = q->used_idx;	/* re-pops what was held (see vp_quiesce) */
	vq->used_idx = q->used_idx;
	vq->signalled_used = q->signalled_used;
	vq->broken = q->broken;
	pthread_mutex_unlock(&vq->lock);
	return 0;
}

static int vp_load(void *opaque, struct snap_reader *r)
{
	struct virtio_pci *vp = opaque;
	struct virtio_device *vdev = &vp->vdev;
	struct msix *m = &vp->msix;
	u8 status, old_status, generation, isr;
	u64 driver_features, features;
	u32 dfselect, gfselect, config_size, nr_queues, nr_vectors;
	u16 queue_select, config_vector;
	bool resetting;
	struct vq_snap *qs;
	u8 *config, *table, *pba;
	int ret = -1;

	status = snap_get_u8(r, "the device status");
	resetting = snap_get_bool(r, "a reset in progress");
	old_status = snap_get_u8(r, "the status before the reset");
	generation = snap_get_u8(r, "the config generation");
	dfselect = snap_get_u32(r, "device_feature_select");
	gfselect = snap_get_u32(r, "driver_feature_select");
	driver_features = snap_get_u64(r, "the driver's features");
	features = snap_get_u64(r, "the negotiated features");
	queue_select = snap_get_u16(r, "queue_select");
	config_vector = snap_get_u16(r, "the config MSI-X vector");
	config_size = snap_get_u32(r, "the config size");
	if (snap_reader_failed(r))
		return -1;
	if (config_size != vdev->config_size)
		return snap_fail(r, "its config space is %u bytes, here %u (a different device?)",
				 config_size, vdev->config_size);
	if ((driver_features | features) & ~vdev->host_features)
		return snap_fail(r, "the driver has features 0x%llx this device does not offer "
				 "(0x%llx): were its options the same?",
				 (unsigned long long)(driver_features | features),
				 (unsigned long long)vdev->host_features);
	if (config_vector != VIRTIO_MSI_NO_VECTOR && config_vector >= m->nr_vectors)
		return snap_fail(r, "the config interrupt uses MSI-X vector %u of %u",
				 config_vector, m->nr_vectors);
	config = malloc(config_size + 1);
	qs = calloc(vdev->nr_queues, sizeof(*qs));
	table = malloc(msix_table_size(m));
	pba = malloc(msix_pba_size(m));
	if (!config || !qs || !table || !pba) {
		snap_fail(r, "out of memory");
		goto out;
	}
	snap_get_bytes(r, config, config_size, "the config space");
	nr_queues = snap_get_u32(r, "the queue count");
	if (!snap_reader_failed(r) && nr_queues != vdev->nr_queues) {
		snap_fail(r, "it has %u queues, here %u", nr_queues, vdev->nr_queues);
		goto out;
	}
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		vq_snap_read(r, &qs[i]);
	isr = snap_get_max(r, 1, ISR_QUEUE | ISR_CONFIG, "ISR");
	nr_vectors = snap_get_u32(r, "the MSI-X vector count");
	if (!snap_reader_failed(r) && nr_vectors != m->nr_vectors) {
		snap_fail(r, "it has %u MSI-X vectors, here %u", nr_vectors, m->nr_vectors);
		goto out;
	}
	snap_get_bytes(r, table, msix_table_size(m), "the MSI-X table");
	snap_get_bytes(r, pba, msix_pba_size(m), "the MSI-X pending bits");
	if (snap_reader_failed(r))
		goto out;

	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vq_restore(r, vp, &vdev->vqs[i], &qs[i]))
			break;
	if (!snap_reader_failed(r)) {
		vp->status = status;
		vp->resetting = resetting;
		vp->old_status = old_status;
		vp->config_generation = generation;
		vp->dfselect = dfselect;
		vp->gfselect = gfselect;
		vp->driver_features = driver_features;
		vdev->features = features;
		vp->queue_select = queue_select;
		vp->config_vector = config_vector;
		if (config_size)
			memcpy(vdev->config, config, config_size);
	}
	pthread_mutex_unlock(&vdev->lock);
	if (snap_reader_failed(r))
		goto out;
	pthread_mutex_lock(&vp->isr_lock);
	vp->isr = isr;
	pthread_mutex_unlock(&vp->isr_lock);
	pthread_mutex_lock(&m->lock);
	memcpy(m->table, table, msix_table_size(m));
	memcpy(m->pba, pba, msix_pba_size(m));
	pthread_mutex_unlock(&m->lock);
	ret = 0;
out:
	free(config);
	free(qs);
	free(table);
	free(pba);
	return ret;
}

/*
 * Once the PCI config space is back: MSI-X follows its control bits, INTx
 * follows ISR, and a live device looks at its queues again (what the guest
 * queued after the pause, and the buffers re-popped by the rewind).
 */
static void vp_post_load(void *opaque)
{
	struct virtio_pci *vp = opaque;
	u16 ctrl = pci_config_get(&vp->pci, vp->msix_cap + PCI_MSIX_FLAGS, 2);
	bool isr;

	msix_set_control(&vp->msix, ctrl & PCI_MSIX_FLAGS_ENABLE, ctrl & PCI_MSIX_FLAGS_MASKALL);
	pthread_mutex_lock(&vp->isr_lock);
	isr = vp->isr != 0;
	pthread_mutex_unlock(&vp->isr_lock);
	if (!msix_enabled(&vp->msix))
		pci_set_intx(&vp->pci, isr);
	if (virtio_device_status(&vp->vdev) & VIRTIO_CONFIG_S_DRIVER_OK)
		vp_driver_ok(vp);
}

static const struct snap_section_ops vp_snap_ops = {
	.quiesce = vp_quiesce,
	.save = vp_save,
	.load = vp_load,
	.post_load = vp_post_load,
};

struct virtio_device *virtio_pci_create(struct vm *vm, const struct virtio_device_params *p)
{
	struct virtio_pci *vp;
	struct virtio_device *vdev;
	struct vm_device dev;

	if (!params_ok(p)) {
		pr_err("%s: bad virtio device parameters", p->name);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return NULL;
	vdev = &vp->vdev;
	pthread_mutex_init(&vdev->lock, NULL);
	pthread_mutex_init(&vp->isr_lock, NULL);
	vdev->vm = vm;
	vdev->name = p->name;
	vdev->device_id = p->device_id;
	vdev->ops = p->ops;
	vdev->opaque = p->opaque;
	vdev->host_features = p->features | 1ULL << VIRTIO_F_VERSION_1;
	vdev->nr_queues = p->nr_queues;
	vdev->config = p->config;
	vdev->config_size = p->config_size;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;

	vdev->vqs = calloc(p->nr_queues, sizeof(*vdev->vqs));
	if (!vdev->vqs || msix_init(&vp->msix, vm, p->nr_queues + 1))
		goto fail;
	for (unsigned int i = 0; i < p->nr_queues; i++) {
		struct virtqueue *vq = &vdev->vqs[i];

		if (vq_init(vq, &vm->mem, i, p->queue_size))
			goto fail;
		vq->inflight = &vdev->inflight;
		vq->error = vq_error;
		vq->interrupt = vp_queue_interrupt;
		vq->opaque = vp;
	}

	pci_device_init(&vp->pci, p->name, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + p->device_id, p->class_code, VIRTIO_PCI_REVISION);
	pci_device_set_subsystem(&vp->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYS_ID);
	vp->pci.ops = &vp_pci_ops;
	vp->pci.opaque = vp;
	if (build_config_space(vp)) {
		pr_err("%s: cannot lay out the PCI function", p->name);
		goto fail;
	}
	if (pci_register_device(vm, &vp->pci))
		goto fail;
	dev = (struct vm_device){
		.name = p->name, .opaque = vp, .destroy = vp_destroy,
		.report_stats = vp_report_stats,
	};
	if (vm_add_device(vm, &dev)) {
		pci_unregister_device(&vp->pci);
		goto fail;
	}
	if (snap_register(vm, p->name, &vp_snap_ops, vp))
		return NULL;	/* the VM's teardown frees vp */
	return vdev;
fail:
	vp_free(vp);
	return NULL;
}

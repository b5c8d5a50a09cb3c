// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-pci transport and the split-ring walker, driven by the test
 * driver against a test device: discovery, negotiation, status, queues,
 * MSI-X and INTx, EVENT_IDX, reset with requests in flight, and every
 * malformed ring the walker must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "machine/layout.h"
#include "machine/vm.h"
#include "virtio/virtio_dev.h"
#include "virtio_test_driver.h"

#define TEST_DEVICE_ID	63
#define QSIZE		128
#define HELD_MAX	64
#define ALL_FEATURES	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_INDIRECT_DESC | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX)
#define CONFIG_VECTOR	2	/* the driver gives queues vectors 0, 1 and config 2 */

/*
 * The test device: fills every writable byte with 0xab and returns the
 * chain, or, in hold mode, keeps chains until the test completes them.
 */
struct test_dev {
	struct virtio_device *vdev;
	u8 config[8];
	bool hold;
	struct vq_elem *held[HELD_MAX];
	struct virtqueue *held_vq[HELD_MAX];
	unsigned int nr_held;
	unsigned int notifies, resets, config_writes;
};

static void td_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct test_dev *t = vdev->opaque;
	struct vq_elem *e;

	t->notifies++;
	while ((e = vq_pop(vq))) {
		if (t->hold && t->nr_held < HELD_MAX) {
			t->held_vq[t->nr_held] = vq;
			t->held[t->nr_held++] = e;
			continue;
		}
		for (unsigned int i = 0; i < e->in_num; i++)
			memset(vq_elem_in(e)[i].iov_base, 0xab, vq_elem_in(e)[i].iov_len);
		vq_push(vq, e, e->in_len);
	}
	vq_notify(vq);
}

static void td_reset(struct virtio_device *vdev)
{
	struct test_dev *t = vdev->opaque;

	t->resets++;
}

static void td_config_write(struct virtio_device *vdev, u32 off, unsigned int len)
{
	struct test_dev *t = vdev->opaque;

	(void)off;
	(void)len;
	t->config_writes++;
}

static const struct virtio_device_ops td_ops = {
	.queue_notify = td_notify,
	.reset = td_reset,
	.config_write = td_config_write,
};

struct fixture {
	struct vm *vm;
	struct test_dev t;
	struct vtd_dev d;
	u64 buf;		/* 64 KiB of guest RAM for buffers */
};

static int setup(void **state)
{
	static struct fixture f;
	struct virtio_device_params p = {
		.name = "virtio-test", .device_id = TEST_DEVICE_ID, .class_code = 0xff0000,
		.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 2, .queue_size = QSIZE, .ops = &td_ops,
	};

	memset(&f, 0, sizeof(f));
	f.vm = vtd_vm_create();
	if (!f.vm)
		return -1;
	memcpy(f.t.config, "kilncfg", 8);
	p.config = f.t.config;
	p.config_size = sizeof(f.t.config);
	p.opaque = &f.t;
	f.t.vdev = virtio_pci_create(f.vm, &p);
	if (!f.t.vdev || vtd_probe(f.vm, TEST_DEVICE_ID, &f.d))
		return -1;
	f.buf = vtd_alloc(f.vm, 64 * KiB, 4096);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < f->t.nr_held; i++)
		vq_push(f->t.held_vq[i], f->t.held[i], 0);
	vtd_vm_destroy(f->vm);
	return 0;
}

/* Negotiates everything, MSI-X on, both queues up, DRIVER_OK. */
static void start(struct fixture *f, u64 features, bool msix)
{
	assert_int_equal(vtd_negotiate(&f->d, features), 0);
	if (msix)
		vtd_enable_msix(&f->d);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_MSIX, msix ? CONFIG_VECTOR : 0xffff, 2);
	assert_int_equal(vtd_setup_queue(&f->d, 0, QSIZE, msix ? 0 : 0xffff), 0);
	assert_int_equal(vtd_setup_queue(&f->d, 1, QSIZE, msix ? 1 : 0xffff), 0);
	vtd_driver_ok(&f->d);
	assert_true(vtd_status(&f->d) & VIRTIO_CONFIG_S_DRIVER_OK);
}

static bool needs_reset(struct fixture *f)
{
	return vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* One good request: 16 readable bytes, 32 writable; returns 0 on success. */
static int good_request(struct fixture *f, unsigned int q, bool indirect)
{
	struct vtd_buf b[2] = { { f->buf, 16, false }, { f->buf + 4096, 32, true } };
	u8 out[32];
	u32 id, len;
	u16 head = vtd_add_chain(&f->d, q, b, 2, indirect);

	vtd_kick(&f->d, q);
	if (vtd_wait_used(&f->d, q, 2000, &id, &len) || id != head || len != 32)
		return -1;
	vtd_mem_read(f->vm, f->buf + 4096, out, sizeof(out));
	for (unsigned int i = 0; i < sizeof(out); i++)
		if (out[i] != 0xab)
			return -1;
	memset(vtd_hva(f->vm, f->buf + 4096), 0, 32);
	return 0;
}

static void test_probe_and_header(void **state)
{
	struct fixture *f = *state;
	u32 cls = vtd_cfg_read(f->vm, f->d.slot, PCI_CLASS_REVISION, 4);

	assert_int_equal(cls & 0xff, 1);		/* revision 1: modern only */
	assert_int_equal(cls >> 8, 0xff0000);
	assert_int_equal(vtd_cfg_read(f->vm, f->d.slot, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(f->d.notify_mult, 4);
	assert_int_equal(f->d.msix_vectors, 3);		/* two queues + config */
	assert_int_equal(f->d.device_len, 8);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	/* The BAR sits in the PCI window, above RAM. */
	assert_true(f->d.bar >= LAYOUT_PCI_MMIO_START);
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	u64 offered;

	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered = vtd_common_read(&f->d, VIRTIO_PCI_COMMON_DF, 4) << 32;
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered |= vtd_common_read(&f->d, VIRTIO_PCI_COMMON_DF, 4);
	assert_int_equal(offered, ALL_FEATURES);
	/* Selector 2 and beyond read 0. */
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_DF, 4), 0);

	/* A driver without VERSION_1 is refused FEATURES_OK. */
	assert_int_equal(vtd_negotiate(&f->d, 1ULL << VIRTIO_RING_F_EVENT_IDX), -1);
	/* So is one accepting a feature that was not offered. */
	assert_int_equal(vtd_reset(&f->d), 0);
	vtd_set_status(&f->d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_GF, 1 | 1U << (VIRTIO_F_RING_PACKED - 32), 4);
	vtd_set_status(&f->d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(vtd_status(&f->d) & VIRTIO_CONFIG_S_FEATURES_OK);

	assert_int_equal(vtd_negotiate(&f->d, ALL_FEATURES), 0);
	assert_int_equal(f->t.vdev->features, ALL_FEATURES);
	/* Driver features are frozen once FEATURES_OK is set. */
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_GF, 0, 4);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_GF, 4), (u32)ALL_FEATURES);
}

static void test_status_machine(void **state)
{
	struct fixture *f = *state;
	u8 s;

	assert_int_equal(vtd_negotiate(&f->d, ALL_FEATURES), 0);
	s = vtd_status(&f->d);
	/* Clearing bits is not how a driver goes back: ignored. */
	vtd_set_status(&f->d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(vtd_status(&f->d), s);
	/* The driver cannot set NEEDS_RESET itself. */
	vtd_set_status(&f->d, s | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(needs_reset(f));
	/* A queue enabled before FEATURES_OK breaks the device. */
	assert_int_equal(vtd_reset(&f->d), 0);
	vtd_set_status(&f->d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(needs_reset(f));
	/* DRIVER_OK without FEATURES_OK is refused. */
	assert_int_equal(vtd_reset(&f->d), 0);
	assert_int_equal(f->t.resets, 3);
	vtd_set_status(&f->d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_DRIVER_OK);
	assert_false(vtd_status(&f->d) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* A queue that does not exist reads size 0. */
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
}

static void test_queue_msix(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(good_request(f, 1, true), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(1)), 1);
	/* Queue set-up is read back, and frozen while the queue runs. */
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_DESCLO, 4), f->d.q[0].desc);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 4, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	/* A vector beyond the table reads back as NO_VECTOR. */
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_MSIX, 7, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* 64-bit and 8-bit accesses to the common config work too. */
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_DESCLO, 8), f->d.q[0].desc);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_NUMQ, 1), 2);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf + 4096, 8, true };
	u32 id, len;

	assert_int_equal(vtd_negotiate(&f->d, ALL_FEATURES), 0);
	assert_int_equal(vtd_setup_queue(&f->d, 0, QSIZE, 0xffff), 0);
	vtd_add_chain(&f->d, 0, &b, 1, false);
	vtd_kick(&f->d, 0);
	assert_int_equal(f->t.notifies, 0);
	assert_int_equal(vtd_used_idx(&f->d, 0), 0);
	/* DRIVER_OK serves what was made available before it. */
	vtd_driver_ok(&f->d);
	assert_int_equal(vtd_wait_used(&f->d, 0, 1000, &id, &len), 0);
	assert_int_equal(len, 8);
}

static void test_intx(void **state)
{
	struct fixture *f = *state;
	u32 gsi = vtd_cfg_read(f->vm, f->d.slot, PCI_INTERRUPT_LINE, 1);

	start(f, ALL_FEATURES, false);
	assert_false(vtd_gsi_level(gsi));
	assert_int_equal(good_request(f, 0, false), 0);
	assert_true(vtd_gsi_level(gsi));
	assert_true(vtd_cfg_read(f->vm, f->d.slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Reading ISR returns the queue bit, clears it and drops the line. */
	assert_int_equal(vtd_bar_read(&f->d, f->d.isr, 1), 1);
	assert_false(vtd_gsi_level(gsi));
	assert_int_equal(vtd_bar_read(&f->d, f->d.isr, 1), 0);
	assert_int_equal(vtd_msi_total(), 0);
	/* A config change sets bit 1. */
	virtio_config_update(f->t.vdev, 0, "K", 1);
	assert_true(vtd_gsi_level(gsi));
	assert_int_equal(vtd_bar_read(&f->d, f->d.isr, 1), 2);
}

static void test_msix_masking(void **state)
{
	struct fixture *f = *state;

	/* Without EVENT_IDX every completion interrupts. */
	start(f, ALL_FEATURES & ~(1ULL << VIRTIO_RING_F_EVENT_IDX), true);
	vtd_msix_mask(&f->d, 0, true);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 0);
	assert_true(vtd_msix_pending(&f->d, 0));
	assert_false(vtd_msix_pending(&f->d, 1));
	/* Unmasking delivers the held message once and clears its bit. */
	vtd_msix_mask(&f->d, 0, false);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
	assert_false(vtd_msix_pending(&f->d, 0));

	/* The function mask holds every vector. */
	vtd_msix_function_mask(&f->d, true);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(good_request(f, 1, false), 0);
	assert_int_equal(vtd_msi_total(), 1);
	assert_true(vtd_msix_pending(&f->d, 0));
	assert_true(vtd_msix_pending(&f->d, 1));
	vtd_msix_function_mask(&f->d, false);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 2);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(1)), 1);
	assert_false(vtd_msix_pending(&f->d, 0) || vtd_msix_pending(&f->d, 1));

	/* A queue with NO_VECTOR is never signalled, even with MSI-X on. */
	assert_int_equal(vtd_negotiate(&f->d, ALL_FEATURES), 0);
	assert_int_equal(vtd_setup_queue(&f->d, 0, QSIZE, 0xffff), 0);
	vtd_driver_ok(&f->d);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_total(), 3);
	/* Table reads return what was written; a bad access width is refused. */
	assert_int_equal(vtd_bar_read(&f->d, f->d.msix_table + 8, 4), VTD_MSI_DATA(0));
	assert_int_equal(vtd_bar_read(&f->d, f->d.msix_table + 8, 2), 0xffff);
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	/* The driver asks to be told only after the third completion. */
	vtd_set_used_event(&f->d, 0, 2);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 0);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
	/* The device asks to be notified at its next avail index. */
	assert_int_equal(vtd_avail_event(&f->d, 0), 3);
	/* used_event behind the index: no interrupt until it comes round. */
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
	vtd_set_used_event(&f->d, 0, 4);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 2);
}

static void test_no_interrupt_flag(void **state)
{
	struct fixture *f = *state;

	start(f, 1ULL << VIRTIO_F_VERSION_1, true);
	vtd_set_avail_flags(&f->d, 0, VRING_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 0);
	vtd_set_avail_flags(&f->d, 0, 0);
	assert_int_equal(good_request(f, 0, false), 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(0)), 1);
}

static bool status_zero(void *arg)
{
	return vtd_status(arg) == 0;
}

static void test_reset_in_flight(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf + 4096, 8, true };

	start(f, ALL_FEATURES, true);
	f->t.hold = true;
	vtd_add_chain(&f->d, 0, &b, 1, false);
	vtd_add_chain(&f->d, 0, &b, 1, false);
	vtd_kick(&f->d, 0);
	assert_int_equal(f->t.nr_held, 2);
	assert_int_equal(f->t.vdev->inflight, 2);

	/* Reset with two requests out: the status reads non-zero until both return. */
	vtd_set_status(&f->d, 0);
	assert_int_not_equal(vtd_status(&f->d), 0);
	vq_push(f->t.held_vq[0], f->t.held[0], 8);
	assert_int_not_equal(vtd_status(&f->d), 0);
	vq_push(f->t.held_vq[1], f->t.held[1], 8);
	f->t.nr_held = 0;
	assert_true(vtd_wait_for(status_zero, &f->d, 1000));
	/* Their completions after the reset never reached the ring. */
	assert_int_equal(vtd_used_idx(&f->d, 0), 0);
	assert_int_equal(vtd_msi_total(), 0);
	/* The device starts over cleanly. */
	f->t.hold = false;
	start(f, ALL_FEATURES, true);
	assert_int_equal(good_request(f, 0, false), 0);
}

static void test_config_space(void **state)
{
	struct fixture *f = *state;
	u8 gen;

	start(f, ALL_FEATURES, true);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 4), 0x6e6c696b);	/* "kiln" */
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + 6, 4), 'g');	/* past the end: 0 */
	vtd_bar_write(&f->d, f->d.device, 'K', 1);
	assert_int_equal(f->t.config_writes, 1);
	assert_int_equal(f->t.config[0], 'K');
	gen = vtd_common_read(&f->d, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	virtio_config_update(f->t.vdev, 1, "I", 1);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_CFGGENERATION, 1),
			 (u8)(gen + 1));
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR)), 1);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device, 2), 0x494b);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = *state;
	u8 cap = f->d.pci_cfg_cap;

	/* num_queues through the window, as a firmware driver would read it. */
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_BAR, 0, 1);
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_OFFSET,
		      f->d.common + VIRTIO_PCI_COMMON_NUMQ, 4);
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	assert_int_equal(vtd_cfg_read(f->vm, f->d.slot, cap + 16, 2), 2);
	/* And a write: the status register. */
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_OFFSET,
		      f->d.common + VIRTIO_PCI_COMMON_STATUS, 4);
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	vtd_cfg_write(f->vm, f->d.slot, cap + 16, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	assert_int_equal(vtd_status(&f->d), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* A window past the BAR reads nothing and crashes nothing. */
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_OFFSET, 0xfffffffc, 4);
	vtd_cfg_write(f->vm, f->d.slot, cap + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	assert_int_equal(vtd_cfg_read(f->vm, f->d.slot, cap + 16, 4), 0);
}

/* --- malformed rings: each breaks the device once and never the host --- */

/* Kicks queue 0 and checks the device broke, said so once, and recovers. */
static void expect_broken(struct fixture *f)
{
	unsigned int cfg_irqs = vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR));
	u16 used = vtd_used_idx(&f->d, 0);

	vtd_kick(&f->d, 0);
	assert_true(needs_reset(f));
	assert_int_equal(vtd_used_idx(&f->d, 0), used);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR)), cfg_irqs + 1);
	/* Kicking again does nothing more: the queue stays stopped. */
	vtd_kick(&f->d, 0);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR)), cfg_irqs + 1);
	assert_int_equal(vtd_used_idx(&f->d, 0), used);
	/* A reset brings it back. */
	start(f, ALL_FEATURES, true);
	assert_false(needs_reset(f));
	assert_int_equal(good_request(f, 0, false), 0);
}

static void test_bad_loop(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	vtd_write_desc(&f->d, 0, 0, f->buf, 16, VRING_DESC_F_NEXT, 1);
	vtd_write_desc(&f->d, 0, 1, f->buf, 16, VRING_DESC_F_NEXT, 0);
	vtd_publish(&f->d, 0, 0);
	expect_broken(f);
}

static void test_bad_self_loop(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	vtd_write_desc(&f->d, 0, 5, f->buf, 16, VRING_DESC_F_NEXT, 5);
	vtd_publish(&f->d, 0, 5);
	expect_broken(f);
}

static void test_bad_indirect_loop(void **state)
{
	struct fixture *f = *state;
	u64 t = vtd_alloc(f->vm, 4 * 16, 16);

	start(f, ALL_FEATURES, true);
	for (int i = 0; i < 4; i++)
		vtd_write_desc_at(f->vm, t, i, f->buf, 16, VRING_DESC_F_NEXT, (i + 1) % 4);
	vtd_write_desc(&f->d, 0, 0, t, 4 * 16, VRING_DESC_F_INDIRECT, 0);
	vtd_publish(&f->d, 0, 0);
	expect_broken(f);
}

static void indirect_case(struct fixture *f, u64 table, u32 len, u16 flags)
{
	start(f, ALL_FEATURES, true);
	vtd_write_desc(&f->d, 0, 0, table, len, VRING_DESC_F_INDIRECT | flags, 1);
	vtd_write_desc(&f->d, 0, 1, f->buf, 16, 0, 0);
	vtd_publish(&f->d, 0, 0);
	expect_broken(f);
}

/* The spec puts no alignment on indirect tables: 8-byte and odd ones work. */
static void test_indirect_unaligned(void **state)
{
	struct fixture *f = *state;
	u64 base = vtd_alloc(f->vm, 128, 16);
	const u64 tables[] = { base + 8, base + 64 + 3 };

	start(f, ALL_FEATURES, true);
	for (unsigned int i = 0; i < ARRAY_SIZE(tables); i++) {
		u32 id, len;
		u8 out[32];

		vtd_write_desc_at(f->vm, tables[i], 0, f->buf, 16, VRING_DESC_F_NEXT, 1);
		vtd_write_desc_at(f->vm, tables[i], 1, f->buf + 4096, 32, VRING_DESC_F_WRITE, 0);
		vtd_write_desc(&f->d, 0, i, tables[i], 32, VRING_DESC_F_INDIRECT, 0);
		vtd_publish(&f->d, 0, i);
		vtd_kick(&f->d, 0);
		assert_int_equal(vtd_wait_used(&f->d, 0, 2000, &id, &len), 0);
		assert_int_equal(id, i);
		assert_int_equal(len, 32);
		vtd_mem_read(f->vm, f->buf + 4096, out, sizeof(out));
		for (unsigned int j = 0; j < sizeof(out); j++)
			assert_int_equal(out[j], 0xab);
		memset(vtd_hva(f->vm, f->buf + 4096), 0, 32);
	}
	assert_false(needs_reset(f));
}

static void test_bad_indirect_ragged(void **state)
{
	struct fixture *f = *state;
	u64 t = vtd_alloc(f->vm, 64, 16);

	vtd_write_desc_at(f->vm, t, 0, f->buf, 16, 0, 0);
	indirect_case(f, t, 24, 0);
}

static void test_bad_indirect_oversized(void **state)
{
	struct fixture *f = *state;
	u64 t = vtd_alloc(f->vm, 16 * (QSIZE + 1), 16);

	for (int i = 0; i <= QSIZE; i++)
		vtd_write_desc_at(f->vm, t, i, f->buf, 16, i < QSIZE ? VRING_DESC_F_NEXT : 0, i + 1);
	indirect_case(f, t, 16 * (QSIZE + 1), 0);
}

static void test_bad_indirect_empty(void **state)
{
	struct fixture *f = *state;

	indirect_case(f, vtd_alloc(f->vm, 16, 16), 0, 0);
}

static void test_bad_indirect_nested(void **state)
{
	struct fixture *f = *state;
	u64 inner = vtd_alloc(f->vm, 16, 16), outer = vtd_alloc(f->vm, 16, 16);

	vtd_write_desc_at(f->vm, inner, 0, f->buf, 16, 0, 0);
	vtd_write_desc_at(f->vm, outer, 0, inner, 16, VRING_DESC_F_INDIRECT, 0);
	indirect_case(f, outer, 16, 0);
}

static void test_bad_indirect_with_next(void **state)
{
	struct fixture *f = *state;
	u64 t = vtd_alloc(f->vm, 16, 16);

	vtd_write_desc_at(f->vm, t, 0, f->buf, 16, 0, 0);
	indirect_case(f, t, 16, VRING_DESC_F_NEXT);
}

static void test_bad_indirect_outside_ram(void **state)
{
	struct fixture *f = *state;

	indirect_case(f, VTD_RAM_SIZE - 16, 32, 0);
}

static void test_bad_indirect_not_negotiated(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b = { f->buf, 16, false };

	start(f, 1ULL << VIRTIO_F_VERSION_1, true);
	vtd_add_chain(&f->d, 0, &b, 1, true);
	expect_broken(f);
}

static void test_bad_readable_after_writable(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->buf, 16, true }, { f->buf + 64, 16, false } };

	start(f, ALL_FEATURES, true);
	vtd_add_chain(&f->d, 0, b, 2, false);
	expect_broken(f);
}

static void test_bad_zero_length(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->buf, 16, false }, { f->buf + 64, 0, true } };

	start(f, ALL_FEATURES, true);
	vtd_add_chain(&f->d, 0, b, 2, false);
	expect_broken(f);
}

static void test_bad_length_overflow(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[80];

	/* 80 buffers of 60 MiB, all over the same RAM: 4.7 GiB in one chain. */
	for (unsigned int i = 0; i < ARRAY_SIZE(b); i++)
		b[i] = (struct vtd_buf){ 0, 60 * MiB, true };
	start(f, ALL_FEATURES, true);
	vtd_add_chain(&f->d, 0, b, ARRAY_SIZE(b), false);
	expect_broken(f);
}

static void test_bad_buffer_outside_ram(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf a = { VTD_RAM_SIZE - 8, 16, true };
	struct vtd_buf b = { 0xfee00000, 4, true };		/* the LAPIC, not RAM */
	struct vtd_buf c = { 0xfffffffffffffff0ULL, 32, true };	/* wraps around */

	start(f, ALL_FEATURES, true);
	vtd_add_chain(&f->d, 0, &a, 1, false);
	expect_broken(f);
	vtd_add_chain(&f->d, 0, &b, 1, false);
	expect_broken(f);
	vtd_add_chain(&f->d, 0, &c, 1, false);
	expect_broken(f);
}

static void test_bad_avail_idx(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	vtd_set_avail_idx(&f->d, 0, QSIZE + 1);
	expect_broken(f);
}

static void test_bad_head(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	vtd_publish(&f->d, 0, QSIZE);
	expect_broken(f);
}

static void test_bad_next(void **state)
{
	struct fixture *f = *state;

	start(f, ALL_FEATURES, true);
	vtd_write_desc(&f->d, 0, 0, f->buf, 16, VRING_DESC_F_NEXT, QSIZE + 3);
	vtd_publish(&f->d, 0, 0);
	expect_broken(f);
}

/* Queue set-up the device must refuse at enable time. */
static void bad_setup(struct fixture *f, u16 size, u64 desc, u64 avail, u64 used)
{
	assert_int_equal(vtd_negotiate(&f->d, ALL_FEATURES), 0);
	vtd_enable_msix(&f->d);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_MSIX, CONFIG_VECTOR, 2);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_DESCLO, desc, 8);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_AVAILLO, avail, 8);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_USEDLO, used, 8);
	vtd_common_write(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vtd_common_read(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(needs_reset(f));
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(CONFIG_VECTOR)), 1);
	start(f, ALL_FEATURES, true);
	assert_int_equal(good_request(f, 0, false), 0);
}

static void test_bad_queue_size(void **state)
{
	struct fixture *f = *state;
	u64 r = vtd_alloc(f->vm, 16 * KiB, 4096);

	bad_setup(f, 100, r, r + 4096, r + 8192);
}

static void test_bad_queue_too_big(void **state)
{
	struct fixture *f = *state;
	u64 r = vtd_alloc(f->vm, 32 * KiB, 4096);

	bad_setup(f, QSIZE * 2, r, r + 8192, r + 16384);
}

static void test_bad_ring_outside_ram(void **state)
{
	struct fixture *f = *state;
	u64 r = vtd_alloc(f->vm, 16 * KiB, 4096);

	bad_setup(f, QSIZE, VTD_RAM_SIZE - 1024, r + 4096, r + 8192);
}

static void test_bad_ring_misaligned(void **state)
{
	struct fixture *f = *state;
	u64 r = vtd_alloc(f->vm, 16 * KiB, 4096);

	bad_setup(f, QSIZE, r, r + 4096, r + 8194);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_and_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_before_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_masking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_ragged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_with_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect_not_negotiated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_readable_after_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_length_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_buffer_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_avail_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_misaligned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-console (virtio 1.2 §5.3) with a single port, hvc0, and no
 * MULTIPORT: queue 0 carries host input to the guest, queue 1 guest output
 * to the host. The host side is the console backend (backend/console.h),
 * the same one COM1 uses: a terminal, a pipe, a socket or a file.
 */
#include <linux/virtio_console.h>
#include <stdlib.h>

#include "lib/log.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"

#define CONSOLE_QUEUE_SIZE	128
#define CONSOLE_PCI_CLASS	0x078000	/* simple communication, other */
#define RX_QUEUE		0
#define TX_QUEUE		1

struct virtio_console {
	struct virtio_device *vdev;
	struct console *con;
	struct virtio_console_config config;
};

/* Host input, on the I/O thread: as much as the guest's buffers take. */
static size_t console_receive(void *opaque, const u8 *buf, size_t len)
{
	struct virtio_console *vc = opaque;
	struct virtqueue *vq = &vc->vdev->vqs[RX_QUEUE];
	struct vq_elem *e;
	size_t taken = 0;

	/* Nothing is consumed before DRIVER_OK; setting it pumps input again. */
	if (!(virtio_device_status(vc->vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	while (taken < len && (e = vq_pop(vq))) {
		size_t n;

		if (e->out_num) {
			vq_fail(vq, e, "receive buffer is device-readable");
			break;
		}
		n = iov_from_buf(vq_elem_in(e), e->in_num, 0, buf + taken, len - taken);
		vq_push(vq, e, n);
		taken += n;
	}
	if (taken)
		vq_notify(vq);
	/* Short: the backend waits for console_input_ready() from rx notify. */
	return taken;
}

static void transmit(struct virtio_console *vc, struct virtqueue *vq)
{
	struct vq_elem *e;

	while ((e = vq_pop(vq))) {
		if (e->in_num) {
			vq_fail(vq, e, "transmit buffer is device-writable");
			return;
		}
		for (unsigned int i = 0; i < e->out_num; i++)
			console_write(vc->con, e->iov[i].iov_base, e->iov[i].iov_len);
		vq_push(vq, e, 0);
	}
	vq_notify(vq);
}

static void console_notify(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_console *vc = vdev->opaque;

	if (vq->index == TX_QUEUE)
		transmit(vc, vq);
	else
		console_input_ready(vc->con);	/* new receive buffers: pump input */
}

static void console_dev_destroy(struct virtio_device *vdev)
{
	free(vdev->opaque);
}

static const struct virtio_device_ops console_ops = {
	.queue_notify = console_notify,
	.destroy = console_dev_destroy,
};

struct virtio_device *virtio_console_create(struct vm *vm, const struct console_config *cfg)
{
	struct virtio_console *vc = calloc(1, sizeof(*vc));
	struct virtio_device_params p = {
		.name = "virtio-console", .device_id = VIRTIO_ID_CONSOLE,
		.class_code = CONSOLE_PCI_CLASS,
		.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nr_queues = 2, .queue_size = CONSOLE_QUEUE_SIZE, .ops = &console_ops,
		.config_size = sizeof(struct virtio_console_config),
	};

	if (!vc)
		return NULL;
	p.config = &vc->config;
	p.opaque = vc;
	vc->vdev = virtio_pci_create(vm, &p);
	if (!vc->vdev) {
		free(vc);
		return NULL;
	}
	/* The device frees vc at teardown from here on. */
	vc->con = console_create(vm, cfg, &(struct console_frontend){
		.receive = console_receive, .opaque = vc,
	});
	if (!vc->con) {
		pr_err("virtio-console: cannot set up its host side");
		return NULL;
	}
	return vc->vdev;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_DEVICES_H
#define KILN_VIRTIO_VIRTIO_DEVICES_H

#include "backend/console.h"
#include "backend/disk.h"
#include "lib/types.h"

struct vm;
struct virtio_device;

/* One --disk: a raw image as a virtio-blk device. */
struct virtio_blk_options {
	const char *path;
	bool read_only;
	const char *id;		/* GET_ID serial, at most 20 bytes; NULL for none */
	enum disk_aio aio;
};

struct virtio_device *virtio_blk_create(struct vm *vm, const struct virtio_blk_options *o);

/* virtio-rng, fed from getrandom(). */
struct virtio_device *virtio_rng_create(struct vm *vm);

/* virtio-console: one port (hvc0), its host side on a console backend. */
struct virtio_device *virtio_console_create(struct vm *vm, const struct console_config *cfg);

/* Every virtio device vm->cfg asks for; -1 with a message on failure. */
int virtio_devices_init(struct vm *vm);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio devices `kiln run` was asked for: --disk, --rng,
 * --virtio-console, --net, --balloon, --vsock.
 */
#include "virtio/virtio_devices.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "machine/vm.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_vsock.h"

static void close_fd(void *opaque)
{
	close((int)(intptr_t)opaque);
}

/* The fd behind hvc0 for file= and socket=, closed at teardown. */
static int open_hvc_fd(struct vm *vm, const struct vm_config *cfg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (cfg->hvc == HVC_FILE) {
		fd = open(cfg->hvc_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			pr_err("--virtio-console file=%s: %m", cfg->hvc_path);
			return -1;
		}
	} else {
		if (strlen(cfg->hvc_path) >= sizeof(addr.sun_path)) {
			pr_err("--virtio-console socket=%s: the path is too long", cfg->hvc_path);
			return -1;
		}
		strcpy(addr.sun_path, cfg->hvc_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			pr_err("--virtio-console socket=%s: %m (is something listening there?)",
			       cfg->hvc_path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	if (vm_add_device(vm, &(struct vm_device){
		.name = "hvc-fd", .opaque = (void *)(intptr_t)fd, .destroy = close_fd,
	})) {
		close(fd);
		return -1;
	}
	return fd;
}

static int create_console(struct vm *vm, const struct vm_config *cfg)
{
	struct console_config cc = { .in_fd = -1 };

	if (cfg->hvc == HVC_STDIO) {
		console_config_stdio(&cc);
	} else {
		int fd = open_hvc_fd(vm, cfg);

		if (fd < 0)
			return -1;
		cc.out_fd = fd;
		cc.in_fd = cfg->hvc == HVC_SOCKET ? fd : -1;
	}
	return virtio_console_create(vm, &cc) ? 0 : -1;
}

int virtio_devices_init(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		struct virtio_blk_options o = {
			.path = d->path, .read_only = d->read_only, .id = d->id,
		};

		if (disk_aio_parse(d->aio ? d->aio : "auto", &o.aio)) {
			pr_err("--disk %s: unknown aio mode '%s'", d->path, d->aio);
			return -1;
		}
		if (!virtio_blk_create(vm, &o))
			return -1;
	}
	if (cfg->rng && !virtio_rng_create(vm))
		return -1;
	if (cfg->hvc != HVC_NONE && create_console(vm, cfg))
		return -1;
	if (virtio_net_init_all(vm))
		return -1;
	if (cfg->balloon.enabled && !virtio_balloon_create(vm, &(struct virtio_balloon_options){
		.target_mib = cfg->balloon.size_mib,
		.deflate_on_oom = cfg->balloon.deflate_on_oom,
		.free_page_reporting = cfg->balloon.free_page_reporting,
	}))
		return -1;
	if (cfg->vsock.enabled && !virtio_vsock_create(vm, cfg->vsock.cid, cfg->vsock.uds_path))
		return -1;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_VSOCK_H
#define KILN_VIRTIO_VIRTIO_VSOCK_H

#include "lib/types.h"

struct vm;
struct virtio_device;

/*
 * virtio-vsock for the guest's CID cid, its host side on unix sockets:
 * the guest's connections to CID 2 port P reach uds_path_P, and host
 * programs connect to uds_path and send "CONNECT P\n" (docs/VIRTIO.md).
 * uds_path is created (a stale socket there is replaced, a live one is an
 * error) and removed at teardown.
 */
struct virtio_device *virtio_vsock_create(struct vm *vm, u64 cid, const char *uds_path);

#endif

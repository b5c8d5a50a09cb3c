/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_NET_H
#define KILN_VIRTIO_VIRTIO_NET_H

#include "backend/net_backend.h"
#include "lib/types.h"

struct vm;
struct virtio_device;

/* The fixed, locally administered MAC of NIC 0; NIC n adds n to the last byte. */
#define VIRTIO_NET_DEFAULT_MAC { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }

struct virtio_net_options {
	unsigned int index;	/* names it virtio-netN */
	u8 mac[6];
};

/*
 * A virtio-net device on backend be, which it owns from here on (it is
 * destroyed on failure too). Offers MAC, STATUS, checksum offloads both
 * ways and MRG_RXBUF, the MTU of a backend that has one, and segmentation
 * (HOST_TSO4/6, GUEST_TSO4/6) on a backend with vnet_hdr: see
 * docs/VIRTIO.md.
 */
struct virtio_device *virtio_net_create(struct vm *vm, const struct virtio_net_options *o,
					struct net_backend *be);

/* Every --net of vm->cfg; -1 with a message on failure. */
int virtio_net_init_all(struct vm *vm);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_VSOCK_UDS_H
#define KILN_BACKEND_VSOCK_UDS_H

#include <stddef.h>

#include "lib/types.h"

/*
 * The host side of virtio-vsock: unix stream sockets, as Firecracker does
 * it (docs/VIRTIO.md).
 *
 * - The guest connects to port P of CID 2: we connect to PATH_P.
 * - A host program connects to PATH and writes "CONNECT P\n": we connect
 *   it to the guest's port P and answer "OK <our port>\n".
 *
 * Every socket is non-blocking.
 */

/* The longest CONNECT line we wait for, "\n" included. */
#define VSOCK_CONNECT_LINE_MAX	32

/*
 * Listens on path. A socket nobody listens on (a previous run's) is
 * replaced; a live one, or anything else at path, is an error. Returns the
 * fd, or -1 with a message.
 */
int vsock_uds_listen(const char *path);

/* Closes fd and removes path, if it is still our socket. */
void vsock_uds_unlisten(int fd, const char *path);

/*
 * Connects to path_port ("PATH_P"), without blocking. Returns the fd, or
 * -1 with errno set (ENOENT, ECONNREFUSED, EAGAIN when its backlog is full).
 */
int vsock_uds_connect(const char *path, u32 port);

/*
 * Parses "CONNECT <port>\n" at the start of buf (len bytes). Returns the
 * line's length with port set, 0 when more bytes are needed, or -1 when
 * it is not a CONNECT line. Pure: fuzzed.
 */
int vsock_parse_connect(const char *buf, size_t len, u32 *port);

#endif

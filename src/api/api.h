/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_API_H
#define KILN_API_API_H

/*
 * The control API: HTTP/1.1 with JSON bodies on a unix socket (docs/API.md),
 * served on the VM's I/O event loop. The socket is created mode 0600 and a
 * connecting process must run as the same user (SO_PEERCRED).
 */

struct vm;
struct api_server;

/* Per-connection limits: a slow or silent client is dropped, the VM goes on. */
#define API_MAX_CONNS		16
#define API_CONN_TIMEOUT_MS	5000

/*
 * Starts serving on vm->loop, before vm_run(). With sock_path the socket is
 * created there and <runtime dir>/<pid>.sock links to it; without, the
 * socket is <runtime dir>/<pid>.sock itself (api/runtime_dir.h).
 * Returns -1 when sock_path cannot be served. When only the runtime
 * directory is unusable, warns and returns 0 with *out NULL: the VM runs
 * without an API.
 */
int api_server_start(struct vm *vm, const char *sock_path, const char *version,
		     struct api_server **out);

/* After vm_run() returns: closes every connection and removes the socket. */
void api_server_stop(struct api_server *srv);

/* The socket the server listens on. */
const char *api_server_path(const struct api_server *srv);

#endif

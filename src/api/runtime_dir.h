/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_RUNTIME_DIR_H
#define KILN_API_RUNTIME_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Every running Kiln registers its API socket as <dir>/<pid>.sock, where
 * dir is $XDG_RUNTIME_DIR/kiln, or /run/kiln for root when XDG_RUNTIME_DIR
 * is unset. The entry is the socket itself, or a symlink to the --api-sock
 * path. `kiln list` walks the directory; entries of dead processes are
 * removed as it goes.
 */

/* Finds the directory; with create, makes it (0700). 0, or -1 with why in err. */
int runtime_dir_get(char *dir, size_t len, bool create, char *err, size_t err_len);

/* "<dir>/<pid>.sock" */
int runtime_dir_entry(const char *dir, pid_t pid, char *buf, size_t len);

/* pid still names a process (that may belong to another user). */
bool runtime_dir_pid_alive(pid_t pid);

/*
 * Calls cb for each live VM, in pid order, with the entry's path and the
 * socket it leads to; removes entries whose process is gone. Returns the
 * number of live VMs, or -1 when the directory cannot be read.
 */
typedef void (*runtime_dir_cb)(pid_t pid, const char *entry, const char *sock, void *opaque);
int runtime_dir_scan(const char *dir, runtime_dir_cb cb, void *opaque);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAPSHOT_H
#define KILN_SNAPSHOT_SNAPSHOT_H

#include <stddef.h>

#include "cli/config.h"

struct vm;

/*
 * Snapshot and restore of a whole VM (docs/SNAPSHOT.md). The pieces:
 * snap_section.h (what devices register), snap_file.h (the format),
 * snap_ram.h (sparse guest memory).
 */

/*
 * Once every device exists: registers the engine's sections (vCPUs,
 * interrupt controllers) and, when the engine can save its state, the
 * PUT /snapshot/create hook. 0, or -1 with a message.
 */
int snapshot_vm_init(struct vm *vm);

/*
 * Pauses the VM (it stays paused), lets devices finish what is in flight,
 * and writes the snapshot to path (through a temporary file renamed into
 * place). 0, or -1 with why in err; a VM this call paused then runs again.
 */
int snapshot_create(struct vm *vm, const char *path, char *err, size_t err_len);

/*
 * The same, but only the pages written since the last snapshot this run
 * of Kiln wrote (full or diff): restored on top of that one.
 */
int snapshot_create_diff(struct vm *vm, const char *path, char *err, size_t err_len);

/* The flag of a device whose state no section saves, or NULL. */
const char *snapshot_unsaved_device(const struct vm_config *cfg);

/*
 * Loads cfg->restore_path, then the diffs in cfg->restore_diffs, into a VM
 * that vm_create built from the same command line, instead of booting:
 * checks each file whole before using it. Prints why and returns -1.
 */
int snapshot_restore(struct vm *vm);

/*
 * For `kiln run --restore FILE`, before anything is allocated: reads and
 * checks the file's header, takes RAM size, vCPU count and engine from it
 * where the command line did not give them, and refuses a command line
 * that contradicts it. Prints why and returns -1.
 */
int snapshot_config(struct vm_config *cfg, bool mem_given, bool cpus_given, bool accel_given);

#endif

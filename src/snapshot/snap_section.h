/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_SECTION_H
#define KILN_SNAPSHOT_SNAP_SECTION_H

#include <stddef.h>

#include "snapshot/snap_stream.h"

/*
 * How a device, a vCPU or the engine puts its state into a snapshot: it
 * registers a named section with the VM when it is created, and the
 * snapshot code (snapshot.h) calls back:
 *
 *  - quiesce (optional), once the vCPUs are parked and before anything is
 *    saved: finish what is in flight (block requests). 0, or -1 with why;
 *  - save, on the I/O thread with the vCPUs parked: append the state to w;
 *  - load, when restoring, after guest RAM is back and before any vCPU
 *    runs, with the section's bytes from the file. The file is untrusted:
 *    check every value before it is used (snap_get_max, snap_get_bool) and
 *    end with snap_reader_finish(r), whose result is the callback's;
 *  - post_load (optional), once every section is loaded: re-drive what
 *    depends on other sections (interrupt lines, queue notifications).
 *
 * A restore needs the same sections, by name, as the snapshot: a section
 * the file has and the VM lacks (or the reverse) means the command line
 * does not describe the same machine, and the restore stops there.
 */

struct vm;

#define SNAP_NAME_MAX 32	/* bytes of a section name, the NUL included */

struct snap_section_ops {
	int (*quiesce)(void *opaque, char *err, size_t err_len);
	void (*save)(void *opaque, struct snap_writer *w);
	int (*load)(void *opaque, struct snap_reader *r);
	void (*post_load)(void *opaque);
};

/*
 * Registers a section; name is copied (at most SNAP_NAME_MAX - 1 bytes)
 * and must be unique in the VM. Sections load in registration order.
 * Returns -1 with a message on a duplicate name or no memory.
 */
int snap_register(struct vm *vm, const char *name, const struct snap_section_ops *ops,
		  void *opaque);

#endif

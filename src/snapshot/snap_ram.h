/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_RAM_H
#define KILN_SNAPSHOT_SNAP_RAM_H

#include "mem/dirty.h"
#include "mem/guest_mem.h"
#include "snapshot/snap_file.h"

/*
 * Guest RAM in a snapshot: the "ram" section. Per region: its gpa and
 * size, the number of pages stored, a page bitmap (dirty.h's layout,
 * little-endian 64-bit words) and the stored pages in address order.
 *
 * A full snapshot stores every page that is not all zeroes; restoring it
 * zeroes the rest. A diff snapshot stores the pages of a dirty bitmap and
 * restoring it leaves the other pages as the base snapshot made them.
 */

struct snap_ram_stats {
	u64 pages_stored;
	u64 bytes;		/* the section's payload */
};

/* only: NULL for a full snapshot, else the pages to store. */
int snap_ram_write(struct snap_out *o, const struct guest_mem *mem,
		   const struct dirty_bitmap *only, struct snap_ram_stats *st);

/* The section's payload (len bytes, just opened) into mem; -1 with in->err. */
int snap_ram_read(struct snap_in *in, u64 len, const struct guest_mem *mem, bool diff);

#endif

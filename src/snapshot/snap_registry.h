/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_REGISTRY_H
#define KILN_SNAPSHOT_SNAP_REGISTRY_H

#include "snapshot/snap_section.h"

/* The sections a VM registered (snap_section.h), for the snapshot code. */

struct snap_section {
	char name[SNAP_NAME_MAX];
	const struct snap_section_ops *ops;
	void *opaque;
};

struct snap_registry {
	struct snap_section *sections;
	unsigned int nr, cap;
	/* Diff snapshots: the last snapshot written, and whether pages are logged since. */
	u64 last_id;
	bool dirty_logging;
};

/* NULL when the VM registered nothing yet. */
struct snap_section *snap_find(struct snap_registry *reg, const char *name);
void snap_registry_free(struct snap_registry *reg);

#endif

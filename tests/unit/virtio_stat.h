/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_VIRTIO_STAT_H
#define KILN_TESTS_VIRTIO_STAT_H

/* One figure of vm_report_stats(), by group and name: for device tests. */

#include <string.h>

#include "machine/stats.h"
#include "machine/vm.h"

struct stat_probe {
	const char *group, *name;
	u64 value;
	bool found;
};

static void stat_probe_emit(void *ctx, const char *group, const char *name, u64 value)
{
	struct stat_probe *p = ctx;

	if (!strcmp(group, p->group) && !strcmp(name, p->name)) {
		p->value = value;
		p->found = true;
	}
}

/* The figure, or ~0 when nobody reports it. */
static inline u64 vm_stat(struct vm *vm, const char *group, const char *name)
{
	struct stat_probe p = { .group = group, .name = name };
	struct stats_visitor v = { .emit = stat_probe_emit, .ctx = &p };

	vm_report_stats(vm, &v);
	return p.found ? p.value : ~0ULL;
}

#endif

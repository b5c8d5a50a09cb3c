/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_HOOKS_H
#define KILN_API_HOOKS_H

#include <stddef.h>

#include "lib/types.h"
#include "machine/vm.h"

struct stats_visitor;

/*
 * What later subsystems plug into the control API. Until one registers,
 * the matching endpoints answer 400 with a clear error.
 *
 * The balloon device (virtio-balloon) registers with api_register_balloon()
 * when it is created; the API then serves PUT /balloon, GET /balloon and
 * GET /balloon/statistics, and adds the "balloon" group to /stats.
 * Callbacks run on the I/O thread and must not block.
 */
struct api_balloon_ops {
	/* Asks the guest for a new balloon size. 0, or -1 with why in err. */
	int (*set_target)(void *opaque, u64 amount_mib, char *err, size_t err_len);
	/*
	 * Emits the "balloon" group through v: at least target_mib and
	 * actual_mib, then the guest's statistics (swap_in, free_memory ...)
	 * under their virtio names in snake_case.
	 */
	void (*report)(void *opaque, const struct stats_visitor *v);
};

/* The snapshot code registers with api_register_snapshot(). */
struct api_snapshot_ops {
	/*
	 * Pauses the VM (it stays paused) and writes a snapshot to path. 0, or
	 * -1 with err. create_diff writes only the pages written since the
	 * last snapshot ("snapshot_type": "Diff"); NULL when not supported.
	 */
	int (*create)(struct vm *vm, const char *path, char *err, size_t err_len);
	int (*create_diff)(struct vm *vm, const char *path, char *err, size_t err_len);
};

static inline void api_register_balloon(struct vm *vm, const struct api_balloon_ops *ops,
					void *opaque)
{
	vm->balloon_ops = ops;
	vm->balloon = opaque;
}

static inline void api_register_snapshot(struct vm *vm, const struct api_snapshot_ops *ops)
{
	vm->snapshot_ops = ops;
}

#endif

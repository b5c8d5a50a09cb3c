/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MEM_DIRTY_LOG_H
#define KILN_MEM_DIRTY_LOG_H

#include <stddef.h>

#include "mem/dirty.h"

struct vm;

/*
 * Dirty-page logging, the same on every engine: start it, read (and
 * optionally clear) the pages the guest's vCPUs wrote since the start or
 * the last clear, stop it. The engine does the tracking through its
 * optional set_dirty_logging and get_dirty_log ops (engine/engine.h);
 * an engine without them gets a clear error naming it.
 *
 * What the bitmap covers: every write a vCPU makes to guest RAM, and on
 * kvm the writes KVM itself makes on the guest's behalf (kvmclock, steal
 * time). Writes Kiln's own devices make through guest_write() or
 * gpa_to_hva() are not in it yet (docs/MEMORY.md).
 *
 * Each call returns 0, or a negative errno with why in err. They may be
 * called from any thread while the vCPUs run.
 */
int vm_dirty_log_start(struct vm *vm, char *err, size_t err_len);
int vm_dirty_log_stop(struct vm *vm, char *err, size_t err_len);

/*
 * Fills out (from dirty_bitmap_alloc() on vm->mem) with the pages written
 * since logging started or was last cleared. With clear, exactly the pages
 * reported are cleared and tracked again, so a write racing with the call
 * is never lost: it shows now or in the next call.
 */
int vm_dirty_log_get(struct vm *vm, struct dirty_bitmap *out, bool clear, char *err,
		     size_t err_len);

#endif

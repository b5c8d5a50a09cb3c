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
 * What the bitmap covers: every write a vCPU makes to guest RAM (on soft:
 * stores, page-table accessed/dirty bits, string instructions, FXSAVE,
 * exception frames, compiled code alike), on kvm the writes KVM itself
 * makes on the guest's behalf (kvmclock, steal time), and the writes Kiln's
 * own devices make (mem/dirty_dma.h): virtio used rings and the buffers of
 * every returned request (all their device-writable bytes, whatever length
 * the device reported), balloon discards, guest_write(). Not covered:
 * what Kiln writes before logging starts (the loader).
 *
 * Each call returns 0, or a negative errno with why in err. They may be
 * called from any thread while the vCPUs run, but not from a vCPU thread
 * (a clearing read waits for every running vCPU to reach an instruction
 * boundary). Reads may overlap (the dirty_log stats read without clearing
 * while a snapshot reads with clear); start and stop are for one owner.
 */
/*
 * Start: every page clean from now on. Starting while logging is already
 * on (kiln run --dirty-log, say) changes nothing: marked pages stay marked,
 * so a second user sees more pages than it wrote, never fewer; a clearing
 * read gives it a clean start.
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

/*
 * The "dirty_log" stats group: on, dirty_pages (marked now, where the
 * engine can read without clearing), clearing_reads, pages_reported.
 */
struct stats_visitor;
void vm_dirty_log_report_stats(struct vm *vm, const struct stats_visitor *v);

#endif

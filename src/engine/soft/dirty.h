/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_DIRTY_H
#define KILN_ENGINE_SOFT_DIRTY_H

#include "engine/soft/soft.h"
#include "mem/dirty.h"

/*
 * Dirty-page logging on the soft engine (engine.h's set_dirty_logging and
 * get_dirty_log): one bit per 4 KiB page of guest RAM, set on the write
 * path.
 *
 * The fast path pays nothing. While logging is on, a fast write TLB entry
 * (tag_w) is only installed for a page already marked dirty, so the first
 * store to a clean page takes the slow path, which marks the page and then
 * re-enables the fast entry. Every other store the CPU makes goes through
 * the slow path's phys_write() or mem_rmw_slow() (string instructions that
 * miss, FXSAVE, exception frames, cross-page and code-page stores, the
 * compiled code's slow paths) or is a page-table accessed/dirty bit
 * (mmu.c): each marks its page after the store.
 *
 * Clearing drops every vCPU's fast write entries, then waits until each
 * vCPU inside cpu_exec() has passed an instruction boundary
 * (SOFT_REQ_DIRTY_SYNC, acknowledged by soft_dirty_ack()), so no store that
 * passed a dropped entry's check is still in flight when the caller looks
 * at the pages it was given.
 */

struct soft_dirty;

/* Marks the pages of [gpa, gpa + len) after the CPU stored there. */
static inline void soft_dirty_mark(struct soft_vm *svm, u64 gpa, u64 len)
{
	if (unlikely(__atomic_load_n(&svm->dirty_on, __ATOMIC_ACQUIRE)))
		dirty_bitmap_set_range_atomic(svm->dirty_map, gpa, len);
}

bool soft_dirty_page_is_clean(struct soft_vm *svm, u64 gpa);

/*
 * Whether a fast write entry for gpa's page must not be installed: logging
 * is on and the page is clean. Checked before installing it and again
 * after publishing it and a full fence (the clearing side clears bits,
 * fences, then drops entries).
 */
static inline bool soft_dirty_blocks_fast_write(struct soft_vm *svm, u64 gpa)
{
	return unlikely(__atomic_load_n(&svm->dirty_on, __ATOMIC_SEQ_CST)) &&
	       soft_dirty_page_is_clean(svm, gpa);
}

/* The vCPU loop saw SOFT_REQ_DIRTY_SYNC: it is at an instruction boundary. */
void soft_dirty_ack(struct soft_cpu *cpu);

/* The engine ops on a soft VM's engine data, and the standalone CPU's. */
int soft_dirty_set_logging(struct soft_vm *svm, bool on);
int soft_dirty_get_log(struct soft_vm *svm, unsigned int region, unsigned long *bitmap,
		       bool clear);
void soft_dirty_free(struct soft_vm *svm);

struct vm;
int soft_set_dirty_logging(struct vm *vm, bool on);
int soft_get_dirty_log(struct vm *vm, unsigned int region, unsigned long *bitmap, bool clear);

#endif

// SPDX-License-Identifier: Apache-2.0
#include "mem/dirty_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine/stats.h"
#include "machine/vm.h"
#include "mem/dirty_dma.h"

static bool engine_can_log(struct vm *vm, char *err, size_t err_len)
{
	if (vm->engine->set_dirty_logging && vm->engine->get_dirty_log)
		return true;
	snprintf(err, err_len, "dirty-page logging is not supported on the %s engine yet",
		 vm->engine->name);
	return false;
}

static int set_logging(struct vm *vm, bool on, char *err, size_t err_len)
{
	int ret;

	if (!engine_can_log(vm, err, err_len))
		return -EOPNOTSUPP;
	ret = vm->engine->set_dirty_logging(vm, on);
	if (ret)
		snprintf(err, err_len, "%s engine: cannot %s dirty-page logging: %s",
			 vm->engine->name, on ? "start" : "stop", strerror(-ret));
	return ret;
}

int vm_dirty_log_start(struct vm *vm, char *err, size_t err_len)
{
	int ret = dirty_dma_start(&vm->mem);

	if (ret) {
		snprintf(err, err_len, "cannot allocate the dirty log of device writes: %s",
			 strerror(-ret));
		return ret;
	}
	ret = set_logging(vm, true, err, err_len);
	if (ret)
		dirty_dma_stop(&vm->mem);
	return ret;
}

int vm_dirty_log_stop(struct vm *vm, char *err, size_t err_len)
{
	int ret = set_logging(vm, false, err, err_len);

	if (!ret)
		dirty_dma_stop(&vm->mem);
	return ret;
}

/* The bitmap must have been shaped on this VM's RAM. */
static bool bitmap_fits(const struct vm *vm, const struct dirty_bitmap *b)
{
	if (b->nr_regions != vm->mem.nr_regions)
		return false;
	for (unsigned int i = 0; i < b->nr_regions; i++)
		if (b->regions[i].gpa != vm->mem.regions[i].gpa ||
		    b->regions[i].nr_pages != vm->mem.regions[i].size >> DIRTY_PAGE_SHIFT)
			return false;
	return true;
}

int vm_dirty_log_get(struct vm *vm, struct dirty_bitmap *out, bool clear, char *err,
		     size_t err_len)
{
	if (!engine_can_log(vm, err, err_len))
		return -EOPNOTSUPP;
	if (!bitmap_fits(vm, out)) {
		snprintf(err, err_len, "the dirty bitmap does not match this VM's RAM regions");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < out->nr_regions; i++) {
		int ret = vm->engine->get_dirty_log(vm, i, out->regions[i].bits, clear);

		if (ret == -ENOENT) {
			snprintf(err, err_len, "dirty-page logging is not started");
			return ret;
		}
		if (ret) {
			snprintf(err, err_len, "%s engine: cannot read the dirty log of RAM at "
				 "%#llx: %s", vm->engine->name,
				 (unsigned long long)out->regions[i].gpa, strerror(-ret));
			return ret;
		}
	}
	/* After the engine's: it overwrites the words, devices' pages are ORed in. */
	dirty_dma_collect(&vm->mem, out, clear);
	if (clear && vm->mem.dma_log) {
		__atomic_add_fetch(&vm->mem.dma_log->clearing_reads, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&vm->mem.dma_log->pages_reported, dirty_bitmap_count(out),
				   __ATOMIC_RELAXED);
	}
	return 0;
}

void vm_dirty_log_report_stats(struct vm *vm, const struct stats_visitor *v)
{
	struct dirty_dma_log *log = vm->mem.dma_log;
	struct dirty_bitmap now;
	char err[256];

	stats_emit(v, "dirty_log", "on", log && __atomic_load_n(&log->on, __ATOMIC_ACQUIRE));
	if (!log)
		return;
	if (__atomic_load_n(&log->on, __ATOMIC_ACQUIRE) && !dirty_bitmap_alloc(&now, &vm->mem)) {
		/* kvm without manual protection cannot read without clearing: no figure. */
		if (!vm_dirty_log_get(vm, &now, false, err, sizeof(err)))
			stats_emit(v, "dirty_log", "dirty_pages", dirty_bitmap_count(&now));
		dirty_bitmap_free(&now);
	}
	stats_emit(v, "dirty_log", "clearing_reads",
		   __atomic_load_n(&log->clearing_reads, __ATOMIC_RELAXED));
	stats_emit(v, "dirty_log", "pages_reported",
		   __atomic_load_n(&log->pages_reported, __ATOMIC_RELAXED));
}

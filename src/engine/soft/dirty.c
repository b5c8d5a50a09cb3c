// SPDX-License-Identifier: Apache-2.0
/* Dirty-page logging on the soft engine (see dirty.h for the design). */
#include "engine/soft/dirty.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/soft/soft_standalone.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

/* Start, stop and read are rare: one lock for every soft VM will do. */
static pthread_mutex_t dirty_lock = PTHREAD_MUTEX_INITIALIZER;

bool soft_dirty_page_is_clean(struct soft_vm *svm, u64 gpa)
{
	const struct dirty_bitmap *b = svm->dirty_map;

	for (unsigned int i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->regions[i];
		u64 page = (gpa - r->gpa) >> DIRTY_PAGE_SHIFT;

		if (gpa >= r->gpa && page < r->nr_pages)
			return !(__atomic_load_n(&r->bits[page / DIRTY_BITS_PER_WORD],
						 __ATOMIC_SEQ_CST) >> (page % DIRTY_BITS_PER_WORD) & 1);
	}
	return false;	/* not RAM: never a fast entry anyway */
}

void soft_dirty_ack(struct soft_cpu *cpu)
{
	__atomic_and_fetch(cpu->reqs, ~SOFT_REQ_DIRTY_SYNC, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&cpu->dirty_acks, 1, __ATOMIC_SEQ_CST);
}

/* The calling thread is c's own vCPU thread (a device on the vCPU's path). */
static bool is_own_thread(const struct soft_cpu *c)
{
	return c->vcpu && c->vcpu->thread_started && pthread_equal(c->vcpu->thread, pthread_self());
}

static void drop_fast_writes(struct soft_cpu *c)
{
	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < TLB_SIZE; i++)
			if (__atomic_load_n(&c->tlbs[t][i].tag_w, __ATOMIC_RELAXED) != TLB_INVALID)
				__atomic_store_n(&c->tlbs[t][i].tag_w, TLB_INVALID, __ATOMIC_RELAXED);
}

/*
 * After bits were cleared (or logging started): no vCPU may keep a fast
 * write entry to a clean page, nor be half-way through a store that
 * passed one. Drops every fast write entry (a page still dirty gets its
 * entry back at its next store, through the slow path), then waits for
 * each vCPU inside cpu_exec() to reach a block boundary, where it looks
 * at its requests. A vCPU outside cpu_exec() enters it after the drop and
 * sees it.
 */
static void drop_and_sync(struct soft_vm *svm)
{
	unsigned int acks[svm->nr_cpus ? svm->nr_cpus : 1];
	bool waiting[svm->nr_cpus ? svm->nr_cpus : 1];

	for (unsigned int i = 0; i < svm->nr_cpus; i++)
		if (svm->cpus[i])
			drop_fast_writes(svm->cpus[i]);
	/* Pairs with the fence in tlb_fill() and with exec_active's store. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < svm->nr_cpus; i++) {
		struct soft_cpu *c = svm->cpus[i];

		waiting[i] = c && !is_own_thread(c) &&
			     __atomic_load_n(&c->exec_active, __ATOMIC_SEQ_CST);
		if (!waiting[i])
			continue;
		acks[i] = __atomic_load_n(&c->dirty_acks, __ATOMIC_SEQ_CST);
		__atomic_or_fetch(c->reqs, SOFT_REQ_DIRTY_SYNC, __ATOMIC_SEQ_CST);
		soft_cpu_wake(c);
	}
	for (unsigned int i = 0; i < svm->nr_cpus; i++) {
		struct soft_cpu *c = svm->cpus[i];

		while (waiting[i] && __atomic_load_n(&c->exec_active, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&c->dirty_acks, __ATOMIC_SEQ_CST) == acks[i])
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
	}
}

int soft_dirty_set_logging(struct soft_vm *svm, bool on)
{
	int ret = 0;

	pthread_mutex_lock(&dirty_lock);
	if (__atomic_load_n(&svm->dirty_on, __ATOMIC_SEQ_CST) == on)
		goto out;
	if (!on) {
		/* Fast entries may come back freely; the bitmap stays for racing markers. */
		__atomic_store_n(&svm->dirty_on, false, __ATOMIC_SEQ_CST);
		goto out;
	}
	if (!svm->dirty_map) {
		struct dirty_bitmap *b = calloc(1, sizeof(*b));

		if (!b || dirty_bitmap_alloc(b, svm->mem)) {
			free(b);
			ret = -ENOMEM;
			goto out;
		}
		svm->dirty_map = b;
	}
	dirty_bitmap_clear(svm->dirty_map);
	__atomic_store_n(&svm->dirty_on, true, __ATOMIC_SEQ_CST);
	/* Entries installed while logging was off may point at clean pages. */
	drop_and_sync(svm);
out:
	pthread_mutex_unlock(&dirty_lock);
	return ret;
}

int soft_dirty_get_log(struct soft_vm *svm, unsigned int region, unsigned long *bitmap,
		       bool clear)
{
	int ret = 0;

	pthread_mutex_lock(&dirty_lock);
	if (!__atomic_load_n(&svm->dirty_on, __ATOMIC_SEQ_CST)) {
		ret = -ENOENT;
		goto out;
	}
	if (region >= svm->dirty_map->nr_regions) {
		ret = -EINVAL;
		goto out;
	}
	memset(bitmap, 0, dirty_words(svm->dirty_map->regions[region].nr_pages) *
			  sizeof(unsigned long));
	dirty_bitmap_collect(svm->dirty_map, region, bitmap, clear);
	if (clear)
		drop_and_sync(svm);
out:
	pthread_mutex_unlock(&dirty_lock);
	return ret;
}

void soft_dirty_free(struct soft_vm *svm)
{
	if (!svm->dirty_map)
		return;
	svm->dirty_on = false;
	dirty_bitmap_free(svm->dirty_map);
	free(svm->dirty_map);
	svm->dirty_map = NULL;
}

int soft_set_dirty_logging(struct vm *vm, bool on)
{
	return soft_dirty_set_logging(vm->engine_data, on);
}

int soft_get_dirty_log(struct vm *vm, unsigned int region, unsigned long *bitmap, bool clear)
{
	return soft_dirty_get_log(vm->engine_data, region, bitmap, clear);
}

int soft_cpu_set_dirty_logging(struct soft_cpu *cpu, bool on)
{
	return soft_dirty_set_logging(cpu->svm, on);
}

int soft_cpu_get_dirty_log(struct soft_cpu *cpu, unsigned int region, unsigned long *bitmap,
			   bool clear)
{
	return soft_dirty_get_log(cpu->svm, region, bitmap, clear);
}

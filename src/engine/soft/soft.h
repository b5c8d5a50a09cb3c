/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SOFT_H
#define KILN_ENGINE_SOFT_SOFT_H

#include <pthread.h>

#include "engine/soft/cpu.h"

/*
 * Engine-wide state of the soft engine: one per VM, or one per standalone
 * CPU (soft_standalone.h). Shared by every vCPU thread.
 */

struct vm;
struct bus;
struct code_cache;
struct jit_arena;
struct dirty_bitmap;

struct soft_vm {
	struct vm *vm;			/* NULL for standalone CPUs */
	struct guest_mem *mem;
	struct bus *pio;		/* NULL: port reads return ~0, writes drop */
	struct bus *mmio;		/* NULL: MMIO reads return ~0, writes drop */
	struct code_cache *cache;
	struct jit_arena *jit;		/* NULL: interpreting only */
	struct soft_cpu **cpus;
	unsigned int nr_cpus;
	void *irqchip;			/* soft_irq_glue.c */
	bool trace;			/* --trace: log every event delivered */
	/* Dirty-page logging (dirty.h): the bitmap stays from the first start. */
	bool dirty_on;			/* atomic */
	struct dirty_bitmap *dirty_map;
};

struct soft_vm *soft_vm_of(const struct soft_cpu *cpu);

/* soft.c: wakes the vCPU's thread if it sleeps in HLT (any thread). */
void soft_cpu_wake(struct soft_cpu *cpu);

/* io.c: port I/O and MMIO from the CPU; count exits on the vCPU. */
u64 soft_pio_read(struct soft_cpu *cpu, u16 port, unsigned int size);
void soft_pio_write(struct soft_cpu *cpu, u16 port, unsigned int size, u64 val);
void soft_mmio_read(struct soft_cpu *cpu, u64 gpa, void *buf, unsigned int size);
void soft_mmio_write(struct soft_cpu *cpu, u64 gpa, const void *buf, unsigned int size);

/* exec.c: runs until something needs the caller. */
enum exec_status {
	EXEC_CONTINUE,		/* ran a slice; look at requests */
	EXEC_HALT,		/* HLT: wait for an interrupt */
	EXEC_TRIPLE_FAULT,
	EXEC_ERROR,		/* the engine cannot continue (reported) */
	EXEC_STOP,		/* standalone stop condition met */
	EXEC_EXCEPTION,		/* stop_on_exception: cpu->exc_* says which */
};
enum exec_status cpu_exec(struct soft_cpu *cpu, u64 max_insns);

/* cpu.c */
struct soft_cpu *soft_cpu_alloc(struct soft_vm *svm, struct vcpu *vcpu);
void soft_cpu_free(struct soft_cpu *cpu);

/*
 * The TSC: the LAPIC's per-vCPU TSC when there is an irqchip, else host
 * CLOCK_MONOTONIC ns x SOFT_TSC_HZ (irqchip/clock.h, the one place the
 * rate is set).
 */
u64 soft_tsc_now(struct soft_cpu *cpu);
u64 host_ns(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_ENGINE_H
#define KILN_ENGINE_ENGINE_H

#include <stdio.h>

#include "engine/cpu_state.h"
#include "lib/types.h"

struct vm;
struct vcpu;
struct stats_visitor;

/*
 * The one interface both execution engines implement. The machine owns
 * memory, buses and devices; an engine only runs vCPUs against them:
 *
 *  - guest RAM is vm->mem; the engine maps it (kvm) or walks it (soft);
 *  - port I/O and MMIO become bus_read()/bus_write() on vm->pio_bus and
 *    vm->mmio_bus, called from the vCPU thread;
 *  - interrupts arrive through set_irq_line() and send_msi(), which the
 *    machine's router (machine/irq.h) calls on behalf of devices;
 *  - between guest instructions or exits, the engine calls
 *    vcpu_check_requests() whenever vcpu->requests is non-zero, and returns
 *    from vcpu_run() when that says the vCPU must stop.
 */

/* Why a vCPU left the guest, counted per vCPU for --stats and the API. */
enum exit_reason {
	EXIT_IO,
	EXIT_MMIO,
	EXIT_HLT,
	EXIT_IRQ_WINDOW,
	EXIT_INTR,		/* kicked by the VMM: signal, pause, stop */
	EXIT_SHUTDOWN,
	EXIT_EXCEPTION,
	EXIT_CPUID,
	EXIT_MSR,
	EXIT_HYPERCALL,
	EXIT_INTERNAL_ERROR,
	EXIT_FAIL_ENTRY,	/* the CPU refused to enter the guest */
	EXIT_SYSTEM_EVENT,	/* a power-off, reset or crash reported by the engine */
	EXIT_OTHER,
	NR_EXIT_REASONS,
};

extern const char *const exit_reason_names[NR_EXIT_REASONS];

/* How vcpu_run() ended. */
enum vcpu_run_result {
	VCPU_RUN_STOPPED,	/* the VM is stopping: poweroff, exit, quit */
	VCPU_RUN_TRIPLE_FAULT,	/* the guest shut the CPU down */
	VCPU_RUN_ERROR,		/* the engine could not go on */
};

struct engine_ops {
	const char *name;

	/* NULL when the engine can run here, otherwise why it cannot. */
	const char *(*unavailable)(void);

	int (*vm_create)(struct vm *vm);
	void (*vm_destroy)(struct vm *vm);

	int (*vcpu_create)(struct vcpu *vcpu);
	void (*vcpu_destroy)(struct vcpu *vcpu);
	int (*vcpu_set_state)(struct vcpu *vcpu, const struct cpu_state *st);
	int (*vcpu_get_state)(struct vcpu *vcpu, struct cpu_state *st);

	/* Runs on the vCPU's own thread until the vCPU must stop. */
	enum vcpu_run_result (*vcpu_run)(struct vcpu *vcpu);
	/* From any thread: make vcpu_run() look at vcpu->requests soon. */
	void (*vcpu_kick)(struct vcpu *vcpu);

	/* Interrupt sink for the machine's router; callable from any thread. */
	void (*set_irq_line)(struct vm *vm, u32 gsi, bool level);
	void (*send_msi)(struct vm *vm, u64 addr, u32 data);

	/* Optional: engine-specific figures (soft TLB, caches), machine/stats.h. */
	void (*report_stats)(struct vm *vm, const struct stats_visitor *v);

	/*
	 * Optional: dirty-page logging behind mem/dirty_log.h; NULL when the
	 * engine cannot log. Both may be called from any thread while vCPUs run
	 * and return 0 or a negative errno.
	 *
	 * set_dirty_logging starts (all pages clean) or stops logging of every
	 * region of vm->mem. get_dirty_log fills bitmap, one bit per 4 KiB page
	 * of vm->mem.regions[region] in mem/dirty.h's layout (KVM's), with the
	 * pages vCPUs wrote since the start or the last clear; with clear, it
	 * then clears exactly the bits it reported. It returns -ENOENT while
	 * logging is off, -EOPNOTSUPP when it cannot read without clearing.
	 * kvm: engine/kvm/kvm_dirty.c; soft: engine/soft/dirty.h. Writes by
	 * Kiln's devices are not the engine's: mem/dirty_dma.h logs them.
	 */
	int (*set_dirty_logging)(struct vm *vm, bool on);
	int (*get_dirty_log)(struct vm *vm, unsigned int region, unsigned long *bitmap,
			     bool clear);

	/*
	 * Optional: registers the engine's snapshot sections (vCPUs, interrupt
	 * controllers) with snap_register() (snapshot/snap_section.h), once
	 * every device exists. NULL: the engine cannot snapshot yet.
	 */
	int (*snapshot_register)(struct vm *vm);
};

extern const struct engine_ops kvm_engine_ops;
extern const struct engine_ops soft_engine_ops;

/*
 * Resolves "kvm", "soft" or "auto". auto picks kvm only when /dev/kvm opens
 * and the host CPU shows vmx or svm, and soft otherwise. Returns NULL and
 * fills why when the named engine cannot run here.
 */
const struct engine_ops *engine_select(const char *name, char *why, size_t why_len);

#endif

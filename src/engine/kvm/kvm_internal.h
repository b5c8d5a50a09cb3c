/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_KVM_KVM_INTERNAL_H
#define KILN_ENGINE_KVM_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>

#include "engine/engine.h"
#include "lib/types.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

/* The kvm engine's private part of struct vm (vm->engine_data). */
struct kvm_vm {
	int sys_fd;			/* /dev/kvm */
	int vm_fd;
	size_t run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	struct kvm_cpuid2 *supported;	/* KVM_GET_SUPPORTED_CPUID, unfiltered */
	/* Dirty-page logging (kvm_dirty.c). */
	bool dirty_logging;		/* every memslot has KVM_MEM_LOG_DIRTY_PAGES */
	bool dirty_manual_protect;	/* KVM_CLEAR_DIRTY_LOG re-arms, not GET */
	struct kvm_msi_routes *msi;	/* kvm_msi.c */
};

/* KVM statistics that count a vCPU's halted time (kvm_stats.c). */
#define KVM_IDLE_STATS 3

/* The kvm engine's private part of struct vcpu (vcpu->engine_data). */
struct kvm_vcpu {
	int fd;
	struct kvm_run *run;		/* the shared kvm_run area, run_size bytes */
	size_t run_size;

	/*
	 * The thread inside vcpu_run(), for kicks. The lock keeps a kick from
	 * signalling a thread that has already left vcpu_run() and may have
	 * been joined.
	 */
	pthread_mutex_t thread_lock;
	pthread_t thread;
	bool in_run;

	/* Time accounting: all of KVM_RUN, and KVM's own halted-time counters. */
	u64 in_kvm_ns;
	u64 last_refresh_ns;
	int stats_fd;			/* KVM_GET_STATS_FD, or -1 */
	unsigned int nr_idle;
	u64 idle_offsets[KVM_IDLE_STATS];
};

/*
 * The signal that knocks a vCPU thread out of KVM_RUN. Its handler does
 * nothing: the point is the -EINTR.
 */
#define KVM_KICK_SIGNAL (SIGRTMIN + 0)

/* kvm.c: the capabilities every part relies on. */
const char *kvm_check_host(int sys_fd);

/* kvm_vm.c */
int kvm_vm_create(struct vm *vm);
void kvm_vm_destroy(struct vm *vm);

/* kvm_irq.c: GSI routing and the interrupt lines. */
int kvm_irq_setup_routing(struct kvm_vm *kvm);
void kvm_set_irq_line(struct vm *vm, u32 gsi, bool level);

/* kvm_msi.c: MSIs through routes and irqfds, else KVM_SIGNAL_MSI. */
int kvm_msi_init(struct kvm_vm *kvm, const struct kvm_irq_routing *base);
void kvm_msi_destroy(struct kvm_vm *kvm);
void kvm_send_msi(struct vm *vm, u64 addr, u32 data);
void kvm_msi_report_stats(struct vm *vm, const struct stats_visitor *v);

/* kvm_vcpu.c */
int kvm_vcpu_create(struct vcpu *vcpu);
void kvm_vcpu_destroy(struct vcpu *vcpu);
void kvm_vcpu_kick(struct vcpu *vcpu);
/* Called by the vCPU's own thread on entering and leaving vcpu_run(). */
int kvm_vcpu_enter_thread(struct kvm_vcpu *kv);
void kvm_vcpu_leave_thread(struct kvm_vcpu *kv);

/* kvm_cpuid.c: the per-vCPU CPUID table, filtered from what KVM supports. */
int kvm_cpuid_fetch_supported(struct kvm_vm *kvm);
int kvm_cpuid_setup(struct vcpu *vcpu);

/* kvm_regs.c: cpu_state <-> KVM, and the power-on state a BIOS leaves. */
int kvm_vcpu_set_state(struct vcpu *vcpu, const struct cpu_state *st);
int kvm_vcpu_get_state(struct vcpu *vcpu, struct cpu_state *st);
int kvm_vcpu_init_boot_state(struct vcpu *vcpu);

/* kvm_stats.c: vcpu->stats.run_ns and idle_ns from KVM's counters. */
void kvm_vcpu_stats_open(struct kvm_vcpu *kv);
void kvm_vcpu_stats_close(struct kvm_vcpu *kv);
void kvm_vcpu_stats_refresh(struct vcpu *vcpu, struct kvm_vcpu *kv);

/* kvm_dirty.c: the engine's dirty-log ops (engine/engine.h). */
int kvm_set_dirty_logging(struct vm *vm, bool on);
int kvm_get_dirty_log(struct vm *vm, unsigned int region, unsigned long *bitmap, bool clear);

/* kvm_run.c */
enum vcpu_run_result kvm_vcpu_run(struct vcpu *vcpu);

static inline struct kvm_vm *kvm_vm_of(const struct vm *vm)
{
	return vm->engine_data;
}

static inline struct kvm_vcpu *kvm_vcpu_of(const struct vcpu *vcpu)
{
	return vcpu->engine_data;
}

#endif

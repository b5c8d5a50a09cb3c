/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_VCPU_H
#define KILN_MACHINE_VCPU_H

#include <pthread.h>

#include "engine/engine.h"
#include "lib/types.h"

struct vm;

/* Bits of vcpu->requests, set by other threads, served by the vCPU's own. */
#define VCPU_REQ_STOP	(1U << 0)
#define VCPU_REQ_PAUSE	(1U << 1)
/* Engines may use bits from here up for their own requests. */
#define VCPU_REQ_ENGINE_SHIFT 8

struct vcpu_stats {
	u64 exits[NR_EXIT_REASONS];
	u64 run_ns;		/* time in the guest */
	u64 idle_ns;		/* time halted, waiting for an interrupt */
};

struct vcpu {
	struct vm *vm;
	unsigned int index;	/* also the APIC ID */
	pthread_t thread;
	bool thread_started;
	int host_cpu;		/* pinned host CPU, or -1 */
	unsigned int requests;	/* VCPU_REQ_*, atomic */
	void *engine_data;
	struct vcpu_stats stats;
};

/*
 * Called by an engine when vcpu->requests is non-zero. Parks the thread
 * while the VM is paused. Returns true when the vCPU must leave vcpu_run().
 */
bool vcpu_check_requests(struct vcpu *vcpu);

static inline bool vcpu_has_requests(const struct vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->requests, __ATOMIC_ACQUIRE) != 0;
}

static inline void vcpu_count_exit(struct vcpu *vcpu, enum exit_reason r)
{
	vcpu->stats.exits[r]++;
}

/* Sets a request bit and kicks the vCPU out of the guest. */
void vcpu_request(struct vcpu *vcpu, unsigned int req);

/* Starts the vCPU's thread, named vcpuN and pinned as configured. */
int vcpu_start(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* Register dump of one vCPU to stderr, symbolised when a System.map is known. */
void vcpu_dump(struct vcpu *vcpu, const char *why);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_KVMCLOCK_H
#define KILN_ENGINE_SOFT_IRQCHIP_KVMCLOCK_H

#include <stddef.h>

#include "lib/types.h"

struct guest_mem;

/*
 * kvmclock, the paravirtual clock Linux finds through the KVM CPUID leaves:
 * the guest hands each vCPU's MSR a guest-physical address and reads
 * system time as system_time + scale(rdtsc() - tsc_timestamp). With it,
 * Linux takes the TSC frequency from us instead of calibrating it against
 * the PIT, which would burn emulated instructions.
 *
 * The layouts below are the guest ABI (Linux's pvclock-abi.h), and are
 * only ever written through guest_write(): a bogus address writes nothing.
 */

#define MSR_KVM_WALL_CLOCK		0x00000011
#define MSR_KVM_SYSTEM_TIME		0x00000012
#define MSR_KVM_WALL_CLOCK_NEW		0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW		0x4b564d01

#define KVM_CPUID_SIGNATURE		0x40000000
#define KVM_CPUID_FEATURES		0x40000001
#define KVM_FEATURE_CLOCKSOURCE2	3
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24

#define PVCLOCK_TSC_STABLE_BIT		(1U << 0)

struct pvclock_vcpu_time_info {
	u32 version;		/* odd while an update is in progress */
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;	/* ns at tsc_timestamp */
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
};

struct pvclock_wall_clock {
	u32 version;
	u32 sec;		/* wall-clock time at system_time 0 */
	u32 nsec;
};

/* Natural alignment gives the ABI layout: no packing needed. */
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock ABI");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) == 24 &&
	       offsetof(struct pvclock_vcpu_time_info, flags) == 29, "pvclock ABI");

/* One vCPU's system-time registration. */
struct kvmclock_vcpu {
	u64 msr;		/* last value written, read back by rdmsr */
	u64 gpa;
	bool enabled;
	u32 version;		/* last version published, always even */
};

/*
 * mul and shift that turn TSC ticks into ns the way the guest does:
 * ns = ((shift < 0 ? ticks >> -shift : ticks << shift) * mul) >> 32.
 */
void pvclock_scale(u64 tsc_hz, u32 *mul, s8 *shift);

/* The guest's conversion, for tests and for checking the scale. */
u64 pvclock_ticks_to_ns(u64 ticks, u32 mul, s8 shift);

/*
 * Handles a write of the system-time MSR (either number): bit 0 enables,
 * the rest is the structure's address. An address outside guest RAM
 * leaves the clock disabled. Publishes at once when enabled.
 */
void kvmclock_set_system_time(struct kvmclock_vcpu *kc, const struct guest_mem *mem,
			      u64 msr_value, u64 tsc, u64 guest_ns);

/*
 * Writes the time structure for TSC value tsc taken at guest time guest_ns,
 * with the odd/even version protocol. Does nothing when disabled.
 */
void kvmclock_publish(struct kvmclock_vcpu *kc, const struct guest_mem *mem,
		      u64 tsc, u64 guest_ns);

/*
 * Writes the wall clock (time of day at guest time 0) at gpa. Returns -1
 * and writes nothing when gpa is not guest RAM.
 */
int kvmclock_write_wall_clock(const struct guest_mem *mem, u64 gpa,
			      u64 wall_ns_at_zero);

/*
 * The KVM CPUID leaves 0x40000000..0x400000ff, filled into regs (eax, ebx,
 * ecx, edx). Returns false for leaves outside that range.
 */
bool kvmclock_cpuid(u32 leaf, u32 regs[4]);

#endif

// SPDX-License-Identifier: Apache-2.0
#include "engine/soft/irqchip/kvmclock.h"

#include <string.h>

#include "engine/soft/irqchip/clock.h"
#include "lib/log.h"
#include "mem/guest_mem.h"

/* The mantissa (1e9 << (32 - shift)) / hz, which must land in [2^31, 2^32). */
static unsigned __int128 pvclock_mantissa(u64 tsc_hz, int shift)
{
	unsigned __int128 num = NSEC_PER_SEC;

	if (32 - shift >= 0)
		num <<= 32 - shift;
	else
		num >>= shift - 32;
	return num / tsc_hz;
}

void pvclock_scale(u64 tsc_hz, u32 *mul, s8 *shift)
{
	const unsigned __int128 lo = 1ULL << 31, hi = 1ULL << 32;
	int s = 0;
	unsigned __int128 m;

	if (!tsc_hz)
		tsc_hz = 1;
	m = pvclock_mantissa(tsc_hz, s);
	/* 1e9 < 2^30 and hz < 2^64 bound s to [-34, 31]: the loops end. */
	while (m >= hi) {
		s++;
		m = pvclock_mantissa(tsc_hz, s);
	}
	while (m < lo) {
		s--;
		m = pvclock_mantissa(tsc_hz, s);
	}
	*mul = (u32)m;
	*shift = (s8)s;
}

u64 pvclock_ticks_to_ns(u64 ticks, u32 mul, s8 shift)
{
	if (shift < 0)
		ticks >>= -shift;
	else
		ticks <<= shift;
	return (u64)(((unsigned __int128)ticks * mul) >> 32);
}

/* Writes a u32 version word; the fences keep the body between the two. */
static int put_version(const struct guest_mem *mem, u64 gpa, u32 version)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (guest_write(mem, gpa, &version, sizeof(version)))
		return -1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

void kvmclock_publish(struct kvmclock_vcpu *kc, const struct guest_mem *mem,
		      u64 tsc, u64 guest_ns)
{
	struct pvclock_vcpu_time_info ti;

	if (!kc->enabled)
		return;
	memset(&ti, 0, sizeof(ti));
	pvclock_scale(SOFT_TSC_HZ, &ti.tsc_to_system_mul, &ti.tsc_shift);
	ti.tsc_timestamp = tsc;
	ti.system_time = guest_ns;
	ti.flags = PVCLOCK_TSC_STABLE_BIT;
	ti.version = kc->version + 2;

	if (put_version(mem, kc->gpa, kc->version + 1))
		return;
	/* Everything after the version word, then the even version. */
	if (guest_write(mem, kc->gpa + sizeof(ti.version),
			(u8 *)&ti + sizeof(ti.version), sizeof(ti) - sizeof(ti.version)))
		return;
	put_version(mem, kc->gpa, ti.version);
	kc->version = ti.version;
}

void kvmclock_set_system_time(struct kvmclock_vcpu *kc, const struct guest_mem *mem,
			      u64 msr_value, u64 tsc, u64 guest_ns)
{
	kc->msr = msr_value;
	kc->enabled = false;
	if (!(msr_value & 1))
		return;
	kc->gpa = msr_value & ~1ULL;
	if (!gpa_range_is_ram(mem, kc->gpa, sizeof(struct pvclock_vcpu_time_info))) {
		pr_warn_once("kvmclock: system time at %#llx is not guest RAM: disabled",
			     (unsigned long long)kc->gpa);
		return;
	}
	kc->enabled = true;
	kvmclock_publish(kc, mem, tsc, guest_ns);
}

int kvmclock_write_wall_clock(const struct guest_mem *mem, u64 gpa,
			      u64 wall_ns_at_zero)
{
	struct pvclock_wall_clock wc;
	u32 version;

	/* Check the whole range first, so a bad address writes nothing. */
	if (!gpa_range_is_ram(mem, gpa, sizeof(wc))) {
		pr_warn_once("kvmclock: wall clock at %#llx is not guest RAM",
			     (unsigned long long)gpa);
		return -1;
	}
	/* Continue from the guest's version, so a reader never sees it repeat. */
	guest_read(mem, gpa, &version, sizeof(version));
	version = (version | 1) + 1;
	put_version(mem, gpa, version - 1);
	wc.version = version;
	wc.sec = (u32)(wall_ns_at_zero / NSEC_PER_SEC);
	wc.nsec = (u32)(wall_ns_at_zero % NSEC_PER_SEC);
	guest_write(mem, gpa + sizeof(wc.version), (u8 *)&wc + sizeof(wc.version),
		    sizeof(wc) - sizeof(wc.version));
	put_version(mem, gpa, version);
	return 0;
}

bool kvmclock_cpuid(u32 leaf, u32 regs[4])
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";

	if (leaf < KVM_CPUID_SIGNATURE || leaf > KVM_CPUID_SIGNATURE + 0xff)
		return false;
	memset(regs, 0, 4 * sizeof(regs[0]));
	switch (leaf) {
	case KVM_CPUID_SIGNATURE:
		regs[0] = KVM_CPUID_FEATURES;
		memcpy(&regs[1], sig, sizeof(sig));
		break;
	case KVM_CPUID_FEATURES:
		regs[0] = (1U << KVM_FEATURE_CLOCKSOURCE2) |
			  (1U << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
		break;
	}
	return true;
}

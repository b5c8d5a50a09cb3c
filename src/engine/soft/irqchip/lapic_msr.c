// SPDX-License-Identifier: Apache-2.0
/* The MSRs the chip owns: IA32_APIC_BASE, the TSC and its deadline, kvmclock. */
#include "engine/soft/irqchip/lapic.h"

#include <time.h>

#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"

/* BSP (read-only), enable and the base address; no x2APIC. */
#define APIC_BASE_WRITABLE (APIC_BASE_ENABLE | APIC_BASE_ADDR_MASK)

static enum lapic_msr_result write_apic_base(struct lapic *l, u64 value)
{
	u64 old = lapic_load(&l->apic_base);

	if (value & ~(APIC_BASE_WRITABLE | APIC_BASE_BSP)) {
		pr_warn_once("lapic: IA32_APIC_BASE write %#llx sets reserved bits or x2APIC",
			     (unsigned long long)value);
		return LAPIC_MSR_GP;
	}
	lapic_store(&l->apic_base, (value & APIC_BASE_WRITABLE) | (old & APIC_BASE_BSP));
	/*
	 * Re-enabling after a hardware disable starts from the power-up state
	 * (SDM 10.4.3), APIC ID included, which an INIT keeps.
	 */
	if (!(old & APIC_BASE_ENABLE) && (value & APIC_BASE_ENABLE)) {
		lapic_init_reset(l);
		lapic_store(&l->id, l->index << 24);
	}
	return LAPIC_MSR_OK;
}

static u64 host_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

static void write_wall_clock(struct lapic *l, u64 gpa)
{
	const struct soft_clock *c = &l->chip->clock;
	u64 guest_ns = soft_clock_guest_ns(c, soft_clock_now(c));
	u64 wall = host_realtime_ns();

	l->wall_clock_msr = gpa;
	kvmclock_write_wall_clock(l->chip->mem, gpa, wall > guest_ns ? wall - guest_ns : 0);
}

/* Publishes the system time for "now", with this vCPU's TSC. */
static void write_system_time(struct lapic *l, u64 value)
{
	const struct soft_clock *c = &l->chip->clock;
	u64 now = soft_clock_now(c);

	kvmclock_set_system_time(&l->kvmclock, l->chip->mem, value,
				 soft_clock_tsc_at(c, now) + l->tsc_offset,
				 soft_clock_guest_ns(c, now));
}

static void write_tsc(struct lapic *l, u64 value)
{
	const struct soft_clock *c = &l->chip->clock;
	u64 now = soft_clock_now(c);

	l->tsc_offset = value - soft_clock_tsc_at(c, now);
	kvmclock_publish(&l->kvmclock, l->chip->mem, value, soft_clock_guest_ns(c, now));
}

enum lapic_msr_result lapic_rdmsr(struct lapic *l, u32 msr, u64 *value)
{
	switch (msr) {
	case MSR_IA32_APIC_BASE:
		*value = lapic_load(&l->apic_base);
		return LAPIC_MSR_OK;
	case MSR_IA32_TSC:
		*value = lapic_rdtsc(l);
		return LAPIC_MSR_OK;
	case MSR_IA32_TSC_DEADLINE:
		*value = lapic_timer_read_tsc_deadline(l);
		return LAPIC_MSR_OK;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		*value = l->kvmclock.msr;
		return LAPIC_MSR_OK;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		*value = l->wall_clock_msr;
		return LAPIC_MSR_OK;
	default:
		return LAPIC_MSR_NOT_MINE;
	}
}

enum lapic_msr_result lapic_wrmsr(struct lapic *l, u32 msr, u64 value)
{
	switch (msr) {
	case MSR_IA32_APIC_BASE:
		return write_apic_base(l, value);
	case MSR_IA32_TSC:
		write_tsc(l, value);
		return LAPIC_MSR_OK;
	case MSR_IA32_TSC_DEADLINE:
		lapic_timer_write_tsc_deadline(l, value);
		return LAPIC_MSR_OK;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		write_system_time(l, value);
		return LAPIC_MSR_OK;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		write_wall_clock(l, value);
		return LAPIC_MSR_OK;
	default:
		return LAPIC_MSR_NOT_MINE;
	}
}

// SPDX-License-Identifier: Apache-2.0
/* The MSRs the chip owns: IA32_APIC_BASE, the TSC and its deadline, kvmclock. */
#include "engine/soft/irqchip/lapic.h"

#include <time.h>

#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"

/* BSP (read-only), enable, x2APIC and the base address. */
#define APIC_BASE_WRITABLE (APIC_BASE_ENABLE | APIC_BASE_X2APIC | APIC_BASE_ADDR_MASK)
#define APIC_BASE_MODE (APIC_BASE_ENABLE | APIC_BASE_X2APIC)

static enum lapic_msr_result write_apic_base(struct lapic *l, u64 value)
{
	u64 old = lapic_load(&l->apic_base);
	u64 old_mode = old & APIC_BASE_MODE, mode = value & APIC_BASE_MODE;

	if (value & ~(APIC_BASE_WRITABLE | APIC_BASE_BSP)) {
		pr_warn_once("lapic: IA32_APIC_BASE write %#llx sets reserved bits",
			     (unsigned long long)value);
		return LAPIC_MSR_GP;
	}
	/*
	 * SDM 10.12.5: x2APIC without enable is invalid, and x2APIC mode is
	 * left only to disabled, and entered only from xAPIC mode.
	 */
	if (mode == APIC_BASE_X2APIC ||
	    (old_mode == APIC_BASE_MODE && mode == APIC_BASE_ENABLE) ||
	    (old_mode == 0 && mode == APIC_BASE_MODE))
		return LAPIC_MSR_GP;
	lapic_store(&l->apic_base, (value & APIC_BASE_WRITABLE) | (old & APIC_BASE_BSP));
	/* Into x2APIC mode: the ID becomes the x2APIC ID, the LDR follows it. */
	if (old_mode == APIC_BASE_ENABLE && mode == APIC_BASE_MODE) {
		lapic_store(&l->id, l->index);
		lapic_store(&l->ldr, lapic_x2apic_ldr(l->index));
	}
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
	if (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST) {
		if (!lapic_x2apic(l) || !lapic_x2apic_read(l, (msr - X2APIC_MSR_BASE) << 4, value))
			return LAPIC_MSR_GP;
		return LAPIC_MSR_OK;
	}
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
	if (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST) {
		if (!lapic_x2apic(l) || !lapic_x2apic_write(l, (msr - X2APIC_MSR_BASE) << 4, value))
			return LAPIC_MSR_GP;
		return LAPIC_MSR_OK;
	}
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

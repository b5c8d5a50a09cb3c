// SPDX-License-Identifier: Apache-2.0
/* kvmclock, the TSC and the CPUID leaves the soft irqchip advertises. */
#include "irqchip_fixture.h"

#include <time.h>

#include "engine/soft/irqchip/clock.h"
#include "engine/soft/irqchip/kvmclock.h"

#define PVTI_GPA 0x3000

static struct pvclock_vcpu_time_info read_pvti(struct fixture *f, u64 gpa)
{
	struct pvclock_vcpu_time_info ti;

	memcpy(&ti, f->ram + gpa, sizeof(ti));
	return ti;
}

/* The guest's read: system_time + scale(tsc - tsc_timestamp). */
static u64 guest_clock(const struct pvclock_vcpu_time_info *ti, u64 tsc)
{
	return ti->system_time +
	       pvclock_ticks_to_ns(tsc - ti->tsc_timestamp, ti->tsc_to_system_mul,
				   ti->tsc_shift);
}

static void scale_within_1ppm(void **state)
{
	static const u64 freqs[] = {
		SOFT_TSC_HZ, 1000000000ULL, 2893437000ULL, 3100000000ULL,
		1193182ULL, 100000000ULL, 999999999ULL, 25000000000ULL,
	};

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(freqs); i++) {
		u64 hz = freqs[i];
		u32 mul;
		s8 shift;

		pvclock_scale(hz, &mul, &shift);
		assert_true(mul >= 1U << 31);
		/* One second and one hour of ticks. */
		for (u64 secs = 1; secs <= 3600; secs *= 3600) {
			u64 want = secs * NSEC_PER_SEC;
			u64 got = pvclock_ticks_to_ns(hz * secs, mul, shift);
			u64 err = got > want ? got - want : want - got;

			assert_true(err <= want / 1000000);
		}
	}
}

static void system_time_msr(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[1];
	struct pvclock_vcpu_time_info ti;
	u64 v, tsc;

	f->now += 123456789;		/* guest time 0.123456789 s */
	assert_int_equal(lapic_wrmsr(l, MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1), LAPIC_MSR_OK);
	assert_int_equal(lapic_rdmsr(l, MSR_KVM_SYSTEM_TIME_NEW, &v), LAPIC_MSR_OK);
	assert_int_equal(v, PVTI_GPA | 1);
	ti = read_pvti(f, PVTI_GPA);
	assert_int_equal(ti.version & 1, 0);
	assert_true(ti.version != 0);
	assert_int_equal(ti.flags, PVCLOCK_TSC_STABLE_BIT);
	assert_int_equal(ti.system_time, 123456789);
	assert_int_equal(ti.tsc_timestamp, lapic_rdtsc(l));
	/* 2 GHz: exactly half a ns per tick. */
	assert_int_equal(pvclock_ticks_to_ns(2000000000ULL, ti.tsc_to_system_mul, ti.tsc_shift),
			 NSEC_PER_SEC);

	/* Later, the guest's clock agrees with the host's, to the ns. */
	f->now += 7 * NSEC_PER_SEC + 5;
	tsc = lapic_rdtsc(l);
	assert_int_equal(guest_clock(&ti, tsc), 123456789 + 7 * NSEC_PER_SEC + 5);

	/* Re-registering publishes again with a newer, even version. */
	u32 old = ti.version;
	lapic_wrmsr(l, MSR_KVM_SYSTEM_TIME, PVTI_GPA | 1);
	ti = read_pvti(f, PVTI_GPA);
	assert_true(ti.version > old);
	assert_int_equal(ti.version & 1, 0);
	assert_int_equal(guest_clock(&ti, lapic_rdtsc(l)), 123456789 + 7 * NSEC_PER_SEC + 5);

	/* A TSC write keeps the clock right: the structure follows it. */
	lapic_wrmsr(l, MSR_IA32_TSC, 42);
	ti = read_pvti(f, PVTI_GPA);
	assert_int_equal(ti.tsc_timestamp, 42);
	f->now += 1000;
	assert_int_equal(guest_clock(&ti, lapic_rdtsc(l)), 123456789 + 7 * NSEC_PER_SEC + 1005);

	/* Bit 0 clear disables: nothing more is written. */
	lapic_wrmsr(l, MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA);
	memset(f->ram + PVTI_GPA, 0, 32);
	lapic_wrmsr(l, MSR_IA32_TSC, 1);
	ti = read_pvti(f, PVTI_GPA);
	assert_int_equal(ti.version, 0);
}

/* True when guest RAM is all zero. */
static bool ram_untouched(struct fixture *f)
{
	for (u64 i = 0; i < FIX_RAM; i++)
		if (f->ram[i])
			return false;
	return true;
}

static void bogus_addresses_write_nothing(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = f->l[0];
	static const u64 bad[] = {
		FIX_RAM,			/* just past RAM */
		FIX_RAM - 8,			/* straddles the end */
		0xfee00000,			/* the LAPIC page */
		0xfffffffffffffff0ULL,		/* wraps around */
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(lapic_wrmsr(l, MSR_KVM_SYSTEM_TIME_NEW, bad[i] | 1),
				 LAPIC_MSR_OK);
		lapic_wrmsr(l, MSR_IA32_TSC, 5);	/* would republish */
		assert_int_equal(lapic_wrmsr(l, MSR_KVM_WALL_CLOCK_NEW, bad[i]), LAPIC_MSR_OK);
		assert_true(ram_untouched(f));
	}
}

static void wall_clock_msr(void **state)
{
	struct fixture *f = *state;
	struct pvclock_wall_clock wc;
	struct timespec ts;
	u64 boot;

	f->now += 3 * NSEC_PER_SEC;
	clock_gettime(CLOCK_REALTIME, &ts);
	assert_int_equal(lapic_wrmsr(f->l[0], MSR_KVM_WALL_CLOCK_NEW, 0x4000), LAPIC_MSR_OK);
	memcpy(&wc, f->ram + 0x4000, sizeof(wc));
	assert_int_equal(wc.version & 1, 0);
	assert_true(wc.version != 0);
	assert_true(wc.nsec < NSEC_PER_SEC);
	/* Time of day at guest time 0: three seconds before now. */
	boot = (u64)wc.sec * NSEC_PER_SEC + wc.nsec;
	u64 expect = (u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec - 3 * NSEC_PER_SEC;
	assert_true(boot > expect - NSEC_PER_SEC && boot < expect + NSEC_PER_SEC);

	/* The version keeps going up from whatever the guest left there. */
	u32 old = wc.version;
	lapic_wrmsr(f->l[0], MSR_KVM_WALL_CLOCK, 0x4000);
	memcpy(&wc, f->ram + 0x4000, sizeof(wc));
	assert_true(wc.version > old);
	assert_int_equal(wc.version & 1, 0);
	u64 v;
	lapic_rdmsr(f->l[0], MSR_KVM_WALL_CLOCK, &v);
	assert_int_equal(v, 0x4000);
}

static void tsc_counts_at_2ghz_from_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lapic_rdtsc(f->l[0]), 0);
	f->now += NSEC_PER_SEC;
	assert_int_equal(lapic_rdtsc(f->l[0]), SOFT_TSC_HZ);
	assert_int_equal(lapic_rdtsc(f->l[3]), SOFT_TSC_HZ);
}

static void host_clock_is_monotonic(void **state)
{
	struct soft_clock c;
	u64 a, b;

	(void)state;
	soft_clock_init(&c, NULL, NULL);
	a = soft_clock_now(&c);
	b = soft_clock_now(&c);
	assert_true(b >= a);
	assert_true(a >= c.start_ns);
	assert_true(soft_clock_tsc_at(&c, c.start_ns + 10) == 10 * SOFT_TSC_PER_NS);
}

static void cpuid_leaves(void **state)
{
	u32 r[4];

	(void)state;
	memset(r, 0xaa, sizeof(r));
	soft_irqchip_cpuid(0x40000000, 0, 0, r);
	assert_int_equal(r[0], 0x40000001);
	assert_memory_equal(&r[1], "KVMKVMKVM\0\0\0", 12);

	soft_irqchip_cpuid(0x40000001, 0, 0, r);
	assert_int_equal(r[0], (1U << 3) | (1U << 24));
	assert_int_equal(r[1] | r[2] | r[3], 0);

	/* Other hypervisor leaves are empty, so Linux's scan stops at KVM. */
	memset(r, 0xaa, sizeof(r));
	soft_irqchip_cpuid(0x40000100, 0, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);

	/* Leaf 1: APIC, x2APIC, TSC-deadline, hypervisor, APIC ID. */
	r[0] = 0x000906ea;
	r[1] = 0xff000800;
	r[2] = 0x7ffafbff;
	r[3] = 0;
	soft_irqchip_cpuid(1, 0, 3, r);
	assert_int_equal(r[1], 0x03000800);
	assert_true(r[2] & (1U << 21));
	assert_true(r[2] & (1U << 24));
	assert_true(r[2] & (1U << 31));
	assert_true(r[3] & (1U << 9));
	assert_int_equal(r[0], 0x000906ea);

	/* Leaf 6: the APIC timer keeps running in idle (ARAT). */
	r[0] = 0;
	soft_irqchip_cpuid(6, 0, 0, r);
	assert_true(r[0] & (1U << 2));
	/* Leaf 0xb: the x2APIC ID in EDX, on every level. */
	memset(r, 0, sizeof(r));
	soft_irqchip_cpuid(0xb, 1, 3, r);
	assert_int_equal(r[3], 3);
	/* Anything else is left alone. */
	r[0] = 0x12345678;
	soft_irqchip_cpuid(7, 0, 0, r);
	assert_int_equal(r[0], 0x12345678);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scale_within_1ppm),
		T(system_time_msr),
		T(bogus_addresses_write_nothing),
		T(wall_clock_msr),
		T(tsc_counts_at_2ghz_from_zero),
		cmocka_unit_test(host_clock_is_monotonic),
		cmocka_unit_test(cpuid_leaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

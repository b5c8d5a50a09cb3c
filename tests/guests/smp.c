// SPDX-License-Identifier: Apache-2.0
/*
 * SMP bring-up: the BSP counts the vCPUs in the MADT (and checks the count
 * against smp.cpus= on the command line), sends INIT-SIPI-SIPI to every AP
 * through the LAPIC ICR, and each AP, once in long mode, records the APIC
 * ID its LAPIC reports. Every ID must check in exactly once, and the
 * CPUID-reported IDs must agree with the LAPIC's.
 */
#include "guest.h"
#include "smp.h"

#define SVR_ENABLE (1U << 8)
#define SPURIOUS_VECTOR 0xff
#define AP_WAIT_CYCLES (1ULL << 33)	/* a few seconds of TSC */

extern const u8 trampoline_start[], trampoline_end[];
extern const u8 tr_cr3[], tr_cr4[], tr_efer[], tr_entry[], tr_stacks[];

extern u8 ap_stacks[];		/* smp_trampoline.S: not cleared, not in the file */

/* Written by the APs. */
static u32 checked_in;
static u32 seen[MADT_MAX_CPUS];
static u32 cpuid_mismatch;		/* an APIC ID + 1 whose CPUID disagrees */

static void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* The APIC ID CPUID leaf 1 reports must be the LAPIC's, and leaf 0xB's too. */
static bool cpuid_ids_match(u32 id)
{
	u32 a, b, c, d, max;

	cpuid(0, 0, &max, &b, &c, &d);
	cpuid(1, 0, &a, &b, &c, &d);
	if (b >> 24 != id)
		return false;
	if (max >= 0xb) {
		cpuid(0xb, 0, &a, &b, &c, &d);
		if (d != id)
			return false;
	}
	return true;
}

void ap_main(u32 slot);
void ap_main(u32 slot)
{
	u32 id = lapic_id();

	(void)slot;
	if (!cpuid_ids_match(id))
		__atomic_store_n(&cpuid_mismatch, id + 1, __ATOMIC_RELAXED);
	if (id < MADT_MAX_CPUS)
		__atomic_fetch_add(&seen[id], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&checked_in, 1, __ATOMIC_RELEASE);
}

static u64 read_cr(int n)
{
	u64 v = 0;

	if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else if (n == 4)
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static u64 read_efer(void)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	return (u64)hi << 32 | lo;
}

static void patch_u64(const u8 *sym, u64 v)
{
	*(u64 *)(TRAMPOLINE_BASE + (sym - trampoline_start)) = v;
}

static void install_trampoline(void)
{
	u64 size = trampoline_end - trampoline_start;
	u64 cr3 = read_cr(3);

	CHECK(e820_is_ram(TRAMPOLINE_BASE, size), "the trampoline page 0x%x is not RAM in e820",
	      TRAMPOLINE_BASE);
	CHECK(cr3 < 4 * GiB, "CR3 0x%lx is out of a 32-bit trampoline's reach", cr3);
	memcpy((void *)TRAMPOLINE_BASE, trampoline_start, size);
	patch_u64(tr_cr3, cr3);
	patch_u64(tr_cr4, read_cr(4));
	patch_u64(tr_efer, read_efer() & ~(1ULL << 10));	/* LMA is the CPU's to set */
	patch_u64(tr_entry, (u64)ap_main);
	patch_u64(tr_stacks, (u64)ap_stacks);
}

static void start_ap(u32 id)
{
	CHECK(lapic_send_ipi(id, ICR_INIT | ICR_LEVEL_ASSERT), "INIT to APIC %u stays busy", id);
	for (int i = 0; i < 2; i++)
		CHECK(lapic_send_ipi(id, ICR_STARTUP | TRAMPOLINE_BASE >> 12),
		      "SIPI to APIC %u stays busy", id);
}

void guest_main(void)
{
	unsigned int expected = cmdline_need_u64("smp.cpus");
	struct madt_info m;
	u32 bsp = lapic_id(), want;
	u64 start;

	madt_parse(&m);
	madt_check_cpus(&m, expected);
	CHECK(m.nr_cpus - 1 <= MAX_APS, "%u APs; this guest handles %u", m.nr_cpus - 1, MAX_APS);
	CHECK(cpuid_ids_match(bsp), "BSP: CPUID and LAPIC disagree on APIC ID %u", bsp);
	install_trampoline();
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);

	for (unsigned int i = 0; i < m.nr_cpus; i++)
		if (m.apic_ids[i] != bsp)
			start_ap(m.apic_ids[i]);

	want = m.nr_cpus - 1;
	start = rdtsc();
	while (__atomic_load_n(&checked_in, __ATOMIC_ACQUIRE) < want &&
	       rdtsc() - start < AP_WAIT_CYCLES)
		cpu_relax();
	CHECK(checked_in == want, "%u of %u APs checked in", checked_in, want);

	for (unsigned int i = 0; i < m.nr_cpus; i++) {
		u32 id = m.apic_ids[i];

		CHECK(seen[id] == (id == bsp ? 0 : 1), "APIC ID %u checked in %u times", id, seen[id]);
	}
	CHECK(!cpuid_mismatch, "AP with APIC ID %u: CPUID disagrees with its LAPIC",
	      cpuid_mismatch - 1);
	gprintf("%u CPUs up: BSP %u and %u APs\n", m.nr_cpus, bsp, want);
}

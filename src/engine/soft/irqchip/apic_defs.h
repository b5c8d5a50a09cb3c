/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_APIC_DEFS_H
#define KILN_ENGINE_SOFT_IRQCHIP_APIC_DEFS_H

/*
 * Encodings the LAPIC, the IOAPIC and MSI share: delivery modes (ICR,
 * redirection entries, LVT entries and MSI data all use bits 10:8), and
 * the xAPIC register offsets.
 */

#define APIC_DM_FIXED		0
#define APIC_DM_LOWEST		1
#define APIC_DM_SMI		2
#define APIC_DM_NMI		4
#define APIC_DM_INIT		5
#define APIC_DM_STARTUP		6
#define APIC_DM_EXTINT		7

#define APIC_VECTOR_MASK	0xffU
#define APIC_DM_SHIFT		8
#define APIC_DEST_LOGICAL	(1U << 11)
#define APIC_DELIVERY_PENDING	(1U << 12)
#define APIC_POLARITY_LOW	(1U << 13)
#define APIC_REMOTE_IRR		(1U << 14)
#define APIC_LEVEL_ASSERT	(1U << 14)	/* ICR */
#define APIC_TRIGGER_LEVEL	(1U << 15)
#define APIC_LVT_MASKED		(1U << 16)

#define APIC_SHORTHAND_SHIFT	18
#define APIC_SH_NONE		0
#define APIC_SH_SELF		1
#define APIC_SH_ALL		2
#define APIC_SH_OTHERS		3

#define APIC_BROADCAST		0xff	/* xAPIC destination: everyone */
#define X2APIC_BROADCAST	0xffffffffU	/* x2APIC destination: everyone */

/* Register offsets in the LAPIC page. */
#define APIC_ID			0x020
#define APIC_LVR		0x030
#define APIC_TPR		0x080
#define APIC_APR		0x090
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_RRD		0x0c0
#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_SVR		0x0f0
#define APIC_ISR		0x100
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_CMCI		0x2f0
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVT0_OFF		0x320	/* first LVT: the timer */
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SELF_IPI		0x3f0	/* x2APIC only */

/* x2APIC mode: register offset r is MSR X2APIC_MSR_BASE + (r >> 4). */
#define X2APIC_MSR_BASE		0x800
#define X2APIC_MSR_LAST		0x8ff

/* Version 0x14, six LVT entries (max LVT index 5), no directed EOI. */
#define APIC_VERSION		0x00050014

#define APIC_SVR_ENABLE		(1U << 8)
#define APIC_DFR_FLAT		0xfU	/* bits 31:28 */
#define APIC_DFR_CLUSTER	0x0U

/* ESR bits. */
#define APIC_ESR_SEND_ILLEGAL	(1U << 5)
#define APIC_ESR_RECV_ILLEGAL	(1U << 6)
#define APIC_ESR_ILLEGAL_REG	(1U << 7)

/* LVT timer modes, bits 18:17. */
#define APIC_TIMER_MODE_SHIFT	17
#define APIC_TIMER_ONESHOT	0
#define APIC_TIMER_PERIODIC	1
#define APIC_TIMER_TSC_DEADLINE	2

/* IA32_APIC_BASE. */
#define MSR_IA32_APIC_BASE	0x0000001b
#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_TSC_DEADLINE	0x000006e0
#define APIC_BASE_BSP		(1ULL << 8)
#define APIC_BASE_X2APIC	(1ULL << 10)
#define APIC_BASE_ENABLE	(1ULL << 11)
/* The base is below MAXPHYADDR: 40 bits, as the soft CPUID's 0x80000008 says. */
#define LAPIC_MAXPHYADDR	40
#define APIC_BASE_ADDR_MASK	(((1ULL << LAPIC_MAXPHYADDR) - 1) & ~0xfffULL)

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * The local APIC's interrupt state: accepting messages from the APIC bus
 * (any thread), and the owning vCPU's acknowledge, EOI, PPR and events.
 */
#include "engine/soft/irqchip/lapic.h"

#include <string.h>

#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"
#include "machine/layout.h"

#define VEC_WORD(v) ((v) >> 5)
#define VEC_BIT(v) (1U << ((v) & 31))

/* Highest vector set in a 256-bit register, or -1. */
static int highest_vector(u32 *bits, bool atomic)
{
	for (int i = 7; i >= 0; i--) {
		u32 w = atomic ? __atomic_load_n(&bits[i], __ATOMIC_ACQUIRE) : bits[i];

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static void lapic_kick(struct lapic *l)
{
	lapic_kick_fn kick = __atomic_load_n(&l->kick, __ATOMIC_ACQUIRE);

	if (kick)
		kick(l->kick_opaque);
}

void lapic_set_kick(struct lapic *l, lapic_kick_fn kick, void *opaque)
{
	l->kick_opaque = opaque;
	__atomic_store_n(&l->kick, kick, __ATOMIC_RELEASE);
}

void lapic_update_ppr(struct lapic *l)
{
	int isrv = highest_vector(l->isr, false);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;
	u32 ppr = (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;

	lapic_store(&l->ppr, ppr);
}

/* The PIC's INTR reaches this CPU: LINT0 in ExtINT mode, or no LAPIC at all. */
static bool lapic_takes_pic(const struct lapic *l)
{
	u32 lint0 = lapic_load(&l->lvt[LVT_LINT0]);

	if (!lapic_hw_enabled(l))
		return true;
	return !(lint0 & APIC_LVT_MASKED) &&
	       ((lint0 >> APIC_DM_SHIFT) & 7) == APIC_DM_EXTINT;
}

static bool lapic_extint_pending(struct lapic *l)
{
	if (lapic_load(&l->events) & LAPIC_EV_EXTINT)
		return true;
	return lapic_takes_pic(l) && pic_output(&l->chip->pic);
}

void lapic_extint_notify(struct lapic *l)
{
	if (lapic_takes_pic(l))
		lapic_kick(l);
}

void lapic_error(struct lapic *l, u32 esr_bits)
{
	u32 lvt = lapic_load(&l->lvt[LVT_ERROR]);
	u8 vector = lvt & APIC_VECTOR_MASK;

	__atomic_or_fetch(&l->esr_pending, esr_bits, __ATOMIC_RELAXED);
	/* An illegal error vector would raise another error: stop there. */
	if (!(lvt & APIC_LVT_MASKED) && vector >= 16)
		lapic_accept(l, APIC_DM_FIXED, vector, false);
}

/*
 * NMIs that arrive together are not one: up to two wait, as KVM lets them
 * (the engine delivers the first and holds the second until IRET ends the
 * first's blocking; one arriving while the CPU already holds one is lost,
 * as on hardware).
 */
static void lapic_queue_nmi(struct lapic *l)
{
	u32 n = __atomic_load_n(&l->nmis, __ATOMIC_RELAXED);

	do {
		if (n >= LAPIC_MAX_NMIS)
			return;
	} while (!__atomic_compare_exchange_n(&l->nmis, &n, n + 1, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	__atomic_or_fetch(&l->events, LAPIC_EV_NMI, __ATOMIC_RELEASE);
}

void lapic_requeue_nmi(struct lapic *l)
{
	lapic_queue_nmi(l);
	lapic_kick(l);
}

/* Takes one queued NMI; true when another is still queued. */
static bool lapic_dequeue_nmi(struct lapic *l)
{
	u32 n = __atomic_load_n(&l->nmis, __ATOMIC_RELAXED);

	do {
		if (!n)
			return false;	/* an event bit without a count (restored state) */
	} while (!__atomic_compare_exchange_n(&l->nmis, &n, n - 1, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return n > 1;
}

void lapic_accept(struct lapic *l, unsigned int mode, u8 vector, bool level_trig)
{
	unsigned int w = VEC_WORD(vector);
	u32 bit = VEC_BIT(vector);

	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* A software-disabled LAPIC drops fixed interrupts, as KVM's. */
		if (!lapic_sw_enabled(l))
			return;
		if (vector < 16) {
			lapic_error(l, APIC_ESR_RECV_ILLEGAL);
			return;
		}
		/* TMR first: the owner reads it once it has seen the IRR bit. */
		if (level_trig)
			__atomic_or_fetch(&l->tmr[w], bit, __ATOMIC_RELEASE);
		else
			__atomic_and_fetch(&l->tmr[w], ~bit, __ATOMIC_RELEASE);
		__atomic_or_fetch(&l->irr[w], bit, __ATOMIC_RELEASE);
		break;
	case APIC_DM_NMI:
		lapic_queue_nmi(l);
		break;
	case APIC_DM_INIT:
		__atomic_or_fetch(&l->events, LAPIC_EV_INIT, __ATOMIC_RELEASE);
		break;
	case APIC_DM_STARTUP:
		__atomic_store_n(&l->sipi_vector, vector, __ATOMIC_RELAXED);
		__atomic_or_fetch(&l->events, LAPIC_EV_SIPI, __ATOMIC_RELEASE);
		break;
	case APIC_DM_EXTINT:
		__atomic_or_fetch(&l->events, LAPIC_EV_EXTINT, __ATOMIC_RELEASE);
		break;
	default:
		pr_warn_once("lapic: delivery mode %u is not supported: dropped", mode);
		return;
	}
	lapic_kick(l);
}

bool lapic_matches(const struct lapic *l, u32 dest, bool logical, bool x2dest)
{
	u32 ldr;

	if (!lapic_hw_enabled(l))
		return false;
	if (dest == X2APIC_BROADCAST)
		return true;
	if (lapic_x2apic(l)) {
		/* 0xff from an 8-bit sender (IOAPIC, MSI) stays a broadcast, as in KVM. */
		if (!x2dest && dest == APIC_BROADCAST)
			return true;
		if (!logical)
			return dest == lapic_apic_id(l);
		/* Cluster in 31:16, a set of its members in 15:0. */
		ldr = lapic_load(&l->ldr);
		return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff);
	}
	dest &= 0xff;	/* an x2APIC sender to an xAPIC one: the low byte */
	if (dest == APIC_BROADCAST)
		return true;
	if (!logical)
		return dest == lapic_apic_id(l);
	ldr = lapic_load(&l->ldr) >> 24;
	if ((lapic_load(&l->dfr) >> 28) == APIC_DFR_FLAT)
		return ldr & dest;
	/* Cluster: bits 7:4 name the cluster, 3:0 a set of its members. */
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);
}

bool lapic_has_interrupt(struct lapic *l)
{
	int v;

	if (lapic_extint_pending(l))
		return true;
	v = highest_vector(l->irr, true);
	return v >= 0 && ((u32)v & 0xf0) > (lapic_load(&l->ppr) & 0xf0);
}

/* After TPR, ISR or LINT0 changed: something held back may now go. */
static void lapic_recheck(struct lapic *l)
{
	if (lapic_has_interrupt(l))
		lapic_kick(l);
}

int lapic_ack_interrupt(struct lapic *l)
{
	int v;

	if (lapic_extint_pending(l)) {
		/* ExtINT bypasses IRR, ISR and PPR: the PIC owns it. */
		__atomic_and_fetch(&l->events, ~LAPIC_EV_EXTINT, __ATOMIC_ACQ_REL);
		return pic_intack(&l->chip->pic);
	}
	v = highest_vector(l->irr, true);
	if (v < 0 || ((u32)v & 0xf0) <= (lapic_load(&l->ppr) & 0xf0))
		return -1;
	__atomic_and_fetch(&l->irr[VEC_WORD(v)], ~VEC_BIT(v), __ATOMIC_ACQ_REL);
	l->isr[VEC_WORD(v)] |= VEC_BIT(v);
	lapic_update_ppr(l);
	return v;
}

void lapic_eoi(struct lapic *l)
{
	int v = highest_vector(l->isr, false);

	if (v < 0)
		return;
	l->isr[VEC_WORD(v)] &= ~VEC_BIT(v);
	lapic_update_ppr(l);
	if (lapic_load(&l->tmr[VEC_WORD(v)]) & VEC_BIT(v))
		ioapic_eoi(&l->chip->ioapic, v);
	lapic_recheck(l);
}

unsigned int lapic_take_events(struct lapic *l, u8 *sipi)
{
	const u32 mask = LAPIC_EV_NMI | LAPIC_EV_INIT | LAPIC_EV_SIPI;
	u32 ev = __atomic_fetch_and(&l->events, ~mask, __ATOMIC_ACQ_REL) & mask;

	/* One NMI at a time: a second queued one is the next call's. */
	if ((ev & LAPIC_EV_NMI) && lapic_dequeue_nmi(l)) {
		__atomic_or_fetch(&l->events, LAPIC_EV_NMI, __ATOMIC_RELEASE);
		lapic_kick(l);
	}
	if ((ev & LAPIC_EV_SIPI) && sipi)
		*sipi = __atomic_load_n(&l->sipi_vector, __ATOMIC_RELAXED);
	return ev;
}

bool lapic_has_events(struct lapic *l)
{
	return lapic_load(&l->events) & (LAPIC_EV_NMI | LAPIC_EV_INIT | LAPIC_EV_SIPI);
}

u64 lapic_get_cr8(struct lapic *l)
{
	return l->tpr >> 4;
}

void lapic_set_cr8(struct lapic *l, u64 cr8)
{
	l->tpr = (cr8 & 0xf) << 4;
	lapic_update_ppr(l);
	lapic_recheck(l);
}

void lapic_set_tpr(struct lapic *l, u32 tpr)
{
	l->tpr = tpr & 0xff;
	lapic_update_ppr(l);
	lapic_recheck(l);
}

void lapic_write_lint0(struct lapic *l, u32 value)
{
	lapic_store(&l->lvt[LVT_LINT0], value);
	lapic_recheck(l);
}

void lapic_init_reset(struct lapic *l)
{
	for (unsigned int i = 0; i < 8; i++) {
		lapic_store(&l->irr[i], 0);
		lapic_store(&l->tmr[i], 0);
		l->isr[i] = 0;
	}
	__atomic_and_fetch(&l->events, ~LAPIC_EV_EXTINT, __ATOMIC_ACQ_REL);
	for (unsigned int i = 0; i < NR_LVT; i++)
		lapic_store(&l->lvt[i], APIC_LVT_MASKED);
	/*
	 * No firmware runs before the kernel, so do what a BIOS leaves
	 * behind, as KVM does: the BSP's LINT0 takes the PIC (virtual wire).
	 */
	if (lapic_load(&l->apic_base) & APIC_BASE_BSP)
		lapic_store(&l->lvt[LVT_LINT0], APIC_DM_EXTINT << APIC_DM_SHIFT);
	/* In x2APIC mode, the LDR follows the ID, read-only. */
	lapic_store(&l->ldr, lapic_x2apic(l) ? lapic_x2apic_ldr(lapic_apic_id(l)) : 0);
	lapic_store(&l->dfr, 0xffffffffU);
	lapic_store(&l->svr, 0xffU);
	lapic_store(&l->esr_pending, 0);
	l->tpr = 0;
	l->esr = 0;
	l->icr_lo = 0;
	l->icr_hi = 0;
	lapic_update_ppr(l);
	lapic_timer_reset(l);
}

void lapic_init(struct lapic *l, struct soft_irqchip *chip, unsigned int index)
{
	memset(l, 0, sizeof(*l));
	l->chip = chip;
	l->index = index;
	l->id = index << 24;
	l->apic_base = LAYOUT_LAPIC_BASE | APIC_BASE_ENABLE |
		       (index == 0 ? APIC_BASE_BSP : 0);
	lapic_init_reset(l);
}

u64 lapic_now_ns(struct lapic *l)
{
	return chip_now(l->chip);
}

u64 lapic_rdtsc(struct lapic *l)
{
	return soft_clock_tsc_at(&l->chip->clock, chip_now(l->chip)) + l->tsc_offset;
}

u64 lapic_next_deadline_ns(struct lapic *l)
{
	return MIN(l->timer.deadline_ns, pit_next_deadline(&l->chip->pit));
}

void lapic_update(struct lapic *l, u64 now_ns)
{
	lapic_timer_update(l, now_ns);
	if (now_ns >= pit_next_deadline(&l->chip->pit))
		pit_update(&l->chip->pit, now_ns);
}

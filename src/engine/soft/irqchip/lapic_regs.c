// SPDX-License-Identifier: Apache-2.0
/* The LAPIC's MMIO page: xAPIC register reads and writes. */
#include "engine/soft/irqchip/lapic.h"

#include "bus/bus.h"
#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"

/* Bits software may write in each LVT entry (delivery status is read-only). */
static const u32 lvt_writable[NR_LVT] = {
	[LVT_TIMER] = 0x000700ff,	/* vector, mask, timer mode */
	[LVT_THERMAL] = 0x000107ff,	/* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107ff,
	[LVT_LINT0] = 0x0001a7ff,	/* + polarity, trigger mode */
	[LVT_LINT1] = 0x0001a7ff,
	[LVT_ERROR] = 0x000100ff,
};

static bool reg_is_lvt(u32 reg, unsigned int *idx)
{
	if (reg < APIC_LVT0_OFF || reg >= APIC_LVT0_OFF + NR_LVT * 0x10)
		return false;
	*idx = (reg - APIC_LVT0_OFF) / 0x10;
	return true;
}

u32 lapic_reg_read(struct lapic *l, u32 reg)
{
	unsigned int i;

	if (reg_is_lvt(reg, &i))
		return lapic_load(&l->lvt[i]);
	if (reg >= APIC_ISR && reg < APIC_ISR + 0x80)
		return l->isr[(reg - APIC_ISR) / 0x10];
	if (reg >= APIC_TMR && reg < APIC_TMR + 0x80)
		return lapic_load(&l->tmr[(reg - APIC_TMR) / 0x10]);
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
		return lapic_load(&l->irr[(reg - APIC_IRR) / 0x10]);

	switch (reg) {
	case APIC_ID:
		return lapic_load(&l->id);
	case APIC_LVR:
		return APIC_VERSION;
	case APIC_TPR:
		return l->tpr;
	case APIC_APR:
	case APIC_PPR:
		/* No bus arbitration to model: APR reads as the PPR. */
		return lapic_load(&l->ppr);
	case APIC_LDR:
		return lapic_load(&l->ldr);
	case APIC_DFR:
		return lapic_load(&l->dfr);
	case APIC_SVR:
		return lapic_load(&l->svr);
	case APIC_ESR:
		return l->esr;
	case APIC_ICR:
		return l->icr_lo;	/* delivery is instant: never pending */
	case APIC_ICR2:
		return l->icr_hi;
	case APIC_TMICT:
		return l->timer.initial;
	case APIC_TMCCT:
		return lapic_timer_current(l);
	case APIC_TDCR:
		return l->timer.divide_reg;
	default:
		return 0;	/* EOI, RRD and reserved offsets */
	}
}

static void lapic_write_svr(struct lapic *l, u32 value)
{
	/* Vector, APIC enable, focus checking; no EOI-broadcast suppression. */
	lapic_store(&l->svr, value & 0x3ff);
	if (value & APIC_SVR_ENABLE)
		return;
	/* Software disable masks every LVT entry. */
	for (unsigned int i = 0; i < NR_LVT; i++)
		lapic_store(&l->lvt[i], lapic_load(&l->lvt[i]) | APIC_LVT_MASKED);
}

static void lapic_write_lvt(struct lapic *l, unsigned int idx, u32 value)
{
	value &= lvt_writable[idx];
	if (!lapic_sw_enabled(l))
		value |= APIC_LVT_MASKED;
	switch (idx) {
	case LVT_TIMER:
		lapic_timer_write_lvt(l, value);
		break;
	case LVT_LINT0:
		lapic_write_lint0(l, value);
		break;
	default:
		lapic_store(&l->lvt[idx], value);
		break;
	}
}

void lapic_reg_write(struct lapic *l, u32 reg, u32 value)
{
	unsigned int i;

	if (reg_is_lvt(reg, &i)) {
		lapic_write_lvt(l, i, value);
		return;
	}
	switch (reg) {
	case APIC_ID:
		lapic_store(&l->id, value & 0xff000000U);
		break;
	case APIC_TPR:
		lapic_set_tpr(l, value);
		break;
	case APIC_EOI:
		lapic_eoi(l);
		break;
	case APIC_LDR:
		lapic_store(&l->ldr, value & 0xff000000U);
		break;
	case APIC_DFR:
		lapic_store(&l->dfr, value | 0x0fffffffU);
		break;
	case APIC_SVR:
		lapic_write_svr(l, value);
		break;
	case APIC_ESR:
		/* A write latches the errors seen since the last one. */
		l->esr = __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_RELAXED);
		break;
	case APIC_ICR:
		l->icr_lo = value & ~APIC_DELIVERY_PENDING;
		lapic_send_ipi(l);
		break;
	case APIC_ICR2:
		l->icr_hi = value & 0xff000000U;
		break;
	case APIC_TMICT:
		lapic_timer_write_initial(l, value);
		break;
	case APIC_TDCR:
		lapic_timer_write_divide(l, value);
		break;
	default:
		break;	/* read-only and reserved registers */
	}
}

void lapic_send_ipi(struct lapic *l)
{
	u32 lo = l->icr_lo;
	bool x2 = lapic_x2apic(l);
	struct apic_msg m = {
		.vector = lo & APIC_VECTOR_MASK,
		.mode = (lo >> APIC_DM_SHIFT) & 7,
		.dest = x2 ? l->icr_hi : l->icr_hi >> 24,
		.x2dest = x2,
		.shorthand = (lo >> APIC_SHORTHAND_SHIFT) & 3,
		.logical = lo & APIC_DEST_LOGICAL,
		.level_trig = lo & APIC_TRIGGER_LEVEL,
	};

	/* INIT level de-assert only resynchronises arbitration IDs. */
	if (m.mode == APIC_DM_INIT && m.level_trig && !(lo & APIC_LEVEL_ASSERT))
		return;
	if ((m.mode == APIC_DM_FIXED || m.mode == APIC_DM_LOWEST) && m.vector < 16) {
		lapic_error(l, APIC_ESR_SEND_ILLEGAL);
		return;
	}
	m.lowest = m.mode == APIC_DM_LOWEST;
	apic_bus_deliver(l->chip, &m, l);
}

/*
 * x2APIC registers (SDM 10.12.1.2): the xAPIC ones but DFR, ICR2, APR and
 * RRD, plus SELF_IPI; ICR is one 64-bit register with a 32-bit
 * destination. Reading a write-only register, writing a read-only one,
 * or setting bits 63:32 of a 32-bit one is #GP; so are non-zero EOI and
 * ESR writes.
 */
static bool x2apic_reg_exists(u32 reg)
{
	unsigned int i;

	if (reg_is_lvt(reg, &i))
		return true;
	if ((reg >= APIC_ISR && reg < APIC_IRR + 0x80))	/* ISR, TMR, IRR */
		return true;
	switch (reg) {
	case APIC_ID: case APIC_LVR: case APIC_TPR: case APIC_PPR: case APIC_EOI:
	case APIC_LDR: case APIC_SVR: case APIC_ESR: case APIC_ICR: case APIC_TMICT:
	case APIC_TMCCT: case APIC_TDCR: case APIC_SELF_IPI:
		return true;
	default:
		return false;
	}
}

bool lapic_x2apic_read(struct lapic *l, u32 reg, u64 *value)
{
	if (!x2apic_reg_exists(reg) || reg == APIC_EOI || reg == APIC_SELF_IPI)
		return false;
	if (reg == APIC_ICR)
		*value = (u64)l->icr_hi << 32 | l->icr_lo;
	else
		*value = lapic_reg_read(l, reg);
	return true;
}

bool lapic_x2apic_write(struct lapic *l, u32 reg, u64 value)
{
	if (!x2apic_reg_exists(reg) || (reg != APIC_ICR && value >> 32))
		return false;
	switch (reg) {
	case APIC_ID: case APIC_LVR: case APIC_PPR: case APIC_LDR: case APIC_TMCCT:
		return false;
	case APIC_EOI:
	case APIC_ESR:
		if (value)
			return false;
		break;
	case APIC_SELF_IPI:
		if (value & ~(u64)APIC_VECTOR_MASK)
			return false;
		/* A fixed, edge-triggered IPI to this LAPIC alone; ICR keeps its value. */
		lapic_accept(l, APIC_DM_FIXED, (u8)value, false);
		return true;
	case APIC_ICR:
		l->icr_hi = (u32)(value >> 32);
		l->icr_lo = (u32)value & ~APIC_DELIVERY_PENDING;
		lapic_send_ipi(l);
		return true;
	default:
		if (reg >= APIC_ISR && reg < APIC_IRR + 0x80)
			return false;
		break;
	}
	lapic_reg_write(l, reg, (u32)value);
	return true;
}

s64 lapic_pv_send_ipi(struct lapic *l, u64 lo, u64 hi, u64 min, u64 icr, bool op64)
{
	const unsigned int width = op64 ? 64 : 32;
	struct soft_irqchip *chip = l->chip;
	unsigned int mode = (icr >> APIC_DM_SHIFT) & 7;
	s64 delivered = 0;

	if (icr & (APIC_DEST_LOGICAL | (3U << APIC_SHORTHAND_SHIFT)))
		return -KVM_EINVAL;
	for (unsigned int i = 0; i < chip->nr_cpus; i++) {
		struct lapic *t = &chip->lapics[i];
		u64 bit = (u64)lapic_apic_id(t) - min;	/* huge when the ID is below min */

		if (bit >= 2 * width || !((bit < width ? lo : hi) >> (bit % width) & 1))
			continue;
		lapic_accept(t, mode, icr & APIC_VECTOR_MASK, icr & APIC_TRIGGER_LEVEL);
		delivered++;
	}
	return delivered;
}

/*
 * The page takes aligned 32-bit accesses to 16-byte-aligned registers;
 * narrower reads get the bytes they cover, and bytes past the register's
 * 32 bits read as 0.
 */
void lapic_mmio_read(struct lapic *l, u64 offset, void *data, unsigned int len)
{
	unsigned int inner = offset & 0xf;
	u64 v = 0;

	if (offset < LAPIC_PAGE_SIZE && inner < 4)
		v = (u64)lapic_reg_read(l, (u32)(offset & ~0xfULL)) >> (8 * inner);
	bus_data_put(data, len, v);
}

void lapic_mmio_write(struct lapic *l, u64 offset, const void *data, unsigned int len)
{
	if (offset >= LAPIC_PAGE_SIZE || (offset & 0xf) || len < 4) {
		pr_warn_once("lapic: ignored %u-byte write at offset %#llx", len,
			     (unsigned long long)offset);
		return;
	}
	lapic_reg_write(l, (u32)offset, (u32)bus_data_get(data, 4));
}

u64 lapic_mmio_base(const struct lapic *l)
{
	u64 base = lapic_load(&l->apic_base);

	/* Disabled, or in x2APIC mode: the page is gone. */
	if ((base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) != APIC_BASE_ENABLE)
		return SOFT_LAPIC_OFF;
	return base & APIC_BASE_ADDR_MASK;
}

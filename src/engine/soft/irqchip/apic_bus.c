// SPDX-License-Identifier: Apache-2.0
/*
 * The APIC bus: routes one interrupt message (an IPI from an ICR, an
 * IOAPIC redirection entry, an MSI) to the LAPICs it names. Lock-free:
 * LAPICs accept with atomics, so senders on any thread never wait.
 */
#include "engine/soft/irqchip/chip.h"

#include "lib/log.h"

static bool is_target(const struct apic_msg *m, const struct lapic *l,
		      const struct lapic *src)
{
	switch (m->shorthand) {
	case APIC_SH_SELF:
		return l == src;
	case APIC_SH_ALL:
		return lapic_hw_enabled(l);
	case APIC_SH_OTHERS:
		return l != src && lapic_hw_enabled(l);
	default:
		return lapic_matches(l, m->dest, m->logical, m->x2dest);
	}
}

/*
 * Lowest priority: the enabled target with the lowest PPR takes it, and
 * equals take turns, starting after the last one picked.
 */
static struct lapic *pick_lowest(struct soft_irqchip *chip, const struct apic_msg *m,
				 struct lapic *src)
{
	unsigned int n = chip->nr_cpus;
	unsigned int start = __atomic_load_n(&chip->lowest_prio_next, __ATOMIC_RELAXED) % n;
	struct lapic *best = NULL;
	u32 best_prio = 0;

	for (unsigned int k = 0; k < n; k++) {
		struct lapic *l = &chip->lapics[(start + k) % n];
		u32 prio;

		if (!is_target(m, l, src) || !lapic_sw_enabled(l))
			continue;
		prio = lapic_load(&l->ppr) & 0xf0;
		if (!best || prio < best_prio) {
			best = l;
			best_prio = prio;
		}
	}
	/* Racing senders may both start from the same place: still fair enough. */
	if (best)
		__atomic_store_n(&chip->lowest_prio_next, best->index + 1, __ATOMIC_RELAXED);
	return best;
}

unsigned int apic_bus_deliver(struct soft_irqchip *chip, const struct apic_msg *m,
			      struct lapic *src)
{
	unsigned int delivered = 0;

	if (m->shorthand == APIC_SH_SELF && !src)
		return 0;
	if (m->lowest && (m->mode == APIC_DM_FIXED || m->mode == APIC_DM_LOWEST)) {
		struct lapic *l = pick_lowest(chip, m, src);

		if (!l)
			return 0;
		lapic_accept(l, m->mode, m->vector, m->level_trig);
		return 1;
	}
	for (unsigned int i = 0; i < chip->nr_cpus; i++) {
		struct lapic *l = &chip->lapics[i];

		if (!is_target(m, l, src))
			continue;
		lapic_accept(l, m->mode, m->vector, m->level_trig);
		delivered++;
	}
	return delivered;
}

/*
 * MSI: the address names the destination (bits 19:12), the redirection
 * hint (3) and the destination mode (2); the data the vector (7:0), the
 * delivery mode (10:8) and the trigger mode (15).
 */
bool apic_msg_from_msi(u64 addr, u32 data, struct apic_msg *m)
{
	*m = (struct apic_msg){
		.vector = data & APIC_VECTOR_MASK,
		.mode = (data >> APIC_DM_SHIFT) & 7,
		.dest = (addr >> 12) & 0xff,
		.logical = addr & (1U << 2),
		.level_trig = data & APIC_TRIGGER_LEVEL,
	};
	if ((addr >> 20) != 0xfee) {
		pr_warn_once("msi: address %#llx is not in the APIC window: dropped",
			     (unsigned long long)addr);
		return false;
	}
	if (m->mode == APIC_DM_STARTUP || m->mode == 3) {
		pr_warn_once("msi: delivery mode %u is not allowed: dropped", m->mode);
		return false;
	}
	/* The redirection hint turns fixed delivery into arbitration. */
	m->lowest = m->mode == APIC_DM_LOWEST || (addr & (1U << 3));
	return true;
}

void apic_bus_send_msi(struct soft_irqchip *chip, u64 addr, u32 data)
{
	struct apic_msg m;

	if (apic_msg_from_msi(addr, data, &m))
		apic_bus_deliver(chip, &m, NULL);
}

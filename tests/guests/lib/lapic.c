// SPDX-License-Identifier: Apache-2.0
#include "guest.h"
#include "machine/layout.h"

/* Polls of the ICR busy bit before an IPI counts as lost. */
#define ICR_POLLS 100000

u32 lapic_read(u32 reg)
{
	return mmio_read32(LAYOUT_LAPIC_BASE + reg);
}

void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAYOUT_LAPIC_BASE + reg, v);
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

bool lapic_send_ipi(u32 apic_id, u32 icr_lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	for (int i = 0; i < ICR_POLLS; i++)
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
			return true;
	return false;
}

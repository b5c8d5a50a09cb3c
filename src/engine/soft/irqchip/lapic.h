/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_LAPIC_H
#define KILN_ENGINE_SOFT_IRQCHIP_LAPIC_H

#include "engine/soft/irqchip/apic_defs.h"
#include "engine/soft/irqchip/irqchip.h"
#include "engine/soft/irqchip/kvmclock.h"

/*
 * The local APIC's state, shared by lapic.c (interrupt acceptance and
 * acknowledgement), lapic_regs.c (the MMIO page), lapic_timer.c and
 * lapic_msr.c. The public calls are in irqchip.h.
 */

enum lapic_lvt {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	NR_LVT,
};

/* An internal event bit next to LAPIC_EV_*: an ExtINT to fetch from the PIC. */
#define LAPIC_EV_EXTINT (1U << 8)

/* NMIs that may wait at once (lapic.c): one being delivered, one held. */
#define LAPIC_MAX_NMIS 2

struct lapic_timer {
	u32 initial;		/* TMICT */
	u32 divide_reg;		/* TDCR as written */
	u32 divide;		/* 1..128 */
	u64 start_ns;		/* host time the count was loaded */
	u64 period_ns;		/* periodic: between interrupts */
	u64 deadline_ns;	/* next firing, or SOFT_TIME_NEVER */
	u64 tsc_deadline;	/* IA32_TSC_DEADLINE, 0 when disarmed */
};

struct lapic {
	struct soft_irqchip *chip;
	unsigned int index;
	lapic_kick_fn kick;
	void *kick_opaque;

	/*
	 * Read by other threads, to match destinations and arbitrate; written
	 * by the owner. Accessed with relaxed atomics.
	 */
	u32 id;			/* the ID register: APIC ID in bits 31:24 */
	u32 ldr;
	u32 dfr;
	u32 svr;
	u32 lvt[NR_LVT];
	u64 apic_base;
	u32 ppr;

	/* Set by any thread, cleared by the owner: atomic bit operations. */
	u32 irr[8];
	u32 tmr[8];
	u32 events;		/* LAPIC_EV_*, LAPIC_EV_EXTINT */
	u32 nmis;		/* NMIs behind LAPIC_EV_NMI: 1 to LAPIC_MAX_NMIS */
	u8 sipi_vector;
	u32 esr_pending;	/* errors since the last ESR write */

	/* The owning vCPU thread only. */
	u32 isr[8];
	u32 tpr;
	u32 esr;		/* as latched by the last ESR write */
	u32 icr_lo;
	u32 icr_hi;
	struct lapic_timer timer;
	u64 tsc_offset;		/* this vCPU's TSC minus the VM's */
	u64 wall_clock_msr;	/* MSR_KVM_WALL_CLOCK*, as written */
	struct kvmclock_vcpu kvmclock;
};

#define lapic_load(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define lapic_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

void lapic_init(struct lapic *l, struct soft_irqchip *chip, unsigned int index);

/* IA32_APIC_BASE enables it and SVR software-enables it. */
static inline bool lapic_hw_enabled(const struct lapic *l)
{
	return lapic_load(&l->apic_base) & APIC_BASE_ENABLE;
}

static inline bool lapic_sw_enabled(const struct lapic *l)
{
	return lapic_hw_enabled(l) && (lapic_load(&l->svr) & APIC_SVR_ENABLE);
}

/* x2APIC mode (IA32_APIC_BASE.EXTD): registers are MSRs, IDs 32 bits. */
static inline bool lapic_x2apic(const struct lapic *l)
{
	return lapic_load(&l->apic_base) & APIC_BASE_X2APIC;
}

/* The APIC ID: the ID register's bits 31:24, or all of it in x2APIC mode. */
static inline u32 lapic_apic_id(const struct lapic *l)
{
	u32 id = lapic_load(&l->id);

	return lapic_x2apic(l) ? id : id >> 24;
}

/* The x2APIC logical ID: cluster (ID 19:4) in 31:16, one bit for ID 3:0. */
static inline u32 lapic_x2apic_ldr(u32 x2apic_id)
{
	return ((x2apic_id >> 4) << 16) | (1U << (x2apic_id & 0xf));
}

/*
 * Any thread: a message from the APIC bus (IPI, IOAPIC, MSI, LVT) with
 * delivery mode mode. Sets IRR/TMR or an event, and kicks the vCPU.
 */
void lapic_accept(struct lapic *l, unsigned int mode, u8 vector, bool level_trig);

/*
 * Any thread: whether this LAPIC is named by a destination: 32 bits from
 * an x2APIC ICR (x2dest), else 8 bits (xAPIC ICR, IOAPIC, MSI).
 */
bool lapic_matches(const struct lapic *l, u32 dest, bool logical, bool x2dest);

/* Records an error in ESR and raises the error LVT. */
void lapic_error(struct lapic *l, u32 esr_bits);

/* Any thread: the PIC's output may have risen; kicks when LINT0 takes it. */
void lapic_extint_notify(struct lapic *l);

/* Owner: recomputes PPR after TPR or ISR changed. */
void lapic_update_ppr(struct lapic *l);

/* Owner: TPR and LINT0 writes, which may release a held interrupt. */
void lapic_set_tpr(struct lapic *l, u32 tpr);
void lapic_write_lint0(struct lapic *l, u32 value);

/* Owner: the EOI register. */
void lapic_eoi(struct lapic *l);

/* Owner: sends the IPI described by ICR (lapic_regs.c -> apic_bus.c). */
void lapic_send_ipi(struct lapic *l);

/* Owner: x2APIC register access through MSRs (lapic_regs.c); false is #GP. */
bool lapic_x2apic_read(struct lapic *l, u32 reg, u64 *value);
bool lapic_x2apic_write(struct lapic *l, u32 reg, u64 value);

/* Owner: the timer (lapic_timer.c). */
void lapic_timer_reset(struct lapic *l);
void lapic_timer_write_lvt(struct lapic *l, u32 value);
void lapic_timer_write_initial(struct lapic *l, u32 count);
void lapic_timer_write_divide(struct lapic *l, u32 value);
u32 lapic_timer_current(struct lapic *l);
void lapic_timer_write_tsc_deadline(struct lapic *l, u64 tsc);
u64 lapic_timer_read_tsc_deadline(struct lapic *l);
void lapic_timer_update(struct lapic *l, u64 now);

/* Owner: the page's registers (lapic_regs.c). */
u32 lapic_reg_read(struct lapic *l, u32 reg);
void lapic_reg_write(struct lapic *l, u32 reg, u32 value);

#endif

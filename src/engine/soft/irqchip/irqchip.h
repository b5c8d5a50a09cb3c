/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_IRQCHIP_H
#define KILN_ENGINE_SOFT_IRQCHIP_IRQCHIP_H

#include "engine/soft/irqchip/clock.h"
#include "lib/types.h"

/*
 * The soft engine's interrupt controllers and timers: one local APIC per
 * vCPU (xAPIC, MMIO), one IOAPIC, the 8259 PIC pair with its ELCR, the
 * 8254 PIT with port 0x61, the TSC and kvmclock. The kvm engine does not
 * use any of this: KVM has all of it in the kernel.
 *
 * Who calls what, from which thread
 * ---------------------------------
 * Per VM (struct soft_irqchip):
 *   - the engine's vm_create makes it (soft_irqchip_create), which claims
 *     the IOAPIC page on vm->mmio_bus and ports 0x20-0x21, 0xa0-0xa1,
 *     0x40-0x43, 0x61 and 0x4d0-0x4d1 on vm->pio_bus. Those registers are
 *     then reached through bus_read/bus_write from any vCPU thread;
 *   - devices, from any thread, reach soft_irqchip_set_irq and
 *     soft_irqchip_send_msi through the engine's set_irq_line and send_msi.
 *
 * Per vCPU (struct lapic, from soft_irqchip_lapic):
 *   - everything named lapic_* runs on that vCPU's own thread, except
 *     lapic_set_kick (once, before the vCPU runs);
 *   - the chip calls kick(opaque) from ANY thread (another vCPU's IPI, a
 *     device thread, the I/O thread, or this vCPU itself) after it made
 *     something pending: an IRR bit, NMI, INIT, SIPI or ExtINT. kick must
 *     not block and must not call back into the chip; it sets the engine's
 *     pending-work word and wakes the vCPU if it is halted;
 *   - at a block boundary with work pending the engine looks at
 *     lapic_take_events (INIT, SIPI, NMI), then, when RFLAGS.IF allows,
 *     at lapic_ack_interrupt. It must look again after anything that can
 *     unblock an interrupt already in the IRR: STI, POPF, IRET, a CR8 or
 *     TPR write, an EOI (the LAPIC page or CR8 writes all return through
 *     the engine, which can simply re-check after them);
 *   - timers are deadlines, not threads: lapic_next_deadline_ns gives the
 *     earliest host time anything (this LAPIC's timer, or the VM-wide PIT)
 *     must fire, and lapic_update fires what is due. The engine calls
 *     lapic_update at block boundaries (cheap when nothing is due) and when
 *     its HLT wait times out.
 *
 * Locking: IRR, TMR and the event word are atomics, so IPIs and MSIs take
 * no lock at all. ISR, PPR and the timer belong to the owning vCPU. The
 * IOAPIC, the PIC pair and the PIT each have their own mutex; the order is
 * PIT -> PIC -> IOAPIC, and nothing calls back up that chain while holding
 * one (a LAPIC EOI takes only the IOAPIC's).
 */

struct vm;
struct soft_irqchip;
struct lapic;

/* ---- per VM ---- */

/* NULL (with an error printed) when it cannot claim its bus ranges. */
struct soft_irqchip *soft_irqchip_create(struct vm *vm, unsigned int nr_cpus);
void soft_irqchip_destroy(struct soft_irqchip *chip);

/*
 * Tests only, right after create: replace the host clock with one they
 * step by hand. Guest time zero moves to that clock's now.
 */
void soft_irqchip_set_clock(struct soft_irqchip *chip, soft_clock_fn now, void *opaque);
const struct soft_clock *soft_irqchip_clock(const struct soft_irqchip *chip);

/*
 * A GSI's level (true = asserted, whatever the line's polarity). GSIs 0-15
 * are also the PIC's IRQs, except that GSI 2 (GSI_PIT) is ISA IRQ0 on the
 * PIC, as the MADT's override says; GSIs 16-23 reach only the IOAPIC.
 */
void soft_irqchip_set_irq(struct soft_irqchip *chip, u32 gsi, bool level);

/* An MSI write of data to addr (0xfeeXXXXX). Any thread. */
void soft_irqchip_send_msi(struct soft_irqchip *chip, u64 addr, u32 data);

struct lapic *soft_irqchip_lapic(struct soft_irqchip *chip, unsigned int cpu);

/*
 * CPUID: adjusts the APIC-related bits of a leaf the engine computed
 * (leaf 1: APIC present, TSC-deadline, x2APIC, hypervisor present,
 * initial APIC ID) and fills the KVM leaves 0x40000000-0x400000ff.
 * regs is eax, ebx, ecx, edx.
 */
void soft_irqchip_cpuid(u32 leaf, u32 subleaf, unsigned int cpu, u32 regs[4]);

/* ---- per vCPU: all on the vCPU's own thread ---- */

typedef void (*lapic_kick_fn)(void *opaque);

void lapic_set_kick(struct lapic *l, lapic_kick_fn kick, void *opaque);

/*
 * The guest-physical base of this vCPU's LAPIC page, or SOFT_LAPIC_OFF
 * when IA32_APIC_BASE disables it (accesses then go to the MMIO bus).
 */
#define SOFT_LAPIC_OFF UINT64_MAX
#define LAPIC_PAGE_SIZE 0x1000
u64 lapic_mmio_base(const struct lapic *l);

/* offset is within the page; any len 1-8, as the CPU issued it. */
void lapic_mmio_read(struct lapic *l, u64 offset, void *data, unsigned int len);
void lapic_mmio_write(struct lapic *l, u64 offset, const void *data, unsigned int len);

enum lapic_msr_result {
	LAPIC_MSR_NOT_MINE,	/* the engine handles it (or raises #GP) */
	LAPIC_MSR_OK,
	LAPIC_MSR_GP,		/* the engine injects #GP(0) */
};

/*
 * IA32_APIC_BASE, IA32_TSC_DEADLINE, IA32_TSC (so the TSC stays per vCPU)
 * and the kvmclock MSRs.
 */
enum lapic_msr_result lapic_rdmsr(struct lapic *l, u32 msr, u64 *value);
enum lapic_msr_result lapic_wrmsr(struct lapic *l, u32 msr, u64 value);

/* The vCPU's TSC, for RDTSC and RDTSCP. */
u64 lapic_rdtsc(struct lapic *l);

/* CR8 is TPR bits 7:4. */
u64 lapic_get_cr8(struct lapic *l);
void lapic_set_cr8(struct lapic *l, u64 cr8);

/* A maskable interrupt (fixed or ExtINT) is ready for an IF=1 CPU. */
bool lapic_has_interrupt(struct lapic *l);
/*
 * The INTA cycle: the vector to inject, IRR -> ISR (or the PIC's vector
 * for ExtINT), or -1 when nothing is deliverable any more.
 */
int lapic_ack_interrupt(struct lapic *l);

#define LAPIC_EV_NMI	(1U << 0)
#define LAPIC_EV_INIT	(1U << 1)
#define LAPIC_EV_SIPI	(1U << 2)

/*
 * Takes the pending NMI, INIT and SIPI events (LAPIC_EV_*) at once; *sipi
 * gets the start-up vector (start at vector << 12, CS = vector << 8). The
 * engine handles INIT first: it resets the vCPU, calls lapic_init_reset,
 * and waits for a SIPI; a SIPI taken while not waiting is ignored.
 */
unsigned int lapic_take_events(struct lapic *l, u8 *sipi);

/*
 * An NMI lapic_take_events gave that the vCPU cannot hold yet (one it took
 * before is not delivered): queued again, for a later lapic_take_events.
 */
void lapic_requeue_nmi(struct lapic *l);
bool lapic_has_events(struct lapic *l);

/*
 * KVM_HC_SEND_IPI, KVM's paravirtual IPI hypercall: the vector, delivery
 * mode and trigger of icr go to each APIC ID min + i for which bit i is
 * set in the bitmap lo, then hi (64 bits each in 64-bit mode, else 32).
 * Returns how many LAPICs took it, or -KVM_EINVAL when icr names a
 * destination mode or a shorthand. Not advertised in CPUID.
 */
#define KVM_HC_SEND_IPI	10
#define KVM_EINVAL	22
s64 lapic_pv_send_ipi(struct lapic *l, u64 lo, u64 hi, u64 min, u64 icr, bool op64);

/* INIT: every register to its reset value except ID and IA32_APIC_BASE. */
void lapic_init_reset(struct lapic *l);

/* Earliest absolute host ns a timer needs lapic_update, or SOFT_TIME_NEVER. */
u64 lapic_next_deadline_ns(struct lapic *l);
/* Fires every timer due at now (this LAPIC's, and the VM-wide PIT). */
void lapic_update(struct lapic *l, u64 now_ns);
/* The chip's clock now, for callers of lapic_update. */
u64 lapic_now_ns(struct lapic *l);

#endif

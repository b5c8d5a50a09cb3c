// SPDX-License-Identifier: Apache-2.0
/*
 * The CPU side of the interrupt controllers: LAPIC page intercept, MSRs,
 * TPR, timers and the block-boundary interrupt check. The controllers
 * themselves are in irqchip/ (irqchip.h says who calls what).
 */
#include <string.h>

#include "engine/soft/irqchip/irqchip.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

static struct soft_irqchip *chip_of(const struct soft_vm *svm)
{
	return svm->irqchip;
}

int soft_irq_init(struct soft_vm *svm)
{
	if (!svm->vm)
		return 0;
	svm->irqchip = soft_irqchip_create(svm->vm, svm->vm->cfg->nr_cpus);
	return svm->irqchip ? 0 : -1;
}

void soft_irq_destroy(struct soft_vm *svm)
{
	if (svm->irqchip)
		soft_irqchip_destroy(svm->irqchip);
	svm->irqchip = NULL;
}

unsigned int soft_cpu_index(const struct soft_cpu *cpu)
{
	return cpu->vcpu ? cpu->vcpu->index : 0;
}

/* Any thread: the LAPIC made something pending for this vCPU. */
static void glue_kick(void *opaque)
{
	struct soft_cpu *cpu = opaque;

	__atomic_or_fetch(cpu->reqs, SOFT_REQ_IRQ, __ATOMIC_RELEASE);
	soft_cpu_wake(cpu);
}

void soft_irq_vcpu_init(struct soft_cpu *cpu)
{
	struct soft_irqchip *chip = chip_of(cpu->svm);

	if (!chip)
		return;
	cpu->lapic = soft_irqchip_lapic(chip, soft_cpu_index(cpu));
	lapic_set_kick(cpu->lapic, glue_kick, cpu);
}

bool soft_irq_has_lapic(const struct soft_cpu *cpu)
{
	return cpu->lapic != NULL;
}

bool soft_lapic_page(const struct soft_cpu *cpu, u64 gpa)
{
	return cpu->lapic && (gpa & ~0xfffULL) == lapic_mmio_base(cpu->lapic);
}

void soft_lapic_access(struct soft_cpu *cpu, u64 gpa, void *buf, unsigned int len, bool write)
{
	if (write) {
		lapic_mmio_write(cpu->lapic, gpa & 0xfff, buf, len);
		/* An EOI or a TPR write may let a pending interrupt through. */
		soft_irq_window_opened(cpu);
	} else {
		lapic_mmio_read(cpu->lapic, gpa & 0xfff, buf, len);
	}
}

void soft_irq_cpuid(struct soft_cpu *cpu, u32 leaf, u32 subleaf, u32 out[4])
{
	struct soft_irqchip *chip = chip_of(cpu->svm);

	if (chip)
		soft_irqchip_cpuid(leaf, subleaf, soft_cpu_index(cpu), out);
}

static int msr_result(enum lapic_msr_result r)
{
	return r == LAPIC_MSR_OK ? 1 : r == LAPIC_MSR_GP ? -1 : 0;
}

int soft_irq_msr_read(struct soft_cpu *cpu, u32 index, u64 *val)
{
	if (!cpu->lapic)
		return 0;
	return msr_result(lapic_rdmsr(cpu->lapic, index, val));
}

int soft_irq_msr_write(struct soft_cpu *cpu, u32 index, u64 val)
{
	int r;

	if (!cpu->lapic)
		return 0;
	r = msr_result(lapic_wrmsr(cpu->lapic, index, val));
	if (r > 0) {
		if (index == 0x1b)
			cpu->apic_base = val;
		soft_irq_window_opened(cpu);
	}
	return r;
}

u64 soft_irq_rdtsc(struct soft_cpu *cpu, bool *ok)
{
	*ok = cpu->lapic != NULL;
	return cpu->lapic ? lapic_rdtsc(cpu->lapic) : 0;
}

u64 soft_irq_get_tpr(struct soft_cpu *cpu)
{
	return cpu->lapic ? lapic_get_cr8(cpu->lapic) : cpu->cr8;
}

void soft_irq_set_tpr(struct soft_cpu *cpu, u64 cr8)
{
	if (!cpu->lapic)
		return;
	lapic_set_cr8(cpu->lapic, cr8);
	soft_irq_window_opened(cpu);
}

void soft_irq_window_opened(struct soft_cpu *cpu)
{
	if (cpu->lapic)
		__atomic_or_fetch(cpu->reqs, SOFT_REQ_IRQ, __ATOMIC_RELAXED);
}

/* INIT puts the vCPU in wait-for-SIPI; SIPI starts it in real mode at V << 12. */
static void handle_events(struct soft_cpu *cpu, unsigned int ev, u8 sipi)
{
	if (ev & LAPIC_EV_INIT) {
		cpu_reset(cpu, true);
		lapic_init_reset(cpu->lapic);
		cpu->wait_sipi = true;
		cpu->nmi_pending = false;
	}
	if ((ev & LAPIC_EV_SIPI) && cpu->wait_sipi) {
		struct segment *cs = &cpu->seg[SEG_CS];

		cpu->wait_sipi = false;
		cpu->halted = false;
		cs->selector = (u16)sipi << 8;
		cs->base = (u64)sipi << 12;
		cpu->rip = 0;
		cpu_update_mode(cpu);
	}
	if (ev & LAPIC_EV_NMI) {
		/*
		 * One NMI is already waiting, not yet delivered: this one goes
		 * back to the LAPIC and becomes the one latched behind it. One
		 * that arrives while the handler runs is latched here, and
		 * any more are lost, as on hardware.
		 */
		if (cpu->nmi_pending && !cpu->nmi_blocked)
			lapic_requeue_nmi(cpu->lapic);
		cpu->nmi_pending = true;
	}
}

void soft_irq_boundary(struct soft_cpu *cpu)
{
	struct lapic *l = cpu->lapic;
	u8 sipi = 0;
	unsigned int ev;

	if (!l)
		return;
	__atomic_and_fetch(cpu->reqs, ~SOFT_REQ_IRQ, __ATOMIC_ACQ_REL);
	lapic_update(l, lapic_now_ns(l));
	ev = lapic_take_events(l, &sipi);
	if (ev)
		handle_events(cpu, ev, sipi);
	if (cpu->wait_sipi || cpu->inject_vector >= 0)
		return;
	if (cpu->intr_shadow) {
		/*
		 * Blocked for one instruction only: look again at the very next
		 * boundary, or a loop that always comes back here right after
		 * its STI would never let the event in.
		 */
		if ((cpu->nmi_pending && !cpu->nmi_blocked) ||
		    ((cpu->rflags & RFLAGS_IF) && lapic_has_interrupt(l))) {
			/* Exactly one instruction, then back here. */
			cpu->step_once = true;
			__atomic_or_fetch(cpu->reqs, SOFT_REQ_IRQ, __ATOMIC_RELAXED);
		}
		return;
	}
	if (cpu->nmi_pending && !cpu->nmi_blocked) {
		cpu->nmi_pending = false;
		cpu->inject_vector = EXC_NMI;
		return;
	}
	if ((cpu->rflags & RFLAGS_IF) && lapic_has_interrupt(l)) {
		int v = lapic_ack_interrupt(l);

		if (v >= 0)
			cpu->inject_vector = v;
	}
}

s64 soft_irq_pv_send_ipi(struct soft_cpu *cpu, u64 lo, u64 hi, u64 min, u64 icr, bool op64)
{
	return lapic_pv_send_ipi(cpu->lapic, lo, hi, min, icr, op64);
}

u64 soft_irq_deadline(struct soft_cpu *cpu)
{
	return cpu->lapic ? lapic_next_deadline_ns(cpu->lapic) : ~0ULL;
}

bool soft_irq_wakes_halt(struct soft_cpu *cpu)
{
	if (cpu->inject_vector >= 0 || (cpu->nmi_pending && !cpu->nmi_blocked))
		return true;
	if (!cpu->lapic || cpu->wait_sipi)
		return false;
	return (cpu->rflags & RFLAGS_IF) && lapic_has_interrupt(cpu->lapic);
}

void soft_set_irq_line(struct vm *vm, u32 gsi, bool level)
{
	struct soft_vm *svm = vm->engine_data;

	if (svm && svm->irqchip)
		soft_irqchip_set_irq(svm->irqchip, gsi, level);
}

void soft_send_msi(struct vm *vm, u64 addr, u32 data)
{
	struct soft_vm *svm = vm->engine_data;

	if (svm && svm->irqchip)
		soft_irqchip_send_msi(svm->irqchip, addr, data);
}

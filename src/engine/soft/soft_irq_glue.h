/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SOFT_IRQ_GLUE_H
#define KILN_ENGINE_SOFT_SOFT_IRQ_GLUE_H

#include "engine/soft/cpu.h"

/*
 * Everything between the soft CPU and the interrupt controllers
 * (src/engine/soft/irqchip/, irqchip.h) in one place. Standalone CPUs have
 * no irqchip: every hook then does nothing.
 */

struct soft_vm;
struct vm;

int soft_irq_init(struct soft_vm *svm);
void soft_irq_destroy(struct soft_vm *svm);
/* Connects vCPU cpu to its LAPIC (kick callback). */
void soft_irq_vcpu_init(struct soft_cpu *cpu);

unsigned int soft_cpu_index(const struct soft_cpu *cpu);
bool soft_irq_has_lapic(const struct soft_cpu *cpu);

/* The xAPIC page of this vCPU: its accesses never reach the MMIO bus. */
bool soft_lapic_page(const struct soft_cpu *cpu, u64 gpa);
void soft_lapic_access(struct soft_cpu *cpu, u64 gpa, void *buf, unsigned int len, bool write);

void soft_irq_cpuid(struct soft_cpu *cpu, u32 leaf, u32 subleaf, u32 out[4]);
/* 1 handled, 0 not the irqchip's, -1 #GP. */
int soft_irq_msr_read(struct soft_cpu *cpu, u32 index, u64 *val);
int soft_irq_msr_write(struct soft_cpu *cpu, u32 index, u64 val);
u64 soft_irq_rdtsc(struct soft_cpu *cpu, bool *ok);

u64 soft_irq_get_tpr(struct soft_cpu *cpu);
void soft_irq_set_tpr(struct soft_cpu *cpu, u64 cr8);

/*
 * Something may have unblocked an interrupt already pending (IF set, EOI,
 * TPR lowered): look again at the next block boundary.
 */
void soft_irq_window_opened(struct soft_cpu *cpu);

/*
 * At a block boundary: fire due timers, take INIT/SIPI/NMI, and pick the
 * external interrupt to deliver (cpu->inject_vector) when IF allows.
 */
void soft_irq_boundary(struct soft_cpu *cpu);

/* KVM_HC_SEND_IPI from this vCPU (irqchip.h); needs a LAPIC. */
s64 soft_irq_pv_send_ipi(struct soft_cpu *cpu, u64 lo, u64 hi, u64 min, u64 icr, bool op64);
/* Absolute CLOCK_MONOTONIC ns of the next timer, or ~0. */
u64 soft_irq_deadline(struct soft_cpu *cpu);
/* Would the CPU leave HLT now (interrupt with IF=1, NMI, INIT, SIPI)? */
bool soft_irq_wakes_halt(struct soft_cpu *cpu);

void soft_set_irq_line(struct vm *vm, u32 gsi, bool level);
void soft_send_msi(struct vm *vm, u64 addr, u32 data);

#endif

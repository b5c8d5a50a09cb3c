// SPDX-License-Identifier: Apache-2.0
/*
 * A soft vCPU in a snapshot. The vCPU is parked between blocks when this
 * runs (vcpu_check_requests at the top of the run loop), so cpu->cur is
 * NULL, RIP is exact, and nothing of a block is half done; the caches (TLB,
 * jump cache, translated blocks) are not state and start empty.
 */
#include "engine/soft/soft_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/soft/flags.h"
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "machine/vcpu.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

#define CR0_KNOWN (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		   CR0_NW | CR0_CD | CR0_PG)
#define CR4_KNOWN (0x7ffULL | CR4_FSGSBASE | CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | \
		   (1ULL << 22) /* PKE */)
#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | (1ULL << 12) | (1ULL << 14))

static void put_seg(struct snap_writer *w, const struct segment *s)
{
	snap_put_u64(w, s->base);
	snap_put_u32(w, s->limit);
	snap_put_u16(w, s->selector);
	snap_put_u8(w, s->type);
	snap_put_u8(w, s->s | s->dpl << 1 | s->present << 3 | s->avl << 4 | s->l << 5 |
		    s->db << 6 | s->g << 7);
	snap_put_u8(w, s->unusable);
}

static void get_seg(struct snap_reader *r, struct segment *s)
{
	u8 bits;

	memset(s, 0, sizeof(*s));
	s->base = snap_get_u64(r, "a segment base");
	s->limit = snap_get_u32(r, "a segment limit");
	s->selector = snap_get_u16(r, "a segment selector");
	s->type = snap_get_max(r, 1, 15, "a segment type");
	bits = snap_get_u8(r, "segment attributes");
	s->s = bits & 1;
	s->dpl = bits >> 1 & 3;
	s->present = bits >> 3 & 1;
	s->avl = bits >> 4 & 1;
	s->l = bits >> 5 & 1;
	s->db = bits >> 6 & 1;
	s->g = bits >> 7 & 1;
	s->unusable = snap_get_bool(r, "a segment's unusable flag");
}

static void put_u64s(struct snap_writer *w, const u64 *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		snap_put_u64(w, v[i]);
}

static void get_u64s(struct snap_reader *r, u64 *v, unsigned int n, const char *what)
{
	for (unsigned int i = 0; i < n; i++)
		v[i] = snap_get_u64(r, what);
}

/* Vectors and "none" (-1) as one byte-and-a-half: stored as s32. */
static void put_vector(struct snap_writer *w, int v)
{
	snap_put_u32(w, (u32)v);
}

static int get_vector(struct snap_reader *r, const char *what)
{
	s32 v = (s32)snap_get_u32(r, what);

	if (v < -1 || v > 255) {
		snap_fail(r, "%s is %d, not a vector", what, v);
		return -1;
	}
	return v;
}

static void cpu_save(void *opaque, struct snap_writer *w)
{
	struct soft_cpu *cpu = opaque;

	put_u64s(w, cpu->gpr, NR_GPRS);
	snap_put_u64(w, cpu_current_rip(cpu));
	snap_put_u64(w, cpu_get_rflags(cpu));
	snap_put_u8(w, cpu->cpl);
	for (unsigned int s = 0; s < NR_SEGS; s++)
		put_seg(w, &cpu->seg[s]);
	put_seg(w, &cpu->ldt);
	put_seg(w, &cpu->tr);
	snap_put_u64(w, cpu->gdt.base);
	snap_put_u16(w, cpu->gdt.limit);
	snap_put_u64(w, cpu->idt.base);
	snap_put_u16(w, cpu->idt.limit);
	snap_put_u64(w, cpu->cr0);
	snap_put_u64(w, cpu->cr2);
	snap_put_u64(w, cpu->cr3);
	snap_put_u64(w, cpu->cr4);
	snap_put_u64(w, cpu->cr8);
	snap_put_u64(w, cpu->efer);
	put_u64s(w, cpu->dr, 8);
	snap_put_u64(w, cpu->star);
	snap_put_u64(w, cpu->lstar);
	snap_put_u64(w, cpu->cstar);
	snap_put_u64(w, cpu->sfmask);
	snap_put_u64(w, cpu->kernel_gs_base);
	snap_put_u64(w, cpu->sysenter_cs);
	snap_put_u64(w, cpu->sysenter_esp);
	snap_put_u64(w, cpu->sysenter_eip);
	snap_put_u64(w, cpu->pat);
	snap_put_u64(w, cpu->tsc_aux);
	snap_put_u64(w, cpu->tsc_offset);
	snap_put_u64(w, cpu->misc_enable);
	snap_put_u64(w, cpu->apic_base);
	snap_put_u64(w, cpu->mtrr_def_type);
	snap_put_u64(w, cpu->hwcr);
	snap_put_u64(w, cpu->de_cfg);
	put_u64s(w, cpu->k7_perf, 8);
	snap_put_bytes(w, &cpu->fx, sizeof(cpu->fx));
	snap_put_u8(w, cpu->intr_shadow);
	snap_put_bool(w, cpu->halted);
	snap_put_bool(w, cpu->nmi_blocked);
	snap_put_bool(w, cpu->nmi_pending);
	snap_put_bool(w, cpu->wait_sipi);
	snap_put_bool(w, cpu->init_pending);
	put_vector(w, cpu->inject_vector);
	put_vector(w, cpu->sipi_vector);
}

/* Parses into t, a copy of the CPU; the caller keeps it only when good. */
static int cpu_parse(struct soft_cpu *cpu, struct soft_cpu *t, struct snap_reader *r)
{
	unsigned int cpl;
	get_u64s(r, t->gpr, NR_GPRS, "a GPR");
	t->rip = snap_get_u64(r, "RIP");
	t->rflags = snap_get_u64(r, "RFLAGS");
	cpl = snap_get_max(r, 1, 3, "CPL");
	for (unsigned int s = 0; s < NR_SEGS; s++)
		get_seg(r, &t->seg[s]);
	get_seg(r, &t->ldt);
	get_seg(r, &t->tr);
	t->gdt.base = snap_get_u64(r, "GDT base");
	t->gdt.limit = snap_get_u16(r, "GDT limit");
	t->idt.base = snap_get_u64(r, "IDT base");
	t->idt.limit = snap_get_u16(r, "IDT limit");
	t->cr0 = snap_get_u64(r, "CR0");
	t->cr2 = snap_get_u64(r, "CR2");
	t->cr3 = snap_get_u64(r, "CR3");
	t->cr4 = snap_get_u64(r, "CR4");
	t->cr8 = snap_get_max(r, 8, 15, "CR8");
	t->efer = snap_get_u64(r, "EFER");
	get_u64s(r, t->dr, 8, "a debug register");
	t->star = snap_get_u64(r, "STAR");
	t->lstar = snap_get_u64(r, "LSTAR");
	t->cstar = snap_get_u64(r, "CSTAR");
	t->sfmask = snap_get_u64(r, "SFMASK");
	t->kernel_gs_base = snap_get_u64(r, "KERNEL_GS_BASE");
	t->sysenter_cs = snap_get_u64(r, "SYSENTER_CS");
	t->sysenter_esp = snap_get_u64(r, "SYSENTER_ESP");
	t->sysenter_eip = snap_get_u64(r, "SYSENTER_EIP");
	t->pat = snap_get_u64(r, "PAT");
	t->tsc_aux = snap_get_u64(r, "TSC_AUX");
	t->tsc_offset = snap_get_u64(r, "the TSC offset");
	t->misc_enable = snap_get_u64(r, "MISC_ENABLE");
	t->apic_base = snap_get_u64(r, "APIC_BASE");
	t->mtrr_def_type = snap_get_u64(r, "MTRR_DEF_TYPE");
	t->hwcr = snap_get_u64(r, "HWCR");
	t->de_cfg = snap_get_u64(r, "DE_CFG");
	get_u64s(r, t->k7_perf, 8, "a PMU MSR");
	snap_get_bytes(r, &t->fx, sizeof(t->fx), "the FXSAVE area");
	t->intr_shadow = snap_get_max(r, 1, 1, "the interrupt shadow");
	t->halted = snap_get_bool(r, "halted");
	t->nmi_blocked = snap_get_bool(r, "NMI blocking");
	t->nmi_pending = snap_get_bool(r, "a pending NMI");
	t->wait_sipi = snap_get_bool(r, "wait-for-SIPI");
	t->init_pending = snap_get_bool(r, "a pending INIT");
	t->inject_vector = get_vector(r, "the interrupt to inject");
	t->sipi_vector = get_vector(r, "the SIPI vector");
	if (snap_reader_failed(r))
		return -1;
	if (t->cr0 & ~CR0_KNOWN || t->cr4 & ~CR4_KNOWN || t->efer & ~EFER_KNOWN)
		return snap_fail(r, "reserved bits set in CR0 %#llx, CR4 %#llx or EFER %#llx",
				 (unsigned long long)t->cr0, (unsigned long long)t->cr4,
				 (unsigned long long)t->efer);
	/* Modes the CPU can be in: the interpreter relies on them. */
	if (((t->cr0 & CR0_PG) && !(t->cr0 & CR0_PE)) ||
	    !!(t->efer & EFER_LMA) != ((t->efer & EFER_LME) && (t->cr0 & CR0_PG)) ||
	    ((t->efer & EFER_LMA) && !(t->cr4 & CR4_PAE)))
		return snap_fail(r, "CR0 %#llx, CR4 %#llx and EFER %#llx are not a mode the "
				 "CPU can be in", (unsigned long long)t->cr0,
				 (unsigned long long)t->cr4, (unsigned long long)t->efer);
	if (t->fx.mxcsr & ~MXCSR_MASK_SUPPORTED)
		return snap_fail(r, "MXCSR %#x has reserved bits set", t->fx.mxcsr);
	if (t->inject_vector >= 0 && t->inject_vector < 32)
		return snap_fail(r, "an external interrupt cannot use vector %d", t->inject_vector);

	memcpy(cpu, t, sizeof(*cpu));
	cpu->gpr[REG_ZERO] = 0;
	cpu->cur = NULL;
	cpu->cc_op = CC_EFLAGS;
	cpu->rflags |= RFLAGS_FIXED;
	cpu->exc_vector = -1;
	cpu->delivering = -1;
	cpu->triple_fault = false;
	cpu->last_block = NULL;
	cpu_set_cpl(cpu, cpl);
	cpu_update_mode(cpu);
	tlb_flush_all(cpu);
	return 0;
}

static int cpu_load(void *opaque, struct snap_reader *r)
{
	struct soft_cpu *cpu = opaque;
	struct soft_cpu *tmp = aligned_alloc(64, ALIGN_UP(sizeof(*tmp), 64));
	int ret;

	if (!tmp)
		return snap_fail(r, "out of memory");
	/* A copy first: the CPU changes only when the whole section is good. */
	memcpy(tmp, cpu, sizeof(*tmp));
	ret = cpu_parse(cpu, tmp, r);
	free(tmp);
	return ret;
}

static const struct snap_section_ops cpu_ops = {
	.save = cpu_save,
	.load = cpu_load,
};

int soft_snapshot_register(struct vm *vm)
{
	struct soft_vm *svm = vm->engine_data;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof(name), "vcpu%u", i);
		if (snap_register(vm, name, &cpu_ops, vm->vcpus[i].engine_data))
			return -1;
	}
	return soft_irqchip_snapshot_register(vm, svm->irqchip);
}

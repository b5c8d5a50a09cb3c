// SPDX-License-Identifier: Apache-2.0
/* struct cpu_state <-> kvm_regs, kvm_sregs and the MSRs cpu_state holds. */
#include <stddef.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "engine/kvm/kvm_msrs.h"
#include "lib/log.h"

static void segment_to_kvm(const struct segment *s, struct kvm_segment *k)
{
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->type;
	k->present = s->present;
	k->dpl = s->dpl;
	k->db = s->db;
	k->s = s->s;
	k->l = s->l;
	k->g = s->g;
	k->avl = s->avl;
	k->unusable = s->unusable;
	k->padding = 0;
}

static void segment_from_kvm(const struct kvm_segment *k, struct segment *s)
{
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	s->type = k->type;
	s->present = k->present;
	s->dpl = k->dpl;
	s->db = k->db;
	s->s = k->s;
	s->l = k->l;
	s->g = k->g;
	s->avl = k->avl;
	s->unusable = k->unusable;
}

/* The kvm_regs field of each enum gpr_index slot. */
static u64 *kvm_gpr(struct kvm_regs *r, enum gpr_index i)
{
	u64 *const map[NR_GPRS] = {
		[GPR_RAX] = (u64 *)&r->rax, [GPR_RCX] = (u64 *)&r->rcx,
		[GPR_RDX] = (u64 *)&r->rdx, [GPR_RBX] = (u64 *)&r->rbx,
		[GPR_RSP] = (u64 *)&r->rsp, [GPR_RBP] = (u64 *)&r->rbp,
		[GPR_RSI] = (u64 *)&r->rsi, [GPR_RDI] = (u64 *)&r->rdi,
		[GPR_R8] = (u64 *)&r->r8, [GPR_R9] = (u64 *)&r->r9,
		[GPR_R10] = (u64 *)&r->r10, [GPR_R11] = (u64 *)&r->r11,
		[GPR_R12] = (u64 *)&r->r12, [GPR_R13] = (u64 *)&r->r13,
		[GPR_R14] = (u64 *)&r->r14, [GPR_R15] = (u64 *)&r->r15,
	};

	return map[i];
}

/* The MSRs struct cpu_state carries, and where. */
static const struct {
	u32 index;
	size_t offset;
} state_msrs[] = {
	{ MSR_STAR, offsetof(struct cpu_state, star) },
	{ MSR_LSTAR, offsetof(struct cpu_state, lstar) },
	{ MSR_CSTAR, offsetof(struct cpu_state, cstar) },
	{ MSR_SYSCALL_MASK, offsetof(struct cpu_state, sfmask) },
	{ MSR_KERNEL_GS_BASE, offsetof(struct cpu_state, kernel_gs_base) },
	{ MSR_IA32_SYSENTER_CS, offsetof(struct cpu_state, sysenter_cs) },
	{ MSR_IA32_SYSENTER_ESP, offsetof(struct cpu_state, sysenter_esp) },
	{ MSR_IA32_SYSENTER_EIP, offsetof(struct cpu_state, sysenter_eip) },
	{ MSR_IA32_CR_PAT, offsetof(struct cpu_state, pat) },
};

static u64 *state_msr(struct cpu_state *st, size_t i)
{
	return (u64 *)((char *)st + state_msrs[i].offset);
}

static int set_state_msrs(int fd, const struct cpu_state *st)
{
	struct kvm_msr_entry e[ARRAY_SIZE(state_msrs)];
	unsigned int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(state_msrs); i++) {
		u64 v = *state_msr((struct cpu_state *)st, i);

		/*
		 * PAT 0 (all uncachable) is never a state anyone means to
		 * boot with; it is what a zeroed cpu_state holds. Keep the
		 * power-on value then.
		 */
		if (state_msrs[i].index == MSR_IA32_CR_PAT && v == 0)
			continue;
		e[n++] = (struct kvm_msr_entry){ .index = state_msrs[i].index, .data = v };
	}
	return kvm_msrs_set(fd, e, n);
}

int kvm_vcpu_set_state(struct vcpu *vcpu, const struct cpu_state *st)
{
	int fd = kvm_vcpu_of(vcpu)->fd;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	for (int i = 0; i < NR_GPRS; i++)
		*kvm_gpr(&regs, i) = st->gpr[i];
	regs.rip = st->rip;
	/* Bit 1 always reads as one; a zeroed cpu_state must still enter. */
	regs.rflags = st->rflags | RFLAGS_FIXED;

	/* Start from KVM's own sregs: it keeps the pending-interrupt bitmap. */
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_err("kvm: vcpu%u: KVM_GET_SREGS: %m", vcpu->index);
		return -1;
	}
	segment_to_kvm(&st->cs, &sregs.cs);
	segment_to_kvm(&st->ds, &sregs.ds);
	segment_to_kvm(&st->es, &sregs.es);
	segment_to_kvm(&st->fs, &sregs.fs);
	segment_to_kvm(&st->gs, &sregs.gs);
	segment_to_kvm(&st->ss, &sregs.ss);
	segment_to_kvm(&st->tr, &sregs.tr);
	segment_to_kvm(&st->ldt, &sregs.ldt);
	sregs.gdt.base = st->gdt.base;
	sregs.gdt.limit = st->gdt.limit;
	sregs.idt.base = st->idt.base;
	sregs.idt.limit = st->idt.limit;
	sregs.cr0 = st->cr0;
	sregs.cr2 = st->cr2;
	sregs.cr3 = st->cr3;
	sregs.cr4 = st->cr4;
	sregs.cr8 = st->cr8;
	sregs.efer = st->efer;
	/* 0 would disable the LAPIC; a zeroed cpu_state means "as reset". */
	if (st->apic_base)
		sregs.apic_base = st->apic_base;

	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
		pr_err("kvm: vcpu%u: KVM_SET_SREGS: %m", vcpu->index);
		return -1;
	}
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0) {
		pr_err("kvm: vcpu%u: KVM_SET_REGS: %m", vcpu->index);
		return -1;
	}
	return set_state_msrs(fd, st);
}

/*
 * Also called after a failed entry or an internal error, to dump the
 * registers: a refused MSR read leaves that field 0 and is not fatal.
 */
int kvm_vcpu_get_state(struct vcpu *vcpu, struct cpu_state *st)
{
	int fd = kvm_vcpu_of(vcpu)->fd;
	struct kvm_msr_entry e[ARRAY_SIZE(state_msrs)];
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(fd, KVM_GET_REGS, &regs) < 0 || ioctl(fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_err("kvm: vcpu%u: cannot read registers: %m", vcpu->index);
		return -1;
	}
	for (int i = 0; i < NR_GPRS; i++)
		st->gpr[i] = *kvm_gpr(&regs, i);
	st->rip = regs.rip;
	st->rflags = regs.rflags;
	segment_from_kvm(&sregs.cs, &st->cs);
	segment_from_kvm(&sregs.ds, &st->ds);
	segment_from_kvm(&sregs.es, &st->es);
	segment_from_kvm(&sregs.fs, &st->fs);
	segment_from_kvm(&sregs.gs, &st->gs);
	segment_from_kvm(&sregs.ss, &st->ss);
	segment_from_kvm(&sregs.tr, &st->tr);
	segment_from_kvm(&sregs.ldt, &st->ldt);
	st->gdt.base = sregs.gdt.base;
	st->gdt.limit = sregs.gdt.limit;
	st->idt.base = sregs.idt.base;
	st->idt.limit = sregs.idt.limit;
	st->cr0 = sregs.cr0;
	st->cr2 = sregs.cr2;
	st->cr3 = sregs.cr3;
	st->cr4 = sregs.cr4;
	st->cr8 = sregs.cr8;
	st->efer = sregs.efer;
	st->apic_base = sregs.apic_base;

	for (size_t i = 0; i < ARRAY_SIZE(state_msrs); i++)
		e[i] = (struct kvm_msr_entry){ .index = state_msrs[i].index };
	kvm_msrs_get(fd, e, ARRAY_SIZE(e));
	for (size_t i = 0; i < ARRAY_SIZE(state_msrs); i++)
		*state_msr(st, i) = e[i].data;
	return 0;
}

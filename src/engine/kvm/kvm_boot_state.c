// SPDX-License-Identifier: Apache-2.0
/*
 * What a vCPU holds when the boot loader takes over: the MSRs and FPU state
 * a PC BIOS leaves behind. The loader then sets the entry registers of the
 * boot vCPU; the others wait in KVM for INIT/SIPI.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "engine/kvm/kvm_msrs.h"
#include "lib/log.h"
#include "machine/layout.h"

#define FPU_FCW_INIT 0x037f
#define MXCSR_INIT 0x1f80
#define CPUID1_EDX_MTRR (1U << 12)
#define DEFAULT_PHYS_BITS 36

static const struct kvm_cpuid_entry2 *supported_leaf(const struct kvm_vm *kvm, u32 function)
{
	for (u32 i = 0; i < kvm->supported->nent; i++)
		if (kvm->supported->entries[i].function == function)
			return &kvm->supported->entries[i];
	return NULL;
}

static u32 guest_phys_bits(const struct kvm_vm *kvm)
{
	const struct kvm_cpuid_entry2 *e = supported_leaf(kvm, 0x80000008);

	return e && (e->eax & 0xff) ? e->eax & 0xff : DEFAULT_PHYS_BITS;
}

/*
 * MTRRs as firmware sets them: write-back by default, the 32-bit MMIO hole
 * (one naturally aligned power of two) uncachable.
 */
static unsigned int add_mtrrs(const struct kvm_vm *kvm, struct kvm_msr_entry *e)
{
	const struct kvm_cpuid_entry2 *leaf1 = supported_leaf(kvm, 1);
	u64 hole = LAYOUT_MMIO_HOLE_END - LAYOUT_MMIO_HOLE_START;
	u64 phys_mask = (1ULL << guest_phys_bits(kvm)) - 1;

	_Static_assert(((LAYOUT_MMIO_HOLE_END - LAYOUT_MMIO_HOLE_START) &
			(LAYOUT_MMIO_HOLE_END - LAYOUT_MMIO_HOLE_START - 1)) == 0 &&
		       (LAYOUT_MMIO_HOLE_START % (LAYOUT_MMIO_HOLE_END - LAYOUT_MMIO_HOLE_START)) == 0,
		       "one variable MTRR covers the MMIO hole");
	if (!leaf1 || !(leaf1->edx & CPUID1_EDX_MTRR))
		return 0;
	e[0] = (struct kvm_msr_entry){ .index = MSR_MTRR_PHYS_BASE(0),
				       .data = LAYOUT_MMIO_HOLE_START | MTRR_TYPE_UC };
	e[1] = (struct kvm_msr_entry){ .index = MSR_MTRR_PHYS_MASK(0),
				       .data = (~(hole - 1) & phys_mask) | MTRR_PHYS_MASK_VALID };
	e[2] = (struct kvm_msr_entry){ .index = MSR_MTRR_DEF_TYPE,
				       .data = MTRR_DEF_TYPE_ENABLE | MTRR_TYPE_WB };
	return 3;
}

static int set_boot_msrs(struct vcpu *vcpu)
{
	static const struct kvm_msr_entry fixed[] = {
		{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
		{ .index = MSR_IA32_SYSENTER_CS, .data = 0 },
		{ .index = MSR_IA32_SYSENTER_ESP, .data = 0 },
		{ .index = MSR_IA32_SYSENTER_EIP, .data = 0 },
		{ .index = MSR_STAR, .data = 0 },
		{ .index = MSR_LSTAR, .data = 0 },
		{ .index = MSR_CSTAR, .data = 0 },
		{ .index = MSR_SYSCALL_MASK, .data = 0 },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0 },
		{ .index = MSR_IA32_TSC, .data = 0 },
		{ .index = MSR_IA32_CR_PAT, .data = PAT_POWER_ON_DEFAULT },
	};
	struct kvm_msr_entry e[ARRAY_SIZE(fixed) + 3];
	unsigned int n = ARRAY_SIZE(fixed);

	memcpy(e, fixed, sizeof(fixed));
	n += add_mtrrs(kvm_vm_of(vcpu->vm), e + n);
	return kvm_msrs_set(kvm_vcpu_of(vcpu)->fd, e, n);
}

static int set_boot_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = FPU_FCW_INIT;
	fpu.mxcsr = MXCSR_INIT;
	if (ioctl(kvm_vcpu_of(vcpu)->fd, KVM_SET_FPU, &fpu) < 0) {
		pr_err("kvm: vcpu%u: KVM_SET_FPU: %m", vcpu->index);
		return -1;
	}
	return 0;
}

int kvm_vcpu_init_boot_state(struct vcpu *vcpu)
{
	if (set_boot_msrs(vcpu)) {
		pr_err("kvm: vcpu%u: cannot set the boot MSRs", vcpu->index);
		return -1;
	}
	return set_boot_fpu(vcpu);
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_KVM_KVM_MSRS_H
#define KILN_ENGINE_KVM_KVM_MSRS_H

#include "lib/types.h"

#define MSR_IA32_TSC			0x00000010
#define MSR_IA32_SYSENTER_CS		0x00000174
#define MSR_IA32_SYSENTER_ESP		0x00000175
#define MSR_IA32_SYSENTER_EIP		0x00000176
#define MSR_IA32_MISC_ENABLE		0x000001a0
#define MSR_MTRR_PHYS_BASE(n)		(0x00000200 + 2 * (n))
#define MSR_MTRR_PHYS_MASK(n)		(0x00000201 + 2 * (n))
#define MSR_IA32_CR_PAT			0x00000277
#define MSR_MTRR_DEF_TYPE		0x000002ff
#define MSR_STAR			0xc0000081
#define MSR_LSTAR			0xc0000082
#define MSR_CSTAR			0xc0000083
#define MSR_SYSCALL_MASK		0xc0000084
#define MSR_KERNEL_GS_BASE		0xc0000102

#define MISC_ENABLE_FAST_STRING		(1ULL << 0)
#define PAT_POWER_ON_DEFAULT		0x0007040600070406ULL
#define MTRR_TYPE_UC			0
#define MTRR_TYPE_WB			6
#define MTRR_DEF_TYPE_ENABLE		(1ULL << 11)
#define MTRR_PHYS_MASK_VALID		(1ULL << 11)

struct kvm_msr_entry;

/*
 * KVM_SET_MSRS / KVM_GET_MSRS on n entries; -1 (with the first MSR KVM
 * refused named in the log) unless all n went through.
 */
int kvm_msrs_set(int vcpu_fd, const struct kvm_msr_entry *e, unsigned int n);
int kvm_msrs_get(int vcpu_fd, struct kvm_msr_entry *e, unsigned int n);

#endif

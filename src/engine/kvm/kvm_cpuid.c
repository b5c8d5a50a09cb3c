// SPDX-License-Identifier: Apache-2.0
/*
 * The CPUID a vCPU sees: what KVM can virtualise, plus the hypervisor bit
 * and a topology that matches the machine: nr_vcpus cores of one thread on
 * one socket, APIC ID (and x2APIC ID) = vCPU index. KVM's paravirtual
 * leaves (0x40000000 up) pass through unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"

#define CPUID_MAX_ENTRIES 4096
/* Subleaves Kiln writes for leaves 0xB and 0x1F: SMT, core, terminator. */
#define TOPOLOGY_SUBLEAVES 3

#define CPUID1_ECX_HYPERVISOR (1U << 31)
#define CPUID1_EDX_HTT (1U << 28)

#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

int kvm_cpuid_fetch_supported(struct kvm_vm *kvm)
{
	for (u32 nent = 128; nent <= CPUID_MAX_ENTRIES; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -1;
		c->nent = nent;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->supported = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	pr_err("kvm: KVM_GET_SUPPORTED_CPUID: %m");
	return -1;
}

/* Bits needed to number n things: ceil(log2(n)). */
static u32 id_bits(u32 n)
{
	u32 bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

struct topology {
	u32 apic_id;
	u32 nr_cores;
	u32 core_bits;		/* width of the core field of an APIC ID */
};

static void fix_leaf1(struct kvm_cpuid_entry2 *e, const struct topology *t)
{
	e->ecx |= CPUID1_ECX_HYPERVISOR;
	/* Keep the brand index and CLFLUSH size; set APIC ID and ID count. */
	e->ebx = (e->ebx & 0xffff) | MIN(1U << t->core_bits, 0xffU) << 16 | t->apic_id << 24;
	if (t->nr_cores > 1)
		e->edx |= CPUID1_EDX_HTT;
	else
		e->edx &= ~CPUID1_EDX_HTT;
}

/* Deterministic cache parameters: L1 and L2 per core, L3 per socket. */
static void fix_leaf4(struct kvm_cpuid_entry2 *e, const struct topology *t)
{
	u32 level = (e->eax >> 5) & 7;
	u32 sharing = level >= 3 ? (1U << t->core_bits) - 1 : 0;

	if ((e->eax & 0x1f) == 0)	/* no more caches */
		return;
	e->eax = (e->eax & 0x3fff) | (sharing & 0xfff) << 14 |
		 (((1U << t->core_bits) - 1) & 0x3f) << 26;
}

/* Extended topology (0xB, and 0x1F when KVM offers it): SMT, core, end. */
static void add_topology_leaf(struct kvm_cpuid2 *c, u32 function, const struct topology *t)
{
	static const u32 level_type[TOPOLOGY_SUBLEAVES] = { TOPO_LEVEL_SMT, TOPO_LEVEL_CORE, 0 };

	for (u32 i = 0; i < TOPOLOGY_SUBLEAVES; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		memset(e, 0, sizeof(*e));
		e->function = function;
		e->index = i;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e->ecx = level_type[i] << 8 | i;
		e->edx = t->apic_id;
		if (level_type[i] == TOPO_LEVEL_SMT) {
			e->eax = 0;		/* one thread per core */
			e->ebx = 1;
		} else if (level_type[i] == TOPO_LEVEL_CORE) {
			e->eax = t->core_bits;
			e->ebx = t->nr_cores;
		}
	}
}

static u32 max_basic_leaf(const struct kvm_cpuid2 *c)
{
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			return c->entries[i].eax;
	return 0;
}

static bool has_leaf(const struct kvm_cpuid2 *c, u32 function)
{
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == function)
			return true;
	return false;
}

int kvm_cpuid_setup(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *sup = kvm_vm_of(vcpu->vm)->supported;
	struct topology t = {
		.apic_id = vcpu->index,
		.nr_cores = vcpu->vm->nr_vcpus,
		.core_bits = id_bits(vcpu->vm->nr_vcpus),
	};
	u32 max_leaf = max_basic_leaf(sup);
	bool leaf_b = max_leaf >= 0xb;
	bool leaf_1f = max_leaf >= 0x1f && has_leaf(sup, 0x1f);
	struct kvm_cpuid2 *c;
	int ret;

	c = calloc(1, sizeof(*c) + (sup->nent + 2 * TOPOLOGY_SUBLEAVES) * sizeof(c->entries[0]));
	if (!c)
		return -1;
	for (u32 i = 0; i < sup->nent; i++) {
		struct kvm_cpuid_entry2 e = sup->entries[i];

		switch (e.function) {
		case 0x1:
			fix_leaf1(&e, &t);
			break;
		case 0x4:
			fix_leaf4(&e, &t);
			break;
		case 0xb:
		case 0x1f:
			continue;	/* rewritten whole below */
		}
		c->entries[c->nent++] = e;
	}
	if (leaf_b)
		add_topology_leaf(c, 0xb, &t);
	if (leaf_1f)
		add_topology_leaf(c, 0x1f, &t);

	ret = ioctl(kvm_vcpu_of(vcpu)->fd, KVM_SET_CPUID2, c);
	free(c);
	if (ret < 0) {
		pr_err("kvm: KVM_SET_CPUID2 for vcpu%u: %m", vcpu->index);
		return -1;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"
#include "machine/layout.h"

static int kvm_create_vm_fd(int sys_fd)
{
	int fd;

	/* KVM_CREATE_VM may be interrupted while the kernel sets up the MMU. */
	do
		fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/*
 * Intel hosts need a real-mode TSS and an identity page table somewhere in
 * guest-physical space for unrestricted-guest fallbacks. They must not be
 * RAM, or the guest could scribble over them.
 */
static int kvm_set_private_pages(struct vm *vm, int vm_fd)
{
	u64 idmap = LAYOUT_KVM_IDENTITY_MAP;

	if (guest_mem_find(&vm->mem, LAYOUT_KVM_IDENTITY_MAP) ||
	    guest_mem_find(&vm->mem, LAYOUT_KVM_TSS + 3 * 4096 - 1)) {
		pr_err("kvm: the KVM private pages at %#llx overlap guest RAM",
		       LAYOUT_KVM_IDENTITY_MAP);
		return -1;
	}
	if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		pr_err("kvm: KVM_SET_IDENTITY_MAP_ADDR: %m");
		return -1;
	}
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0) {
		pr_err("kvm: KVM_SET_TSS_ADDR: %m");
		return -1;
	}
	return 0;
}

static int kvm_create_irqchip_and_pit(struct kvm_vm *kvm)
{
	int vm_fd = kvm->vm_fd;
	/* flags 0: a real PC speaker port 0x61, whose OUT2 bit Linux calibrates on. */
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("kvm: KVM_CREATE_IRQCHIP: %m");
		return -1;
	}
	if (kvm_irq_setup_routing(kvm))
		return -1;
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("kvm: KVM_CREATE_PIT2: %m");
		return -1;
	}
	return 0;
}

static int kvm_map_memory(struct vm *vm, int vm_fd)
{
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (u64)(uintptr_t)r->hva,
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			pr_err("kvm: cannot map %#" PRIx64 "+%#" PRIx64 " into the guest: %m",
			       r->gpa, r->size);
			return -1;
		}
	}
	return 0;
}

int kvm_vm_create(struct vm *vm)
{
	struct kvm_vm *kvm = calloc(1, sizeof(*kvm));
	const char *why;
	int size;

	if (!kvm)
		return -1;
	kvm->sys_fd = -1;
	kvm->vm_fd = -1;
	/* Set now, so that vm_destroy() releases a half-built engine. */
	vm->engine_data = kvm;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		pr_err("kvm: cannot open /dev/kvm: %m");
		return -1;
	}
	why = kvm_check_host(kvm->sys_fd);
	if (why) {
		pr_err("kvm: %s", why);
		return -1;
	}
	size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		pr_err("kvm: KVM_GET_VCPU_MMAP_SIZE gave %d", size);
		return -1;
	}
	kvm->run_size = size;

	kvm->vm_fd = kvm_create_vm_fd(kvm->sys_fd);
	if (kvm->vm_fd < 0) {
		pr_err("kvm: KVM_CREATE_VM: %m");
		return -1;
	}
	if (kvm_set_private_pages(vm, kvm->vm_fd) ||
	    kvm_create_irqchip_and_pit(kvm) ||
	    kvm_map_memory(vm, kvm->vm_fd) ||
	    kvm_cpuid_fetch_supported(kvm))
		return -1;
	return 0;
}

void kvm_vm_destroy(struct vm *vm)
{
	struct kvm_vm *kvm = kvm_vm_of(vm);

	if (!kvm)
		return;
	kvm_msi_destroy(kvm);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	free(kvm->supported);
	free(kvm);
	vm->engine_data = NULL;
}

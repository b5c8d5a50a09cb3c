// SPDX-License-Identifier: Apache-2.0
/*
 * Dirty-page logging on kvm: KVM_MEM_LOG_DIRTY_PAGES on every memslot,
 * read with KVM_GET_DIRTY_LOG. Where KVM offers manual protection
 * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, Linux 5.3), reading leaves the log
 * alone and KVM_CLEAR_DIRTY_LOG clears, and write-protects again, exactly
 * the pages that were read; otherwise every read clears.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"

/* Memslot i is vm->mem.regions[i], as kvm_vm.c maps them. */
static int set_slot_flags(struct vm *vm, unsigned int i, u32 flags)
{
	const struct mem_region *r = &vm->mem.regions[i];
	struct kvm_userspace_memory_region slot = {
		.slot = i,
		.flags = flags,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (u64)(uintptr_t)r->hva,
	};

	if (ioctl(kvm_vm_of(vm)->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -errno;
	return 0;
}

/* Turned on once, before the first start; KVM keeps it for the VM's life. */
static int enable_manual_protect(struct kvm_vm *kvm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
	};
	int modes = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);

	if (kvm->dirty_manual_protect || modes <= 0 ||
	    !(modes & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
		return 0;
	if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;
	kvm->dirty_manual_protect = true;
	return 0;
}

int kvm_set_dirty_logging(struct vm *vm, bool on)
{
	struct kvm_vm *kvm = kvm_vm_of(vm);
	u32 flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	unsigned int i;
	int ret;

	if (kvm->dirty_logging == on)
		return 0;
	if (on) {
		ret = enable_manual_protect(kvm);
		if (ret)
			return ret;
	}
	for (i = 0; i < vm->mem.nr_regions; i++) {
		ret = set_slot_flags(vm, i, flags);
		if (ret)
			goto undo;
	}
	kvm->dirty_logging = on;
	return 0;
undo:
	/* Leave every slot as it was; a failure here would be KVM's own. */
	while (i--)
		if (set_slot_flags(vm, i, on ? 0 : KVM_MEM_LOG_DIRTY_PAGES))
			pr_warn("kvm: cannot restore the logging flag of memslot %u", i);
	return ret;
}

int kvm_get_dirty_log(struct vm *vm, unsigned int region, unsigned long *bitmap, bool clear)
{
	struct kvm_vm *kvm = kvm_vm_of(vm);
	struct kvm_dirty_log log = { .slot = region, .dirty_bitmap = bitmap };
	struct kvm_clear_dirty_log reset = {
		.slot = region,
		.first_page = 0,
		.dirty_bitmap = bitmap,
	};

	if (!kvm->dirty_logging)
		return -ENOENT;
	if (region >= vm->mem.nr_regions)
		return -EINVAL;
	/* Without manual protection, KVM cannot read the log without clearing it. */
	if (!clear && !kvm->dirty_manual_protect)
		return -EOPNOTSUPP;
	if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	if (!clear || !kvm->dirty_manual_protect)
		return 0;
	/* The whole slot: KVM accepts any page count that ends at its end. */
	reset.num_pages = vm->mem.regions[region].size >> 12;
	if (ioctl(kvm->vm_fd, KVM_CLEAR_DIRTY_LOG, &reset) < 0)
		return -errno;
	return 0;
}

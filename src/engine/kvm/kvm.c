// SPDX-License-Identifier: Apache-2.0
/*
 * The kvm engine: runs vCPUs with /dev/kvm. The in-kernel irqchip (PIC,
 * IOAPIC, LAPICs) and PIT serve interrupts, timers and INIT/SIPI; every
 * other port and MMIO access exits to the machine's buses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/kvm/kvm_internal.h"
#include "engine/kvm/kvm_snapshot.h"

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

const char *kvm_check_host(int sys_fd)
{
	static char why[128];
	int ret = ioctl(sys_fd, KVM_GET_API_VERSION, 0);

	if (ret != KVM_API_VERSION) {
		snprintf(why, sizeof(why), "/dev/kvm speaks API version %d, Kiln needs %d",
			 ret, KVM_API_VERSION);
		return why;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, sizeof(why), "this kernel's KVM lacks %s",
				 required_caps[i].name);
			return why;
		}
	}
	return NULL;
}

static const char *kvm_unavailable(void)
{
	static char why[160];
	const char *reason;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open /dev/kvm: %s", strerror(errno));
		return why;
	}
	reason = kvm_check_host(fd);
	close(fd);
	return reason;
}

const struct engine_ops kvm_engine_ops = {
	.name = "kvm",
	.unavailable = kvm_unavailable,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_set_state = kvm_vcpu_set_state,
	.vcpu_get_state = kvm_vcpu_get_state,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.set_irq_line = kvm_set_irq_line,
	.send_msi = kvm_send_msi,
	.report_stats = kvm_msi_report_stats,
	.set_dirty_logging = kvm_set_dirty_logging,
	.get_dirty_log = kvm_get_dirty_log,
	.snapshot_register = kvm_snapshot_register,
};

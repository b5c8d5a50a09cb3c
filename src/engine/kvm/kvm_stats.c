// SPDX-License-Identifier: Apache-2.0
/*
 * Idle time from KVM's binary statistics: with the in-kernel LAPIC a HLT
 * never reaches us, so only KVM knows how long a vCPU sat halted. Without
 * KVM_GET_STATS_FD (Linux < 5.14) idle_ns stays 0 and run_ns includes it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/kvm/kvm_internal.h"

/* Time halted: blocked waiting, or polling before blocking. */
static const char *const idle_stats[KVM_IDLE_STATS] = {
	"halt_wait_ns", "halt_poll_success_ns", "halt_poll_fail_ns",
};

void kvm_vcpu_stats_open(struct kvm_vcpu *kv)
{
	struct kvm_stats_header h;
	size_t desc_size;
	u8 *descs = NULL;
	int fd;

	kv->stats_fd = -1;
	fd = ioctl(kv->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc == 0 || h.num_desc > 4096 ||
	    h.name_size > 4096)
		goto fail;
	desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(desc_size * h.num_desc);
	if (!descs || pread(fd, descs, desc_size * h.num_desc, h.desc_offset) !=
		      (ssize_t)(desc_size * h.num_desc))
		goto fail;
	for (u32 i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * desc_size);

		d->name[h.name_size - 1] = '\0';
		for (int k = 0; k < KVM_IDLE_STATS; k++)
			if (d->size == 1 && !strcmp(d->name, idle_stats[k]))
				kv->idle_offsets[kv->nr_idle++] = h.data_offset + d->offset;
	}
	free(descs);
	if (!kv->nr_idle)
		goto fail_closed;
	kv->stats_fd = fd;
	return;
fail:
	free(descs);
fail_closed:
	close(fd);
}

void kvm_vcpu_stats_close(struct kvm_vcpu *kv)
{
	if (kv->stats_fd >= 0)
		close(kv->stats_fd);
	kv->stats_fd = -1;
}

/* Splits the time spent in KVM_RUN into running and halted. */
void kvm_vcpu_stats_refresh(struct vcpu *vcpu, struct kvm_vcpu *kv)
{
	u64 idle = 0;

	for (unsigned int i = 0; i < kv->nr_idle && kv->stats_fd >= 0; i++) {
		u64 v;

		if (pread(kv->stats_fd, &v, sizeof(v), kv->idle_offsets[i]) != sizeof(v))
			return;
		idle += v;
	}
	idle = MIN(idle, kv->in_kvm_ns);
	vcpu->stats.idle_ns = idle;
	vcpu->stats.run_ns = kv->in_kvm_ns - idle;
}

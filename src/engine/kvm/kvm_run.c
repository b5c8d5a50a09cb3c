// SPDX-License-Identifier: Apache-2.0
/* The vCPU loop: KVM_RUN, then turn each exit into bus accesses or a stop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"

/* What to do after an exit: go back in, or leave vcpu_run() with a result. */
struct exit_action {
	bool stop;
	enum vcpu_run_result result;
};

static const struct exit_action keep_running = { .stop = false };

static struct exit_action stop_with(enum vcpu_run_result r)
{
	return (struct exit_action){ .stop = true, .result = r };
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Port I/O, string forms included: count items of size bytes at
 * data_offset in the run area. KVM fills those fields, but a bad value must
 * not make us touch memory beyond the mapping.
 */
static struct exit_action handle_io(struct vcpu *vcpu, struct kvm_vcpu *kv)
{
	struct kvm_run *run = kv->run;
	struct bus *bus = &vcpu->vm->pio_bus;
	u64 size = run->io.size, count = run->io.count, off = run->io.data_offset;
	u8 *data = (u8 *)run + off;

	if ((size != 1 && size != 2 && size != 4) || off > kv->run_size ||
	    count > (kv->run_size - off) / size) {
		pr_err("kvm: vcpu%u: malformed I/O exit: port %#x size %" PRIu64
		       " count %" PRIu64 " offset %#" PRIx64,
		       vcpu->index, run->io.port, size, count, off);
		return stop_with(VCPU_RUN_ERROR);
	}
	for (u64 i = 0; i < count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(bus, run->io.port, data, size);
		else
			bus_read(bus, run->io.port, data, size);
	}
	return keep_running;
}

static struct exit_action handle_mmio(struct vcpu *vcpu, struct kvm_run *run)
{
	struct bus *bus = &vcpu->vm->mmio_bus;
	u32 len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		pr_err("kvm: vcpu%u: malformed MMIO exit: %#llx len %u",
		       vcpu->index, (unsigned long long)run->mmio.phys_addr, len);
		return stop_with(VCPU_RUN_ERROR);
	}
	if (run->mmio.is_write)
		bus_write(bus, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(bus, run->mmio.phys_addr, run->mmio.data, len);
	return keep_running;
}

static struct exit_action handle_system_event(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;

	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vm, VM_STOP_POWEROFF, 0);
		return keep_running;	/* the stop request ends the loop */
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vm, VM_STOP_RESET, EXIT_CODE_RESET);
		return keep_running;
	case KVM_SYSTEM_EVENT_CRASH:
		pr_err("kvm: vcpu%u: the guest reported a crash", vcpu->index);
		return stop_with(VCPU_RUN_ERROR);
	default:
		pr_err("kvm: vcpu%u: unknown system event %u", vcpu->index,
		       run->system_event.type);
		return stop_with(VCPU_RUN_ERROR);
	}
}

static void report_internal_error(struct vcpu *vcpu, struct kvm_run *run)
{
	u32 ndata = MIN(run->internal.ndata, (u32)ARRAY_SIZE(run->internal.data));
	char line[16 * 20 + 1];
	int pos = 0;

	pr_err("kvm: vcpu%u: KVM internal error, suberror %u%s", vcpu->index,
	       run->internal.suberror,
	       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
	       " (instruction emulation failed)" : "");
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		u32 n = MIN(run->emulation_failure.insn_size, 15);

		for (u32 i = 0; i < n; i++)
			pos += snprintf(line + pos, sizeof(line) - pos, " %02x",
					run->emulation_failure.insn_bytes[i]);
		pr_err("kvm: vcpu%u: instruction bytes:%s", vcpu->index, n ? line : " none");
		pos = 0;
	}
	for (u32 i = 0; i < ndata; i++)
		pos += snprintf(line + pos, sizeof(line) - pos, " %#llx",
				(unsigned long long)run->internal.data[i]);
	if (ndata)
		pr_err("kvm: vcpu%u: data:%s", vcpu->index, line);
}

static struct exit_action handle_exit(struct vcpu *vcpu, struct kvm_vcpu *kv)
{
	struct kvm_run *run = kv->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_count_exit(vcpu, EXIT_IO);
		return handle_io(vcpu, kv);
	case KVM_EXIT_MMIO:
		vcpu_count_exit(vcpu, EXIT_MMIO);
		return handle_mmio(vcpu, run);
	case KVM_EXIT_HLT:
		/* Only without the in-kernel LAPIC; nothing to wait for here. */
		vcpu_count_exit(vcpu, EXIT_HLT);
		return keep_running;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		vcpu_count_exit(vcpu, EXIT_IRQ_WINDOW);
		return keep_running;
	case KVM_EXIT_INTR:
		vcpu_count_exit(vcpu, EXIT_INTR);
		return keep_running;
	case KVM_EXIT_SHUTDOWN:
		vcpu_count_exit(vcpu, EXIT_SHUTDOWN);
		return stop_with(VCPU_RUN_TRIPLE_FAULT);
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_count_exit(vcpu, EXIT_SYSTEM_EVENT);
		return handle_system_event(vcpu, run);
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_count_exit(vcpu, EXIT_FAIL_ENTRY);
		pr_err("kvm: vcpu%u: the CPU refused to enter the guest: hardware reason %#llx on host CPU %u",
		       vcpu->index,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		       run->fail_entry.cpu);
		return stop_with(VCPU_RUN_ERROR);
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_count_exit(vcpu, EXIT_INTERNAL_ERROR);
		report_internal_error(vcpu, run);
		return stop_with(VCPU_RUN_ERROR);
	default:
		vcpu_count_exit(vcpu, EXIT_OTHER);
		pr_err("kvm: vcpu%u: unexpected exit reason %u", vcpu->index, run->exit_reason);
		return stop_with(VCPU_RUN_ERROR);
	}
}

/* How stale --stats or the API may find the run/idle split. */
#define STATS_REFRESH_NS 100000000ULL

static void account_run_time(struct vcpu *vcpu, struct kvm_vcpu *kv, u64 start, u64 end)
{
	kv->in_kvm_ns += end - start;
	vcpu->stats.run_ns += end - start;
	if (end - kv->last_refresh_ns >= STATS_REFRESH_NS) {
		kv->last_refresh_ns = end;
		kvm_vcpu_stats_refresh(vcpu, kv);
	}
}

static enum vcpu_run_result run_loop(struct vcpu *vcpu, struct kvm_vcpu *kv)
{
	struct kvm_run *run = kv->run;

	for (;;) {
		struct exit_action action;
		u64 start;
		int ret;

		if (vcpu_has_requests(vcpu) && vcpu_check_requests(vcpu))
			return VCPU_RUN_STOPPED;

		start = now_ns();
		ret = ioctl(kv->fd, KVM_RUN, 0);
		account_run_time(vcpu, kv, start, now_ns());

		/*
		 * Pairs with kvm_vcpu_kick(): a kick that lands after this
		 * clear has its request seen at the top of the loop.
		 */
		__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);

		if (ret < 0) {
			if (errno == EINTR) {
				vcpu_count_exit(vcpu, EXIT_INTR);
				continue;
			}
			if (errno == EAGAIN)
				continue;
			pr_err("kvm: vcpu%u: KVM_RUN: %m", vcpu->index);
			return VCPU_RUN_ERROR;
		}
		action = handle_exit(vcpu, kv);
		if (action.stop)
			return action.result;
	}
}

enum vcpu_run_result kvm_vcpu_run(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	enum vcpu_run_result result;

	if (kvm_vcpu_enter_thread(kv)) {
		pr_err("kvm: vcpu%u: cannot unblock the kick signal", vcpu->index);
		return VCPU_RUN_ERROR;
	}
	result = run_loop(vcpu, kv);
	kvm_vcpu_stats_refresh(vcpu, kv);
	kvm_vcpu_leave_thread(kv);
	return result;
}

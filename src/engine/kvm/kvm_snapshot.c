// SPDX-License-Identifier: Apache-2.0
/*
 * The kvm engine's snapshot sections. KVM keeps the vCPUs and the
 * interrupt controllers in the kernel; these sections hold what its GET
 * ioctls return and give it back with the SET ones, as raw KVM structures
 * (the UAPI layouts are stable). Each blob's length is checked against the
 * structure; the values themselves are checked by KVM, which refuses what
 * it cannot take (the restore then stops with KVM's reason).
 *
 *   "vcpuN"      regs, sregs, XSAVE (or the legacy FPU area), XCRs, every
 *                MSR KVM_GET_MSR_INDEX_LIST names that reads back, the
 *                LAPIC, pending events, MP state and debug registers
 *   "kvm-chips"  the PIC pair and IOAPIC (KVM_GET_IRQCHIP), the PIT
 *                (KVM_GET_PIT2) and the kvmclock base (KVM_GET_CLOCK)
 *
 * The vCPU threads are parked outside KVM_RUN (or not started yet) when
 * these run, so the ioctls do not wait for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "engine/kvm/kvm_snapshot.h"
#include "snapshot/snap_section.h"

#define KVM_SNAP_MAX_MSRS 1024

/* One state blob: a presence flag, then the structure. */
static void put_blob(struct snap_writer *w, bool ok, const void *p, size_t n)
{
	snap_put_bool(w, ok);
	if (ok)
		snap_put_bytes(w, p, n);
}

static bool get_blob(struct snap_reader *r, void *p, size_t n, const char *what)
{
	bool ok = snap_get_bool(r, what);

	if (ok)
		snap_get_bytes(r, p, n, what);
	return ok && !snap_reader_failed(r);
}

static bool has_cap(const struct vm *vm, long cap)
{
	return ioctl(kvm_vm_of(vm)->sys_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* The MSRs KVM saves and restores for a VMM; NULL on error. */
static struct kvm_msr_list *msr_index_list(int sys_fd)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;

	if (ioctl(sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	if (probe.nmsrs > KVM_SNAP_MAX_MSRS)
		probe.nmsrs = KVM_SNAP_MAX_MSRS;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(u32));
	if (!list)
		return NULL;
	list->nmsrs = probe.nmsrs;
	if (ioctl(sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return NULL;
	}
	return list;
}

/* One MSR through KVM_GET_MSRS/KVM_SET_MSRS: 1 done, 0 refused. */
static int msr_io(int fd, unsigned long req, u32 index, u64 *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index, .e.data = *value };
	int ret = ioctl(fd, req, &m);

	*value = m.e.data;
	return ret;
}

/* ---- vCPU ---- */

struct kvm_cpu_snap {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs debugregs;
};

static void cpu_save(void *opaque, struct snap_writer *w)
{
	struct vcpu *vcpu = opaque;
	int fd = kvm_vcpu_of(vcpu)->fd, sys_fd = kvm_vm_of(vcpu->vm)->sys_fd;
	bool xsave = has_cap(vcpu->vm, KVM_CAP_XSAVE), xcrs = has_cap(vcpu->vm, KVM_CAP_XCRS);
	struct kvm_cpu_snap *s = calloc(1, sizeof(*s));
	struct kvm_msr_list *list = msr_index_list(sys_fd);
	u32 nr = 0;

	if (!s || !list) {
		w->failed = true;	/* no memory, or no MSR list: the save fails */
		goto out;
	}
	put_blob(w, !ioctl(fd, KVM_GET_REGS, &s->regs), &s->regs, sizeof(s->regs));
	put_blob(w, !ioctl(fd, KVM_GET_SREGS, &s->sregs), &s->sregs, sizeof(s->sregs));
	put_blob(w, xsave && !ioctl(fd, KVM_GET_XSAVE, &s->xsave), &s->xsave, sizeof(s->xsave));
	put_blob(w, !xsave && !ioctl(fd, KVM_GET_FPU, &s->fpu), &s->fpu, sizeof(s->fpu));
	put_blob(w, xcrs && !ioctl(fd, KVM_GET_XCRS, &s->xcrs), &s->xcrs, sizeof(s->xcrs));
	/* Only the MSRs that read back; their count first. */
	for (u32 i = 0; i < list->nmsrs; i++) {
		u64 v = 0;

		nr += msr_io(fd, KVM_GET_MSRS, list->indices[i], &v) == 1;
	}
	snap_put_u32(w, nr);
	for (u32 i = 0; i < list->nmsrs; i++) {
		u64 v = 0;

		if (msr_io(fd, KVM_GET_MSRS, list->indices[i], &v) == 1) {
			snap_put_u32(w, list->indices[i]);
			snap_put_u64(w, v);
		}
	}
	put_blob(w, !ioctl(fd, KVM_GET_LAPIC, &s->lapic), &s->lapic, sizeof(s->lapic));
	put_blob(w, !ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events), &s->events, sizeof(s->events));
	put_blob(w, !ioctl(fd, KVM_GET_MP_STATE, &s->mp), &s->mp, sizeof(s->mp));
	put_blob(w, !ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs), &s->debugregs,
		 sizeof(s->debugregs));
out:
	free(list);
	free(s);
}

static int set_or_fail(struct snap_reader *r, int fd, unsigned long req, void *p,
		       const char *what)
{
	if (ioctl(fd, req, p) < 0)
		return snap_fail(r, "KVM refuses the saved %s: %s", what, strerror(errno));
	return 0;
}

/* Reads the whole section, then gives it to KVM in the order QEMU uses. */
static int cpu_load_parsed(struct snap_reader *r, int fd, struct kvm_cpu_snap *s)
{
	bool regs, sregs, xsave, fpu, xcrs, lapic, events, mp, dbg;
	u32 nr, *idx = NULL;
	u64 *val = NULL;
	int ret = -1;

	regs = get_blob(r, &s->regs, sizeof(s->regs), "the registers");
	sregs = get_blob(r, &s->sregs, sizeof(s->sregs), "the system registers");
	xsave = get_blob(r, &s->xsave, sizeof(s->xsave), "the XSAVE area");
	fpu = get_blob(r, &s->fpu, sizeof(s->fpu), "the FPU state");
	xcrs = get_blob(r, &s->xcrs, sizeof(s->xcrs), "the XCRs");
	nr = snap_get_max(r, 4, KVM_SNAP_MAX_MSRS, "the MSR count");
	idx = calloc(nr + 1, sizeof(*idx));
	val = calloc(nr + 1, sizeof(*val));
	if (!idx || !val) {
		snap_fail(r, "out of memory");
		goto out;
	}
	for (u32 i = 0; i < nr; i++) {
		idx[i] = snap_get_u32(r, "an MSR index");
		val[i] = snap_get_u64(r, "an MSR value");
	}
	lapic = get_blob(r, &s->lapic, sizeof(s->lapic), "the LAPIC");
	events = get_blob(r, &s->events, sizeof(s->events), "the pending events");
	mp = get_blob(r, &s->mp, sizeof(s->mp), "the MP state");
	dbg = get_blob(r, &s->debugregs, sizeof(s->debugregs), "the debug registers");
	if (snap_reader_failed(r))
		goto out;
	if (!regs || !sregs || !(xsave || fpu) || !lapic || !mp) {
		snap_fail(r, "it lacks the registers, the FPU, the LAPIC or the MP state");
		goto out;
	}
	if ((regs && set_or_fail(r, fd, KVM_SET_REGS, &s->regs, "registers")) ||
	    (xsave && set_or_fail(r, fd, KVM_SET_XSAVE, &s->xsave, "XSAVE area")) ||
	    (fpu && set_or_fail(r, fd, KVM_SET_FPU, &s->fpu, "FPU state")) ||
	    (xcrs && set_or_fail(r, fd, KVM_SET_XCRS, &s->xcrs, "XCRs")) ||
	    (sregs && set_or_fail(r, fd, KVM_SET_SREGS, &s->sregs, "system registers")))
		goto out;
	for (u32 i = 0; i < nr; i++)
		if (msr_io(fd, KVM_SET_MSRS, idx[i], &val[i]) != 1) {
			snap_fail(r, "KVM refuses MSR %#x = %#llx", idx[i],
				  (unsigned long long)val[i]);
			goto out;
		}
	if ((mp && set_or_fail(r, fd, KVM_SET_MP_STATE, &s->mp, "MP state")) ||
	    (lapic && set_or_fail(r, fd, KVM_SET_LAPIC, &s->lapic, "LAPIC")) ||
	    (events && set_or_fail(r, fd, KVM_SET_VCPU_EVENTS, &s->events, "events")) ||
	    (dbg && set_or_fail(r, fd, KVM_SET_DEBUGREGS, &s->debugregs, "debug registers")))
		goto out;
	ret = 0;
out:
	free(idx);
	free(val);
	return ret;
}

static int cpu_load(void *opaque, struct snap_reader *r)
{
	struct vcpu *vcpu = opaque;
	struct kvm_cpu_snap *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return snap_fail(r, "out of memory");
	ret = cpu_load_parsed(r, kvm_vcpu_of(vcpu)->fd, s);
	free(s);
	return ret;
}

static const struct snap_section_ops kvm_cpu_snap_ops = { .save = cpu_save, .load = cpu_load };

/* ---- the in-kernel chips and clock ---- */

static const u32 chip_ids[] = { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC };

static void chips_save(void *opaque, struct snap_writer *w)
{
	struct vm *vm = opaque;
	int fd = kvm_vm_of(vm)->vm_fd;
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;

	for (size_t i = 0; i < ARRAY_SIZE(chip_ids); i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = chip_ids[i];
		put_blob(w, !ioctl(fd, KVM_GET_IRQCHIP, &chip), &chip, sizeof(chip));
	}
	memset(&pit, 0, sizeof(pit));
	put_blob(w, !ioctl(fd, KVM_GET_PIT2, &pit), &pit, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	put_blob(w, !ioctl(fd, KVM_GET_CLOCK, &clock), &clock, sizeof(clock));
}

static int chips_load(void *opaque, struct snap_reader *r)
{
	struct vm *vm = opaque;
	int fd = kvm_vm_of(vm)->vm_fd;
	struct kvm_irqchip chip[ARRAY_SIZE(chip_ids)];
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	bool have_chip[ARRAY_SIZE(chip_ids)], have_pit, have_clock;

	for (size_t i = 0; i < ARRAY_SIZE(chip_ids); i++)
		have_chip[i] = get_blob(r, &chip[i], sizeof(chip[i]), "an interrupt controller");
	have_pit = get_blob(r, &pit, sizeof(pit), "the PIT");
	have_clock = get_blob(r, &clock, sizeof(clock), "the clock");
	if (snap_reader_failed(r))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(chip_ids); i++) {
		if (!have_chip[i])
			continue;
		if (chip[i].chip_id != chip_ids[i])
			return snap_fail(r, "interrupt controller %zu says it is chip %u", i,
					 chip[i].chip_id);
		if (set_or_fail(r, fd, KVM_SET_IRQCHIP, &chip[i], "interrupt controller"))
			return -1;
	}
	if (have_pit && set_or_fail(r, fd, KVM_SET_PIT2, &pit, "PIT"))
		return -1;
	if (have_clock) {
		/* Only the value: the host's TSC and realtime stamps are not ours to set. */
		struct kvm_clock_data set = { .clock = clock.clock };

		if (set_or_fail(r, fd, KVM_SET_CLOCK, &set, "clock"))
			return -1;
	}
	return 0;
}

static const struct snap_section_ops kvm_chips_snap_ops = {
	.save = chips_save, .load = chips_load,
};

int kvm_snapshot_register(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof(name), "vcpu%u", i);
		if (snap_register(vm, name, &kvm_cpu_snap_ops, &vm->vcpus[i]))
			return -1;
	}
	return snap_register(vm, "kvm-chips", &kvm_chips_snap_ops, vm);
}

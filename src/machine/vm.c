// SPDX-License-Identifier: Apache-2.0
#include "machine/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dev/platform.h"
#include "iommu/iommu.h"
#include "lib/log.h"
#include "machine/acpi/acpi.h"
#include "machine/boot/boot.h"
#include "machine/event_loop.h"
#include "machine/stats.h"
#include "machine/vcpu.h"
#include "mem/dirty_dma.h"
#include "mem/dirty_log.h"
#include "mem/ram.h"
#include "mem/ram_stats.h"
#include "snapshot/snap_registry.h"
#include "snapshot/snapshot.h"
#include "virtio/virtio_devices.h"

static int vm_create_vcpus(struct vm *vm)
{
	vm->nr_vcpus = vm->cfg->nr_cpus;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		vcpu->index = i;
		vcpu->host_cpu = vm->cfg->cpu_affinity[i];
		if (vm->engine->vcpu_create(vcpu)) {
			pr_err("%s engine: cannot create vcpu%u", vm->engine->name, i);
			return -1;
		}
	}
	return 0;
}

struct vm *vm_create(const struct vm_config *cfg)
{
	struct cpu_state bsp;
	struct vm *vm;
	char why[256];

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	if (vm_skeleton_init(vm, cfg))
		goto fail;

	vm->engine = engine_select(cfg->accel, why, sizeof(why));
	if (!vm->engine) {
		pr_err("%s", why);
		goto fail;
	}
	if (vm_skeleton_add_ram(vm))
		goto fail;
	if (vm->engine->vm_create(vm))
		goto fail;
	if (vm_create_vcpus(vm))
		goto fail;
	if (iommu_create_from_config(vm) || platform_devices_init(vm) || virtio_devices_init(vm))
		goto fail;
	if (snapshot_vm_init(vm))
		goto fail;
	if (cfg->restore_path) {
		/* Guest RAM, ACPI tables included, and every register come from the file. */
		if (snapshot_restore(vm))
			goto fail;
		return vm;
	}
	if (acpi_build(vm))
		goto fail;
	memset(&bsp, 0, sizeof(bsp));
	if (boot_load(vm, &bsp))
		goto fail;
	if (vm->engine->vcpu_set_state(&vm->vcpus[0], &bsp)) {
		pr_err("cannot set the boot vCPU's state");
		goto fail;
	}
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	while (vm->nr_devices) {
		struct vm_device *d = &vm->devices[--vm->nr_devices];

		if (d->destroy)
			d->destroy(d->opaque);
	}
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].vm && vm->engine->vcpu_destroy)
				vm->engine->vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	if (vm->engine && vm->engine_data)
		vm->engine->vm_destroy(vm);
	snap_registry_free(vm->snap);
	vm_skeleton_release(vm);
	free(vm);
}

int vm_add_device(struct vm *vm, const struct vm_device *dev)
{
	if (vm->nr_devices >= VM_MAX_DEVICES) {
		pr_err("too many devices (at most %d)", VM_MAX_DEVICES);
		return -1;
	}
	vm->devices[vm->nr_devices++] = *dev;
	return 0;
}

void *vm_find_device(struct vm *vm, void (*destroy)(void *opaque))
{
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].destroy == destroy)
			return vm->devices[i].opaque;
	return NULL;
}

bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) != VM_STOP_NONE;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int exit_code)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->exit_code = exit_code;
		__atomic_store_n(&vm->stop_reason, reason, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->stop_lock);

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(&vm->vcpus[i], VCPU_REQ_STOP);
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	event_loop_stop(vm->loop);
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->paused) {
		pthread_mutex_unlock(&vm->pause_lock);
		return;
	}
	vm->paused = true;
	pthread_mutex_unlock(&vm->pause_lock);

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(&vm->vcpus[i], VCPU_REQ_PAUSE);

	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked < vm->nr_vcpus && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void on_signal(void *opaque, u32 events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("signal %u: stopping the VM", si.ssi_signo);
	vm_request_stop(vm, VM_STOP_QUIT, 0);
}

/*
 * SIGINT, SIGTERM and SIGHUP arrive through a signalfd on the I/O thread,
 * so that stopping takes locks outside of signal context. The mask is set
 * before any thread starts, so that every vCPU thread inherits it.
 */
static int vm_setup_signals(struct vm *vm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return -1;
	return event_loop_add(vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm);
}

void vm_report_stats(struct vm *vm, const struct stats_visitor *v)
{
	char group[16];

	stats_emit(v, "vm", "vcpus", vm->nr_vcpus);
	stats_emit(v, "vm", "ram_bytes", vm->mem.ram_size);
	ram_report_stats(&vm->mem, &vm->cfg->ram, v);
	vm_dirty_log_report_stats(vm, v);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].stats;
		char name[32];

		snprintf(group, sizeof(group), "vcpu%u", i);
		for (int r = 0; r < NR_EXIT_REASONS; r++) {
			snprintf(name, sizeof(name), "exits_%s", exit_reason_names[r]);
			stats_emit(v, group, name, s->exits[r]);
		}
		stats_emit(v, group, "run_ns", s->run_ns);
		stats_emit(v, group, "idle_ns", s->idle_ns);
	}
	stats_emit(v, "bus", "pio_unclaimed", vm->pio_bus.unclaimed_accesses);
	stats_emit(v, "bus", "mmio_unclaimed", vm->mmio_bus.unclaimed_accesses);
	if (vm->engine->report_stats)
		vm->engine->report_stats(vm, v);
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].report_stats)
			vm->devices[i].report_stats(vm->devices[i].opaque, v);
}

static void vm_print_stats(struct vm *vm, FILE *out)
{
	struct stats_text_printer p = { .out = out };
	struct stats_visitor v = { .emit = stats_text_emit, .ctx = &p };

	fprintf(out, "kiln: stats: engine %s\n", vm->engine->name);
	vm_report_stats(vm, &v);
	stats_text_finish(&p);
}

int vm_run(struct vm *vm)
{
	unsigned int started = 0;

	if (vm_setup_signals(vm)) {
		pr_err("cannot set up signal handling: %m");
		return EXIT_CODE_ERROR;
	}
	if (vm->cfg->dirty_log) {
		char err[256];

		/* After the loader: what Kiln put there is not the guest's doing. */
		if (vm_dirty_log_start(vm, err, sizeof(err))) {
			pr_err("--dirty-log: %s", err);
			return EXIT_CODE_ERROR;
		}
	}
	for (; started < vm->nr_vcpus; started++)
		if (vcpu_start(&vm->vcpus[started]))
			break;
	if (started < vm->nr_vcpus)
		vm_request_stop(vm, VM_STOP_ERROR, EXIT_CODE_ERROR);

	event_loop_run(vm->loop);

	/* The loop returns once a stop is requested; make sure it was. */
	if (!vm_stopping(vm))
		vm_request_stop(vm, VM_STOP_ERROR, EXIT_CODE_ERROR);
	for (unsigned int i = 0; i < started; i++)
		vcpu_join(&vm->vcpus[i]);

	if (vm->cfg->stats)
		vm_print_stats(vm, stderr);
	return vm->exit_code;
}

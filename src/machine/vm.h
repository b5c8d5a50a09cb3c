/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_VM_H
#define KILN_MACHINE_VM_H

#include <pthread.h>

#include "bus/bus.h"
#include "cli/config.h"
#include "engine/engine.h"
#include "machine/memmap.h"
#include "mem/guest_mem.h"

struct vcpu;
struct event_loop;
struct pci_root;
struct iommu;
struct stats_visitor;
struct api_balloon_ops;
struct api_snapshot_ops;
struct snap_registry;

/* Why the VM stopped; decides Kiln's exit code (see docs/USAGE.md). */
enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,	/* ACPI S5: exit 0 */
	VM_STOP_QUIT,		/* Ctrl-A x or a signal: exit 0 */
	VM_STOP_DEBUG_EXIT,	/* port 0xf4: exit (value << 1) | 1 */
	VM_STOP_RESET,		/* guest reboot: exit 4 */
	VM_STOP_TRIPLE_FAULT,	/* exit 6, with a register dump */
	VM_STOP_ERROR,		/* engine or VMM failure: exit 8 */
};

#define EXIT_CODE_USAGE 2
#define EXIT_CODE_RESET 4
#define EXIT_CODE_TRIPLE_FAULT 6
#define EXIT_CODE_ERROR 8

/* A device's teardown hook, run in reverse order of registration. */
struct vm_device {
	const char *name;
	void *opaque;
	void (*destroy)(void *opaque);
	/* Optional: device figures for --stats and the API (machine/stats.h). */
	void (*report_stats)(void *opaque, const struct stats_visitor *v);
};

#define VM_MAX_DEVICES 64

struct vm {
	const struct vm_config *cfg;
	const struct engine_ops *engine;
	void *engine_data;

	struct guest_mem mem;
	struct memmap memmap;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct pci_root *pci;
	struct iommu *iommu;		/* --iommu: DMA and interrupt remapping, else NULL */
	struct event_loop *loop;
	int signal_fd;

	struct vcpu *vcpus;
	unsigned int nr_vcpus;

	struct vm_device devices[VM_MAX_DEVICES];
	unsigned int nr_devices;

	/* Stop: the first request wins and sets the exit code. */
	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason;
	int exit_code;

	/* Pause: vCPUs park in vcpu_check_requests() while paused is set. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool paused;
	unsigned int nr_parked;

	/* Control-API hooks, NULL until a subsystem registers (api/hooks.h). */
	const struct api_balloon_ops *balloon_ops;
	void *balloon;
	const struct api_snapshot_ops *snapshot_ops;

	/* Snapshot sections of the engine and devices (snapshot/snap_section.h). */
	struct snap_registry *snap;
};

/* Builds the whole machine from cfg; prints why and returns NULL on error. */
struct vm *vm_create(const struct vm_config *cfg);
/* Starts the vCPUs, serves I/O until the VM stops; returns the exit code. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * The machine's skeleton (machine/vm_skeleton.c), which vm_create() and the
 * tests that build a struct vm by hand share. vm_skeleton_init() fills a
 * zeroed vm: cfg, no signalfd yet, the stop and pause locks, both buses and
 * the event loop. vm_skeleton_add_ram() maps cfg->mem_size bytes of guest
 * RAM as cfg->ram asks and lays them out (machine/memmap.h). Both return -1
 * on error (add_ram prints why); vm_skeleton_release() undoes whatever of
 * them was done, and is the end of vm_destroy().
 */
int vm_skeleton_init(struct vm *vm, const struct vm_config *cfg);
int vm_skeleton_add_ram(struct vm *vm);
void vm_skeleton_release(struct vm *vm);

/* Any thread (a device, a vCPU, a signal handler's thread): stop the VM. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int exit_code);
bool vm_stopping(struct vm *vm);

/* Pause and resume; vm_pause returns once every vCPU is parked. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

int vm_add_device(struct vm *vm, const struct vm_device *dev);
/*
 * The opaque of the first device registered with this destroy hook, which
 * names a device type uniquely, or NULL: how a control action finds the
 * device it drives.
 */
void *vm_find_device(struct vm *vm, void (*destroy)(void *opaque));

/* Every figure the machine, engine and devices keep (machine/stats.h). */
void vm_report_stats(struct vm *vm, const struct stats_visitor *v);

#endif

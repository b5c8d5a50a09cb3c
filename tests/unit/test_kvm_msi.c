// SPDX-License-Identifier: Apache-2.0
/*
 * The kvm engine's MSIs (engine/kvm/kvm_msi.c) against the real in-kernel
 * LAPIC: a message sent through send_msi() lands in vCPU 0's IRR, through
 * an irqfd on a GSI route made for it; the same message reuses its route;
 * more distinct messages than there are routes still arrive, through
 * KVM_SIGNAL_MSI. The vCPU never runs: KVM delivers into the LAPIC's state,
 * which KVM_GET_LAPIC reads. Skipped where /dev/kvm cannot be used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "engine/kvm/kvm_internal.h"
#include "machine/stats.h"

#define TEST_RAM	(16 * MiB)
#define APIC_SVR	0xf0
#define APIC_IRR	0x200
#define MSI_ADDR	0xfee00000ULL	/* destination APIC ID 0, physical */

struct test_vm {
	struct vm vm;
	struct vm_config cfg;
	struct vcpu vcpu;
};

static struct test_vm *tvm;

static int setup(void **state)
{
	struct vm *vm;

	(void)state;
	if (kvm_engine_ops.unavailable()) {
		print_message("kvm engine unavailable: %s\n", kvm_engine_ops.unavailable());
		skip();
	}
	tvm = calloc(1, sizeof(*tvm));
	assert_non_null(tvm);
	vm = &tvm->vm;
	tvm->cfg.nr_cpus = 1;
	tvm->cfg.mem_size = TEST_RAM;
	tvm->cfg.accel = "kvm";
	vm->engine = &kvm_engine_ops;
	assert_int_equal(vm_skeleton_init(vm, &tvm->cfg), 0);
	assert_int_equal(vm_skeleton_add_ram(vm), 0);
	assert_int_equal(vm->engine->vm_create(vm), 0);
	vm->nr_vcpus = 1;
	vm->vcpus = &tvm->vcpu;
	tvm->vcpu.vm = vm;
	tvm->vcpu.host_cpu = -1;
	assert_int_equal(vm->engine->vcpu_create(&tvm->vcpu), 0);
	return 0;
}

static int teardown(void **state)
{
	struct vm *vm;

	(void)state;
	if (!tvm)
		return 0;	/* skipped: no KVM here */
	vm = &tvm->vm;
	vm->engine->vcpu_destroy(&tvm->vcpu);
	vm->engine->vm_destroy(vm);
	vm_skeleton_release(vm);
	free(tvm);
	tvm = NULL;
	return 0;
}

static u32 lapic_reg(const struct kvm_lapic_state *s, unsigned int off)
{
	u32 v;

	memcpy(&v, s->regs + off, 4);
	return v;
}

/* Software-enables vCPU 0's LAPIC and clears its IRR. */
static void lapic_enable(void)
{
	struct kvm_lapic_state s;
	int fd = kvm_vcpu_of(&tvm->vcpu)->fd;
	u32 svr;

	assert_int_equal(ioctl(fd, KVM_GET_LAPIC, &s), 0);
	svr = lapic_reg(&s, APIC_SVR) | 0x1ff;	/* enabled, spurious vector 0xff */
	memcpy(s.regs + APIC_SVR, &svr, 4);
	for (int i = 0; i < 8; i++)
		memset(s.regs + APIC_IRR + 16 * i, 0, 4);
	assert_int_equal(ioctl(fd, KVM_SET_LAPIC, &s), 0);
}

/* Whether vector is pending in vCPU 0's IRR, waiting up to wait_ms for it. */
static bool irr_within(u8 vector, int wait_ms)
{
	int fd = kvm_vcpu_of(&tvm->vcpu)->fd;

	for (int i = 0; i <= wait_ms; i++) {
		struct kvm_lapic_state s;
		struct timespec ms = { 0, 1000000 };

		assert_int_equal(ioctl(fd, KVM_GET_LAPIC, &s), 0);
		if (lapic_reg(&s, APIC_IRR + 16 * (vector / 32)) & 1u << (vector % 32))
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static bool irr_has(u8 vector)
{
	return irr_within(vector, 1000);
}

struct probe {
	u64 routes, irqfd, ioctl;
};

static void probe_emit(void *ctx, const char *group, const char *name, u64 value)
{
	struct probe *p = ctx;

	if (strcmp(group, "kvm"))
		return;
	if (!strcmp(name, "msi_routes"))
		p->routes = value;
	else if (!strcmp(name, "msi_irqfd"))
		p->irqfd = value;
	else if (!strcmp(name, "msi_ioctl"))
		p->ioctl = value;
}

static struct probe stats(void)
{
	struct probe p = { ~0ULL, ~0ULL, ~0ULL };
	struct stats_visitor v = { .emit = probe_emit, .ctx = &p };

	kvm_engine_ops.report_stats(&tvm->vm, &v);
	return p;
}

static void test_msi_through_irqfd(void **state)
{
	struct probe p;

	(void)state;
	lapic_enable();
	kvm_engine_ops.send_msi(&tvm->vm, MSI_ADDR, 0x45);
	assert_true(irr_has(0x45));
	p = stats();
	assert_int_equal(p.routes, 1);
	assert_int_equal(p.irqfd, 1);
	assert_int_equal(p.ioctl, 0);
	/* The same message again: the same route. */
	lapic_enable();
	assert_false(irr_within(0x45, 0));
	kvm_engine_ops.send_msi(&tvm->vm, MSI_ADDR, 0x45);
	assert_true(irr_has(0x45));
	kvm_engine_ops.send_msi(&tvm->vm, MSI_ADDR, 0x46);
	assert_true(irr_has(0x46));
	p = stats();
	assert_int_equal(p.routes, 2);
	assert_int_equal(p.irqfd, 3);
	assert_int_equal(p.ioctl, 0);
}

/* More distinct messages than routes: the rest through KVM_SIGNAL_MSI, all delivered. */
static void test_msi_routes_run_out(void **state)
{
	struct probe p;

	(void)state;
	lapic_enable();
	for (unsigned int v = 0x30; v < 0x30 + 100; v++)
		kvm_engine_ops.send_msi(&tvm->vm, MSI_ADDR, v);
	for (unsigned int v = 0x30; v < 0x30 + 100; v++)
		if (!irr_has(v))
			fail_msg("vector %#x was not delivered", v);
	p = stats();
	assert_int_equal(p.routes, 64);
	assert_int_equal(p.irqfd, 64);
	assert_int_equal(p.ioctl, 36);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_msi_through_irqfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_routes_run_out, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

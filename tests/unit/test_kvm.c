// SPDX-License-Identifier: Apache-2.0
/*
 * The kvm engine against tiny long-mode programs, without the boot loader
 * or the platform devices: port and string I/O, MMIO, CPUID topology,
 * register state, kicks (stop and pause), triple fault and an internal
 * error. Skipped when /dev/kvm cannot be used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

#define TEST_RAM (64 * MiB)
#define GDT_ADDR 0x1000ULL
#define PML4_ADDR 0x2000ULL
#define PDPT_ADDR 0x3000ULL
#define PD_ADDR 0x4000ULL	/* four pages: 4 GiB of 2 MiB pages */
#define STACK_TOP 0x80000ULL
#define RESULTS 0x90000ULL
#define CODE_ADDR 0x100000ULL
#define TEST_MMIO 0xd0000000ULL

/* The programs, 64-bit code copied to CODE_ADDR; labels are blob bounds. */
#define GUEST_BLOB(name, body)                                      \
	extern const u8 name##_start[], name##_end[];               \
	__asm__(".pushsection .rodata\n.code64\n" #name "_start:\n" \
		body "\n" #name "_end:\n.popsection\n")

/*
 * Port I/O of each width, both string forms, MMIO both ways, CPUID leaves
 * 1 and 0xB stored at RESULTS, then the debug-exit port with value 0.
 */
GUEST_BLOB(prog_io,
	"mov $0x500, %dx\n mov $0x5a, %al\n out %al, %dx\n"
	"mov $0x501, %dx\n in %dx, %al\n mov $0x502, %dx\n out %al, %dx\n"
	"mov $0x504, %dx\n mov $0x1234abcd, %eax\n out %eax, %dx\n"
	"mov $0x506, %dx\n in %dx, %ax\n mov %ax, 0x90040\n"
	"lea 9f(%rip), %rsi\n mov $5, %ecx\n mov $0x503, %dx\n rep outsb\n"
	"mov $0x90020, %edi\n mov $4, %ecx\n mov $0x501, %dx\n rep insb\n"
	"mov $0xd0000000, %ebx\n movl $0xdeadbeef, (%rbx)\n"
	"mov 8(%rbx), %rax\n mov %rax, 0x90000\n"
	"mov $1, %eax\n cpuid\n mov %ebx, 0x90008\n mov %ecx, 0x9000c\n"
	"mov $0xb, %eax\n mov $1, %ecx\n cpuid\n mov %eax, 0x90010\n"
	"mov %ebx, 0x90014\n mov %ecx, 0x90018\n mov %edx, 0x9001c\n"
	"mov $0xb, %eax\n xor %ecx, %ecx\n cpuid\n mov %eax, 0x90060\n"
	"mov %ebx, 0x90064\n mov %ecx, 0x90068\n"
	"xor %esi, %esi\n"
	"2: mov $4, %eax\n mov %esi, %ecx\n cpuid\n mov %eax, 0x90080(,%rsi,4)\n"
	"inc %esi\n cmp $8, %esi\n jb 2b\n"
	"mov $0xf4, %dx\n xor %eax, %eax\n out %eax, %dx\n"
	"1: hlt\n jmp 1b\n"
	"9: .ascii \"hello\"\n");

/* Counts forever in RAM: only a kick gets it out of KVM_RUN. */
GUEST_BLOB(prog_spin, "1: incq 0x90000\n jmp 1b\n");

/* #UD with an empty IDT: #GP, #DF, then shutdown. */
GUEST_BLOB(prog_triple, "push $0\n push $0\n lidt 6(%rsp)\n mov $0x77, %r9\n ud2\n");

/* Fetching code from MMIO cannot be emulated: KVM's internal error. */
GUEST_BLOB(prog_exec_mmio, "mov $0x5a5a, %r12\n mov $0xd0000000, %eax\n jmp *%rax\n");

struct test_vm {
	struct vm vm;
	struct vm_config cfg;
	/* the test device on ports 0x500..0x507 */
	u8 out_bytes[16];
	unsigned int nr_out_bytes;
	u32 out_dword;
	u64 mmio_written;
	unsigned int mmio_write_len;
};

static void port_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)opaque;
	bus_data_put(data, len, offset == 1 ? 0xa5 : offset == 6 ? 0xbeef : 0);
}

static void port_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct test_vm *t = opaque;

	if (len == 4 && offset == 4)
		t->out_dword = bus_data_get(data, len);
	else if (len == 1 && t->nr_out_bytes < sizeof(t->out_bytes))
		t->out_bytes[t->nr_out_bytes++] = *(const u8 *)data;
}

static const struct bus_device_ops port_ops = { .read = port_read, .write = port_write };

static void mmio_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)opaque;
	bus_data_put(data, len, offset == 8 ? 0x0123456789abcdefULL : 0);
}

static void mmio_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct test_vm *t = opaque;

	(void)offset;
	t->mmio_written = bus_data_get(data, len);
	t->mmio_write_len = len;
}

static const struct bus_device_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

static void debug_exit_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct vm *vm = opaque;

	(void)offset;
	vm_request_stop(vm, VM_STOP_DEBUG_EXIT, (int)(bus_data_get(data, len) << 1) | 1);
}

static void no_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	bus_data_put(data, len, ~0ULL);
}

static const struct bus_device_ops debug_exit_ops = { .read = no_read, .write = debug_exit_write };

/* Identity map of 0..4 GiB with 2 MiB pages, and a flat 64-bit GDT. */
static void build_long_mode_tables(struct vm *vm)
{
	u64 pml4 = PDPT_ADDR | 3, gdt[4] = {
		0, 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL,
	};

	assert_int_equal(guest_write(&vm->mem, PML4_ADDR, &pml4, 8), 0);
	for (u64 i = 0; i < 4; i++) {
		u64 pdpte = (PD_ADDR + i * 4096) | 3;

		assert_int_equal(guest_write(&vm->mem, PDPT_ADDR + i * 8, &pdpte, 8), 0);
	}
	for (u64 i = 0; i < 4 * 512; i++) {
		u64 pde = (i << 21) | 0x83;	/* present, writable, 2 MiB */

		assert_int_equal(guest_write(&vm->mem, PD_ADDR + i * 8, &pde, 8), 0);
	}
	assert_int_equal(guest_write(&vm->mem, GDT_ADDR, gdt, sizeof(gdt)), 0);
}

static void long_mode_state(struct cpu_state *st)
{
	struct segment code = {
		.limit = 0xffffffff, .selector = 0x10, .type = 0xb, .s = 1,
		.present = 1, .l = 1, .g = 1,
	};
	struct segment data = {
		.limit = 0xffffffff, .selector = 0x18, .type = 0x3, .s = 1,
		.present = 1, .db = 1, .g = 1,
	};

	memset(st, 0, sizeof(*st));
	st->cs = code;
	st->ds = st->es = st->fs = st->gs = st->ss = data;
	st->tr = (struct segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	st->ldt = (struct segment){ .unusable = 1 };
	st->gdt = (struct dtable){ .base = GDT_ADDR, .limit = 4 * 8 - 1 };
	st->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	st->cr3 = PML4_ADDR;
	st->cr4 = CR4_PAE;
	st->efer = EFER_LME | EFER_LMA;
	st->rip = CODE_ADDR;
	st->gpr[GPR_RSP] = STACK_TOP;
}

static struct test_vm *tvm_create(unsigned int nr_vcpus, const u8 *start, const u8 *end)
{
	struct test_vm *t = calloc(1, sizeof(*t));
	struct vm *vm = &t->vm;
	struct cpu_state st;

	assert_non_null(t);
	t->cfg.nr_cpus = nr_vcpus;
	t->cfg.mem_size = TEST_RAM;
	t->cfg.accel = "kvm";
	vm->engine = &kvm_engine_ops;
	assert_int_equal(vm_skeleton_init(vm, &t->cfg), 0);
	assert_int_equal(vm_skeleton_add_ram(vm), 0);
	assert_int_equal(vm->engine->vm_create(vm), 0);

	vm->nr_vcpus = nr_vcpus;
	vm->vcpus = calloc(nr_vcpus, sizeof(*vm->vcpus));
	assert_non_null(vm->vcpus);
	for (unsigned int i = 0; i < nr_vcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].index = i;
		vm->vcpus[i].host_cpu = -1;
		assert_int_equal(vm->engine->vcpu_create(&vm->vcpus[i]), 0);
	}
	assert_int_equal(bus_register(&vm->pio_bus, 0x500, 8, &port_ops, t, "test"), 0);
	assert_int_equal(bus_register(&vm->pio_bus, 0xf4, 4, &debug_exit_ops, vm, "exit"), 0);
	assert_int_equal(bus_register(&vm->mmio_bus, TEST_MMIO, 4096, &mmio_ops, t, "test"), 0);

	build_long_mode_tables(vm);
	assert_int_equal(guest_write(&vm->mem, CODE_ADDR, start, end - start), 0);
	long_mode_state(&st);
	assert_int_equal(vm->engine->vcpu_set_state(&vm->vcpus[0], &st), 0);
	return t;
}

static void tvm_destroy(struct test_vm *t)
{
	struct vm *vm = &t->vm;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->engine->vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->engine->vm_destroy(vm);
	vm_skeleton_release(vm);
	free(t);
}

static u64 guest_u64(struct test_vm *t, u64 gpa)
{
	u64 v = 0;

	assert_int_equal(guest_read(&t->vm.mem, gpa, &v, sizeof(v)), 0);
	return v;
}

static u32 guest_u32(struct test_vm *t, u64 gpa)
{
	return (u32)guest_u64(t, gpa);
}

/* vcpu_run() on a thread of its own, as the machine does. */
struct runner {
	pthread_t thread;
	struct vcpu *vcpu;
	enum vcpu_run_result result;
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	r->result = r->vcpu->vm->engine->vcpu_run(r->vcpu);
	return NULL;
}

static void runner_start(struct runner *r, struct vcpu *vcpu)
{
	r->vcpu = vcpu;
	assert_int_equal(pthread_create(&r->thread, NULL, runner_main, r), 0);
}

static enum vcpu_run_result runner_join(struct runner *r)
{
	pthread_join(r->thread, NULL);
	return r->result;
}

static int skip_unless_kvm(void **state)
{
	(void)state;
	if (kvm_engine_ops.unavailable()) {
		print_message("kvm engine unavailable: %s\n", kvm_engine_ops.unavailable());
		skip();
	}
	return 0;
}

static void io_mmio_and_cpuid(void **state)
{
	struct test_vm *t;
	struct runner r;
	u32 leaf1_ebx, leaf1_ecx;

	skip_unless_kvm(state);
	t = tvm_create(4, prog_io_start, prog_io_end);
	runner_start(&r, &t->vm.vcpus[0]);
	assert_int_equal(runner_join(&r), VCPU_RUN_STOPPED);
	assert_int_equal(t->vm.exit_code, 1);

	/* 0x5a out, 0xa5 echoed back, then "hello" by rep outsb. */
	assert_int_equal(t->nr_out_bytes, 7);
	assert_memory_equal(t->out_bytes, "\x5a\xa5hello", 7);
	assert_int_equal(t->out_dword, 0x1234abcd);
	assert_int_equal(guest_u32(t, 0x90040) & 0xffff, 0xbeef);
	assert_int_equal(guest_u32(t, 0x90020), 0xa5a5a5a5);
	assert_int_equal(t->mmio_written, 0xdeadbeef);
	assert_int_equal(t->mmio_write_len, 4);
	assert_int_equal(guest_u64(t, 0x90000), 0x0123456789abcdefULL);

	leaf1_ebx = guest_u32(t, 0x90008);
	leaf1_ecx = guest_u32(t, 0x9000c);
	assert_true(leaf1_ecx & (1U << 31));		/* hypervisor */
	assert_int_equal(leaf1_ebx >> 24, 0);		/* APIC ID of vcpu0 */
	assert_int_equal((leaf1_ebx >> 16) & 0xff, 4);	/* IDs in the package */
	/* Leaf 0xB, subleaf 1: core level, 4 cores, 2 bits of core ID. */
	assert_int_equal(guest_u32(t, 0x90010), 2);
	assert_int_equal(guest_u32(t, 0x90014), 4);
	assert_int_equal(guest_u32(t, 0x90018), 2 << 8 | 1);
	assert_int_equal(guest_u32(t, 0x9001c), 0);

	/* Leaf 0xB, subleaf 0: SMT level, one thread per core. */
	assert_int_equal(guest_u32(t, 0x90060), 0);
	assert_int_equal(guest_u32(t, 0x90064), 1);
	assert_int_equal(guest_u32(t, 0x90068), 1 << 8);
	/* Leaf 4: 4 cores per package; L1/L2 per core, L3 shared by all. */
	for (int i = 0; i < 8; i++) {
		u32 eax = guest_u32(t, 0x90080 + 4 * i), level = (eax >> 5) & 7;

		if ((eax & 0x1f) == 0)
			break;
		assert_int_equal(eax >> 26, 3);
		assert_int_equal((eax >> 14) & 0xfff, level >= 3 ? 3 : 0);
	}

	/* Every port access above is one exit, but the rep forms may batch. */
	assert_in_range(t->vm.vcpus[0].stats.exits[EXIT_IO], 8, 8 + 5 + 4);
	assert_int_equal(t->vm.vcpus[0].stats.exits[EXIT_MMIO], 2);
	tvm_destroy(t);
}

static void state_round_trip(void **state)
{
	struct test_vm *t;
	struct cpu_state in, out;

	skip_unless_kvm(state);
	t = tvm_create(1, prog_spin_start, prog_spin_end);
	long_mode_state(&in);
	for (int i = 0; i < NR_GPRS; i++)
		in.gpr[i] = 0x1111111111111111ULL * (i + 1);
	in.rflags = RFLAGS_FIXED | RFLAGS_CF | RFLAGS_ZF;
	in.fs.base = 0x7fff0000;
	in.gs.base = 0xffff888000000000ULL;
	in.idt = (struct dtable){ .base = 0x5000, .limit = 0xfff };
	in.cr2 = 0xdead000;
	in.efer |= EFER_SCE | EFER_NXE;
	in.star = 0x0023001000000000ULL;
	in.lstar = 0xffffffff81000000ULL;
	in.cstar = 0xffffffff81000100ULL;
	in.sfmask = 0x47700;
	in.kernel_gs_base = 0xffff888000001000ULL;
	in.sysenter_cs = 0x10;
	in.sysenter_esp = 0x1000;
	in.sysenter_eip = 0x2000;
	in.pat = 0x0007010600070106ULL;
	assert_int_equal(kvm_engine_ops.vcpu_set_state(&t->vm.vcpus[0], &in), 0);
	assert_int_equal(kvm_engine_ops.vcpu_get_state(&t->vm.vcpus[0], &out), 0);

	assert_memory_equal(in.gpr, out.gpr, sizeof(in.gpr));
	assert_int_equal(out.rip, in.rip);
	assert_int_equal(out.rflags, in.rflags);
	assert_int_equal(out.cs.selector, 0x10);
	assert_int_equal(out.cs.l, 1);
	assert_int_equal(out.ss.db, 1);
	assert_int_equal(out.fs.base, in.fs.base);
	assert_int_equal(out.gs.base, in.gs.base);
	assert_int_equal(out.gdt.base, in.gdt.base);
	assert_int_equal(out.idt.limit, in.idt.limit);
	assert_int_equal(out.cr2, in.cr2);
	assert_int_equal(out.cr3, in.cr3);
	assert_int_equal(out.efer, in.efer);
	/* A zero apic_base in cpu_state keeps the enabled BSP default. */
	assert_int_equal(out.apic_base, 0xfee00900);
	assert_int_equal(out.star, in.star);
	assert_int_equal(out.lstar, in.lstar);
	assert_int_equal(out.cstar, in.cstar);
	assert_int_equal(out.sfmask, in.sfmask);
	assert_int_equal(out.kernel_gs_base, in.kernel_gs_base);
	assert_int_equal(out.sysenter_cs, in.sysenter_cs);
	assert_int_equal(out.sysenter_esp, in.sysenter_esp);
	assert_int_equal(out.sysenter_eip, in.sysenter_eip);
	assert_int_equal(out.pat, in.pat);

	/* pat 0 keeps what is there rather than making memory uncachable. */
	in.pat = 0;
	assert_int_equal(kvm_engine_ops.vcpu_set_state(&t->vm.vcpus[0], &in), 0);
	assert_int_equal(kvm_engine_ops.vcpu_get_state(&t->vm.vcpus[0], &out), 0);
	assert_int_equal(out.pat, 0x0007010600070106ULL);
	tvm_destroy(t);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A guest that never exits is still stopped, and paused, by a kick. */
static void kick_pause_and_stop(void **state)
{
	struct test_vm *t;
	struct vm *vm;
	struct runner r;
	u64 before, after;

	skip_unless_kvm(state);
	t = tvm_create(1, prog_spin_start, prog_spin_end);
	vm = &t->vm;
	runner_start(&r, &vm->vcpus[0]);
	while (guest_u64(t, RESULTS) == 0)
		sleep_ms(1);

	vm_pause(vm);
	assert_int_equal(vm->nr_parked, 1);
	before = guest_u64(t, RESULTS);
	sleep_ms(50);
	after = guest_u64(t, RESULTS);
	assert_int_equal(before, after);
	vm_resume(vm);
	while (guest_u64(t, RESULTS) == after)
		sleep_ms(1);

	vm_request_stop(vm, VM_STOP_QUIT, 0);
	assert_int_equal(runner_join(&r), VCPU_RUN_STOPPED);
	assert_true(vm->vcpus[0].stats.exits[EXIT_INTR] >= 2);
	assert_true(vm->vcpus[0].stats.run_ns > 0);
	tvm_destroy(t);
}

/* A stop requested before the thread even enters KVM_RUN is not lost. */
static void stop_before_run(void **state)
{
	struct test_vm *t;
	struct runner r;

	skip_unless_kvm(state);
	t = tvm_create(1, prog_spin_start, prog_spin_end);
	vm_request_stop(&t->vm, VM_STOP_QUIT, 0);
	runner_start(&r, &t->vm.vcpus[0]);
	assert_int_equal(runner_join(&r), VCPU_RUN_STOPPED);
	tvm_destroy(t);
}

static void triple_fault(void **state)
{
	struct test_vm *t;
	struct runner r;
	struct cpu_state st;

	skip_unless_kvm(state);
	t = tvm_create(1, prog_triple_start, prog_triple_end);
	runner_start(&r, &t->vm.vcpus[0]);
	assert_int_equal(runner_join(&r), VCPU_RUN_TRIPLE_FAULT);
	assert_int_equal(t->vm.vcpus[0].stats.exits[EXIT_SHUTDOWN], 1);
	assert_int_equal(kvm_engine_ops.vcpu_get_state(&t->vm.vcpus[0], &st), 0);
	assert_int_equal(st.gpr[GPR_R9], 0x77);
	tvm_destroy(t);
}

static void internal_error_keeps_registers(void **state)
{
	struct test_vm *t;
	struct runner r;
	struct cpu_state st;

	skip_unless_kvm(state);
	t = tvm_create(1, prog_exec_mmio_start, prog_exec_mmio_end);
	runner_start(&r, &t->vm.vcpus[0]);
	assert_int_equal(runner_join(&r), VCPU_RUN_ERROR);
	assert_int_equal(t->vm.vcpus[0].stats.exits[EXIT_INTERNAL_ERROR], 1);
	assert_int_equal(kvm_engine_ops.vcpu_get_state(&t->vm.vcpus[0], &st), 0);
	assert_int_equal(st.gpr[GPR_R12], 0x5a5a);
	tvm_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(io_mmio_and_cpuid),
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(kick_pause_and_stop),
		cmocka_unit_test(stop_before_run),
		cmocka_unit_test(triple_fault),
		cmocka_unit_test(internal_error_keeps_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * kvm-raw: the floor for benchmark 7. A bare KVM_RUN loop with nothing
 * behind it: one VM, one 2 MiB memslot, one vCPU in 64-bit mode running
 * the same three instructions as tests/guests/exit_loop.c,
 *
 *   1: out %al, $0x80; dec %rcx; jnz 1b; out %al, $0x81
 *
 * with RCX = N, and counting the KVM_EXIT_IO exits on port 0x80 until the
 * one on port 0x81 (not HLT: with an in-kernel irqchip KVM handles HLT
 * itself, and with interrupts off the vCPU would never come back).
 *
 *   kvm-raw [--irqchip] N
 *
 * --irqchip first gives the VM what Kiln's kvm engine gives every VM: an
 * in-kernel interrupt controller (KVM_CREATE_IRQCHIP) and PIT
 * (KVM_CREATE_PIT2), so that their share of an exit's cost can be told
 * apart from Kiln's own.
 *
 * Prints "exits=N seconds=S ns_per_exit=X": S is from the first KVM_RUN to
 * the exit on port 0x81, on the host's monotonic clock. Exits 1 with the
 * reason on stderr when KVM is not usable or the guest does anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE	0x200000
#define PML4		0x1000
#define PDPT		0x2000
#define PD		0x3000
#define CODE		0x10000
#define PORT		0x80
#define PORT_DONE	0x81

#define CR0_PE		(1u << 0)
#define CR0_ET		(1u << 4)
#define CR0_NE		(1u << 5)
#define CR0_PG		(1u << 31)
#define CR4_PAE		(1u << 5)
#define EFER_LME	(1u << 8)
#define EFER_LMA	(1u << 10)
#define PTE_P		(1u << 0)
#define PTE_W		(1u << 1)
#define PTE_PS		(1u << 7)

static const uint8_t loop_code[] = {
	0xe6, PORT,		/* 1: out %al, $0x80 */
	0x48, 0xff, 0xc9,	/*    dec %rcx */
	0x75, 0xf9,		/*    jnz 1b */
	0xe6, PORT_DONE,	/*    out %al, $0x81 */
};

static void die(const char *what)
{
	fprintf(stderr, "kvm-raw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die(what);
	return r;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Identity-maps the first 2 MiB with one large page. */
static void build_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT);
	uint64_t *pd = (uint64_t *)(mem + PD);

	pml4[0] = PDPT | PTE_P | PTE_W;
	pdpt[0] = PD | PTE_P | PTE_W;
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;
}

static void set_long_mode(int vcpu)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 11,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;

	xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	data.selector = 0x10;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr3 = PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
}

/* The host's CPUID as KVM supports it, so that long mode is advertised. */
static void set_cpuid(int kvm, int vcpu)
{
	int n = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (!c)
		die("calloc");
	c->nent = n;
	xioctl(kvm, KVM_GET_SUPPORTED_CPUID, c, "KVM_GET_SUPPORTED_CPUID");
	xioctl(vcpu, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
	free(c);
}

/* What Kiln's kvm engine creates before its vCPUs (src/engine/kvm/kvm_vm.c). */
static void create_irqchip(int vm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	xioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
	xioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
}

int main(int argc, char **argv)
{
	int irqchip = argc == 3 && !strcmp(argv[1], "--irqchip");
	long long n = argc == 2 + irqchip ? atoll(argv[1 + irqchip]) : 0, exits = 0;
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_regs regs = { 0 };
	struct kvm_run *run;
	int kvm, vm, vcpu, run_size;
	double t0, t;
	uint8_t *mem;

	if (n <= 0) {
		fprintf(stderr, "usage: kvm-raw [--irqchip] N (N > 0 port-I/O exits)\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	if (irqchip)
		create_irqchip(vm);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	build_page_tables(mem);
	memcpy(mem + CODE, loop_code, sizeof(loop_code));
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)mem;
	xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

	vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	set_cpuid(kvm, vcpu);
	set_long_mode(vcpu);
	regs.rip = CODE;
	regs.rcx = n;
	regs.rflags = 2;
	regs.rsp = MEM_SIZE;
	xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");

	t0 = now();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT) {
			if (run->io.port == PORT_DONE)
				break;
			if (run->io.port == PORT) {
				exits++;
				continue;
			}
		}
		fprintf(stderr, "kvm-raw: unexpected exit reason %u after %lld exits\n",
			run->exit_reason, exits);
		return 1;
	}
	t = now() - t0;
	if (exits != n) {
		fprintf(stderr, "kvm-raw: %lld port exits, expected %lld\n", exits, n);
		return 1;
	}
	printf("exits=%lld seconds=%.6f ns_per_exit=%.1f\n", exits, t, t / exits * 1e9);
	return 0;
}

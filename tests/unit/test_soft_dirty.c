// SPDX-License-Identifier: Apache-2.0
/*
 * Dirty-page logging on a standalone soft CPU (src/engine/soft/dirty.c):
 * each way the CPU writes guest RAM - plain stores, read-modify-writes,
 * string instructions, pushes and calls, FXSAVE, stores that cross a
 * page, stores into a page holding translated code, exception frames,
 * accessed/dirty bits set by the page walker, compiled blocks - marks
 * exactly the pages written, reads mark nothing, reading the log clears
 * it, and a page written again after that is reported again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <time.h>

#include "mem/dirty.h"
#include "soft_harness.h"

#define PML4_GPA	0x1000ULL	/* soft_cpu_enter_long_mode(): PML4, PDPT, PD */
#define PDPT_GPA	0x2000ULL
#define PD_GPA		0x3000ULL
#define GDT_GPA		0x6000ULL
#define IDT_GPA		0x7000ULL
#define PT_GPA		0x9000ULL	/* 4 KiB page table for PT_REGION */
#define PT_REGION	0x800000ULL	/* 2 MiB mapped through PT_GPA */
#define CODE_GPA	0x10000ULL
#define HANDLER_GPA	0x30000ULL
#define READ_GPA	0x140000ULL
#define STACK_TOP	0x180000ULL

#define NPAGES (HARNESS_RAM >> 12)
#define MAX_EXPECT 64

#define PTE_A 0x20ULL
#define PTE_D 0x40ULL

/*
 * Long mode over 1 GiB. Every 2 MiB entry already has its accessed and
 * dirty bits, so walks write nothing, except in PT_REGION: its PDE points
 * at a 4 KiB page table whose PDE and PTEs have neither.
 */
static struct harness *setup(void)
{
	struct harness *h = harness_new();
	u64 *pml4 = gptr(h, PML4_GPA), *pdpt = gptr(h, PDPT_GPA), *pd = gptr(h, PD_GPA);
	u64 *pt = gptr(h, PT_GPA);
	u64 *gdt = gptr(h, GDT_GPA);
	struct cpu_state st;

	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PML4_GPA, 1ULL << 30, 0), 0);
	pml4[0] |= PTE_A;
	pdpt[0] |= PTE_A;
	for (unsigned int i = 0; i < 512; i++)
		pd[i] |= PTE_A | PTE_D;
	pd[PT_REGION >> 21] = PT_GPA | 0x7;
	for (unsigned int i = 0; i < 512; i++)
		pt[i] = (PT_REGION + i * 0x1000) | 0x7;

	/* Code and data descriptors with their accessed bits already set. */
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	soft_cpu_get_state(h->cpu, &st);
	st.gdt.base = GDT_GPA;
	st.gdt.limit = 3 * 8 - 1;
	st.idt.base = IDT_GPA;
	st.idt.limit = 256 * 16 - 1;
	soft_cpu_set_state(h->cpu, &st);
	soft_cpu_set_gpr(h->cpu, GPR_RSP, STACK_TOP);
	assert_int_equal(soft_cpu_set_dirty_logging(h->cpu, true), 0);
	return h;
}

static unsigned long bits[(NPAGES + 63) / 64];

/* Reads (and with clear, clears) the log; returns the number of dirty pages. */
static u64 read_log(struct harness *h, bool clear)
{
	u64 n = 0;

	assert_int_equal(soft_cpu_get_dirty_log(h->cpu, 0, bits, clear), 0);
	for (unsigned int w = 0; w < ARRAY_SIZE(bits); w++)
		n += __builtin_popcountl(bits[w]);
	return n;
}

static bool page_dirty(u64 gpa)
{
	u64 page = gpa >> 12;

	return bits[page / 64] >> (page % 64) & 1;
}

/* The log holds exactly the n pages of want; clears it. */
static void expect_exactly(struct harness *h, const char *what, const u64 *want, unsigned int n)
{
	u64 seen = read_log(h, true);
	unsigned int found = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (page_dirty(want[i]))
			found++;
		else
			print_error("%s: page %#llx is clean\n", what, (unsigned long long)want[i]);
	}
	printf("# %s: %u pages expected dirty, %llu dirty, %u of them expected\n", what, n,
	       (unsigned long long)seen, found);
	if (found != n || seen != n) {
		for (u64 p = 0; p < NPAGES; p++)
			if (page_dirty(p << 12))
				print_error("%s: dirty: %#llx\n", what, (unsigned long long)(p << 12));
		fail();
	}
}

static void run_to_hlt(struct harness *h, u64 rip)
{
	struct soft_run_info info;

	soft_cpu_set_rip(h->cpu, rip);
	assert_int_equal(soft_cpu_run(h->cpu, 1000000, ~0ULL, &info), SOFT_RUN_HALT);
}

/* ---- plain stores, reads, the page walker ------------------------------- */

SOFT_CODE(dirty_stores,
	".code64\n"
	"mov %rax, (%rdi)\n"
	"mov %eax, 0x3000(%rdi)\n"
	"mov (%rsi), %rbx\n"		/* a read marks nothing */
	"movb $1, 0x800010\n"		/* PT_REGION: PTE gets A and D, its PDE A */
	"mov 0x805000, %rcx\n"		/* a read there: PTE gets A */
	"hlt\n");

static void stores_reads_and_page_walks(void **state)
{
	struct harness *h = setup();
	const u64 first[] = { 0x100000, 0x103000, PT_REGION, PD_GPA, PT_GPA };
	const u64 again[] = { 0x100000, 0x103000, PT_REGION };
	u64 *pt = gptr(h, PT_GPA), *pd = gptr(h, PD_GPA);

	(void)state;
	/* Before anything ran: nothing. */
	assert_int_equal(read_log(h, false), 0);
	load_code(h, CODE_GPA, dirty_stores_start, CODE_LEN(dirty_stores));
	soft_cpu_set_gpr(h->cpu, GPR_RDI, 0x100000);
	soft_cpu_set_gpr(h->cpu, GPR_RSI, READ_GPA);
	run_to_hlt(h, CODE_GPA);
	assert_true((pt[0] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
	assert_true((pt[5] & (PTE_A | PTE_D)) == PTE_A);
	assert_true(pd[PT_REGION >> 21] & PTE_A);

	/* Reading without clearing keeps the bits. */
	assert_int_equal(read_log(h, false), ARRAY_SIZE(first));
	expect_exactly(h, "stores and page walks", first, ARRAY_SIZE(first));
	assert_int_equal(read_log(h, false), 0);

	/* The same stores again: the fast write entries went with the clear. */
	run_to_hlt(h, CODE_GPA);
	expect_exactly(h, "the same stores after a clear", again, ARRAY_SIZE(again));

	/* Logging off: nothing to read; back on: all clean. */
	assert_int_equal(soft_cpu_set_dirty_logging(h->cpu, false), 0);
	assert_int_equal(soft_cpu_get_dirty_log(h->cpu, 0, bits, true), -ENOENT);
	run_to_hlt(h, CODE_GPA);
	assert_int_equal(soft_cpu_set_dirty_logging(h->cpu, true), 0);
	assert_int_equal(read_log(h, false), 0);
	assert_int_equal(soft_cpu_get_dirty_log(h->cpu, 1, bits, false), -EINVAL);
	/* Fast entries installed while logging was off went at the start. */
	run_to_hlt(h, CODE_GPA);
	expect_exactly(h, "the same stores after a restart", again, ARRAY_SIZE(again));
	harness_free(h);
}

/* ---- every other way the CPU writes ------------------------------------- */

SOFT_CODE(dirty_others,
	".code64\n"
	/* rep stosb over three pages: 0x200800 .. 0x2027ff */
	"mov $0x200800, %rdi\n"
	"mov $0x2000, %ecx\n"
	"mov $0xab, %al\n"
	"rep stosb\n"
	/* rep movsq from a page that is only read, across a page end */
	"mov $0x140000, %rsi\n"
	"mov $0x210ff8, %rdi\n"
	"mov $2, %ecx\n"
	"rep movsq\n"
	/* push and call: the stack page below 0x180000 */
	"push %rax\n"
	"call 1f\n"
	"1:\n"
	"pop %rbx\n"
	"pop %rbx\n"
	/* FXSAVE: 512 bytes over two pages */
	"fxsave 0x220f00\n"
	/* locked read-modify-write, CMPXCHG, XCHG with memory */
	"lock addl $1, 0x230000\n"
	"mov $0x240000, %rdx\n"
	"xor %eax, %eax\n"
	"lock cmpxchg %rbx, (%rdx)\n"
	"xchg %rax, 0x248000\n"
	/* a store across a page end */
	"mov %rax, 0x250ffc\n"
	/* a store into the page that holds this code */
	"movb $0x90, 0x10f00\n"
	/* SSE store */
	"movups %xmm0, 0x260000\n"
	"hlt\n");

static void strings_stack_fxsave_rmw_smc(void **state)
{
	struct harness *h = setup();
	const u64 want[] = {
		0x200000, 0x201000, 0x202000,	/* rep stosb */
		0x210000, 0x211000,		/* rep movsq */
		STACK_TOP - 0x1000,		/* push, call */
		0x220000, 0x221000,		/* fxsave */
		0x230000, 0x240000, 0x248000,	/* lock add, cmpxchg, xchg */
		0x250000, 0x251000,		/* split store */
		CODE_GPA,			/* store into a code page */
		0x260000,			/* movups */
	};

	(void)state;
	load_code(h, CODE_GPA, dirty_others_start, CODE_LEN(dirty_others));
	run_to_hlt(h, CODE_GPA);
	assert_int_equal(*(u8 *)gptr(h, 0x10f00), 0x90);
	expect_exactly(h, "strings, stack, fxsave, rmw, split, code page", want,
		       ARRAY_SIZE(want));
	run_to_hlt(h, CODE_GPA);
	expect_exactly(h, "the same after a clear", want, ARRAY_SIZE(want));
	harness_free(h);
}

/* ---- exception frames --------------------------------------------------- */

SOFT_CODE(dirty_fault,
	".code64\n"
	"ud2\n");
SOFT_CODE(dirty_handler,
	".code64\n"
	"hlt\n");

static void exception_frames(void **state)
{
	struct harness *h = setup();
	u64 *gate = gptr(h, IDT_GPA + 6 * 16);	/* #UD */
	const u64 stack = 0x190000;
	const u64 want[] = { stack - 0x1000 };

	(void)state;
	load_code(h, CODE_GPA, dirty_fault_start, CODE_LEN(dirty_fault));
	load_code(h, HANDLER_GPA, dirty_handler_start, CODE_LEN(dirty_handler));
	/* 64-bit interrupt gate: CS 0x08, present, DPL 0, type 0xe. */
	gate[0] = (HANDLER_GPA & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
		  ((HANDLER_GPA >> 16 & 0xffff) << 48);
	gate[1] = HANDLER_GPA >> 32;
	soft_cpu_set_deliver_exceptions(h->cpu, true);
	soft_cpu_set_gpr(h->cpu, GPR_RSP, stack);
	run_to_hlt(h, CODE_GPA);
	assert_int_equal(soft_cpu_get_rip(h->cpu), HANDLER_GPA + 1);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RSP), stack - 5 * 8);
	expect_exactly(h, "#UD frame", want, ARRAY_SIZE(want));
	harness_free(h);
}

/* ---- compiled blocks ---------------------------------------------------- */

SOFT_CODE(dirty_loop,
	".code64\n"
	"1:\n"
	"mov %rax, (%rdi)\n"
	"add %eax, 8(%rdi)\n"
	"add $0x1000, %rdi\n"
	"dec %ecx\n"
	"jnz 1b\n"
	"hlt\n");

/* The loop over pages pages from start; tables: the walker writes PD and PT too. */
static void run_loop(struct harness *h, u64 start, unsigned int pages, bool tables,
		     const char *what)
{
	u64 want[MAX_EXPECT];
	unsigned int n = 0;

	assert_true(pages + 2 <= MAX_EXPECT);
	for (unsigned int i = 0; i < pages; i++)
		want[n++] = start + i * 0x1000ULL;
	if (tables) {
		want[n++] = PD_GPA;
		want[n++] = PT_GPA;
	}
	soft_cpu_set_gpr(h->cpu, GPR_RDI, start);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, pages);
	run_to_hlt(h, CODE_GPA);
	expect_exactly(h, what, want, n);
}

static void compiled_blocks(void **state)
{
	struct harness *h = setup();

	(void)state;
	soft_cpu_set_single_step(h->cpu, false);
	soft_cpu_set_jit_threshold(h->cpu, 1);
	load_code(h, CODE_GPA, dirty_loop_start, CODE_LEN(dirty_loop));
	run_loop(h, 0x300000, 48, false, "compiled loop, 48 pages");
	/* Compiled now: the same pages again, then others. */
	run_loop(h, 0x300000, 48, false, "compiled loop, the same 48 pages after a clear");
	run_loop(h, 0x340000, 20, false, "compiled loop, 20 other pages");
	/* Through 4 KiB entries the walker sets A and D in. */
	run_loop(h, PT_REGION + 0x10000, 4, true, "compiled loop, 4 pages of PT_REGION");
	run_loop(h, PT_REGION + 0x10000, 4, false, "compiled loop, the same 4 pages again");
	harness_free(h);
}

/*
 * Not a pass/fail check (the host is shared): what a store costs in a
 * compiled loop with logging off, on, and on with a clearing read before
 * each pass (every page then takes the slow path once per pass).
 */
static double loop_ns_per_store(struct harness *h, unsigned int passes, bool clear_each)
{
	const unsigned int pages = 64;
	struct timespec t0, t1;
	double best = 1e18;

	for (unsigned int i = 0; i < passes; i++) {
		if (clear_each)
			read_log(h, true);
		soft_cpu_set_gpr(h->cpu, GPR_RDI, 0x300000);
		soft_cpu_set_gpr(h->cpu, GPR_RCX, pages);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		run_to_hlt(h, CODE_GPA);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* The fastest pass: the others met preemption on this shared host. */
		best = MIN(best, (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec));
	}
	return best / (pages * 2);	/* a store and an add to memory per page */
}

static void store_cost(void **state)
{
	struct harness *h = setup();
	double off, on, cleared;

	(void)state;
	soft_cpu_set_single_step(h->cpu, false);
	soft_cpu_set_jit_threshold(h->cpu, 1);
	load_code(h, CODE_GPA, dirty_loop_start, CODE_LEN(dirty_loop));
	assert_int_equal(soft_cpu_set_dirty_logging(h->cpu, false), 0);
	loop_ns_per_store(h, 10, false);	/* compile, fill the TLB */
	off = loop_ns_per_store(h, 2000, false);
	assert_int_equal(soft_cpu_set_dirty_logging(h->cpu, true), 0);
	on = loop_ns_per_store(h, 2000, false);
	cleared = loop_ns_per_store(h, 2000, true);
	printf("# compiled store loop over 64 pages, ns per memory write, fastest of 2000 passes: "
	       "logging off %.1f, on %.1f, on with a clearing read per pass %.1f\n",
	       off, on, cleared);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stores_reads_and_page_walks),
		cmocka_unit_test(strings_stack_fxsave_rmw_smc),
		cmocka_unit_test(exception_frames),
		cmocka_unit_test(compiled_blocks),
		cmocka_unit_test(store_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

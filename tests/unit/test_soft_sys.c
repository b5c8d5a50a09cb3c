// SPDX-License-Identifier: Apache-2.0
/*
 * System behaviour of the soft CPU, standalone: paging faults and their
 * error codes, CR2, accessed/dirty bits, NX, WP, U/S, exception delivery
 * through the IDT (privilege change, IST, double and triple fault),
 * SYSCALL/SYSRET, the real -> protected -> long mode path, and
 * self-modifying code (also through a second virtual alias).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "soft_harness.h"

/* Guest physical layout of the tests. */
#define GDT_GPA		0x1000ULL
#define IDT_GPA		0x2000ULL
#define TSS_GPA		0x3000ULL
#define RESULT_GPA	0x4000ULL
#define MODE_CODE_GPA	0x8000ULL	/* real-mode entry, CS = 0x800 */
#define HANDLERS_GPA	0x10000ULL
#define CODE_GPA	0x20000ULL
#define USER_CODE_GPA	0x30000ULL
#define DATA_GPA	0x40000ULL
#define PT_POOL_GPA	0x100000ULL	/* page tables are carved from here */
#define STACK0_TOP	0x90000ULL
#define IST1_TOP	0xa0000ULL
#define USER_STACK_TOP	0xb0000ULL

/* Architectural values (Intel SDM vol. 3, 4.7 and 6.3). */
#define PFEC_P		0x01
#define PFEC_W		0x02
#define PFEC_U		0x04
#define PFEC_RSVD	0x08
#define PFEC_I		0x10
#define EXC_DF		8

#define PTE_P	0x1ULL
#define PTE_W	0x2ULL
#define PTE_U	0x4ULL
#define PTE_A	0x20ULL
#define PTE_D	0x40ULL
#define PTE_PS	0x80ULL
#define PTE_NX	(1ULL << 63)

struct sys {
	struct harness *h;
	u64 pool;
	u64 cr3;
};

static u64 pt_alloc(struct sys *s)
{
	u64 p = s->pool;

	s->pool += 0x1000;
	memset(gptr(s->h, p), 0, 0x1000);
	return p;
}

/* The entry for va at level (4 = PML4 ... 1 = PT), allocating tables above it. */
static u64 *pt_entry(struct sys *s, u64 va, int level)
{
	u64 table = s->cr3;

	for (int l = 4; l > level; l--) {
		u64 *e = gptr(s->h, table + ((va >> (12 + 9 * (l - 1))) & 511) * 8);

		if (!(*e & PTE_P))
			*e = pt_alloc(s) | PTE_P | PTE_W | PTE_U;
		table = *e & 0x000ffffffffff000ULL;
	}
	return gptr(s->h, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
}

static void map4k(struct sys *s, u64 va, u64 pa, u64 flags)
{
	*pt_entry(s, va, 1) = pa | flags;
}

static u64 *pte_of(struct sys *s, u64 va)
{
	return pt_entry(s, va, 1);
}

/* GDT: null, 08 code64, 10 data, 18 code32, 23 user32 code, 2b user data, 33 user code64, 40 TSS. */
static void setup_gdt(struct sys *s)
{
	u64 *gdt = gptr(s->h, GDT_GPA);
	u64 tss = TSS_GPA;

	memset(gdt, 0, 0x100);
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00cf9b000000ffffULL;
	gdt[4] = 0x00cffb000000ffffULL;
	gdt[5] = 0x00cff3000000ffffULL;
	gdt[6] = 0x00affb000000ffffULL;
	gdt[8] = 0x67 | ((tss & 0xffffff) << 16) | (0x89ULL << 40) | ((tss >> 24) << 56);
	gdt[9] = tss >> 32;
}

/* The stubs and the common handler: dump the frame to RESULT_GPA and halt. */
SOFT_CODE(handlers,
	".code64\n"
	"stubs:\n"
	".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n"
	"  .p2align 4\n"
	"  pushq $\\v\n"
	"  jmp common\n"
	".endr\n"
	"  .p2align 4\n"
	"stub_0x80:\n"		/* vector 0x80, a DPL 3 gate: returns to user mode */
	"  movq $0x80, 0x4000\n"
	"  movq %rax, 0x4008\n"
	"  iretq\n"
	"common:\n"
	"  mov %rsp, %rsi\n"
	"  mov $0x4000, %edi\n"
	"  mov $8, %ecx\n"
	"  rep movsq\n"
	"  mov %cr2, %rax\n"
	"  mov %rax, 0x4040\n"
	"  mov %rsp, 0x4048\n"
	"  hlt\n");

#define STUB(v) (HANDLERS_GPA + 16 * (v))
#define STUB_0X80 (HANDLERS_GPA + 16 * 21)

static void set_gate(struct sys *s, unsigned int vec, u64 target, unsigned int dpl, unsigned int ist,
		     bool present)
{
	u64 *g = gptr(s->h, IDT_GPA + vec * 16);

	g[0] = (target & 0xffff) | (0x08ULL << 16) | ((u64)ist << 32) |
	       ((u64)(0x0e | (dpl << 5) | (present ? 0x80 : 0)) << 40) |
	       ((target >> 16 & 0xffff) << 48);
	g[1] = target >> 32;
}

/* Long mode at CPL 0, paging over our own tables, IDT and TSS installed. */
static struct sys *sys_new(void)
{
	struct sys *s = calloc(1, sizeof(*s));
	struct cpu_state st;
	u64 *tss;

	s->h = harness_new();
	s->pool = PT_POOL_GPA;
	s->cr3 = pt_alloc(s);
	/* Identity-map the first MiB (4 KiB pages, supervisor). */
	for (u64 a = 0; a < 0x100000; a += 0x1000)
		map4k(s, a, a, PTE_P | PTE_W);
	setup_gdt(s);
	load_code(s->h, HANDLERS_GPA, handlers_start, CODE_LEN(handlers));
	for (unsigned int v = 0; v <= 20; v++)
		set_gate(s, v, STUB(v), 0, 0, true);
	set_gate(s, 0x80, STUB_0X80, 3, 0, true);
	tss = gptr(s->h, TSS_GPA);
	memset(tss, 0, 104);
	/* rsp0 at 4 and ist1 at 36: the 64-bit TSS packs them unaligned. */
	memcpy((u8 *)tss + 4, &(u64){ STACK0_TOP }, 8);
	memcpy((u8 *)tss + 36, &(u64){ IST1_TOP }, 8);

	assert_int_equal(soft_cpu_enter_long_mode(s->h->cpu, 0x5000, 1ULL << 30, 0), 0);
	soft_cpu_get_state(s->h->cpu, &st);
	st.cr3 = s->cr3;
	st.gdt = (struct dtable){ .base = GDT_GPA, .limit = 0x4f };
	st.idt = (struct dtable){ .base = IDT_GPA, .limit = 0x80 * 16 + 15 };
	st.tr = (struct segment){ .selector = 0x40, .base = TSS_GPA, .limit = 0x67,
				  .type = 0xb, .present = 1 };
	st.gpr[GPR_RSP] = STACK0_TOP;
	soft_cpu_set_state(s->h->cpu, &st);
	soft_cpu_set_deliver_exceptions(s->h->cpu, true);
	return s;
}

static void sys_free(struct sys *s)
{
	harness_free(s->h);
	free(s);
}

static u64 result(struct sys *s, unsigned int i)
{
	return ((u64 *)gptr(s->h, RESULT_GPA))[i];
}

static void run_code(struct sys *s, const u8 *start, size_t len, enum soft_run_result want)
{
	struct soft_run_info info;

	load_code(s->h, CODE_GPA, start, len);
	soft_cpu_set_rip(s->h->cpu, CODE_GPA);
	assert_int_equal(soft_cpu_run(s->h->cpu, 100000, ~0ULL, &info), want);
}

/* ---------------------------------------------------------------------- */

SOFT_CODE(touch_read, ".code64\n mov (%rbx), %rax\n hlt\n");
SOFT_CODE(touch_write, ".code64\n movl $0x1234, (%rbx)\n hlt\n");

static void test_pf_not_present(void **state)
{
	struct sys *s = sys_new();
	u64 va = 0x7f0000123008ULL;

	(void)state;
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, va);
	run_code(s, touch_write_start, CODE_LEN(touch_write), SOFT_RUN_HALT);
	/* Frame: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
	assert_int_equal(result(s, 0), 14);
	assert_int_equal(result(s, 1), PFEC_W);
	assert_int_equal(result(s, 2), CODE_GPA);
	assert_int_equal(result(s, 3), 0x08);
	assert_int_equal(result(s, 5), STACK0_TOP);
	assert_int_equal(result(s, 8), va);		/* CR2 */
	sys_free(s);
}

static void test_pf_protection_and_ad_bits(void **state)
{
	struct sys *s = sys_new();
	struct cpu_state st;
	u64 va = 0x400000, *pte;

	(void)state;
	/* A read-only page: reads work and set A, not D. */
	map4k(s, va, DATA_GPA, PTE_P);
	pte = pte_of(s, va);
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, va + 8);
	run_code(s, touch_read_start, CODE_LEN(touch_read), SOFT_RUN_HALT);
	assert_true(*pte & PTE_A);
	assert_false(*pte & PTE_D);
	assert_true(*(u64 *)gptr(s->h, s->cr3) & PTE_A);	/* every level */

	/* A write with CR0.WP: #PF, P|W. */
	run_code(s, touch_write_start, CODE_LEN(touch_write), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 14);
	assert_int_equal(result(s, 1), PFEC_P | PFEC_W);
	assert_false(*pte & PTE_D);

	/* Without CR0.WP a supervisor write goes through, and sets D. */
	soft_cpu_get_state(s->h->cpu, &st);
	st.cr0 &= ~CR0_WP;
	st.gpr[GPR_RSP] = STACK0_TOP;
	soft_cpu_set_state(s->h->cpu, &st);
	memset(gptr(s->h, RESULT_GPA), 0, 64);
	run_code(s, touch_write_start, CODE_LEN(touch_write), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 0);
	assert_true(*pte & PTE_D);
	assert_int_equal(*(u32 *)gptr(s->h, DATA_GPA + 8), 0x1234);

	/* A reserved bit: P|RSVD. */
	*pte |= 1ULL << 51;
	soft_cpu_get_state(s->h->cpu, &st);
	st.cr3 = s->cr3;	/* flushes the TLB */
	st.gpr[GPR_RSP] = STACK0_TOP;
	soft_cpu_set_state(s->h->cpu, &st);
	run_code(s, touch_read_start, CODE_LEN(touch_read), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 14);
	assert_int_equal(result(s, 1), PFEC_P | PFEC_RSVD);
	sys_free(s);
}

/* User code: touch a supervisor page, then (second run) fetch from an NX page. */
SOFT_CODE(user_touch, ".code64\n mov (%rbx), %rax\n ud2\n");
SOFT_CODE(user_jump, ".code64\n jmp *%rbx\n");

static void enter_user(struct sys *s, u64 rip)
{
	struct cpu_state st;

	soft_cpu_get_state(s->h->cpu, &st);
	st.cs = (struct segment){ .selector = 0x33, .limit = 0xffffffff, .type = 0xb, .s = 1,
				  .dpl = 3, .present = 1, .l = 1, .g = 1 };
	st.ss = (struct segment){ .selector = 0x2b, .limit = 0xffffffff, .type = 0x3, .s = 1,
				  .dpl = 3, .present = 1, .db = 1, .g = 1 };
	st.rip = rip;
	st.gpr[GPR_RSP] = USER_STACK_TOP;
	st.rflags = RFLAGS_FIXED | RFLAGS_IF;
	soft_cpu_set_state(s->h->cpu, &st);
}

static void test_user_faults_and_privilege_change(void **state)
{
	struct sys *s = sys_new();
	struct soft_run_info info;
	u64 kpage = 0x500000, nxpage = 0x600000;

	(void)state;
	map4k(s, USER_CODE_GPA, USER_CODE_GPA, PTE_P | PTE_U);
	map4k(s, USER_STACK_TOP - 0x1000, USER_STACK_TOP - 0x1000, PTE_P | PTE_W | PTE_U);
	map4k(s, kpage, DATA_GPA, PTE_P | PTE_W);		/* supervisor only */
	map4k(s, nxpage, DATA_GPA, PTE_P | PTE_U | PTE_NX);
	load_code(s->h, USER_CODE_GPA, user_touch_start, CODE_LEN(user_touch));
	enter_user(s, USER_CODE_GPA);
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, kpage);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	/* #PF P|U, delivered on the CPL 0 stack from the TSS, user SS:RSP saved. */
	assert_int_equal(result(s, 0), 14);
	assert_int_equal(result(s, 1), PFEC_P | PFEC_U);
	assert_int_equal(result(s, 2), USER_CODE_GPA);
	assert_int_equal(result(s, 3), 0x33);
	assert_true(result(s, 4) & RFLAGS_IF);
	assert_int_equal(result(s, 5), USER_STACK_TOP);
	assert_int_equal(result(s, 6), 0x2b);
	assert_int_equal(result(s, 9), STACK0_TOP - 7 * 8);

	/* Instruction fetch from an NX page: P|U|I, CR2 = RIP = the target. */
	load_code(s->h, USER_CODE_GPA, user_jump_start, CODE_LEN(user_jump));
	enter_user(s, USER_CODE_GPA);
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, nxpage + 0x10);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 14);
	assert_int_equal(result(s, 1), PFEC_P | PFEC_U | PFEC_I);
	assert_int_equal(result(s, 2), nxpage + 0x10);
	assert_int_equal(result(s, 8), nxpage + 0x10);

	/* HLT at CPL 3: #GP(0) at the HLT. */
	*(u8 *)gptr(s->h, USER_CODE_GPA) = 0xf4;
	soft_cpu_code_changed(s->h->cpu, USER_CODE_GPA, 1);
	enter_user(s, USER_CODE_GPA);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 13);
	assert_int_equal(result(s, 1), 0);
	assert_int_equal(result(s, 2), USER_CODE_GPA);
	sys_free(s);
}

/* INT 0x80 through a DPL 3 gate and IRETQ back; INT3 through a DPL 0 gate is #GP. */
SOFT_CODE(user_int, ".code64\n mov $7, %eax\n int $0x80\n mov $9, %r9\n int3\n");

static void test_int_gate_dpl_and_iret(void **state)
{
	struct sys *s = sys_new();
	struct soft_run_info info;

	(void)state;
	map4k(s, USER_CODE_GPA, USER_CODE_GPA, PTE_P | PTE_U);
	map4k(s, USER_STACK_TOP - 0x1000, USER_STACK_TOP - 0x1000, PTE_P | PTE_W | PTE_U);
	load_code(s->h, USER_CODE_GPA, user_int_start, CODE_LEN(user_int));
	enter_user(s, USER_CODE_GPA);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	/* The 0x80 handler ran and returned to user mode (R9 = 9 after it). */
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_R9), 9);
	/* INT3 at CPL 3 through a DPL 0 gate: #GP(vector * 8 + 2), pushed RIP = the int3. */
	assert_int_equal(result(s, 0), 13);
	assert_int_equal(result(s, 1), 3 * 8 + 2);
	assert_int_equal(result(s, 2), USER_CODE_GPA + 5 + 2 + 7);
	sys_free(s);
}

/* A #PF whose delivery faults again (stack not mapped) becomes #DF, on IST 1. */
SOFT_CODE(bad_stack, ".code64\n mov $0x7ffff000, %rsp\n mov (%rbx), %rax\n hlt\n");

static void test_double_and_triple_fault(void **state)
{
	struct sys *s = sys_new();
	struct soft_run_info info;

	(void)state;
	set_gate(s, EXC_DF, STUB(EXC_DF), 0, 1, true);
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, 0x7f0000000000ULL);
	run_code(s, bad_stack_start, CODE_LEN(bad_stack), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), EXC_DF);
	assert_int_equal(result(s, 1), 0);
	assert_int_equal(result(s, 9), IST1_TOP - 7 * 8);

	/* Without a #DF gate, the machine shuts down. */
	set_gate(s, EXC_DF, STUB(EXC_DF), 0, 1, false);
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, 0x7f0000000000ULL);
	load_code(s->h, CODE_GPA, bad_stack_start, CODE_LEN(bad_stack));
	soft_cpu_set_rip(s->h->cpu, CODE_GPA);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_TRIPLE_FAULT);
	sys_free(s);
}

/* SYSRET to user mode, SYSCALL back: RCX/R11, selectors, SFMASK. */
SOFT_CODE(sys_entry,
	".code64\n"
	"  mov $0xc0000081, %ecx\n"	/* STAR: kernel CS 0x08, user base 0x23 */
	"  mov $0x00230008, %edx\n"
	"  xor %eax, %eax\n"
	"  wrmsr\n"
	"  mov $0xc0000082, %ecx\n"	/* LSTAR */
	"  mov $0x20100, %eax\n"
	"  xor %edx, %edx\n"
	"  wrmsr\n"
	"  mov $0xc0000084, %ecx\n"	/* SFMASK: clear IF and DF */
	"  mov $0x600, %eax\n"
	"  wrmsr\n"
	"  mov $0x30000, %ecx\n"	/* user RIP */
	"  mov $0x202, %r11d\n"		/* user RFLAGS: IF */
	"  sysretq\n"
	"  .skip 0x100 - (. - sys_entry_start)\n"	/* LSTAR: back in the kernel */
	"  mov %rcx, 0x4000\n"
	"  mov %r11, 0x4008\n"
	"  mov %cs, %eax\n"
	"  mov %rax, 0x4010\n"
	"  mov %ss, %eax\n"
	"  mov %rax, 0x4018\n"
	"  pushfq\n"
	"  popq 0x4020\n"
	"  hlt\n");
SOFT_CODE(sys_user, ".code64\n std\n mov %cs, %eax\n mov %eax, %r12d\n syscall\n");

static void test_syscall_sysret(void **state)
{
	struct sys *s = sys_new();
	struct cpu_state st;

	(void)state;
	map4k(s, USER_CODE_GPA, USER_CODE_GPA, PTE_P | PTE_U);
	load_code(s->h, USER_CODE_GPA, sys_user_start, CODE_LEN(sys_user));
	run_code(s, sys_entry_start, CODE_LEN(sys_entry), SOFT_RUN_HALT);
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_R12), 0x33);	/* user CS */
	assert_int_equal(result(s, 0), USER_CODE_GPA + CODE_LEN(sys_user));
	assert_int_equal(result(s, 1) & (RFLAGS_IF | RFLAGS_DF), RFLAGS_IF | RFLAGS_DF);
	assert_int_equal(result(s, 2), 0x08);
	assert_int_equal(result(s, 3), 0x10);
	assert_int_equal(result(s, 4) & (RFLAGS_IF | RFLAGS_DF), 0);
	soft_cpu_get_state(s->h->cpu, &st);
	assert_int_equal(st.cs.dpl, 0);
	sys_free(s);
}

/* Real mode at 0800:0000 -> 32-bit protected mode -> 64-bit long mode. */
extern const u8 mode_lea_end[];
SOFT_CODE(mode_switch,
	".code16\n"
	"rm_start:\n"
	"  cli\n"
	"  xor %ax, %ax\n"
	"  mov %ax, %ds\n"
	"  lgdtl %cs:(gdtr - rm_start)\n"
	"  mov %cr0, %eax\n"
	"  or $1, %eax\n"
	"  mov %eax, %cr0\n"
	"  ljmpl $0x18, $(0x8000 + pm32 - rm_start)\n"
	".code32\n"
	"pm32:\n"
	"  mov $0x10, %ax\n"
	"  mov %ax, %ds\n"
	"  mov %ax, %ss\n"
	"  mov $0x9000, %esp\n"
	"  movl $0x32323232, 0x4000\n"
	"  mov %cr4, %eax\n"
	"  or $0x20, %eax\n"		/* PAE */
	"  mov %eax, %cr4\n"
	"  mov %ebx, %cr3\n"		/* page tables from the test */
	"  mov $0xc0000080, %ecx\n"
	"  rdmsr\n"
	"  or $0x100, %eax\n"		/* LME */
	"  wrmsr\n"
	"  mov %cr0, %eax\n"
	"  or $0x80000000, %eax\n"
	"  mov %eax, %cr0\n"
	"  ljmp $0x08, $(0x8000 + lm64 - rm_start)\n"
	".code64\n"
	"lm64:\n"
	"  movabs $0x6464646464646464, %rax\n"
	"  mov %rax, 0x4008\n"
	"  lea (%rip), %rcx\n"
	".globl mode_lea_end\n"
	"mode_lea_end:\n"
	"  mov %rcx, 0x4010\n"
	"  hlt\n"
	"  .p2align 3\n"
	"gdtr:\n"
	"  .word 0x4f\n"
	"  .long 0x1000\n");

static void test_real_to_long_mode(void **state)
{
	struct sys *s = sys_new();
	struct soft_run_info info;
	struct cpu_state st;

	(void)state;
	load_code(s->h, MODE_CODE_GPA, mode_switch_start, CODE_LEN(mode_switch));
	/* Back to a freshly reset CPU, as an AP after SIPI: CS = 0x800, IP = 0. */
	memset(&st, 0, sizeof(st));
	st.cs = (struct segment){ .selector = 0x800, .base = 0x8000, .limit = 0xffff,
				  .type = 0xb, .s = 1, .present = 1 };
	st.ds = st.es = st.fs = st.gs = st.ss =
		(struct segment){ .limit = 0xffff, .type = 0x3, .s = 1, .present = 1 };
	st.cr0 = CR0_ET;
	st.rflags = RFLAGS_FIXED;
	st.gdt.limit = st.idt.limit = 0xffff;
	st.gpr[GPR_RBX] = s->cr3;
	soft_cpu_set_state(s->h->cpu, &st);
	soft_cpu_set_deliver_exceptions(s->h->cpu, false);
	assert_int_equal(soft_cpu_run(s->h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	assert_int_equal(*(u32 *)gptr(s->h, 0x4000), 0x32323232);
	assert_int_equal(result(s, 1), 0x6464646464646464ULL);
	soft_cpu_get_state(s->h->cpu, &st);
	assert_true(st.efer & EFER_LMA);
	assert_true(st.cs.l);
	/* RIP-relative addressing in the new mode. */
	assert_int_equal(result(s, 2), MODE_CODE_GPA + (u64)(mode_lea_end - mode_switch_start));
	sys_free(s);
}

/* Stores into the instruction that runs next, in the same block. */
SOFT_CODE(smc_same_block,
	".code64\n"
	"  movb $0x2a, patch+1(%rip)\n"
	"patch:\n"
	"  mov $0x11, %al\n"		/* becomes mov $0x2a, %al */
	"  hlt\n");

/* Writes code through one alias, runs it through another. */
SOFT_CODE(smc_alias_writer,
	".code64\n"
	"  call *%rbx\n"		/* run the target once: it gets translated */
	"  mov %eax, %r12d\n"
	"  movl $0x00c377b0, (%rdx)\n"	/* mov $0x77, %al; ret */
	"  call *%rbx\n"
	"  hlt\n");

static void test_self_modifying_code(void **state)
{
	struct sys *s = sys_new();
	u64 exec_va = 0x700000, write_va = 0x800000;
	u8 target[] = { 0xb0, 0x55, 0xc3 };	/* mov $0x55, %al; ret */

	(void)state;
	run_code(s, smc_same_block_start, CODE_LEN(smc_same_block), SOFT_RUN_HALT);
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_RAX) & 0xff, 0x2a);

	map4k(s, exec_va, DATA_GPA, PTE_P);
	map4k(s, write_va, DATA_GPA, PTE_P | PTE_W);
	memcpy(gptr(s->h, DATA_GPA), target, sizeof(target));
	soft_cpu_code_changed(s->h->cpu, DATA_GPA, sizeof(target));
	soft_cpu_set_gpr(s->h->cpu, GPR_RBX, exec_va);
	soft_cpu_set_gpr(s->h->cpu, GPR_RDX, write_va);
	run_code(s, smc_alias_writer_start, CODE_LEN(smc_alias_writer), SOFT_RUN_HALT);
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_R12) & 0xff, 0x55);
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_RAX) & 0xff, 0x77);
	sys_free(s);
}

/* RDMSR of an MSR that does not exist: #GP(0) at the RDMSR, nothing changed. */
SOFT_CODE(bad_msr, ".code64\n mov $0xdeadbeef, %ecx\n mov $5, %edx\n rdmsr\n hlt\n");

static void test_unknown_msr_gp(void **state)
{
	struct sys *s = sys_new();

	(void)state;
	run_code(s, bad_msr_start, CODE_LEN(bad_msr), SOFT_RUN_HALT);
	assert_int_equal(result(s, 0), 13);
	assert_int_equal(result(s, 2), CODE_GPA + 10);
	assert_int_equal(soft_cpu_get_gpr(s->h->cpu, GPR_RDX), 5);
	sys_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pf_not_present),
		cmocka_unit_test(test_pf_protection_and_ad_bits),
		cmocka_unit_test(test_user_faults_and_privilege_change),
		cmocka_unit_test(test_int_gate_dpl_and_iret),
		cmocka_unit_test(test_double_and_triple_fault),
		cmocka_unit_test(test_syscall_sysret),
		cmocka_unit_test(test_real_to_long_mode),
		cmocka_unit_test(test_self_modifying_code),
		cmocka_unit_test(test_unknown_msr_gp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

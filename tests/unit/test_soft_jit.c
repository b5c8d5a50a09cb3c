// SPDX-License-Identifier: Apache-2.0
/*
 * The soft CPU's block compiler (src/engine/soft/jit.c) against its
 * interpreter: the same guest code run one instruction per block, in
 * interpreted blocks, and in blocks compiled at their first entry must
 * leave the same registers, flags and memory; faults inside compiled code
 * must be precise; stores into a compiled block must take effect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "soft_harness.h"

#define PT_GPA 0x10000ULL
#define CODE_GPA 0x100000ULL
#define BUF_GPA 0x200000ULL
#define BUF_LEN 0x4000
#define GS_GPA 0x300000ULL
#define STACK_TOP 0x400000ULL
#define UNMAPPED 0x80000000ULL	/* past the 1 GiB identity map */

enum mode { SINGLE, BLOCKS, COMPILED, NR_MODES };
static const char *const mode_name[] = { "single-step", "interpreted blocks", "compiled blocks" };

/*
 * A loop over a buffer with most of what the compiler handles itself
 * (ALU forms, shifts by immediates and CL, rotates, IMUL, SETcc, CMOVcc,
 * ADC/SBB, INC/DEC, NEG/NOT, MOVZX/MOVSX, LEA, PUSH/POP, memory RMW,
 * GS-relative operands) and some it leaves to handlers (BSWAP, XCHG,
 * CDQE, BT), calling a function on another page and returning.
 */
SOFT_CODE(jit_mix,
	".code64\n"
	"xor %eax, %eax\n"
	"mov $0x12345678, %edx\n"
	"xor %ecx, %ecx\n"
	"mov $" "0x200000" ", %rdi\n"
	"1:\n"
	"movzbl (%rdi,%rcx), %r8d\n"
	"add %r8d, %eax\n"
	"rol $5, %eax\n"
	"xor %edx, %eax\n"
	"imul $0x9e3779b1, %eax, %edx\n"
	"push %rcx\n"
	"and $31, %ecx\n"
	"shl %cl, %rdx\n"
	"sar $3, %rdx\n"
	"ror %cl, %r9d\n"
	"shr %cl, %r10w\n"
	"pop %rcx\n"
	"adc %rdx, %rax\n"
	"sbb $7, %r10\n"
	"setc %r11b\n"
	"cmovz %r10, %r11\n"
	"movsbq 1(%rdi,%rcx), %r12\n"
	"add %r12, 8(%rdi)\n"
	"sub %eax, 0x2000(%rdi,%rcx,2)\n"
	"neg %r12\n"
	"not %r13\n"
	"inc %r14\n"
	"dec %r15w\n"
	"adc %r12b, %r13b\n"
	"lea 3(%rax,%rcx,4), %rbx\n"
	"mov %ebx, 0x1000(%rdi,%rcx)\n"
	"add %gs:0x10, %rbx\n"
	"movl %ecx, %gs:0x20(%rcx,%rcx)\n"
	"imul %rbx, %r12\n"
	"bswap %r13d\n"
	"xchg %r14, %r15\n"
	"cdqe\n"
	"bt %ecx, %r9d\n"
	"sete %r8b\n"
	"test $3, %cl\n"
	"jnz 2f\n"
	"call far_func\n"
	"2:\n"
	"inc %ecx\n"
	"cmp $0xfff, %ecx\n"
	"jb 1b\n"
	"hlt\n"
	".skip 5000\n"
	"far_func:\n"
	"test $1, %al\n"
	"jz 3f\n"
	"ror $3, %rax\n"
	"ret\n"
	"3:\n"
	"rol $7, %r9\n"
	"add %r9, %rax\n"
	"ret\n");

struct outcome {
	u64 gpr[16], rip, rflags;
	u8 buf[BUF_LEN], gs[0x2100];
};

static void seed_state(struct harness *h)
{
	struct cpu_state st;
	u32 x = 12345;

	for (unsigned int i = 0; i < BUF_LEN; i++) {
		x = x * 1103515245 + 12345;
		((u8 *)gptr(h, BUF_GPA))[i] = x >> 16;
	}
	for (unsigned int i = 0; i < 0x2100; i++)
		((u8 *)gptr(h, GS_GPA))[i] = i * 7;
	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	soft_cpu_get_state(h->cpu, &st);
	st.gs.base = GS_GPA;
	soft_cpu_set_state(h->cpu, &st);
	for (unsigned int r = 0; r < 16; r++)
		soft_cpu_set_gpr(h->cpu, r, 0x0123456789abcdefULL * (r + 1));
	soft_cpu_set_gpr(h->cpu, GPR_RSP, STACK_TOP);
	soft_cpu_set_rflags(h->cpu, RFLAGS_FIXED | RFLAGS_CF);
}

static void set_mode(struct harness *h, enum mode m)
{
	soft_cpu_set_single_step(h->cpu, m == SINGLE);
	soft_cpu_set_jit_threshold(h->cpu, m == COMPILED ? 1 : 0);
}

static void run_mix(enum mode m, struct outcome *out)
{
	struct harness *h = harness_new();
	struct soft_run_info info;

	seed_state(h);
	set_mode(h, m);
	load_code(h, CODE_GPA, jit_mix_start, CODE_LEN(jit_mix));
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	assert_int_equal(soft_cpu_run(h->cpu, 10000000, ~0ULL, &info), SOFT_RUN_HALT);
	for (unsigned int r = 0; r < 16; r++)
		out->gpr[r] = soft_cpu_get_gpr(h->cpu, r);
	out->rip = soft_cpu_get_rip(h->cpu);
	out->rflags = soft_cpu_get_rflags(h->cpu);
	memcpy(out->buf, gptr(h, BUF_GPA), BUF_LEN);
	memcpy(out->gs, gptr(h, GS_GPA), sizeof(out->gs));
	harness_free(h);
}

static void test_mix_same_in_all_modes(void **state)
{
	static struct outcome o[NR_MODES];

	(void)state;
	for (unsigned int m = 0; m < NR_MODES; m++)
		run_mix(m, &o[m]);
	for (unsigned int m = 1; m < NR_MODES; m++) {
		for (unsigned int r = 0; r < 16; r++) {
			if (o[m].gpr[r] != o[0].gpr[r]) {
				print_error("%s: r%u = %#llx, single-step %#llx\n", mode_name[m], r,
					    (unsigned long long)o[m].gpr[r], (unsigned long long)o[0].gpr[r]);
				fail();
			}
		}
		assert_int_equal(o[m].rip, o[0].rip);
		assert_int_equal(o[m].rflags, o[0].rflags);
		assert_memory_equal(o[m].buf, o[0].buf, BUF_LEN);
		assert_memory_equal(o[m].gs, o[0].gs, sizeof(o[0].gs));
	}
}

/*
 * Faults in compiled code: the loop runs (and gets compiled) with a good
 * pointer in RDX, then with one the page tables do not map. RIP must be
 * the faulting instruction's, the registers and flags those before it.
 */
SOFT_CODE(jit_fault_store,
	".code64\n"
	"1:\n"
	"mov $5, %eax\n"
	"add $-6, %eax\n"
	"mov %rax, (%rdx)\n"
	"inc %ecx\n"
	"cmp $4, %ecx\n"
	"jb 1b\n"
	"hlt\n");
SOFT_CODE(jit_fault_rmw,
	".code64\n"
	"1:\n"
	"mov $5, %eax\n"
	"sub $5, %eax\n"
	"add %eax, 8(%rdx)\n"
	"inc %ecx\n"
	"cmp $4, %ecx\n"
	"jb 1b\n"
	"hlt\n");
SOFT_CODE(jit_fault_ret,
	".code64\n"
	"1:\n"
	"mov $7, %eax\n"
	"xchg %rdx, %rsp\n"
	"call 2f\n"
	"xchg %rdx, %rsp\n"
	"inc %ecx\n"
	"cmp $4, %ecx\n"
	"jb 1b\n"
	"hlt\n"
	"2:\n"
	"add $1, %eax\n"
	"ret\n");

struct fault_case {
	const char *name;
	const u8 *code, *end;
	u32 fault_off;		/* offset of the faulting instruction */
	u64 rax, flags;		/* RAX and arithmetic flags at the fault */
	u32 error_code;
};

static void run_fault_case(const struct fault_case *fc)
{
	struct harness *h = harness_new();
	struct soft_run_info info;
	u64 arith = RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF;

	seed_state(h);
	set_mode(h, COMPILED);
	load_code(h, CODE_GPA, fc->code, fc->end - fc->code);
	/* Good pointer: runs the loop, compiling its blocks. */
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, 0);
	soft_cpu_set_gpr(h->cpu, GPR_RDX, BUF_GPA + 0x100);
	assert_int_equal(soft_cpu_run(h->cpu, 1000, ~0ULL, &info), SOFT_RUN_HALT);
	/* Now unmapped, inside the same compiled code. */
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, 0);
	soft_cpu_set_gpr(h->cpu, GPR_RDX, UNMAPPED + 0x40);
	assert_int_equal(soft_cpu_run(h->cpu, 1000, ~0ULL, &info), SOFT_RUN_EXCEPTION);
	if (info.vector != 14 || soft_cpu_get_rip(h->cpu) != CODE_GPA + fc->fault_off)
		print_error("%s: vector %d at %#llx\n", fc->name, info.vector,
			    (unsigned long long)soft_cpu_get_rip(h->cpu));
	assert_int_equal(info.vector, 14);
	assert_int_equal(soft_cpu_get_rip(h->cpu), CODE_GPA + fc->fault_off);
	assert_true(info.cr2 >= UNMAPPED && info.cr2 < UNMAPPED + 0x100);
	assert_int_equal(info.error_code, fc->error_code);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RAX), fc->rax);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RCX), 0);
	assert_int_equal(soft_cpu_get_rflags(h->cpu) & arith, fc->flags);
	harness_free(h);
}

static void test_faults_are_precise(void **state)
{
	const struct fault_case cases[] = {
		/* 5 + -6 = 0xffffffff: SF, PF */
		{ "store", jit_fault_store_start, jit_fault_store_end, 8, 0xffffffffULL,
		  RFLAGS_SF | RFLAGS_PF, 0x2 },
		/* 5 - 5 = 0: ZF, PF */
		{ "read-modify-write", jit_fault_rmw_start, jit_fault_rmw_end, 8, 0,
		  RFLAGS_ZF | RFLAGS_PF, 0x2 },
		/* The CALL pushes onto the unmapped stack; flags still from the CMP. */
		{ "call", jit_fault_ret_start, jit_fault_ret_end, 8, 7, RFLAGS_ZF | RFLAGS_PF, 0x2 },
	};

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		run_fault_case(&cases[i]);
}

/*
 * Self-modifying code inside one compiled block: each pass stores CL into
 * the immediate of the instruction after the store, which must then run
 * with the new byte (BL collects them: 1 + 2 + ... + 9).
 */
SOFT_CODE(jit_smc,
	".code64\n"
	"xor %ebx, %ebx\n"
	"mov $1, %ecx\n"
	"2:\n"
	"movb %cl, 1f+1(%rip)\n"
	"1: movb $0, %al\n"
	"add %al, %bl\n"
	"inc %ecx\n"
	"cmp $10, %ecx\n"
	"jb 2b\n"
	"hlt\n");

/* Runs code to its HLT in every mode; register r (under mask) must end as want. */
static void check_smc_all_modes(const u8 *code, size_t len, unsigned int r, u64 mask, u64 want)
{
	for (unsigned int m = 0; m < NR_MODES; m++) {
		struct harness *h = harness_new();
		struct soft_run_info info;

		seed_state(h);
		set_mode(h, m);
		load_code(h, CODE_GPA, code, len);
		soft_cpu_set_rip(h->cpu, CODE_GPA);
		assert_int_equal(soft_cpu_run(h->cpu, 1000000, ~0ULL, &info), SOFT_RUN_HALT);
		if ((soft_cpu_get_gpr(h->cpu, r) & mask) != want)
			print_error("%s: r%u = %llu\n", mode_name[m], r,
				    (unsigned long long)soft_cpu_get_gpr(h->cpu, r) & mask);
		assert_int_equal(soft_cpu_get_gpr(h->cpu, r) & mask, want);
		harness_free(h);
	}
}

static void test_store_into_compiled_block(void **state)
{
	(void)state;
	check_smc_all_modes(jit_smc_start, CODE_LEN(jit_smc), GPR_RBX, 0xff, 45);
}

/*
 * Compiled blocks that jump straight into each other (jit.c's direct
 * jumps, set up once both ends are compiled and linked), then a store into
 * the page that holds them all, the running block included: from then on
 * the loop must run the new immediate (1 for passes 1-499, 7 for 500-1000:
 * EDX = 499 + 501 * 7), which it cannot if a jump into a killed block
 * still lands in its old code.
 */
SOFT_CODE(jit_smc_linked,
	".code64\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"1: inc %ecx\n"
	"cmp $500, %ecx\n"
	"jne 3f\n"
	"movl $7, 2f+1(%rip)\n"
	"3: jmp 2f\n"
	".skip 64, 0x90\n"
	"2: mov $1, %eax\n"
	"add %eax, %edx\n"
	"cmp $1000, %ecx\n"
	"jb 1b\n"
	"hlt\n");

static void test_store_into_linked_compiled_blocks(void **state)
{
	(void)state;
	check_smc_all_modes(jit_smc_linked_start, CODE_LEN(jit_smc_linked), GPR_RDX, ~0ULL,
			    499 + 501 * 7);
}

/*
 * A direct CALL to another page, linked (jit.c jumps straight into the
 * callee's compiled block while the page's mapping stays the one seen at
 * link time), then the 2 MiB page holding the callee is remapped to other
 * physical memory, whose callee returns 3 instead of 1: EDX = 100 * 1 +
 * 100 * 3. The caller sits at the end of the page before (FAR_GPA).
 */
#define FAR_GPA 0x5ff000ULL
#define FAR_ALT_GPA 0x800000ULL
SOFT_CODE(jit_far_caller,
	".code64\n"
	"0: xor %edx, %edx\n"
	"xor %ecx, %ecx\n"
	"1: call 3f\n"
	"add %eax, %edx\n"
	"inc %ecx\n"
	"cmp $100, %ecx\n"
	"jne 2f\n"
	"movq $0x800087, 0x12018\n"	/* PD entry 3 (0x600000) -> 0x800000 */
	"invlpg 0x600000\n"
	"2: cmp $200, %ecx\n"
	"jb 1b\n"
	"hlt\n"
	".skip 0x1000 - (. - 0b), 0x90\n"
	"3: mov $1, %eax\n"
	"ret\n");
SOFT_CODE(jit_far_alt,
	".code64\n"
	"mov $3, %eax\n"
	"ret\n");

static void test_far_call_follows_remapping(void **state)
{
	(void)state;
	assert_int_equal(PT_GPA + 0x2000 + 3 * 8, 0x12018);
	for (unsigned int m = 0; m < NR_MODES; m++) {
		struct harness *h = harness_new();
		struct soft_run_info info;

		seed_state(h);
		set_mode(h, m);
		load_code(h, FAR_GPA, jit_far_caller_start, CODE_LEN(jit_far_caller));
		load_code(h, FAR_ALT_GPA, jit_far_alt_start, CODE_LEN(jit_far_alt));
		soft_cpu_set_rip(h->cpu, FAR_GPA);
		assert_int_equal(soft_cpu_run(h->cpu, 1000000, ~0ULL, &info), SOFT_RUN_HALT);
		if (soft_cpu_get_gpr(h->cpu, GPR_RDX) != 400)
			print_error("%s: edx = %llu\n", mode_name[m],
				    (unsigned long long)soft_cpu_get_gpr(h->cpu, GPR_RDX));
		assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RDX), 400);
		harness_free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_same_in_all_modes),
		cmocka_unit_test(test_faults_are_precise),
		cmocka_unit_test(test_store_into_compiled_block),
		cmocka_unit_test(test_store_into_linked_compiled_blocks),
		cmocka_unit_test(test_far_call_follows_remapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

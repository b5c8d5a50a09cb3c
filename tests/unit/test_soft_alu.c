// SPDX-License-Identifier: Apache-2.0
/*
 * Integer instructions of the soft CPU against the host CPU: each case is
 * one instruction text, assembled twice - into guest code, and into an
 * inline-asm function run natively here - and both run on the same
 * operands. Results and the flags the SDM defines must match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "soft_harness.h"

#define CODE_GPA 0x100000ULL
#define PT_GPA 0x10000ULL

#define ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define NO_AF (ARITH & ~RFLAGS_AF)
#define SZP (RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF)
#define CF_OF (RFLAGS_CF | RFLAGS_OF)
#define CF_ONLY RFLAGS_CF

struct regs {
	u64 rax, rbx, rcx, rdx, flags;
};

typedef void (*native_fn)(struct regs *r);

struct alu_case {
	const char *text;
	const u8 *code, *end;
	native_fn native;
	u64 flag_mask;		/* flags the SDM defines for this instruction */
	bool count_in_cl;	/* shifts: also mask OF unless the count is 1 */
	bool nonzero_src;	/* bsf/bsr: destination undefined for 0 */
};

/*
 * Native run, a plain function in top-level asm (so the instruction text
 * needs no operand escaping): loads rax..rdx and the flags from *rdi,
 * runs the instruction, stores them back.
 */
#define NATIVE(name, insn)                                                     \
	void native_##name(struct regs *r);                                    \
	__asm__(".text\n.globl native_" #name "\nnative_" #name ":\n"          \
		"push %rbx\n"                                                  \
		"pushq 32(%rdi)\npopfq\n"                                       \
		"mov 0(%rdi), %rax\nmov 8(%rdi), %rbx\n"                       \
		"mov 16(%rdi), %rcx\nmov 24(%rdi), %rdx\n"                     \
		insn "\n"                                                      \
		"pushfq\npopq 32(%rdi)\n"                                       \
		"mov %rax, 0(%rdi)\nmov %rbx, 8(%rdi)\n"                       \
		"mov %rcx, 16(%rdi)\nmov %rdx, 24(%rdi)\n"                     \
		"pop %rbx\nret\n")

#define CASE(name, insn, mask, extra...)                                       \
	SOFT_CODE(alu_##name, ".code64\n" insn "\nhlt\n");                     \
	NATIVE(name, insn);

#define ENTRY(name, insn, mask, ...)                                           \
	{ insn, alu_##name##_start, alu_##name##_end, native_##name, mask, __VA_ARGS__ },

/* The instruction list, used twice below. */
#define ALU_CASES(X)                                                           \
	X(addb, "addb %bl, %al", ARITH, false, false)                          \
	X(addw, "addw %bx, %ax", ARITH, false, false)                          \
	X(addl, "addl %ebx, %eax", ARITH, false, false)                        \
	X(addq, "addq %rbx, %rax", ARITH, false, false)                        \
	X(adcb, "adcb %bl, %al", ARITH, false, false)                          \
	X(adcq, "adcq %rbx, %rax", ARITH, false, false)                        \
	X(adcw, "adcw %bx, %ax", ARITH, false, false)                          \
	X(subb, "subb %bl, %al", ARITH, false, false)                          \
	X(subl, "subl %ebx, %eax", ARITH, false, false)                        \
	X(subq, "subq %rbx, %rax", ARITH, false, false)                        \
	X(sbbb, "sbbb %bl, %al", ARITH, false, false)                          \
	X(sbbl, "sbbl %ebx, %eax", ARITH, false, false)                        \
	X(sbbq, "sbbq %rbx, %rax", ARITH, false, false)                        \
	X(cmpw, "cmpw %bx, %ax", ARITH, false, false)                          \
	X(cmpq, "cmpq %rbx, %rax", ARITH, false, false)                        \
	X(andl, "andl %ebx, %eax", NO_AF, false, false)                        \
	X(orq, "orq %rbx, %rax", NO_AF, false, false)                          \
	X(xorb, "xorb %bl, %ah", NO_AF, false, false)                          \
	X(testw, "testw %bx, %ax", NO_AF, false, false)                        \
	X(incb, "incb %al", ARITH, false, false)                               \
	X(incl, "incl %eax", ARITH, false, false)                              \
	X(decw, "decw %ax", ARITH, false, false)                               \
	X(decq, "decq %rax", ARITH, false, false)                              \
	X(negb, "negb %al", ARITH, false, false)                               \
	X(negq, "negq %rax", ARITH, false, false)                              \
	X(notl, "notl %eax", 0, false, false)                                  \
	X(shlb, "shlb %cl, %al", NO_AF, true, false)                           \
	X(shlq, "shlq %cl, %rax", NO_AF, true, false)                          \
	X(shrw, "shrw %cl, %ax", NO_AF, true, false)                           \
	X(shrl, "shrl %cl, %eax", NO_AF, true, false)                          \
	X(sarb, "sarb %cl, %al", NO_AF, true, false)                           \
	X(sarq, "sarq %cl, %rax", NO_AF, true, false)                          \
	X(shl1, "shll $1, %eax", NO_AF, false, false)                          \
	X(shr1, "shrq $1, %rax", NO_AF, false, false)                          \
	X(sar1, "sarw $1, %ax", NO_AF, false, false)                           \
	X(rolb, "rolb %cl, %al", CF_OF, true, false)                           \
	X(rorl, "rorl %cl, %eax", CF_OF, true, false)                          \
	X(rclw, "rclw %cl, %ax", CF_OF, true, false)                           \
	X(rcrq, "rcrq %cl, %rax", CF_OF, true, false)                          \
	X(rcrb, "rcrb %cl, %al", CF_OF, true, false)                           \
	X(shldl, "shldl %cl, %ebx, %eax", NO_AF, true, false)                  \
	X(shrdq, "shrdq %cl, %rbx, %rax", NO_AF, true, false)                  \
	X(imulq2, "imulq %rbx, %rax", CF_OF, false, false)                     \
	X(imulw3, "imulw $-77, %bx, %ax", CF_OF, false, false)                 \
	X(mulq, "mulq %rbx", CF_OF, false, false)                              \
	X(mulb, "mulb %bl", CF_OF, false, false)                               \
	X(imull1, "imull %ebx", CF_OF, false, false)                           \
	X(btl, "btl %ebx, %eax", CF_ONLY, false, false)                        \
	X(btsq, "btsq %rbx, %rax", CF_ONLY, false, false)                      \
	X(btrw, "btrw %bx, %ax", CF_ONLY, false, false)                        \
	X(btcl_imm, "btcl $13, %eax", CF_ONLY, false, false)                   \
	X(bsfq, "bsfq %rbx, %rax", RFLAGS_ZF, false, true)                     \
	X(bsrl, "bsrl %ebx, %eax", RFLAGS_ZF, false, true)                     \
	X(popcntq, "popcntq %rbx, %rax", ARITH, false, false)                  \
	X(cmpxchgl, "cmpxchgl %ebx, %edx", ARITH, false, false)                \
	X(xaddq, "xaddq %rbx, %rax", ARITH, false, false)                      \
	X(movsbl, "movsbl %bl, %eax", 0, false, false)                         \
	X(movzwq, "movzwq %bx, %rax", 0, false, false)                         \
	X(movslq, "movslq %ebx, %rax", 0, false, false)                        \
	X(cwtl, "cwtl", 0, false, false)                                       \
	X(cqto, "cqto", 0, false, false)                                       \
	X(bswapl, "bswapl %eax", 0, false, false)                              \
	X(setbe, "setbe %al", 0, false, false)                                 \
	X(setl, "setl %bl", 0, false, false)                                   \
	X(cmovg, "cmovgq %rbx, %rax", 0, false, false)                         \
	X(cmovb, "cmovbl %ebx, %eax", 0, false, false)                         \
	X(lahf, "lahf", 0, false, false)                                       \
	X(sahf, "sahf", ARITH & ~RFLAGS_OF, false, false)                      \
	X(cmc, "cmc", ARITH, false, false)                                     \
	X(xchgb, "xchgb %bh, %al", 0, false, false)                            \
	X(leaq, "leaq 0x12(%rax,%rbx,4), %rcx", 0, false, false)               \
	X(adc_then_jc, "addq %rbx, %rax\n\tsbbl %ecx, %ecx", ARITH, false, false) \
	X(sub_setg, "subl %ebx, %eax\n\tsetg %cl\n\tsetae %ch", ARITH, false, false) \
	X(dec_setle, "decb %al\n\tsetle %cl\n\tseto %ch\n\tsetp %dl", ARITH, false, false) \
	X(add_rol1, "addq %rbx, %rax\n\trolq $1, %rax", ARITH, false, false)             \
	X(sub_ror_adc, "subl %ebx, %eax\n\trorl $3, %eax\n\tadcl %ebx, %edx", ARITH, false, false) \
	X(cmp_jl, "cmpl %ebx, %eax\n\tjl 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(cmp_jbe, "cmpq %rbx, %rax\n\tjbe 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(cmp_jo, "cmpl %ebx, %eax\n\tjo 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(cmp_jp, "cmpq %rbx, %rax\n\tjnp 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(cmpi_jg, "cmpq $-5, %rax\n\tjg 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(cmpi_jae, "cmpl $0x7fffffff, %eax\n\tjae 1f\n\tmov $1, %ecx\n1:", ARITH, false, false) \
	X(test_js, "testq %rbx, %rax\n\tjs 1f\n\tmov $1, %ecx\n1:", NO_AF, false, false) \
	X(test_jle, "testl %ebx, %eax\n\tjle 1f\n\tmov $1, %ecx\n1:", NO_AF, false, false) \
	X(testi_jne, "testl $0x80000001, %eax\n\tjne 1f\n\tmov $1, %ecx\n1:", NO_AF, false, false) \
	X(testi_jb, "testq $-16, %rax\n\tjb 1f\n\tmov $1, %ecx\n1:", NO_AF, false, false) \
	X(rol_rol_sbb, "incw %ax\n\trolw $1, %ax\n\trorw $1, %bx\n\tsbbw %cx, %dx\n\tsetg %cl", ARITH, false, false)

ALU_CASES(CASE)

static struct alu_case cases[] = {
	ALU_CASES(ENTRY)
};

static u64 rng_state = 0x243f6a8885a308d3ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Operands that hit the edges of every operand size. */
static u64 operand(void)
{
	static const u64 edge[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
		0x80000000, 0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		~0ULL, 0xfffffffffffffffeULL, 0x100, 0x10,
	};
	u64 r = rnd();

	switch (r & 3) {
	case 0: return edge[(r >> 8) % ARRAY_SIZE(edge)];
	case 1: return edge[(r >> 8) % ARRAY_SIZE(edge)] + ((r >> 32) & 3) - 1;
	default: return rnd();
	}
}

static void run_case(struct harness *h, const struct alu_case *c, const struct regs *in)
{
	struct regs nat = *in;
	struct soft_run_info info;
	enum soft_run_result res;
	u64 mask = c->flag_mask, got_flags;

	c->native(&nat);

	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RAX, in->rax);
	soft_cpu_set_gpr(h->cpu, GPR_RBX, in->rbx);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, in->rcx);
	soft_cpu_set_gpr(h->cpu, GPR_RDX, in->rdx);
	soft_cpu_set_rflags(h->cpu, in->flags);
	res = soft_cpu_run(h->cpu, 100, ~0ULL, &info);
	if (res != SOFT_RUN_HALT) {
		print_error("%s: run ended with %d (vector %d)\n", c->text, res, info.vector);
		fail();
	}
	if (c->count_in_cl && (in->rcx & 0x3f) != 1)
		mask &= ~RFLAGS_OF;
	got_flags = soft_cpu_get_rflags(h->cpu);
	if (soft_cpu_get_gpr(h->cpu, GPR_RAX) != nat.rax ||
	    soft_cpu_get_gpr(h->cpu, GPR_RBX) != nat.rbx ||
	    soft_cpu_get_gpr(h->cpu, GPR_RCX) != nat.rcx ||
	    soft_cpu_get_gpr(h->cpu, GPR_RDX) != nat.rdx ||
	    ((got_flags ^ nat.flags) & mask)) {
		print_error("%s: in rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx flags=%#llx\n",
			    c->text, (unsigned long long)in->rax, (unsigned long long)in->rbx,
			    (unsigned long long)in->rcx, (unsigned long long)in->rdx,
			    (unsigned long long)in->flags);
		print_error("  host: rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx flags=%#llx\n",
			    (unsigned long long)nat.rax, (unsigned long long)nat.rbx,
			    (unsigned long long)nat.rcx, (unsigned long long)nat.rdx,
			    (unsigned long long)nat.flags);
		print_error("  soft: rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx flags=%#llx (mask %#llx)\n",
			    (unsigned long long)soft_cpu_get_gpr(h->cpu, GPR_RAX),
			    (unsigned long long)soft_cpu_get_gpr(h->cpu, GPR_RBX),
			    (unsigned long long)soft_cpu_get_gpr(h->cpu, GPR_RCX),
			    (unsigned long long)soft_cpu_get_gpr(h->cpu, GPR_RDX),
			    (unsigned long long)got_flags, (unsigned long long)mask);
		fail();
	}
}

static void run_all_cases(bool single_step, bool compiled)
{
	struct harness *h = harness_new();
	unsigned int n = 0;

	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	soft_cpu_set_single_step(h->cpu, single_step);
	soft_cpu_set_jit_threshold(h->cpu, compiled ? 1 : 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct alu_case *c = &cases[i];

		memset(gptr(h, CODE_GPA), 0, 64);
		load_code(h, CODE_GPA, c->code, c->end - c->code);
		for (int k = 0; k < 400; k++) {
			struct regs in = {
				.rax = operand(), .rbx = operand(), .rcx = rnd() & 0x4f,
				.rdx = operand(), .flags = (rnd() & ARITH) | RFLAGS_FIXED,
			};

			if ((k & 7) == 0)
				in.rcx = k & 0x41;
			if (c->nonzero_src && !in.rbx)
				in.rbx = 1;
			run_case(h, c, &in);
			n++;
		}
	}
	assert_true(n > 1000);
	harness_free(h);
}

/* One instruction per block: each handler on its own. */
static void test_alu_matches_host(void **state)
{
	(void)state;
	run_all_cases(true, false);
}

/* Whole blocks: chaining and fused CMP/TEST + Jcc pairs. */
static void test_alu_blocks_match_host(void **state)
{
	(void)state;
	run_all_cases(false, false);
}

/* Blocks compiled to host code at their first run (jit.c). */
static void test_alu_compiled_blocks_match_host(void **state)
{
	(void)state;
	run_all_cases(false, true);
}

/* DIV/IDIV results and #DE, against the host where it is safe to run. */
SOFT_CODE(alu_divq, ".code64\ndivq %rbx\nhlt\n");
SOFT_CODE(alu_idivl, ".code64\nidivl %ebx\nhlt\n");

static void test_div(void **state)
{
	struct harness *h = harness_new();
	struct soft_run_info info;

	(void)state;
	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	for (int k = 0; k < 2000; k++) {
		u64 a = operand(), d = operand() & 0xffff, b = operand();
		bool idiv = k & 1;
		u64 q = 0, r = 0;
		bool de;

		load_code(h, CODE_GPA, idiv ? alu_idivl_start : alu_divq_start, 8);
		if (idiv) {
			s64 n = (s64)(((u64)(u32)d << 32) | (u32)a);
			s32 bb = (s32)b;

			de = bb == 0 || (n / (bb ? bb : 1)) != (s32)(n / (bb ? bb : 1));
			if (!de) {
				q = (u32)(n / bb);
				r = (u32)(n % bb);
			}
		} else {
			unsigned __int128 n = ((unsigned __int128)d << 64) | a;

			de = b == 0 || (n / (b ? b : 1)) >> 64;
			if (!de) {
				q = (u64)(n / b);
				r = (u64)(n % b);
			}
		}
		soft_cpu_set_rip(h->cpu, CODE_GPA);
		soft_cpu_set_gpr(h->cpu, GPR_RAX, a);
		soft_cpu_set_gpr(h->cpu, GPR_RDX, d);
		soft_cpu_set_gpr(h->cpu, GPR_RBX, b);
		if (de) {
			assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_EXCEPTION);
			assert_int_equal(info.vector, 0);
			/* Precise: nothing changed, RIP at the divide. */
			assert_int_equal(soft_cpu_get_rip(h->cpu), CODE_GPA);
			assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RAX), a);
		} else {
			assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_HALT);
			assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RAX), q);
			assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RDX), r);
		}
	}
	harness_free(h);
}

/*
 * A REP string instruction ends its step after the REP yield's elements,
 * RIP still at it and RCX counting down, and finishes on later steps:
 * what bounds a fuzzer's run of LOOPs around long REPs.
 */
SOFT_CODE(alu_rep_lods, ".code64\nrep lodsb\nhlt\n");

static void test_rep_yield(void **state)
{
	struct harness *h = harness_new();
	struct soft_run_info info;

	(void)state;
	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	load_code(h, CODE_GPA, alu_rep_lods_start, CODE_LEN(alu_rep_lods));
	soft_cpu_set_rep_yield(h->cpu, 1000);
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RSI, 0x200000);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, 2500);
	assert_int_equal(soft_cpu_run(h->cpu, 1, ~0ULL, &info), SOFT_RUN_BUDGET);
	assert_int_equal(soft_cpu_get_rip(h->cpu), CODE_GPA);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RCX), 1500);
	assert_int_equal(soft_cpu_run(h->cpu, 1, ~0ULL, &info), SOFT_RUN_BUDGET);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RCX), 500);
	assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_HALT);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RCX), 0);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RSI), 0x200000 + 2500);

	/* 0 is the default again: 2500 elements in one step. */
	soft_cpu_set_rep_yield(h->cpu, 0);
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, 2500);
	assert_int_equal(soft_cpu_run(h->cpu, 1, ~0ULL, &info), SOFT_RUN_BUDGET);
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RCX), 0);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu_matches_host),
		cmocka_unit_test(test_alu_blocks_match_host),
		cmocka_unit_test(test_alu_compiled_blocks_match_host),
		cmocka_unit_test(test_div),
		cmocka_unit_test(test_rep_yield),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Where the soft CPU's translated blocks end. An instruction that never
 * falls through must end its block: the bytes after it are data, padding
 * or an address as often as code, and decoding them put instructions in
 * the block that never ran but were counted (stats.insns) and compiled.
 * The difftest's exit stub (jmp *disp(%rip), then the host address of its
 * exit) made its instruction totals depend on where ASLR put that address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "engine/soft/block.h"
#include "engine/soft/cpu.h"
#include "engine/soft/soft.h"
#include "soft_harness.h"

#define PT_GPA 0x10000ULL
#define CODE_GPA 0x100000ULL
#define PTR_GPA 0x200000ULL
#define TARGET_GPA 0x300000ULL
#define STACK_TOP 0x400000ULL

/* After the instruction under test: four NOPs, then HLT (which ends a block). */
static const u8 tail[] = { 0x90, 0x90, 0x90, 0x90, 0xf4 };

struct end_case {
	const char *name;
	u8 bytes[3];
	unsigned int len;
	bool ends;		/* does the block end after it? */
	enum soft_run_result res;
};

static const struct end_case cases[] = {
	/* The near forms go to TARGET_GPA, where the run stops. */
	{ "jmp *%rax (FF /4)", { 0xff, 0xe0 }, 2, true, SOFT_RUN_STOP_RIP },
	{ "call *%rax (FF /2)", { 0xff, 0xd0 }, 2, true, SOFT_RUN_STOP_RIP },
	{ "jmp *(%rbx) (FF /4)", { 0xff, 0x23 }, 2, true, SOFT_RUN_STOP_RIP },
	{ "call *(%rbx) (FF /2)", { 0xff, 0x13 }, 2, true, SOFT_RUN_STOP_RIP },
	/* The far ones fault (the selector is null), after their block was decoded. */
	{ "ljmp *(%rbx) (FF /5)", { 0xff, 0x2b }, 2, true, SOFT_RUN_EXCEPTION },
	{ "lcall *(%rbx) (FF /3)", { 0xff, 0x1b }, 2, true, SOFT_RUN_EXCEPTION },
	/* The same opcode's other forms fall through and keep the block going. */
	{ "inc %eax (FF /0)", { 0xff, 0xc0 }, 2, false, SOFT_RUN_HALT },
	{ "dec %eax (FF /1)", { 0xff, 0xc8 }, 2, false, SOFT_RUN_HALT },
	{ "push %rax (FF /6)", { 0xff, 0xf0 }, 2, false, SOFT_RUN_HALT },
};

/* Instructions decoded into blocks while running one case from CODE_GPA. */
static u64 translated_running(const struct end_case *ec)
{
	struct harness *h = harness_new();
	struct code_cache_stats cs;
	struct soft_run_info info;
	enum soft_run_result res;
	u8 *code = gptr(h, CODE_GPA);

	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	soft_cpu_set_single_step(h->cpu, false);
	soft_cpu_set_jit_threshold(h->cpu, 0);
	memcpy(code, ec->bytes, ec->len);
	memcpy(code + ec->len, tail, sizeof(tail));
	soft_cpu_code_changed(h->cpu, CODE_GPA, ec->len + sizeof(tail));
	*(u64 *)gptr(h, PTR_GPA) = TARGET_GPA;	/* far: offset 0x300000, selector 0 */
	*(u8 *)gptr(h, TARGET_GPA) = 0xf4;
	soft_cpu_set_gpr(h->cpu, GPR_RAX, TARGET_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RBX, PTR_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RSP, STACK_TOP);
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	res = soft_cpu_run(h->cpu, 1000, TARGET_GPA, &info);
	if (res != ec->res)
		print_error("%s: run result %d, expected %d\n", ec->name, res, ec->res);
	assert_int_equal(res, ec->res);
	code_cache_get_stats(h->cpu->svm->cache, &cs);
	harness_free(h);
	return cs.translated_insns;
}

static void test_block_ends_after_indirect_branches(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct end_case *ec = &cases[i];
		/* Ending: itself alone. Falling through: itself, the NOPs and HLT. */
		u64 want = ec->ends ? 1 : 1 + sizeof(tail);
		u64 got = translated_running(ec);

		if (got != want)
			print_error("%s: %llu instructions translated, expected %llu\n", ec->name,
				    (unsigned long long)got, (unsigned long long)want);
		assert_int_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_ends_after_indirect_branches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The soft CPU's translated-code caches under a size limit
 * (src/engine/soft/code_budget.c, block.c, jit.c's arena): the limit's
 * growth and shrinking, code that needs many full flushes still computing
 * the right result interpreted and compiled, the decoded blocks and the
 * compiled code staying within the limit, and compiled code being resident
 * once (its writable mapping dropped) and given back at a flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "engine/soft/block.h"
#include "engine/soft/code_budget.h"
#include "engine/soft/jit.h"
#include "engine/soft/soft.h"
#include "soft_harness.h"

#define PT_GPA 0x10000ULL
#define CODE_GPA 0x100000ULL
#define STACK_TOP 0x800000ULL
#define NBLOCKS 3000		/* each: add rax, imm32; jmp to the next */
#define PASSES 4

/* The budget's counts: run guest instructions, translated ones. */
struct counts {
	u64 run, translated;
};

/* A flush after each translated instruction ran ratio times. */
static size_t flush_at(struct code_budget *cb, struct counts *c, u64 ratio)
{
	c->translated += 100000;
	c->run += 100000 * ratio;
	return code_budget_flushed(cb, c->run, c->translated);
}

static void test_budget_grows_when_thrashing_and_shrinks_when_calm(void **state)
{
	struct code_budget cb;
	struct counts c = { 0, 0 };

	(void)state;
	unsetenv("KILN_SOFT_CODE_CACHE_KB");
	code_budget_init(&cb, 64 * MiB);
	assert_int_equal(cb.limit, CODE_BUDGET_BASE);
	/* What a Linux boot does: one burst of new code, not two in a row. */
	assert_int_equal(flush_at(&cb, &c, 2115), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, CODE_BUDGET_THRASH_RATIO - 1), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 471), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, CODE_BUDGET_THRASH_RATIO), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, CODE_BUDGET_THRASH_RATIO), CODE_BUDGET_BASE);
	/* Thrashing twice in a row doubles the limit, up to max. */
	assert_int_equal(flush_at(&cb, &c, 10), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 10), 2 * CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 10), 2 * CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 10), 4 * CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 10), 4 * CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 10), 64 * MiB);
	assert_int_equal(flush_at(&cb, &c, 10), 64 * MiB);
	assert_int_equal(flush_at(&cb, &c, 10), 64 * MiB);
	/* An ordinary ratio keeps it. */
	assert_int_equal(flush_at(&cb, &c, 5000), 64 * MiB);
	/* Calm halves it, down to where it started. */
	assert_int_equal(flush_at(&cb, &c, CODE_BUDGET_CALM_RATIO), 64 * MiB);
	assert_int_equal(flush_at(&cb, &c, 2 * CODE_BUDGET_CALM_RATIO), 32 * MiB);
	assert_int_equal(flush_at(&cb, &c, 2 * CODE_BUDGET_CALM_RATIO), 16 * MiB);
	assert_int_equal(flush_at(&cb, &c, 2 * CODE_BUDGET_CALM_RATIO), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 2 * CODE_BUDGET_CALM_RATIO), CODE_BUDGET_BASE);
	/* Nothing translated (a flush for the compiled code alone) is not thrashing. */
	assert_int_equal(code_budget_flushed(&cb, c.run, c.translated), CODE_BUDGET_BASE);
	assert_int_equal(code_budget_flushed(&cb, c.run, c.translated), CODE_BUDGET_BASE);
}

static void test_budget_env_fixes_the_limit(void **state)
{
	struct code_budget cb;
	struct counts c = { 0, 0 };

	(void)state;
	setenv("KILN_SOFT_CODE_CACHE_KB", "256", 1);
	code_budget_init(&cb, 64 * MiB);
	assert_int_equal(cb.limit, 256 * KiB);
	for (int i = 0; i < 5; i++)
		assert_int_equal(flush_at(&cb, &c, 1), 256 * KiB);
	/* Below 64 KiB: ignored; beyond what is reserved: all of it. */
	setenv("KILN_SOFT_CODE_CACHE_KB", "16", 1);
	code_budget_init(&cb, 64 * MiB);
	c = (struct counts){ 0, 0 };
	assert_int_equal(cb.limit, CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 1), CODE_BUDGET_BASE);
	assert_int_equal(flush_at(&cb, &c, 1), 2 * CODE_BUDGET_BASE);
	setenv("KILN_SOFT_CODE_CACHE_KB", "1048576", 1);
	code_budget_init(&cb, 64 * MiB);
	c = (struct counts){ 0, 0 };
	assert_int_equal(cb.limit, 64 * MiB);
	assert_int_equal(flush_at(&cb, &c, 1), 64 * MiB);
	assert_int_equal(flush_at(&cb, &c, 1), 64 * MiB);
	unsetenv("KILN_SOFT_CODE_CACHE_KB");
}

/* Resident KiB of this process's compiled-code mappings: [0] writable, [1] executable. */
static void jit_rss_kib(long kib[2])
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int cur = -1;

	kib[0] = kib[1] = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char perms[8];
		long v;

		if (sscanf(line, "%*x-%*x %7s", perms) == 1 && strchr(line, '/')) {
			cur = strstr(line, "kiln-soft-jit") ? (perms[2] == 'x') : -1;
		} else if (sscanf(line, "%*x-%*x %7s", perms) == 1) {
			cur = -1;
		} else if (cur >= 0 && sscanf(line, "Rss: %ld kB", &v) == 1) {
			kib[cur] += v;
		}
	}
	fclose(f);
}

struct outcome {
	u64 rax;
	struct code_cache_stats cc;
	struct jit_stats jit;
	long rss_kib[2];	/* compiled code, at the end of the run */
};

/*
 * NBLOCKS blocks of two instructions each, run PASSES times (ECX counts),
 * interpreted or compiled at their first entry; the cache is limited to
 * cache_kb (0: the default).
 */
static void run_chain(unsigned int cache_kb, bool compiled, struct outcome *out)
{
	struct harness *h;
	struct soft_run_info info;
	u8 *p;

	if (cache_kb) {
		char kb[16];

		snprintf(kb, sizeof(kb), "%u", cache_kb);
		setenv("KILN_SOFT_CODE_CACHE_KB", kb, 1);
	}
	h = harness_new();
	unsetenv("KILN_SOFT_CODE_CACHE_KB");
	p = gptr(h, CODE_GPA);
	for (unsigned int i = 0; i < NBLOCKS; i++) {
		u32 imm = i * 2654435761u >> 1;

		*p++ = 0x48;		/* add rax, imm32 */
		*p++ = 0x05;
		memcpy(p, &imm, 4);
		p += 4;
		*p++ = 0xe9;		/* jmp rel32 0: the next block */
		memset(p, 0, 4);
		p += 4;
	}
	{
		s32 back = (s32)(CODE_GPA - (CODE_GPA + NBLOCKS * 11 + 2 + 6));

		*p++ = 0xff;		/* dec ecx */
		*p++ = 0xc9;
		*p++ = 0x0f;		/* jnz CODE_GPA */
		*p++ = 0x85;
		memcpy(p, &back, 4);
		p += 4;
		*p++ = 0xf4;		/* hlt */
	}
	soft_cpu_code_changed(h->cpu, CODE_GPA, p - (u8 *)gptr(h, CODE_GPA));
	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	soft_cpu_set_single_step(h->cpu, false);
	soft_cpu_set_jit_threshold(h->cpu, compiled ? 1 : 0);
	soft_cpu_set_gpr(h->cpu, GPR_RAX, 0);
	soft_cpu_set_gpr(h->cpu, GPR_RCX, PASSES);
	soft_cpu_set_gpr(h->cpu, GPR_RSP, STACK_TOP);
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	assert_int_equal(soft_cpu_run(h->cpu, 100000000, ~0ULL, &info), SOFT_RUN_HALT);
	out->rax = soft_cpu_get_gpr(h->cpu, GPR_RAX);
	code_cache_get_stats(h->cpu->svm->cache, &out->cc);
	jit_get_stats(h->cpu->svm->jit, &out->jit);
	jit_rss_kib(out->rss_kib);
	harness_free(h);
}

static u64 expected_rax(void)
{
	u64 sum = 0;

	for (unsigned int i = 0; i < NBLOCKS; i++)
		sum += (u64)(s64)(s32)(i * 2654435761u >> 1);
	return sum * PASSES;
}

static void test_small_cache_flushes_and_computes_the_same(void **state)
{
	struct outcome big, small;

	(void)state;
	for (int compiled = 0; compiled < 2; compiled++) {
		run_chain(0, compiled, &big);
		run_chain(64, compiled, &small);
		print_message("# %s: default cache %llu flushes, %llu blocks; 64 KiB: %llu flushes, "
			      "%llu blocks, %llu bytes of blocks and %llu of code at the end\n",
			      compiled ? "compiled" : "interpreted",
			      (unsigned long long)big.cc.flushes, (unsigned long long)big.cc.blocks,
			      (unsigned long long)small.cc.flushes, (unsigned long long)small.cc.blocks,
			      (unsigned long long)small.cc.bytes_used, (unsigned long long)small.jit.bytes);
		assert_int_equal(big.rax, expected_rax());
		assert_int_equal(small.rax, expected_rax());
		assert_int_equal(big.cc.flushes, 0);
		/* NBLOCKS blocks of 256 bytes are about 12 arenas a pass. */
		assert_true(small.cc.flushes >= 10 * PASSES);
		assert_true(small.cc.bytes_used <= 64 * KiB);
		assert_true(small.jit.bytes <= 64 * KiB);
		if (compiled) {
			assert_true(small.jit.blocks >= big.jit.blocks * PASSES / 2);
			/* A flush frees the memfd's pages: no more than the limit stays. */
			assert_true(small.rss_kib[0] <= 64 + 4 && small.rss_kib[1] <= 64 + 4);
		}
	}
}

/* Compiled code is resident once: its pages leave the writable mapping. */
static void test_compiled_code_is_mapped_once(void **state)
{
	struct outcome o;

	(void)state;
	run_chain(0, true, &o);
	print_message("# %llu bytes of code; resident KiB: %ld writable, %ld executable\n",
		      (unsigned long long)o.jit.bytes, o.rss_kib[0], o.rss_kib[1]);
	assert_true(o.jit.bytes >= 256 * KiB);
	assert_true(o.rss_kib[1] * 1024 >= (long)o.jit.bytes - 4096);
	/* Only the last batch (64 KiB) and the page being filled stay writable. */
	assert_true(o.rss_kib[0] <= 64 + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_grows_when_thrashing_and_shrinks_when_calm),
		cmocka_unit_test(test_budget_env_fixes_the_limit),
		cmocka_unit_test(test_small_cache_flushes_and_computes_the_same),
		cmocka_unit_test(test_compiled_code_is_mapped_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Instructions of the soft CPU that exist only outside 64-bit mode, run in
 * real mode: DAA, DAS, AAA, AAS over every AL with every CF and AF, AAM and
 * AAD over every AL and AH, SALC; and their #UD in 64-bit mode. The host
 * runs 64-bit code, so it cannot be the reference here: the reference is
 * the Intel SDM's pseudocode for each (vol. 2), written out below. Flags the
 * SDM leaves undefined are not compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "soft_harness.h"

#define CODE_GPA	0x1000ULL
#define PT_GPA		0x10000ULL
#define EXC_UD		6
#define EXC_DE		0

#define CF RFLAGS_CF
#define PF RFLAGS_PF
#define AF RFLAGS_AF
#define ZF RFLAGS_ZF
#define SF RFLAGS_SF
#define OF RFLAGS_OF
#define SZP (SF | ZF | PF)

SOFT_CODE(leg_daa, ".code16\ndaa\nhlt\n");
SOFT_CODE(leg_das, ".code16\ndas\nhlt\n");
SOFT_CODE(leg_aaa, ".code16\naaa\nhlt\n");
SOFT_CODE(leg_aas, ".code16\naas\nhlt\n");
SOFT_CODE(leg_aam, ".code16\naam\nhlt\n");
SOFT_CODE(leg_aam7, ".code16\naam $7\nhlt\n");
SOFT_CODE(leg_aam0, ".code16\naam $0\nhlt\n");
SOFT_CODE(leg_aad, ".code16\naad\nhlt\n");
SOFT_CODE(leg_aad7, ".code16\naad $7\nhlt\n");
SOFT_CODE(leg_salc, ".code16\n.byte 0xd6\nhlt\n");
SOFT_CODE(leg_salc64, ".code64\n.byte 0xd6\nhlt\n");
SOFT_CODE(leg_das64, ".code64\n.byte 0x2f\nhlt\n");
SOFT_CODE(leg_aam64, ".code64\n.byte 0xd4, 0x0a\nhlt\n");

/* A CPU out of reset in real mode at 0:CODE_GPA, interrupts off. */
static void real_mode(struct harness *h)
{
	struct cpu_state st;

	memset(&st, 0, sizeof(st));
	st.cs = (struct segment){ .limit = 0xffff, .type = 0xb, .s = 1, .present = 1 };
	st.ds = st.es = st.fs = st.gs = st.ss =
		(struct segment){ .limit = 0xffff, .type = 0x3, .s = 1, .present = 1 };
	st.cr0 = CR0_ET;
	st.rflags = RFLAGS_FIXED;
	st.gdt.limit = st.idt.limit = 0xffff;
	st.gpr[GPR_RSP] = 0x8000;
	soft_cpu_set_state(h->cpu, &st);
}

static u64 szp(u8 al)
{
	return (al ? 0 : ZF) | (al & 0x80 ? SF : 0) | (__builtin_parity(al) ? 0 : PF);
}

/* Runs code once on AX and FLAGS; gives the new ones. */
static void run(struct harness *h, const u8 *start, size_t len, u16 *ax, u64 *flags)
{
	struct soft_run_info info;

	load_code(h, CODE_GPA, start, len);
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	soft_cpu_set_gpr(h->cpu, GPR_RAX, 0x5a5a0000 | *ax);
	soft_cpu_set_rflags(h->cpu, *flags);
	assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_HALT);
	/* The upper half of EAX is never touched. */
	assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RAX) >> 16, 0x5a5a);
	*ax = (u16)soft_cpu_get_gpr(h->cpu, GPR_RAX);
	*flags = soft_cpu_get_rflags(h->cpu);
}

/* SDM vol. 2, DAA and DAS: the second step also sees the first's carry or borrow. */
static void model_daa_das(bool das, u8 *al, u64 *flags)
{
	u8 old_al = *al;
	bool old_cf = *flags & CF;
	u64 f = 0;

	if ((*al & 0xf) > 9 || (*flags & AF)) {
		bool carry = das ? *al < 6 : *al + 6 > 0xff;

		*al = das ? *al - 6 : *al + 6;
		f |= AF | (old_cf || carry ? CF : 0);
	}
	if (old_al > 0x99 || old_cf) {
		*al = das ? *al - 0x60 : *al + 0x60;
		f |= CF;
	} else if (!das) {
		f &= ~CF;	/* DAA's ELSE CF <- 0; DAS has none */
	}
	*flags = f | szp(*al);
}

static void check_daa_das(bool das, const u8 *start, size_t len)
{
	struct harness *h = harness_new();

	real_mode(h);
	for (unsigned int in = 0; in < 256 * 4; in++) {
		u64 flags = (in & 0x100 ? CF : 0) | (in & 0x200 ? AF : 0) | RFLAGS_FIXED;
		u64 want_flags = flags;
		u8 want_al = (u8)in;
		u16 ax = 0x3300 | (u8)in;

		model_daa_das(das, &want_al, &want_flags);
		run(h, start, len, &ax, &flags);
		if ((ax & 0xff) != want_al || (flags & (CF | AF | SZP)) != want_flags)
			fail_msg("%s AL=%#04x CF=%d AF=%d: AL=%#04x flags=%#llx, want AL=%#04x "
				 "flags=%#llx", das ? "das" : "daa", in & 0xff, !!(in & 0x100),
				 !!(in & 0x200), ax & 0xff,
				 (unsigned long long)(flags & (CF | AF | SZP)), want_al,
				 (unsigned long long)want_flags);
		assert_int_equal(ax >> 8, 0x33);
	}
	harness_free(h);
}

static void test_daa(void **state)
{
	(void)state;
	check_daa_das(false, leg_daa_start, CODE_LEN(leg_daa));
}

/* DAS of 0x03 with AF set borrows in its first step: 0xfd with CF set. */
static void test_das(void **state)
{
	struct harness *h = harness_new();
	u64 flags = AF | RFLAGS_FIXED;
	u16 ax = 0x0003;

	(void)state;
	real_mode(h);
	run(h, leg_das_start, CODE_LEN(leg_das), &ax, &flags);
	assert_int_equal(ax, 0x00fd);
	assert_int_equal(flags & (CF | AF | SZP), CF | AF | SF);
	harness_free(h);
	check_daa_das(true, leg_das_start, CODE_LEN(leg_das));
}

/* SDM vol. 2, AAA and AAS: only AF and CF are defined. */
static void check_aaa_aas(bool aas, const u8 *start, size_t len)
{
	struct harness *h = harness_new();

	real_mode(h);
	for (unsigned int in = 0; in < 256 * 4; in++) {
		u64 flags = (in & 0x100 ? CF : 0) | (in & 0x200 ? AF : 0) | RFLAGS_FIXED;
		u16 ax = 0x4200 | (u8)in, want = ax;
		u64 want_flags = 0;

		if ((want & 0xf) > 9 || (flags & AF)) {
			want = aas ? (u16)(want - 6) - 0x100 : want + 0x106;
			want_flags = AF | CF;
		}
		want &= 0xff0f;
		run(h, start, len, &ax, &flags);
		assert_int_equal(ax, want);
		assert_int_equal(flags & (AF | CF), want_flags);
	}
	harness_free(h);
}

static void test_aaa_aas(void **state)
{
	(void)state;
	check_aaa_aas(false, leg_aaa_start, CODE_LEN(leg_aaa));
	check_aaa_aas(true, leg_aas_start, CODE_LEN(leg_aas));
}

/* SDM vol. 2, AAM and AAD (any base): SF, ZF and PF follow AL. 0x55 steps reach every AL. */
static void test_aam_aad(void **state)
{
	struct harness *h = harness_new();
	struct soft_run_info info;

	(void)state;
	real_mode(h);
	for (unsigned int in = 0; in < 0x10000; in += 0x55) {
		u8 al = (u8)in, ah = (u8)(in >> 8);
		u16 ax;
		u64 flags;

		ax = (u16)in, flags = RFLAGS_FIXED | CF | AF | OF;
		run(h, leg_aam_start, CODE_LEN(leg_aam), &ax, &flags);
		assert_int_equal(ax, ((al / 10) << 8) | (al % 10));
		assert_int_equal(flags & SZP, szp(al % 10));

		ax = (u16)in, flags = RFLAGS_FIXED;
		run(h, leg_aam7_start, CODE_LEN(leg_aam7), &ax, &flags);
		assert_int_equal(ax, ((al / 7) << 8) | (al % 7));

		ax = (u16)in, flags = RFLAGS_FIXED | SZP;
		run(h, leg_aad_start, CODE_LEN(leg_aad), &ax, &flags);
		assert_int_equal(ax, (u8)(al + ah * 10));
		assert_int_equal(flags & SZP, szp((u8)(al + ah * 10)));

		ax = (u16)in, flags = RFLAGS_FIXED;
		run(h, leg_aad7_start, CODE_LEN(leg_aad7), &ax, &flags);
		assert_int_equal(ax, (u8)(al + ah * 7));
	}

	/* AAM 0 divides by zero. */
	load_code(h, CODE_GPA, leg_aam0_start, CODE_LEN(leg_aam0));
	soft_cpu_set_rip(h->cpu, CODE_GPA);
	assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_EXCEPTION);
	assert_int_equal(info.vector, EXC_DE);
	harness_free(h);
}

/* SALC: AL = CF ? 0xff : 0; the rest of EAX and every flag are kept. */
static void test_salc(void **state)
{
	struct harness *h = harness_new();
	const u64 keep = CF | PF | AF | ZF | SF | OF | RFLAGS_FIXED;

	(void)state;
	real_mode(h);
	for (unsigned int cf = 0; cf < 2; cf++) {
		u64 flags = (cf ? keep : keep & ~CF), in = flags;
		u16 ax = 0x1278;

		run(h, leg_salc_start, CODE_LEN(leg_salc), &ax, &flags);
		assert_int_equal(ax, cf ? 0x12ff : 0x1200);
		assert_int_equal(flags & keep, in);
	}
	harness_free(h);
}

/* None of them exists in 64-bit mode. */
static void test_ud_in_64bit_mode(void **state)
{
	static const struct {
		const u8 *start, *end;
	} codes[] = {
		{ leg_salc64_start, leg_salc64_end },
		{ leg_das64_start, leg_das64_end },
		{ leg_aam64_start, leg_aam64_end },
	};
	struct harness *h = harness_new();
	struct soft_run_info info;

	(void)state;
	assert_int_equal(soft_cpu_enter_long_mode(h->cpu, PT_GPA, 1ULL << 30, 0), 0);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		load_code(h, CODE_GPA, codes[i].start, (size_t)(codes[i].end - codes[i].start));
		soft_cpu_set_rip(h->cpu, CODE_GPA);
		soft_cpu_set_gpr(h->cpu, GPR_RAX, 0x1234);
		assert_int_equal(soft_cpu_run(h->cpu, 10, ~0ULL, &info), SOFT_RUN_EXCEPTION);
		assert_int_equal(info.vector, EXC_UD);
		assert_int_equal(soft_cpu_get_rip(h->cpu), CODE_GPA);
		assert_int_equal(soft_cpu_get_gpr(h->cpu, GPR_RAX), 0x1234);
	}
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daa),
		cmocka_unit_test(test_das),
		cmocka_unit_test(test_aaa_aas),
		cmocka_unit_test(test_aam_aad),
		cmocka_unit_test(test_salc),
		cmocka_unit_test(test_ud_in_64bit_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * SSE2 integer, logic, shift, shuffle, pack and move instructions against
 * the real CPU: random operands (biased to lane boundaries), every
 * immediate, and the same register as both operands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>

#include "engine/soft/sse/sse.h"
#include "test_sse_util.h"

typedef long long v2di __attribute__((vector_size(16)));

typedef void (*ref_fn)(union xmm *d, const union xmm *s, u8 imm);

/* 0x00..0xff as literal tokens, for immediates that must be encoded. */
#define CAT3(a, b, c) a##b##c
#define REP16(M, h)                                                          \
	M(CAT3(0x, h, 0)) M(CAT3(0x, h, 1)) M(CAT3(0x, h, 2)) M(CAT3(0x, h, 3)) \
	M(CAT3(0x, h, 4)) M(CAT3(0x, h, 5)) M(CAT3(0x, h, 6)) M(CAT3(0x, h, 7)) \
	M(CAT3(0x, h, 8)) M(CAT3(0x, h, 9)) M(CAT3(0x, h, a)) M(CAT3(0x, h, b)) \
	M(CAT3(0x, h, c)) M(CAT3(0x, h, d)) M(CAT3(0x, h, e)) M(CAT3(0x, h, f))
#define REP256(M)                                                            \
	REP16(M, 0) REP16(M, 1) REP16(M, 2) REP16(M, 3) REP16(M, 4)          \
	REP16(M, 5) REP16(M, 6) REP16(M, 7) REP16(M, 8) REP16(M, 9)          \
	REP16(M, a) REP16(M, b) REP16(M, c) REP16(M, d) REP16(M, e)          \
	REP16(M, f)
#define STR_(x) #x
#define STR(x) STR_(x)

#define REF_HEAD(name)                                                       \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm)

/* insn xmm, xmm */
#define REF_BIN(name)                                                        \
	REF_HEAD(name)                                                       \
	{                                                                    \
		v2di a, b;                                                   \
                                                                             \
		(void)imm;                                                   \
		memcpy(&a, d, 16);                                           \
		memcpy(&b, s, 16);                                           \
		asm(#name " %[b], %[a]" : [a] "+x"(a) : [b] "x"(b));         \
		memcpy(d, &a, 16);                                           \
	}

/* insn $imm, xmm */
#define IMM_A(name, i)                                                       \
	case i:                                                              \
		asm(#name " $" STR(i) ", %[a]" : [a] "+x"(a));               \
		break;
#define REF_IMM(name, insn)                                                  \
	REF_HEAD(name)                                                       \
	{                                                                    \
		v2di a;                                                      \
                                                                             \
		(void)s;                                                     \
		memcpy(&a, d, 16);                                           \
		switch (imm) {                                               \
			REP256(IMM_A_##insn)                                 \
		}                                                            \
		memcpy(d, &a, 16);                                           \
	}

/* insn $imm, xmm, xmm */
#define IMM_AB(name, i)                                                      \
	case i:                                                              \
		asm(#name " $" STR(i) ", %[b], %[a]" : [a] "+x"(a)           \
		    : [b] "x"(b));                                           \
		break;
#define REF_IMM2(name)                                                       \
	REF_HEAD(name)                                                       \
	{                                                                    \
		v2di a, b;                                                   \
                                                                             \
		memcpy(&a, d, 16);                                           \
		memcpy(&b, s, 16);                                           \
		switch (imm) {                                               \
			REP256(IMM_AB_##name)                                \
		}                                                            \
		memcpy(d, &a, 16);                                           \
	}

/* Per-instruction case generators (the macro name carries the mnemonic). */
#define IMM_A_psllw(i) IMM_A(psllw, i)
#define IMM_A_pslld(i) IMM_A(pslld, i)
#define IMM_A_psllq(i) IMM_A(psllq, i)
#define IMM_A_psrlw(i) IMM_A(psrlw, i)
#define IMM_A_psrld(i) IMM_A(psrld, i)
#define IMM_A_psrlq(i) IMM_A(psrlq, i)
#define IMM_A_psraw(i) IMM_A(psraw, i)
#define IMM_A_psrad(i) IMM_A(psrad, i)
#define IMM_A_pslldq(i) IMM_A(pslldq, i)
#define IMM_A_psrldq(i) IMM_A(psrldq, i)
#define IMM_AB_shufps(i) IMM_AB(shufps, i)
#define IMM_AB_shufpd(i) IMM_AB(shufpd, i)
#define IMM_AB_pshufd(i) IMM_AB(pshufd, i)
#define IMM_AB_pshuflw(i) IMM_AB(pshuflw, i)
#define IMM_AB_pshufhw(i) IMM_AB(pshufhw, i)

#define INT_BIN_CASES(X)                                                     \
	SSE_INT_OPS(X) SSE_SHIFT_OPS(X)                                      \
	X(packsswb) X(packssdw) X(packuswb)                                  \
	X(punpcklbw) X(punpcklwd) X(punpckldq) X(punpcklqdq)                 \
	X(punpckhbw) X(punpckhwd) X(punpckhdq) X(punpckhqdq)                 \
	X(unpcklps) X(unpckhps) X(unpcklpd) X(unpckhpd)                      \
	SSE_MOVE_OPS(X)
INT_BIN_CASES(REF_BIN)

REF_IMM(psllw_imm, psllw)
REF_IMM(pslld_imm, pslld)
REF_IMM(psllq_imm, psllq)
REF_IMM(psrlw_imm, psrlw)
REF_IMM(psrld_imm, psrld)
REF_IMM(psrlq_imm, psrlq)
REF_IMM(psraw_imm, psraw)
REF_IMM(psrad_imm, psrad)
REF_IMM(pslldq, pslldq)
REF_IMM(psrldq, psrldq)
REF_IMM2(shufps)
REF_IMM2(shufpd)
REF_IMM2(pshufd)
REF_IMM2(pshuflw)
REF_IMM2(pshufhw)

#define PINSRW_CASE(i)                                                       \
	case i:                                                              \
		asm("pinsrw $" STR(i) ", %k[r], %[a]" : [a] "+x"(a)          \
		    : [r] "r"(r));                                           \
		break;
REF_HEAD(pinsrw)
{
	v2di a;
	u64 r = s->q[0];

	memcpy(&a, d, 16);
	switch (imm) {
		REP256(PINSRW_CASE)
	}
	memcpy(d, &a, 16);
}

/* The 32-bit GPR write must zero-extend: start from all ones. */
#define PEXTRW_CASE(i)                                                       \
	case i:                                                              \
		asm("pextrw $" STR(i) ", %[b], %k[r]" : [r] "+r"(r)          \
		    : [b] "x"(b));                                           \
		break;
REF_HEAD(pextrw)
{
	v2di b;
	u64 r = ~0ULL;

	memcpy(&b, s, 16);
	switch (imm) {
		REP256(PEXTRW_CASE)
	}
	d->q[0] = r;
	d->q[1] = 0;
}

#define REF_MSK(name)                                                        \
	REF_HEAD(name)                                                       \
	{                                                                    \
		v2di b;                                                      \
		u64 r = ~0ULL;                                               \
                                                                             \
		(void)imm;                                                   \
		memcpy(&b, s, 16);                                           \
		asm(#name " %[b], %k[r]" : [r] "+r"(r) : [b] "x"(b));        \
		d->q[0] = r;                                                 \
		d->q[1] = 0;                                                 \
	}
REF_MSK(pmovmskb)
REF_MSK(movmskps)
REF_MSK(movmskpd)

enum shape { PLAIN, SHIFT_COUNT, IMM };

struct int_case {
	const char *name;
	enum shape shape;
	ref_fn ref;
};

#define CASE_BIN(n) { #n, PLAIN, ref_##n },
#define CASE_SHIFT(n) { #n, SHIFT_COUNT, ref_##n },
#define CASE_IMM(n) { #n, IMM, ref_##n },
static const struct int_case cases[] = {
	SSE_INT_OPS(CASE_BIN)
	SSE_SHIFT_OPS(CASE_SHIFT)
	CASE_BIN(packsswb) CASE_BIN(packssdw) CASE_BIN(packuswb)
	CASE_BIN(punpcklbw) CASE_BIN(punpcklwd) CASE_BIN(punpckldq)
	CASE_BIN(punpcklqdq) CASE_BIN(punpckhbw) CASE_BIN(punpckhwd)
	CASE_BIN(punpckhdq) CASE_BIN(punpckhqdq) CASE_BIN(unpcklps)
	CASE_BIN(unpckhps) CASE_BIN(unpcklpd) CASE_BIN(unpckhpd)
	SSE_MOVE_OPS(CASE_BIN)
	SSE_SHIFT_IMM_OPS(CASE_IMM)
	CASE_IMM(shufps) CASE_IMM(shufpd) CASE_IMM(pshufd) CASE_IMM(pshuflw)
	CASE_IMM(pshufhw) CASE_IMM(pinsrw) CASE_IMM(pextrw)
	CASE_BIN(pmovmskb) CASE_BIN(movmskps) CASE_BIN(movmskpd)
};

/* Lanes of one random width, each biased to its own edges. */
static void fill(union xmm *x)
{
	static const unsigned int widths[] = { 8, 16, 32, 64 };
	unsigned int w = widths[rng_below(4)];

	for (unsigned int i = 0; i < 128 / w; i++) {
		u64 v = rand_int(w);

		memcpy(&x->b[i * w / 8], &v, w / 8);
	}
}

/* Shift counts: mostly in range, sometimes just past a lane, sometimes huge. */
static u64 rand_count(void)
{
	switch (rng_below(4)) {
	case 0:
		return rng_below(80);
	case 1:
		return rng64();
	case 2:
		return rng64() & 0xffffffff00000000ULL;
	default:
		return rng_below(17);
	}
}

static void differential(void **state)
{
	const struct int_case *c = *state;
	const struct sse_op_info *op = sse_op_find(c->name);
	unsigned int n = test_cases(2000);

	assert_non_null(op);
	for (unsigned int i = 0; i < n; i++) {
		union xmm d0, s, rd, id;
		u32 mxcsr = rand_mxcsr(), m0 = mxcsr;
		u8 imm = c->shape == IMM ? (u8)rng64() : 0;
		bool alias = !rng_below(8);
		enum fpu_fault f;

		fill(&d0);
		fill(&s);
		if (c->shape == SHIFT_COUNT) {
			s.q[0] = rand_count();
			if (!rng_below(4))
				s.q[1] = 0;
		}
		if (alias)
			s = d0;
		rd = d0;
		id = d0;
		c->ref(&rd, &s, imm);
		/* The same register as both operands: d and s alias. */
		f = op->fn(&id, alias ? &id : &s, imm, &mxcsr);
		if (f != FPU_OK || mxcsr != m0 || memcmp(&rd, &id, 16)) {
			print_error("%s imm=%#x%s\n  d=%016" PRIx64 ":%016" PRIx64
				    "\n  s=%016" PRIx64 ":%016" PRIx64
				    "\n  host %016" PRIx64 ":%016" PRIx64
				    "\n  soft %016" PRIx64 ":%016" PRIx64 "\n",
				    c->name, imm, alias ? " aliased" : "",
				    d0.q[1], d0.q[0], s.q[1], s.q[0], rd.q[1],
				    rd.q[0], id.q[1], id.q[0]);
			fail();
		}
	}
}

/* Every op the header lists is covered by one of the two SSE suites. */
static void every_op_listed(void **state)
{
	static const char *const fp_ops[] = {
#define NAME(n) #n,
		SSE_FP_BINARY_OPS(NAME) SSE_FP_CMP_OPS(NAME)
		SSE_FP_COMI_OPS(NAME) SSE_FP_TO_INT_OPS(NAME)
		SSE_FP_FROM_INT_OPS(NAME)
#undef NAME
	};
	unsigned int covered = ARRAY_SIZE(fp_ops);

	(void)state;
	for (unsigned int i = 0; i < sse_op_count; i++)
		for (unsigned int j = 0; j < ARRAY_SIZE(cases); j++)
			covered += !strcmp(cases[j].name, sse_op_table[i].name);
	assert_int_equal(covered, sse_op_count);
}

static void maskmov_bytes(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 1000; i++) {
		union xmm m;
		v2di v;
		int host;

		fill(&m);
		memcpy(&v, &m, 16);
		asm("pmovmskb %1, %0" : "=r"(host) : "x"(v));
		assert_int_equal(sse_maskmov_bytes(&m), host);
	}
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases) + 2];

	rng_seed();
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = differential,
						.initial_state = (void *)&cases[i] };
	tests[ARRAY_SIZE(cases)] = (struct CMUnitTest){
		.name = "every_op_listed", .test_func = every_op_listed };
	tests[ARRAY_SIZE(cases) + 1] = (struct CMUnitTest){
		.name = "maskmov_bytes", .test_func = maskmov_bytes };
	return _cmocka_run_group_tests("sse_int", tests, ARRAY_SIZE(tests),
				       NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * SSE/SSE2 floating point against the real CPU. For every instruction and
 * random operands (NaNs, infinities, denormals, boundaries) under random
 * MXCSR values (every rounding mode, DAZ, FTZ, masked and unmasked
 * exceptions), the host runs the instruction with the guest's MXCSR loaded
 * as it is, so an unmasked exception really traps (SIGFPE); the soft
 * engine's function must then give the same bits, the same MXCSR and the
 * same verdict (#XM or not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>

#include "engine/soft/sse/sse.h"
#include "test_sse_util.h"

enum lane { F32, F64, I32, I64 };

static void fill(union xmm *x, enum lane k)
{
	for (unsigned int i = 0; i < 4; i++) {
		switch (k) {
		case F32:
			x->d[i] = rand_f32();
			break;
		case F64:
			if (i < 2)
				x->q[i] = rand_f64();
			break;
		case I32:
			x->d[i] = (u32)rand_int(32);
			break;
		case I64:
			if (i < 2)
				x->q[i] = rand_int(64);
			break;
		}
	}
}

typedef long long v2di __attribute__((vector_size(16)));

/* A host run of the instruction under the guest's own MXCSR. */
typedef void (*ref_fn)(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr);

#define REF_ASM(insn, ...)                                                   \
	asm volatile("stmxcsr %[saved]\n\t"                                  \
		     "ldmxcsr %[guest]\n\t"                                  \
		     insn "\n\t"                                             \
		     "stmxcsr %[after]\n\t"                                  \
		     "ldmxcsr %[saved]"                                      \
		     : [saved] "=m"(saved), [after] "=m"(after), __VA_ARGS__)

#define REF_BINARY(name)                                                     \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm,     \
			       u32 *mxcsr)                                   \
	{                                                                    \
		v2di a, b;                                                   \
		u32 saved, after, guest = *mxcsr;                            \
                                                                             \
		(void)imm;                                                   \
		memcpy(&a, d, 16);                                           \
		memcpy(&b, s, 16);                                           \
		REF_ASM(#name " %[b], %[a]", [a] "+x"(a)                     \
			: [b] "x"(b), [guest] "m"(guest));                   \
		memcpy(d, &a, 16);                                           \
		*mxcsr = after;                                              \
	}

#define REF_CMP_CASE(name, p)                                                \
	case p:                                                              \
		REF_ASM(#name " $" #p ", %[b], %[a]", [a] "+x"(a)            \
			: [b] "x"(b), [guest] "m"(guest));                   \
		break;
#define REF_CMP(name)                                                        \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm,     \
			       u32 *mxcsr)                                   \
	{                                                                    \
		v2di a, b;                                                   \
		u32 saved, after, guest = *mxcsr;                            \
                                                                             \
		memcpy(&a, d, 16);                                           \
		memcpy(&b, s, 16);                                           \
		switch (imm) {                                               \
		REF_CMP_CASE(name, 0) REF_CMP_CASE(name, 1)                  \
		REF_CMP_CASE(name, 2) REF_CMP_CASE(name, 3)                  \
		REF_CMP_CASE(name, 4) REF_CMP_CASE(name, 5)                  \
		REF_CMP_CASE(name, 6) REF_CMP_CASE(name, 7)                  \
		default:                                                     \
			fail();                                              \
		}                                                            \
		memcpy(d, &a, 16);                                           \
		*mxcsr = after;                                              \
	}

/* comis: all six arithmetic flags come back, so OF/SF/AF are checked too. */
#define REF_COMI(name)                                                       \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm,     \
			       u32 *mxcsr)                                   \
	{                                                                    \
		v2di a, b;                                                   \
		u32 saved, after, guest = *mxcsr;                            \
		u64 fl;                                                      \
                                                                             \
		(void)imm;                                                   \
		memcpy(&a, d, 16);                                           \
		memcpy(&b, s, 16);                                           \
		/* Set every flag first, so that clearing is seen. */        \
		REF_ASM("mov $0x7f, %%al\n\tadd $1, %%al\n\t"                \
			#name " %[b], %[a]\n\t"                            \
			"lahf\n\tseto %%al\n\tmovzx %%ax, %k[fl]",           \
			[fl] "=r"(fl)                                        \
			: [a] "x"(a), [b] "x"(b), [guest] "m"(guest)         \
			: "rax", "cc");                                      \
		d->q[0] = ((fl >> 8) & 0xd5) | (fl & 1) << 11;               \
		d->q[1] = 0;                                                 \
		*mxcsr = after;                                              \
	}

#define REF_TO_INT(name, insn, reg)                                          \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm,     \
			       u32 *mxcsr)                                   \
	{                                                                    \
		v2di b;                                                      \
		u32 saved, after, guest = *mxcsr;                            \
		u64 r = 0x5555555555555555ULL;                               \
                                                                             \
		(void)imm;                                                   \
		memcpy(&b, s, 16);                                           \
		/* A 32-bit write must zero the upper half. */               \
		REF_ASM(insn " %[b], %" reg "[r]", [r] "+r"(r)               \
			: [b] "x"(b), [guest] "m"(guest));                   \
		d->q[0] = r;                                                 \
		d->q[1] = 0;                                                 \
		*mxcsr = after;                                              \
	}

#define REF_FROM_INT(name, insn, reg)                                        \
	static void ref_##name(union xmm *d, const union xmm *s, u8 imm,     \
			       u32 *mxcsr)                                   \
	{                                                                    \
		v2di a;                                                      \
		u32 saved, after, guest = *mxcsr;                            \
		u64 r = s->q[0];                                             \
                                                                             \
		(void)imm;                                                   \
		memcpy(&a, d, 16);                                           \
		REF_ASM(insn " %" reg "[r], %[a]", [a] "+x"(a)               \
			: [r] "r"(r), [guest] "m"(guest));                   \
		memcpy(d, &a, 16);                                           \
		*mxcsr = after;                                              \
	}

enum kind { BIN, CMP, COMI, TOINT, FROMINT };

struct fp_case {
	const char *name;
	enum kind kind;
	enum lane dl, sl;	/* what d and s hold */
	ref_fn ref;
};

#define BINARY_CASES(X)                                                      \
	X(addps, F32, F32) X(addss, F32, F32) X(addpd, F64, F64)             \
	X(addsd, F64, F64) X(subps, F32, F32) X(subss, F32, F32)             \
	X(subpd, F64, F64) X(subsd, F64, F64) X(mulps, F32, F32)             \
	X(mulss, F32, F32) X(mulpd, F64, F64) X(mulsd, F64, F64)             \
	X(divps, F32, F32) X(divss, F32, F32) X(divpd, F64, F64)             \
	X(divsd, F64, F64) X(minps, F32, F32) X(minss, F32, F32)             \
	X(minpd, F64, F64) X(minsd, F64, F64) X(maxps, F32, F32)             \
	X(maxss, F32, F32) X(maxpd, F64, F64) X(maxsd, F64, F64)             \
	X(sqrtps, F32, F32) X(sqrtss, F32, F32) X(sqrtpd, F64, F64)          \
	X(sqrtsd, F64, F64) X(rcpps, F32, F32) X(rcpss, F32, F32)            \
	X(rsqrtps, F32, F32) X(rsqrtss, F32, F32)                            \
	X(cvtps2pd, F64, F32) X(cvtpd2ps, F32, F64)                          \
	X(cvtss2sd, F64, F32) X(cvtsd2ss, F32, F64)                          \
	X(cvtdq2ps, F32, I32) X(cvtps2dq, I32, F32) X(cvttps2dq, I32, F32)   \
	X(cvtdq2pd, F64, I32) X(cvtpd2dq, I32, F64) X(cvttpd2dq, I32, F64)
#define CMP_CASES(X)                                                         \
	X(cmpps, F32, F32) X(cmpss, F32, F32) X(cmppd, F64, F64)             \
	X(cmpsd, F64, F64)
#define COMI_CASES(X)                                                        \
	X(comiss, F32, F32) X(ucomiss, F32, F32) X(comisd, F64, F64)         \
	X(ucomisd, F64, F64)

#define REF_BINARY_X(n, dl, sl) REF_BINARY(n)
#define REF_CMP_X(n, dl, sl) REF_CMP(n)
#define REF_COMI_X(n, dl, sl) REF_COMI(n)
BINARY_CASES(REF_BINARY_X)
CMP_CASES(REF_CMP_X)
COMI_CASES(REF_COMI_X)
REF_TO_INT(cvtss2si32, "cvtss2si", "k")
REF_TO_INT(cvtss2si64, "cvtss2si", "q")
REF_TO_INT(cvttss2si32, "cvttss2si", "k")
REF_TO_INT(cvttss2si64, "cvttss2si", "q")
REF_TO_INT(cvtsd2si32, "cvtsd2si", "k")
REF_TO_INT(cvtsd2si64, "cvtsd2si", "q")
REF_TO_INT(cvttsd2si32, "cvttsd2si", "k")
REF_TO_INT(cvttsd2si64, "cvttsd2si", "q")
REF_FROM_INT(cvtsi2ss32, "cvtsi2ssl", "k")
REF_FROM_INT(cvtsi2ss64, "cvtsi2ssq", "q")
REF_FROM_INT(cvtsi2sd32, "cvtsi2sdl", "k")
REF_FROM_INT(cvtsi2sd64, "cvtsi2sdq", "q")

#define CASE_BIN(n, d, s) { #n, BIN, d, s, ref_##n },
#define CASE_CMP(n, d, s) { #n, CMP, d, s, ref_##n },
#define CASE_COMI(n, d, s) { #n, COMI, d, s, ref_##n },
static const struct fp_case cases[] = {
	BINARY_CASES(CASE_BIN) CMP_CASES(CASE_CMP) COMI_CASES(CASE_COMI)
	{ "cvtss2si32", TOINT, I64, F32, ref_cvtss2si32 },
	{ "cvtss2si64", TOINT, I64, F32, ref_cvtss2si64 },
	{ "cvttss2si32", TOINT, I64, F32, ref_cvttss2si32 },
	{ "cvttss2si64", TOINT, I64, F32, ref_cvttss2si64 },
	{ "cvtsd2si32", TOINT, I64, F64, ref_cvtsd2si32 },
	{ "cvtsd2si64", TOINT, I64, F64, ref_cvtsd2si64 },
	{ "cvttsd2si32", TOINT, I64, F64, ref_cvttsd2si32 },
	{ "cvttsd2si64", TOINT, I64, F64, ref_cvttsd2si64 },
	{ "cvtsi2ss32", FROMINT, F32, I32, ref_cvtsi2ss32 },
	{ "cvtsi2ss64", FROMINT, F32, I64, ref_cvtsi2ss64 },
	{ "cvtsi2sd32", FROMINT, F64, I32, ref_cvtsi2sd32 },
	{ "cvtsi2sd64", FROMINT, F64, I64, ref_cvtsi2sd64 },
};

/* Runs ref; true when the host trapped (then *mxcsr is the MXCSR at the fault). */
static bool run_ref(ref_fn ref, union xmm *d, const union xmm *s, u8 imm,
		    u32 *mxcsr)
{
	if (sigsetjmp(trap_env, 1)) {
		host_fpu_reset();
		*mxcsr = trap_mxcsr;
		return true;
	}
	ref(d, s, imm, mxcsr);
	return false;
}

static void print_case(const char *name, const union xmm *d, const union xmm *s,
		       u8 imm, u32 mxcsr)
{
	print_error("%s imm=%u mxcsr=%#x\n  d=%016" PRIx64 ":%016" PRIx64
		    "\n  s=%016" PRIx64 ":%016" PRIx64 "\n",
		    name, imm, mxcsr, d->q[1], d->q[0], s->q[1], s->q[0]);
}

static void differential(void **state)
{
	const struct fp_case *c = *state;
	const struct sse_op_info *op = sse_op_find(c->name);
	unsigned int n = test_cases(2000), traps = 0;

	assert_non_null(op);
	trap_install();
	for (unsigned int i = 0; i < n; i++) {
		union xmm d0, s, rd, id;
		u32 m0 = rand_mxcsr(), rm = m0, im = m0;
		u8 imm = c->kind == CMP ? rng_below(8) : 0;
		bool alias = c->dl == c->sl && !rng_below(16);
		enum fpu_fault f;
		bool trapped;

		fill(&d0, c->dl);
		fill(&s, c->sl);
		/* Sometimes the same register as both operands. */
		if (alias)
			s = d0;
		rd = d0;
		id = d0;
		trapped = run_ref(c->ref, &rd, &s, imm, &rm);
		traps += trapped;
		f = op->fn(&id, alias ? &id : &s, imm, &im);
		/*
		 * comis: the host's six flags, set beforehand, must match the
		 * ZF/PF/CF the function gives, as the CPU clears OF/SF/AF.
		 */
		if (f != (trapped ? FPU_XM : FPU_OK) || im != rm ||
		    memcmp(&rd, &id, sizeof(rd))) {
			print_case(c->name, &d0, &s, imm, m0);
			print_error("  host: %s mxcsr=%#x d=%016" PRIx64
				    ":%016" PRIx64 "\n  soft: %d mxcsr=%#x d=%016"
				    PRIx64 ":%016" PRIx64 "\n",
				    trapped ? "#XM" : "ok", rm, rd.q[1], rd.q[0],
				    f, im, id.q[1], id.q[0]);
			trap_remove();
			fail();
		}
	}
	trap_remove();
	/* The unmasked paths must really have been exercised. */
	if (n >= 1000 && strncmp(c->name, "rcp", 3) &&
	    strncmp(c->name, "rsqrt", 5) && strcmp(c->name, "cvtdq2pd") &&
	    strcmp(c->name, "cvtsi2sd32"))
		assert_true(traps > 0);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	rng_seed();
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = differential,
						.initial_state = (void *)&cases[i] };
	return _cmocka_run_group_tests("sse_fp", tests, ARRAY_SIZE(tests),
				       NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * FXSAVE/FXRSTOR and LDMXCSR against the real CPU: random images are
 * restored and saved again by the host and by the soft engine, in both
 * layouts, and must come out byte for byte the same; reserved MXCSR bits
 * must #GP (SIGSEGV on the host) in both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>

#include "engine/soft/sse/fxsave.h"
#include "engine/soft/sse/mxcsr.h"
#include "engine/soft/x87/x87.h"
#include "test_sse_util.h"

static volatile int segv;

static void segv_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	(void)ctx;
	segv = 1;
	siglongjmp(trap_env, 1);
}

static struct sigaction old_segv;

static void segv_install(void)
{
	struct sigaction sa = { .sa_sigaction = segv_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGSEGV, &sa, &old_segv);
}

static void segv_remove(void)
{
	sigaction(SIGSEGV, &old_segv, NULL);
}

/* A random image: x87 fields, registers, MXCSR (sometimes reserved bits). */
static void rand_fx_image(u8 *img, bool bad_mxcsr)
{
	u32 mxcsr = rand_mxcsr();

	for (unsigned int i = 0; i < FXSAVE_BYTES; i++)
		img[i] = (u8)rng64();
	if (bad_mxcsr)
		mxcsr |= 1u << (16 + rng_below(16));
	memcpy(img + 24, &mxcsr, 4);
	/*
	 * FIP as a 57-bit address: this host keeps only that much of it and
	 * sign-extends, a trait of the part rather than the architecture.
	 */
	img[15] = (img[14] & 1) ? 0xff : 0;
}

/*
 * Host: FXRSTOR img then FXSAVE out (REX.W or not), the host's own state
 * saved around it. Returns false when the FXRSTOR faulted.
 */
static bool host_roundtrip(const u8 *img, u8 *out, bool rex_w)
{
	static u8 saved[FXSAVE_BYTES] __attribute__((aligned(16)));
	static u8 in[FXSAVE_BYTES] __attribute__((aligned(16)));
	static u8 res[FXSAVE_BYTES] __attribute__((aligned(16)));

	memcpy(in, img, sizeof(in));
	memcpy(res, out, sizeof(res));
	segv = 0;
	if (sigsetjmp(trap_env, 1)) {
		asm volatile("fxrstor64 %0" : : "m"(saved));
		return false;
	}
	if (rex_w)
		asm volatile("fxsave64 %0\n\tfxrstor64 %2\n\tfxsave64 %1\n\t"
			     "fxrstor64 %0"
			     : "+m"(saved), "+m"(res) : "m"(in));
	else
		asm volatile("fxsave64 %0\n\tfxrstor %2\n\tfxsave %1\n\t"
			     "fxrstor64 %0"
			     : "+m"(saved), "+m"(res) : "m"(in));
	memcpy(out, res, sizeof(res));
	return true;
}

static void dump(const char *who, const u8 *img)
{
	print_error("%s:", who);
	for (unsigned int i = 0; i < 416; i++)
		print_error("%s%02x", i % 32 ? " " : "\n  ", img[i]);
	print_error("\n");
}

static void roundtrip(bool rex_w)
{
	unsigned int n = test_cases(2000), faults = 0;

	segv_install();
	for (unsigned int i = 0; i < n; i++) {
		u8 img[FXSAVE_BYTES], host[FXSAVE_BYTES], soft[FXSAVE_BYTES];
		struct fxsave_area fx;
		struct fxsave_mode mode = { rex_w, true, true };
		bool bad = !rng_below(8), host_ok;
		int f;

		rand_fx_image(img, bad);
		for (unsigned int j = 0; j < FXSAVE_BYTES; j++)
			host[j] = soft[j] = (u8)rng64();
		memset(&fx, 0, sizeof(fx));
		x87_reset(&fx);
		fx.mxcsr = MXCSR_DEFAULT;
		host_ok = host_roundtrip(img, host, rex_w);
		faults += !host_ok;
		f = fxsave_load(&fx, img, mode);
		if (f != (host_ok ? FPU_OK : FPU_GP))
			dump("image", img);
		assert_int_equal(f, host_ok ? FPU_OK : FPU_GP);
		if (!host_ok) {
			/* Nothing was loaded. */
			assert_int_equal(fx.mxcsr, MXCSR_DEFAULT);
			assert_int_equal(fx.fcw, X87_FCW_DEFAULT);
			continue;
		}
		fxsave_store(&fx, soft, mode);
		if (memcmp(host, soft, FXSAVE_BYTES)) {
			dump("image", img);
			dump("host", host);
			dump("soft", soft);
			segv_remove();
			fail();
		}
	}
	segv_remove();
	assert_true(faults > 0);
}

static void roundtrip64(void **state)
{
	(void)state;
	roundtrip(true);
}

static void roundtrip32(void **state)
{
	(void)state;
	roundtrip(false);
}

/* Outside 64-bit mode only XMM0-7 are saved; past them memory is untouched. */
static void legacy_mode_xmm(void **state)
{
	u8 img[FXSAVE_BYTES];
	struct fxsave_area fx = { .mxcsr = MXCSR_DEFAULT };
	struct fxsave_mode mode = { false, false, true };

	(void)state;
	x87_reset(&fx);
	for (unsigned int i = 0; i < ARRAY_SIZE(fx.xmm); i++)
		fx.xmm[i].q[0] = fx.xmm[i].q[1] = 0x0101010101010101ULL * (i + 1);
	memset(img, 0xee, sizeof(img));
	fxsave_store(&fx, img, mode);
	assert_int_equal(img[160], 1);
	assert_int_equal(img[160 + 16 * 7 + 15], 8);
	for (unsigned int i = 288; i < FXSAVE_BYTES; i++)
		assert_int_equal(img[i], 0xee);
	/* FXRSTOR loads XMM0-7 only. */
	memset(img + 160, 0x77, 16 * 8);
	assert_int_equal(fxsave_load(&fx, img, mode), FPU_OK);
	assert_int_equal(fx.xmm[7].b[0], 0x77);
	assert_int_equal(fx.xmm[8].b[0], 9);
}

/* Without CR4.OSFXSR neither MXCSR nor XMM is saved or restored. */
static void no_osfxsr(void **state)
{
	u8 img[FXSAVE_BYTES];
	struct fxsave_area fx = { .mxcsr = MXCSR_DEFAULT };
	struct fxsave_mode mode = { true, true, false };

	(void)state;
	x87_reset(&fx);
	memset(img, 0xee, sizeof(img));
	fxsave_store(&fx, img, mode);
	assert_int_equal(img[0], 0x7f);
	for (unsigned int i = 24; i < 32; i++)
		assert_int_equal(img[i], 0xee);
	for (unsigned int i = 160; i < FXSAVE_BYTES; i++)
		assert_int_equal(img[i], 0xee);
	/* Reserved MXCSR bits in the image do not matter then. */
	assert_int_equal(fxsave_load(&fx, img, mode), FPU_OK);
	assert_int_equal(fx.mxcsr, MXCSR_DEFAULT);
	assert_int_equal(fx.xmm[0].q[0], 0);
}

static void alignment(void **state)
{
	(void)state;
	assert_false(fxsave_misaligned(0x1000));
	assert_false(fxsave_misaligned(0xfff0));
	for (unsigned int i = 1; i < 16; i++)
		assert_true(fxsave_misaligned(0x1000 + i));
}

/* Host LDMXCSR v; false when it faulted, else *after is what it loaded. */
static bool host_ldmxcsr(u32 v, u32 *after)
{
	static u32 saved, out;

	segv = 0;
	if (sigsetjmp(trap_env, 1)) {
		host_fpu_reset();
		return false;
	}
	asm volatile("stmxcsr %0\n\tldmxcsr %2\n\tstmxcsr %1\n\tldmxcsr %0"
		     : "=m"(saved), "=m"(out) : "m"(v));
	*after = out;
	return true;
}

/* LDMXCSR: the host faults exactly when mxcsr_load() says #GP. */
static void ldmxcsr(void **state)
{
	unsigned int n = test_cases(2000), faults = 0;

	(void)state;
	segv_install();
	for (unsigned int i = 0; i < n; i++) {
		u32 v = rand_mxcsr(), cur = 0x1f80, after = 0;
		bool host_ok;

		if (!rng_below(4))
			v |= 1u << (16 + rng_below(16));
		host_ok = host_ldmxcsr(v, &after);
		faults += !host_ok;
		assert_int_equal(mxcsr_load(&cur, v), host_ok ? FPU_OK : FPU_GP);
		assert_int_equal(cur, host_ok ? after : 0x1f80u);
	}
	segv_remove();
	assert_true(faults > 0);
}

/* The host reports the MXCSR_MASK this engine claims. */
static void mxcsr_mask(void **state)
{
	u8 img[FXSAVE_BYTES] __attribute__((aligned(16)));
	u32 mask;

	(void)state;
	asm volatile("fxsave64 %0" : "=m"(img));
	memcpy(&mask, img + 28, 4);
	if (mask != MXCSR_SUPPORTED)
		print_message("# host MXCSR_MASK %#x, soft engine %#x\n", mask,
			      MXCSR_SUPPORTED);
	/* Every bit the engine allows must run on the host. */
	assert_int_equal(MXCSR_SUPPORTED & ~mask, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip64),
		cmocka_unit_test(roundtrip32),
		cmocka_unit_test(legacy_mode_xmm),
		cmocka_unit_test(no_osfxsr),
		cmocka_unit_test(alignment),
		cmocka_unit_test(ldmxcsr),
		cmocka_unit_test(mxcsr_mask),
	};

	rng_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The SSE decode table (src/engine/soft/sse/sse_table.def): every entry
 * is encoded and disassembled with objdump, whose mnemonic must be the
 * one the entry's function implements; the table's own rules (alignment,
 * no duplicates) are checked; and the operand-size conversions are
 * checked against their fixed-width versions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#include "engine/soft/sse/sse_ops.h"
#include "test_sse_util.h"

struct entry {
	u8 opcode, prefix, reg, form, flags;
	bool grp, reg_only_entry;
	sse_fn fn;
	const char *name;
};

static const struct entry table[] = {
#define SSE_OP(map, op, pfx, form, flags, fn) \
	{ op, pfx, 0, form, flags, false, false, fn, #fn },
#define SSE_OP_GRP(map, op, pfx, reg, form, flags, fn) \
	{ op, pfx, reg, form, flags, true, false, fn, #fn },
#define SSE_OP_R(map, op, pfx, form, flags, fn) \
	{ op, pfx, 0, form, flags, false, true, fn, #fn },
#include "engine/soft/sse/sse_table.def"
#undef SSE_OP
#undef SSE_OP_GRP
#undef SSE_OP_R
};

/* What objdump may call the instruction an entry's function implements. */
static const struct {
	const char *fn;
	const char *mnemonics;
} aliases[] = {
	{ "sse_mov128", " movups movupd movaps movapd movdqa movdqu movntps "
			"movntpd movntdq movss movsd " },
	{ "sse_movlo64", " movlps movlpd " },
	{ "sse_movq", " movq movd movlps movlpd " },
	{ "sse_movlhps", " movlhps movhps movhpd " },
	{ "sse_movhlps", " movhlps movhps movhpd " },
};

/* "sse_psrlw_imm" -> "psrlw"; objdump adds l/q to cvtsi2s[sd]. */
static bool mnemonic_matches(const char *fn, const char *mn)
{
	char want[32], padded[272];

	for (unsigned int i = 0; i < ARRAY_SIZE(aliases); i++) {
		if (strcmp(aliases[i].fn, fn))
			continue;
		snprintf(padded, sizeof(padded), " %s ", mn);
		return strstr(aliases[i].mnemonics, padded);
	}
	snprintf(want, sizeof(want), "%s", fn + 4);
	if (strstr(want, "_imm"))
		*strstr(want, "_imm") = 0;
	/* The predicate is spelt out: cmpltps for cmpps $1. */
	if (!strncmp(want, "cmp", 3) && !strncmp(mn, "cmp", 3))
		return !strcmp(mn + strlen(mn) - 2, want + 3);
	if (!strncmp(want, "cvtsi2s", 7))
		return !strncmp(mn, want, strlen(want)) &&
		       strlen(mn) <= strlen(want) + 1;
	return !strcmp(want, mn);
}

/* The bytes of one entry: register form when it must be, else [rax]. */
static unsigned int encode(const struct entry *e, u8 *out)
{
	static const u8 prefix_byte[] = { 0, 0x66, 0xf3, 0xf2 };
	bool reg = e->grp || e->reg_only_entry || (e->flags & SSE_F_REGONLY);
	unsigned int n = 0;

	if (e->prefix)
		out[n++] = prefix_byte[e->prefix];
	out[n++] = 0x0f;
	out[n++] = e->opcode;
	out[n++] = reg ? 0xc0 | e->reg << 3 | (e->grp ? 2 : 1) : 0x08;
	if (e->flags & SSE_F_IMM8)
		out[n++] = 0x01;
	return n;
}

static void disassembled_mnemonics(void **state)
{
	char bin[] = "/tmp/kiln-sse-table-XXXXXX", cmd[256], line[256];
	unsigned int i = 0;
	FILE *f, *p;
	int fd;

	(void)state;
	if (system("objdump --version >/dev/null 2>&1")) {
		skip();	/* prints as a skip: objdump (binutils) is not installed */
		return;
	}
	fd = mkstemp(bin);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	for (unsigned int j = 0; j < ARRAY_SIZE(table); j++) {
		u8 bytes[8];
		unsigned int n = encode(&table[j], bytes);

		fwrite(bytes, 1, n, f);
		fputc(0xcc, f);		/* int3 between entries: resync */
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "objdump -D -b binary -m i386:x86-64 %s | "
		 "awk -F'\\t' 'NF >= 3 { split($3, w, \" \"); print w[1] }'",
		 bin);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "int3"))
			continue;
		assert_true(i < ARRAY_SIZE(table));
		if (!mnemonic_matches(table[i].name, line)) {
			print_error("entry %u (%02x 0f %02x /%u): %s, objdump "
				    "says %s\n", i, table[i].prefix,
				    table[i].opcode, table[i].reg,
				    table[i].name, line);
			fail();
		}
		i++;
	}
	pclose(p);
	unlink(bin);
	assert_int_equal(i, ARRAY_SIZE(table));
}

/* Legacy SSE: every m128 operand is aligned but movups/movupd/movdqu's. */
static void alignment_rules(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(table); i++) {
		const struct entry *e = &table[i];
		bool m128 = e->form == SSE_FORM_X_XM128 ||
			    e->form == SSE_FORM_XM128_X;
		bool unaligned = e->fn == sse_mov128 &&
				 ((e->opcode == 0x10 || e->opcode == 0x11) ||
				  ((e->opcode == 0x6f || e->opcode == 0x7f) &&
				   e->prefix == SSE_PFX_F3));

		if (!m128)
			assert_false(e->flags & SSE_F_ALIGN16);
		else if (unaligned)
			assert_false(e->flags & SSE_F_ALIGN16);
		else if (!(e->flags & SSE_F_ALIGN16))
			fail_msg("%s (0f %02x) lacks SSE_F_ALIGN16", e->name,
				 e->opcode);
	}
}

static void no_duplicates(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(table); i++)
		for (unsigned int j = i + 1; j < ARRAY_SIZE(table); j++) {
			const struct entry *a = &table[i], *b = &table[j];

			if (a->opcode == b->opcode && a->prefix == b->prefix &&
			    a->grp == b->grp && a->reg == b->reg &&
			    a->reg_only_entry == b->reg_only_entry)
				fail_msg("0f %02x listed twice", a->opcode);
		}
}

/* imm is the operand size: 8 picks the 64-bit form, anything else 32. */
static void operand_size(void **state)
{
	static const struct {
		sse_fn by_size, w32, w64;
	} fns[] = {
		{ sse_cvtsi2ss, sse_cvtsi2ss32, sse_cvtsi2ss64 },
		{ sse_cvtsi2sd, sse_cvtsi2sd32, sse_cvtsi2sd64 },
		{ sse_cvtss2si, sse_cvtss2si32, sse_cvtss2si64 },
		{ sse_cvttss2si, sse_cvttss2si32, sse_cvttss2si64 },
		{ sse_cvtsd2si, sse_cvtsd2si32, sse_cvtsd2si64 },
		{ sse_cvttsd2si, sse_cvttsd2si32, sse_cvttsd2si64 },
	};

	(void)state;
	for (unsigned int i = 0; i < 1000; i++) {
		for (unsigned int k = 0; k < ARRAY_SIZE(fns); k++) {
			union xmm s = { .q = { rng64(), rng64() } };
			union xmm d0 = { .q = { rng64(), rng64() } };
			union xmm a = d0, b = d0, c = d0, e = d0;
			u32 ma = MXCSR_DEFAULT, mb = ma, mc = ma, me = ma;

			if (k >= 2)	/* a float or double in range */
				s.q[0] = k < 4 ? rand_f32() : rand_f64();
			assert_int_equal(fns[k].by_size(&a, &s, 8, &ma),
					 fns[k].w64(&b, &s, 8, &mb));
			assert_memory_equal(&a, &b, 16);
			assert_int_equal(ma, mb);
			assert_int_equal(fns[k].by_size(&c, &s, 4, &mc),
					 fns[k].w32(&e, &s, 4, &me));
			assert_memory_equal(&c, &e, 16);
			assert_int_equal(mc, me);
		}
	}
}

typedef long long v2di __attribute__((vector_size(16)));

/* The plain moves against the host's movaps and movlps. */
static void moves(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 1000; i++) {
		union xmm d = { .q = { rng64(), rng64() } };
		union xmm s = { .q = { rng64(), rng64() } };
		union xmm r;
		v2di a, b;
		u32 m = MXCSR_DEFAULT;

		memcpy(&a, &d, 16);
		memcpy(&b, &s, 16);
		asm("movaps %1, %0" : "+x"(a) : "x"(b));
		r = d;
		assert_int_equal(sse_mov128(&r, &s, 0, &m), 0);
		assert_memory_equal(&r, &a, 16);
		memcpy(&a, &d, 16);
		asm("movlps %1, %0" : "+x"(a) : "m"(s.q[0]));
		r = d;
		assert_int_equal(sse_movlo64(&r, &s, 0, &m), 0);
		assert_memory_equal(&r, &a, 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disassembled_mnemonics),
		cmocka_unit_test(alignment_rules),
		cmocka_unit_test(no_duplicates),
		cmocka_unit_test(operand_size),
		cmocka_unit_test(moves),
	};

	rng_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

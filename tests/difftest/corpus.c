// SPDX-License-Identifier: Apache-2.0
/*
 * The corpus: real instruction sequences, from the disassembly of a real
 * program (`objdump -d --insn-width=15 /bin/busybox`, made at test time).
 *
 * Kept: the deterministic, ring-3, no-control-flow subset - integer,
 * SSE/SSE2 and x87 instructions by mnemonic (the whitelist below) - and
 * conditional jumps, redirected to the end of the window. Gone: other
 * branches, calls and returns, system and non-deterministic instructions,
 * and everything beyond SSE2 (VEX/EVEX, SSSE3+, BMI, MMX registers), which
 * the soft CPU does not advertise.
 *
 * A sequence is a window of up to 8 consecutive kept instructions. Its
 * memory operands are made to land in the data pages: base registers get
 * values computed from the displacement, index registers small values,
 * RIP-relative and absolute displacements are rewritten in the bytes, and
 * FS/GS point into the data pages. That holds only while those registers
 * keep their initial values, so a window is cut before an instruction
 * whose address registers an earlier one may have written (anything named
 * in it), before a flag reader whose flags are undefined (SDM), and after
 * instructions whose results are undefined.
 */
#include "corpus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "gen.h"

#define WINDOW_MAX 8

/* Flag behaviour families. */
enum cfx {
	F_NONE, F_ARITH, F_ADC, F_LOGIC, F_INCDEC, F_SHIFT, F_ROT, F_RCX, F_SHXD, F_MUL,
	F_DIV, F_BT, F_BSCAN, F_DEF6, F_READ, F_CF, F_CMC, F_LAHF, F_SAHF, F_STRCMP,
};

struct mn {
	const char *name;
	u8 fx;
	u8 op;		/* shifts: /digit */
	u16 implicit;	/* registers it uses without naming them */
};

#define RAX (1u << GPR_RAX)
#define RCX (1u << GPR_RCX)
#define RDX (1u << GPR_RDX)
#define RSI (1u << GPR_RSI)
#define RDI (1u << GPR_RDI)

#define M(name, fx) { name, fx, 0, 0 }
#define MOP(name, fx, op) { name, fx, op, 0 }
#define MIMP(name, fx, regs) { name, fx, 0, regs }

/* Integer mnemonics; these also take a b/w/l/q suffix. */
static const struct mn int_mn[] = {
	M("add", F_ARITH), M("sub", F_ARITH), M("cmp", F_ARITH), M("neg", F_ARITH),
	M("adc", F_ADC), M("sbb", F_ADC),
	M("and", F_LOGIC), M("or", F_LOGIC), M("xor", F_LOGIC), M("test", F_LOGIC),
	M("inc", F_INCDEC), M("dec", F_INCDEC),
	M("mov", F_NONE), M("not", F_NONE), M("lea", F_NONE), M("push", F_NONE),
	M("pop", F_NONE), M("xchg", F_NONE), M("bswap", F_NONE), M("nop", F_NONE),
	M("movabs", F_NONE), M("movnti", F_NONE),
	MOP("rol", F_ROT, 0), MOP("ror", F_ROT, 1), MOP("rcl", F_RCX, 2), MOP("rcr", F_RCX, 3),
	MOP("shl", F_SHIFT, 4), MOP("sal", F_SHIFT, 4), MOP("shr", F_SHIFT, 5),
	MOP("sar", F_SHIFT, 7),
	M("shld", F_SHXD), M("shrd", F_SHXD),
	MIMP("mul", F_MUL, RAX | RDX), MIMP("imul", F_MUL, RAX | RDX),
	MIMP("div", F_DIV, RAX | RDX), MIMP("idiv", F_DIV, RAX | RDX),
	M("bt", F_BT), M("bts", F_BT), M("btr", F_BT), M("btc", F_BT),
	M("bsf", F_BSCAN), M("bsr", F_BSCAN), M("popcnt", F_DEF6),
	M("xadd", F_ARITH), MIMP("cmpxchg", F_ARITH, RAX),
	MIMP("stos", F_NONE, RAX | RCX | RDI), MIMP("lods", F_NONE, RAX | RCX | RSI),
	MIMP("movs", F_NONE, RCX | RSI | RDI), MIMP("cmps", F_STRCMP, RCX | RSI | RDI),
	MIMP("scas", F_STRCMP, RAX | RCX | RDI),
};

/* Everything else, exactly as objdump spells it. */
static const struct mn exact_mn[] = {
	M("movzbl", F_NONE), M("movzbw", F_NONE), M("movzbq", F_NONE), M("movzwl", F_NONE),
	M("movzwq", F_NONE), M("movsbl", F_NONE), M("movsbw", F_NONE), M("movsbq", F_NONE),
	M("movswl", F_NONE), M("movswq", F_NONE), M("movslq", F_NONE),
	MIMP("cltq", F_NONE, RAX), MIMP("cwtl", F_NONE, RAX), MIMP("cbtw", F_NONE, RAX),
	MIMP("cqto", F_NONE, RAX | RDX), MIMP("cltd", F_NONE, RAX | RDX),
	MIMP("cwtd", F_NONE, RAX | RDX),
	M("nopl", F_NONE), M("nopw", F_NONE), M("endbr64", F_NONE), M("pause", F_NONE),
	M("prefetcht0", F_NONE), M("prefetcht1", F_NONE), M("prefetcht2", F_NONE),
	M("prefetchnta", F_NONE), M("prefetchw", F_NONE), M("lfence", F_NONE),
	M("mfence", F_NONE), M("sfence", F_NONE), M("clflush", F_NONE),
	MIMP("cmpxchg8b", F_ARITH, RAX | RDX), MIMP("cmpxchg16b", F_ARITH, RAX | RDX),
	MIMP("lahf", F_LAHF, RAX), MIMP("sahf", F_SAHF, RAX),
	M("clc", F_CF), M("stc", F_CF), M("cmc", F_CMC), M("cld", F_NONE), M("std", F_NONE),
	M("ldmxcsr", F_NONE), M("stmxcsr", F_NONE), M("fxsave", F_NONE), M("fxrstor", F_NONE),
	M("emms", F_NONE),
	M("comiss", F_DEF6), M("ucomiss", F_DEF6), M("comisd", F_DEF6), M("ucomisd", F_DEF6),
	M("fcomi", F_DEF6), M("fucomi", F_DEF6), M("fcomip", F_DEF6), M("fucomip", F_DEF6),
};

/* SSE and SSE2 (no MMX registers: checked apart). */
static const char *const sse_mn =
	" movups movupd movss movsd movlps movhlps movlpd movhps movlhps movhpd movaps movapd"
	" movntps movntpd movd movq movdqa movdqu movntdq movmskps movmskpd pmovmskb pinsrw"
	" pextrw maskmovdqu rsqrtps rsqrtss rcpps rcpss cvtsi2ss cvtsi2sd cvtsi2ssl cvtsi2sdl"
	" cvtsi2ssq cvtsi2sdq cvttss2si cvttsd2si cvtss2si cvtsd2si cvtps2pd cvtpd2ps cvtss2sd"
	" cvtsd2ss cvtdq2ps cvtps2dq cvttps2dq cvttpd2dq cvtpd2dq cvtdq2pd andps andpd andnps"
	" andnpd orps orpd xorps xorpd unpcklps unpcklpd unpckhps unpckhpd shufps shufpd"
	" punpcklbw punpcklwd punpckldq punpckhbw punpckhwd punpckhdq punpcklqdq punpckhqdq"
	" packsswb packuswb packssdw pcmpgtb pcmpgtw pcmpgtd pcmpeqb pcmpeqw pcmpeqd pshufd"
	" pshufhw pshuflw psrlw psrld psrlq psraw psrad psllw pslld psllq psrldq pslldq paddq"
	" pmullw psubusb psubusw pminub pand paddusb paddusw pmaxub pandn pavgb pavgw pmulhuw"
	" pmulhw psubsb psubsw pminsw por paddsb paddsw pmaxsw pxor pmuludq pmaddwd psadbw"
	" psubb psubw psubd psubq paddb paddw paddd ";

/* x87, without their s/l/t/ll size suffixes. */
static const char *const x87_mn =
	" fld fild fst fstp fist fistp fisttp fadd faddp fiadd fsub fsubp fsubr fsubrp fisub"
	" fisubr fmul fmulp fimul fdiv fdivp fdivr fdivrp fidiv fidivr fcom fcomp fcompp"
	" fucom fucomp fucompp ficom ficomp fchs fabs ftst fxam fld1 fldz fldpi fldl2e fldl2t"
	" fldlg2 fldln2 f2xm1 fyl2x fptan fpatan fxtract fprem fprem1 fdecstp fincstp fyl2xp1"
	" fsqrt fsincos frndint fscale fsin fcos fcmovb fcmove fcmovbe fcmovu fcmovnb fcmovne"
	" fcmovnbe fcmovnu fxch ffree fnop fninit fnclex fldcw fnstcw fnstenv fldenv fnsave"
	" frstor fwait fbld fbstp fnstsw ";

static const char *const sse_fp_ops[] = { "sqrt", "add", "mul", "sub", "min", "div", "max" };
static const char *const cmp_preds[] = { "eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord" };

struct cinsn {
	u8 bytes[15];
	u8 len;
	u8 fx, op, size;
	s16 count;		/* shifts: the count, -1 when in CL */
	u16 mention;		/* registers named or used implicitly */
	u16 written;		/* registers it may write */
	u16 addr;		/* registers used to form addresses */
	u16 dest;		/* BSF/BSR destination */
	u16 implicit;		/* registers used without being named */
	bool x87, stsw, str, mem, seg_fs, seg_gs;
	s8 jcc_at;		/* Jcc: offset of its displacement (rel8/rel32), else -1 */
	u8 jcc_len;
	s8 base, index;		/* -1 none; 16 = RIP */
	u8 scale;
	s64 disp;
	s8 disp_at;		/* offset of a displacement to rewrite, -1 none */
	u8 disp_len;
	u32 run;
	char mn[16];
};

struct corpus {
	struct cinsn *in;
	unsigned int n, cap;
	bool fsgs;
};

/* ---------------------------------------------------------------------- */
/* Parsing                                                                */
/* ---------------------------------------------------------------------- */

static bool in_list(const char *list, const char *word)
{
	char buf[24];

	if (strlen(word) > 20)
		return false;
	snprintf(buf, sizeof(buf), " %s ", word);
	return strstr(list, buf) != NULL;
}

static bool is_sse(const char *m)
{
	char base[24];
	size_t n = strlen(m);

	if (in_list(sse_mn, m))
		return true;
	/* The arithmetic families and the CMPcc pseudo-mnemonics. */
	for (unsigned int k = 0; k < 4; k++) {
		static const char *const suf[] = { "ps", "pd", "ss", "sd" };

		if (n < 3 || strcmp(m + n - 2, suf[k]))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - 2), m);
		for (unsigned int i = 0; i < ARRAY_SIZE(sse_fp_ops); i++)
			if (!strcmp(base, sse_fp_ops[i]))
				return true;
		if (!strncmp(base, "cmp", 3)) {
			if (!base[3])
				return true;
			for (unsigned int i = 0; i < ARRAY_SIZE(cmp_preds); i++)
				if (!strcmp(base + 3, cmp_preds[i]))
					return true;
		}
	}
	return false;
}

static bool is_x87(const char *m)
{
	static const char *const suf[] = { "ll", "s", "l", "t", "" };
	char base[24];

	if (m[0] != 'f')
		return false;
	for (unsigned int i = 0; i < ARRAY_SIZE(suf); i++) {
		size_t n = strlen(m), k = strlen(suf[i]);

		if (n <= k || strcmp(m + n - k, suf[i]))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), m);
		if (in_list(x87_mn, base))
			return true;
	}
	return false;
}

static const char *const cc_names[] = {
	"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
	"c", "nae", "nb", "nc", "z", "nz", "na", "nbe", "pe", "po", "nge", "nl", "ng", "nle",
};

static bool is_cc(const char *s)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cc_names); i++)
		if (!strcmp(s, cc_names[i]))
			return true;
	return false;
}

/* Looks a mnemonic up; false when it is not in the corpus's subset. */
static bool classify(const char *m, struct cinsn *ci)
{
	size_t n = strlen(m);

	for (unsigned int i = 0; i < ARRAY_SIZE(exact_mn); i++)
		if (!strcmp(m, exact_mn[i].name)) {
			ci->fx = exact_mn[i].fx;
			ci->mention |= exact_mn[i].implicit;
			ci->implicit = exact_mn[i].implicit;
			return true;
		}
	for (int pass = 0; pass < 2; pass++) {
		char base[24];

		if (pass == 1) {
			if (n < 2 || !strchr("bwlq", m[n - 1]))
				break;
			snprintf(base, sizeof(base), "%.*s", (int)(n - 1), m);
		} else {
			snprintf(base, sizeof(base), "%s", m);
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(int_mn); i++)
			if (!strcmp(base, int_mn[i].name)) {
				ci->fx = int_mn[i].fx;
				ci->op = int_mn[i].op;
				ci->mention |= int_mn[i].implicit;
				ci->implicit = int_mn[i].implicit;
				ci->str = !strcmp(base, "stos") || !strcmp(base, "lods") ||
					  !strcmp(base, "movs") || !strcmp(base, "cmps") ||
					  !strcmp(base, "scas");
				return true;
			}
	}
	if (m[0] == 'j' && is_cc(m + 1)) {
		/* Jcc: kept, its target redirected to the end of the window. */
		ci->fx = F_READ;
		ci->jcc_len = 1;
		return true;
	}
	if (!strncmp(m, "set", 3) && is_cc(m + 3)) {
		ci->fx = F_READ;
		return true;
	}
	if (!strncmp(m, "cmov", 4)) {
		char cc[8];

		/* cmovXX, or cmovXXw/l/q as objdump spells some memory forms. */
		if (is_cc(m + 4))
			goto cmov;
		snprintf(cc, sizeof(cc), "%.*s", (int)(n > 5 ? n - 5 : 0), m + 4);
		if (n > 5 && strchr("wlq", m[n - 1]) && is_cc(cc))
			goto cmov;
		return false;
	}
	if (is_sse(m))
		return true;
	if (is_x87(m)) {
		ci->x87 = true;
		ci->stsw = !strncmp(m, "fnstsw", 6);
		if (!strncmp(m, "fcmov", 5))
			ci->fx = F_READ;
		if (!strncmp(m, "fcomi", 5) || !strncmp(m, "fucomi", 6))
			ci->fx = F_DEF6;
		return true;
	}
	return false;
cmov:
	ci->fx = F_READ;
	return true;
}

/* A general register's number and size from its AT&T name, or -1. */
static int gpr_of(const char *r, u8 *size)
{
	static const char *const n64[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" };
	static const char *const n32[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	static const char *const n16[] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di" };
	static const char *const n8[] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil" };
	static const char *const n8h[] = { "ah", "ch", "dh", "bh" };

	for (int i = 0; i < 8; i++) {
		if (!strcmp(r, n64[i])) { *size = 8; return i; }
		if (!strcmp(r, n32[i])) { *size = 4; return i; }
		if (!strcmp(r, n16[i])) { *size = 2; return i; }
		if (!strcmp(r, n8[i])) { *size = 1; return i; }
		if (i < 4 && !strcmp(r, n8h[i])) { *size = 1; return i; }
	}
	if (r[0] == 'r' && isdigit((unsigned char)r[1])) {
		char *end;
		long k = strtol(r + 1, &end, 10);

		if (k < 8 || k > 15)
			return -1;
		*size = !*end ? 8 : !strcmp(end, "d") ? 4 : !strcmp(end, "w") ? 2 : !strcmp(end, "b") ? 1 : 0;
		return *size ? (int)k : -1;
	}
	return -1;
}

static s64 parse_num(const char *s, const char **end)
{
	bool neg = *s == '-';
	s64 v;

	if (neg)
		s++;
	v = (s64)strtoull(s, (char **)end, 0);
	return neg ? -v : v;
}

/* "disp(base,index,scale)" with an optional "%fs:"; false if malformed. */
static bool parse_mem(const char *op, struct cinsn *ci)
{
	const char *p = op, *end;
	u8 size;

	if (*p == '*')
		return false;
	if (!strncmp(p, "%fs:", 4) || !strncmp(p, "%gs:", 4)) {
		ci->seg_fs = p[1] == 'f';
		ci->seg_gs = p[1] == 'g';
		p += 4;
	} else if (p[0] == '%' && p[3] == ':') {
		p += 4;	/* %ds: %es: ... (string operands, or ignored overrides) */
	}
	ci->mem = true;
	ci->base = ci->index = -1;
	ci->scale = 0;
	ci->disp = 0;
	if (*p != '(') {
		ci->disp = parse_num(p, &end);
		if (end == p)
			return false;
		p = end;
	}
	if (!*p)
		return true;	/* absolute */
	if (*p != '(')
		return false;
	p++;
	if (*p == '%') {
		char reg[8];
		int k = 0;

		p++;
		while (isalnum((unsigned char)*p) && k < 7)
			reg[k++] = *p++;
		reg[k] = 0;
		if (!strcmp(reg, "rip") || !strcmp(reg, "eip")) {
			ci->base = 16;
		} else {
			ci->base = (s8)gpr_of(reg, &size);
			if (ci->base < 0)
				return false;
		}
	}
	if (*p == ',') {
		char reg[8];
		int k = 0;

		p++;
		if (*p == '%') {
			p++;
			while (isalnum((unsigned char)*p) && k < 7)
				reg[k++] = *p++;
			reg[k] = 0;
			ci->index = (s8)gpr_of(reg, &size);
			if (ci->index < 0)
				return false;
		}
		if (*p == ',') {
			long s = strtol(p + 1, (char **)&end, 0);

			ci->scale = (u8)(s == 8 ? 3 : s == 4 ? 2 : s == 2 ? 1 : 0);
			p = end;
		}
	}
	return *p == ')';
}

/* Finds where disp (len bytes) sits in the encoding, for rewriting: must be one place. */
static bool find_disp(struct cinsn *ci, unsigned int len)
{
	int found = -1;
	u8 pat[8];

	for (unsigned int i = 0; i < len; i++)
		pat[i] = (u8)((u64)ci->disp >> (8 * i));
	for (int p = 1; p + (int)len <= ci->len; p++)
		if (!memcmp(ci->bytes + p, pat, len)) {
			if (found >= 0)
				return false;
			found = p;
		}
	ci->disp_at = (s8)found;
	ci->disp_len = (u8)len;
	return found >= 0;
}

/* The registers an instruction uses without naming them (table above). */
static u16 implicit_of(const struct cinsn *ci)
{
	return ci->implicit;
}

/* False for the instructions that only read their last operand. */
static bool writes_dest(const char *m)
{
	static const char *const ro[] = { "cmp", "test", "push", "comis", "ucomis" };

	for (unsigned int i = 0; i < ARRAY_SIZE(ro); i++)
		if (!strncmp(m, ro[i], strlen(ro[i])))
			return false;
	return strcmp(m, "bt") && strcmp(m, "btw") && strcmp(m, "btl") && strcmp(m, "btq");
}

/* Splits operands at top-level commas; returns the count. */
static int split_ops(char *s, char **ops, int max)
{
	int n = 0, depth = 0;

	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	ops[n++] = s;
	for (; *s; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')')
			depth--;
		else if (*s == ',' && !depth) {
			*s = 0;
			if (n < max)
				ops[n++] = s + 1;
		} else if (*s == ' ' || *s == '#' || *s == '<') {
			*s = 0;
			break;
		}
	}
	return n;
}

static bool parse_line(char *line, struct cinsn *ci, u64 *addr)
{
	char *f1 = strchr(line, '\t'), *f2, *text, *word, *ops[4];
	static const char *const prefixes[] = { "rep", "repz", "repnz", "repe", "repne", "lock",
						"data16", "cs", "ds", "es", "ss", "rex", "rex.W" };
	int nops;

	if (!f1)
		return false;
	*f1++ = 0;
	*addr = strtoull(line, NULL, 16);
	f2 = strchr(f1, '\t');
	if (!f2)
		return false;
	*f2++ = 0;
	memset(ci, 0, sizeof(*ci));
	for (char *p = f1; *p;) {
		while (*p == ' ')
			p++;
		if (!isxdigit((unsigned char)*p))
			break;
		if (ci->len >= 15)
			return false;
		ci->bytes[ci->len++] = (u8)strtoul(p, &p, 16);
	}
	if (!ci->len)
		return false;
	text = f2;
	/* Prefix words, then the mnemonic. */
	for (;;) {
		bool prefix = false;

		word = text;
		while (*text && *text != ' ')
			text++;
		if (*text)
			*text++ = 0;
		for (unsigned int i = 0; i < ARRAY_SIZE(prefixes); i++)
			prefix |= !strcmp(word, prefixes[i]);
		if (!prefix)
			break;
		if (!*text)
			return false;
	}
	if (strlen(word) >= sizeof(ci->mn) || !classify(word, ci))
		return false;
	ci->jcc_at = -1;
	if (ci->jcc_len) {
		const u8 *b = ci->bytes;
		unsigned int n = ci->len;

		if (n >= 2 && (b[n - 2] & 0xf0) == 0x70) {
			ci->jcc_at = (s8)(n - 1);
			ci->jcc_len = 1;
		} else if (n >= 6 && b[n - 6] == 0x0f && (b[n - 5] & 0xf0) == 0x80) {
			ci->jcc_at = (s8)(n - 4);
			ci->jcc_len = 4;
		} else {
			return false;
		}
		snprintf(ci->mn, sizeof(ci->mn), "%s", word);
		return true;
	}
	snprintf(ci->mn, sizeof(ci->mn), "%s", word);
	if (strstr(text, "%mm") || strstr(text, "%ymm") || strstr(text, "%zmm") || strstr(text, "%k"))
		return false;
	nops = split_ops(text, ops, 4);
	ci->size = 8;
	ci->count = 1;
	ci->disp_at = -1;
	ci->base = ci->index = -1;
	for (int i = 0; i < nops; i++) {
		char *o = ops[i];
		u8 size;
		int r;

		if (o[0] == '%' && o[3] != ':') {
			/* Segment registers as operands read the host's GDT state. */
			if (!strcmp(o, "%cs") || !strcmp(o, "%ds") || !strcmp(o, "%es") ||
			    !strcmp(o, "%fs") || !strcmp(o, "%gs") || !strcmp(o, "%ss"))
				return false;
			r = gpr_of(o + 1, &size);
			if (r >= 0) {
				ci->mention |= (u16)(1u << r);
				if (i == nops - 1)
					ci->size = size;
			}
			if (!strcmp(o, "%cl") && i == 0 && nops == 2)
				ci->count = -1;
			continue;
		}
		if (o[0] == '$') {
			if (i == 0)
				ci->count = (s16)(parse_num(o + 1, NULL) & 0xff);
			continue;
		}
		if (ci->mem && !ci->str)
			return false;	/* two memory operands: only string instructions */
		if (!parse_mem(o, ci))
			return false;
		if (ci->base >= 0 && ci->base < 16)
			ci->addr |= (u16)(1u << ci->base);
		if (ci->index >= 0)
			ci->addr |= (u16)(1u << ci->index);
		if (i == nops - 1) {
			/* A memory destination: the size from the suffix. */
			char last = ci->mn[strlen(ci->mn) - 1];

			ci->size = last == 'b' ? 1 : last == 'w' ? 2 : last == 'l' ? 4 : 8;
		}
	}
	if (ci->str)
		ci->addr |= RSI | RDI;
	ci->written = ci->mention & implicit_of(ci);
	if (nops && ops[nops - 1][0] == '%' && writes_dest(ci->mn)) {
		u8 size;
		int r = gpr_of(ops[nops - 1] + 1, &size);

		if (r >= 0)
			ci->written |= (u16)(1u << r);
	}
	if (!strncmp(ci->mn, "xchg", 4) || !strncmp(ci->mn, "xadd", 4) || !strncmp(ci->mn, "cmpxchg", 7))
		ci->written |= ci->mention;
	/*
	 * The last operand is RSP: only ADD/SUB/AND with an immediate keep it
	 * in the stack page, and PUSH/POP move it themselves.
	 */
	if ((ci->mention & (1u << GPR_RSP)) && nops >= 1 && !strncmp(ops[nops - 1], "%rsp", 4)) {
		if (!(nops == 2 && ops[0][0] == '$' &&
		      (!strncmp(ci->mn, "add", 3) || !strncmp(ci->mn, "sub", 3) ||
		       !strncmp(ci->mn, "and", 3))))
			return false;
	}
	if (nops == 1 && ci->fx >= F_SHIFT && ci->fx <= F_RCX)
		ci->count = 1;
	if (ci->mem && (ci->base == 16 || (ci->base < 0 && ci->index < 0 && !ci->seg_fs && !ci->seg_gs))) {
		/* RIP-relative or absolute: rewritten later. */
		unsigned int len = 4;

		if (!strcmp(ci->mn, "movabs"))
			len = 8;
		if (!find_disp(ci, len))
			return false;
	}
	if (ci->fx == F_BSCAN && nops == 2) {
		u8 size;
		int r = gpr_of(ops[1] + 1, &size);

		if (r >= 0)
			ci->dest = (u16)(1u << r);
	}
	return true;
}

struct corpus *corpus_load(const char *path, bool fsgs)
{
	FILE *f = fopen(path, "r");
	struct corpus *c;
	char line[512];
	u64 next = 0, addr;
	u32 run = 0;

	if (!f) {
		perror(path);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->fsgs = fsgs;
	while (fgets(line, sizeof(line), f)) {
		struct cinsn ci;

		line[strcspn(line, "\n")] = 0;
		if (!parse_line(line, &ci, &addr)) {
			run++;	/* anything not kept ends a run */
			continue;
		}
		if ((ci.seg_fs || ci.seg_gs) && !fsgs) {
			run++;
			continue;
		}
		if (addr != next)
			run++;
		next = addr + ci.len;
		ci.run = run;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 65536;
			c->in = realloc(c->in, c->cap * sizeof(*c->in));
			if (!c->in)
				abort();
		}
		c->in[c->n++] = ci;
	}
	fclose(f);
	if (!c->n) {
		fprintf(stderr, "difftest: %s: no usable instructions (not objdump -d output?)\n", path);
		free(c);
		return NULL;
	}
	return c;
}

void corpus_free(struct corpus *c)
{
	if (c)
		free(c->in);
	free(c);
}

unsigned int corpus_size(const struct corpus *c, unsigned int *runs)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		n += !i || c->in[i].run != c->in[i - 1].run;
	*runs = n;
	return c->n;
}

/* ---------------------------------------------------------------------- */
/* Sequences                                                              */
/* ---------------------------------------------------------------------- */

/* RFLAGS effects of one corpus instruction. */
static void flags_of(const struct cinsn *ci, struct fx *f)
{
	switch (ci->fx) {
	case F_ARITH: f->fdef = RF_ARITH; break;
	case F_ADC: f->fdef = RF_ARITH; f->frd = RF_CF; break;
	case F_LOGIC: f->fdef = RF_ARITH & ~RF_AF; f->fundef = RF_AF; break;
	case F_INCDEC: f->fdef = RF_ARITH & ~RF_CF; break;
	case F_SHIFT: case F_ROT: case F_RCX:
		fx_shift(f, ci->op, ci->size, ci->count);
		break;
	case F_SHXD:
		/* Counts past 16 leave a 16-bit result undefined: not kept below. */
		f->fdef = RF_CF | RF_SF | RF_ZF | RF_PF;
		f->fundef = RF_OF | RF_AF;
		f->frd = RF_ARITH;
		break;
	case F_MUL: f->fdef = RF_CF | RF_OF; f->fundef = RF_SF | RF_ZF | RF_AF | RF_PF; break;
	case F_DIV: f->fundef = RF_ARITH; break;
	case F_BT: f->fdef = RF_CF; f->fundef = RF_OF | RF_SF | RF_AF | RF_PF; break;
	case F_BSCAN: f->fdef = RF_ZF; f->fundef = RF_ARITH & ~RF_ZF; break;
	case F_DEF6: f->fdef = RF_ARITH; break;
	case F_READ: f->frd = RF_ARITH; break;
	case F_CF: f->fdef = RF_CF; break;
	case F_CMC: f->fdef = RF_CF; f->frd = RF_CF; break;
	case F_LAHF: f->frd = RF_ARITH & ~RF_OF; break;
	case F_SAHF: f->fdef = RF_ARITH & ~RF_OF; break;
	case F_STRCMP: f->fdef = RF_ARITH; f->frd = RF_ARITH; break;
	}
}

int corpus_sequence(struct corpus *c, struct dt_seq *seq, u64 seed, const u64 *keep,
		    unsigned int *ninsns)
{
	struct rng r;
	unsigned int start, len, n = 0;
	const struct cinsn *win[WINDOW_MAX];
	struct dt_taint t = { 0 }, exit_t;
	struct { unsigned int at, end; u8 len; } jcc[WINDOW_MAX];
	unsigned int njcc = 0;
	u16 named = 0, set = 0, undef_regs = 0;
	bool any_x87 = false;
	u64 *gpr = seq->init.gpr;

	rng_seed(&r, rng_derive(seed, 0));
	start = rng_below(&r, c->n);
	len = (unsigned int)rng_range(&r, 1, WINDOW_MAX);
	/* Half the time from the start of its run: longer windows. */
	if (rng_chance(&r, 1, 2))
		while (start > 0 && c->in[start - 1].run == c->in[start].run)
			start--;
	memset(seq, 0, offsetof(struct dt_seq, init));
	seq->seed = seed;
	seq->origin = "corpus";
	dt_random_state(seq, &r, c->fsgs);

	/* The window, cut where the rules in the file comment say. */
	for (unsigned int i = start; i < c->n && n < len; i++) {
		const struct cinsn *ci = &c->in[i];
		struct fx f = { 0 };

		if (ci->run != c->in[start].run)
			break;
		if (ci->addr & named & ~(1u << GPR_RSP))
			break;	/* an address register may have changed */
		if ((ci->mention | ci->addr) & undef_regs)
			break;
		flags_of(ci, &f);
		if (f.frd & t.flags)
			break;
		if (ci->stsw && any_x87)
			break;	/* the condition codes may be undefined by now */
		if (ci->fx == F_SHXD && ci->size == 2)
			break;
		win[n++] = ci;
		named |= ci->written;
		t.flags = (t.flags & ~(f.fdef | f.fundef)) | f.fundef;
		any_x87 |= ci->x87;
		if (ci->fx == F_BSCAN) {
			undef_regs |= ci->dest;	/* undefined for a zero source */
			break;
		}
	}
	if (!n)
		return -1;
	if (ninsns)
		*ninsns = n;

	/* Registers that form addresses, then the addresses themselves. */
	for (unsigned int i = 0; i < n; i++) {
		const struct cinsn *ci = win[i];

		if (ci->index >= 0 && !(set & (1u << ci->index))) {
			gpr[ci->index] = (u64)rng_range(&r, 0, 7);
			set |= (u16)(1u << ci->index);
		}
		if (ci->str) {
			for (int k = 0; k < 2; k++) {
				int reg = k ? GPR_RDI : GPR_RSI;

				if (!(set & (1u << reg)))
					gpr[reg] = DT_DATA_BASE + 256 + rng_below(&r, 0x2000 - 512);
				set |= (u16)(1u << reg);
			}
			if (!(set & RCX))
				gpr[GPR_RCX] = rng_below(&r, 17);
			set |= RCX;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct cinsn *ci = win[i];
		u64 target = DT_DATA_BASE + rng_below(&r, 0x2000 - 64), idx = 0;

		if (rng_chance(&r, 7, 8))
			target &= ~15ULL;
		if (!ci->mem || ci->str || ci->base == GPR_RSP || ci->base == 16 ||
		    (ci->base < 0 && ci->index < 0))
			continue;
		if (ci->index >= 0)
			idx = gpr[ci->index] << ci->scale;
		if (ci->seg_fs)
			target -= seq->init.fs_base;
		if (ci->seg_gs)
			target -= seq->init.gs_base;
		if (ci->base >= 0 && !(set & (1u << ci->base))) {
			gpr[ci->base] = target - (u64)ci->disp - idx;
			set |= (u16)(1u << ci->base);
		}
	}

	/*
	 * The code, with RIP-relative and absolute operands redirected, and
	 * what is undefined before each instruction. Shrinking (keep) may drop
	 * the instruction that defined a flag a later one reads: not a valid
	 * sequence then.
	 */
	memset(&t, 0, sizeof(t));
	memset(&exit_t, 0, sizeof(exit_t));
	any_x87 = false;
	for (unsigned int i = 0; i < n; i++) {
		const struct cinsn *ci = win[i];
		struct dt_insn *in;
		struct fx f = { 0 };
		u64 target = DT_DATA_BASE + (rng_below(&r, 0x2000 - 64) & ~15u);

		if (keep && !(keep[i / 64] >> (i % 64) & 1))
			continue;
		flags_of(ci, &f);
		if (f.frd & t.flags)
			return -1;
		in = &seq->insn[seq->n++];
		in->off = (u16)seq->len;
		in->len = ci->len;
		in->tmpl = DT_TMPL_CORPUS;
		in->group = (u16)i;
		in->pre = t;
		memcpy(seq->code + seq->len, ci->bytes, ci->len);
		if (ci->disp_at >= 0) {
			u64 v = target;

			if (ci->base == 16)
				v = target - (DT_CODE_BASE + seq->len + ci->len);
			for (unsigned int k = 0; k < ci->disp_len; k++)
				seq->code[seq->len + ci->disp_at + k] = (u8)(v >> (8 * k));
		}
		if (ci->jcc_at >= 0) {
			/* Taken: to the end of the window, with the state as it is here. */
			jcc[njcc].at = seq->len + (unsigned int)ci->jcc_at;
			jcc[njcc].len = ci->jcc_len;
			jcc[njcc++].end = seq->len + ci->len;
			exit_t.gpr |= t.gpr;
			exit_t.flags |= t.flags;
			exit_t.fsw |= t.fsw;
		}
		seq->len += ci->len;
		snprintf(seq->note + strlen(seq->note), sizeof(seq->note) - strlen(seq->note), "%s%s",
			 seq->n > 1 ? "; " : "", ci->mn);
		t.flags = (t.flags & ~(f.fdef | f.fundef)) | f.fundef;
		t.gpr |= ci->fx == F_BSCAN ? ci->dest : 0;
		/* Which condition codes each x87 instruction leaves undefined: see tmpl_x87.c. */
		if (ci->x87)
			t.fsw = FSW_CC;
	}
	if (!seq->n)
		return -1;
	for (unsigned int k = 0; k < njcc; k++) {
		s64 d = (s64)seq->len - jcc[k].end;

		if (jcc[k].len == 1 && d > 127)
			return -1;
		for (unsigned int b = 0; b < jcc[k].len; b++)
			seq->code[jcc[k].at + b] = (u8)((u64)d >> (8 * b));
	}
	seq->end = t;
	seq->end.gpr |= exit_t.gpr;
	seq->end.flags |= exit_t.flags;
	seq->end.fsw |= exit_t.fsw;
	dt_seal(seq);
	return 0;
}

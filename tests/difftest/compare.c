// SPDX-License-Identifier: Apache-2.0
/*
 * Comparing a native outcome with a soft one: registers, RIP, RFLAGS, XMM,
 * MXCSR, the x87 state, the data pages, and the exception (vector, error
 * code, CR2). What the SDM leaves undefined at the point where the run
 * stopped is masked (struct dt_taint of that instruction); so are a few
 * things that are the host's, not the CPU's - each says why below.
 */
#include "compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const gpr_names[NR_GPRS] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Linux: user accesses to addresses at or above TASK_SIZE_MAX report P=1. */
#define TASK_SIZE_MAX 0x7ffffffff000ULL

static void say(struct dt_diff *d, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(d->text);

	if (used + 1 >= sizeof(d->text))
		return;
	va_start(ap, fmt);
	vsnprintf(d->text + used, sizeof(d->text) - used, fmt, ap);
	va_end(ap);
}

static bool has_error_code(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

const struct dt_taint *dt_taint_at(const struct dt_seq *seq, u64 rip, struct dt_taint *all)
{
	u64 off = rip - DT_CODE_BASE;

	for (unsigned int i = 0; i < seq->n; i++)
		if (seq->insn[i].off == off)
			return &seq->insn[i].pre;
	if (off == seq->len || rip == native_exit_address())
		return &seq->end;
	/* Not an instruction boundary the generator made: everything it knows of. */
	*all = seq->end;
	for (unsigned int i = 0; i < seq->n; i++) {
		all->gpr |= seq->insn[i].pre.gpr;
		all->xmm |= seq->insn[i].pre.xmm;
		all->flags |= seq->insn[i].pre.flags;
		all->fsw |= seq->insn[i].pre.fsw;
	}
	return all;
}

static void x87_reg_text(const u8 *b, char *out, size_t n)
{
	u64 mant;
	u16 se;

	memcpy(&mant, b, 8);
	memcpy(&se, b + 8, 2);
	snprintf(out, n, "%04x:%016llx", se, (unsigned long long)mant);
}

bool dt_compare(const struct dt_seq *seq, const struct dt_outcome *nat,
		const struct dt_outcome *soft, struct dt_diff *d)
{
	const struct dt_regs *a = &nat->regs, *b = &soft->regs;
	struct dt_taint all;
	const struct dt_taint *t = dt_taint_at(seq, a->rip, &all);
	u64 fmask;

	d->text[0] = 0;
	d->kinds = 0;
	if (soft->error) {
		d->kinds |= D_SOFTERR;
		say(d, "  soft side: %s\n", soft->error);
	}
	if (nat->vector != soft->vector) {
		d->kinds |= D_VECTOR;
		say(d, "  exception: native %d, soft %d\n", nat->vector, soft->vector);
	} else if (nat->vector >= 0 && has_error_code(nat->vector)) {
		u32 emask = ~0u;

		/* The host kernel sets P for addresses it keeps for itself. */
		if (nat->vector == 14 && nat->cr2 >= TASK_SIZE_MAX)
			emask &= ~1u;
		if ((nat->error_code ^ soft->error_code) & emask) {
			d->kinds |= D_ERRCODE;
			say(d, "  error code: native %#x, soft %#x\n", nat->error_code, soft->error_code);
		}
		if (nat->vector == 14 && nat->cr2 != soft->cr2) {
			d->kinds |= D_CR2;
			say(d, "  cr2: native %#llx, soft %#llx\n", (unsigned long long)nat->cr2,
			    (unsigned long long)soft->cr2);
		}
	}
	if (a->rip != b->rip) {
		d->kinds |= D_RIP;
		say(d, "  rip: native %#llx, soft %#llx\n", (unsigned long long)a->rip,
		    (unsigned long long)b->rip);
	}
	for (int i = 0; i < NR_GPRS; i++) {
		if ((t->gpr & (1u << i)) || a->gpr[i] == b->gpr[i])
			continue;
		d->kinds |= D_GPR;
		say(d, "  %s: native %#llx, soft %#llx\n", gpr_names[i],
		    (unsigned long long)a->gpr[i], (unsigned long long)b->gpr[i]);
	}
	/*
	 * RF: the CPU sets it in the RFLAGS image it saves for a fault (SDM
	 * 17.3.1.1), which is what the kernel hands us; the soft CPU reports
	 * RFLAGS as they were before the faulting instruction.
	 */
	fmask = ~(u64)t->flags & ~RFLAGS_RF;
	if ((a->rflags ^ b->rflags) & fmask) {
		d->kinds |= D_FLAGS;
		say(d, "  rflags: native %#llx, soft %#llx (differ %#llx, undefined %#x)\n",
		    (unsigned long long)a->rflags, (unsigned long long)b->rflags,
		    (unsigned long long)((a->rflags ^ b->rflags) & fmask), t->flags);
	}
	for (int i = 0; i < 16; i++) {
		if ((t->xmm & (1u << i)) || !memcmp(&a->fx.xmm[i], &b->fx.xmm[i], 16))
			continue;
		d->kinds |= D_XMM;
		say(d, "  xmm%d: native %016llx%016llx, soft %016llx%016llx\n", i,
		    (unsigned long long)a->fx.xmm[i].q[1], (unsigned long long)a->fx.xmm[i].q[0],
		    (unsigned long long)b->fx.xmm[i].q[1], (unsigned long long)b->fx.xmm[i].q[0]);
	}
	if (a->fx.mxcsr != b->fx.mxcsr) {
		d->kinds |= D_MXCSR;
		say(d, "  mxcsr: native %#x, soft %#x\n", a->fx.mxcsr, b->fx.mxcsr);
	}
	if (a->fx.fcw != b->fx.fcw || ((a->fx.fsw ^ b->fx.fsw) & ~t->fsw) || a->fx.ftw != b->fx.ftw) {
		d->kinds |= D_X87;
		say(d, "  x87 fcw/fsw/ftw: native %04x/%04x/%02x, soft %04x/%04x/%02x (fsw undefined %04x)\n",
		    a->fx.fcw, a->fx.fsw, a->fx.ftw, b->fx.fcw, b->fx.fsw, b->fx.ftw, t->fsw);
	}
	/*
	 * FOP and FDP are not compared: hosts with CPUID.7:EBX[6]
	 * (FDP_EXCPTN_ONLY) update FDP, and without the FOP compatibility mode
	 * FOP, only for unmasked exceptions - a choice the SDM leaves to the
	 * CPU (vol. 1, 8.1.8 and 8.1.9). FIP is the same everywhere.
	 */
	if (a->fx.fip != b->fx.fip) {
		d->kinds |= D_X87;
		say(d, "  x87 fip: native %#llx, soft %#llx\n", (unsigned long long)a->fx.fip,
		    (unsigned long long)b->fx.fip);
	}
	for (int i = 0; i < 8; i++) {
		char x[32], y[32];

		if (!memcmp(a->fx.st[i].bytes, b->fx.st[i].bytes, 10))
			continue;
		d->kinds |= D_X87;
		x87_reg_text(a->fx.st[i].bytes, x, sizeof(x));
		x87_reg_text(b->fx.st[i].bytes, y, sizeof(y));
		say(d, "  st(%d): native %s, soft %s\n", i, x, y);
	}
	for (unsigned int off = 0; off < DT_DATA_SIZE; off++) {
		unsigned int end;

		if (!(off & 63) && !memcmp(nat->data + off, soft->data + off, 64)) {
			off += 63;
			continue;
		}
		if (nat->data[off] == soft->data[off])
			continue;
		end = off;
		while (end + 1 < DT_DATA_SIZE && end - off < 15 && nat->data[end + 1] != soft->data[end + 1])
			end++;
		d->kinds |= D_MEM;
		say(d, "  memory %#llx:", (unsigned long long)(DT_DATA_BASE + off));
		for (unsigned int i = off; i <= end; i++)
			say(d, " %02x", nat->data[i]);
		say(d, " (native) vs");
		for (unsigned int i = off; i <= end; i++)
			say(d, " %02x", soft->data[i]);
		say(d, " (soft)\n");
		off = end;
	}
	return d->kinds != 0;
}

void dt_kinds_text(unsigned int kinds, char *out, size_t n)
{
	static const char *const names[] = {
		"exception", "error-code", "cr2", "rip", "gpr", "rflags", "xmm", "mxcsr",
		"x87", "memory", "soft-error",
	};

	out[0] = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (kinds & (1u << i))
			snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "," : "", names[i]);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Mismatch reports: each mismatch, once shrunk, falls into a class (the
 * templates or mnemonics left in it, and what differed); the first of a
 * class is printed with a reproducer, and every class goes to the
 * findings file (markdown) with its count.
 */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

#define MAX_CLASSES 512

struct mclass {
	char key[256];
	u64 count;
	unsigned int modes;
	char *text;		/* the first one's reproducer */
};

struct report {
	const char *findings;
	const char *corpus_path;
	struct mclass cls[MAX_CLASSES];
	unsigned int n;
	u64 unclassified;
	u64 overflow;
};

struct report *report_new(const char *findings, const char *corpus_path)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	r->findings = findings;
	r->corpus_path = corpus_path;
	return r;
}

unsigned int report_classes(const struct report *r)
{
	return r->n;
}

void report_unclassified(struct report *r)
{
	r->unclassified++;
}

static const char *insn_name(const struct dt_seq *seq, unsigned int i)
{
	if (seq->insn[i].tmpl == DT_TMPL_CORPUS)
		return "corpus";
	return tmpl_get(seq->insn[i].tmpl)->name;
}

/* The class: the distinct template names (or corpus mnemonics), and kinds. */
static void class_key(const struct dt_seq *seq, const struct dt_diff *d, char *key, size_t n)
{
	char kinds[128];
	size_t len = 0;
	bool mode = false;

	key[0] = 0;
	if (!strcmp(seq->origin, "corpus")) {
		len = (size_t)snprintf(key, n, "corpus: %s", seq->note);
	} else {
		/* A template that changes how the rest runs is the class by itself. */

		for (unsigned int i = 0; i < seq->n && !mode; i++)
			if (seq->insn[i].tmpl != DT_TMPL_CORPUS &&
			    (tmpl_get(seq->insn[i].tmpl)->flags & T_MODE)) {
				len = (size_t)snprintf(key, n, "%s", insn_name(seq, i));
				mode = true;
			}
		for (unsigned int i = 0; i < seq->n && len < n && !mode; i++) {
			const char *name = insn_name(seq, i);

			/* One entry per template, not per prelude instruction. */
			if (i && seq->insn[i].group == seq->insn[i - 1].group &&
			    seq->insn[i].tmpl == seq->insn[i - 1].tmpl)
				continue;
			if (strstr(key, name))
				continue;
			len += (size_t)snprintf(key + len, n - len, "%s%s", len ? "+" : "", name);
		}
	}
	dt_kinds_text(d->kinds, kinds, sizeof(kinds));
	/* After an AC or TF change what differs depends on what follows: one class. */
	if (len < n && !mode)
		snprintf(key + len, n - len, " [%s]", kinds);
}

void report_sequence(FILE *f, const struct dt_seq *seq, const u64 *keep)
{
	const struct dt_regs *s = &seq->init;
	static const char *const gpr[NR_GPRS] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};

	fprintf(f, "sequence %#" PRIx64 " (%s)", seq->seed, seq->origin);
	if (keep)
		fprintf(f, ", keep %016" PRIx64 "%016" PRIx64, keep[1], keep[0]);
	fprintf(f, ": %u instructions, %u bytes at %#llx\n", seq->n, seq->len,
		(unsigned long long)DT_CODE_BASE);
	for (unsigned int i = 0; i < seq->n; i++) {
		const struct dt_insn *in = &seq->insn[i];
		char hex[3 * 16 + 1] = "";

		for (unsigned int k = 0; k < in->len && k < 16; k++)
			sprintf(hex + 3 * k, "%02x ", seq->code[in->off + k]);
		fprintf(f, "  +%03x  %-46s %s\n", in->off, hex, insn_name(seq, i));
	}
	if (seq->note[0])
		fprintf(f, "  (%s)\n", seq->note);
	fprintf(f, "initial state:\n");
	for (int i = 0; i < NR_GPRS; i++)
		fprintf(f, "  %-3s=%016llx%s", gpr[i], (unsigned long long)s->gpr[i], i % 4 == 3 ? "\n" : "");
	fprintf(f, "  rflags=%#llx mxcsr=%#x fcw=%#x fsw=%#x ftw=%#x fs_base=%#llx gs_base=%#llx\n",
		(unsigned long long)s->rflags, s->fx.mxcsr, s->fx.fcw, s->fx.fsw, s->fx.ftw,
		(unsigned long long)s->fs_base, (unsigned long long)s->gs_base);
	for (int i = 0; i < 16; i++)
		fprintf(f, "  xmm%-2d=%016llx%016llx%s", i, (unsigned long long)s->fx.xmm[i].q[1],
			(unsigned long long)s->fx.xmm[i].q[0], i % 2 ? "\n" : "");
	fprintf(f, "  data pages: regenerated from the seed\n");
}

void report_outcome(FILE *f, const char *who, const struct dt_outcome *o)
{
	if (o->vector < 0)
		fprintf(f, "%s: ran to the end\n", who);
	else
		fprintf(f, "%s: exception %d, error code %#x, cr2 %#llx, at rip %#llx\n", who, o->vector,
			o->error_code, (unsigned long long)o->cr2, (unsigned long long)o->regs.rip);
}

/* objdump's view of the bytes, when objdump is there. */
void report_disassembly(FILE *f, const struct dt_seq *seq)
{
	char path[] = "/tmp/difftest-XXXXXX", cmd[256], line[256];
	int fd = mkstemp(path);
	FILE *p;

	if (fd < 0)
		return;
	if (write(fd, seq->code, seq->len) != (ssize_t)seq->len) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "objdump -D -b binary -mi386:x86-64 --adjust-vma=%#llx %s 2>/dev/null | tail -n +8",
		 (unsigned long long)DT_CODE_BASE, path);
	p = popen(cmd, "r");
	if (p) {
		fprintf(f, "disassembly (objdump):\n");
		while (fgets(line, sizeof(line), p))
			fprintf(f, "  %s", line);
		pclose(p);
	}
	unlink(path);
}

const char *report_mode_name(unsigned int bit)
{
	switch (bit) {
	case RUN_SINGLE: return "one instruction per block";
	case RUN_BLOCK: return "multi-instruction blocks";
	case RUN_JIT: return "compiled blocks";
	case RUN_WARM: return "compiled blocks, warm rerun";
	case RUN_LINKED: return "compiled blocks, linked rerun";
	default: return "?";
	}
}

const char *report_modes_text(unsigned int modes)
{
	static const char *const names[] = { "single", "block", "jit", "jit-warm", "jit-linked" };
	static __thread char buf[64];
	size_t len = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (modes & (1u << i))
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "", names[i]);
	return buf;
}

static char *render(struct report *r, const struct dt_seq *seq, const u64 *keep, unsigned int modes,
		    const struct dt_outcome *nat, const struct dt_outcome *soft,
		    const struct dt_diff *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "mismatch in %s (soft below: %s)\n", report_modes_text(modes),
		report_mode_name(modes & -modes));
	fprintf(f, "reproduce: difftest --repro %#" PRIx64 " --keep %016" PRIx64 "%016" PRIx64 "%s%s%s\n",
		seq->seed, keep[1], keep[0], modes & RUN_SINGLE ? "" :
		modes & RUN_BLOCK ? " --mode block" : " --mode jit",
		strcmp(seq->origin, "corpus") ? "" : " --origin corpus --corpus ",
		strcmp(seq->origin, "corpus") ? "" : (r->corpus_path ? r->corpus_path : "FILE"));
	report_sequence(f, seq, keep);
	report_disassembly(f, seq);
	report_outcome(f, "native", nat);
	report_outcome(f, "soft", soft);
	fprintf(f, "differences (native vs soft):\n%s", d->text);
	fclose(f);
	return buf;
}

bool report_mismatch(struct report *r, const struct dt_seq *seq, const u64 *keep,
		     unsigned int modes, const struct dt_outcome *nat,
		     const struct dt_outcome *soft, const struct dt_diff *d, bool print)
{
	char key[256];
	struct mclass *c = NULL;

	class_key(seq, d, key, sizeof(key));
	for (unsigned int i = 0; i < r->n; i++)
		if (!strcmp(r->cls[i].key, key)) {
			c = &r->cls[i];
			break;
		}
	if (c) {
		c->count++;
		c->modes |= modes;
		return false;
	}
	if (r->n >= MAX_CLASSES) {
		r->overflow++;
		return false;
	}
	c = &r->cls[r->n++];
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->count = 1;
	c->modes = modes;
	c->text = render(r, seq, keep, modes, nat, soft, d);
	if (print && c->text)
		printf("difftest: MISMATCH %s\n%s\n", key, c->text);
	return true;
}

static int by_count(const void *a, const void *b)
{
	const struct mclass *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

void report_summary(struct report *r, FILE *out)
{
	FILE *f = NULL;

	qsort(r->cls, r->n, sizeof(r->cls[0]), by_count);
	for (unsigned int i = 0; i < r->n; i++)
		fprintf(out, "difftest: class %6" PRIu64 "x %s (%s)\n", r->cls[i].count, r->cls[i].key,
			report_modes_text(r->cls[i].modes));
	if (r->unclassified)
		fprintf(out, "difftest: %" PRIu64 " more mismatches not classified\n", r->unclassified);
	if (r->overflow)
		fprintf(out, "difftest: %" PRIu64 " mismatches in classes past the first %d\n",
			r->overflow, MAX_CLASSES);
	if (!r->findings)
		return;
	f = fopen(r->findings, "w");
	if (!f) {
		perror(r->findings);
		return;
	}
	fprintf(f, "# Differential test findings (soft CPU vs host)\n\n");
	fprintf(f, "Each class: the instructions left after shrinking, what differed, how many\n"
		   "mismatching sequences fell into it, and the first one in full.\n\n");
	for (unsigned int i = 0; i < r->n; i++) {
		fprintf(f, "## %s\n\n%" PRIu64 " sequence(s)\n\n```\n%s```\n\n", r->cls[i].key,
			r->cls[i].count, r->cls[i].text ? r->cls[i].text : "");
	}
	if (!r->n)
		fprintf(f, "No mismatches.\n");
	fclose(f);
}

void report_free(struct report *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		free(r->cls[i].text);
	free(r);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * difftest: runs instruction sequences natively and on the soft CPU and
 * compares them (see dt.h). Sequences come from the generator (gen.h) and,
 * with --corpus, from a disassembly of a real program (corpus.h).
 *
 *   difftest [--count N] [--seconds S] [--seed X] [--corpus FILE]
 *            [--only NAME] [--skip NAME] [--mode single|block|jit|all]
 *            [--findings FILE]
 *            [--repro SEED [--keep HEX] [--origin gen|corpus]] [--list]
 *
 * Exit status: 0 no mismatch, 1 mismatches, 2 the harness could not run.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"
#include "corpus.h"
#include "engine/soft/jit.h"
#include "gen.h"
#include "report.h"

#define MAX_CALLS_WORDS 2

/* What run_one() ran and found (report.h names the modes). */
#define RUN_ALL (RUN_SINGLE | RUN_BLOCK | RUN_JIT | RUN_WARM | RUN_LINKED)
#define RUN_HARNESS 0x100

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

/* The sequence being run, for a sanitizer's report when the soft CPU trips it. */
static const struct dt_seq *volatile current;

static void print_current(void)
{
	const struct dt_seq *seq = current;

	if (seq)
		fprintf(stderr, "difftest: the sanitizer stopped sequence %#" PRIx64 " (%s): "
			"difftest --repro %#" PRIx64 "%s\n", seq->seed, seq->origin, seq->seed,
			strcmp(seq->origin, "corpus") ? "" : " --origin corpus --corpus FILE");
}

struct opts {
	u64 count;
	double seconds;
	u64 seed;
	const char *corpus;
	unsigned int corpus_pct;
	const char *only, *skip;
	bool single, block, jit;
	const char *findings;
	unsigned int max_report;
	bool repro;
	u64 repro_seed;
	u64 keep[MAX_CALLS_WORDS];
	bool have_keep;
	bool repro_corpus;
	bool list;
	bool quiet;
};

struct stats {
	u64 seqs, gen, corpus;
	u64 mism_single, mism_block, mism_jit, mism_seqs;
	u64 warm_runs, linked_runs;
	u64 native_faults, harness_errors;
	u64 insns;
	u64 *tmpl_uses;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: difftest [options]\n"
		"  --count N          sequences to run (default 10000; 0 = until --seconds)\n"
		"  --seconds S        stop after S seconds\n"
		"  --seed X           master seed (default: 1)\n"
		"  --corpus FILE      objdump -d --insn-width=15 output of a program\n"
		"  --corpus-share P   percent of sequences from the corpus (default 20)\n"
		"  --only NAME        only templates whose name or group contains NAME\n"
		"  --skip NAME        no templates whose name or group contains NAME\n"
		"  --mode M           single (one instruction per block), block (multi-instruction\n"
		"                     blocks), jit (the same blocks compiled, run cold, warm, linked),\n"
		"                     a comma-separated list of them, or all (default)\n"
		"  --findings FILE    write mismatch classes with reproducers (markdown)\n"
		"  --max-report N     minimise and print at most N mismatches (default 10)\n"
		"  --repro SEED       run one sequence verbosely (with --keep HEX, --origin)\n"
		"  --list             list the templates\n"
		"  --quiet            only the summary\n");
}

/* "all", or a comma-separated list of single, block and jit ("both": the first two). */
static int parse_modes(const char *arg, struct opts *o)
{
	char buf[64], *save = NULL;

	if (!strcmp(arg, "all")) {
		o->single = o->block = o->jit = true;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	o->single = o->block = o->jit = false;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "single"))
			o->single = true;
		else if (!strcmp(t, "block"))
			o->block = true;
		else if (!strcmp(t, "jit"))
			o->jit = true;
		else if (!strcmp(t, "both"))
			o->single = o->block = true;
		else
			return -1;
	}
	return o->single || o->block || o->jit ? 0 : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "corpus-share", required_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'o' },
		{ "skip", required_argument, NULL, 'x' },
		{ "mode", required_argument, NULL, 'm' },
		{ "findings", required_argument, NULL, 'f' },
		{ "max-report", required_argument, NULL, 'r' },
		{ "repro", required_argument, NULL, 'R' },
		{ "keep", required_argument, NULL, 'k' },
		{ "origin", required_argument, NULL, 'O' },
		{ "list", no_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct opts){ .count = 10000, .seed = 1, .corpus_pct = 20, .single = true,
			    .block = true, .jit = true, .max_report = 10 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->count = strtoull(optarg, NULL, 0); break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'c': o->corpus = optarg; break;
		case 'C': o->corpus_pct = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'o': o->only = optarg; break;
		case 'x': o->skip = optarg; break;
		case 'f': o->findings = optarg; break;
		case 'r': o->max_report = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'R': o->repro = true; o->repro_seed = strtoull(optarg, NULL, 0); break;
		case 'k': {
			/* Up to 128 bits of hex, low word last. */
			size_t n = strlen(optarg);

			o->have_keep = true;
			o->keep[0] = strtoull(n > 16 ? optarg + n - 16 : optarg, NULL, 16);
			if (n > 16) {
				char hi[17] = { 0 };

				memcpy(hi, optarg, n - 16 < 16 ? n - 16 : 16);
				o->keep[1] = strtoull(hi, NULL, 16);
			}
			break;
		}
		case 'O': o->repro_corpus = !strcmp(optarg, "corpus"); break;
		case 'm':
			if (parse_modes(optarg, o)) {
				fprintf(stderr, "difftest: --mode %s: not single, block, jit, a list of "
					"them or all\n", optarg);
				return -1;
			}
			break;
		case 'l': o->list = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

struct runner {
	struct opts *o;
	struct gen_opts gopts;
	struct soft_side *single, *block, *jit;
	struct corpus *corpus;
	struct report *report;
	struct stats st;
};

/* Builds sequence number `seed` of its origin. */
static bool build(struct runner *r, struct dt_seq *seq, u64 seed, bool corpus, const u64 *keep,
		  unsigned int *ncalls)
{
	if (corpus)
		return corpus_sequence(r->corpus, seq, seed, keep, ncalls) == 0;
	gen_sequence(seq, seed, &r->gopts, keep, ncalls);
	return true;
}

/*
 * Runs seq natively and in the soft modes asked for; returns the modes
 * that mismatch (RUN_* bits; soft and d describe the first), or
 * RUN_HARNESS when the native side could not run it.
 */
static unsigned int run_one(struct runner *r, const struct dt_seq *seq, struct dt_outcome *nat,
			    struct dt_outcome *soft, struct dt_diff *d, unsigned int modes)
{
	static struct dt_outcome other;
	unsigned int bad = 0;
	struct dt_diff tmp;

	current = seq;
	native_run(seq, nat);
	if (nat->error)
		return RUN_HARNESS;
	/* The first mismatch fills soft and d; later ones only count. */
#define CHECK(bit) do {								\
		if (dt_compare(seq, nat, bad ? &other : soft, bad ? &tmp : d))	\
			bad |= (bit);						\
	} while (0)
	if ((modes & RUN_SINGLE) && r->single) {
		soft_side_run(r->single, seq, bad ? &other : soft);
		CHECK(RUN_SINGLE);
	}
	if ((modes & RUN_BLOCK) && r->block) {
		soft_side_run(r->block, seq, bad ? &other : soft);
		CHECK(RUN_BLOCK);
	}
	if ((modes & (RUN_JIT | RUN_WARM | RUN_LINKED)) && r->jit) {
		soft_side_run(r->jit, seq, bad ? &other : soft);
		if (modes & RUN_JIT)
			CHECK(RUN_JIT);
		/*
		 * The warm rerun's exits find their successors compiled and
		 * link to them; only the run after it takes those direct jumps
		 * (so the warm one runs, checked or not, before the linked one).
		 */
		if ((modes & (RUN_WARM | RUN_LINKED)) &&
		    soft_side_rerun(r->jit, seq, bad ? &other : soft)) {
			r->st.warm_runs++;
			if (modes & RUN_WARM)
				CHECK(RUN_WARM);
			if ((modes & RUN_LINKED) && soft_side_rerun(r->jit, seq, bad ? &other : soft)) {
				r->st.linked_runs++;
				CHECK(RUN_LINKED);
			}
		}
	}
#undef CHECK
	return bad;
}

/* Drops template calls (or corpus instructions) while the mismatch stays. */
static void shrink(struct runner *r, struct dt_seq *seq, u64 seed, bool corpus,
		   unsigned int modes, u64 *keep)
{
	static struct dt_outcome nat, soft;
	struct dt_diff d;
	unsigned int ncalls = 0;

	memset(keep, 0xff, MAX_CALLS_WORDS * sizeof(u64));
	build(r, seq, seed, corpus, NULL, &ncalls);
	if (ncalls > 64 * MAX_CALLS_WORDS)
		ncalls = 64 * MAX_CALLS_WORDS;
	/*
	 * Runs of calls first (a branch and what it jumps over go together),
	 * longest first, then single calls.
	 */
	for (unsigned int len = ncalls / 2; len >= 1; len = len > 2 ? len / 2 : len - 1) {
		for (unsigned int i = 0; i + len <= ncalls; i++) {
			u64 saved[MAX_CALLS_WORDS];

			memcpy(saved, keep, sizeof(saved));
			for (unsigned int k = i; k < i + len; k++)
				keep[k / 64] &= ~(1ULL << (k % 64));
			if (!memcmp(saved, keep, sizeof(saved)))
				continue;
			if (!build(r, seq, seed, corpus, keep, NULL) ||
			    !(run_one(r, seq, &nat, &soft, &d, modes) & modes))
				memcpy(keep, saved, sizeof(saved));
		}
	}
	if (ncalls < 64 * MAX_CALLS_WORDS) {
		for (unsigned int i = ncalls; i < 64 * MAX_CALLS_WORDS; i++)
			keep[i / 64] &= ~(1ULL << (i % 64));
	}
	build(r, seq, seed, corpus, keep, NULL);
}

/* Mismatches shrunk and classified; past this they are only counted. */
#define MAX_SHRINK 2000

static void on_mismatch(struct runner *r, struct dt_seq *seq, u64 seed, bool corpus,
			unsigned int modes)
{
	static struct dt_outcome nat, soft;
	static unsigned int shrunk;
	struct dt_diff d;
	u64 keep[MAX_CALLS_WORDS];
	unsigned int bad;

	if (shrunk >= MAX_SHRINK) {
		report_unclassified(r->report);
		return;
	}
	shrunk++;
	shrink(r, seq, seed, corpus, modes, keep);
	bad = run_one(r, seq, &nat, &soft, &d, modes);
	if (!(bad & modes)) {
		/* Shrinking lost it (it depends on more than one call): the original. */
		build(r, seq, seed, corpus, NULL, NULL);
		memset(keep, 0xff, sizeof(keep));
		bad = run_one(r, seq, &nat, &soft, &d, modes);
	}
	report_mismatch(r->report, seq, keep, bad & RUN_ALL, &nat, &soft, &d,
			!r->o->quiet && report_classes(r->report) < r->o->max_report);
}

/* The templates --only and --skip leave. */
static bool selected(const struct tmpl *t, const struct opts *o)
{
	if (o->only && !strstr(t->name, o->only) && !strstr(t->group, o->only))
		return false;
	return !o->skip || (!strstr(t->name, o->skip) && !strstr(t->group, o->skip));
}

/* The RUN_* modes the options ask for. */
static unsigned int modes_asked(const struct opts *o)
{
	return (o->single ? RUN_SINGLE : 0) | (o->block ? RUN_BLOCK : 0) |
	       (o->jit ? RUN_JIT | RUN_WARM | RUN_LINKED : 0);
}

static int repro(struct runner *r)
{
	static struct dt_seq seq;
	static struct dt_outcome nat, soft;
	struct dt_diff d;
	unsigned int bad;

	if (!build(r, &seq, r->o->repro_seed, r->o->repro_corpus, r->o->have_keep ? r->o->keep : NULL,
		   NULL)) {
		fprintf(stderr, "difftest: no such corpus sequence\n");
		return 2;
	}
	bad = run_one(r, &seq, &nat, &soft, &d, modes_asked(r->o));
	report_sequence(stdout, &seq, r->o->have_keep ? r->o->keep : NULL);
	fflush(stdout);
	report_disassembly(stdout, &seq);
	report_outcome(stdout, "native", &nat);
	if (bad == RUN_HARNESS) {
		printf("native side failed: %s\n", nat.error);
		return 2;
	}
	if (!bad) {
		report_outcome(stdout, "soft", &soft);
		printf("no mismatch\n");
		return 0;
	}
	/* soft and d are the first mode's that mismatched. */
	report_outcome(stdout, report_mode_name(bad & -bad), &soft);
	printf("mismatch in %s:\n%s", report_modes_text(bad), d.text);
	return 1;
}

int main(int argc, char **argv)
{
	static struct dt_seq seq;
	static struct dt_outcome nat, soft;
	struct dt_host_segs segs;
	struct opts o;
	struct runner r = { .o = &o };
	struct rng pick;
	double t0, dt;
	u64 covered = 0, groups_total = 0;

	if (parse(argc, argv, &o))
		return 2;
#ifdef __SANITIZE_ADDRESS__
	__sanitizer_set_death_callback(print_current);
#else
	(void)print_current;
#endif
	if (o.list) {
		for (unsigned int i = 0; i < tmpl_count(); i++)
			printf("%-28s %s\n", tmpl_get(i)->name, tmpl_get(i)->group);
		return 0;
	}
	if (native_init(&segs))
		return 2;
	r.gopts.fsgs = segs.fsgsbase;
	r.gopts.only = o.only;
	r.gopts.skip = o.skip;
	r.single = o.single ? soft_side_new(&segs, DT_MODE_SINGLE) : NULL;
	r.block = o.block ? soft_side_new(&segs, DT_MODE_BLOCK) : NULL;
	r.jit = o.jit ? soft_side_new(&segs, DT_MODE_JIT) : NULL;
	if ((o.single && !r.single) || (o.block && !r.block) || (o.jit && !r.jit)) {
		fprintf(stderr, "difftest: cannot create the soft CPU\n");
		return 2;
	}
	if (r.jit && !soft_side_compiles(r.jit)) {
		fprintf(stderr, "difftest: no block compiler (KILN_SOFT_JIT=0?): cannot run --mode jit\n");
		return 2;
	}
	if (o.corpus) {
		unsigned int runs, n;

		r.corpus = corpus_load(o.corpus, segs.fsgsbase);
		if (!r.corpus)
			return 2;
		n = corpus_size(r.corpus, &runs);
		printf("difftest: corpus %s: %u instructions kept, in %u straight-line runs\n",
		       o.corpus, n, runs);
	}
	r.report = report_new(o.findings, o.corpus);
	if (o.repro) {
		int rc = repro(&r);

		report_free(r.report);
		corpus_free(r.corpus);
		soft_side_free(r.single);
		soft_side_free(r.block);
		soft_side_free(r.jit);
		return rc;
	}

	r.st.tmpl_uses = calloc(tmpl_count(), sizeof(u64));
	rng_seed(&pick, o.seed ^ 0x5eed);
	t0 = now();
	for (u64 i = 0; !o.count || i < o.count; i++) {
		bool corpus = r.corpus && rng_below(&pick, 100) < o.corpus_pct;
		u64 seed = rng_derive(o.seed, i);
		struct dt_diff d;
		unsigned int bad;

		if (o.seconds > 0 && (i & 255) == 0 && now() - t0 >= o.seconds)
			break;
		if (!build(&r, &seq, seed, corpus, NULL, NULL))
			continue;
		r.st.seqs++;
		if (corpus)
			r.st.corpus++;
		else
			r.st.gen++;
		r.st.insns += seq.n;
		for (unsigned int k = 0; k < seq.n; k++)
			if (seq.insn[k].tmpl != DT_TMPL_CORPUS)
				r.st.tmpl_uses[seq.insn[k].tmpl]++;
		bad = run_one(&r, &seq, &nat, &soft, &d, modes_asked(&o));
		if (bad == RUN_HARNESS) {
			r.st.harness_errors++;
			if (r.st.harness_errors <= 3)
				fprintf(stderr, "difftest: sequence %#" PRIx64 ": %s\n", seed, nat.error);
			continue;
		}
		if (nat.vector >= 0)
			r.st.native_faults++;
		if (!bad)
			continue;
		r.st.mism_seqs++;
		r.st.mism_single += !!(bad & RUN_SINGLE);
		r.st.mism_block += !!(bad & RUN_BLOCK);
		r.st.mism_jit += !!(bad & (RUN_JIT | RUN_WARM | RUN_LINKED));
		on_mismatch(&r, &seq, seed, corpus, bad);
	}
	dt = now() - t0;

	for (unsigned int i = 0; i < tmpl_count(); i++) {
		if (!selected(tmpl_get(i), &o))
			continue;
		groups_total++;
		covered += r.st.tmpl_uses[i] != 0;
	}
	printf("difftest: seed %#" PRIx64 ": %" PRIu64 " sequences (%" PRIu64 " generated, %" PRIu64
	       " corpus) of %" PRIu64 " instructions, in %.1f s: %.0f sequences/s\n",
	       o.seed, r.st.seqs, r.st.gen, r.st.corpus, r.st.insns, dt, r.st.seqs / (dt > 0 ? dt : 1));
	printf("difftest: %" PRIu64 " ended in an exception natively\n", r.st.native_faults);
#ifdef __SANITIZE_ADDRESS__
	printf("difftest: built with sanitizers\n");
#endif
	printf("difftest: templates generated: %" PRIu64 " of %" PRIu64 "\n", covered, groups_total);
	for (unsigned int i = 0, shown = 0; i < tmpl_count() && covered < groups_total && r.st.gen; i++) {
		const struct tmpl *t = tmpl_get(i);

		if (!r.st.tmpl_uses[i] && selected(t, &o) && shown++ < 20)
			printf("difftest: never generated: %s\n", t->name);
	}
	if (r.block) {
		u64 insns, blocks;

		soft_side_blocks(r.block, &insns, &blocks);
		printf("difftest: multi-instruction blocks: %" PRIu64 " instructions in %" PRIu64
		       " blocks (%.2f per block)\n", insns, blocks, blocks ? (double)insns / blocks : 0);
	}
	if (r.jit) {
		struct jit_stats js;

		soft_side_jit_stats(r.jit, &js);
		printf("difftest: compiled blocks: %" PRIu64 " blocks compiled, %" PRIu64
		       " instructions compiled, %" PRIu64 " handler calls, %" PRIu64
		       " interpreted tails; %" PRIu64 " warm and %" PRIu64 " linked reruns\n",
		       js.blocks, js.insns, js.calls, js.bailouts, r.st.warm_runs, r.st.linked_runs);
	}
	printf("difftest: mismatches: %" PRIu64 " sequences (%" PRIu64 " one instruction per block, %"
	       PRIu64 " multi-instruction blocks, %" PRIu64 " compiled blocks)\n",
	       r.st.mism_seqs, r.st.mism_single, r.st.mism_block, r.st.mism_jit);
	report_summary(r.report, stdout);
	if (r.st.harness_errors)
		printf("difftest: harness errors: %" PRIu64 "\n", r.st.harness_errors);
	report_free(r.report);
	free(r.st.tmpl_uses);
	corpus_free(r.corpus);
	soft_side_free(r.single);
	soft_side_free(r.block);
	soft_side_free(r.jit);
	if (r.st.harness_errors)
		return 2;
	return r.st.mism_seqs ? 1 : 0;
}

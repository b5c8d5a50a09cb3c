/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_DT_H
#define KILN_TESTS_DIFFTEST_DT_H

/*
 * The differential tester: instruction sequences run natively (ring 3, in
 * this process) and on the soft CPU, from the same state, and the results
 * are compared. This header holds what every part shares: the address
 * layout, the state and outcome records, and the sequence.
 *
 * Both sides see the same virtual addresses: the native side maps its code
 * and data pages at fixed addresses, and the soft CPU gets page tables that
 * map the same addresses, 4 KiB at a time, with nothing else mapped, so a
 * pointer in a register means the same on both and a stray access faults
 * the same way on both.
 */
#include "engine/cpu_state.h"
#include "engine/soft/fpu_state.h"
#include "lib/types.h"

#define DT_CODE_BASE 0x10000000ULL
#define DT_CODE_SIZE 0x2000ULL
#define DT_DATA_BASE 0x10100000ULL
#define DT_DATA_SIZE 0x3000ULL		/* two data pages, then the stack page */
#define DT_STACK_PAGE (DT_DATA_BASE + 0x2000)
#define DT_STACK_START (DT_STACK_PAGE + 0x800)
#define DT_DATA_END (DT_DATA_BASE + DT_DATA_SIZE)
/* The pages just below and above the data are never mapped (faults). */

/*
 * Bytes of a sequence: the exit stub follows, jmp *disp(%rip) to a pointer
 * 8-aligned after it (so it loads even with RFLAGS.AC set).
 */
#define DT_EXIT_STUB_LEN 22
#define DT_MAX_CODE (DT_CODE_SIZE - DT_EXIT_STUB_LEN - 16)
#define DT_MAX_INSNS 160

/*
 * Register state. Layout shared with native_entry.S (offsets checked in
 * native.c): gpr at 0, rip 128, rflags 136, fs_base 144, gs_base 152,
 * fx at 160.
 */
struct dt_regs {
	u64 gpr[NR_GPRS];
	u64 rip;
	u64 rflags;
	u64 fs_base, gs_base;
	struct fxsave_area fx;
};

/* What is undefined (per the SDM) at one point of a sequence. */
struct dt_taint {
	u16 gpr;		/* registers whose value is undefined */
	u16 xmm;
	u32 flags;		/* RFLAGS bits that are undefined */
	u16 fsw;		/* x87 status word bits (condition codes) undefined */
};

/* One instruction of a sequence, for reports and for the masks at a fault. */
struct dt_insn {
	u16 off;
	u8 len;
	u16 tmpl;		/* template (gen.h), or DT_TMPL_CORPUS */
	u16 group;		/* template call: instructions of one group stay together */
	struct dt_taint pre;	/* undefined state before it runs */
};

#define DT_TMPL_CORPUS 0xffff

struct dt_seq {
	u64 seed;		/* the sequence's own seed (regenerates it) */
	const char *origin;	/* "gen" or "corpus" */
	char note[192];		/* corpus: the instructions' mnemonics */
	u8 code[DT_MAX_CODE + DT_EXIT_STUB_LEN];
	unsigned int len;	/* bytes before the exit stub */
	unsigned int n;
	struct dt_insn insn[DT_MAX_INSNS];
	struct dt_taint end;	/* undefined state when the exit stub is reached */
	struct dt_regs init __attribute__((aligned(16)));
	u8 data[DT_DATA_SIZE];
};

/* How a run ended, and the state then. */
struct dt_outcome {
	struct dt_regs regs __attribute__((aligned(16)));
	int vector;		/* -1: reached the exit stub */
	u32 error_code;
	u64 cr2;
	const char *error;	/* the harness could not run it (not a mismatch) */
	u8 data[DT_DATA_SIZE];
};

/* Segment state the native process runs with, copied to the soft CPU. */
struct dt_host_segs {
	u16 cs, ss, ds, es, fs, gs;
	bool fsgsbase;		/* FS/GS bases can be switched per run */
};

/* native.c */
int native_init(struct dt_host_segs *segs);
void native_run(const struct dt_seq *seq, struct dt_outcome *out);
u64 native_exit_address(void);

/* soft_side.c */
enum dt_mode {
	DT_MODE_SINGLE,		/* one instruction per block */
	DT_MODE_BLOCK,		/* multi-instruction blocks, interpreted */
	DT_MODE_JIT,		/* the same blocks compiled at their first entry */
};
struct soft_side;
struct jit_stats;
struct soft_side *soft_side_new(const struct dt_host_segs *segs, enum dt_mode mode);
void soft_side_free(struct soft_side *s);
void soft_side_run(struct soft_side *s, const struct dt_seq *seq, struct dt_outcome *out);
/*
 * The sequence again, right after soft_side_run(), on the blocks that run
 * left (compiled and chained, in DT_MODE_JIT). False when there are none
 * to reuse (the sequence wrote to its code).
 */
bool soft_side_rerun(struct soft_side *s, const struct dt_seq *seq, struct dt_outcome *out);
/* Instructions retired and blocks entered, so far (block-mode evidence). */
void soft_side_blocks(const struct soft_side *s, u64 *insns, u64 *blocks);
/* What the block compiler did, so far (DT_MODE_JIT evidence). */
void soft_side_jit_stats(const struct soft_side *s, struct jit_stats *st);
/* False when there is no block compiler (KILN_SOFT_JIT=0). */
bool soft_side_compiles(const struct soft_side *s);

/* Writes the exit stub after seq->code[0..len). */
void dt_seal(struct dt_seq *seq);

#endif

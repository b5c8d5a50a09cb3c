/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_GEN_H
#define KILN_TESTS_DIFFTEST_GEN_H

/*
 * The random sequence generator. A sequence is a run of template calls;
 * each template emits one instruction (sometimes with a short prelude
 * that sets its operands up) from its opcode group, with random operand
 * sizes, registers, prefixes, addressing forms and values.
 *
 * What keeps a random sequence meaningful:
 *  - Pinned registers. A few registers hold pointers into the data pages
 *    (and one a small index) for the whole sequence; no template writes
 *    them, so every memory operand is known to land where the generator
 *    chose, on both sides. RSP points into the stack page and only stack
 *    instructions move it.
 *  - Undefined state. The SDM leaves some results undefined (flags after
 *    MUL, BSF's destination for a zero source, ...). The generator tracks
 *    what is undefined (struct dt_taint), before every instruction, and the
 *    comparison masks exactly that. A template that must consume a value
 *    (a branch on flags, a store to memory, a divisor) first makes it
 *    defined with an extra instruction.
 *  - Forward branches only, within the sequence, landing on template
 *    boundaries; the undefined state at a landing is the union of the
 *    paths into it.
 */
#include "dt.h"
#include "encode.h"
#include "rng.h"

#define RF_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define RF_CF RFLAGS_CF
#define RF_PF RFLAGS_PF
#define RF_AF RFLAGS_AF
#define RF_ZF RFLAGS_ZF
#define RF_SF RFLAGS_SF
#define RF_OF RFLAGS_OF
#define RF_DF RFLAGS_DF

/* x87 status word condition codes. */
#define FSW_C0 (1u << 8)
#define FSW_C1 (1u << 9)
#define FSW_C2 (1u << 10)
#define FSW_C3 (1u << 14)
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Byte registers AH, CH, DH, BH (no REX allowed with them). */
#define BREG_AH 16

struct pending_jump {
	unsigned int patch;	/* offset of the displacement */
	unsigned int base;	/* it is relative to this offset */
	u8 size;		/* 1 or 4 */
	int left;		/* template boundaries before it may land */
	struct dt_taint t;	/* undefined state on the taken path */
	s64 sp;
	bool sp_known;
};

#define GEN_MAX_PENDING 8

struct gen_state {
	unsigned int pos;	/* code bytes so far */
	unsigned int n;		/* instructions so far */
	struct dt_taint t;
	s64 sp;			/* RSP - its initial value, when known */
	bool sp_known;
	unsigned int npend;
	struct pending_jump pend[GEN_MAX_PENDING];
};

struct gen_opts {
	bool fsgs;		/* FS/GS overrides usable (native FSGSBASE) */
	const char *only;	/* only templates whose name or group contains this */
	const char *skip;	/* no templates whose name or group contains this */
};

struct gen {
	struct dt_seq *seq;
	struct rng r;		/* the running template's stream */
	const struct gen_opts *opts;
	struct gen_state s;
	u16 tmpl;		/* running template */
	u16 group;		/* running template call */
	u16 pinned;		/* registers no template may write */
	u64 val[NR_GPRS];	/* values of the pinned registers */
	u8 ptr[3];		/* pinned data pointers */
	unsigned int nptr;
	int idx;		/* pinned small index register, or -1 */
	bool in_sub;		/* inside a subroutine body: no branches, no stack */
	/*
	 * A POPF may have set RFLAGS.TF: the instruction after it traps, so
	 * a template that must scrub what its store left (g_scrub) cannot.
	 */
	bool tf;
	bool overflow;		/* out of code space: the template is dropped */
};

/* Effects of one instruction, for the undefined-state tracking. */
struct fx {
	u16 rd, wr, wr_part;	/* GPRs read, written whole, written in part */
	u16 undef;		/* GPRs left undefined */
	u16 xrd, xwr, xwr_part;
	u32 frd, fdef, fundef;	/* RFLAGS read, defined, left undefined */
	u16 fsw_def, fsw_undef;	/* x87 condition codes */
	bool mem_wr;		/* writes memory: inputs must be defined */
};

#define T_BRANCH 1	/* emits a branch: not inside subroutine bodies */
#define T_STACK 2	/* moves RSP */
#define T_MODE 4	/* changes how everything after it runs (RFLAGS.AC, TF) */

struct tmpl {
	const char *name;
	const char *group;	/* opcode group, for the coverage report */
	void (*emit)(struct gen *g, const struct tmpl *t);
	u32 a, b;		/* template parameters */
	u16 weight;
	u8 flags;		/* T_* */
};

struct tmpl_table {
	const struct tmpl *t;
	unsigned int n;
};

extern const struct tmpl_table tmpl_int, tmpl_misc, tmpl_flow, tmpl_string,
	tmpl_sse, tmpl_x87, tmpl_fault;

/* The flat list of every template. */
unsigned int tmpl_count(void);
const struct tmpl *tmpl_get(unsigned int i);

/*
 * Builds sequence `seed`. keep, when not NULL, says which template calls
 * to keep (bit i for call i), for shrinking: the others are skipped but
 * every call keeps its own random stream, so the rest stay the same.
 */
void gen_sequence(struct dt_seq *seq, u64 seed, const struct gen_opts *opts,
		  const u64 *keep, unsigned int *ncalls);

/*
 * A random initial state: registers (RSP in the stack page), RFLAGS, FS/GS
 * bases (with fsgs), the x87/SSE state and the data pages.
 */
void dt_random_state(struct dt_seq *seq, struct rng *r, bool fsgs);

/* --- for templates --- */

/* Emits one instruction and records it (with the undefined state before). */
void g_insn(struct gen *g, const struct enc *e);
/* Applies an instruction's effects to the undefined state. */
void g_apply(struct gen *g, const struct fx *f);
/* Makes registers / flags / x87 condition codes defined, emitting as needed. */
void g_def_regs(struct gen *g, u16 regs);
void g_def_flags(struct gen *g, u32 flags);
void g_def_fsw(struct gen *g);

/* A register the template may write (not pinned), never RSP. */
int g_wreg(struct gen *g);
/* Any register to read. */
int g_rreg(struct gen *g);
/* A byte register to write/read: 0-15 or BREG_AH + 0..3; sets REX needs. */
int g_wbreg(struct gen *g, struct enc *e);
int g_rbreg(struct gen *g, struct enc *e);
/* The GPR bit of a byte register number (AH -> RAX). */
static inline u16 breg_bit(int r)
{
	return (u16)(1u << (r >= BREG_AH ? r - BREG_AH : r));
}
/* Puts a byte register into the ModRM reg or rm field of e. */
void enc_breg_reg(struct enc *e, int r);
void enc_breg_rm(struct enc *e, int r);

/* Operand size 1, 2, 4 or 8 and its prefixes. */
unsigned int g_osize(struct gen *g);
void g_size_prefix(struct gen *g, struct enc *e, unsigned int size);

/* Memory operand flags. */
#define M_NOFAULT	(1u << 0)	/* never the guard pages */
#define M_NOSEG		(1u << 1)	/* no FS/GS override */
#define M_NORIP		(1u << 2)
#define M_NOA32		(1u << 3)	/* no 67 prefix (it changes the insn) */
#define M_ALIGN		(1u << 4)	/* aligned to `align` (else sometimes not) */
#define M_STACKOK	(1u << 5)	/* may point into the stack page */

/*
 * Puts a memory operand of size bytes into e (ModRM rm and prefixes) and
 * returns its address. align: the alignment it should usually have.
 */
u64 g_mem(struct gen *g, struct enc *e, unsigned int size, unsigned int align, unsigned int flags);

/* Just the address part of g_mem(): where a size-byte operand goes. */
u64 g_target(struct gen *g, unsigned int size, unsigned int align, unsigned int flags);
/* A memory operand reaching exactly target (no FS/GS override). */
void g_mem_at(struct gen *g, struct enc *e, u64 target, unsigned int flags);

/*
 * A memory operand that is never accessed (LEA, NOPL, PREFETCH): any
 * registers, any form. Returns the registers it reads.
 */
u16 g_any_mem(struct gen *g, struct enc *e);

/* The r/m operand of a template: a register or memory. */
struct rmop {
	bool mem;
	int reg;		/* byte registers: 0-15 or BREG_AH + n */
	u64 addr;
};
/*
 * Picks it: memory with mem_pct % chance (and M_* flags), else a register
 * (one the template may write when write is set).
 */
void g_rm(struct gen *g, struct enc *e, struct rmop *o, unsigned int size, bool write,
	  unsigned int mem_pct, unsigned int mflags);
/* A register for the ModRM reg field. */
int g_regf(struct gen *g, struct enc *e, unsigned int size, bool write);
/* Effects of writing register r with an operand of size bytes. */
static inline void fx_dst(struct fx *f, int r, unsigned int size)
{
	if (size <= 2)
		f->wr_part |= breg_bit(r);
	else
		f->wr |= breg_bit(r);
}

/* A value biased toward edge cases, for size bytes. */
static inline u64 g_value(struct gen *g, unsigned int size)
{
	return rng_value(&g->r, size);
}

/* A forward branch whose displacement (size 1 or 4) is at offset patch. */
void g_forward(struct gen *g, unsigned int patch, unsigned int base, unsigned int size);
/* Offset of the next instruction. */
static inline unsigned int g_pos(const struct gen *g)
{
	return g->s.pos;
}
/* Patch a displacement within the current template. */
void g_patch(struct gen *g, unsigned int patch, unsigned int size, s64 value);

/*
 * RFLAGS effects of a shift or rotate (ModRM /digit op) of size bytes by
 * count, or by an unknown count (-1), per the SDM.
 */
void fx_shift(struct fx *f, unsigned int op, unsigned int size, int count);

/*
 * Stores zeros over [addr, addr + len): for bytes an instruction stores
 * but the SDM leaves to the CPU (x87 pointer fields of FXSAVE images, the
 * upper bytes of a pushed segment register). Zeroing them, rather than
 * masking them, keeps every later read of them defined.
 */
void g_scrub(struct gen *g, u64 addr, unsigned int len);

static inline u16 bit(int r)
{
	return (u16)(1u << r);
}

#endif

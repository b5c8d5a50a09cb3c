// SPDX-License-Identifier: Apache-2.0
/*
 * The block compiler (see jit.h). For each instruction of a hot 64-bit
 * block it emits host code that does what the instruction's handler does,
 * on the same state: guest registers stay in cpu->gpr, flags are recorded
 * lazily exactly as the interpreter records them, memory goes through the
 * same software TLB (fast path inline, the interpreter's slow paths
 * out of line). At the first instruction it does not compile, the code
 * jumps into that instruction's handler and the interpreter finishes the
 * block. Faults can only happen in the slow paths, which first set
 * cpu->cur to the instruction, so exceptions stay precise.
 *
 * The code lives in a memfd mapped twice, writable here and executable
 * elsewhere, never both at one address.
 */
#include "engine/soft/jit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/soft/code_budget.h"
#include "engine/soft/exec.h"
#include "engine/soft/jit_emit.h"
#include "engine/soft/soft.h"
#include "lib/log.h"

/* Reserved; code_budget.h says how much of it may be in use. */
#define JIT_ARENA_SIZE (256ULL << 20)
/*
 * Written code's pages leave the writable mapping in batches this big, so
 * that each resident page is mapped once (executable) and counted once.
 */
#define JIT_RW_DROP_BATCH (64 * 1024)
#define JIT_MAX_BLOCK_CODE (32 * 1024)	/* per block, generous */
#define JIT_MAX_SLOW 192
/* Copies of the insns whose handlers compiled code calls (see emit_call_handler). */
#define JIT_DATA_SIZE (64ULL << 20)

struct jit_arena {
	pthread_mutex_t lock;
	u8 *rw, *rx;
	size_t used;
	size_t limit;		/* bytes of code allowed (code_budget.h) */
	size_t rw_mapped;	/* rw pages below this are unmapped (still in the memfd) */
	size_t patched_end;	/* end of the one such page jit_poke() left mapped; 0: none */
	bool want_flush;	/* atomic: out of room, flush the caches */
	struct insn *data;
	size_t data_used;	/* entries */
	unsigned int threshold;
	struct jit_stats stats;
	/*
	 * KILN_SOFT_JIT_PERFMAP=1: /tmp/perf-PID.map names each compiled
	 * block after its guest RIP, for perf report; the code itself is in
	 * the arena (KILN_SOFT_JIT_DUMP=FILE writes it out at exit).
	 */
	FILE *perfmap;
	const char *dump;
};

/* ---------------------------------------------------------------------- */
/* Which handler is which                                                 */
/* ---------------------------------------------------------------------- */

enum jkind {
	JK_NONE, JK_ALU, JK_MOV, JK_INCDEC, JK_SHIFT, JK_PUSH, JK_POP, JK_PUSHI, JK_LEA,
	JK_MOVZX, JK_MOVSX, JK_JMP, JK_JCC, JK_CALL, JK_RET, JK_END, JK_NOP, JK_SETCC,
	JK_CMOV, JK_IMUL2, JK_FUSED, JK_NOTNEG, JK_MUL1,
};

/* Sets of guest conditions (bit n: condition n) the host flags can answer. */
#define FL_ALL 0xffffu
#define FL_CF ((1u << COND_B) | (1u << COND_AE) | (1u << COND_BE) | (1u << COND_A))
#define FL_OF ((1u << COND_O) | (1u << COND_NO) | (0xfu << COND_L))

struct jdesc {
	insn_fn fn;
	u8 kind, op, form, size;
};

#define JDESC_BITS 12
static struct jdesc jdescs[1u << JDESC_BITS];
static pthread_once_t jdesc_once = PTHREAD_ONCE_INIT;

static unsigned int jdesc_hash(insn_fn fn)
{
	u64 h = (u64)(uintptr_t)fn * 0x9e3779b97f4a7c15ULL;

	return h >> (64 - JDESC_BITS);
}

static void jdesc_add(insn_fn fn, enum jkind kind, unsigned int op, unsigned int form, unsigned int size)
{
	unsigned int h = jdesc_hash(fn);

	if (!fn)
		return;
	while (jdescs[h].fn && jdescs[h].fn != fn)
		h = (h + 1) & ((1u << JDESC_BITS) - 1);
	jdescs[h] = (struct jdesc){ fn, kind, op, form, size };
}

static const struct jdesc *jdesc_of(insn_fn fn)
{
	unsigned int h = jdesc_hash(fn);

	while (jdescs[h].fn) {
		if (jdescs[h].fn == fn)
			return &jdescs[h];
		h = (h + 1) & ((1u << JDESC_BITS) - 1);
	}
	return NULL;
}

static void jdesc_init(void)
{
	for (unsigned int s = 0; s < 4; s++) {
		unsigned int size = 1u << s;

		for (unsigned int op = 0; op < NR_ALU; op++)
			for (unsigned int f = 0; f < NR_FORMS; f++)
				jdesc_add(op_alu[op][f][s], JK_ALU, op, f, size);
		for (unsigned int f = 0; f < NR_FORMS; f++)
			jdesc_add(op_mov[f][s], JK_MOV, 0, f, size);
		for (unsigned int k = 0; k < 2; k++)
			for (unsigned int m = 0; m < 2; m++)
				jdesc_add(op_incdec[k][m][s], JK_INCDEC, k, m, size);
		for (unsigned int op = 0; op < 8; op++)
			for (unsigned int m = 0; op != 2 && op != 3 && m < 2; m++)
				jdesc_add(op_shift[op][m][s], JK_SHIFT, op, m, size);
		for (unsigned int k = 0; k < 2; k++)
			for (unsigned int m = 0; m < 2; m++)
				jdesc_add(op_notneg[k][m][s], JK_NOTNEG, k, m, size);
		jdesc_add(op_imul2[s], JK_IMUL2, 0, 0, size);
		jdesc_add(op_mul1[s], JK_MUL1, 0, 0, size);
	}
	jdesc_add(op_push_reg[3], JK_PUSH, 0, 0, 8);
	jdesc_add(op_pop_reg[3], JK_POP, 0, 0, 8);
	jdesc_add(op_push_imm, JK_PUSHI, 0, 0, 0);
	jdesc_add(op_lea, JK_LEA, 0, 0, 0);
	for (unsigned int from = 0; from < 2; from++)
		for (unsigned int to = 0; to < 3; to++)
			jdesc_add(op_movzx[from][to], JK_MOVZX, 0, 0, 0);
	jdesc_add(op_movsx, JK_MOVSX, 0, 0, 0);
	jdesc_add(op_jmp, JK_JMP, 0, 0, 0);
	jdesc_add(op_call, JK_CALL, 0, 0, 0);
	jdesc_add(op_ret, JK_RET, 0, 0, 0);
	jdesc_add(op_block_end, JK_END, 0, 0, 0);
	jdesc_add(op_nop, JK_NOP, 0, 0, 0);
	for (unsigned int c = 0; c < 16; c++) {
		jdesc_add(op_jcc[c], JK_JCC, c, 0, 0);
		jdesc_add(op_setcc[c], JK_SETCC, c, 0, 0);
		jdesc_add(op_cmov[c], JK_CMOV, c, 0, 0);
		for (unsigned int t = 0; t < 2; t++)
			for (unsigned int i = 0; i < 2; i++)
				for (unsigned int s = 0; s < 2; s++)
					jdesc_add(op_fused_cmp_jcc[t][i][s][c], JK_FUSED, t ? ALU_TEST : ALU_CMP,
						  i ? FORM_RI : FORM_RR, s ? 8 : 4);
	}
}

/* ---------------------------------------------------------------------- */
/* Helpers the compiled code calls                                        */
/* ---------------------------------------------------------------------- */

static void jit_link(struct jit_arena *ja, struct block *prev, unsigned int k, struct block *next);

/* An exit that jit_link() has not pointed at its successor yet. */
static const struct insn *jit_chain_exit(struct soft_cpu *cpu, const struct insn *in, unsigned int k)
{
	struct block *b = block_of(in), *next = __atomic_load_n(&b->chain[k], __ATOMIC_RELAXED);

	if (next && next->pc == cpu->rip)
		jit_link(cpu->svm->jit, b, k, next);
	return block_exit(cpu, in, k);
}

static void jit_link_far(struct soft_cpu *cpu, struct block *prev, unsigned int k, struct block *next);

/* An exit to another page that did not take its direct jmp (emit_chain_far()). */
static const struct insn *jit_far_exit(struct soft_cpu *cpu, const struct insn *in, unsigned int k)
{
	const struct insn *t = block_exit(cpu, in, k);

	if (t)
		jit_link_far(cpu, block_of(in), k, block_of(t));
	return t;
}

static u64 jit_get_cf(struct soft_cpu *cpu)
{
	return cpu_get_cf(cpu);
}

static u64 jit_cc_test(struct soft_cpu *cpu, unsigned int cond)
{
	return cc_test_slow(cpu, cond);
}

/*
 * Compiled code calls the handler of an instruction it does not compile
 * on a copy of its insn followed by a copy whose handler is jit_resume:
 * the handler's next_insn() lands there and returns jit_marker, which
 * tells the compiled code to go on. Anything else (NULL: the handler left
 * the block) goes back to the dispatch loop.
 */
static const struct insn *jit_marker_fn(struct soft_cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->fatal = "the block compiler's resume marker ran as an instruction";
	return NULL;
}

static const struct insn jit_marker = { .fn = jit_marker_fn };

static const struct insn *jit_resume(struct soft_cpu *cpu, const struct insn *in)
{
	const struct block *b = in->aux;

	/* Killed meanwhile (its own store, self-modifying code): leave it. */
	if (unlikely(!__atomic_load_n(&b->valid, __ATOMIC_RELAXED))) {
		cpu->rip = insn_rip(cpu, in);
		cpu->cur = NULL;
		return NULL;
	}
	return &jit_marker;
}

/* After ROL/ROR: cfof = CF | OF << 1. */
static void jit_rotate_cc(struct soft_cpu *cpu, u64 cfof)
{
	cc_set_rotate(cpu, cfof & 1, cfof & 2);
}

/* ---------------------------------------------------------------------- */
/* Code generation                                                        */
/* ---------------------------------------------------------------------- */

#define CPU_OFF(f) ((s32)offsetof(struct soft_cpu, f))

enum slow_kind { SLOW_LOAD, SLOW_STORE, SLOW_RMW, SLOW_BAIL, SLOW_LEAVE };

struct slow {
	enum slow_kind kind;
	size_t fixup;		/* the jne into the stub */
	size_t resume;		/* where the stub returns */
	const struct insn *in;
	unsigned int size;
	unsigned int idx;
};

/*
 * Direct jumps between compiled blocks. A compiled block's exit to a fixed
 * target on its own page (emit_chain_linked()) ends in a jmp rel32 that
 * first goes to jit_chain_exit(); once the block that exit is linked to is
 * compiled too, jit_link() points the jmp at that block's chained entry,
 * which does what emit_enter() would (counts, cpu->cur) and goes on into
 * its body: no block struct is read, nothing is counted towards compiling
 * it, RBX is not popped and pushed again. Every block linked to one exit
 * runs at that exit's target RIP on the same page in the same mode, so a
 * jmp stays right even after the exit is relinked to another such block.
 * Killing a block (block_kill()) points its chained entry at a stub that
 * returns to the dispatch loop, which looks the target up again.
 *
 * Each compiled block has a record of where these are, kept in spare
 * slots of its shadow insns (the data arena). Its address is in the 8
 * bytes before the block's entry point, so that a handler pointer into
 * the arena leads to it. Patches are made through the writable view, 4
 * or 8 aligned bytes at a time, under the arena lock.
 */
struct jit_rec {
	u8 *code;		/* the code's start (the header), in the executable view */
	u32 chained;		/* offset of the chained entry; 0 once killed */
	u32 dead;		/* offset of the stub a killed block's entry jumps to */
	u32 site[2];		/* offset of exit k's patchable rel32; 0 if none */
	u32 far[2];		/* exit k to another page: offset of its addend's imm64 */
};

#define JIT_REC_HDR 8

struct jctx {
	struct emitter e;
	struct block *b;
	struct jit_rec *rec;	/* this block's (see struct jit_rec) */
	insn_fn first;		/* the interpreter's handler of insns[0] */
	struct insn *shadow;	/* 2 per handler call, in the data arena */
	unsigned int nshadow;
	struct slow slows[JIT_MAX_SLOW];
	unsigned int nslow;
	u16 fl;			/* conditions the host flags answer as the guest's */
	bool dead;		/* the running insn's flags are overwritten unread */
	bool not_rot;		/* cc_op is known not to be CC_K_ROT */
	bool failed;
	/*
	 * Register forwarding: the guest register (0-15) whose whole value
	 * the previous instruction left in host RAX as it stored it, or -1;
	 * fwd_size is the size of that write (4: zero-extended). `wrote` is
	 * being set for the next instruction; `fwd` holds for the running
	 * one until its first load clobbers RAX (emit_gpr_load() callers).
	 * Stores still go to cpu->gpr: this only saves the reload.
	 */
	int fwd, wrote;
	unsigned int fwd_size, wrote_size;
};

static s32 goff(unsigned int r)
{
	return CPU_OFF(gpr) + (r & 15) * 8 + (r >> 4);
}

static struct slow *add_slow(struct jctx *c, enum slow_kind kind, size_t fixup,
			     const struct insn *in, unsigned int size)
{
	struct slow *s;

	if (c->nslow >= JIT_MAX_SLOW) {
		c->failed = true;
		return &c->slows[0];
	}
	s = &c->slows[c->nslow++];
	*s = (struct slow){ .kind = kind, .fixup = fixup, .in = in, .size = size, .idx = in->idx };
	return s;
}

/*
 * RSI = the effective address of in's memory operand, plus its segment
 * base when seg (64-bit mode: only FS and GS have one; insn_lin()).
 */
static void emit_ea_seg(struct jctx *c, const struct insn *in, bool seg)
{
	struct emitter *e = &c->e;
	static const u8 add_r_m[] = { 0x03 };

	c->fl = 0;

	e_mov_imm(e, H_RSI, in->disp);
	if (in->base != REG_ZERO)
		e_op_mem(e, 8, add_r_m, 1, H_RSI, H_RBX, goff(in->base));
	if (in->index != REG_ZERO) {
		e_load(e, 8, H_RAX, H_RBX, goff(in->index));
		if (in->scale)
			e_shift_ri(e, 4, 8, H_RAX, in->scale);
		e_alu_rr(e, 0, 8, H_RSI, H_RAX);
	}
	if (in->asize == 4)
		e_op_rr(e, 4, (const u8[]){ 0x89 }, 1, H_RSI, H_RSI);	/* mov esi, esi */
	if (seg && !(in->dflags & DF_FLAT))
		e_op_mem(e, 8, add_r_m, 1, H_RSI, H_RBX, CPU_OFF(seg_base) + 8 * in->seg);
}

/* RSI = the linear address of in's memory operand. */
static void emit_ea(struct jctx *c, const struct insn *in)
{
	emit_ea_seg(c, in, true);
}

/*
 * TLB lookup of size bytes at RSI for a read (tag 0) or write (tag 8):
 * on a hit RDX = host address; on a miss, a jump to a stub.
 */
static size_t emit_tlb(struct jctx *c, unsigned int size, s32 tag)
{
	struct emitter *e = &c->e;
	static const u8 add_r_m[] = { 0x03 }, cmp_r_m[] = { 0x3b };
	size_t fix;

	e_mov_rr(e, H_RAX, H_RSI);
	e_shift_ri(e, 5, 8, H_RAX, 12);
	e_alu_ri(e, 4, 4, H_RAX, TLB_SIZE - 1);
	e_shift_ri(e, 4, 4, H_RAX, 5);
	e_op_mem(e, 8, add_r_m, 1, H_RAX, H_RBX, CPU_OFF(tlb));
	e_lea(e, H_RDX, H_RSI, -1, 0, size - 1);
	e_alu_ri(e, 4, 8, H_RDX, 0xfffff000u);
	e_op_mem(e, 8, cmp_r_m, 1, H_RDX, H_RAX, tag);
	fix = e_jcc32(e, 5);
	e_load(e, 8, H_RDX, H_RAX, offsetof(struct tlb_entry, addend));
	e_alu_rr(e, 0, 8, H_RDX, H_RSI);
	c->fl = 0;
	return fix;
}

/* RAX = zero-extended size-byte load from the memory operand of in. */
static void emit_mem_load(struct jctx *c, const struct insn *in, unsigned int size)
{
	size_t fix;
	struct slow *s;

	emit_ea(c, in);
	fix = emit_tlb(c, size, offsetof(struct tlb_entry, tag_r));
	e_load(&c->e, size, H_RAX, H_RDX, 0);
	s = add_slow(c, SLOW_LOAD, fix, in, size);
	s->resume = c->e.pos;
}

/* Stores RCX's low size bytes at the linear address in RSI. */
static void emit_store_at_rsi(struct jctx *c, const struct insn *in, unsigned int size)
{
	size_t fix = emit_tlb(c, size, offsetof(struct tlb_entry, tag_w));
	struct slow *s;

	e_store(&c->e, size, H_RDX, 0, H_RCX);
	s = add_slow(c, SLOW_STORE, fix, in, size);
	s->resume = c->e.pos;
}

/* RDX = host address to read-modify-write size bytes of in's operand. */
static void emit_mem_rmw(struct jctx *c, const struct insn *in, unsigned int size)
{
	size_t fix;
	struct slow *s;

	emit_ea(c, in);
	fix = emit_tlb(c, size, offsetof(struct tlb_entry, tag_w));
	s = add_slow(c, SLOW_RMW, fix, in, size);
	s->resume = c->e.pos;
}

/* Hands insn idx and the rest of the block to the interpreter. */
static void emit_bail_here(struct jctx *c, const struct insn *in)
{
	struct emitter *e = &c->e;

	e_mov_imm(e, H_RSI, (u64)(uintptr_t)in);
	e_store(e, 8, H_RBX, CPU_OFF(cur), H_RSI);
	e_mov_rr(e, H_RDI, H_RBX);
	e_pop(e, H_RBX);
	/* The first instruction's handler is about to become this code. */
	if (in == c->b->insns)
		e_jmp_abs(e, (const void *)c->first);
	else
		e_jmp_mem(e, H_RSI, offsetof(struct insn, fn));
}

/* Leaves with a tail call of fn(cpu, in, k). */
static void emit_tail3(struct jctx *c, const void *fn, const struct insn *in, unsigned int k)
{
	struct emitter *e = &c->e;

	e_mov_rr(e, H_RDI, H_RBX);
	e_mov_imm(e, H_RSI, (u64)(uintptr_t)in);
	e_mov_imm(e, H_RDX, k);
	e_pop(e, H_RBX);
	e_jmp_abs(e, fn);
}

/* cpu->rip = block start + off (cpu->rip holds the block start now). */
static void emit_rip_rel(struct jctx *c, u32 off)
{
	struct emitter *e = &c->e;

	e_load(e, 8, H_RAX, H_RBX, CPU_OFF(rip));
	e_alu_ri(e, 0, 8, H_RAX, off);
	e_store(e, 8, H_RBX, CPU_OFF(rip), H_RAX);
}

static void emit_rip_abs(struct jctx *c, u64 target)
{
	e_mov_imm(&c->e, H_RAX, target);
	e_store(&c->e, 8, H_RBX, CPU_OFF(rip), H_RAX);
}

/* The lazy flag record: cc_op = op, cc_dst = dst, cc_src = src. */
static void emit_cc(struct jctx *c, unsigned int kind, unsigned int size, int dst, int src)
{
	struct emitter *e = &c->e;

	if (c->dead)
		return;
	e_store_imm32(e, H_RBX, CPU_OFF(cc_op), CC_OP(kind, size));
	e_store(e, 8, H_RBX, CPU_OFF(cc_dst), dst);
	if (src >= 0)
		e_store(e, 8, H_RBX, CPU_OFF(cc_src), src);
	c->not_rot = true;
}

/*
 * Whether the flags insn i sets are overwritten before anything reads
 * them or can fault (a fault pushes RFLAGS): only instructions that
 * cannot fault up to one that sets every arithmetic flag without reading
 * any. Then insn i need not record them.
 */
static bool flags_dead_after(const struct block *b, unsigned int i)
{
	for (unsigned int j = i + 1; j < b->n; j++) {
		const struct insn *in = &b->insns[j];
		const struct jdesc *d = jdesc_of(in->fn);
		bool mem = in->flags & INSN_MEM;
		unsigned int count;

		if (!d)
			return false;
		count = in->imm & (d->size == 8 ? 63 : 31);
		switch (d->kind) {
		case JK_MOV: case JK_MOVZX: case JK_MOVSX:
			if (mem)
				return false;
			continue;
		case JK_LEA: case JK_NOP:
			continue;
		case JK_ALU:
			return !mem && d->op != ALU_ADC && d->op != ALU_SBB;
		case JK_FUSED:
			return true;
		case JK_SHIFT:
			if (mem)
				return false;
			/*
			 * Compiled rotates by an immediate and shifts by CL
			 * (which may keep the flags) write some flags and read
			 * none: look past them.
			 */
			if ((d->op < 2 && !(in->sub & 8) && count) || (d->op >= 4 && (in->sub & 8)))
				continue;
			return d->op >= 4 && !(in->sub & 8) && count != 0;
		case JK_NOTNEG:
			if (!mem && !d->op)
				continue;	/* NOT: no flags */
			return !mem && d->op;
		case JK_IMUL2:
			return !mem;
		case JK_MUL1:
			return !mem && (in->sub == 4 || in->sub == 5) && d->size >= 4;
		default:
			return false;
		}
	}
	return false;
}

/* Stores RAX into guest register r with x86's partial-write rules. */
static void emit_reg_write(struct jctx *c, unsigned int r, unsigned int size, unsigned int h)
{
	if (size == 4)
		e_op_rr(&c->e, 4, (const u8[]){ 0x89 }, 1, h, h);	/* zero-extend */
	e_store(&c->e, size == 4 ? 8 : size, H_RBX, goff(r), h);
	if (h == H_RAX && size >= 4 && r < 16) {
		c->wrote = (int)r;
		c->wrote_size = size;
	}
}

/*
 * h = guest register r (size bytes, zero-extended), from RAX when the
 * previous instruction left it there (c->fwd), else from cpu->gpr. Only
 * for an instruction's first loads, before anything else touched RAX.
 */
static void emit_gpr_load(struct jctx *c, unsigned int size, unsigned int h, unsigned int r)
{
	struct emitter *e = &c->e;

	if (c->fwd < 0 || (unsigned int)c->fwd != r || size < 4) {
		e_load(e, size, h, H_RBX, goff(r));
		return;
	}
	if (size == 4 && c->fwd_size == 8)
		e_op_rr(e, 4, (const u8[]){ 0x89 }, 1, H_RAX, h);	/* mov h32, eax */
	else if (h != H_RAX)
		e_mov_rr(e, h, H_RAX);
}

/* True when the host flags answer guest condition cond right now. */
static bool flags_ok(const struct jctx *c, unsigned int cond)
{
	return c->fl & (1u << cond);
}

/* Calls a helper with (cpu [, a1]) and leaves its result in RAX. */
static void emit_call2(struct jctx *c, const void *fn, bool with_a1, u64 a1)
{
	c->wrote = c->fwd = -1;
	e_mov_rr(&c->e, H_RDI, H_RBX);
	if (with_a1)
		e_mov_imm(&c->e, H_RSI, a1);
	e_call_abs(&c->e, fn);
	c->fl = 0;
}

static void emit_chain(struct jctx *c, const struct insn *j, unsigned int k, u64 target);
static void emit_chain_linked(struct jctx *c, const struct insn *j, unsigned int k);
static void emit_goto_indirect(struct jctx *c, const struct insn *j, unsigned int k);

/* Branches to taken/not-taken exits on guest condition cond. */
static void emit_cond_exit(struct jctx *c, const struct insn *j, unsigned int cond, u64 target,
			   u32 fall_off)
{
	struct emitter *e = &c->e;
	size_t fix;

	if (flags_ok(c, cond)) {
		fix = e_jcc32(e, cond);
	} else {
		emit_call2(c, jit_cc_test, true, cond);
		e_test_rr(e, 1, H_RAX, H_RAX);
		fix = e_jcc32(e, 5);	/* jnz: taken */
	}
	emit_rip_rel(c, fall_off);
	emit_chain(c, j, 1, c->b->pc + fall_off);
	e_patch_here(e, fix);
	emit_rip_abs(c, target);
	emit_chain(c, j, 0, target);
}

/* ALU kinds as the lazy flags know them. */
static unsigned int alu_cc_kind(unsigned int op)
{
	switch (op) {
	case ALU_ADD: return CC_K_ADD;
	case ALU_ADC: return CC_K_ADC;
	case ALU_SBB: return CC_K_SBB;
	case ALU_SUB: case ALU_CMP: return CC_K_SUB;
	default: return CC_K_LOGIC;
	}
}

/*
 * An ALU operation with RAX = a and RCX = b already loaded: result in
 * RAX (RDX for CMP/TEST), host flags = guest flags, lazy record written.
 */
static void emit_alu_core(struct jctx *c, unsigned int op, unsigned int size)
{
	struct emitter *e = &c->e;
	int res = H_RAX;

	switch (op) {
	case ALU_CMP:
		e_mov_rr(e, H_RDX, H_RAX);
		e_alu_rr(e, ALU_SUB, size, H_RDX, H_RCX);
		res = H_RDX;
		break;
	case ALU_TEST:
		e_mov_rr(e, H_RDX, H_RAX);
		e_alu_rr(e, ALU_AND, size, H_RDX, H_RCX);
		res = H_RDX;
		break;
	case ALU_ADC:
	case ALU_SBB:
		/* R8 holds the carry in: bt r8d, 0 puts it in CF. */
		e_byte(e, 0x41); e_byte(e, 0x0f); e_byte(e, 0xba); e_rr(e, 4, H_R8); e_byte(e, 0);
		e_alu_rr(e, op, size, H_RAX, H_RCX);
		break;
	default:
		e_alu_rr(e, op, size, H_RAX, H_RCX);
		break;
	}
	emit_cc(c, alu_cc_kind(op), size, res, H_RCX);
	if ((op == ALU_ADC || op == ALU_SBB) && !c->dead)
		e_store(e, 8, H_RBX, CPU_OFF(cc_src2), H_R8);
	c->fl = 0xffff;
}

/* The carry in for ADC/SBB into R8 (a helper call: before any operand). */
static void emit_carry_in(struct jctx *c)
{
	if (flags_ok(c, COND_B)) {
		e_setcc(&c->e, COND_B, H_R8);
		return;
	}
	emit_call2(c, jit_get_cf, false, 0);
	e_mov_rr(&c->e, H_R8, H_RAX);
}

static bool compile_alu(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int op = d->op, size = d->size;
	bool wb = op != ALU_CMP && op != ALU_TEST;
	bool carry = op == ALU_ADC || op == ALU_SBB;

	if (in->flags & INSN_LOCK)
		return false;
	if (carry) {
		emit_carry_in(c);
		c->fwd = -1;
	}
	switch (d->form) {
	case FORM_RR:
	case FORM_RI:
		if (d->form == FORM_RR)
			emit_gpr_load(c, size, H_RCX, in->reg);
		else
			e_mov_imm(e, H_RCX, in->imm);
		emit_gpr_load(c, size, H_RAX, in->rm);
		emit_alu_core(c, op, size);
		if (wb)
			emit_reg_write(c, in->rm, size, H_RAX);
		return true;
	case FORM_RM:
		emit_mem_load(c, in, size);
		e_mov_rr(e, H_RCX, H_RAX);
		e_load(e, size, H_RAX, H_RBX, goff(in->reg));
		emit_alu_core(c, op, size);
		if (wb)
			emit_reg_write(c, in->reg, size, H_RAX);
		return true;
	default:	/* MR, MI: read-modify-write of memory */
		if (!wb) {
			emit_mem_load(c, in, size);
		} else {
			emit_mem_rmw(c, in, size);
			e_load(e, size, H_RAX, H_RDX, 0);
		}
		/* RDX may hold the host address: b goes to RCX without touching it. */
		if (d->form == FORM_MR)
			e_load(e, size, H_RCX, H_RBX, goff(in->reg));
		else
			e_mov_imm(e, H_RCX, in->imm);
		/* emit_alu_core leaves RDX alone for the writing operations. */
		emit_alu_core(c, op, size);
		if (wb)
			e_store(e, size, H_RDX, 0, H_RAX);
		return true;
	}
}

static bool compile_mov(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size;

	switch (d->form) {
	case FORM_RR:
		emit_gpr_load(c, size, H_RAX, in->reg);
		emit_reg_write(c, in->rm, size, H_RAX);
		return true;
	case FORM_RI:
		e_mov_imm(e, H_RAX, in->imm);
		emit_reg_write(c, in->rm, size, H_RAX);
		return true;
	case FORM_RM:
		emit_mem_load(c, in, size);
		emit_reg_write(c, in->reg, size, H_RAX);
		return true;
	case FORM_MR:
		emit_ea(c, in);
		e_load(e, size, H_RCX, H_RBX, goff(in->reg));
		emit_store_at_rsi(c, in, size);
		return true;
	default:
		emit_ea(c, in);
		e_mov_imm(e, H_RCX, in->imm);
		emit_store_at_rsi(c, in, size);
		return true;
	}
}

static bool compile_incdec(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size;
	bool mem = d->form;
	u8 op = size == 1 ? 0xfe : 0xff;

	if (in->flags & INSN_LOCK)
		return false;
	if (!c->dead)
		emit_carry_in(c);	/* CF is kept: it becomes cc_src2 */
	if (mem) {
		emit_mem_rmw(c, in, size);
		e_load(e, size, H_RAX, H_RDX, 0);
	} else {
		e_load(e, size, H_RAX, H_RBX, goff(in->rm));
	}
	e_op_rr(e, size, &op, 1, d->op, H_RAX);		/* inc/dec eax: /0, /1 */
	emit_cc(c, d->op ? CC_K_DEC : CC_K_INC, size, H_RAX, -1);
	if (!c->dead)
		e_store(e, 8, H_RBX, CPU_OFF(cc_src2), H_R8);
	if (mem)
		e_store(e, size, H_RDX, 0, H_RAX);
	else
		emit_reg_write(c, in->rm, size, H_RAX);
	c->fl = FL_ALL & ~FL_CF;	/* the host's CF is not the guest's */
	return true;
}

/*
 * cc_set_rotate(cpu, CF = RCX bit 0, OF = RCX bit 1) inline: the record
 * before it moves to cc_prev_*. After another rotate, the helper.
 */
static void emit_rotate_cc(struct jctx *c)
{
	struct emitter *e = &c->e;
	static const u8 grp1_i8[] = { 0x83 };
	size_t rot = 0, done = 0;

	if (!c->not_rot) {
		e_load(e, 4, H_RDX, H_RBX, CPU_OFF(cc_op));
		e_shift_ri(e, 5, 4, H_RDX, 2);
		e_op_rr(e, 4, grp1_i8, 1, 7, H_RDX);		/* cmp edx, CC_K_ROT */
		e_byte(e, CC_K_ROT);
		rot = e_jcc32(e, 4);
	}
	e_load(e, 4, H_RDX, H_RBX, CPU_OFF(cc_op));
	e_store(e, 4, H_RBX, CPU_OFF(cc_prev_op), H_RDX);
	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(cc_dst));
	e_store(e, 8, H_RBX, CPU_OFF(cc_prev_dst), H_RDX);
	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(cc_src));
	e_store(e, 8, H_RBX, CPU_OFF(cc_prev_src), H_RDX);
	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(cc_src2));
	e_store(e, 8, H_RBX, CPU_OFF(cc_prev_src2), H_RDX);
	e_store_imm32(e, H_RBX, CPU_OFF(cc_op), CC_K_ROT << 2);
	e_store(e, 8, H_RBX, CPU_OFF(cc_src), H_RCX);
	if (!c->not_rot) {
		done = e_jmp32(e);
		e_patch_here(e, rot);
		e_mov_rr(e, H_RDI, H_RBX);
		e_mov_rr(e, H_RSI, H_RCX);
		e_call_abs(e, jit_rotate_cc);
		e_patch_here(e, done);
		c->wrote = -1;		/* the call clobbered RAX */
	}
	c->not_rot = false;
	c->fl = 0;
}

/* The operand of a shift into RAX (sign-extended for SAR); RDX = host address. */
static void emit_shift_load(struct jctx *c, const struct insn *in, unsigned int size, bool mem, bool sx)
{
	struct emitter *e = &c->e;

	if (mem) {
		emit_mem_rmw(c, in, size);
		(sx ? e_load_sx : e_load)(e, size, H_RAX, H_RDX, 0);
	} else if (!sx || size == 8) {
		emit_gpr_load(c, size, H_RAX, in->rm);
	} else {
		e_load_sx(e, size, H_RAX, H_RBX, goff(in->rm));
	}
}

static void emit_shift_store(struct jctx *c, const struct insn *in, unsigned int size, bool mem)
{
	if (mem)
		e_store(&c->e, size, H_RDX, 0, H_RAX);
	else
		emit_reg_write(c, in->rm, size, H_RAX);
}

/*
 * SHL/SHR/SAR by an immediate or CL, register or memory; ROL/ROR by an
 * immediate. cc_src is the value shifted by count - 1 in 64 bits, as the
 * interpreter records it (exec_shift.c).
 */
static bool compile_shift(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size, op = d->op == 6 ? 4 : d->op, bits = size * 8;
	unsigned int count = in->imm & (size == 8 ? 63 : 31);
	bool mem = d->form, by_cl = in->sub & 8;
	unsigned int kind = op == 4 ? CC_K_SHL : op == 5 ? CC_K_SHR : CC_K_SAR;
	size_t skip = 0;

	if (in->flags & INSN_LOCK)
		return false;
	if (op < 2) {
		/* ROL/ROR imm: CF and OF from the result, the rest kept (cc_set_rotate). */
		if (by_cl || count == 0)
			return false;
		emit_shift_load(c, in, size, mem, false);
		e_shift_ri(e, op, size, H_RAX, count);
		emit_shift_store(c, in, size, mem);
		c->fl = 0;
		if (c->dead)
			return true;
		/* RCX = CF | OF << 1 */
		e_mov_rr(e, H_RCX, H_RAX);
		e_shift_ri(e, 5, 8, H_RCX, op == 0 ? bits - 1 : bits - 2);
		if (op == 0) {
			/* ROL: CF = bit 0, OF = bit bits-1 ^ CF */
			e_alu_rr(e, ALU_XOR, 4, H_RCX, H_RAX);
			e_alu_ri(e, ALU_AND, 4, H_RCX, 1);
			e_shift_ri(e, 4, 4, H_RCX, 1);
			e_mov_rr(e, H_RDX, H_RAX);
			e_alu_ri(e, ALU_AND, 4, H_RDX, 1);
		} else {
			/* ROR: CF = bit bits-1, OF = bit bits-1 ^ bit bits-2 */
			e_mov_rr(e, H_RDX, H_RCX);
			e_shift_ri(e, 5, 4, H_RDX, 1);
			e_alu_rr(e, ALU_XOR, 4, H_RCX, H_RDX);
			e_alu_ri(e, ALU_AND, 4, H_RCX, 1);
			e_shift_ri(e, 4, 4, H_RCX, 1);
			e_alu_ri(e, ALU_AND, 4, H_RDX, 1);
		}
		e_alu_rr(e, ALU_OR, 4, H_RCX, H_RDX);
		emit_rotate_cc(c);
		return true;
	}
	if (op > 7 || op == 6 || (!by_cl && count == 0))
		return false;
	emit_shift_load(c, in, size, mem, op == 7);
	if (by_cl) {
		/* After the load: its slow path may clobber R9. */
		e_load(e, 1, H_R9, H_RBX, goff(GPR_RCX));
		e_alu_ri(e, ALU_AND, 4, H_R9, size == 8 ? 63 : 31);
		/* A zero count writes the operand back and keeps the flags. */
		e_test_rr(e, 4, H_R9, H_R9);
		skip = e_jcc32(e, 4);		/* jz */
		e_mov_rr(e, H_RCX, H_R9);
		e_alu_ri(e, ALU_SUB, 4, H_RCX, 1);
		e_mov_rr(e, H_R10, H_RAX);
		e_shift_cl(e, op, 8, H_R10);
		e_mov_rr(e, H_RCX, H_R9);
		e_shift_cl(e, op, size, H_RAX);
		{
			/* With a zero count, the record before stays. */
			bool not_rot = c->not_rot;

			emit_cc(c, kind, size, H_RAX, H_R10);
			c->not_rot = not_rot;
		}
		e_patch_here(e, skip);
		emit_shift_store(c, in, size, mem);
		c->fl = 0;
		return true;
	}
	e_mov_rr(e, H_RCX, H_RAX);
	if (count > 1)
		e_shift_ri(e, op, 8, H_RCX, count - 1);
	e_shift_ri(e, op, size, H_RAX, count);
	emit_cc(c, kind, size, H_RAX, H_RCX);
	emit_shift_store(c, in, size, mem);
	/*
	 * The host's flags match but for OF after multi-bit shifts, and all
	 * of them once the count reaches the operand's width.
	 */
	if (count >= bits)
		c->fl = 0;
	else
		c->fl = count == 1 ? FL_ALL : FL_ALL & ~FL_OF;
	return true;
}

/* NOT and NEG, register or memory. */
static bool compile_notneg(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size;
	bool neg = d->op, mem = d->form;
	u8 opc = size == 1 ? 0xf6 : 0xf7;

	if (in->flags & INSN_LOCK)
		return false;
	emit_shift_load(c, in, size, mem, false);
	if (neg) {
		e_mov_rr(e, H_RCX, H_RAX);
		e_op_rr(e, size, &opc, 1, 3, H_RAX);		/* neg */
		emit_cc(c, CC_K_SUB, size, H_RAX, H_RCX);
		emit_shift_store(c, in, size, mem);
		c->fl = FL_ALL;
	} else {
		e_op_rr(e, size, &opc, 1, 2, H_RAX);		/* not: no flags */
		emit_shift_store(c, in, size, mem);
		if (mem)
			c->fl = 0;
	}
	return true;
}

static bool compile_push(struct jctx *c, const struct insn *in, bool imm)
{
	struct emitter *e = &c->e;
	static const u8 sub_m_i8[] = { 0x83 };

	if (in->osize != 8)
		return false;
	e_load(e, 8, H_RSI, H_RBX, goff(GPR_RSP));
	e_alu_ri(e, ALU_SUB, 8, H_RSI, 8);
	if (imm)
		e_mov_imm(e, H_RCX, in->imm);
	else
		e_load(e, 8, H_RCX, H_RBX, goff(in->reg));
	emit_store_at_rsi(c, in, 8);
	/* sub qword [rbx + rsp], 8 */
	e_op_mem(e, 8, sub_m_i8, 1, 5, H_RBX, goff(GPR_RSP));
	e_byte(e, 8);
	c->fl = 0;
	return true;
}

static bool compile_pop(struct jctx *c, const struct insn *in)
{
	struct emitter *e = &c->e;
	static const u8 add_m_i8[] = { 0x83 };
	size_t fix;
	struct slow *s;

	e_load(e, 8, H_RSI, H_RBX, goff(GPR_RSP));
	fix = emit_tlb(c, 8, offsetof(struct tlb_entry, tag_r));
	e_load(e, 8, H_RAX, H_RDX, 0);
	s = add_slow(c, SLOW_LOAD, fix, in, 8);
	s->resume = e->pos;
	e_op_mem(e, 8, add_m_i8, 1, 0, H_RBX, goff(GPR_RSP));
	e_byte(e, 8);
	e_store(e, 8, H_RBX, goff(in->reg), H_RAX);
	c->fl = 0;
	return true;
}

static bool compile_lea(struct jctx *c, const struct insn *in)
{
	emit_ea_seg(c, in, false);
	e_mov_rr(&c->e, H_RAX, H_RSI);
	emit_reg_write(c, in->reg, in->osize, H_RAX);
	return true;
}

static bool compile_movx(struct jctx *c, const struct insn *in, bool sign)
{
	struct emitter *e = &c->e;
	unsigned int from = in->sub;

	if (in->flags & INSN_MEM) {
		emit_mem_load(c, in, from);
		if (sign) {
			static const u8 movsb[] = { 0x0f, 0xbe }, movsw[] = { 0x0f, 0xbf }, movsxd[] = { 0x63 };

			e_op_rr(e, 8, from == 1 ? movsb : from == 2 ? movsw : movsxd, from == 4 ? 1 : 2,
				H_RAX, H_RAX);
		}
	} else {
		(sign ? e_load_sx : e_load)(e, from, H_RAX, H_RBX, goff(in->rm));
	}
	emit_reg_write(c, in->reg, in->osize, H_RAX);
	return true;
}

static bool compile_setcc(struct jctx *c, const struct insn *in, unsigned int cond)
{
	if (in->flags & INSN_MEM)
		return false;
	if (flags_ok(c, cond)) {
		e_setcc(&c->e, cond, H_RAX);
	} else {
		emit_call2(c, jit_cc_test, true, cond);
	}
	e_store(&c->e, 1, H_RBX, goff(in->rm), H_RAX);
	return true;
}

static bool compile_cmov(struct jctx *c, const struct insn *in, unsigned int cond)
{
	struct emitter *e = &c->e;
	unsigned int size = in->osize;
	size_t skip;

	if (in->flags & INSN_MEM || size < 4)
		return false;
	if (!flags_ok(c, cond)) {
		emit_call2(c, jit_cc_test, true, cond);
		e_test_rr(e, 1, H_RAX, H_RAX);
		cond = 5;	/* taken when non-zero */
	}
	/* The destination is written either way for 32 bits (zero-extension). */
	e_load(e, size, H_RAX, H_RBX, goff(in->reg));
	skip = e_jcc32(e, cond ^ 1);
	e_load(e, size, H_RAX, H_RBX, goff(in->rm));
	e_patch_here(e, skip);
	emit_reg_write(c, in->reg, size, H_RAX);
	return true;
}

static bool compile_imul2(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size;

	if (size < 4)
		return false;
	if (in->flags & INSN_MEM) {
		emit_mem_load(c, in, size);
		e_mov_rr(e, H_RCX, H_RAX);
		c->fwd = -1;
	} else {
		emit_gpr_load(c, size, H_RCX, in->rm);
	}
	if (in->opcode == 0x1af)
		emit_gpr_load(c, size, H_RAX, in->reg);
	else
		e_mov_imm(e, H_RAX, in->imm);
	e_imul_rr(e, size, H_RAX, H_RCX);
	e_setcc(e, 0, H_RDX);		/* seto: the overflow is cc_src */
	emit_cc(c, CC_K_MUL, size, H_RAX, H_RDX);
	emit_reg_write(c, in->reg, size, H_RAX);
	c->fl = (1u << COND_O) | (1u << COND_NO) | (1u << COND_B) | (1u << COND_AE);
	return true;
}

/*
 * One-operand MUL and IMUL of 32 or 64 bits: RDX:RAX = RAX * r/m, the
 * host's instruction, and the interpreter's record (CC_K_MUL, the low
 * half, CF = OF = the overflow).
 */
static bool compile_mul1(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	unsigned int size = d->size;
	static const u8 grp3[] = { 0xf7 };

	if ((in->sub != 4 && in->sub != 5) || size < 4)
		return false;
	if (in->flags & INSN_MEM) {
		emit_mem_load(c, in, size);
		e_mov_rr(e, H_RCX, H_RAX);
	} else {
		e_load(e, size, H_RCX, H_RBX, goff(in->rm));
	}
	e_load(e, size, H_RAX, H_RBX, goff(GPR_RAX));
	e_op_rr(e, size, grp3, 1, in->sub, H_RCX);	/* mul/imul rcx */
	e_setcc(e, COND_B, H_R9);
	e_store(e, 8, H_RBX, goff(GPR_RAX), H_RAX);	/* 32 bits: zero-extended */
	e_store(e, 8, H_RBX, goff(GPR_RDX), H_RDX);
	emit_cc(c, CC_K_MUL, size, H_RAX, H_R9);
	c->fl = (1u << COND_O) | (1u << COND_NO) | (1u << COND_B) | (1u << COND_AE);
	return true;
}

/* The fused CMP/TEST + Jcc pair: in + 1 is the Jcc. */
static bool compile_fused(struct jctx *c, const struct insn *in, const struct jdesc *d)
{
	struct emitter *e = &c->e;
	const struct insn *j = in + 1;

	if (d->form == FORM_RR)
		emit_gpr_load(c, d->size, H_RCX, in->reg);
	else
		e_mov_imm(e, H_RCX, in->imm);
	emit_gpr_load(c, d->size, H_RAX, in->rm);
	emit_alu_core(c, d->op, d->size);
	emit_cond_exit(c, j, j->sub, j->imm, j->pcoff + j->len);
	return true;
}

/* Compiles one instruction; false leaves it (and the rest) to the interpreter. */
static bool compile_one(struct jctx *c, const struct insn *in)
{
	const struct jdesc *d = jdesc_of(in->fn);
	bool ok;

	if (!d)
		return false;
	switch (d->kind) {
	case JK_ALU: ok = compile_alu(c, in, d); break;
	case JK_MOV: ok = compile_mov(c, in, d); break;
	case JK_INCDEC: ok = compile_incdec(c, in, d); break;
	case JK_SHIFT: ok = compile_shift(c, in, d); break;
	case JK_PUSH: ok = compile_push(c, in, false); break;
	case JK_PUSHI: ok = compile_push(c, in, true); break;
	case JK_POP: ok = compile_pop(c, in); break;
	case JK_LEA: ok = compile_lea(c, in); break;
	case JK_MOVZX: ok = compile_movx(c, in, false); break;
	case JK_MOVSX: ok = compile_movx(c, in, true); break;
	case JK_SETCC: ok = compile_setcc(c, in, d->op); break;
	case JK_NOTNEG: ok = compile_notneg(c, in, d); break;
	case JK_CMOV: ok = compile_cmov(c, in, d->op); break;
	case JK_IMUL2: ok = compile_imul2(c, in, d); break;
	case JK_MUL1: ok = compile_mul1(c, in, d); break;
	case JK_NOP: ok = true; break;
	default: ok = false; break;
	}
	return ok;
}

/* Runs the interpreter's handler for insn k of the block, then goes on. */
static void emit_call_handler(struct jctx *c, unsigned int k)
{
	struct emitter *e = &c->e;
	const struct insn *in = &c->b->insns[k], *nx = in + 1;
	struct insn *sh = &c->shadow[2 * c->nshadow++];
	static const u8 cmp_r_r[] = { 0x39 };
	size_t leave;

	/* The last two slots hold the record (rec_slot()). */
	if (c->nshadow + 1 > c->b->n) {
		c->failed = true;
		return;
	}
	sh[0] = *in;
	if (k == 0)
		sh[0].fn = c->first;
	c->not_rot = false;
	sh[1] = (struct insn){ .fn = jit_resume, .aux = c->b, .pcoff = nx->pcoff, .len = nx->len,
			       .idx = nx->idx };
	e_mov_imm(e, H_RSI, (u64)(uintptr_t)sh);
	e_store(e, 8, H_RBX, CPU_OFF(cur), H_RSI);
	e_mov_rr(e, H_RDI, H_RBX);
	e_call_abs(e, (const void *)sh[0].fn);
	e_mov_imm(e, H_RCX, (u64)(uintptr_t)&jit_marker);
	e_op_rr(e, 8, cmp_r_r, 1, H_RCX, H_RAX);
	leave = e_jcc32(e, 5);
	add_slow(c, SLOW_LEAVE, leave, in, 0);
	c->fl = 0;
}

/* Back to the dispatch loop after exit k of a direct branch (or j NULL). */
static void emit_leave(struct jctx *c, const struct insn *j, unsigned int k)
{
	struct emitter *e = &c->e;

	if (j) {
		/* So that the loop links the exit (block_exit()). */
		e_mov_imm(e, H_RAX, (u64)(uintptr_t)c->b);
		e_store(e, 8, H_RBX, CPU_OFF(last_block), H_RAX);
		e_store_imm32(e, H_RBX, CPU_OFF(last_exit), k);
	}
	e_mov_imm(e, H_RAX, 0);
	e_pop(e, H_RBX);
	e_ret(e);
}

/*
 * The record lives in the last two of the block's 2n shadow slots, which
 * handler calls never reach: they take two slots each, and the last
 * instruction is never called that way. 24 bytes 32-aligned: one cache line.
 */
static struct jit_rec *rec_slot(struct insn *shadow, unsigned int n)
{
	uintptr_t p = ALIGN_UP((uintptr_t)&shadow[2 * n - 2], 32);

	return memset((void *)p, 0, sizeof(struct jit_rec));
}

/*
 * The record's address; the entry the dispatch loop calls (RDI = cpu);
 * the stub for a killed block; then the chained entry (RBX = cpu, RBX
 * already pushed), 8-aligned and starting with a 5-byte NOP that
 * jit_block_killed() turns into a jmp to the stub; then the body.
 */
static void emit_prologue(struct jctx *c)
{
	struct emitter *e = &c->e;
	static const u8 add_m_i8[] = { 0x83 }, add_m_i32[] = { 0x81 },
			nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	size_t body;

	e_u64(e, (u64)(uintptr_t)c->rec);
	e_push(e, H_RBX);
	e_mov_rr(e, H_RBX, H_RDI);
	body = e_jmp32(e);
	c->rec->dead = e->pos;
	e_mov_imm(e, H_RAX, 0);
	e_pop(e, H_RBX);
	e_ret(e);
	while (e->pos & 7)
		e_byte(e, 0xcc);
	c->rec->chained = e->pos;
	for (unsigned int i = 0; i < sizeof(nop5); i++)
		e_byte(e, nop5[i]);
	e_op_mem(e, 8, add_m_i32, 1, 0, H_RBX, CPU_OFF(stats.insns));
	e_u32(e, c->b->n);
	if (c->b->nmem) {
		e_op_mem(e, 8, add_m_i32, 1, 0, H_RBX, CPU_OFF(stats.mem_insns));
		e_u32(e, c->b->nmem);
	}
	e_op_mem(e, 8, add_m_i8, 1, 0, H_RBX, CPU_OFF(stats.chained));
	e_byte(e, 1);
	e_mov_imm(e, H_RSI, (u64)(uintptr_t)c->b->insns);
	e_store(e, 8, H_RBX, CPU_OFF(cur), H_RSI);
	e_patch_here(e, body);
}

/* The record of compiled code whose entry is first, or NULL. */
static struct jit_rec *rec_of(const struct jit_arena *ja, insn_fn first)
{
	const u8 *p = (const u8 *)(void *)first;
	struct jit_rec *rec;

	if (!ja || p < ja->rx + JIT_REC_HDR || p >= ja->rx + JIT_ARENA_SIZE)
		return NULL;
	memcpy(&rec, p - JIT_REC_HDR, sizeof(rec));
	return rec;
}

/*
 * With ja->lock held: n (4 or 8) aligned bytes of code at p become v, one
 * store, so that another vCPU running them sees the old or the new. Code
 * already dropped from the writable view (jit_arena_place()) leaves it
 * again, but for the page patched last: links are made in runs on one
 * page, and each madvise() costs a TLB shootdown.
 */
static void jit_poke(struct jit_arena *ja, u8 *p, u64 v, unsigned int n)
{
	size_t off = p - ja->rx, end = ALIGN_DOWN(off, 4096) + 4096;
	void *w = ja->rw + off;

	if (n == 8)
		__atomic_store_n((u64 *)w, v, __ATOMIC_RELEASE);
	else
		__atomic_store_n((u32 *)w, (u32)v, __ATOMIC_RELEASE);
	if (end <= ja->rw_mapped && end != ja->patched_end) {
		if (ja->patched_end)
			madvise(ja->rw + ja->patched_end - 4096, 4096, MADV_DONTNEED);
		ja->patched_end = end;
	}
}

void jit_block_killed(struct jit_arena *ja, insn_fn first)
{
	struct jit_rec *rec = rec_of(ja, first);
	u8 *entry;
	u64 v;

	if (!rec)
		return;
	pthread_mutex_lock(&ja->lock);
	if (rec->chained) {
		/* jmp rel32 to the stub over the NOP, the next 3 bytes kept */
		entry = rec->code + rec->chained;
		memcpy(&v, entry, 8);
		v = (v & ~0xffffffffffULL) | 0xe9 |
		    (u64)(u32)(rec->dead - (rec->chained + 5)) << 8;
		jit_poke(ja, entry, v, 8);
		rec->chained = 0;
	}
	pthread_mutex_unlock(&ja->lock);
}

/* Exit k's jmp rel32 in from goes to to's chained entry; ja->lock held. */
static void point_exit_at(struct jit_arena *ja, struct jit_rec *from, unsigned int k,
			  const struct jit_rec *to)
{
	u8 *site = from->code + from->site[k];

	jit_poke(ja, site, (u64)((to->code + to->chained) - (site + 4)), 4);
}

/*
 * Exit k of prev leads to next on another page, which the exec TLB entry
 * of next's page maps: the exit's jmp goes straight there while that
 * entry's addend stays the same. The imm64 is made impossible while the
 * jmp changes, so no vCPU takes the new jmp with the old mapping.
 */
static void jit_link_far(struct soft_cpu *cpu, struct block *prev, unsigned int k, struct block *next)
{
	struct jit_arena *ja = cpu->svm->jit;
	struct jit_rec *from = rec_of(ja, __atomic_load_n(&prev->insns[0].fn, __ATOMIC_ACQUIRE));
	struct jit_rec *to = rec_of(ja, __atomic_load_n(&next->insns[0].fn, __ATOMIC_ACQUIRE));
	const struct tlb_entry *e = tlb_slot(cpu->tlb, next->lin);

	if (!from || !to || !from->far[k] || next->phys2 != ~0ULL || next->cs_base ||
	    e->tag_x != PAGE_OF(next->lin))
		return;
	pthread_mutex_lock(&ja->lock);
	if (to->chained) {
		jit_poke(ja, from->code + from->far[k], 1, 8);
		point_exit_at(ja, from, k, to);
		jit_poke(ja, from->code + from->far[k], (u64)e->addend, 8);
	}
	pthread_mutex_unlock(&ja->lock);
}

/* Points exit k of compiled block prev straight at compiled block next. */
static void jit_link(struct jit_arena *ja, struct block *prev, unsigned int k, struct block *next)
{
	struct jit_rec *from = rec_of(ja, __atomic_load_n(&prev->insns[0].fn, __ATOMIC_ACQUIRE));
	struct jit_rec *to = rec_of(ja, __atomic_load_n(&next->insns[0].fn, __ATOMIC_ACQUIRE));

	if (!from || !to || !from->site[k])
		return;
	pthread_mutex_lock(&ja->lock);
	if (to->chained)
		point_exit_at(ja, from, k, to);
	pthread_mutex_unlock(&ja->lock);
}

/*
 * Enters the block in RCX: counts it (the entry that makes it hot goes to
 * `hot` instead, for the dispatch loop to compile it), then jumps to its
 * first handler.
 */
static void emit_enter(struct jctx *c, size_t *hot)
{
	struct emitter *e = &c->e;
	static const u8 grp1_i8[] = { 0x83 }, cmp_r_m[] = { 0x3b }, add_m_r[] = { 0x01 };

	e_load(e, 4, H_RDX, H_RCX, offsetof(struct block, execs));
	e_alu_ri(e, ALU_ADD, 4, H_RDX, 1);
	e_op_mem(e, 4, cmp_r_m, 1, H_RDX, H_RBX, CPU_OFF(jit_threshold));
	*hot = e_jcc32(e, 4);
	e_store(e, 4, H_RCX, offsetof(struct block, execs), H_RDX);
	e_load(e, 2, H_RDX, H_RCX, offsetof(struct block, n));
	e_op_mem(e, 8, add_m_r, 1, H_RDX, H_RBX, CPU_OFF(stats.insns));
	e_load(e, 2, H_RDX, H_RCX, offsetof(struct block, nmem));
	e_op_mem(e, 8, add_m_r, 1, H_RDX, H_RBX, CPU_OFF(stats.mem_insns));
	e_op_mem(e, 8, grp1_i8, 1, 0, H_RBX, CPU_OFF(stats.chained));	/* add [], 1 */
	e_byte(e, 1);
	e_lea(e, H_RSI, H_RCX, -1, 0, offsetof(struct block, insns));
	e_store(e, 8, H_RBX, CPU_OFF(cur), H_RSI);
	e_mov_rr(e, H_RDI, H_RBX);
	e_pop(e, H_RBX);
	e_jmp_mem(e, H_RSI, offsetof(struct insn, fn));
}

/*
 * Single-stepping (RFLAGS.TF, an interrupt shadow's step, single-step
 * mode): blocks then run one instruction each, so no exit enters the next
 * block straight. Branches to the dispatch loop; returns how many (out[]).
 */
static unsigned int emit_step_checks(struct jctx *c, size_t *out)
{
	struct emitter *e = &c->e;
	static const u8 test_m8_i8[] = { 0xf6 }, grp1_m8_i8[] = { 0x80 };

	e_op_mem(e, 1, test_m8_i8, 1, 0, H_RBX, CPU_OFF(rflags) + 1);	/* TF */
	e_byte(e, RFLAGS_TF >> 8);
	out[0] = e_jcc32(e, 5);
	e_op_mem(e, 1, grp1_m8_i8, 1, 7, H_RBX, CPU_OFF(step_once));
	e_byte(e, 0);
	out[1] = e_jcc32(e, 5);
	e_op_mem(e, 1, grp1_m8_i8, 1, 7, H_RBX, CPU_OFF(single_step));
	e_byte(e, 0);
	out[2] = e_jcc32(e, 5);
	return 3;
}

/*
 * goto_indirect() inline, RAX (= cpu->rip) being the target in 64-bit
 * mode (code segment base 0): its block from the jump cache when the exec
 * TLB maps it to the same host page, else back to the dispatch loop
 * (through emit_leave(j, k)).
 */
static void emit_goto_indirect(struct jctx *c, const struct insn *j, unsigned int k)
{
	struct emitter *e = &c->e;
	static const u8 grp1_m8_i8[] = { 0x80 }, grp1_i8[] = { 0x83 },
			grp1_i32[] = { 0x81 }, cmp_r_m[] = { 0x3b }, cmp_m_r[] = { 0x39 }, add_r_m[] = { 0x03 },
			mov_m8_i8[] = { 0xc6 };
	size_t out[12], hot;
	unsigned int nout = 0;

	nout += emit_step_checks(c, &out[nout]);
	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(reqs));
	e_op_mem(e, 4, grp1_i8, 1, 7, H_RDX, 0);
	e_byte(e, 0);
	out[nout++] = e_jcc32(e, 5);
	e_op_mem(e, 4, grp1_i8, 1, 5, H_RBX, CPU_OFF(poll_countdown));
	e_byte(e, 1);
	out[nout++] = e_jcc32(e, 4);
	/* RDX = &tlb[idx]; the exec tag must be the target's page. */
	e_mov_rr(e, H_RDX, H_RAX);
	e_shift_ri(e, 5, 8, H_RDX, 12);
	e_alu_ri(e, ALU_AND, 4, H_RDX, TLB_SIZE - 1);
	e_shift_ri(e, 4, 4, H_RDX, 5);
	e_op_mem(e, 8, add_r_m, 1, H_RDX, H_RBX, CPU_OFF(tlb));
	e_mov_rr(e, H_RCX, H_RAX);
	e_alu_ri(e, ALU_AND, 8, H_RCX, 0xfffff000u);
	e_op_mem(e, 8, cmp_r_m, 1, H_RCX, H_RDX, offsetof(struct tlb_entry, tag_x));
	out[nout++] = e_jcc32(e, 5);
	/* RSI = host address of the target */
	e_load(e, 8, H_RSI, H_RDX, offsetof(struct tlb_entry, addend));
	e_alu_rr(e, ALU_ADD, 8, H_RSI, H_RAX);
	/* RCX = jmp_cache[jmp_cache_slot(pc)] */
	e_mov_rr(e, H_RCX, H_RAX);
	e_shift_ri(e, 5, 8, H_RCX, JMP_CACHE_BITS);
	e_alu_rr(e, ALU_XOR, 8, H_RCX, H_RAX);
	e_alu_ri(e, ALU_AND, 4, H_RCX, JMP_CACHE_SIZE - 1);
	e_shift_ri(e, 4, 4, H_RCX, 3);
	e_alu_rr(e, ALU_ADD, 8, H_RCX, H_RBX);
	e_load(e, 8, H_RCX, H_RCX, CPU_OFF(jmp_cache));
	e_test_rr(e, 8, H_RCX, H_RCX);
	out[nout++] = e_jcc32(e, 4);
	e_op_mem(e, 8, cmp_m_r, 1, H_RAX, H_RCX, offsetof(struct block, pc));
	out[nout++] = e_jcc32(e, 5);
	e_op_mem(e, 8, cmp_m_r, 1, H_RSI, H_RCX, offsetof(struct block, hva));
	out[nout++] = e_jcc32(e, 5);
	e_op_mem(e, 4, grp1_i32, 1, 7, H_RCX, offsetof(struct block, mode));
	e_u32(e, CPU_MODE_64);
	out[nout++] = e_jcc32(e, 5);
	e_op_mem(e, 8, grp1_i8, 1, 7, H_RCX, offsetof(struct block, phys2));
	e_byte(e, 0xff);
	out[nout++] = e_jcc32(e, 5);
	e_op_mem(e, 1, grp1_m8_i8, 1, 7, H_RCX, offsetof(struct block, valid));
	e_byte(e, 0);
	out[nout++] = e_jcc32(e, 4);
	e_op_mem(e, 1, mov_m8_i8, 1, 0, H_RBX, CPU_OFF(intr_shadow));
	e_byte(e, 0);
	emit_enter(c, &hot);
	e_patch_here(e, hot);
	for (unsigned int i = 0; i < nout; i++)
		e_patch_here(e, out[i]);
	emit_leave(c, j, k);
}

/*
 * Leaves the block through exit k towards target, cpu->rip and RAX being
 * target: block_exit() inline, jumping straight into a chained successor,
 * or into the jump cache's block when target is on another page.
 */
static void emit_chain_far(struct jctx *c, const struct insn *j, unsigned int k, u64 target);

static void emit_chain(struct jctx *c, const struct insn *j, unsigned int k, u64 target)
{
	if (PAGE_OF(target) != PAGE_OF(c->b->lin)) {
		emit_chain_far(c, j, k, target);
		return;
	}
	emit_chain_linked(c, j, k);
}

/* Pending requests (to `req`) or timers due (to `poll`), as block_exit() checks. */
static void emit_exit_checks(struct jctx *c, size_t *req, size_t *poll)
{
	struct emitter *e = &c->e;
	static const u8 grp1_i8[] = { 0x83 };

	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(reqs));
	e_op_mem(e, 4, grp1_i8, 1, 7, H_RDX, 0);		/* cmp dword [rdx], 0 */
	e_byte(e, 0);
	*req = e_jcc32(e, 5);
	e_op_mem(e, 4, grp1_i8, 1, 5, H_RBX, CPU_OFF(poll_countdown));	/* sub [], 1 */
	e_byte(e, 1);
	*poll = e_jcc32(e, 4);
}

/* A jmp rel32 with its rel32 4-aligned, for jit_poke(): returns the rel32's offset. */
static size_t emit_patchable_jmp(struct jctx *c)
{
	while ((c->e.pos + 1) & 3)
		e_byte(&c->e, 0x90);
	return e_jmp32(&c->e);
}

/*
 * emit_chain() for a target on the block's page: a jmp that jit_link()
 * points at the linked successor once that is compiled, and until then
 * goes to jit_chain_exit() (block_exit(), which follows the chain link).
 */
static void emit_chain_linked(struct jctx *c, const struct insn *j, unsigned int k)
{
	struct emitter *e = &c->e;
	size_t req, poll, site;

	emit_exit_checks(c, &req, &poll);
	site = emit_patchable_jmp(c);
	c->rec->site[k] = site;
	e_patch_here(e, site);
	e_patch_here(e, req);
	emit_tail3(c, jit_chain_exit, j, k);
	/* Timers are due: back to the dispatch loop, as block_exit() does. */
	e_patch_here(e, poll);
	emit_leave(c, j, k);
}

/*
 * Exit k to target on another page (cpu->rip and RAX = target). Its
 * mapping decides which block runs there, so the jmp that jit_link_far()
 * points at the successor's chained entry is taken only while the exec
 * TLB entry of target's page holds the host mapping seen at link time
 * (an imm64 patched with it; 1 until then, which no page-aligned addend
 * equals). Otherwise, and until linked, jit_far_exit() does what the
 * interpreter's block_exit() does: the jump cache.
 */
static void emit_chain_far(struct jctx *c, const struct insn *j, unsigned int k, u64 target)
{
	struct emitter *e = &c->e;
	static const u8 cmp_r_m[] = { 0x3b }, mov_m8_i8[] = { 0xc6 };
	s32 ent = ((target >> 12) & (TLB_SIZE - 1)) * sizeof(struct tlb_entry);
	size_t out[7], poll, site;
	unsigned int nout = 0;

	e_load(e, 8, H_RDX, H_RBX, CPU_OFF(tlb));
	e_mov_imm(e, H_RCX, PAGE_OF(target));
	e_op_mem(e, 8, cmp_r_m, 1, H_RCX, H_RDX, ent + offsetof(struct tlb_entry, tag_x));
	out[nout++] = e_jcc32(e, 5);
	while ((e->pos + 2) & 7)
		e_byte(e, 0x90);
	e_byte(e, 0x48);				/* movabs rcx, imm64 */
	e_byte(e, 0xb9);
	c->rec->far[k] = e->pos;
	e_u64(e, 1);
	e_op_mem(e, 8, cmp_r_m, 1, H_RCX, H_RDX, ent + offsetof(struct tlb_entry, addend));
	out[nout++] = e_jcc32(e, 5);
	/* What goto_indirect() checks besides. */
	nout += emit_step_checks(c, &out[nout]);
	emit_exit_checks(c, &out[nout++], &poll);
	e_op_mem(e, 1, mov_m8_i8, 1, 0, H_RBX, CPU_OFF(intr_shadow));
	e_byte(e, 0);
	site = emit_patchable_jmp(c);
	c->rec->site[k] = site;
	e_patch_here(e, site);
	for (unsigned int i = 0; i < nout; i++)
		e_patch_here(e, out[i]);
	emit_tail3(c, jit_far_exit, j, k);
	/* Timers are due: back to the dispatch loop, as goto_indirect() does. */
	e_patch_here(e, poll);
	emit_leave(c, j, k);
}

/* The instruction that ends the block, when it is one the compiler knows. */
static bool compile_exit(struct jctx *c, const struct insn *in)
{
	const struct jdesc *d = jdesc_of(in->fn);
	struct emitter *e = &c->e;

	if (!d)
		return false;
	switch (d->kind) {
	case JK_END:
		emit_rip_rel(c, in->pcoff);
		emit_chain(c, in, 0, c->b->pc + in->pcoff);
		return true;
	case JK_JMP:
		emit_rip_abs(c, in->imm);
		emit_chain(c, in, 0, in->imm);
		return true;
	case JK_JCC:
		emit_cond_exit(c, in, d->op, in->imm, in->pcoff + in->len);
		return true;
	case JK_CALL: {
		static const u8 sub_m_i8[] = { 0x83 };

		if (in->osize != 8)
			return false;
		e_load(e, 8, H_RSI, H_RBX, goff(GPR_RSP));
		e_alu_ri(e, ALU_SUB, 8, H_RSI, 8);
		e_load(e, 8, H_RCX, H_RBX, CPU_OFF(rip));
		e_alu_ri(e, ALU_ADD, 8, H_RCX, in->pcoff + in->len);
		emit_store_at_rsi(c, in, 8);
		e_op_mem(e, 8, sub_m_i8, 1, 5, H_RBX, goff(GPR_RSP));
		e_byte(e, 8);
		emit_rip_abs(c, in->imm);
		emit_chain(c, in, 0, in->imm);
		return true;
	}
	case JK_RET: {
		static const u8 add_m_i32[] = { 0x81 };
		size_t fix, bad;
		struct slow *s;

		if (in->osize != 8 || in->imm > 0x7fffffff)
			return false;
		e_load(e, 8, H_RSI, H_RBX, goff(GPR_RSP));
		fix = emit_tlb(c, 8, offsetof(struct tlb_entry, tag_r));
		e_load(e, 8, H_RAX, H_RDX, 0);
		s = add_slow(c, SLOW_LOAD, fix, in, 8);
		s->resume = e->pos;
		/* A non-canonical target: the interpreter raises #GP at the RET. */
		e_mov_rr(e, H_RCX, H_RAX);
		e_shift_ri(e, 4, 8, H_RCX, 16);
		e_shift_ri(e, 7, 8, H_RCX, 16);
		e_alu_rr(e, ALU_CMP, 8, H_RCX, H_RAX);
		bad = e_jcc32(e, 5);
		add_slow(c, SLOW_BAIL, bad, in, 0);
		e_op_mem(e, 8, add_m_i32, 1, 0, H_RBX, goff(GPR_RSP));
		e_u32(e, 8 + (u32)in->imm);
		e_store(e, 8, H_RBX, CPU_OFF(rip), H_RAX);
		emit_goto_indirect(c, NULL, 0);
		return true;
	}
	default:
		return false;
	}
}

/* cpu->cur = in, then the user bit (CPL 3) in reg. */
static void emit_slow_prologue(struct jctx *c, const struct insn *in, unsigned int user_reg)
{
	struct emitter *e = &c->e;
	static const u8 cmp_m_i8[] = { 0x83 };

	e_mov_imm(e, H_RAX, (u64)(uintptr_t)in);
	e_store(e, 8, H_RBX, CPU_OFF(cur), H_RAX);
	e_mov_imm(e, user_reg, 0);
	e_op_mem(e, 4, cmp_m_i8, 1, 7, H_RBX, CPU_OFF(cpl));
	e_byte(e, 3);
	/* sete user_reg8 */
	e_rex(e, false, 0, 0, user_reg, user_reg >= 4);
	e_byte(e, 0x0f);
	e_byte(e, 0x94);
	e_rr(e, 0, user_reg);
}

/* Leaves the block after a store that invalidated it (self-modifying code). */
static void emit_smc_check(struct jctx *c, const struct insn *in, size_t resume)
{
	struct emitter *e = &c->e;
	static const u8 cmp_m8_i8[] = { 0x80 };
	size_t ok;

	e_mov_imm(e, H_RAX, (u64)(uintptr_t)&c->b->valid);
	e_op_mem(e, 1, cmp_m8_i8, 1, 7, H_RAX, 0);
	e_byte(e, 0);
	ok = e_jcc32(e, 5);
	emit_rip_rel(c, in->pcoff + in->len);
	e_mov_imm(e, H_RAX, 0);
	e_pop(e, H_RBX);
	e_ret(e);
	e_patch_here(e, ok);
	{
		size_t j = e_jmp32(e);
		u32 rel = (u32)(resume - (j + 4));

		if (j + 4 <= e->size)
			memcpy(e->buf + j, &rel, 4);
	}
}

static void emit_jmp_to(struct emitter *e, size_t target)
{
	size_t j = e_jmp32(e);
	u32 rel = (u32)(target - (j + 4));

	if (j + 4 <= e->size)
		memcpy(e->buf + j, &rel, 4);
}

static void emit_slow(struct jctx *c, const struct slow *s)
{
	struct emitter *e = &c->e;

	e_patch_here(e, s->fixup);
	switch (s->kind) {
	case SLOW_LOAD:
		/* mem_read_slow(cpu, lin = RSI, size, user) -> RAX; R8 kept */
		emit_slow_prologue(c, s->in, H_RCX);
		e_mov_rr(e, H_RDI, H_RBX);
		e_mov_imm(e, H_RDX, s->size);
		e_push(e, H_R8);
		e_push(e, H_R8);
		e_call_abs(e, mem_read_slow);
		e_pop(e, H_R8);
		e_pop(e, H_R8);
		emit_jmp_to(e, s->resume);
		break;
	case SLOW_STORE:
		/* mem_write_slow(cpu, lin = RSI, val = RCX, size, user) */
		e_mov_rr(e, H_RDX, H_RCX);
		emit_slow_prologue(c, s->in, H_R8);
		e_mov_rr(e, H_RDI, H_RBX);
		e_mov_imm(e, H_RCX, s->size);
		e_call_abs(e, mem_write_slow);
		emit_smc_check(c, s->in, s->resume);
		break;
	case SLOW_RMW: {
		/* mem_rmw_slow(cpu, lin = RSI, size, user) -> host address or NULL */
		static const u8 cmp_m8_i8[] = { 0x80 };
		size_t none, stale;

		emit_slow_prologue(c, s->in, H_RCX);
		e_mov_rr(e, H_RDI, H_RBX);
		e_mov_imm(e, H_RDX, s->size);
		e_push(e, H_R8);
		e_push(e, H_R8);
		e_call_abs(e, mem_rmw_slow);
		e_pop(e, H_R8);
		e_pop(e, H_R8);
		e_test_rr(e, 8, H_RAX, H_RAX);
		none = e_jcc32(e, 4);		/* NULL: MMIO or split */
		e_mov_rr(e, H_RDX, H_RAX);
		/* It may have dropped this very block: then the interpreter redoes it. */
		e_mov_imm(e, H_RAX, (u64)(uintptr_t)&c->b->valid);
		e_op_mem(e, 1, cmp_m8_i8, 1, 7, H_RAX, 0);
		e_byte(e, 0);
		stale = e_jcc32(e, 4);
		emit_jmp_to(e, s->resume);
		e_patch_here(e, none);
		e_patch_here(e, stale);
		emit_bail_here(c, s->in);
		break;
	}
	case SLOW_BAIL:
		emit_bail_here(c, s->in);
		break;
	case SLOW_LEAVE:
		/* RAX: what the handler returned, for the dispatch loop. */
		e_pop(e, H_RBX);
		e_ret(e);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* The arena                                                              */
/* ---------------------------------------------------------------------- */

#define JIT_NO_ROOM ((size_t)-1)

/* Out of room: the next translation flushes everything (block.c). */
static void jit_arena_full(struct jit_arena *ja)
{
	__atomic_store_n(&ja->want_flush, true, __ATOMIC_RELAXED);
}

/* count insns of the data arena, or NULL when it is full. */
static struct insn *jit_arena_take_data(struct jit_arena *ja, size_t count)
{
	struct insn *p = NULL;

	pthread_mutex_lock(&ja->lock);
	if (ja->data_used + count <= JIT_DATA_SIZE / sizeof(struct insn)) {
		p = ja->data + ja->data_used;
		ja->data_used += count;
	} else {
		jit_arena_full(ja);
	}
	pthread_mutex_unlock(&ja->lock);
	return p;
}

/*
 * With ja->lock held: copies len bytes of code into the arena and returns
 * their offset, or JIT_NO_ROOM beyond the limit. The code is position
 * independent: its relative jumps stay inside it, the rest are absolute.
 *
 * Pages the code has filled are then dropped from the writable mapping
 * (MADV_DONTNEED on a shared mapping only unmaps: the memfd keeps them),
 * so each resident page is mapped once, executable, which is also what
 * VmRSS counts. W^X holds as before: no address is ever both.
 */
static size_t jit_arena_place(struct jit_arena *ja, const u8 *code, size_t len)
{
	size_t off = ALIGN_UP(ja->used, 16), filled;

	if (off + len > ja->limit) {
		jit_arena_full(ja);
		return JIT_NO_ROOM;
	}
	ja->used = off + len;
	memcpy(ja->rw + off, code, len);
	__builtin___clear_cache((char *)ja->rx + off, (char *)ja->rx + off + len);
	filled = ALIGN_DOWN(ja->used, 4096);
	if (filled - ja->rw_mapped >= JIT_RW_DROP_BATCH) {
		madvise(ja->rw + ja->rw_mapped, filled - ja->rw_mapped, MADV_DONTNEED);
		ja->rw_mapped = filled;
	}
	return off;
}

/* ---------------------------------------------------------------------- */

void jit_compile(struct soft_cpu *cpu, struct block *b)
{
	struct jit_arena *ja = cpu->svm->jit;
	struct jctx *c;
	unsigned int i, n = b->n, native = 0, called = 0;
	bool tail = false;
	u8 *rw;
	size_t off;
	insn_fn first;

	if (!ja || b->mode != CPU_MODE_64 || !b->valid || n == 0)
		return;
	first = __atomic_load_n(&b->insns[0].fn, __ATOMIC_RELAXED);
	pthread_once(&jdesc_once, jdesc_init);
	c = calloc(1, sizeof(*c));
	rw = malloc(JIT_MAX_BLOCK_CODE);
	if (!c || !rw)
		goto out;
	c->b = b;
	c->first = first;
	c->shadow = jit_arena_take_data(ja, 2 * n);
	if (!c->shadow)
		goto out;
	c->rec = rec_slot(c->shadow, n);
	c->e = (struct emitter){ .buf = rw, .size = JIT_MAX_BLOCK_CODE };
	c->fwd = c->wrote = -1;

	emit_prologue(c);
	for (i = 0; i < n; i++) {
		const struct insn *in = &b->insns[i];
		const struct jdesc *d = jdesc_of(in->fn);

		c->dead = false;
		c->fwd = c->wrote;
		c->fwd_size = c->wrote_size;
		c->wrote = -1;
		/* A fused CMP/TEST + Jcc pair ends the block. */
		if (d && d->kind == JK_FUSED && i + 2 == n) {
			compile_fused(c, in, d);
			native += 2;
			break;
		}
		if (i == n - 1) {
			if (compile_exit(c, in)) {
				native++;
			} else if (compile_one(c, in)) {
				native++;
				if (!compile_exit(c, &b->insns[n]))	/* the sentinel */
					emit_bail_here(c, &b->insns[n]);
			} else {
				/* The interpreter runs it and leaves the block. */
				emit_bail_here(c, in);
				tail = true;
			}
			break;
		}
		c->dead = flags_dead_after(b, i);
		if (compile_one(c, in)) {
			native++;
		} else {
			emit_call_handler(c, i);
			called++;
		}
	}
	/* Nothing compiled: not worth a trip through the compiled code. */
	if (native == 0)
		goto out;
	for (unsigned int k = 0; k < c->nslow; k++)
		emit_slow(c, &c->slows[k]);
	if (c->e.overflow || c->failed)
		goto out;

	pthread_mutex_lock(&ja->lock);
	off = jit_arena_place(ja, rw, c->e.pos);
	if (off == JIT_NO_ROOM) {
		pthread_mutex_unlock(&ja->lock);
		goto out;
	}
	ja->stats.blocks++;
	ja->stats.insns += native;
	ja->stats.calls += called;
	ja->stats.bailouts += tail;
	ja->stats.bytes = ja->used;
	if (ja->perfmap)
		fprintf(ja->perfmap, "%lx %zx kiln_jit_%llx_%u_at_%zx\n", (unsigned long)(uintptr_t)(ja->rx + off),
			c->e.pos, (unsigned long long)b->pc, b->n, off);
	pthread_mutex_unlock(&ja->lock);
	/*
	 * Published: the next entry into the block runs the compiled code.
	 * A compare-and-swap, so that a block killed meanwhile (its handlers
	 * now op_stale) stays killed.
	 */
	c->rec->code = ja->rx + off;
	if (!__atomic_compare_exchange_n(&b->insns[0].fn, &first,
					 (insn_fn)(void *)(ja->rx + off + JIT_REC_HDR), false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&ja->lock);
		c->rec->chained = 0;
		pthread_mutex_unlock(&ja->lock);
	}
out:
	free(rw);
	free(c);
}

/* ---------------------------------------------------------------------- */

struct jit_arena *jit_arena_create(void)
{
	const char *env = getenv("KILN_SOFT_JIT");
	struct jit_arena *ja;
	int fd;

	if (env && !strcmp(env, "0"))
		return NULL;
	ja = calloc(1, sizeof(*ja));
	if (!ja)
		return NULL;
	fd = memfd_create("kiln-soft-jit", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, JIT_ARENA_SIZE) < 0)
		goto fail;
	ja->rw = mmap(NULL, JIT_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ja->rx = mmap(NULL, JIT_ARENA_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	close(fd);
	fd = -1;
	if (ja->rw == MAP_FAILED || ja->rx == MAP_FAILED)
		goto fail;
	ja->data = mmap(NULL, JIT_DATA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			-1, 0);
	if (ja->data == MAP_FAILED)
		goto fail;
	pthread_mutex_init(&ja->lock, NULL);
	{
		struct code_budget cb;

		code_budget_init(&cb, JIT_ARENA_SIZE);
		ja->limit = cb.limit;
	}
	ja->threshold = JIT_DEFAULT_THRESHOLD;
	env = getenv("KILN_SOFT_JIT_THRESHOLD");
	if (env)
		ja->threshold = strtoul(env, NULL, 0) ?: 1;
	env = getenv("KILN_SOFT_JIT_PERFMAP");
	if (env && !strcmp(env, "1")) {
		char path[64];

		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
		ja->perfmap = fopen(path, "a");
		if (ja->perfmap)
			setvbuf(ja->perfmap, NULL, _IOLBF, 0);
	}
	ja->dump = getenv("KILN_SOFT_JIT_DUMP");
	return ja;
fail:
	pr_warn("soft: no executable memory for the block compiler: %m (interpreting only)");
	if (fd >= 0)
		close(fd);
	if (ja->rw && ja->rw != MAP_FAILED)
		munmap(ja->rw, JIT_ARENA_SIZE);
	if (ja->rx && ja->rx != MAP_FAILED)
		munmap(ja->rx, JIT_ARENA_SIZE);
	if (ja->data && ja->data != MAP_FAILED)
		munmap(ja->data, JIT_DATA_SIZE);
	free(ja);
	return NULL;
}

/* KILN_SOFT_JIT_DUMP: the code, for objdump -D -b binary -mi386:x86-64. */
static void dump_arena(const struct jit_arena *ja)
{
	FILE *f = fopen(ja->dump, "w");

	if (!f || fwrite(ja->rw, 1, ja->used, f) != ja->used)
		pr_warn("soft: cannot write the compiled code to %s: %m", ja->dump);
	if (f)
		fclose(f);
}

void jit_arena_destroy(struct jit_arena *ja)
{
	if (!ja)
		return;
	if (ja->dump)
		dump_arena(ja);
	if (ja->perfmap)
		fclose(ja->perfmap);
	munmap(ja->rw, JIT_ARENA_SIZE);
	munmap(ja->rx, JIT_ARENA_SIZE);
	munmap(ja->data, JIT_DATA_SIZE);
	pthread_mutex_destroy(&ja->lock);
	free(ja);
}

void jit_arena_reset(struct jit_arena *ja, size_t limit)
{
	if (!ja)
		return;
	pthread_mutex_lock(&ja->lock);
	/*
	 * MADV_REMOVE frees the memfd's pages (and unmaps them from both
	 * mappings); MADV_DONTNEED would only unmap them from one.
	 */
	if (ja->used)
		madvise(ja->rw, ALIGN_UP(ja->used, 4096), MADV_REMOVE);
	madvise(ja->data, ja->data_used * sizeof(struct insn), MADV_DONTNEED);
	ja->used = 0;
	ja->rw_mapped = 0;
	ja->patched_end = 0;
	ja->data_used = 0;
	ja->limit = MIN(limit, (size_t)JIT_ARENA_SIZE);
	__atomic_store_n(&ja->want_flush, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ja->lock);
}

bool jit_arena_wants_flush(const struct jit_arena *ja)
{
	return ja && __atomic_load_n(&ja->want_flush, __ATOMIC_RELAXED);
}

unsigned int jit_threshold(const struct jit_arena *ja)
{
	return ja ? ja->threshold : 0;
}

void jit_get_stats(struct jit_arena *ja, struct jit_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!ja)
		return;
	pthread_mutex_lock(&ja->lock);
	*st = ja->stats;
	pthread_mutex_unlock(&ja->lock);
}

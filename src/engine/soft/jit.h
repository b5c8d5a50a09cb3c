/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_JIT_H
#define KILN_ENGINE_SOFT_JIT_H

#include "engine/soft/block.h"

/*
 * The block compiler: turns a hot 64-bit block into host code that does
 * what its handlers would, for the common integer instructions, and hands
 * the rest of the block to the interpreter at the first instruction it
 * does not know. The compiled code is the block's first handler, so the
 * dispatch loop, chaining and invalidation need not know about it.
 */

/* Blocks are compiled after this many runs (KILN_SOFT_JIT_THRESHOLD). */
#define JIT_DEFAULT_THRESHOLD 64

struct jit_arena;

/* NULL when no compiler (KILN_SOFT_JIT=0, or no executable memory). */
struct jit_arena *jit_arena_create(void);
void jit_arena_destroy(struct jit_arena *ja);
/*
 * Drops every compiled block and gives its memory back (with the block
 * cache, all vCPUs stopped); limit: bytes of code allowed from now on.
 */
void jit_arena_reset(struct jit_arena *ja, size_t limit);
/* The code or data arena ran out of room: time for a full flush. */
bool jit_arena_wants_flush(const struct jit_arena *ja);
unsigned int jit_threshold(const struct jit_arena *ja);

/* Compiles b if it can; called once, by one vCPU. */
void jit_compile(struct soft_cpu *cpu, struct block *b);
/*
 * A block was killed, first being its first handler until then: when
 * that was compiled code, compiled exits stop entering it directly.
 */
void jit_block_killed(struct jit_arena *ja, insn_fn first);

struct jit_stats {
	u64 blocks, insns, calls, bailouts, bytes;
};
void jit_get_stats(struct jit_arena *ja, struct jit_stats *st);

#endif

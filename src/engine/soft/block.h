/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_BLOCK_H
#define KILN_ENGINE_SOFT_BLOCK_H

#include <pthread.h>

#include "engine/soft/cpu.h"

/*
 * Translated blocks: straight runs of pre-decoded instructions, ending at
 * a branch, a state change, a page end or BLOCK_MAX_INSNS.
 *
 * A block is keyed by the address it runs at (CS base + RIP), the
 * guest-physical address of its first byte and the decoding mode, so
 * absolute branch targets and RIP-relative addresses are baked in.
 *
 * Invalidation (a write to a page holding code) never frees a block: it
 * unhooks it and points every insn's handler at a stub that leaves the
 * block, so a vCPU still running it - this one or another - stops at the
 * next instruction boundary. Memory comes back only through a full flush,
 * which waits until every vCPU is outside of blocks.
 */

#define BLOCK_MAX_INSNS 64

struct block {
	u64 pc;			/* RIP of the first instruction */
	u64 cs_base;
	u64 lin;		/* linear address of the first instruction */
	u64 phys;		/* guest-physical address of the first byte */
	u64 phys2;		/* second page, when the last insn crosses; ~0 else */
	uintptr_t hva;		/* host address of the first byte (same page: same hva) */
	u32 mode;		/* decoding mode | single-step bit */
	u16 n;			/* guest instructions */
	u16 ninsns;		/* insns[] entries: n + the end sentinel */
	u16 nmem;		/* instructions with a memory operand, for --stats */
	bool valid;
	u32 execs;		/* entries, towards compiling it (jit.c) */
	struct block *hash_next;
	struct block *page_next[2];	/* per guest page lists: [0] first page, [1] phys2 */
	struct block *chain[2];		/* successors: [0] taken/only, [1] fall-through */
	struct insn insns[];
};

#define BLOCK_MODE_SINGLE_STEP 0x100

/* Slot of the per-vCPU jump cache for a block starting at RIP pc. */
static inline unsigned int jmp_cache_slot(u64 pc)
{
	return (pc ^ (pc >> JMP_CACHE_BITS)) & (JMP_CACHE_SIZE - 1);
}

struct soft_vm;
struct code_cache *code_cache_create(struct soft_vm *svm);
void code_cache_destroy(struct code_cache *cc);

/* True when guest-physical page gpa holds translated code. */
bool code_page_is_code(struct code_cache *cc, u64 gpa);
/* A store is about to hit code page gpa_page: drop its blocks. */
void code_page_invalidate(struct soft_cpu *cpu, u64 gpa_page);

/* The block to run at cpu->rip: jump cache, hash table, or translation. */
struct block *block_find(struct soft_cpu *cpu);

/* Figures for --stats. */
struct code_cache_stats {
	u64 blocks, translated_insns, invalidations, flushes, bytes_used;
	u64 lookups_hash, lookups_miss;
};
void code_cache_get_stats(struct code_cache *cc, struct code_cache_stats *st);

/* The block holding in: handlers of the last insn use it to chain. */
static inline struct block *block_of(const struct insn *in)
{
	return container_of(in - in->idx, struct block, insns[0]);
}

/*
 * Full flushes (when the arena is full) stop every vCPU outside of block
 * execution: the vCPU loop brackets cpu_exec() with enter/leave, and calls
 * quiesce when SOFT_REQ_TB_FLUSH is set (also from the HLT wait).
 */
void code_cache_enter_exec(struct soft_cpu *cpu);
void code_cache_leave_exec(struct soft_cpu *cpu);
void code_cache_quiesce(struct soft_cpu *cpu);

/* Counts an entry into b; compiles it when it becomes hot. */
void block_hot(struct soft_cpu *cpu, struct block *b);
static inline void block_count(struct soft_cpu *cpu, struct block *b)
{
	if (unlikely(++b->execs == cpu->jit_threshold))
		block_hot(cpu, b);
}

/* Links prev's exit k straight to next when that is safe (same page, mode). */
void block_chain(struct block *prev, unsigned int k, struct block *next);

#endif

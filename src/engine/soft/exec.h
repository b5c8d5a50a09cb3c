/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_EXEC_H
#define KILN_ENGINE_SOFT_EXEC_H

/* Helpers shared by the instruction handlers (exec_*.c). */

#include "engine/soft/block.h"
#include "engine/soft/cpu.h"
#include "engine/soft/flags.h"
#include "engine/soft/mem.h"
#include "engine/soft/ops.h"

#define OP(name) const struct insn *name(struct soft_cpu *cpu, const struct insn *in)

static const u64 addr_masks[9] = {
	[2] = 0xffffULL, [4] = 0xffffffffULL, [8] = ~0ULL,
};

/* Offset part of the memory operand. */
static inline __attribute__((always_inline)) u64 insn_ea(const struct soft_cpu *cpu, const struct insn *in)
{
	u64 ea = cpu->gpr[in->base] + (cpu->gpr[in->index] << in->scale) + in->disp;

	return ea & addr_masks[in->asize];
}

/* Linear address of seg:offset. */
static inline __attribute__((always_inline)) u64 seg_lin(const struct soft_cpu *cpu, unsigned int seg, u64 off)
{
	return (cpu->seg_base[seg] + off) & cpu->lin_mask;
}

static inline __attribute__((always_inline)) u64 insn_lin(const struct soft_cpu *cpu, const struct insn *in)
{
	if (likely(in->dflags & DF_FLAT))
		return cpu->gpr[in->base] + (cpu->gpr[in->index] << in->scale) + in->disp;
	return seg_lin(cpu, in->seg, insn_ea(cpu, in));
}

/* The r/m operand, register or memory. */
static inline __attribute__((always_inline)) u64 rm_read(struct soft_cpu *cpu, const struct insn *in, unsigned int size)
{
	if (in->flags & INSN_MEM)
		return mem_read(cpu, insn_lin(cpu, in), size);
	return reg_read(cpu, in->rm, size);
}

static inline __attribute__((always_inline)) void rm_write(struct soft_cpu *cpu, const struct insn *in, unsigned int size, u64 v)
{
	if (in->flags & INSN_MEM)
		mem_write(cpu, insn_lin(cpu, in), size, v);
	else
		reg_write(cpu, in->rm, size, v);
}

/* Stack. Writes happen before RSP moves, so a fault leaves RSP alone. */
static inline __attribute__((always_inline)) u64 stack_lin(const struct soft_cpu *cpu, u64 sp)
{
	return seg_lin(cpu, SEG_SS, sp & cpu->sp_mask);
}

static inline __attribute__((always_inline)) void set_sp(struct soft_cpu *cpu, u64 sp)
{
	cpu->gpr[GPR_RSP] = (cpu->gpr[GPR_RSP] & ~cpu->sp_mask) | (sp & cpu->sp_mask);
}

static inline __attribute__((always_inline)) void push(struct soft_cpu *cpu, unsigned int size, u64 v)
{
	u64 sp = cpu->gpr[GPR_RSP] - size;

	mem_write(cpu, stack_lin(cpu, sp), size, v);
	set_sp(cpu, sp);
}

/* Reads the value at the top of the stack without moving RSP. */
static inline __attribute__((always_inline)) u64 stack_peek(struct soft_cpu *cpu, unsigned int size, unsigned int offset)
{
	return mem_read(cpu, stack_lin(cpu, cpu->gpr[GPR_RSP] + offset), size);
}

static inline __attribute__((always_inline)) u64 pop(struct soft_cpu *cpu, unsigned int size)
{
	u64 v = stack_peek(cpu, size, 0);

	set_sp(cpu, cpu->gpr[GPR_RSP] + size);
	return v;
}

/* IP after a branch, truncated to the operand size. */
static inline u64 ip_mask(const struct soft_cpu *cpu, unsigned int osize)
{
	(void)cpu;
	return osize == 2 ? 0xffff : osize == 4 ? 0xffffffffULL : ~0ULL;
}

/* Branch targets must be canonical in 64-bit mode (#GP at the branch). */
static inline void check_target(struct soft_cpu *cpu, u64 target)
{
	if (unlikely(cpu->mode == CPU_MODE_64 && !is_canonical(target)))
		cpu_raise_gp(cpu, 0);
}

/*
 * After an indirect branch (RET, JMP/CALL r/m) to cpu->rip: the target
 * block straight from the jump cache when its page is in the exec TLB,
 * else NULL and the dispatch loop finds it.
 */
static inline const struct insn *goto_indirect(struct soft_cpu *cpu)
{
	u64 pc = cpu->rip, lin = (cpu->seg_base[SEG_CS] + pc) & cpu->lin_mask;
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	const struct block *b;

	if (unlikely(cpu->single_step) || (cpu->rflags & RFLAGS_TF) || cpu->step_once ||
	    __atomic_load_n(cpu->reqs, __ATOMIC_RELAXED) ||
	    unlikely(--cpu->poll_countdown == 0))
		return NULL;
	if (cpu->tlb[idx].tag_x != PAGE_OF(lin))
		return NULL;
	b = cpu->jmp_cache[jmp_cache_slot(pc)];
	if (!b || b->pc != pc || b->mode != cpu->mode || b->phys2 != ~0ULL ||
	    b->phys != (cpu->tlbx[cpu_user(cpu)][idx].gpa | (lin & 0xfff)) ||
	    b->cs_base != cpu->seg_base[SEG_CS] || !b->valid)
		return NULL;
	block_count(cpu, (struct block *)b);
	cpu->stats.insns += b->n;
	cpu->stats.mem_insns += b->nmem;
	cpu->stats.chained++;
	cpu->intr_shadow = 0;
	return b->insns;
}

/*
 * Leaves a block towards chain slot k: straight into the successor when
 * it is linked (or found in the jump cache) and nothing is pending, else
 * back to the dispatch loop.
 */
static inline const struct insn *block_exit(struct soft_cpu *cpu, const struct insn *in, unsigned int k)
{
	struct block *b = block_of(in);
	struct block *next = __atomic_load_n(&b->chain[k], __ATOMIC_RELAXED);

	if (!next) {
		/*
		 * Not linked. Another page's block never will be (block_chain()):
		 * try the jump cache. The same page's goes to the dispatch loop,
		 * which links it.
		 */
		u64 lin = (cpu->seg_base[SEG_CS] + cpu->rip) & cpu->lin_mask;

		if (PAGE_OF(lin) != PAGE_OF(b->lin)) {
			const struct insn *t = goto_indirect(cpu);

			if (t)
				return t;
		}
	} else if (likely(!__atomic_load_n(cpu->reqs, __ATOMIC_RELAXED)) &&
		   likely(--cpu->poll_countdown != 0) && next->pc == cpu->rip) {
		/* No shadow here: STI and MOV SS end their block unchained. */
		block_count(cpu, next);
		cpu->stats.insns += next->n;
		cpu->stats.mem_insns += next->nmem;
		cpu->stats.chained++;
		return next->insns;
	}
	cpu->last_block = b;
	cpu->last_exit = k;
	return NULL;
}

/* Privilege checks. */
static inline void require_cpl0(struct soft_cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_raise_gp(cpu, 0);
}

static inline unsigned int cpu_iopl(const struct soft_cpu *cpu)
{
	return (cpu->rflags >> 12) & 3;
}

/* Adds the RFLAGS arithmetic bits of ADD/SUB/LOGIC results: see flags.h. */
static inline u64 alu_compute(struct soft_cpu *cpu, unsigned int op, unsigned int size, u64 a, u64 b)
{
	u64 r, c;

	switch (op) {
	case ALU_ADD:
		r = a + b;
		cc_set(cpu, CC_K_ADD, size, r, b);
		return r;
	case ALU_OR:
		r = a | b;
		cc_set(cpu, CC_K_LOGIC, size, r, 0);
		return r;
	case ALU_ADC:
		c = cpu_get_cf(cpu);
		r = a + b + c;
		cc_set(cpu, CC_K_ADC, size, r, b);
		cpu->cc_src2 = c;
		return r;
	case ALU_SBB:
		c = cpu_get_cf(cpu);
		r = a - b - c;
		cc_set(cpu, CC_K_SBB, size, r, b);
		cpu->cc_src2 = c;
		return r;
	case ALU_AND:
	case ALU_TEST:
		r = a & b;
		cc_set(cpu, CC_K_LOGIC, size, r, 0);
		return r;
	case ALU_SUB:
	case ALU_CMP:
		r = a - b;
		cc_set(cpu, CC_K_SUB, size, r, b);
		return r;
	default:	/* ALU_XOR */
		r = a ^ b;
		cc_set(cpu, CC_K_LOGIC, size, r, 0);
		return r;
	}
}

/*
 * Read-modify-write of a memory operand: fn computes the new value from
 * the old one (and may set flags). With LOCK, or always when atomic is
 * set, the update is a host compare-and-swap loop on guest RAM.
 */
typedef u64 (*rmw_fn)(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size);
u64 mem_rmw(struct soft_cpu *cpu, const struct insn *in, u64 lin, unsigned int size,
	    rmw_fn fn, u64 arg, bool atomic);

/* POPF/IRET rules for writing RFLAGS (exec_stack.c). */
void cpu_write_rflags(struct soft_cpu *cpu, u64 v, unsigned int size, bool iret);

#endif

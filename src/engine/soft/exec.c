// SPDX-License-Identifier: Apache-2.0
/*
 * The dispatch loop. The longjmp target is set once per cpu_exec() entry;
 * a fault anywhere below comes back here, is delivered, and the loop goes
 * on. Blocks run by calling each insn's handler, which returns the next.
 */
#include <stdio.h>

#include "engine/soft/block.h"
#include "engine/soft/flags.h"
#include "engine/soft/mem.h"
#include "mem/guest_mem.h"
#include "engine/soft/soft.h"

/* Blocks between two looks at timers when nothing else interrupts. */
#define POLL_BLOCKS 2048

/* KILN_SOFT_TRACE: one line per instruction, with its bytes and RAX..RSP. */
static void trace_exec(struct soft_cpu *cpu)
{
	u64 lin = (cpu->seg_base[SEG_CS] + cpu->rip) & cpu->lin_mask, gpa;
	const u8 *p = NULL;

	if (mmu_probe(cpu, lin, &gpa))
		p = gpa_to_hva(cpu->mem, gpa, 8);
	fprintf(stderr, "exec %#x:%#llx m%u", cpu->seg[SEG_CS].selector,
		(unsigned long long)cpu->rip, cpu->mode);
	for (int i = 0; p && i < 8; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, " | rax=%llx rcx=%llx rdx=%llx rbx=%llx rsp=%llx fl=%llx\n",
		(unsigned long long)cpu->gpr[0], (unsigned long long)cpu->gpr[1],
		(unsigned long long)cpu->gpr[2], (unsigned long long)cpu->gpr[3],
		(unsigned long long)cpu->gpr[4], (unsigned long long)cpu_get_rflags(cpu));
}

enum exec_status cpu_exec(struct soft_cpu *cpu, u64 max_insns)
{
	(void)max_insns;
	/*
	 * Chaining counts down from here; at 0 the first decrement would wrap
	 * and let a loop of chained blocks run for 2^32 blocks unpolled.
	 */
	if (cpu->poll_countdown == 0)
		cpu->poll_countdown = POLL_BLOCKS;
	if (_setjmp(cpu->jmp)) {
		cpu->last_block = NULL;
		cpu->step_once = false;
	}

	for (;;) {
		struct block *b;
		const struct insn *in;

		if (unlikely(cpu->fatal))
			return EXEC_ERROR;
		if (cpu->exc_vector >= 0) {
			cpu->last_block = NULL;
			if (cpu->stop_on_exception)
				return EXEC_EXCEPTION;
			cpu_deliver_pending_exception(cpu);
			if (cpu->triple_fault)
				return EXEC_TRIPLE_FAULT;
			continue;
		}
		if (cpu->inject_vector >= 0) {
			int v = cpu->inject_vector;

			cpu->inject_vector = -1;
			cpu->last_block = NULL;
			cpu_deliver_interrupt(cpu, v);
			continue;
		}
		if (cpu->halted || cpu->wait_sipi)
			return EXEC_HALT;
		if (unlikely(cpu->standalone)) {
			if (cpu->rip == cpu->stop_rip || cpu->insn_budget == 0)
				return EXEC_STOP;
			cpu->insn_budget--;
		}

		b = block_find(cpu);
		if (unlikely(cpu->trace_exec))
			trace_exec(cpu);
		if (cpu->last_block) {
			block_chain(cpu->last_block, cpu->last_exit, b);
			cpu->last_block = NULL;
		}
		cpu->intr_shadow = 0;
		block_count(cpu, b);
		cpu->stats.insns += b->n;
		cpu->stats.mem_insns += b->nmem;
		cpu->stats.blocks_run++;
		cpu->db_trap = cpu->rflags & RFLAGS_TF;
		in = b->insns;
		do {
			cpu->cur = in;
			in = in->fn(cpu, in);
		} while (in);
		cpu->cur = NULL;
		/* Kept while the block ran, so that nothing chains past it. */
		cpu->step_once = false;
		/*
		 * RFLAGS.TF at the start of the instruction (blocks are single
		 * instructions then; SYSCALL and SYSRET look at TF at their end
		 * instead): a #DB trap after it, unless a MOV SS shadow delays
		 * it.
		 */
		if (unlikely(cpu->db_trap) && !cpu->intr_shadow && !cpu->halted) {
			cpu->db_trap = false;
			cpu->dr[6] |= 1ULL << 14;	/* BS */
			cpu_raise(cpu, EXC_DB, 0, false);
		}

		if (unlikely(cpu->standalone)) {
			/* Chained blocks come back here at least that often. */
			if (cpu->poll_countdown == 0)
				cpu->poll_countdown = POLL_BLOCKS;
			continue;
		}
		if (__atomic_load_n(cpu->reqs, __ATOMIC_RELAXED) ||
		    cpu->poll_countdown == 0 || --cpu->poll_countdown == 0) {
			cpu->poll_countdown = POLL_BLOCKS;
			return EXEC_CONTINUE;
		}
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_SOFT_STANDALONE_H
#define KILN_ENGINE_SOFT_SOFT_STANDALONE_H

#include "engine/cpu_state.h"
#include "engine/soft/fpu_state.h"
#include "lib/types.h"

/*
 * The soft CPU without a VM: for unit tests and the differential tester.
 *
 *   struct guest_mem mem = {0};
 *   guest_mem_add_region(&mem, 0, size, buffer);
 *   struct soft_cpu *cpu = soft_cpu_create_standalone(&mem);
 *   soft_cpu_enter_long_mode(cpu, 0x1000, 1 << 30, 3);   // or set a state
 *   soft_cpu_set_gpr(cpu, GPR_RAX, 1); soft_cpu_set_rip(cpu, code_gpa);
 *   struct soft_run_info info;
 *   switch (soft_cpu_run(cpu, 1000, end_rip, &info)) { ... }
 *
 * Port I/O reads return all ones and writes are dropped; MMIO (any access
 * outside the guest_mem regions) reads all ones and drops writes. There is
 * no interrupt controller. soft_cpu_run() runs one instruction per block,
 * so the counts and stop conditions are exact; exceptions stop the run
 * (they are reported, not delivered) unless deliver_exceptions is set.
 * Everything here runs on the caller's thread.
 */

struct soft_cpu;
struct guest_mem;

struct soft_cpu *soft_cpu_create_standalone(struct guest_mem *mem);
void soft_cpu_destroy_standalone(struct soft_cpu *cpu);

/* Architectural state in the engine-neutral form (cpu_state.h). */
void soft_cpu_get_state(struct soft_cpu *cpu, struct cpu_state *st);
void soft_cpu_set_state(struct soft_cpu *cpu, const struct cpu_state *st);

u64 soft_cpu_get_gpr(struct soft_cpu *cpu, enum gpr_index r);
void soft_cpu_set_gpr(struct soft_cpu *cpu, enum gpr_index r, u64 v);
u64 soft_cpu_get_rip(struct soft_cpu *cpu);
void soft_cpu_set_rip(struct soft_cpu *cpu, u64 rip);
/* RFLAGS with the lazily computed arithmetic flags folded in. */
u64 soft_cpu_get_rflags(struct soft_cpu *cpu);
void soft_cpu_set_rflags(struct soft_cpu *cpu, u64 rflags);
/* XMM0-15 and MXCSR live in the FXSAVE-layout block (fpu_state.h). */
union xmm *soft_cpu_xmm(struct soft_cpu *cpu, unsigned int n);
u32 *soft_cpu_mxcsr(struct soft_cpu *cpu);

/*
 * Builds identity-mapping page tables (2 MiB pages, user-accessible,
 * writable) at pml4_gpa for [0, map_bytes), and puts the CPU in 64-bit
 * mode at the given CPL with flat segments, CR4.OSFXSR|OSXMMEXCPT set.
 * Needs 2 + map_bytes/1GiB pages of RAM at pml4_gpa. -1 if not RAM.
 */
int soft_cpu_enter_long_mode(struct soft_cpu *cpu, u64 pml4_gpa, u64 map_bytes, unsigned int cpl);

enum soft_run_result {
	SOFT_RUN_BUDGET,	/* max_insns instructions retired */
	SOFT_RUN_STOP_RIP,	/* reached stop_rip (not executed) */
	SOFT_RUN_EXCEPTION,	/* info says which; RIP is the faulting insn */
	SOFT_RUN_HALT,		/* HLT executed */
	SOFT_RUN_TRIPLE_FAULT,
	SOFT_RUN_ERROR,		/* e.g. executing outside RAM */
};

struct soft_run_info {
	u64 insns;		/* retired during this call */
	int vector;		/* SOFT_RUN_EXCEPTION: the vector */
	u32 error_code;
	bool has_error_code;
	bool software;		/* INT n, INT3, INTO (RIP then is the next insn's) */
	u64 cr2;		/* for #PF */
};

/*
 * Guest RAM was written behind the CPU's back (not by guest stores): drop
 * translated code of [gpa, gpa + len). Stores by the guest need no call.
 */
void soft_cpu_code_changed(struct soft_cpu *cpu, u64 gpa, u64 len);

/*
 * Single-step (the default): one instruction per translated block, exact
 * counts and stops. Off: normal blocks, with chaining and fused pairs, as
 * in a VM; max_insns and stop_rip are then checked between blocks only.
 */
void soft_cpu_set_single_step(struct soft_cpu *cpu, bool on);

/*
 * With single-step off, a 64-bit block is compiled to host code at its
 * nth entry (the block compiler, jit.h); 0 never. The default is 64, or
 * KILN_SOFT_JIT_THRESHOLD; with KILN_SOFT_JIT=0 there is no compiler.
 */
void soft_cpu_set_jit_threshold(struct soft_cpu *cpu, unsigned int n);

/*
 * Dirty-page logging of the CPU's writes, as engine.h's set_dirty_logging
 * and get_dirty_log: bitmap holds one bit per 4 KiB page of
 * mem->regions[region] (mem/dirty.h's layout); get returns -ENOENT while
 * logging is off. Writes made behind the CPU's back are not in it.
 */
int soft_cpu_set_dirty_logging(struct soft_cpu *cpu, bool on);
int soft_cpu_get_dirty_log(struct soft_cpu *cpu, unsigned int region, unsigned long *bitmap,
			   bool clear);

/*
 * A REP string instruction ends the step after this many elements and
 * resumes at the next (RIP still at it); 0 restores the default, 65536.
 * Fewer bound the work of a run that loops over long REPs (a fuzzer's).
 */
void soft_cpu_set_rep_yield(struct soft_cpu *cpu, u32 elements);

/* Exceptions are reported (default) or delivered through the guest's IDT. */
void soft_cpu_set_deliver_exceptions(struct soft_cpu *cpu, bool deliver);

/* stop_rip ~0 for none. */
enum soft_run_result soft_cpu_run(struct soft_cpu *cpu, u64 max_insns, u64 stop_rip,
				  struct soft_run_info *info);

#endif

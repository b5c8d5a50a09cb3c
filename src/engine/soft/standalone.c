// SPDX-License-Identifier: Apache-2.0
/* The soft CPU without a VM (soft_standalone.h). */
#include <stdlib.h>
#include <string.h>

#include "engine/soft/block.h"
#include "engine/soft/dirty.h"
#include "engine/soft/jit.h"
#include "engine/soft/flags.h"
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_standalone.h"
#include "mem/guest_mem.h"

struct standalone {
	struct soft_vm svm;
	struct soft_cpu *cpus[1];
};

struct soft_cpu *soft_cpu_create_standalone(struct guest_mem *mem)
{
	struct standalone *s = calloc(1, sizeof(*s));
	struct soft_cpu *cpu;

	if (!s)
		return NULL;
	s->svm.mem = mem;
	s->svm.cpus = s->cpus;
	s->svm.nr_cpus = 1;
	s->svm.cache = code_cache_create(&s->svm);
	if (!s->svm.cache) {
		free(s);
		return NULL;
	}
	s->svm.jit = jit_arena_create();
	cpu = soft_cpu_alloc(&s->svm, NULL);
	if (!cpu) {
		jit_arena_destroy(s->svm.jit);
		code_cache_destroy(s->svm.cache);
		free(s);
		return NULL;
	}
	s->cpus[0] = cpu;
	cpu->single_step = true;
	cpu->standalone = true;
	cpu->jit_threshold = jit_threshold(s->svm.jit);
	cpu->stop_on_exception = true;
	return cpu;
}

void soft_cpu_destroy_standalone(struct soft_cpu *cpu)
{
	struct standalone *s;

	if (!cpu)
		return;
	s = container_of(cpu->svm, struct standalone, svm);
	soft_dirty_free(&s->svm);
	code_cache_destroy(s->svm.cache);
	jit_arena_destroy(s->svm.jit);
	soft_cpu_free(cpu);
	free(s);
}

void soft_cpu_get_state(struct soft_cpu *cpu, struct cpu_state *st)
{
	cpu_get_state(cpu, st);
}

void soft_cpu_set_state(struct soft_cpu *cpu, const struct cpu_state *st)
{
	cpu_set_state(cpu, st);
}

u64 soft_cpu_get_gpr(struct soft_cpu *cpu, enum gpr_index r)
{
	return cpu->gpr[r];
}

void soft_cpu_set_gpr(struct soft_cpu *cpu, enum gpr_index r, u64 v)
{
	if (r < NR_GPRS)
		cpu->gpr[r] = v;
}

u64 soft_cpu_get_rip(struct soft_cpu *cpu)
{
	return cpu->rip;
}

void soft_cpu_set_rip(struct soft_cpu *cpu, u64 rip)
{
	cpu->rip = rip;
}

u64 soft_cpu_get_rflags(struct soft_cpu *cpu)
{
	return cpu_get_rflags(cpu);
}

void soft_cpu_set_rflags(struct soft_cpu *cpu, u64 rflags)
{
	cpu->cc_op = CC_EFLAGS;
	cpu->rflags = rflags | RFLAGS_FIXED;
	cpu_update_tlb_ptr(cpu);
	cpu_update_mode(cpu);
}

union xmm *soft_cpu_xmm(struct soft_cpu *cpu, unsigned int n)
{
	return &cpu->fx.xmm[n & 15];
}

u32 *soft_cpu_mxcsr(struct soft_cpu *cpu)
{
	return &cpu->fx.mxcsr;
}

static void flat(struct segment *s, u16 sel, bool code, bool l, unsigned int dpl)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel | dpl;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->dpl = dpl;
	s->present = 1;
	s->l = l;
	s->db = !l;
	s->g = 1;
}

int soft_cpu_enter_long_mode(struct soft_cpu *cpu, u64 pml4_gpa, u64 map_bytes, unsigned int cpl)
{
	u64 npdpt_entries = (map_bytes + (1ULL << 30) - 1) >> 30;
	u64 pdpt = pml4_gpa + 0x1000, pd = pml4_gpa + 0x2000;
	u64 *p;
	struct cpu_state st;

	if (npdpt_entries == 0 || npdpt_entries > 512)
		return -1;
	p = gpa_to_hva(cpu->mem, pml4_gpa, 0x2000 + npdpt_entries * 0x1000);
	if (!p)
		return -1;
	memset(p, 0, 0x2000 + npdpt_entries * 0x1000);
	p[0] = pdpt | 0x7;
	for (u64 i = 0; i < npdpt_entries; i++) {
		u64 *pde = gpa_to_hva(cpu->mem, pd + i * 0x1000, 0x1000);

		p[512 + i] = (pd + i * 0x1000) | 0x7;
		for (u64 j = 0; j < 512; j++)
			pde[j] = ((i << 30) + (j << 21)) | 0x87;
	}
	cpu_get_state(cpu, &st);
	flat(&st.cs, 0x08, true, true, cpl);
	flat(&st.ss, 0x10, false, false, cpl);
	flat(&st.ds, 0x10, false, false, cpl);
	st.es = st.ds;
	st.fs = st.ds;
	st.gs = st.ds;
	st.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	st.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	st.cr3 = pml4_gpa;
	st.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
	st.rflags = RFLAGS_FIXED;
	cpu_set_state(cpu, &st);
	return 0;
}

void soft_cpu_code_changed(struct soft_cpu *cpu, u64 gpa, u64 len)
{
	for (u64 p = PAGE_OF(gpa); p < gpa + len; p += 0x1000)
		code_page_invalidate(cpu, p);
}

void soft_cpu_set_single_step(struct soft_cpu *cpu, bool on)
{
	cpu->single_step = on;
}

void soft_cpu_set_jit_threshold(struct soft_cpu *cpu, unsigned int n)
{
	cpu->jit_threshold = cpu->svm->jit ? n : 0;
}

void soft_cpu_set_rep_yield(struct soft_cpu *cpu, u32 elements)
{
	cpu->rep_yield = elements;
}

void soft_cpu_set_deliver_exceptions(struct soft_cpu *cpu, bool deliver)
{
	cpu->stop_on_exception = !deliver;
}

enum soft_run_result soft_cpu_run(struct soft_cpu *cpu, u64 max_insns, u64 stop_rip,
				  struct soft_run_info *info)
{
	enum exec_status st;
	u64 before;

	memset(info, 0, sizeof(*info));
	info->vector = -1;
	cpu->insn_budget = max_insns;
	cpu->stop_rip = stop_rip;
	cpu->halted = false;
	cpu->fatal = NULL;
	before = cpu->insn_budget;
	st = cpu_exec(cpu, max_insns);
	info->insns = before - cpu->insn_budget;
	switch (st) {
	case EXEC_EXCEPTION:
		info->vector = cpu->exc_vector;
		info->error_code = cpu->exc_error;
		info->has_error_code = cpu->exc_has_error;
		info->software = cpu->exc_soft;
		info->cr2 = cpu->cr2;
		if (cpu->exc_soft)
			cpu->rip = cpu->exc_next_rip;
		cpu->exc_vector = -1;
		if (info->insns)
			info->insns--;	/* the faulting one did not retire */
		return SOFT_RUN_EXCEPTION;
	case EXEC_HALT:
		return SOFT_RUN_HALT;
	case EXEC_TRIPLE_FAULT:
		return SOFT_RUN_TRIPLE_FAULT;
	case EXEC_ERROR:
		return SOFT_RUN_ERROR;
	default:
		return cpu->rip == stop_rip ? SOFT_RUN_STOP_RIP : SOFT_RUN_BUDGET;
	}
}

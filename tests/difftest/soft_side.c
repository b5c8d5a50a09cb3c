// SPDX-License-Identifier: Apache-2.0
/*
 * The soft side: the same sequence on a standalone soft CPU
 * (engine/soft/soft_standalone.h) at CPL 3 in 64-bit mode.
 *
 * Guest RAM is three regions: the page tables at GPA 0, and the code and
 * data pages at the same addresses as the native side. The page tables
 * map exactly the pages the native process has (4 KiB pages, the data
 * no-execute), nothing else, so every stray access faults as natively.
 * Segment selectors, CR0.AM and the FS/GS bases are the host's, so the
 * sequence cannot tell the two apart.
 *
 * Three modes: one instruction per block (the standalone default, exact
 * stops); normal multi-instruction blocks with chaining, where the
 * block-level bugs live (lazy flags across instructions, faults in the
 * middle of a block); and the same blocks compiled to host code by the
 * block compiler (engine/soft/jit.h) at their first entry. In that mode
 * a sequence can run a second time on the blocks the first run left
 * (soft_side_rerun()): compiled, linked to each other and in the jump
 * cache, which is how hot code runs in a VM.
 */
#include <stdlib.h>
#include <string.h>

#include "dt.h"
#include "engine/soft/cpu.h"
#include "engine/soft/jit.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_standalone.h"
#include "mem/guest_mem.h"

#define PT_BYTES 0x4000ULL		/* PML4, PDPT, PD, one PT */
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_NX (1ULL << 63)
/* Runs on one CPU before it is replaced: bounds its translated-code cache. */
#define RUNS_PER_CPU 4096
/* Instructions (single-step) or blocks a sequence may take. */
#define RUN_BUDGET 100000

struct soft_side {
	struct guest_mem mem;
	u8 *pt, *code, *data;
	struct soft_cpu *cpu;
	unsigned int runs;
	enum dt_mode mode;
	u64 insns, blocks;		/* of CPUs already replaced */
	struct jit_stats jit;		/* of CPUs already replaced */
	struct dt_host_segs segs;
};

static void build_page_tables(u8 *pt)
{
	u64 *pml4 = (u64 *)pt, *pdpt = (u64 *)(pt + 0x1000);
	u64 *pd = (u64 *)(pt + 0x2000), *ptes = (u64 *)(pt + 0x3000);
	u64 user = PTE_P | PTE_RW | PTE_US;

	memset(pt, 0, PT_BYTES);
	pml4[0] = 0x1000 | user;
	pdpt[(DT_CODE_BASE >> 30) & 511] = 0x2000 | user;
	pd[(DT_CODE_BASE >> 21) & 511] = 0x3000 | user;
	_Static_assert((DT_CODE_BASE >> 21) == ((DT_DATA_END - 1) >> 21),
		       "code and data share one page table");
	for (u64 a = DT_CODE_BASE; a < DT_CODE_BASE + DT_CODE_SIZE; a += 0x1000)
		ptes[(a >> 12) & 511] = a | user;
	for (u64 a = DT_DATA_BASE; a < DT_DATA_END; a += 0x1000)
		ptes[(a >> 12) & 511] = a | user | PTE_NX;
}

static struct fxsave_area *soft_fx(struct soft_cpu *cpu)
{
	/* soft_standalone.h: XMM and MXCSR live in the FXSAVE-layout block. */
	return container_of(soft_cpu_xmm(cpu, 0), struct fxsave_area, xmm[0]);
}

static void host_segment(struct segment *s, u16 sel)
{
	s->selector = sel;
}

static int new_cpu(struct soft_side *s)
{
	struct cpu_state st;

	if (s->cpu) {
		struct jit_stats js;

		s->insns += s->cpu->stats.insns;
		s->blocks += s->cpu->stats.blocks_run;
		jit_get_stats(s->cpu->svm->jit, &js);
		s->jit.blocks += js.blocks;
		s->jit.insns += js.insns;
		s->jit.calls += js.calls;
		s->jit.bailouts += js.bailouts;
		soft_cpu_destroy_standalone(s->cpu);
	}
	s->cpu = soft_cpu_create_standalone(&s->mem);
	if (!s->cpu)
		return -1;
	if (soft_cpu_enter_long_mode(s->cpu, 0, 1ULL << 30, 3))
		return -1;
	build_page_tables(s->pt);
	soft_cpu_get_state(s->cpu, &st);
	host_segment(&st.cs, s->segs.cs);
	host_segment(&st.ss, s->segs.ss);
	host_segment(&st.ds, s->segs.ds);
	host_segment(&st.es, s->segs.es);
	host_segment(&st.fs, s->segs.fs);
	host_segment(&st.gs, s->segs.gs);
	/* Linux runs user code with CR0.AM: RFLAGS.AC turns on #AC. */
	st.cr0 |= CR0_AM;
	soft_cpu_set_state(s->cpu, &st);
	soft_cpu_set_single_step(s->cpu, s->mode == DT_MODE_SINGLE);
	/* Every block compiled at its first entry, or none. */
	soft_cpu_set_jit_threshold(s->cpu, s->mode == DT_MODE_JIT ? 1 : 0);
	s->runs = 0;
	return 0;
}

struct soft_side *soft_side_new(const struct dt_host_segs *segs, enum dt_mode mode)
{
	struct soft_side *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->segs = *segs;
	s->mode = mode;
	s->pt = aligned_alloc(4096, PT_BYTES);
	s->code = aligned_alloc(4096, DT_CODE_SIZE);
	s->data = aligned_alloc(4096, DT_DATA_SIZE);
	if (!s->pt || !s->code || !s->data ||
	    guest_mem_add_region(&s->mem, 0, PT_BYTES, s->pt) ||
	    guest_mem_add_region(&s->mem, DT_CODE_BASE, DT_CODE_SIZE, s->code) ||
	    guest_mem_add_region(&s->mem, DT_DATA_BASE, DT_DATA_SIZE, s->data) ||
	    new_cpu(s)) {
		soft_side_free(s);
		return NULL;
	}
	return s;
}

void soft_side_blocks(const struct soft_side *s, u64 *insns, u64 *blocks)
{
	*insns = s->insns + s->cpu->stats.insns;
	*blocks = s->blocks + s->cpu->stats.blocks_run;
}

void soft_side_jit_stats(const struct soft_side *s, struct jit_stats *st)
{
	struct jit_stats js;

	jit_get_stats(s->cpu->svm->jit, &js);
	*st = s->jit;
	st->blocks += js.blocks;
	st->insns += js.insns;
	st->calls += js.calls;
	st->bailouts += js.bailouts;
}

bool soft_side_compiles(const struct soft_side *s)
{
	return s->cpu->svm->jit != NULL;
}

void soft_side_free(struct soft_side *s)
{
	if (!s)
		return;
	soft_cpu_destroy_standalone(s->cpu);
	free(s->pt);
	free(s->code);
	free(s->data);
	free(s);
}

static void load_state(struct soft_side *s, const struct dt_regs *r)
{
	struct cpu_state st;

	/* The full state (it flushes the TLB) only when the bases change. */
	soft_cpu_get_state(s->cpu, &st);
	if (st.fs.base != r->fs_base || st.gs.base != r->gs_base) {
		st.fs.base = r->fs_base;
		st.gs.base = r->gs_base;
		soft_cpu_set_state(s->cpu, &st);
	}
	for (int i = 0; i < NR_GPRS; i++)
		soft_cpu_set_gpr(s->cpu, i, r->gpr[i]);
	soft_cpu_set_rip(s->cpu, r->rip);
	soft_cpu_set_rflags(s->cpu, r->rflags);
	*soft_fx(s->cpu) = r->fx;
}

static void save_state(struct soft_side *s, struct dt_regs *r)
{
	struct cpu_state st;

	soft_cpu_get_state(s->cpu, &st);
	memcpy(r->gpr, st.gpr, sizeof(r->gpr));
	r->rip = soft_cpu_get_rip(s->cpu);
	r->rflags = soft_cpu_get_rflags(s->cpu);
	r->fs_base = st.fs.base;
	r->gs_base = st.gs.base;
	r->fx = *soft_fx(s->cpu);
}

/* Runs the sequence from its initial state on the blocks the CPU has now. */
static void run(struct soft_side *s, const struct dt_seq *seq, struct dt_outcome *out)
{
	u64 stop = native_exit_address(), left = RUN_BUDGET;
	struct soft_run_info info;
	enum soft_run_result res;

	memcpy(s->data, seq->data, DT_DATA_SIZE);
	load_state(s, &seq->init);

	out->vector = -1;
	out->error_code = 0;
	out->cr2 = 0;
	out->error = NULL;
	do {
		res = soft_cpu_run(s->cpu, left, stop, &info);
		left -= info.insns < left ? info.insns : left;
	} while (res == SOFT_RUN_BUDGET && left > 0 && info.insns > 0);

	switch (res) {
	case SOFT_RUN_STOP_RIP:
		break;
	case SOFT_RUN_EXCEPTION:
		out->vector = info.vector;
		out->error_code = info.has_error_code ? info.error_code : 0;
		out->cr2 = info.vector == EXC_PF ? info.cr2 : 0;
		break;
	case SOFT_RUN_BUDGET:
		out->error = "soft: still running after the budget (a loop?)";
		break;
	case SOFT_RUN_HALT:
		out->error = "soft: HLT completed at CPL 3";
		break;
	case SOFT_RUN_TRIPLE_FAULT:
		out->error = "soft: triple fault";
		break;
	case SOFT_RUN_ERROR:
		out->error = "soft: engine error (SOFT_RUN_ERROR)";
		break;
	}
	save_state(s, &out->regs);
	memcpy(out->data, s->data, DT_DATA_SIZE);
}

void soft_side_run(struct soft_side *s, const struct dt_seq *seq, struct dt_outcome *out)
{
	if (s->runs++ >= RUNS_PER_CPU && new_cpu(s)) {
		out->error = "soft: cannot create a CPU";
		return;
	}
	memcpy(s->code, seq->code, seq->len + DT_EXIT_STUB_LEN);
	soft_cpu_code_changed(s->cpu, DT_CODE_BASE, DT_CODE_SIZE);
	run(s, seq, out);
}

bool soft_side_rerun(struct soft_side *s, const struct dt_seq *seq, struct dt_outcome *out)
{
	/* A sequence that wrote to its own code ran on other blocks: none to reuse. */
	if (memcmp(s->code, seq->code, seq->len + DT_EXIT_STUB_LEN))
		return false;
	run(s, seq, out);
	return true;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_CPU_H
#define KILN_ENGINE_SOFT_CPU_H

#include <setjmp.h>

#include "engine/cpu_state.h"
#include "engine/soft/fpu_state.h"
#include "lib/types.h"

/*
 * The soft engine's vCPU: architectural state plus the caches that make the
 * interpreter fast (software TLB, block jump cache). One per vCPU thread;
 * nothing in here is touched by another thread except `reqs`.
 */

struct soft_vm;
struct vcpu;
struct guest_mem;
struct block;

/* Decoding modes: the default operand/address size of the code segment. */
enum cpu_mode {
	CPU_MODE_16,	/* real mode, or a 16-bit protected-mode segment */
	CPU_MODE_32,	/* 32-bit protected or compatibility mode */
	CPU_MODE_64,	/* 64-bit long mode */
};

/* Segment registers in encoding order. */
enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, NR_SEGS };

/* A base or index register that is absent reads as gpr[REG_ZERO] == 0. */
#define REG_ZERO 16

/* Exception vectors. */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
	EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11,
	EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17,
	EXC_MC = 18, EXC_XM = 19,
};

/* Page-fault error code bits. */
#define PFEC_P		(1u << 0)
#define PFEC_W		(1u << 1)
#define PFEC_U		(1u << 2)
#define PFEC_RSVD	(1u << 3)
#define PFEC_I		(1u << 4)

/* ---------------------------------------------------------------------- */
/* Pre-decoded instructions                                               */
/* ---------------------------------------------------------------------- */

struct soft_cpu;
struct insn;

/*
 * Every instruction is one handler call. A handler returns the next insn
 * to run: in + 1 within a block, the first insn of a chained block, or
 * NULL to go back to the dispatch loop (which then looks up cpu->rip).
 *
 * RIP is kept lazily: while a block runs, cpu->rip is the address of the
 * block's first instruction and cpu->cur the running insn, whose address
 * is cpu->rip + cur->pcoff (insn_rip()). A fault folds the two (so the
 * guest sees the faulting instruction's address); a handler that leaves
 * the block sets cpu->rip to where execution continues.
 */
typedef const struct insn *(*insn_fn)(struct soft_cpu *cpu, const struct insn *in);

#define INSN_MEM	(1u << 0)	/* ModRM.rm names memory */
#define INSN_LOCK	(1u << 1)	/* F0 */
#define INSN_REP	(1u << 2)	/* F3 */
#define INSN_REPNE	(1u << 3)	/* F2 */
#define INSN_REXW	(1u << 4)
#define INSN_REX	(1u << 5)	/* any REX prefix (byte regs are SPL.. not AH..) */
#define INSN_SEGOVR	(1u << 6)	/* explicit segment override */

/*
 * One decoded instruction. Byte-register operands in reg/rm are encoded
 * so that gpr8() finds them: 0..15, or 0x10|n for AH, CH, DH, BH.
 */
struct insn {
	insn_fn fn;
	union {
		u64 imm;	/* immediate; branch target (absolute) */
		const void *aux;/* SSE semantic function and the like */
	};
	u64 disp;		/* displacement; absolute for RIP-relative */
	u8 len;			/* bytes, 1..15 */
	u8 osize;		/* operand size in bytes: 1, 2, 4, 8 */
	u8 asize;		/* address size in bytes: 2, 4, 8 */
	u8 seg;			/* enum seg_reg of the memory operand */
	u8 reg;			/* ModRM.reg (+REX.R), or opcode register */
	u8 rm;			/* ModRM.rm (+REX.B), register forms */
	u8 base;		/* REG_ZERO when absent */
	u8 index;		/* REG_ZERO when absent */
	u8 scale;		/* shift count 0..3 */
	u8 flags;		/* INSN_* */
	u8 sub;			/* variant: ALU op, condition, /digit, SSE form */
	u8 imm8;		/* second immediate: ENTER level, SSE imm8 */
	u16 opcode;		/* (map << 8) | opcode byte; map 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
	u16 idx;		/* position in its block */
	u8 modrm;		/* raw ModRM byte (x87) */
	u8 prefix;		/* SSE mandatory prefix, enum sse_prefix */
	u8 sse_flags;		/* SSE_F_* */
	u8 dflags;		/* DF_*: what the block translator needs to know */
	u32 pcoff;		/* offset from the block's first instruction */
};

#define DF_END		(1u << 0)	/* ends the block */
#define DF_JUMP		(1u << 1)	/* direct branch: imm is the absolute target */
#define DF_COND		(1u << 2)	/* conditional: may also fall through */
#define DF_UD		(1u << 3)	/* undefined: the handler raises #UD */
#define DF_FLAT		(1u << 4)	/* 64-bit addressing, segment base 0: linear = EA */

/*
 * Decodes one instruction from bytes[0..len) without a CPU: for the block
 * translator and the fuzzer. Returns the instruction length (1..15), or a
 * negative exception: -EXC_UD for an undefined encoding, -EXC_GP for an
 * instruction longer than 15 bytes, and -(EXC_PF + 0x100) when len is too
 * short to tell (the caller fetches more bytes or reports a fetch fault).
 * Never reads bytes[len] or beyond, never reads more than 15 bytes.
 */
#define DECODE_NEED_MORE (-(EXC_PF + 0x100))
int soft_decode(const u8 *bytes, size_t len, enum cpu_mode mode, struct insn *out);
/*
 * The same, for code at offset pc in CS: branch targets and RIP-relative
 * addresses become absolute, as the block translator wants them.
 */
int decode_insn(const u8 *bytes, size_t len, enum cpu_mode mode, u64 pc, struct insn *out);

/* ---------------------------------------------------------------------- */
/* Software TLB                                                           */
/* ---------------------------------------------------------------------- */

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID (~0ULL)	/* never equal to a page-aligned tag */

/*
 * HVA = linear + addend. A tag is the page-aligned linear address, kept
 * apart for read, write and execute so one entry can allow reads only
 * (clean PTE, code page, read-only mapping).
 */
struct tlb_entry {
	u64 tag_r, tag_w, tag_x;
	intptr_t addend;
};

/*
 * Slow-path view of an entry: the tags the guest's page tables allow
 * (v*), whether or not the fast path may use them (MMIO, code pages and
 * clean pages stay slow), and the guest-physical page.
 */
struct tlb_extra {
	u64 vtag_r, vtag_w, vtag_x;
	u64 gpa;		/* guest-physical page */
	bool global;		/* survives CR3 writes with CR4.PGE */
};

/* TLB 0 serves CPL 0-2 and implicit supervisor accesses, TLB 1 CPL 3. */
#define TLB_SUPER 0
#define TLB_USER 1

/* 16384 entries (128 KiB): a Linux boot misses half as often as with 4096. */
#define JMP_CACHE_BITS 14
#define JMP_CACHE_SIZE (1u << JMP_CACHE_BITS)

/* ---------------------------------------------------------------------- */
/* The CPU                                                                */
/* ---------------------------------------------------------------------- */

struct soft_cpu_stats {
	u64 insns;		/* retired, counted per block entry */
	u64 blocks_run;
	u64 mem_insns;		/* instructions with a memory operand, per block entry */
	u64 tlb_misses;
	u64 tlb_flushes;
	u64 tlb_page_flushes;
	u64 jc_hits, jc_misses;
	u64 chained;
	u64 exceptions;
	u64 interrupts;
	u64 smc_invalidations;
};

struct soft_cpu {
	/* Hot state first. */
	u64 gpr[NR_GPRS + 1];		/* + gpr[REG_ZERO], always 0 */
	u64 rip;			/* in a block: the block's start (see insn_fn) */
	const struct insn *cur;		/* the running insn, NULL between blocks */
	/* Lazy flags: see flags.h. */
	u64 cc_dst, cc_src, cc_src2;
	u32 cc_op;
	u32 cpl;
	u32 cc_prev_op;			/* CC_K_ROT: the operation before the rotate */
	u64 cc_prev_dst, cc_prev_src, cc_prev_src2;
	u64 rflags;			/* arithmetic bits valid only under CC_EFLAGS */
	u64 seg_base[NR_SEGS];		/* base used for addressing (0 in 64-bit for ES/CS/SS/DS) */
	struct tlb_entry *tlb;		/* the TLB of the current CPL */
	u64 sp_mask;			/* 0xffff, 0xffffffff or ~0 per SS.B / mode */
	u64 lin_mask;			/* 0xffffffff outside 64-bit mode */
	unsigned int *reqs;		/* "something pending": vcpu->requests */
	u8 mode;			/* enum cpu_mode of CS */
	u8 intr_shadow;			/* 1 after STI / MOV SS / POP SS */
	bool halted;
	bool single_step;		/* translate blocks of one instruction */
	bool db_trap;			/* a single-step #DB is due after this block */
	bool step_once;			/* the next block is one instruction (shadow ends) */
	bool trace_exec;		/* debug: log every block entry (KILN_SOFT_TRACE) */

	struct segment seg[NR_SEGS];
	struct segment ldt, tr;
	struct dtable gdt, idt;
	u64 cr0, cr2, cr3, cr4, cr8;
	u64 efer;
	u64 dr[8];
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 pat, tsc_aux, tsc_offset, misc_enable, apic_base, mtrr_def_type;
	u64 hwcr, de_cfg;		/* AMD MSRs Linux touches on this family */
	u64 k7_perf[8];			/* legacy PMU: EVNTSEL0-3, PERFCTR0-3 (not counting) */
	const char *fatal;		/* why the engine cannot go on (EXEC_ERROR) */

	/* Exception being raised (set before the longjmp to the run loop). */
	int exc_vector;			/* -1 none */
	u32 exc_error;
	bool exc_has_error;
	bool exc_soft;			/* INT n / INT3 / INTO: pushes the next RIP */
	u64 exc_next_rip;		/* RIP pushed for software interrupts */
	int delivering;			/* vector being delivered, -1 none (double fault) */
	bool triple_fault;
	jmp_buf jmp;

	/* Where the last block left, so the loop can chain its successor. */
	struct block *last_block;
	unsigned int last_exit;
	bool nmi_blocked;		/* from NMI delivery until IRET */
	int inject_vector;		/* external interrupt to deliver at loop entry, -1 none */

	/* Standalone runs: stop conditions (soft_standalone.h). */
	u64 insn_budget;		/* single-step mode: stop after this many */
	bool standalone;		/* insn_budget and stop_rip apply */
	u32 rep_yield;			/* standalone: REP elements per step, 0 the default */
	u64 stop_rip;			/* ~0 none */
	bool stop_on_exception;		/* report exceptions instead of delivering */
	bool stop_requested;

	struct tlb_entry tlbs[2][TLB_SIZE];
	/*
	 * Never filled: cpu->tlb points here while alignment checking is on
	 * (CPL 3, CR0.AM, RFLAGS.AC), so every access takes the slow path,
	 * which checks alignment.
	 */
	struct tlb_entry tlb_none[TLB_SIZE];
	struct tlb_extra tlbx[2][TLB_SIZE];
	u64 tlb_large_lo, tlb_large_hi;	/* range holding large-page entries */
	/*
	 * Slots filled with non-global entries since the last CR3 write, so
	 * that the next one drops just those (a full scan on overflow).
	 */
	u16 ng_slots[512];
	unsigned int ng_count;
	struct block *jmp_cache[JMP_CACHE_SIZE];

	struct fxsave_area fx;

	struct soft_vm *svm;
	struct vcpu *vcpu;		/* NULL for standalone CPUs */
	struct guest_mem *mem;
	unsigned int dummy_reqs;	/* reqs target for standalone CPUs */

	/* Interrupt plumbing (soft_irq_glue.c). */
	void *lapic;			/* struct lapic, NULL without an irqchip */
	int sleeping;			/* in the HLT futex wait (atomic) */
	int exec_active;		/* inside cpu_exec(): blocks may be running (atomic) */
	unsigned int dirty_acks;	/* SOFT_REQ_DIRTY_SYNC requests served (atomic) */
	unsigned int poll_countdown;	/* blocks until timers are polled again */
	unsigned int jit_threshold;	/* entries before a block is compiled, 0 never */
	bool nmi_pending;
	bool wait_sipi;			/* AP waiting for a startup IPI */
	int sipi_vector;		/* -1 none */
	bool init_pending;

	struct soft_cpu_stats stats;
};

/* vcpu->requests bits owned by the soft engine. */
#define SOFT_REQ_IRQ		(1u << 8)	/* the irqchip has something for us */
#define SOFT_REQ_FLUSH_CODE	(1u << 9)	/* drop write TLB entries to code pages */
#define SOFT_REQ_TB_FLUSH	(1u << 10)	/* block cache flush: park at a boundary */
#define SOFT_REQ_INIT		(1u << 11)	/* INIT / SIPI arrived */
#define SOFT_REQ_NMI		(1u << 12)
#define SOFT_REQ_DIRTY_SYNC	(1u << 13)	/* dirty log cleared: pass a boundary (dirty.h) */

/* ---------------------------------------------------------------------- */
/* Register helpers                                                       */
/* ---------------------------------------------------------------------- */

static inline __attribute__((always_inline)) u8 *gpr8(struct soft_cpu *cpu, unsigned int r)
{
	return (u8 *)&cpu->gpr[r & 15] + (r >> 4);
}

static inline u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Reads a general register of the given size (byte registers as gpr8). */
static inline __attribute__((always_inline)) u64 reg_read(struct soft_cpu *cpu, unsigned int r, unsigned int size)
{
	switch (size) {
	case 1: return *gpr8(cpu, r);
	case 2: return (u16)cpu->gpr[r];
	case 4: return (u32)cpu->gpr[r];
	default: return cpu->gpr[r];
	}
}

/* Writes with x86 semantics: 32-bit writes zero-extend, 8/16 merge. */
static inline __attribute__((always_inline)) void reg_write(struct soft_cpu *cpu, unsigned int r, unsigned int size, u64 v)
{
	switch (size) {
	case 1: *gpr8(cpu, r) = v; break;
	case 2: cpu->gpr[r] = (cpu->gpr[r] & ~0xffffULL) | (u16)v; break;
	case 4: cpu->gpr[r] = (u32)v; break;
	default: cpu->gpr[r] = v; break;
	}
}

static inline bool cpu_long_mode(const struct soft_cpu *cpu)
{
	return cpu->efer & EFER_LMA;
}

static inline bool cpu_paging(const struct soft_cpu *cpu)
{
	return cpu->cr0 & CR0_PG;
}

static inline bool cpu_real_mode(const struct soft_cpu *cpu)
{
	return !(cpu->cr0 & CR0_PE);
}

/* True for canonical 48-bit addresses. */
static inline bool is_canonical(u64 a)
{
	return (u64)((s64)(a << 16) >> 16) == a;
}

/* The address of a running insn, and of the one after it. */
static inline u64 insn_rip(const struct soft_cpu *cpu, const struct insn *in)
{
	return cpu->rip + in->pcoff;
}

static inline u64 insn_next_rip(const struct soft_cpu *cpu, const struct insn *in)
{
	return cpu->rip + in->pcoff + in->len;
}

/* The exact RIP at any time (mid-block too). */
static inline u64 cpu_current_rip(const struct soft_cpu *cpu)
{
	return cpu->rip + (cpu->cur ? cpu->cur->pcoff : 0);
}

/*
 * Retires the running instruction and runs the next one of the block: a
 * tail call, so a block runs as a chain of jumps between handlers (the
 * compiler turns it into a jump at -O2; without that the depth is still
 * bounded by the block's length, as a block's last insn never continues).
 */
static inline const struct insn *next_insn(struct soft_cpu *cpu, const struct insn *in)
{
	in++;
	cpu->cur = in;
	return in->fn(cpu, in);
}

/* Retires the running instruction and leaves the block after it. */
static inline const struct insn *retire_exit(struct soft_cpu *cpu, const struct insn *in)
{
	cpu->rip = insn_next_rip(cpu, in);
	cpu->cur = NULL;
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Cross-file entry points                                                */
/* ---------------------------------------------------------------------- */

/* except.c: raise an exception from anywhere inside a handler. */
_Noreturn void cpu_raise(struct soft_cpu *cpu, int vector, u32 error, bool has_error);
_Noreturn void cpu_raise_gp(struct soft_cpu *cpu, u32 error);
_Noreturn void cpu_raise_ud(struct soft_cpu *cpu);
_Noreturn void cpu_raise_pf(struct soft_cpu *cpu, u64 addr, u32 error);
/* A software interrupt (INT n, INT3, INTO): RIP pushed is the next insn. */
_Noreturn void cpu_raise_soft_int(struct soft_cpu *cpu, int vector, u64 next_rip);
/* Leaves the block without an exception: the run loop looks at rip again. */
_Noreturn void cpu_exit_loop(struct soft_cpu *cpu);
/*
 * Delivers an event through the IDT/IVT. Runs in the run loop after the
 * longjmp; itself raises (nested) when the delivery faults.
 */
void cpu_deliver_pending_exception(struct soft_cpu *cpu);
void cpu_deliver_interrupt(struct soft_cpu *cpu, int vector);

/* Segment state changed: recompute cached mode, masks and bases. */
void cpu_update_mode(struct soft_cpu *cpu);
/* CPL changed (or CR0.PG/WP): pick the TLB. */
void cpu_set_cpl(struct soft_cpu *cpu, unsigned int cpl);
/* CPL, CR0.AM or RFLAGS.AC changed: alignment checking on or off. */
void cpu_update_tlb_ptr(struct soft_cpu *cpu);

static inline bool cpu_alignment_check(const struct soft_cpu *cpu)
{
	return cpu->tlb == cpu->tlb_none;
}

/* Reset to the power-on state (also INIT). */
void cpu_reset(struct soft_cpu *cpu, bool init_only);

void cpu_get_state(struct soft_cpu *cpu, struct cpu_state *st);
void cpu_set_state(struct soft_cpu *cpu, const struct cpu_state *st);

#endif

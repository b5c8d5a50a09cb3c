// SPDX-License-Identifier: Apache-2.0
/*
 * String instructions with REP/REPE/REPNE. Registers are updated after
 * every element, so a fault in the middle leaves a restartable state, as
 * on hardware. REP MOVS/STOS copy whole page runs with memmove/memset when
 * both sides are plain RAM and the overlap allows it. A long REP yields to
 * pending requests and resumes (RIP still points at it).
 */
#include <string.h>

#include "engine/soft/exec.h"
#include "engine/soft/io_perm.h"
#include "engine/soft/soft.h"

#define REP_YIELD_ELEMENTS 65536

static u64 areg(const struct soft_cpu *cpu, unsigned int r, const struct insn *in)
{
	return cpu->gpr[r] & addr_masks[in->asize];
}

static void set_areg(struct soft_cpu *cpu, unsigned int r, const struct insn *in, u64 v)
{
	reg_write(cpu, r, in->asize, v);
}

static s64 step_of(const struct soft_cpu *cpu, unsigned int size)
{
	return (cpu->rflags & RFLAGS_DF) ? -(s64)size : (s64)size;
}

/* Host pointer to lin when the fast TLB path allows acc, after a fill. */
static void *fast_ptr(struct soft_cpu *cpu, u64 lin, enum mem_access acc)
{
	struct tlb_entry *e = tlb_slot(cpu->tlb, lin);
	u64 page = PAGE_OF(lin);

	if ((acc == ACC_WRITE ? e->tag_w : e->tag_r) != page) {
		tlb_fill(cpu, lin, acc, cpu_user(cpu));
		if ((acc == ACC_WRITE ? e->tag_w : e->tag_r) != page)
			return NULL;
	}
	return (void *)(uintptr_t)(lin + e->addend);
}

/*
 * Elements that fit a page on both sides without wrapping the address
 * size, going in the direction of DF.
 */
static u64 run_len(const struct soft_cpu *cpu, const struct insn *in, u64 lin, u64 off,
		   unsigned int size, u64 count)
{
	u64 n, amask = addr_masks[in->asize];

	if (cpu->rflags & RFLAGS_DF) {
		/* Downwards from lin, whose element must not cross the page end. */
		if ((lin & 0xfff) + size > 0x1000)
			return 0;
		n = (lin & 0xfff) / size + 1;
		n = MIN(n, off / size + 1);
	} else {
		n = (0x1000 - (lin & 0xfff)) / size;
		if (amask != ~0ULL)
			n = MIN(n, (amask - off + 1) / size);
	}
	return MIN(n, count);
}

/* One run of REP MOVS; returns the elements done, 0 to go element-wise. */
static u64 movs_run(struct soft_cpu *cpu, const struct insn *in, unsigned int size, u64 count)
{
	u64 si = areg(cpu, GPR_RSI, in), di = areg(cpu, GPR_RDI, in);
	u64 src = seg_lin(cpu, in->seg, si), dst = seg_lin(cpu, SEG_ES, di);
	u64 n = MIN(run_len(cpu, in, src, si, size, count), run_len(cpu, in, dst, di, size, count));
	bool down = cpu->rflags & RFLAGS_DF;
	u8 *ps, *pd;
	u64 bytes;

	if (n < 2)
		return 0;
	ps = fast_ptr(cpu, src, ACC_READ);
	pd = fast_ptr(cpu, dst, ACC_WRITE);
	if (!ps || !pd)
		return 0;
	bytes = n * size;
	if (down) {
		ps -= bytes - size;
		pd -= bytes - size;
		/* Backward copies replicate when dst is below src and overlaps. */
		if (pd < ps && pd + bytes > ps)
			return 0;
	} else if (pd > ps && pd < ps + bytes) {
		return 0;
	}
	memmove(pd, ps, bytes);
	set_areg(cpu, GPR_RSI, in, si + n * step_of(cpu, size));
	set_areg(cpu, GPR_RDI, in, di + n * step_of(cpu, size));
	return n;
}

static u64 stos_run(struct soft_cpu *cpu, const struct insn *in, unsigned int size, u64 count)
{
	u64 di = areg(cpu, GPR_RDI, in), dst = seg_lin(cpu, SEG_ES, di);
	u64 n = run_len(cpu, in, dst, di, size, count), v = cpu->gpr[GPR_RAX];
	u8 *pd;

	if (n < 2)
		return 0;
	pd = fast_ptr(cpu, dst, ACC_WRITE);
	if (!pd)
		return 0;
	if (cpu->rflags & RFLAGS_DF)
		pd -= (n - 1) * size;
	if (size == 1) {
		memset(pd, (u8)v, n);
	} else {
		for (u64 i = 0; i < n; i++)
			host_store(pd + i * size, size, v);
	}
	set_areg(cpu, GPR_RDI, in, di + n * step_of(cpu, size));
	return n;
}

enum str_op { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS, STR_OUTS };

/*
 * The operands of the last CMPS/SCAS compare. Under REP the flags are
 * written only when the loop ends: a fault in the middle leaves them as
 * they were, as on hardware.
 */
struct str_cmp {
	u64 a, b;
	bool done;
};

/* One element; returns false when a REPE/REPNE condition ends the loop. */
static bool str_element(struct soft_cpu *cpu, const struct insn *in, enum str_op op, unsigned int size,
			struct str_cmp *cmp)
{
	s64 step = step_of(cpu, size);
	u64 si = areg(cpu, GPR_RSI, in), di = areg(cpu, GPR_RDI, in), a = 0, b = 0;

	switch (op) {
	case STR_MOVS:
		a = mem_read(cpu, seg_lin(cpu, in->seg, si), size);
		mem_write(cpu, seg_lin(cpu, SEG_ES, di), size, a);
		set_areg(cpu, GPR_RSI, in, si + step);
		set_areg(cpu, GPR_RDI, in, di + step);
		return true;
	case STR_CMPS:
		a = mem_read(cpu, seg_lin(cpu, in->seg, si), size);
		b = mem_read(cpu, seg_lin(cpu, SEG_ES, di), size);
		set_areg(cpu, GPR_RSI, in, si + step);
		set_areg(cpu, GPR_RDI, in, di + step);
		break;
	case STR_STOS:
		mem_write(cpu, seg_lin(cpu, SEG_ES, di), size, cpu->gpr[GPR_RAX]);
		set_areg(cpu, GPR_RDI, in, di + step);
		return true;
	case STR_LODS:
		a = mem_read(cpu, seg_lin(cpu, in->seg, si), size);
		reg_write(cpu, GPR_RAX, size, a);
		set_areg(cpu, GPR_RSI, in, si + step);
		return true;
	case STR_SCAS:
		b = mem_read(cpu, seg_lin(cpu, SEG_ES, di), size);
		a = reg_read(cpu, GPR_RAX, size);
		set_areg(cpu, GPR_RDI, in, di + step);
		break;
	case STR_INS: {
		u64 lin = seg_lin(cpu, SEG_ES, di);

		io_check_perm(cpu, cpu->gpr[GPR_RDX], size);
		/* Check the destination before the port read has side effects. */
		mem_probe_write(cpu, lin, size, cpu_user(cpu));
		mem_write(cpu, lin, size, soft_pio_read(cpu, cpu->gpr[GPR_RDX], size));
		set_areg(cpu, GPR_RDI, in, di + step);
		return true;
	}
	default:
		io_check_perm(cpu, cpu->gpr[GPR_RDX], size);
		a = mem_read(cpu, seg_lin(cpu, in->seg, si), size);
		soft_pio_write(cpu, cpu->gpr[GPR_RDX], size, a);
		set_areg(cpu, GPR_RSI, in, si + step);
		return true;
	}
	cmp->a = a;
	cmp->b = b;
	cmp->done = true;
	/* CMPS/SCAS: REPE stops on ZF=0, REPNE on ZF=1. */
	if (in->flags & INSN_REP)
		return ((a - b) & size_mask(size)) == 0;
	if (in->flags & INSN_REPNE)
		return ((a - b) & size_mask(size)) != 0;
	return true;
}

static const struct insn *str_exec(struct soft_cpu *cpu, const struct insn *in, enum str_op op)
{
	unsigned int size = in->osize > 4 && (op == STR_INS || op == STR_OUTS) ? 4 : in->osize;
	u64 yield = cpu->rep_yield ? cpu->rep_yield : REP_YIELD_ELEMENTS;
	u64 count, budget = yield;
	struct str_cmp cmp = { .done = false };

	if (!(in->flags & (INSN_REP | INSN_REPNE))) {
		str_element(cpu, in, op, size, &cmp);
		if (cmp.done)
			alu_compute(cpu, ALU_CMP, size, cmp.a, cmp.b);
		return next_insn(cpu, in);
	}
	count = areg(cpu, GPR_RCX, in);
	while (count) {
		u64 n = 0;

		if (op == STR_MOVS)
			n = movs_run(cpu, in, size, count);
		else if (op == STR_STOS)
			n = stos_run(cpu, in, size, count);
		if (n) {
			count -= n;
			set_areg(cpu, GPR_RCX, in, count);
		} else {
			bool go_on = str_element(cpu, in, op, size, &cmp);

			count--;
			set_areg(cpu, GPR_RCX, in, count);
			if (!go_on)
				break;
		}
		if (count && (budget -= MIN(budget, n ? n : 1)) == 0) {
			/* Standalone runs count a resumed REP as one more step. */
			if (__atomic_load_n(cpu->reqs, __ATOMIC_RELAXED) || cpu->standalone) {
				if (cmp.done)
					alu_compute(cpu, ALU_CMP, size, cmp.a, cmp.b);
				/* Resume this instruction later. */
				cpu->rip = insn_rip(cpu, in);
				cpu->cur = NULL;
				return NULL;
			}
			budget = yield;
		}
	}
	if (cmp.done)
		alu_compute(cpu, ALU_CMP, size, cmp.a, cmp.b);
	return next_insn(cpu, in);
}

OP(op_movs) { return str_exec(cpu, in, STR_MOVS); }
OP(op_cmps) { return str_exec(cpu, in, STR_CMPS); }
OP(op_stos) { return str_exec(cpu, in, STR_STOS); }
OP(op_lods) { return str_exec(cpu, in, STR_LODS); }
OP(op_scas) { return str_exec(cpu, in, STR_SCAS); }
OP(op_ins) { return str_exec(cpu, in, STR_INS); }
OP(op_outs) { return str_exec(cpu, in, STR_OUTS); }

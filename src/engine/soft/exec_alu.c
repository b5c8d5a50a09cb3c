// SPDX-License-Identifier: Apache-2.0
/*
 * Integer ALU, MOV and friends. The hot two-operand instructions get one
 * handler per operation, operand form and size: alu_body() is inlined
 * with constant arguments, so each handler is a few host instructions.
 */
#include "engine/soft/exec.h"

#include <sched.h>

#include "machine/vcpu.h"
#include "machine/vm.h"

u64 mem_rmw(struct soft_cpu *cpu, const struct insn *in, u64 lin, unsigned int size,
	    rmw_fn fn, u64 arg, bool atomic)
{
	void *p = mem_rmw_ptr(cpu, lin, size);
	u64 old, val;

	(void)in;
	if (p) {
		old = host_load(p, size);
		if (atomic) {
			do {
				val = fn(cpu, old, arg, size);
			} while (!host_cas(p, &old, val, size));
		} else {
			val = fn(cpu, old, arg, size);
			host_store(p, size, val);
		}
		return old;
	}
	/* MMIO or a page-crossing operand: not atomic, as a split lock. */
	old = mem_read(cpu, lin, size);
	val = fn(cpu, old, arg, size);
	mem_write(cpu, lin, size, val);
	return old;
}

#define ALU_RMW_FN(opn)								\
static u64 rmw_##opn(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size) \
{										\
	return alu_compute(cpu, opn, size, old, arg);				\
}
ALU_RMW_FN(ALU_ADD)
ALU_RMW_FN(ALU_OR)
ALU_RMW_FN(ALU_ADC)
ALU_RMW_FN(ALU_SBB)
ALU_RMW_FN(ALU_AND)
ALU_RMW_FN(ALU_SUB)
ALU_RMW_FN(ALU_XOR)

static const rmw_fn alu_rmw_fns[NR_ALU] = {
	rmw_ALU_ADD, rmw_ALU_OR, rmw_ALU_ADC, rmw_ALU_SBB,
	rmw_ALU_AND, rmw_ALU_SUB, rmw_ALU_XOR, NULL, NULL,
};

static inline __attribute__((always_inline)) const struct insn *
alu_body(struct soft_cpu *cpu, const struct insn *in, unsigned int op,
	 unsigned int form, unsigned int size)
{
	bool wb = op != ALU_CMP && op != ALU_TEST;
	u64 a, b, r, lin;

	switch (form) {
	case FORM_RR:
	case FORM_RI:
		a = reg_read(cpu, in->rm, size);
		b = form == FORM_RR ? reg_read(cpu, in->reg, size) : in->imm;
		r = alu_compute(cpu, op, size, a, b);
		if (wb)
			reg_write(cpu, in->rm, size, r);
		break;
	case FORM_RM:
		a = reg_read(cpu, in->reg, size);
		b = mem_read(cpu, insn_lin(cpu, in), size);
		r = alu_compute(cpu, op, size, a, b);
		if (wb)
			reg_write(cpu, in->reg, size, r);
		break;
	default: {
		void *p;

		b = form == FORM_MR ? reg_read(cpu, in->reg, size) : in->imm;
		lin = insn_lin(cpu, in);
		if (!wb) {
			alu_compute(cpu, op, size, mem_read(cpu, lin, size), b);
			break;
		}
		if (unlikely(in->flags & INSN_LOCK)) {
			mem_rmw(cpu, in, lin, size, alu_rmw_fns[op], b, true);
			break;
		}
		p = mem_rmw_ptr(cpu, lin, size);
		if (likely(p != NULL)) {
			r = alu_compute(cpu, op, size, host_load(p, size), b);
			host_store(p, size, r);
		} else {
			r = alu_compute(cpu, op, size, mem_read(cpu, lin, size), b);
			mem_write(cpu, lin, size, r);
		}
		break;
	}
	}
	return next_insn(cpu, in);
}

static inline __attribute__((always_inline)) const struct insn *
mov_body(struct soft_cpu *cpu, const struct insn *in, unsigned int form, unsigned int size)
{
	switch (form) {
	case FORM_RR:
		reg_write(cpu, in->rm, size, reg_read(cpu, in->reg, size));
		break;
	case FORM_RM:
		reg_write(cpu, in->reg, size, mem_read(cpu, insn_lin(cpu, in), size));
		break;
	case FORM_MR:
		mem_write(cpu, insn_lin(cpu, in), size, reg_read(cpu, in->reg, size));
		break;
	case FORM_RI:
		reg_write(cpu, in->rm, size, in->imm);
		break;
	default:
		mem_write(cpu, insn_lin(cpu, in), size, in->imm);
		break;
	}
	return next_insn(cpu, in);
}

#define GEN_ALU(op, form, size) \
	static OP(alu_##op##_##form##_##size) { return alu_body(cpu, in, op, form, size); }
#define GEN_ALU_SIZES(op, form) \
	GEN_ALU(op, form, 1) GEN_ALU(op, form, 2) GEN_ALU(op, form, 4) GEN_ALU(op, form, 8)
#define GEN_ALU_FORMS(op) \
	GEN_ALU_SIZES(op, FORM_RR) GEN_ALU_SIZES(op, FORM_RM) GEN_ALU_SIZES(op, FORM_MR) \
	GEN_ALU_SIZES(op, FORM_RI) GEN_ALU_SIZES(op, FORM_MI)
#define ROW_ALU_SIZES(op, form) \
	{ alu_##op##_##form##_1, alu_##op##_##form##_2, alu_##op##_##form##_4, alu_##op##_##form##_8 }
#define ROW_ALU(op) { ROW_ALU_SIZES(op, FORM_RR), ROW_ALU_SIZES(op, FORM_RM), \
	ROW_ALU_SIZES(op, FORM_MR), ROW_ALU_SIZES(op, FORM_RI), ROW_ALU_SIZES(op, FORM_MI) }

GEN_ALU_FORMS(ALU_ADD)
GEN_ALU_FORMS(ALU_OR)
GEN_ALU_FORMS(ALU_ADC)
GEN_ALU_FORMS(ALU_SBB)
GEN_ALU_FORMS(ALU_AND)
GEN_ALU_FORMS(ALU_SUB)
GEN_ALU_FORMS(ALU_XOR)
GEN_ALU_FORMS(ALU_CMP)
GEN_ALU_FORMS(ALU_TEST)

const insn_fn op_alu[NR_ALU][NR_FORMS][4] = {
	ROW_ALU(ALU_ADD), ROW_ALU(ALU_OR), ROW_ALU(ALU_ADC), ROW_ALU(ALU_SBB),
	ROW_ALU(ALU_AND), ROW_ALU(ALU_SUB), ROW_ALU(ALU_XOR), ROW_ALU(ALU_CMP),
	ROW_ALU(ALU_TEST),
};

#define GEN_MOV(form, size) \
	static OP(mov_##form##_##size) { return mov_body(cpu, in, form, size); }
#define GEN_MOV_SIZES(form) GEN_MOV(form, 1) GEN_MOV(form, 2) GEN_MOV(form, 4) GEN_MOV(form, 8)
#define ROW_MOV(form) { mov_##form##_1, mov_##form##_2, mov_##form##_4, mov_##form##_8 }
GEN_MOV_SIZES(FORM_RR)
GEN_MOV_SIZES(FORM_RM)
GEN_MOV_SIZES(FORM_MR)
GEN_MOV_SIZES(FORM_RI)
GEN_MOV_SIZES(FORM_MI)

const insn_fn op_mov[NR_FORMS][4] = {
	ROW_MOV(FORM_RR), ROW_MOV(FORM_RM), ROW_MOV(FORM_MR), ROW_MOV(FORM_RI), ROW_MOV(FORM_MI),
};

/* INC/DEC keep CF: it is saved in cc_src2. */
static u64 rmw_inc(struct soft_cpu *cpu, u64 old, u64 dec, unsigned int size)
{
	bool cf = cpu_get_cf(cpu);
	u64 r = dec ? old - 1 : old + 1;

	cc_set(cpu, dec ? CC_K_DEC : CC_K_INC, size, r, 0);
	cpu->cc_src2 = cf;
	return r;
}

static inline __attribute__((always_inline)) const struct insn *
incdec_body(struct soft_cpu *cpu, const struct insn *in, bool dec, bool mem, unsigned int size)
{
	if (mem) {
		u64 lin = insn_lin(cpu, in);

		mem_rmw(cpu, in, lin, size, rmw_inc, dec, in->flags & INSN_LOCK);
	} else {
		reg_write(cpu, in->rm, size, rmw_inc(cpu, reg_read(cpu, in->rm, size), dec, size));
	}
	return next_insn(cpu, in);
}

static u64 rmw_notneg(struct soft_cpu *cpu, u64 old, u64 neg, unsigned int size)
{
	if (!neg)
		return ~old;
	cc_set(cpu, CC_K_SUB, size, 0 - old, old);
	return 0 - old;
}

static inline __attribute__((always_inline)) const struct insn *
notneg_body(struct soft_cpu *cpu, const struct insn *in, bool neg, bool mem, unsigned int size)
{
	if (mem)
		mem_rmw(cpu, in, insn_lin(cpu, in), size, rmw_notneg, neg, in->flags & INSN_LOCK);
	else
		reg_write(cpu, in->rm, size, rmw_notneg(cpu, reg_read(cpu, in->rm, size), neg, size));
	return next_insn(cpu, in);
}

#define GEN_UNARY(name, body, k, mem, size) \
	static OP(name##_##k##_##mem##_##size) { return body(cpu, in, k, mem, size); }
#define GEN_UNARY_SIZES(name, body, k, mem) GEN_UNARY(name, body, k, mem, 1) \
	GEN_UNARY(name, body, k, mem, 2) GEN_UNARY(name, body, k, mem, 4) GEN_UNARY(name, body, k, mem, 8)
#define ROW_UNARY(name, k, mem) \
	{ name##_##k##_##mem##_1, name##_##k##_##mem##_2, name##_##k##_##mem##_4, name##_##k##_##mem##_8 }

GEN_UNARY_SIZES(incdec, incdec_body, 0, 0)
GEN_UNARY_SIZES(incdec, incdec_body, 0, 1)
GEN_UNARY_SIZES(incdec, incdec_body, 1, 0)
GEN_UNARY_SIZES(incdec, incdec_body, 1, 1)
GEN_UNARY_SIZES(notneg, notneg_body, 0, 0)
GEN_UNARY_SIZES(notneg, notneg_body, 0, 1)
GEN_UNARY_SIZES(notneg, notneg_body, 1, 0)
GEN_UNARY_SIZES(notneg, notneg_body, 1, 1)

const insn_fn op_incdec[2][2][4] = {
	{ ROW_UNARY(incdec, 0, 0), ROW_UNARY(incdec, 0, 1) },
	{ ROW_UNARY(incdec, 1, 0), ROW_UNARY(incdec, 1, 1) },
};

const insn_fn op_notneg[2][2][4] = {
	{ ROW_UNARY(notneg, 0, 0), ROW_UNARY(notneg, 0, 1) },
	{ ROW_UNARY(notneg, 1, 0), ROW_UNARY(notneg, 1, 1) },
};

OP(op_lea)
{
	reg_write(cpu, in->reg, in->osize, insn_ea(cpu, in));
	return next_insn(cpu, in);
}

static inline __attribute__((always_inline)) const struct insn *
movzx_body(struct soft_cpu *cpu, const struct insn *in, unsigned int from, unsigned int to)
{
	reg_write(cpu, in->reg, to, rm_read(cpu, in, from));
	return next_insn(cpu, in);
}

#define GEN_MOVZX(from, to) static OP(movzx_##from##_##to) { return movzx_body(cpu, in, from, to); }
GEN_MOVZX(1, 2) GEN_MOVZX(1, 4) GEN_MOVZX(1, 8) GEN_MOVZX(2, 2) GEN_MOVZX(2, 4) GEN_MOVZX(2, 8)

/* [source 1 or 2 bytes][destination 2, 4, 8]. */
const insn_fn op_movzx[2][3] = {
	{ movzx_1_2, movzx_1_4, movzx_1_8 },
	{ movzx_2_2, movzx_2_4, movzx_2_8 },
};

OP(op_movsx)
{
	reg_write(cpu, in->reg, in->osize, (u64)sext(rm_read(cpu, in, in->sub), in->sub));
	return next_insn(cpu, in);
}

static inline __attribute__((always_inline)) const struct insn *
cmov_body(struct soft_cpu *cpu, const struct insn *in, unsigned int cond)
{
	u64 v = rm_read(cpu, in, in->osize);

	/* A 32-bit CMOV writes (zero-extends) its destination either way. */
	if (cc_test(cpu, cond))
		reg_write(cpu, in->reg, in->osize, v);
	else if (in->osize == 4)
		reg_write(cpu, in->reg, 4, reg_read(cpu, in->reg, 4));
	return next_insn(cpu, in);
}

static inline __attribute__((always_inline)) const struct insn *
setcc_body(struct soft_cpu *cpu, const struct insn *in, unsigned int cond)
{
	rm_write(cpu, in, 1, cc_test(cpu, cond));
	return next_insn(cpu, in);
}

#define GEN_CC(c) \
	static OP(cmov_##c) { return cmov_body(cpu, in, c); } \
	static OP(setcc_##c) { return setcc_body(cpu, in, c); }
GEN_CC(0) GEN_CC(1) GEN_CC(2) GEN_CC(3) GEN_CC(4) GEN_CC(5) GEN_CC(6) GEN_CC(7)
GEN_CC(8) GEN_CC(9) GEN_CC(10) GEN_CC(11) GEN_CC(12) GEN_CC(13) GEN_CC(14) GEN_CC(15)

const insn_fn op_cmov[16] = {
	cmov_0, cmov_1, cmov_2, cmov_3, cmov_4, cmov_5, cmov_6, cmov_7,
	cmov_8, cmov_9, cmov_10, cmov_11, cmov_12, cmov_13, cmov_14, cmov_15,
};

const insn_fn op_setcc[16] = {
	setcc_0, setcc_1, setcc_2, setcc_3, setcc_4, setcc_5, setcc_6, setcc_7,
	setcc_8, setcc_9, setcc_10, setcc_11, setcc_12, setcc_13, setcc_14, setcc_15,
};

OP(op_cbw)
{
	unsigned int s = in->osize;

	reg_write(cpu, GPR_RAX, s, (u64)sext(reg_read(cpu, GPR_RAX, s / 2), s / 2));
	return next_insn(cpu, in);
}

OP(op_cwd)
{
	unsigned int s = in->osize;

	reg_write(cpu, GPR_RDX, s, sext(reg_read(cpu, GPR_RAX, s), s) < 0 ? ~0ULL : 0);
	return next_insn(cpu, in);
}

OP(op_lahf)
{
	*gpr8(cpu, 0x10) = (cpu_get_rflags(cpu) & 0xd5) | RFLAGS_FIXED;
	return next_insn(cpu, in);
}

OP(op_sahf)
{
	u64 f = cpu_get_rflags(cpu);

	f = (f & ~0xd5ULL) | (*gpr8(cpu, 0x10) & 0xd5);
	cpu_set_arith_flags(cpu, f);
	return next_insn(cpu, in);
}

OP(op_xlat)
{
	u64 ea = (cpu->gpr[GPR_RBX] + *gpr8(cpu, GPR_RAX)) & addr_masks[in->asize];

	*gpr8(cpu, GPR_RAX) = mem_read8(cpu, seg_lin(cpu, in->seg, ea));
	return next_insn(cpu, in);
}

static u64 rmw_xchg(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size)
{
	(void)cpu; (void)old; (void)size;
	return arg;
}

OP(op_xchg)
{
	unsigned int s = in->osize;
	u64 r = reg_read(cpu, in->reg, s);

	if (in->flags & INSN_MEM) {
		/* XCHG with memory is always locked. */
		reg_write(cpu, in->reg, s, mem_rmw(cpu, in, insn_lin(cpu, in), s, rmw_xchg, r, true));
	} else {
		reg_write(cpu, in->reg, s, reg_read(cpu, in->rm, s));
		reg_write(cpu, in->rm, s, r);
	}
	return next_insn(cpu, in);
}

static u64 rmw_xadd(struct soft_cpu *cpu, u64 old, u64 arg, unsigned int size)
{
	return alu_compute(cpu, ALU_ADD, size, old, arg);
}

OP(op_xadd)
{
	unsigned int s = in->osize;
	u64 src = reg_read(cpu, in->reg, s), old;

	if (in->flags & INSN_MEM) {
		old = mem_rmw(cpu, in, insn_lin(cpu, in), s, rmw_xadd, src, in->flags & INSN_LOCK);
		reg_write(cpu, in->reg, s, old);
	} else {
		old = reg_read(cpu, in->rm, s);
		reg_write(cpu, in->reg, s, old);
		reg_write(cpu, in->rm, s, rmw_xadd(cpu, old, src, s));
	}
	return next_insn(cpu, in);
}

OP(op_cmpxchg)
{
	unsigned int s = in->osize;
	u64 acc = reg_read(cpu, GPR_RAX, s), src = reg_read(cpu, in->reg, s), cur;
	bool eq;

	if (in->flags & INSN_MEM) {
		u64 lin = insn_lin(cpu, in);
		void *p = mem_rmw_ptr(cpu, lin, s);

		if (p) {
			cur = acc;
			if (in->flags & INSN_LOCK) {
				eq = host_cas(p, &cur, src, s);
			} else {
				cur = host_load(p, s);
				eq = (cur & size_mask(s)) == (acc & size_mask(s));
				host_store(p, s, eq ? src : cur);
			}
		} else {
			cur = mem_read(cpu, lin, s);
			eq = (cur & size_mask(s)) == (acc & size_mask(s));
			mem_write(cpu, lin, s, eq ? src : cur);
		}
	} else {
		cur = reg_read(cpu, in->rm, s);
		eq = cur == acc;
		if (eq)
			reg_write(cpu, in->rm, s, src);
	}
	alu_compute(cpu, ALU_CMP, s, acc, cur);
	if (!eq)
		reg_write(cpu, GPR_RAX, s, cur);
	return next_insn(cpu, in);
}

OP(op_cmpxchg8b)
{
	u64 lin = insn_lin(cpu, in);
	bool eq;

	if (in->flags & INSN_REXW) {
		unsigned __int128 expect, desired, cur;
		void *p;

		if (lin & 15)
			cpu_raise_gp(cpu, 0);
		expect = ((unsigned __int128)cpu->gpr[GPR_RDX] << 64) | cpu->gpr[GPR_RAX];
		desired = ((unsigned __int128)cpu->gpr[GPR_RCX] << 64) | cpu->gpr[GPR_RBX];
		p = mem_rmw_ptr(cpu, lin, 16);
		if (p) {
			u64 lo = (u64)expect, hi = (u64)(expect >> 64);

			/* The host's own CMPXCHG16B, on guest RAM. */
			__asm__ volatile("lock cmpxchg16b %[m]\n\tsete %[eq]"
					 : [m] "+m"(*(unsigned __int128 *)p), "+a"(lo), "+d"(hi), [eq] "=q"(eq)
					 : "b"((u64)desired), "c"((u64)(desired >> 64))
					 : "memory", "cc");
			cur = ((unsigned __int128)hi << 64) | lo;
		} else {
			u64 lo = mem_read64(cpu, lin), hi = mem_read64(cpu, lin + 8);

			cur = ((unsigned __int128)hi << 64) | lo;
			eq = cur == expect;
			mem_write64(cpu, lin, eq ? (u64)desired : lo);
			mem_write64(cpu, lin + 8, eq ? (u64)(desired >> 64) : hi);
		}
		if (!eq) {
			cpu->gpr[GPR_RAX] = (u64)cur;
			cpu->gpr[GPR_RDX] = (u64)(cur >> 64);
		}
	} else {
		u64 expect = ((u64)(u32)cpu->gpr[GPR_RDX] << 32) | (u32)cpu->gpr[GPR_RAX];
		u64 desired = ((u64)(u32)cpu->gpr[GPR_RCX] << 32) | (u32)cpu->gpr[GPR_RBX];
		void *p = mem_rmw_ptr(cpu, lin, 8);
		u64 cur = expect;

		if (p) {
			eq = host_cas(p, &cur, desired, 8);
		} else {
			cur = mem_read64(cpu, lin);
			eq = cur == expect;
			mem_write64(cpu, lin, eq ? desired : cur);
		}
		if (!eq) {
			reg_write(cpu, GPR_RAX, 4, (u32)cur);
			reg_write(cpu, GPR_RDX, 4, cur >> 32);
		}
	}
	cpu_flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~RFLAGS_ZF) | (eq ? RFLAGS_ZF : 0);
	return next_insn(cpu, in);
}

OP(op_bswap)
{
	switch (in->osize) {
	case 8: cpu->gpr[in->reg] = __builtin_bswap64(cpu->gpr[in->reg]); break;
	case 4: reg_write(cpu, in->reg, 4, __builtin_bswap32(cpu->gpr[in->reg])); break;
	default: reg_write(cpu, in->reg, 2, 0); break;	/* undefined: zero, as hardware */
	}
	return next_insn(cpu, in);
}

OP(op_mov_moffs_load)
{
	reg_write(cpu, GPR_RAX, in->osize, mem_read(cpu, insn_lin(cpu, in), in->osize));
	return next_insn(cpu, in);
}

OP(op_mov_moffs_store)
{
	mem_write(cpu, insn_lin(cpu, in), in->osize, reg_read(cpu, GPR_RAX, in->osize));
	return next_insn(cpu, in);
}

OP(op_nop)
{
	return next_insn(cpu, in);
}

OP(op_pause)
{
	static __thread unsigned int pauses;

	/*
	 * PAUSE marks a spin-wait loop: in a VM with more than one vCPU,
	 * every so often give the host CPU away, as a pause-loop exit does
	 * on hardware, so that the vCPU the loop waits for runs sooner when
	 * the host is busier than it has cores. A lone vCPU (or a standalone
	 * CPU: tests, fuzzing) waits on nothing a yield would help, and on a
	 * busy host each yield can cost a time slice.
	 */
	if (cpu->vcpu && cpu->vcpu->vm->cfg->nr_cpus > 1 && ++pauses % 64 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
	return next_insn(cpu, in);
}

OP(op_flagop)
{
	cpu_flags_materialize(cpu);
	switch (in->sub) {
	case 0: cpu->rflags ^= RFLAGS_CF; break;
	case 1: cpu->rflags &= ~RFLAGS_CF; break;
	case 2: cpu->rflags |= RFLAGS_CF; break;
	case 3: cpu->rflags &= ~RFLAGS_DF; break;
	default: cpu->rflags |= RFLAGS_DF; break;
	}
	return next_insn(cpu, in);
}

/* DAA, DAS, AAA, AAS, AAM, AAD (16/32-bit modes only). */
OP(op_bcd)
{
	u64 f = cpu_get_rflags(cpu);
	u8 al = *gpr8(cpu, GPR_RAX), old_al = al;
	bool cf = f & RFLAGS_CF, af = f & RFLAGS_AF;
	u64 nf;

	switch (in->sub) {
	case 0: case 1: {	/* DAA, DAS */
		bool das = in->sub == 1;

		nf = 0;
		if ((al & 0xf) > 9 || af) {
			/* A borrow or carry out of this first step sets CF too. */
			if (das ? al < 6 : al > 0xff - 6)
				nf |= RFLAGS_CF;
			al = das ? al - 6 : al + 6;
			nf |= RFLAGS_AF;
		}
		if (old_al > 0x99 || cf) {
			al = das ? al - 0x60 : al + 0x60;
			nf |= RFLAGS_CF;
		}
		*gpr8(cpu, GPR_RAX) = al;
		break;
	}
	case 2: case 3: {	/* AAA, AAS */
		u16 ax = cpu->gpr[GPR_RAX];

		nf = 0;
		if ((al & 0xf) > 9 || af) {
			ax = in->sub == 2 ? ax + 0x106 : ax - 0x106;
			nf = RFLAGS_AF | RFLAGS_CF;
		}
		ax &= 0xff0f;
		reg_write(cpu, GPR_RAX, 2, ax);
		al = ax;
		break;
	}
	case 4: {		/* AAM */
		u8 base = in->imm;

		if (!base)
			cpu_raise(cpu, EXC_DE, 0, false);
		reg_write(cpu, GPR_RAX, 2, ((al / base) << 8) | (al % base));
		al = al % base;
		nf = 0;
		break;
	}
	default: {		/* AAD */
		u8 ah = *gpr8(cpu, 0x10);

		al = al + ah * (u8)in->imm;
		reg_write(cpu, GPR_RAX, 2, al);
		nf = 0;
		break;
	}
	}
	if (al == 0)
		nf |= RFLAGS_ZF;
	if (al & 0x80)
		nf |= RFLAGS_SF;
	if (!__builtin_parity(al))
		nf |= RFLAGS_PF;
	cpu_set_arith_flags(cpu, nf);
	return next_insn(cpu, in);
}

/* SALC (D6, undocumented; #UD in 64-bit mode): AL = CF ? 0xff : 0, flags kept. */
OP(op_salc)
{
	*gpr8(cpu, GPR_RAX) = cpu_get_rflags(cpu) & RFLAGS_CF ? 0xff : 0;
	return next_insn(cpu, in);
}

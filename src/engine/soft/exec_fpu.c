// SPDX-License-Identifier: Apache-2.0
/*
 * x87 and SSE plumbing: the CR0/CR4 checks, operand fetch and write-back
 * around the semantic functions of src/engine/soft/sse/ and x87/ (the
 * contract is in fpu_state.h), plus the instructions that only move
 * state: FNINIT, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, fences, CLFLUSH, MOVNTI.
 */
#include <string.h>

#include "engine/soft/exec.h"
#include "engine/soft/sse/fxsave.h"
#include "engine/soft/x87/x87.h"
#include "lib/log.h"

/* #NM for x87 instructions when CR0.EM or CR0.TS is set. */
static void x87_check(struct soft_cpu *cpu)
{
	if (fpu_x87_usable(cpu->cr0) != FPU_OK)
		cpu_raise(cpu, EXC_NM, 0, false);
}

/* SSE: #UD without CR4.OSFXSR or with CR0.EM, then #NM with CR0.TS. */
static void sse_check(struct soft_cpu *cpu)
{
	int f = fpu_sse_usable(cpu->cr0, cpu->cr4);

	if (f != FPU_OK)
		cpu_raise(cpu, f, 0, false);
}

struct x87_mem_ctx {
	struct x87_mem m;
	struct soft_cpu *cpu;
	const struct insn *in;
};

static u64 x87_lin(struct x87_mem_ctx *c, u64 off)
{
	return seg_lin(c->cpu, c->in->seg, (c->m.ea + off) & addr_masks[c->in->asize]);
}

/*
 * #AC for x87 operands: natural alignment, 8 for an m80, 2 or 4 for the
 * 16- and 32-bit environment and state images.
 */
static void x87_alignment(struct soft_cpu *cpu, u64 lin, unsigned int len)
{
	unsigned int a = len == 10 ? 8 : len == 14 || len == 94 ? 2 : len == 28 || len == 108 ? 4 : len;

	if (cpu_alignment_check(cpu) && (a == 2 || a == 4 || a == 8) && (lin & (a - 1)))
		cpu_raise(cpu, EXC_AC, 0, true);
}

static void x87_mem_read(struct x87_mem *m, u64 off, void *buf, unsigned int len)
{
	struct x87_mem_ctx *c = container_of(m, struct x87_mem_ctx, m);

	x87_alignment(c->cpu, x87_lin(c, off), len);
	mem_read_buf(c->cpu, x87_lin(c, off), buf, len, cpu_user(c->cpu));
}

static void x87_mem_write(struct x87_mem *m, u64 off, const void *buf, unsigned int len)
{
	struct x87_mem_ctx *c = container_of(m, struct x87_mem_ctx, m);

	x87_alignment(c->cpu, x87_lin(c, off), len);
	if (len == 10) {
		/*
		 * An m80 store is two: the significand, then the sign and
		 * exponent. When only the second faults (it crosses into an
		 * unmapped page), the first has been written (as the host does).
		 */
		mem_write_buf(c->cpu, x87_lin(c, off), buf, 8, cpu_user(c->cpu));
		mem_write_buf(c->cpu, x87_lin(c, off + 8), (const u8 *)buf + 8, 2, cpu_user(c->cpu));
		return;
	}
	mem_write_buf(c->cpu, x87_lin(c, off), buf, len, cpu_user(c->cpu));
}

OP(op_x87)
{
	struct x87_mem_ctx c = {
		.m = {
			.cpu = cpu,
			.read = x87_mem_read,
			.write = x87_mem_write,
			.ea = (in->flags & INSN_MEM) ? insn_ea(cpu, in) : 0,
			.is_mem = in->flags & INSN_MEM,
			.op32 = in->osize != 2,
			.long_mode = cpu->mode == CPU_MODE_64,
		},
		.cpu = cpu,
		.in = in,
	};
	struct x87_gpr_io io = {
		.rflags = cpu_get_rflags(cpu),
		.real_mode = cpu_real_mode(cpu) || (cpu->rflags & RFLAGS_VM),
	};
	int vec;

	x87_check(cpu);
	vec = x87_execute_io(&cpu->fx, 0xd8 | (in->opcode & 7), in->modrm, &c.m, insn_rip(cpu, in), &io);
	if (vec)
		cpu_raise(cpu, vec, 0, vec == EXC_GP);
	if (io.wrote & X87_WROTE_AX)
		reg_write(cpu, GPR_RAX, 2, io.ax);
	if (io.wrote & X87_WROTE_FLAGS)
		cpu_set_arith_flags(cpu, io.rflags);
	return next_insn(cpu, in);
}

OP(op_fwait)
{
	int f = fpu_wait_usable(cpu->cr0);

	if (f == FPU_OK && (cpu->cr0 & CR0_NE))
		f = x87_fwait(&cpu->fx);
	if (f != FPU_OK)
		cpu_raise(cpu, f, 0, false);
	return next_insn(cpu, in);
}

OP(op_fninit)
{
	x87_check(cpu);
	x87_init(&cpu->fx);
	return next_insn(cpu, in);
}

OP(op_emms)
{
	int f;

	x87_check(cpu);
	f = x87_emms(&cpu->fx);
	if (f)
		cpu_raise(cpu, f, 0, false);
	return next_insn(cpu, in);
}

static struct fxsave_mode fx_mode(struct soft_cpu *cpu, const struct insn *in)
{
	return (struct fxsave_mode){
		.rex_w = in->flags & INSN_REXW,
		.long_mode = cpu->mode == CPU_MODE_64,
		.osfxsr = cpu->cr4 & CR4_OSFXSR,
	};
}

OP(op_fxsave)
{
	u64 lin = insn_lin(cpu, in);
	u8 image[FXSAVE_BYTES];

	if (fpu_fxsave_usable(cpu->cr0) != FPU_OK)
		cpu_raise(cpu, EXC_NM, 0, false);
	if (fxsave_misaligned(lin))
		cpu_raise_gp(cpu, 0);
	/* The bytes past the saved state keep their old contents. */
	mem_probe_write(cpu, lin, FXSAVE_BYTES, cpu_user(cpu));
	mem_read_buf(cpu, lin, image, FXSAVE_BYTES, cpu_user(cpu));
	fxsave_store(&cpu->fx, image, fx_mode(cpu, in));
	mem_write_buf(cpu, lin, image, FXSAVE_BYTES, cpu_user(cpu));
	return next_insn(cpu, in);
}

OP(op_fxrstor)
{
	u64 lin = insn_lin(cpu, in);
	u8 image[FXSAVE_BYTES];
	int f;

	if (fpu_fxsave_usable(cpu->cr0) != FPU_OK)
		cpu_raise(cpu, EXC_NM, 0, false);
	if (fxsave_misaligned(lin))
		cpu_raise_gp(cpu, 0);
	mem_read_buf(cpu, lin, image, FXSAVE_BYTES, cpu_user(cpu));
	f = fxsave_load(&cpu->fx, image, fx_mode(cpu, in));
	if (f)
		cpu_raise(cpu, f, 0, f == EXC_GP);
	return next_insn(cpu, in);
}

OP(op_ldmxcsr)
{
	u32 v;

	sse_check(cpu);
	v = mem_read32(cpu, insn_lin(cpu, in));
	if (v & ~MXCSR_MASK_SUPPORTED)
		cpu_raise_gp(cpu, 0);
	cpu->fx.mxcsr = v;
	return next_insn(cpu, in);
}

OP(op_stmxcsr)
{
	sse_check(cpu);
	mem_write32(cpu, insn_lin(cpu, in), cpu->fx.mxcsr);
	return next_insn(cpu, in);
}

/* LFENCE, MFENCE, SFENCE: guest stores are host stores, so MFENCE is one. */
OP(op_fence)
{
	if (((in->modrm >> 3) & 7) == 6)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return next_insn(cpu, in);
}

OP(op_clflush)
{
	/* Faults as a byte read would; caches are the host's business. */
	mem_read8(cpu, insn_lin(cpu, in));
	return next_insn(cpu, in);
}

OP(op_movnti)
{
	mem_write(cpu, insn_lin(cpu, in), in->osize, reg_read(cpu, in->reg, in->osize));
	return next_insn(cpu, in);
}

/* MASKMOVDQU: stores the bytes of xmm(reg) selected by xmm(rm) at DS:rDI. */
OP(op_maskmovdqu)
{
	const union xmm *v = &cpu->fx.xmm[in->reg & 15], *m = &cpu->fx.xmm[in->rm & 15];
	u64 base = cpu->gpr[GPR_RDI] & addr_masks[in->asize];

	sse_check(cpu);
	/*
	 * As the hardware does it (checked against it): two 8-byte halves,
	 * the high one first, each checked whole (alignment, then its pages)
	 * whatever the mask selects.
	 */
	for (int h = 1; h >= 0; h--) {
		u64 lin = seg_lin(cpu, in->seg, (base + 8 * h) & addr_masks[in->asize]);

		if (cpu_alignment_check(cpu) && (lin & 7))
			cpu_raise(cpu, EXC_AC, 0, true);
		mem_probe_write(cpu, lin, 8, cpu_user(cpu));
	}
	for (unsigned int i = 0; i < 16; i++)
		if (m->b[i] & 0x80)
			mem_write8(cpu, seg_lin(cpu, in->seg, (base + i) & addr_masks[in->asize]), v->b[i]);
	return next_insn(cpu, in);
}

/* 16-byte SSE accesses are not alignment-checked (#AC is for 8 bytes or less). */
static void read_m128(struct soft_cpu *cpu, u64 lin, union xmm *x, bool align)
{
	if (align && (lin & 15))
		cpu_raise_gp(cpu, 0);
	if (unlikely(cpu_alignment_check(cpu))) {
		mem_read_buf(cpu, lin, x, 16, true);
		return;
	}
	x->q[0] = mem_read64(cpu, lin);
	x->q[1] = mem_read64(cpu, (lin + 8) & cpu->lin_mask);
}

static void write_m128(struct soft_cpu *cpu, u64 lin, const union xmm *x)
{
	if (unlikely(cpu_alignment_check(cpu))) {
		mem_write_buf(cpu, lin, x, 16, true);
		return;
	}
	mem_write64(cpu, lin, x->q[0]);
	mem_write64(cpu, (lin + 8) & cpu->lin_mask, x->q[1]);
}

OP(op_sse)
{
	sse_fn fn = (sse_fn)in->aux;
	union xmm *xr = &cpu->fx.xmm[in->reg & 15], *xm = &cpu->fx.xmm[in->rm & 15];
	union xmm dst = { 0 }, src = { 0 };
	bool mem = in->flags & INSN_MEM, align = in->sse_flags & SSE_F_ALIGN16;
	unsigned int gsize = (in->flags & INSN_REXW) ? 8 : 4;
	u64 lin = mem ? insn_lin(cpu, in) : 0;
	int vec;

	sse_check(cpu);
	switch (in->sub) {
	case SSE_FORM_X_XM128:
		dst = *xr;
		if (mem)
			read_m128(cpu, lin, &src, align);
		else
			src = *xm;
		break;
	case SSE_FORM_X_XM64:
		dst = *xr;
		if (mem)
			src.q[0] = mem_read64(cpu, lin);
		else
			src = *xm;
		break;
	case SSE_FORM_X_XM32:
		dst = *xr;
		if (mem)
			src.d[0] = mem_read32(cpu, lin);
		else
			src = *xm;
		break;
	case SSE_FORM_XM128_X:
	case SSE_FORM_XM64_X:
	case SSE_FORM_XM32_X:
		src = *xr;
		if (mem) {
			unsigned int n = in->sub == SSE_FORM_XM128_X ? 16 : in->sub == SSE_FORM_XM64_X ? 8 : 4;

			if (align && n == 16 && (lin & 15))
				cpu_raise_gp(cpu, 0);
			/* m32 and m64 are alignment-checked (#AC before #PF), m128 not. */
			if (n == 16)
				mem_probe_write(cpu, lin, n, cpu_user(cpu));
			else
				mem_probe_write_operand(cpu, lin, n, cpu_user(cpu));
		} else {
			dst = *xm;
		}
		break;
	case SSE_FORM_X_RM:
		dst = *xr;
		/* pinsrw, the one X_RM with an imm8, reads m16 from memory. */
		src.q[0] = rm_read(cpu, in, mem && (in->sse_flags & SSE_F_IMM8) ? 2 : gsize);
		break;

	case SSE_FORM_R_XM:
		if (!mem)
			src = *xm;
		else if (in->sse_flags & SSE_F_M32)
			src.d[0] = mem_read32(cpu, lin);
		else if (in->sse_flags & SSE_F_M64)
			src.q[0] = mem_read64(cpu, lin);
		else
			read_m128(cpu, lin, &src, align);
		break;
	case SSE_FORM_RM_X:
		src = *xr;
		if (mem)
			mem_probe_write_operand(cpu, lin, gsize, cpu_user(cpu));
		break;
	case SSE_FORM_XRM_IMM:
		dst = *xm;
		break;
	case SSE_FORM_X_XR:
		dst = *xr;
		src = *xm;
		break;
	default:
		cpu_raise_ud(cpu);
	}

	/* Without an imm8, imm is the general-register operand size. */
	vec = fn(&dst, &src, (in->sse_flags & SSE_F_IMM8) ? in->imm8 : gsize, &cpu->fx.mxcsr);
	if (vec) {
		if (vec == SSE_FAULT_XM && !(cpu->cr4 & CR4_OSXMMEXCPT))
			vec = EXC_UD;
		cpu_raise(cpu, vec, 0, false);
	}
	if (in->sse_flags & SSE_F_FLAGS)
		cpu_set_arith_flags(cpu, dst.d[0] & (RFLAGS_ZF | RFLAGS_PF | RFLAGS_CF));
	if (in->sse_flags & SSE_F_NODST)
		return next_insn(cpu, in);

	switch (in->sub) {
	case SSE_FORM_X_XM128:
	case SSE_FORM_X_XM64:
	case SSE_FORM_X_XM32:
	case SSE_FORM_X_RM:
	case SSE_FORM_X_XR:
		*xr = dst;
		break;
	case SSE_FORM_XM128_X:
		if (mem)
			write_m128(cpu, lin, &dst);
		else
			*xm = dst;
		break;
	case SSE_FORM_XM64_X:
		if (mem)
			mem_write64(cpu, lin, dst.q[0]);
		else
			*xm = dst;
		break;
	case SSE_FORM_XM32_X:
		if (mem)
			mem_write32(cpu, lin, dst.d[0]);
		else
			*xm = dst;
		break;
	case SSE_FORM_R_XM:
		reg_write(cpu, in->reg, gsize, dst.q[0]);
		break;
	case SSE_FORM_RM_X:
		rm_write(cpu, in, gsize, dst.q[0]);
		break;
	case SSE_FORM_XRM_IMM:
		*xm = dst;
		break;
	}
	return next_insn(cpu, in);
}

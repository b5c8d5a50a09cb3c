// SPDX-License-Identifier: Apache-2.0
/* IN and OUT, with the IOPL and TSS I/O-bitmap checks. */
#include "engine/soft/exec.h"
#include "engine/soft/soft.h"
#include "engine/soft/io_perm.h"

void io_check_perm(struct soft_cpu *cpu, u16 port, unsigned int size)
{
	u64 tss = cpu->tr.base;
	u16 base;
	u16 bits;

	if (cpu_real_mode(cpu))
		return;
	if (cpu->cpl <= cpu_iopl(cpu) && !(cpu->rflags & RFLAGS_VM))
		return;
	/* A 32/64-bit TSS with its I/O map: every bit of the range must be 0. */
	if (cpu->tr.unusable || (cpu->tr.type & 7) != 1 || cpu->tr.limit < 103)
		cpu_raise_gp(cpu, 0);
	base = mem_read_sys(cpu, tss + 102, 2);
	if ((u32)base + port / 8 + 1 > cpu->tr.limit)
		cpu_raise_gp(cpu, 0);
	bits = mem_read_sys(cpu, tss + base + port / 8, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		cpu_raise_gp(cpu, 0);
}

static unsigned int io_size(const struct insn *in)
{
	return in->osize > 4 ? 4 : in->osize;
}

OP(op_in)
{
	unsigned int size = io_size(in);
	u16 port = in->sub ? (u16)cpu->gpr[GPR_RDX] : (u8)in->imm;

	io_check_perm(cpu, port, size);
	reg_write(cpu, GPR_RAX, size, soft_pio_read(cpu, port, size));
	return next_insn(cpu, in);
}

OP(op_out)
{
	unsigned int size = io_size(in);
	u16 port = in->sub ? (u16)cpu->gpr[GPR_RDX] : (u8)in->imm;

	io_check_perm(cpu, port, size);
	soft_pio_write(cpu, port, size, reg_read(cpu, GPR_RAX, size));
	/* A port write may stop or reset the machine: look at requests. */
	return retire_exit(cpu, in);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Runs one guest x87 instruction on the host's own x87 unit.
 *
 * The host is x86-64, whose x87 is the guest's: the same 80-bit format,
 * the same precision and rounding control, the same NaN rules, stack
 * faults, condition codes and transcendental results. So the guest's
 * whole FPU state is loaded with FRSTOR, the instruction's own two bytes
 * are executed, and FNSAVE reads the state back (and reinitialises the
 * host's FPU). A memory operand is addressed through RDX, pointing at a
 * host buffer that holds it.
 *
 * x87 exceptions never trap at the faulting instruction, only at the next
 * waiting one: the caller makes sure none is pending before (the FRSTOR
 * then loads a state without ES), and FNSAVE is a no-wait instruction,
 * so the host never takes a #MF here.
 *
 * The instructions live in one table of 8-byte stubs, built by the
 * assembler: the 512 register forms (D8 C0 .. DF FF), then the 64 memory
 * forms (D8 /0 .. DF /7) with ModRM mod=0, rm=2, i.e. [rdx]. An index
 * jumps into it; each stub jumps to the common exit. Invalid encodings
 * have stubs too but are never selected (x87_decode()).
 */
#include "engine/cpu_state.h"
#include "engine/soft/x87/x87_host.h"

#define OPCODES "0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf"
#define REG_MODRMS                                                           \
	"0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, "                   \
	"0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, "                   \
	"0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, "                   \
	"0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, "                   \
	"0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, "                   \
	"0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, "                   \
	"0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, "                   \
	"0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff"
#define MEM_MODRMS "0x02, 0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a"

#define ARITH_FLAGS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF)

u64 x87_host_run(u8 image[X87_SAVE_BYTES], unsigned int index, void *mem,
		 u64 rflags)
{
	/* AH: SF ZF AF PF CF for SAHF; AL + 1 overflows exactly when OF. */
	u64 rax = (rflags & ARITH_FLAGS) << 8 | (rflags & RFLAGS_OF ? 0x7f : 0);
	u64 target;
	u16 host_cw;

	asm volatile("fnstcw %[cw]\n\t"
		     "lea 1f(%%rip), %[t]\n\t"
		     "lea (%[t], %[idx], 8), %[t]\n\t"
		     /* The guest's flags: FCMOVcc reads them, FCOMI may keep some. */
		     "add $1, %%al\n\t"
		     "sahf\n\t"
		     "frstor (%[img])\n\t"
		     "jmp *%[t]\n\t"
		     ".balign 8\n"
		     "1:\n\t"
		     ".irp op, " OPCODES "\n\t"
		     ".irp m, " REG_MODRMS "\n\t"
		     ".byte \\op, \\m\n\t"
		     "jmp 2f\n\t"
		     ".balign 8\n\t"
		     ".endr\n\t"
		     ".endr\n\t"
		     ".irp op, " OPCODES "\n\t"
		     ".irp m, " MEM_MODRMS "\n\t"
		     ".byte \\op, \\m\n\t"
		     "jmp 2f\n\t"
		     ".balign 8\n\t"
		     ".endr\n\t"
		     ".endr\n"
		     "2:\n\t"
		     /* FCOMI and friends leave their result in the flags. */
		     "lahf\n\t"
		     "seto %%al\n\t"
		     "fnsave (%[img])\n\t"
		     "fldcw %[cw]"
		     : [t] "=&r"(target), "+a"(rax), [cw] "=m"(host_cw)
		     : [img] "r"(image), [idx] "r"((u64)index), "d"(mem)
		     : "memory", "cc");
	return (rflags & ~(ARITH_FLAGS | RFLAGS_OF)) |
	       ((rax >> 8) & ARITH_FLAGS) | ((rax & 0xff) ? RFLAGS_OF : 0);
}

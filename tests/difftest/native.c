// SPDX-License-Identifier: Apache-2.0
/*
 * The native side: runs a sequence on the host CPU in ring 3, in this
 * process. The code and data pages sit at the fixed addresses of dt.h;
 * the pages around the data are reserved PROT_NONE so they always fault.
 *
 * A fault inside the sequence arrives as a signal (on an alternate stack,
 * the sequence's RSP is not to be trusted). The handler copies the state
 * the kernel saved - registers, the FXSAVE image, the vector
 * (uc_mcontext.gregs[REG_TRAPNO]), error code and CR2 - and siglongjmps
 * out. In-process recovery, not a fork per sequence: that is what makes
 * hundreds of thousands of sequences a minute possible.
 */
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "dt.h"

_Static_assert(offsetof(struct dt_regs, rip) == 128, "native_entry.S: R_RIP");
_Static_assert(offsetof(struct dt_regs, rflags) == 136, "native_entry.S: R_RFLAGS");
_Static_assert(offsetof(struct dt_regs, fs_base) == 144, "native_entry.S: R_FS");
_Static_assert(offsetof(struct dt_regs, gs_base) == 152, "native_entry.S: R_GS");
_Static_assert(offsetof(struct dt_regs, fx) == 160, "native_entry.S: R_FX");

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

int dt_native_enter(const struct dt_regs *in, struct dt_regs *out);
void dt_native_exit(void);
void dt_signal_entry(int sig, siginfo_t *si, void *ctx);
void dt_signal_handler(int sig, siginfo_t *si, void *ctx);
extern const u8 dt_native_text_start[], dt_native_text_end[];
extern u64 dt_host_fsbase, dt_host_gsbase;
extern u8 dt_use_fsgsbase;

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t running;
static struct dt_outcome *volatile cur_out;

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };

u64 native_exit_address(void)
{
	return (u64)(uintptr_t)dt_native_exit;
}

void dt_signal_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const greg_t *g = uc->uc_mcontext.gregs;
	struct dt_outcome *out = cur_out;
	u64 rip = g[REG_RIP];
	static const int order[NR_GPRS] = {
		REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
		REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
	};

	(void)si;
	if (!running) {
		/* A real crash of the tester: let it happen. */
		signal(sig, SIG_DFL);
		return;
	}
	running = 0;
	for (int i = 0; i < NR_GPRS; i++)
		out->regs.gpr[i] = g[order[i]];
	out->regs.rip = rip;
	out->regs.rflags = g[REG_EFL];
	memcpy(&out->regs.fx, uc->uc_mcontext.fpregs, sizeof(out->regs.fx));
	out->vector = (int)g[REG_TRAPNO];
	out->error_code = (u32)g[REG_ERR];
	out->cr2 = g[REG_CR2];
	/*
	 * A fault in the entry or exit code is the harness's. (A trap right
	 * after the exit stub's jump, with TF, still ends the sequence; a jump
	 * anywhere else faults there on both sides.)
	 */
	if (rip >= (u64)(uintptr_t)dt_native_text_start && rip < (u64)(uintptr_t)dt_native_text_end &&
	    !(rip == native_exit_address() && out->vector == 1))
		out->error = "native: fault in the entry or exit code";
	siglongjmp(fault_jmp, 1);
}

static int map_fixed(u64 addr, u64 len, int prot)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED || (u64)(uintptr_t)p != addr) {
		fprintf(stderr, "difftest: cannot map %#llx (+%#llx): %m\n",
			(unsigned long long)addr, (unsigned long long)len);
		return -1;
	}
	return 0;
}

static u16 read_sel(int which)
{
	u16 v = 0;

	switch (which) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

int native_init(struct dt_host_segs *segs)
{
	static u8 altstack[64 * 1024] __attribute__((aligned(16)));
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	if (map_fixed(DT_CODE_BASE, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    map_fixed(DT_DATA_BASE - 0x1000, 0x1000, PROT_NONE) ||
	    map_fixed(DT_DATA_BASE, DT_DATA_SIZE, PROT_READ | PROT_WRITE) ||
	    map_fixed(DT_DATA_END, 0x1000, PROT_NONE))
		return -1;
	if (sigaltstack(&ss, NULL)) {
		perror("difftest: sigaltstack");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dt_signal_entry;
	/* NODEFER: the handler leaves by siglongjmp, without sigreturn. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < ARRAY_SIZE(fault_signals); i++)
		if (sigaction(fault_signals[i], &sa, NULL)) {
			perror("difftest: sigaction");
			return -1;
		}

	segs->fsgsbase = getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
	if (segs->fsgsbase) {
		__asm__ volatile("rdfsbase %0" : "=r"(dt_host_fsbase));
		__asm__ volatile("rdgsbase %0" : "=r"(dt_host_gsbase));
		dt_use_fsgsbase = 1;
	}
	segs->cs = read_sel(0);
	segs->ss = read_sel(1);
	segs->ds = read_sel(2);
	segs->es = read_sel(3);
	segs->fs = read_sel(4);
	segs->gs = read_sel(5);
	return 0;
}

void native_run(const struct dt_seq *seq, struct dt_outcome *out)
{
	memcpy((void *)(uintptr_t)DT_CODE_BASE, seq->code, seq->len + DT_EXIT_STUB_LEN);
	memcpy((void *)(uintptr_t)DT_DATA_BASE, seq->data, DT_DATA_SIZE);
	out->vector = -1;
	out->error_code = 0;
	out->cr2 = 0;
	out->error = NULL;
	cur_out = out;
	if (sigsetjmp(fault_jmp, 0) == 0) {
		running = 1;
		dt_native_enter(&seq->init, &out->regs);
		running = 0;
		out->regs.rip = native_exit_address();
	}
	/* Nothing in a sequence writes the bases (WRFSBASE is not generated). */
	out->regs.fs_base = seq->init.fs_base;
	out->regs.gs_base = seq->init.gs_base;
	memcpy(out->data, (void *)(uintptr_t)DT_DATA_BASE, DT_DATA_SIZE);
}

void dt_seal(struct dt_seq *seq)
{
	u8 *p = seq->code + seq->len;
	u64 exit = native_exit_address();
	unsigned int slot = ALIGN_UP(seq->len + 6, 8) - seq->len;
	u32 disp = slot - 6;

	/* jmp *disp(%rip), padding (int3), the target. */
	memset(p, 0xcc, DT_EXIT_STUB_LEN);
	p[0] = 0xff;
	p[1] = 0x25;
	memcpy(p + 2, &disp, 4);
	memcpy(p + slot, &exit, 8);
}

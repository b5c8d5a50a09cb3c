// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the soft CPU's decoder and interpreter: the input
 * is guest code, the thing a hostile guest controls most directly.
 *
 *  1. soft_decode() at every offset of the input, in the mode the first
 *     byte picks: the result must be a length of 1..15 within the input,
 *     or an error, and ASan checks that nothing past the input is read
 *     (the bytes live in an exactly sized heap buffer).
 *  2. The same bytes run on a standalone CPU (16-bit real mode, 32-bit
 *     protected mode, 64-bit long mode one instruction per block, or in
 *     blocks compiled to host code) over a small guest RAM, with
 *     registers from the input, for a bounded number of instructions;
 *     exceptions stop the run. Whatever the code does, Kiln must not
 *     crash, hang, or touch host memory outside guest RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/soft/cpu.h"
#include "engine/soft/soft_standalone.h"
#include "mem/guest_mem.h"

#define RAM_SIZE (2u << 20)
#define CODE_GPA 0x100000u
#define PT_GPA 0x1000u

static u8 *ram;

static void check_decode(const u8 *data, size_t len, enum cpu_mode mode)
{
	for (size_t off = 0; off < len; off++) {
		struct insn in;
		size_t n = len - off;
		u8 *copy = malloc(n);
		int r;

		memcpy(copy, data + off, n);
		r = soft_decode(copy, n, mode, &in);
		free(copy);
		if (r > 0 && ((size_t)r > n || r > 15))
			abort();
		if (r == 0)
			abort();
	}
}

static void flat(struct segment *s, bool code, bool l, bool db)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->present = 1;
	s->l = l;
	s->db = db;
	s->g = 1;
	s->selector = code ? 0x08 : 0x10;
}

static void run(const u8 *data, size_t len, unsigned int mode_sel)
{
	struct guest_mem mem = { 0 };
	struct soft_cpu *cpu;
	struct soft_run_info info;
	struct cpu_state st;
	size_t code_len = MIN(len, RAM_SIZE - CODE_GPA);

	memset(ram, 0, RAM_SIZE);
	guest_mem_add_region(&mem, 0, RAM_SIZE, ram);
	cpu = soft_cpu_create_standalone(&mem);
	if (!cpu)
		abort();
	/*
	 * A LOOP around a REP LODS or CMPS (no bulk path: one element at a
	 * time) ran 256 steps of 65536 elements, 10-15 s per input under the
	 * fuzzer's instrumentation: past libFuzzer's timeout without any bug.
	 * 1024 elements still cross pages and wrap counts.
	 */
	soft_cpu_set_rep_yield(cpu, 1024);
	if (mode_sel >= 2) {
		if (soft_cpu_enter_long_mode(cpu, PT_GPA, 1ULL << 30, (len & 1) ? 3 : 0))
			abort();
		if (mode_sel == 3) {
			/* Whole blocks, compiled at their first run (jit.c). */
			soft_cpu_set_single_step(cpu, false);
			soft_cpu_set_jit_threshold(cpu, 1);
		}
	} else {
		soft_cpu_get_state(cpu, &st);
		if (mode_sel == 1) {
			flat(&st.cs, true, false, true);
			flat(&st.ds, false, false, true);
			st.ss = st.es = st.fs = st.gs = st.ds;
			st.cr0 = CR0_PE | CR0_ET;
		} else {
			/* FFFF:0010 is CODE_GPA. */
			st.cs.selector = 0xffff;
			st.cs.base = 0xffff0;
		}
		soft_cpu_set_state(cpu, &st);
	}
	memcpy(ram + CODE_GPA, data, code_len);
	for (unsigned int r = 0; r < 16; r++) {
		u64 v = 0;

		for (unsigned int i = 0; i < 8 && len; i++)
			v |= (u64)data[(r * 8 + i) % len] << (8 * i);
		soft_cpu_set_gpr(cpu, r, r == GPR_RSP ? 0x80000 : v & 0xfffff);
	}
	soft_cpu_set_rip(cpu, mode_sel == 0 ? CODE_GPA - 0xffff0 : CODE_GPA);
	/* Blocks chain on for up to 2048 blocks between budget checks. */
	soft_cpu_run(cpu, mode_sel == 3 ? 4 : 256, ~0ULL, &info);
	soft_cpu_destroy_standalone(cpu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int mode_sel;

	if (size < 2)
		return 0;
	if (!ram)
		ram = aligned_alloc(4096, RAM_SIZE);
	mode_sel = data[0] % 4;
	check_decode(data + 1, size - 1, mode_sel >= 2 ? CPU_MODE_64 : mode_sel ? CPU_MODE_32 : CPU_MODE_16);
	run(data + 1, size - 1, mode_sel);
	return 0;
}

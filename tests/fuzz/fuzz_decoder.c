// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the soft CPU's decoder alone: soft_decode(), no
 * CPU, in 16-, 32- and 64-bit mode (the input's first byte picks). Beyond
 * "no crash" (fuzz_soft_cpu.c also runs the interpreter), it checks what
 * the block translator relies on:
 *
 *  1. Never a read past 15 bytes: the bytes sit right before a PROT_NONE
 *     page, the 16th byte would be the guard page's first, and the decoder
 *     is told there are 64. A read past 15 faults (the fuzzer reports it).
 *  2. Never a read past what it is given: with len < 15 the guard page
 *     starts right after the last byte given.
 *  3. The answer depends on the instruction's own bytes only: changing
 *     every byte after it changes nothing in the decoded instruction.
 *  4. Lengths are consistent: 1..15; with fewer bytes than that, "need
 *     more" (never a different instruction, never #UD); with the bytes
 *     exactly, the same instruction. More than 15 bytes is #GP only when
 *     15 were available, "need more" before that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/soft/cpu.h"

#define MAX_LEN 15

static u8 *page_end;	/* first byte of the guard page */

static void check(bool cond)
{
	if (!cond)
		__builtin_trap();
}

static void setup(void)
{
	u8 *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	check(p != MAP_FAILED);
	check(mprotect(p + 4096, 4096, PROT_NONE) == 0);
	page_end = p + 4096;
}

/* Decodes n bytes placed right before the guard page, claiming len. */
static int decode_at_end(const u8 *bytes, size_t n, size_t len, enum cpu_mode mode, struct insn *out)
{
	u8 *at = page_end - n;

	memcpy(at, bytes, n);
	return soft_decode(at, len, mode, out);
}

static bool same(const struct insn *a, const struct insn *b)
{
	/* decode_insn() clears the whole struct first: padding compares equal. */
	return !memcmp(a, b, sizeof(*a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cpu_mode modes[] = { CPU_MODE_16, CPU_MODE_32, CPU_MODE_64 };
	u8 bytes[MAX_LEN] = { 0 }, other[MAX_LEN];
	struct insn full, tmp;
	enum cpu_mode mode;
	size_t n, len;
	int r, r2;

	if (size < 2)
		return 0;
	if (!page_end)
		setup();
	mode = modes[data[0] % 3];
	n = size - 1 < MAX_LEN ? size - 1 : MAX_LEN;
	memcpy(bytes, data + 1, n);

	/* 2: only the bytes given, each length from 1 to what there is. */
	for (size_t k = 1; k < n; k++) {
		r = decode_at_end(bytes, k, k, mode, &tmp);
		check(r == DECODE_NEED_MORE || r == -EXC_UD || (r >= 1 && (size_t)r <= k));
	}

	/* 1: 15 bytes before the guard page, 64 claimed. */
	r = decode_at_end(bytes, MAX_LEN, 64, mode, &full);
	check(r != DECODE_NEED_MORE);
	check(r == -EXC_UD || r == -EXC_GP || (r >= 1 && r <= MAX_LEN));
	if (r == -EXC_GP) {
		/* Too long: with fewer than 15 bytes it can only ask for more. */
		for (size_t k = 1; k < MAX_LEN; k++)
			check(decode_at_end(bytes, k, k, mode, &tmp) == DECODE_NEED_MORE);
		return 0;
	}
	len = r > 0 ? (size_t)r : full.len;
	check(len >= 1 && len <= MAX_LEN);

	/* 3: the bytes after the instruction do not matter. */
	memcpy(other, bytes, MAX_LEN);
	for (size_t k = len; k < MAX_LEN; k++)
		other[k] = (u8)~bytes[k] ^ (u8)(k * 0x3b);
	r2 = decode_at_end(other, MAX_LEN, 64, mode, &tmp);
	check(r2 == r && same(&tmp, &full));

	/* 4: exactly its bytes: the same; fewer: "need more". */
	r2 = decode_at_end(bytes, len, len, mode, &tmp);
	check(r2 == r && same(&tmp, &full));
	for (size_t k = 1; k < len; k++)
		check(decode_at_end(bytes, k, k, mode, &tmp) == DECODE_NEED_MORE);
	return 0;
}

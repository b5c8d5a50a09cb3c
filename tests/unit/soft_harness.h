/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_UNIT_SOFT_HARNESS_H
#define KILN_TESTS_UNIT_SOFT_HARNESS_H

/*
 * A standalone soft CPU over a private guest RAM buffer, for the
 * test_soft_*.c unit tests. Test code is assembled into the test binary
 * (SOFT_CODE below) and copied into guest RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/soft/soft_standalone.h"
#include "mem/guest_mem.h"

#define HARNESS_RAM (32ULL << 20)

struct harness {
	struct guest_mem mem;
	u8 *ram;
	struct soft_cpu *cpu;
};

static inline struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	h->ram = aligned_alloc(4096, HARNESS_RAM);
	memset(h->ram, 0, HARNESS_RAM);
	guest_mem_add_region(&h->mem, 0, HARNESS_RAM, h->ram);
	h->cpu = soft_cpu_create_standalone(&h->mem);
	return h;
}

static inline void harness_free(struct harness *h)
{
	soft_cpu_destroy_standalone(h->cpu);
	free(h->ram);
	free(h);
}

static inline void *gptr(struct harness *h, u64 gpa)
{
	return h->ram + gpa;
}

/*
 * Declares code assembled in .rodata between name_start and name_end.
 * The body is raw GNU as text; use .code16/.code32/.code64 inside.
 */
#define SOFT_CODE(name, body)                                                  \
	extern const u8 name##_start[], name##_end[];                          \
	__asm__(".pushsection .rodata\n"                                       \
		".globl " #name "_start\n.globl " #name "_end\n"               \
		#name "_start:\n" body "\n" #name "_end:\n"                    \
		".code64\n.popsection\n")

#define CODE_LEN(name) ((size_t)(name##_end - name##_start))

static inline void load_code(struct harness *h, u64 gpa, const u8 *start, size_t len)
{
	memcpy(gptr(h, gpa), start, len);
	soft_cpu_code_changed(h->cpu, gpa, len);
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_MEM_H
#define KILN_ENGINE_SOFT_MEM_H

#include "engine/soft/cpu.h"

/*
 * Guest memory accesses by linear address. The fast path is one TLB
 * compare and a host load/store; everything else (TLB miss, page
 * crossing, MMIO, writes to pages holding translated code) goes to
 * mem.c. Faults raise the guest exception (they do not return).
 *
 * The compare uses the page of the access's LAST byte against the entry
 * indexed by its FIRST byte, so an access that crosses a page always
 * misses.
 */

enum mem_access { ACC_READ, ACC_WRITE, ACC_EXEC };

u64 mem_read_slow(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user);
void mem_write_slow(struct soft_cpu *cpu, u64 lin, u64 val, unsigned int size, bool user);
/*
 * Host pointer for a read-modify-write of size bytes at lin, after the
 * write permission check (faults raised). NULL when the bytes are not
 * plain RAM in one page (MMIO, page crossing, code page): the caller then
 * uses mem_read + mem_write.
 */
void *mem_rmw_slow(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user);

static inline bool cpu_user(const struct soft_cpu *cpu)
{
	return cpu->cpl == 3;
}

static inline struct tlb_entry *tlb_slot(struct tlb_entry *tlb, u64 lin)
{
	return &tlb[(lin >> 12) & (TLB_SIZE - 1)];
}

#define PAGE_OF(a) ((a) & ~0xfffULL)

#define DEFINE_MEM_ACCESSORS(bits)						\
static inline u##bits mem_read##bits(struct soft_cpu *cpu, u64 lin)		\
{										\
	const struct tlb_entry *e = tlb_slot(cpu->tlb, lin);			\
	u##bits v;								\
										\
	if (likely(e->tag_r == PAGE_OF(lin + bits / 8 - 1))) {			\
		__builtin_memcpy(&v, (void *)(uintptr_t)(lin + e->addend), bits / 8); \
		return v;							\
	}									\
	return mem_read_slow(cpu, lin, bits / 8, cpu_user(cpu));		\
}										\
static inline void mem_write##bits(struct soft_cpu *cpu, u64 lin, u##bits v)	\
{										\
	const struct tlb_entry *e = tlb_slot(cpu->tlb, lin);			\
										\
	if (likely(e->tag_w == PAGE_OF(lin + bits / 8 - 1))) {			\
		__builtin_memcpy((void *)(uintptr_t)(lin + e->addend), &v, bits / 8); \
		return;								\
	}									\
	mem_write_slow(cpu, lin, v, bits / 8, cpu_user(cpu));			\
}

DEFINE_MEM_ACCESSORS(8)
DEFINE_MEM_ACCESSORS(16)
DEFINE_MEM_ACCESSORS(32)
DEFINE_MEM_ACCESSORS(64)

static inline u64 mem_read(struct soft_cpu *cpu, u64 lin, unsigned int size)
{
	switch (size) {
	case 1: return mem_read8(cpu, lin);
	case 2: return mem_read16(cpu, lin);
	case 4: return mem_read32(cpu, lin);
	default: return mem_read64(cpu, lin);
	}
}

static inline void mem_write(struct soft_cpu *cpu, u64 lin, unsigned int size, u64 v)
{
	switch (size) {
	case 1: mem_write8(cpu, lin, v); break;
	case 2: mem_write16(cpu, lin, v); break;
	case 4: mem_write32(cpu, lin, v); break;
	default: mem_write64(cpu, lin, v); break;
	}
}

static inline void *mem_rmw_ptr(struct soft_cpu *cpu, u64 lin, unsigned int size)
{
	const struct tlb_entry *e = tlb_slot(cpu->tlb, lin);

	if (likely(e->tag_w == PAGE_OF(lin + size - 1)))
		return (void *)(uintptr_t)(lin + e->addend);
	return mem_rmw_slow(cpu, lin, size, cpu_user(cpu));
}

/* Implicit supervisor accesses: descriptor tables, TSS, IDT, event frames. */
static inline u64 mem_read_sys(struct soft_cpu *cpu, u64 lin, unsigned int size)
{
	return mem_read_slow(cpu, lin, size, false);
}

static inline void mem_write_sys(struct soft_cpu *cpu, u64 lin, unsigned int size, u64 v)
{
	mem_write_slow(cpu, lin, v, size, false);
}

/* Byte buffers (FXSAVE, x87 environments, descriptor pairs). */
void mem_read_buf(struct soft_cpu *cpu, u64 lin, void *buf, unsigned int len, bool user);
void mem_write_buf(struct soft_cpu *cpu, u64 lin, const void *buf, unsigned int len, bool user);
/* Checks that [lin, lin+len) is writable, faulting as a write would. */
void mem_probe_write(struct soft_cpu *cpu, u64 lin, unsigned int len, bool user);
/* The same for one operand, which alignment checking applies to. */
void mem_probe_write_operand(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user);

/* Loads and stores of the sizes the ISA has, as host atomics. */
static inline bool host_cas(void *p, u64 *expected, u64 desired, unsigned int size)
{
	switch (size) {
	case 1: {
		u8 e = *expected;
		bool ok = __atomic_compare_exchange_n((u8 *)p, &e, (u8)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 2: {
		u16 e = *expected;
		bool ok = __atomic_compare_exchange_n((u16 *)p, &e, (u16)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 4: {
		u32 e = *expected;
		bool ok = __atomic_compare_exchange_n((u32 *)p, &e, (u32)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((u64 *)p, expected, desired, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

static inline u64 host_load(const void *p, unsigned int size)
{
	switch (size) {
	case 1: return *(const u8 *)p;
	case 2: { u16 v; __builtin_memcpy(&v, p, 2); return v; }
	case 4: { u32 v; __builtin_memcpy(&v, p, 4); return v; }
	default: { u64 v; __builtin_memcpy(&v, p, 8); return v; }
	}
}

static inline void host_store(void *p, unsigned int size, u64 v)
{
	switch (size) {
	case 1: *(u8 *)p = v; break;
	case 2: { u16 x = v; __builtin_memcpy(p, &x, 2); break; }
	case 4: { u32 x = v; __builtin_memcpy(p, &x, 4); break; }
	default: __builtin_memcpy(p, &v, 8); break;
	}
}

/* mmu.c */
/*
 * Translates lin for an access, filling the TLB entry; raises #PF (or #GP
 * for a non-canonical address). Returns the slow-path extra of the entry.
 */
struct tlb_extra *tlb_fill(struct soft_cpu *cpu, u64 lin, enum mem_access acc, bool user);
/*
 * Translation without side effects or faults, for debuggers and tests:
 * returns false when lin is not mapped.
 */
bool mmu_probe(struct soft_cpu *cpu, u64 lin, u64 *gpa);
/* #GP(0)/#SS(0) unless every byte of an access is canonical (64-bit). */
void check_canonical_range(struct soft_cpu *cpu, u64 lin, u64 len);
void tlb_flush_all(struct soft_cpu *cpu);
void tlb_flush_nonglobal(struct soft_cpu *cpu);
void tlb_flush_page(struct soft_cpu *cpu, u64 lin);
/* Drops fast write entries that point at pages now holding code. */
void tlb_drop_code_writes(struct soft_cpu *cpu);
/* Drops fast write entries that point at guest-physical page gpa. */
void tlb_drop_writes_to(struct soft_cpu *cpu, u64 gpa_page);

/*
 * Instruction fetch: host pointer to the code byte at linear lin, and its
 * guest-physical address. Raises #PF on a fetch fault; returns NULL when
 * the page is not RAM.
 */
const u8 *mem_fetch_ptr(struct soft_cpu *cpu, u64 lin, u64 *gpa);

#endif

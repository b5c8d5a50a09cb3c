// SPDX-License-Identifier: Apache-2.0
/*
 * Slow paths of guest memory accesses: TLB misses, accesses that cross a
 * page, MMIO (the LAPIC page included), and stores to pages that hold
 * translated code, which drop that code first.
 */
#include <string.h>

#include "engine/soft/block.h"
#include "engine/soft/dirty.h"
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "mem/guest_mem.h"

/*
 * Translates lin for acc through the slow-path tags, walking on a miss.
 * Returns the guest-physical address.
 */
static u64 translate(struct soft_cpu *cpu, u64 lin, enum mem_access acc, bool user)
{
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	struct tlb_extra *x = &cpu->tlbx[user][idx];
	u64 page = PAGE_OF(lin);
	u64 vtag = acc == ACC_WRITE ? x->vtag_w : acc == ACC_EXEC ? x->vtag_x : x->vtag_r;

	if (vtag != page)
		x = tlb_fill(cpu, lin, acc, user);
	return x->gpa | (lin & 0xfff);
}

static void phys_read(struct soft_cpu *cpu, u64 gpa, void *buf, unsigned int len)
{
	void *hva = soft_lapic_page(cpu, gpa) ? NULL : gpa_to_hva(cpu->mem, gpa, len);

	if (hva)
		memcpy(buf, hva, len);
	else
		soft_mmio_read(cpu, gpa, buf, len);
}

/* After a store dropped a page's code, let later stores take the fast path. */
static void tlb_reenable_write(struct soft_cpu *cpu, u64 lin, bool user)
{
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	struct tlb_entry *e = &cpu->tlbs[user][idx];
	const struct tlb_extra *x = &cpu->tlbx[user][idx];
	struct code_cache *cc = soft_vm_of(cpu)->cache;

	if (x->vtag_w != PAGE_OF(lin) || e->tag_r != PAGE_OF(lin))
		return;
	e->tag_w = PAGE_OF(lin);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (code_page_is_code(cc, x->gpa) || soft_dirty_blocks_fast_write(cpu->svm, x->gpa))
		e->tag_w = TLB_INVALID;
}

static void phys_write(struct soft_cpu *cpu, u64 gpa, const void *buf, unsigned int len)
{
	void *hva = soft_lapic_page(cpu, gpa) ? NULL : gpa_to_hva(cpu->mem, gpa, len);

	if (!hva) {
		soft_mmio_write(cpu, gpa, buf, len);
		return;
	}
	if (code_page_is_code(soft_vm_of(cpu)->cache, gpa))
		code_page_invalidate(cpu, PAGE_OF(gpa));
	memcpy(hva, buf, len);
	soft_dirty_mark(cpu->svm, gpa, len);
}

static bool crosses_page(u64 lin, unsigned int size)
{
	return ((lin & 0xfff) + size) > 0x1000;
}

/*
 * #AC(0) for a misaligned user access while alignment checking is on.
 * As the hardware orders them: #GP/#SS for a non-canonical address
 * first, then #AC, then page faults. Only the first byte's address
 * counts here: a misaligned access that runs past the canonical range
 * is an #AC (differential tester).
 */
static void check_alignment(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user)
{
	if (unlikely(user && cpu_alignment_check(cpu)) && (lin & (size - 1))) {
		check_canonical_range(cpu, lin, 1);
		cpu_raise(cpu, EXC_AC, 0, true);
	}
}

/*
 * Translates the operand [lin, lin + size) (lin already masked), which may
 * run into the next page: gpa[0] for its first page, gpa[1] for the next
 * one when it crosses. Both translations come before any access, so a
 * fault on the second page leaves no partial store. Returns the operand's
 * bytes on the first page (size when it does not cross).
 */
static unsigned int translate_operand(struct soft_cpu *cpu, u64 lin, unsigned int size,
				      enum mem_access acc, bool user, u64 gpa[2])
{
	unsigned int first;

	if (!crosses_page(lin, size)) {
		gpa[0] = translate(cpu, lin, acc, user);
		return size;
	}
	first = 0x1000 - (lin & 0xfff);
	check_canonical_range(cpu, lin, size);
	gpa[0] = translate(cpu, lin, acc, user);
	gpa[1] = translate(cpu, (lin + first) & cpu->lin_mask, acc, user);
	return first;
}

u64 mem_read_slow(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user)
{
	u8 buf[8] = { 0 };
	unsigned int first;
	u64 gpa[2], v = 0;

	check_alignment(cpu, lin, size, user);
	lin &= cpu->lin_mask;
	first = translate_operand(cpu, lin, size, ACC_READ, user, gpa);
	phys_read(cpu, gpa[0], buf, first);
	if (first < size)
		phys_read(cpu, gpa[1], buf + first, size - first);
	memcpy(&v, buf, size);
	return v;
}

void mem_write_slow(struct soft_cpu *cpu, u64 lin, u64 val, unsigned int size, bool user)
{
	unsigned int first;
	u64 gpa[2];
	u8 buf[8];

	memcpy(buf, &val, 8);
	check_alignment(cpu, lin, size, user);
	lin &= cpu->lin_mask;
	first = translate_operand(cpu, lin, size, ACC_WRITE, user, gpa);
	phys_write(cpu, gpa[0], buf, first);
	if (first < size) {
		phys_write(cpu, gpa[1], buf + first, size - first);
		return;
	}
	tlb_reenable_write(cpu, lin, user);
}

void *mem_rmw_slow(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user)
{
	u64 gpas[2], gpa;
	void *hva;

	check_alignment(cpu, lin, size, user);
	lin &= cpu->lin_mask;
	/* Crossing: fault on either page now, then let the caller split. */
	if (translate_operand(cpu, lin, size, ACC_WRITE, user, gpas) < size)
		return NULL;
	gpa = gpas[0];
	if (soft_lapic_page(cpu, gpa))
		return NULL;
	hva = gpa_to_hva(cpu->mem, gpa, size);
	if (!hva)
		return NULL;
	if (code_page_is_code(soft_vm_of(cpu)->cache, gpa))
		code_page_invalidate(cpu, PAGE_OF(gpa));
	/*
	 * Marked before the caller's store: a clearing read waits for this
	 * instruction to end, so the store lands before it returns.
	 */
	soft_dirty_mark(cpu->svm, gpa, size);
	tlb_reenable_write(cpu, lin, user);
	return hva;
}

void mem_read_buf(struct soft_cpu *cpu, u64 lin, void *buf, unsigned int len, bool user)
{
	u8 *p = buf;

	if (len)
		check_canonical_range(cpu, lin & cpu->lin_mask, len);
	while (len) {
		unsigned int chunk = MIN(len, 0x1000 - (lin & 0xfff));

		lin &= cpu->lin_mask;
		phys_read(cpu, translate(cpu, lin, ACC_READ, user), p, chunk);
		p += chunk;
		lin += chunk;
		len -= chunk;
	}
}

void mem_probe_write(struct soft_cpu *cpu, u64 lin, unsigned int len, bool user)
{
	if (len)
		check_canonical_range(cpu, lin & cpu->lin_mask, len);
	while (len) {
		unsigned int chunk = MIN(len, 0x1000 - (lin & 0xfff));

		lin &= cpu->lin_mask;
		translate(cpu, lin, ACC_WRITE, user);
		lin += chunk;
		len -= chunk;
	}
}

void mem_probe_write_operand(struct soft_cpu *cpu, u64 lin, unsigned int size, bool user)
{
	check_alignment(cpu, lin, size, user);
	mem_probe_write(cpu, lin, size, user);
}

void mem_write_buf(struct soft_cpu *cpu, u64 lin, const void *buf, unsigned int len, bool user)
{
	const u8 *p = buf;

	mem_probe_write(cpu, lin, len, user);
	while (len) {
		unsigned int chunk = MIN(len, 0x1000 - (lin & 0xfff));

		lin &= cpu->lin_mask;
		phys_write(cpu, translate(cpu, lin, ACC_WRITE, user), p, chunk);
		p += chunk;
		lin += chunk;
		len -= chunk;
	}
}

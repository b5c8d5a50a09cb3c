// SPDX-License-Identifier: Apache-2.0
/*
 * The page walker (32-bit, PAE and 4-level paging) and the software TLB
 * it fills. Accessed and dirty bits are set with a compare-and-swap on the
 * guest's PTE, as hardware does, because other vCPUs walk the same tables.
 */
#include <string.h>

#include "engine/soft/block.h"
#include "engine/soft/dirty.h"
#include "engine/soft/mem.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "mem/guest_mem.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)

#define MAXPHYADDR	40
#define PHYS_MASK	((1ULL << MAXPHYADDR) - 1)
#define PTE_ADDR	(PHYS_MASK & ~0xfffULL)
#define PTE_HIGH_RSVD	(0x000fffffffffffffULL & ~PHYS_MASK)	/* bits 51:40 */

struct walk {
	u64 gpa;		/* guest-physical address of lin's 4 KiB page */
	bool rw, us, nx, global, dirty;
	u64 large_size;		/* 0 for a 4 KiB page */
};

struct pte_ref {
	void *hva;
	u64 gpa;
	u64 val;
	bool wide;		/* 64-bit entry */
};

static bool pte_load(struct soft_cpu *cpu, u64 gpa, bool wide, struct pte_ref *ref)
{
	ref->wide = wide;
	ref->gpa = gpa;
	ref->hva = gpa_to_hva(cpu->mem, gpa, wide ? 8 : 4);
	if (!ref->hva) {
		/* Page tables outside RAM read as not present. */
		ref->val = 0;
		return false;
	}
	if (wide)
		ref->val = __atomic_load_n((u64 *)ref->hva, __ATOMIC_ACQUIRE);
	else
		ref->val = __atomic_load_n((u32 *)ref->hva, __ATOMIC_ACQUIRE);
	return true;
}

/*
 * Sets bits in an entry unless it changed under us; false means re-walk.
 * The entry's page goes into the dirty log like any store of the CPU.
 */
static bool pte_set_bits(struct soft_cpu *cpu, struct pte_ref *ref, u64 bits)
{
	bool done;

	if ((ref->val & bits) == bits || !ref->hva)
		return true;
	if (ref->wide) {
		u64 old = ref->val;

		done = __atomic_compare_exchange_n((u64 *)ref->hva, &old, old | bits, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else {
		u32 old = ref->val;

		done = __atomic_compare_exchange_n((u32 *)ref->hva, &old, old | (u32)bits, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	if (done)
		soft_dirty_mark(cpu->svm, ref->gpa, ref->wide ? 8 : 4);
	return done;
}

/*
 * Walks the tables for lin. Returns 0 on success, or the #PF error code
 * with bit 31 set. With side_effects, sets A (and D for writes) bits.
 */
#define WALK_FAULT (1u << 31)

static u32 walk(struct soft_cpu *cpu, u64 lin, enum mem_access acc, bool user,
		bool side_effects, struct walk *w)
{
	struct pte_ref refs[4];
	int nrefs, tries = 0;
	bool nxe = cpu->efer & EFER_NXE;
	u32 pfec_base = (acc == ACC_WRITE ? PFEC_W : 0) | (user ? PFEC_U : 0) |
			(acc == ACC_EXEC && nxe ? PFEC_I : 0);

restart:
	nrefs = 0;
	w->rw = w->us = true;
	w->nx = false;
	w->large_size = 0;
	if (cpu->cr4 & CR4_PAE) {
		u64 rsvd = PTE_HIGH_RSVD | (nxe ? 0 : PTE_NX);
		u64 table;
		int level;

		if (cpu->efer & EFER_LMA) {
			table = cpu->cr3 & PTE_ADDR;
			level = 4;
		} else {
			struct pte_ref pdpte;

			pte_load(cpu, (cpu->cr3 & 0xffffffe0ULL) + ((lin >> 30) & 3) * 8, true, &pdpte);
			if (!(pdpte.val & PTE_P))
				return WALK_FAULT | pfec_base;
			if (pdpte.val & (PTE_HIGH_RSVD | 0x1e6 | PTE_NX))
				return WALK_FAULT | pfec_base | PFEC_P | PFEC_RSVD;
			table = pdpte.val & PTE_ADDR;
			level = 2;
		}
		for (;;) {
			unsigned int shift = 12 + 9 * (level - 1);
			struct pte_ref *r = &refs[nrefs++];
			u64 e;

			pte_load(cpu, table + ((lin >> shift) & 511) * 8, true, r);
			e = r->val;
			if (!(e & PTE_P))
				return WALK_FAULT | pfec_base;
			if ((e & rsvd) || (level == 4 && (e & PTE_PS)) ||
			    (level == 3 && (e & PTE_PS) && (e & 0x3fffe000ULL)) ||
			    (level == 2 && (e & PTE_PS) && (e & 0x1fe000ULL)))
				return WALK_FAULT | pfec_base | PFEC_P | PFEC_RSVD;
			w->rw &= !!(e & PTE_RW);
			w->us &= !!(e & PTE_US);
			w->nx |= !!(e & PTE_NX) && nxe;
			if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
				u64 size = 1ULL << shift;

				w->gpa = ((e & PTE_ADDR & ~(size - 1)) | (lin & (size - 1))) & ~0xfffULL;
				w->global = e & PTE_G;
				w->dirty = e & PTE_D;
				if (level > 1)
					w->large_size = size;
				break;
			}
			table = e & PTE_ADDR;
			level--;
		}
	} else {
		struct pte_ref *pde = &refs[nrefs++];
		u64 e;

		pte_load(cpu, (cpu->cr3 & 0xfffff000ULL) + ((lin >> 22) & 1023) * 4, false, pde);
		e = pde->val;
		if (!(e & PTE_P))
			return WALK_FAULT | pfec_base;
		w->rw = e & PTE_RW;
		w->us = e & PTE_US;
		if ((e & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
			if (e & (1ULL << 21))
				return WALK_FAULT | pfec_base | PFEC_P | PFEC_RSVD;
			w->gpa = ((e & 0xffc00000ULL) | (((e >> 13) & 0xff) << 32) |
				  (lin & 0x3ff000ULL));
			w->global = e & PTE_G;
			w->dirty = e & PTE_D;
			w->large_size = 4 * MiB;
		} else {
			struct pte_ref *pte = &refs[nrefs++];

			pte_load(cpu, (e & 0xfffff000ULL) + ((lin >> 12) & 1023) * 4, false, pte);
			e = pte->val;
			if (!(e & PTE_P))
				return WALK_FAULT | pfec_base;
			w->rw &= !!(e & PTE_RW);
			w->us &= !!(e & PTE_US);
			w->gpa = e & 0xfffff000ULL;
			w->global = e & PTE_G;
			w->dirty = e & PTE_D;
		}
	}

	/* Permissions (no SMEP/SMAP: not advertised). */
	if (user && !w->us)
		return WALK_FAULT | pfec_base | PFEC_P;
	if (acc == ACC_WRITE && !w->rw && (user || (cpu->cr0 & CR0_WP)))
		return WALK_FAULT | pfec_base | PFEC_P;
	if (acc == ACC_EXEC && w->nx)
		return WALK_FAULT | pfec_base | PFEC_P;

	if (side_effects) {
		for (int i = 0; i < nrefs; i++) {
			u64 bits = PTE_A;

			if (i == nrefs - 1 && acc == ACC_WRITE)
				bits |= PTE_D;
			if (!pte_set_bits(cpu, &refs[i], bits) && ++tries < 16)
				goto restart;
		}
		if (acc == ACC_WRITE)
			w->dirty = true;
	}
	return 0;
}

bool mmu_probe(struct soft_cpu *cpu, u64 lin, u64 *gpa)
{
	struct walk w;

	if (!cpu_paging(cpu)) {
		*gpa = lin & cpu->lin_mask;
		return true;
	}
	if (walk(cpu, lin, ACC_READ, false, false, &w))
		return false;
	*gpa = w.gpa | (lin & 0xfff);
	return true;
}

/*
 * A non-canonical address faults with #SS(0) when the access goes through
 * SS, #GP(0) otherwise. The slow path does not know the segment, so the
 * running instruction is decoded again (faults are rare): a memory operand
 * based on RSP/RBP, or the stack access of PUSH, POP, CALL, RET and the
 * like.
 */
static bool noncanonical_is_stack(struct soft_cpu *cpu, u64 lin)
{
	u8 bytes[15];
	size_t len = 0;
	struct insn in;
	unsigned int op, r;
	u64 rsp = cpu->gpr[GPR_RSP], rip = cpu_current_rip(cpu);

	for (; len < sizeof(bytes); len++) {
		u64 gpa;
		const u8 *p;

		if (!mmu_probe(cpu, (cpu->seg_base[SEG_CS] + rip + len) & cpu->lin_mask, &gpa))
			break;
		p = gpa_to_hva(cpu->mem, gpa, 1);
		if (!p)
			break;
		bytes[len] = *p;
	}
	if (decode_insn(bytes, len, cpu->mode, rip, &in) <= 0)
		return false;
	if ((in.flags & INSN_MEM) && in.seg == SEG_SS) {
		u64 ea = cpu->gpr[in.base] + (cpu->gpr[in.index] << in.scale) + in.disp;

		if (lin - ea < 16)
			return true;
	}
	if (lin - rsp + 64 > 128)
		return false;
	op = in.opcode;
	r = (in.modrm >> 3) & 7;
	return (op >= 0x50 && op <= 0x61) || op == 0x68 || op == 0x6a || op == 0x8f ||
	       op == 0x9a || op == 0x9c || op == 0x9d || (op >= 0xc2 && op <= 0xc3) ||
	       (op >= 0xc8 && op <= 0xcb) || op == 0xcf || op == 0xe8 ||
	       op == 0x06 || op == 0x07 || op == 0x0e || op == 0x16 || op == 0x17 ||
	       op == 0x1e || op == 0x1f || op == 0x1a0 || op == 0x1a1 || op == 0x1a8 ||
	       op == 0x1a9 || (op == 0xff && (r == 2 || r == 3 || r == 6));
}

void check_canonical_range(struct soft_cpu *cpu, u64 lin, u64 len)
{
	u64 last = lin + len - 1;

	if (cpu_long_mode(cpu) && (!is_canonical(lin) || !is_canonical(last)))
		cpu_raise(cpu, noncanonical_is_stack(cpu, is_canonical(lin) ? last : lin) ? EXC_SS : EXC_GP,
			  0, true);
}

struct tlb_extra *tlb_fill(struct soft_cpu *cpu, u64 lin, enum mem_access acc, bool user)
{
	u64 page = PAGE_OF(lin);
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	struct tlb_entry *e = &cpu->tlbs[user][idx];
	struct tlb_extra *x = &cpu->tlbx[user][idx];
	struct walk w;
	bool r_ok, w_ok, x_ok, special;
	void *hva;

	cpu->stats.tlb_misses++;
	if (cpu_long_mode(cpu) && !is_canonical(lin))
		cpu_raise(cpu, noncanonical_is_stack(cpu, lin) ? EXC_SS : EXC_GP, 0, true);
	if (cpu_paging(cpu)) {
		u32 err = walk(cpu, lin, acc, user, true, &w);

		if (err) {
			cpu->cr2 = lin;
			cpu_raise_pf(cpu, lin, err & ~WALK_FAULT);
		}
	} else {
		w.gpa = page & cpu->lin_mask;
		w.rw = w.us = w.dirty = true;
		w.nx = w.global = false;
		w.large_size = 0;
	}

	r_ok = !user || w.us;
	w_ok = r_ok && (w.rw || (!user && !(cpu->cr0 & CR0_WP))) && w.dirty;
	x_ok = r_ok && !w.nx;
	hva = gpa_to_hva(cpu->mem, w.gpa, 4096);
	special = !hva || soft_lapic_page(cpu, w.gpa);

	x->vtag_r = r_ok ? page : TLB_INVALID;
	x->vtag_w = w_ok ? page : TLB_INVALID;
	x->vtag_x = x_ok ? page : TLB_INVALID;
	x->gpa = w.gpa;
	x->global = w.global && (cpu->cr4 & CR4_PGE);
	if (!x->global && cpu->ng_count <= ARRAY_SIZE(cpu->ng_slots)) {
		if (cpu->ng_count < ARRAY_SIZE(cpu->ng_slots))
			cpu->ng_slots[cpu->ng_count] = idx | (user ? TLB_SIZE : 0);
		cpu->ng_count++;
	}
	e->addend = (intptr_t)((uintptr_t)hva - (uintptr_t)page);
	e->tag_r = r_ok && !special ? page : TLB_INVALID;
	e->tag_x = x_ok && !special ? page : TLB_INVALID;
	e->tag_w = TLB_INVALID;
	if (w_ok && !special && !code_page_is_code(soft_vm_of(cpu)->cache, w.gpa) &&
	    !soft_dirty_blocks_fast_write(cpu->svm, w.gpa)) {
		e->tag_w = page;
		/*
		 * Pairs with the fence in the translator that marks code pages,
		 * and with the one in dirty.c that drops entries after clearing.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (code_page_is_code(soft_vm_of(cpu)->cache, w.gpa) ||
		    soft_dirty_blocks_fast_write(cpu->svm, w.gpa))
			e->tag_w = TLB_INVALID;
	}
	if (w.large_size) {
		u64 lo = lin & ~(w.large_size - 1), hi = lo + w.large_size - 1;

		if (cpu->tlb_large_lo > cpu->tlb_large_hi) {
			cpu->tlb_large_lo = lo;
			cpu->tlb_large_hi = hi;
		} else {
			cpu->tlb_large_lo = MIN(cpu->tlb_large_lo, lo);
			cpu->tlb_large_hi = MAX(cpu->tlb_large_hi, hi);
		}
	}
	return x;
}

static void tlb_invalidate_slot(struct soft_cpu *cpu, unsigned int t, unsigned int idx)
{
	struct tlb_entry *e = &cpu->tlbs[t][idx];
	struct tlb_extra *x = &cpu->tlbx[t][idx];

	e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
	x->vtag_r = x->vtag_w = x->vtag_x = TLB_INVALID;
	x->global = false;
}

void tlb_flush_all(struct soft_cpu *cpu)
{
	memset(cpu->tlbs, 0xff, sizeof(cpu->tlbs));
	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < TLB_SIZE; i++)
			tlb_invalidate_slot(cpu, t, i);
	cpu->tlb_large_lo = ~0ULL;
	cpu->tlb_large_hi = 0;
	cpu->ng_count = 0;
	cpu->stats.tlb_flushes++;
}

void tlb_flush_nonglobal(struct soft_cpu *cpu)
{
	if (!(cpu->cr4 & CR4_PGE)) {
		tlb_flush_all(cpu);
		return;
	}
	if (cpu->ng_count <= ARRAY_SIZE(cpu->ng_slots)) {
		/* A listed slot refilled with a global entry just misses once. */
		for (unsigned int i = 0; i < cpu->ng_count; i++) {
			unsigned int slot = cpu->ng_slots[i];

			tlb_invalidate_slot(cpu, slot / TLB_SIZE, slot % TLB_SIZE);
		}
	} else {
		for (unsigned int t = 0; t < 2; t++)
			for (unsigned int i = 0; i < TLB_SIZE; i++)
				if (!cpu->tlbx[t][i].global)
					tlb_invalidate_slot(cpu, t, i);
	}
	cpu->ng_count = 0;
	/* Global large pages may remain: keep the range as it is. */
	cpu->stats.tlb_flushes++;
}

void tlb_flush_page(struct soft_cpu *cpu, u64 lin)
{
	u64 page = PAGE_OF(lin);
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);

	if (lin >= cpu->tlb_large_lo && lin <= cpu->tlb_large_hi) {
		/* Entries of a large page are spread over many slots. */
		tlb_flush_all(cpu);
		return;
	}
	for (unsigned int t = 0; t < 2; t++) {
		const struct tlb_extra *x = &cpu->tlbx[t][idx];

		if (x->vtag_r == page || x->vtag_w == page || x->vtag_x == page ||
		    cpu->tlbs[t][idx].tag_r == page)
			tlb_invalidate_slot(cpu, t, idx);
	}
	cpu->stats.tlb_page_flushes++;
}

void tlb_drop_writes_to(struct soft_cpu *cpu, u64 gpa_page)
{
	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < TLB_SIZE; i++)
			if (cpu->tlbs[t][i].tag_w != TLB_INVALID && cpu->tlbx[t][i].gpa == gpa_page)
				cpu->tlbs[t][i].tag_w = TLB_INVALID;
}

void tlb_drop_code_writes(struct soft_cpu *cpu)
{
	struct code_cache *cc = soft_vm_of(cpu)->cache;

	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < TLB_SIZE; i++)
			if (cpu->tlbs[t][i].tag_w != TLB_INVALID &&
			    code_page_is_code(cc, cpu->tlbx[t][i].gpa))
				cpu->tlbs[t][i].tag_w = TLB_INVALID;
}

const u8 *mem_fetch_ptr(struct soft_cpu *cpu, u64 lin, u64 *gpa)
{
	bool user = cpu_user(cpu);
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	const struct tlb_entry *e = &cpu->tlbs[user][idx];
	const struct tlb_extra *x = &cpu->tlbx[user][idx];

	if (x->vtag_x != PAGE_OF(lin))
		x = tlb_fill(cpu, lin, ACC_EXEC, user);
	if (x->vtag_x != PAGE_OF(lin))
		cpu_raise_pf(cpu, lin, PFEC_P | (user ? PFEC_U : 0) | PFEC_I);
	*gpa = x->gpa | (lin & 0xfff);
	if (e->tag_x != PAGE_OF(lin))
		return NULL;
	return (const u8 *)(uintptr_t)(lin + e->addend);
}

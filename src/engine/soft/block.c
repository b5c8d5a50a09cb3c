// SPDX-License-Identifier: Apache-2.0
/*
 * The translated-block cache (see block.h for the design).
 *
 * Concurrency. Lookups are lock-free: blocks are published into hash
 * chains with release stores and never freed while the VM runs. Marking a
 * page as code, inserting and invalidating take cc->lock.
 *
 * Self-modifying code. Before decoding a page, the translator marks it as
 * code, which removes every vCPU's fast write TLB entry for it; from then
 * on every store to it takes the slow path and calls code_page_invalidate(),
 * which kills the page's blocks and bumps the page's generation. A block
 * decoded while a store raced with it sees the generation change at insert
 * time and is decoded again.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "engine/soft/block.h"
#include "engine/soft/code_budget.h"
#include "engine/soft/jit.h"
#include "engine/soft/mem.h"
#include "engine/soft/ops.h"
#include "engine/soft/soft.h"
#include "lib/log.h"
#include "mem/guest_mem.h"

#define ARENA_SIZE (1ULL << 30)		/* reserved; code_budget.h says how much is used */
#define HASH_BITS 16

struct page_desc {
	uintptr_t blocks;	/* tagged list: block pointer | page_next slot */
	u32 gen;
	bool code;
};

struct region_pages {
	u64 gpa;
	u64 npages;
	struct page_desc *pages;
};

struct code_cache {
	pthread_mutex_t lock;
	struct soft_vm *svm;
	u8 *arena;
	size_t size;			/* usable bytes of the arena now */
	size_t used;
	struct code_budget budget;
	/* Full flush: stop the world (see code_cache_flush()). */
	pthread_mutex_t flush_lock;
	pthread_cond_t flush_cond;
	bool flush_pending;		/* atomic */
	struct block **hash;
	struct region_pages regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	struct code_cache_stats stats;
};

struct code_cache *code_cache_create(struct soft_vm *svm)
{
	struct code_cache *cc = calloc(1, sizeof(*cc));
	const struct guest_mem *mem = svm->mem;

	if (!cc)
		return NULL;
	pthread_mutex_init(&cc->lock, NULL);
	pthread_mutex_init(&cc->flush_lock, NULL);
	pthread_cond_init(&cc->flush_cond, NULL);
	cc->svm = svm;
	code_budget_init(&cc->budget, ARENA_SIZE);
	cc->size = cc->budget.limit;
	cc->arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cc->hash = calloc(1u << HASH_BITS, sizeof(*cc->hash));
	if (cc->arena == MAP_FAILED || !cc->hash)
		goto fail;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		struct region_pages *r = &cc->regions[cc->nr_regions];
		size_t bytes;

		r->gpa = mem->regions[i].gpa;
		r->npages = mem->regions[i].size >> 12;
		bytes = r->npages * sizeof(struct page_desc);
		r->pages = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r->pages == MAP_FAILED)
			goto fail;
		cc->nr_regions++;
	}
	return cc;
fail:
	code_cache_destroy(cc);
	return NULL;
}

void code_cache_destroy(struct code_cache *cc)
{
	if (!cc)
		return;
	for (unsigned int i = 0; i < cc->nr_regions; i++)
		munmap(cc->regions[i].pages, cc->regions[i].npages * sizeof(struct page_desc) ?: 1);
	if (cc->arena && cc->arena != MAP_FAILED)
		munmap(cc->arena, ARENA_SIZE);
	free(cc->hash);
	pthread_mutex_destroy(&cc->lock);
	pthread_mutex_destroy(&cc->flush_lock);
	pthread_cond_destroy(&cc->flush_cond);
	free(cc);
}

static struct page_desc *page_desc(struct code_cache *cc, u64 gpa)
{
	for (unsigned int i = 0; i < cc->nr_regions; i++) {
		const struct region_pages *r = &cc->regions[i];
		u64 idx = (gpa - r->gpa) >> 12;

		if (gpa >= r->gpa && idx < r->npages)
			return &r->pages[idx];
	}
	return NULL;
}

bool code_page_is_code(struct code_cache *cc, u64 gpa)
{
	const struct page_desc *pd = page_desc(cc, gpa);

	return pd && __atomic_load_n(&pd->code, __ATOMIC_SEQ_CST);
}

static unsigned int hash_of(u64 pc, u64 phys, u32 mode)
{
	u64 h = (pc * 0x9e3779b97f4a7c15ULL) ^ (phys * 0xc2b2ae3d27d4eb4fULL) ^ mode;

	return (h ^ (h >> 29)) >> (64 - HASH_BITS) & ((1u << HASH_BITS) - 1);
}

/*
 * Marks a guest page as holding code (dropping every vCPU's fast write
 * entries for it) and returns its generation.
 */
static u32 page_mark_code(struct code_cache *cc, u64 gpa_page)
{
	struct page_desc *pd = page_desc(cc, gpa_page);
	u32 gen;

	pthread_mutex_lock(&cc->lock);
	if (!pd->code) {
		__atomic_store_n(&pd->code, true, __ATOMIC_SEQ_CST);
		/* Pairs with the fence in tlb_fill(). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		for (unsigned int i = 0; i < cc->svm->nr_cpus; i++)
			if (cc->svm->cpus[i])
				tlb_drop_writes_to(cc->svm->cpus[i], gpa_page);
	}
	gen = pd->gen;
	pthread_mutex_unlock(&cc->lock);
	return gen;
}

static void page_list_add(struct page_desc *pd, struct block *b, unsigned int slot)
{
	b->page_next[slot] = (struct block *)pd->blocks;
	pd->blocks = (uintptr_t)b | slot;
}

static void page_list_remove(struct page_desc *pd, struct block *b)
{
	uintptr_t *link = &pd->blocks;

	while (*link) {
		struct block *cur = (struct block *)(*link & ~(uintptr_t)1);
		unsigned int slot = *link & 1;

		if (cur == b) {
			*link = (uintptr_t)cur->page_next[slot];
			return;
		}
		link = (uintptr_t *)&cur->page_next[slot];
	}
}

static void hash_remove(struct code_cache *cc, struct block *b)
{
	struct block **link = &cc->hash[hash_of(b->pc, b->phys, b->mode)];

	while (*link) {
		if (*link == b) {
			__atomic_store_n(link, b->hash_next, __ATOMIC_RELEASE);
			return;
		}
		link = &(*link)->hash_next;
	}
}

/* Makes every vCPU leave b at its next instruction; b stays readable. */
static void block_kill(struct code_cache *cc, struct block *b)
{
	b->valid = false;
	jit_block_killed(cc->svm->jit, __atomic_exchange_n(&b->insns[0].fn, op_stale, __ATOMIC_ACQ_REL));
	for (unsigned int i = 1; i < b->ninsns; i++)
		__atomic_store_n(&b->insns[i].fn, op_stale, __ATOMIC_RELAXED);
	hash_remove(cc, b);
	cc->stats.invalidations++;
}

void code_page_invalidate(struct soft_cpu *cpu, u64 gpa_page)
{
	struct code_cache *cc = cpu->svm->cache;
	struct page_desc *pd = page_desc(cc, gpa_page);
	uintptr_t p;

	if (!pd)
		return;
	pthread_mutex_lock(&cc->lock);
	if (!pd->code) {
		pthread_mutex_unlock(&cc->lock);
		return;
	}
	p = pd->blocks;
	while (p) {
		struct block *b = (struct block *)(p & ~(uintptr_t)1);
		unsigned int slot = p & 1;

		p = (uintptr_t)b->page_next[slot];
		block_kill(cc, b);
		/* A block over two pages is also on the other page's list. */
		if (b->phys2 != ~0ULL) {
			u64 other = slot ? PAGE_OF(b->phys) : b->phys2;
			struct page_desc *opd = page_desc(cc, other);

			if (opd && opd != pd)
				page_list_remove(opd, b);
		}
	}
	pd->blocks = 0;
	pd->gen++;
	__atomic_store_n(&pd->code, false, __ATOMIC_SEQ_CST);
	cpu->stats.smc_invalidations++;
	pthread_mutex_unlock(&cc->lock);
}

static struct block *hash_lookup(struct code_cache *cc, u64 pc, u64 cs_base, u64 phys, u32 mode)
{
	struct block *b = __atomic_load_n(&cc->hash[hash_of(pc, phys, mode)], __ATOMIC_ACQUIRE);

	for (; b; b = __atomic_load_n(&b->hash_next, __ATOMIC_ACQUIRE))
		if (b->pc == pc && b->phys == phys && b->mode == mode && b->cs_base == cs_base &&
		    b->valid)
			return b;
	return NULL;
}

static _Noreturn void fatal(struct soft_cpu *cpu, const char *why)
{
	cpu->fatal = why;
	cpu_exit_loop(cpu);
}

/*
 * 16-byte aligned, not cache-line aligned: the 104-byte header spans two
 * lines either way, and rounding to 64 cost 5% of the arena (a Linux boot:
 * 401 bytes a block on average, 380 now) with no difference in speed.
 */
static size_t block_bytes(unsigned int ninsns)
{
	return ALIGN_UP(sizeof(struct block) + ninsns * sizeof(struct insn), 16);
}

/* With cc->lock held; NULL when the arena is full. */
static struct block *block_alloc(struct code_cache *cc, unsigned int ninsns)
{
	size_t size = block_bytes(ninsns);
	struct block *b;

	if (cc->used + size > cc->size)
		return NULL;
	b = (struct block *)(cc->arena + cc->used);
	cc->used += size;
	return b;
}

/*
 * Entering and leaving block execution (soft.c, around cpu_exec()). A
 * full flush waits until no other vCPU is between the two.
 */
void code_cache_enter_exec(struct soft_cpu *cpu)
{
	struct code_cache *cc = cpu->svm->cache;

	for (;;) {
		__atomic_store_n(&cpu->exec_active, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&cc->flush_pending, __ATOMIC_SEQ_CST))
			break;
		__atomic_store_n(&cpu->exec_active, 0, __ATOMIC_SEQ_CST);
		code_cache_quiesce(cpu);
	}
	cpu->last_block = NULL;
}

void code_cache_leave_exec(struct soft_cpu *cpu)
{
	__atomic_store_n(&cpu->exec_active, 0, __ATOMIC_SEQ_CST);
}

void code_cache_quiesce(struct soft_cpu *cpu)
{
	struct code_cache *cc = cpu->svm->cache;

	__atomic_and_fetch(cpu->reqs, ~SOFT_REQ_TB_FLUSH, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&cc->flush_lock);
	while (__atomic_load_n(&cc->flush_pending, __ATOMIC_SEQ_CST))
		pthread_cond_wait(&cc->flush_cond, &cc->flush_lock);
	pthread_mutex_unlock(&cc->flush_lock);
}

/* Guest instructions run by every vCPU so far; they are all stopped. */
static u64 insns_run(const struct soft_vm *svm)
{
	u64 n = 0;

	for (unsigned int i = 0; i < svm->nr_cpus; i++)
		if (svm->cpus[i])
			n += svm->cpus[i]->stats.insns;
	return n;
}

/*
 * Everything translated goes, and its memory back to the host; every vCPU
 * is outside of blocks.
 */
static void flush_everything(struct code_cache *cc)
{
	struct soft_vm *svm = cc->svm;

	pthread_mutex_lock(&cc->lock);
	madvise(cc->arena, cc->used, MADV_DONTNEED);
	cc->used = 0;
	cc->size = code_budget_flushed(&cc->budget, insns_run(svm), cc->stats.translated_insns);
	memset(cc->hash, 0, (1u << HASH_BITS) * sizeof(*cc->hash));
	for (unsigned int i = 0; i < cc->nr_regions; i++) {
		struct region_pages *r = &cc->regions[i];

		for (u64 p = 0; p < r->npages; p++) {
			struct page_desc *pd = &r->pages[p];

			if (pd->blocks || pd->code) {
				pd->blocks = 0;
				pd->gen++;
				__atomic_store_n(&pd->code, false, __ATOMIC_SEQ_CST);
			}
		}
	}
	for (unsigned int i = 0; i < svm->nr_cpus; i++) {
		struct soft_cpu *c = svm->cpus[i];

		if (c) {
			memset(c->jmp_cache, 0, sizeof(c->jmp_cache));
			c->last_block = NULL;
		}
	}
	jit_arena_reset(svm->jit, cc->size);
	__atomic_store_n(&cc->stats.flushes, cc->stats.flushes + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&cc->lock);
}

/* How many full flushes so far: a flush decided before another happened is moot. */
static u64 flush_count(struct code_cache *cc)
{
	return __atomic_load_n(&cc->stats.flushes, __ATOMIC_ACQUIRE);
}

/*
 * A cache is full: stop every other vCPU at a block boundary (or in HLT,
 * or paused), drop everything, let them go. Called by a translating vCPU
 * with no lock held and no block on its stack; seen is flush_count() when
 * it found the cache full, so that two vCPUs finding it full flush once.
 */
static void code_cache_flush(struct soft_cpu *cpu, u64 seen)
{
	struct code_cache *cc = cpu->svm->cache;
	struct soft_vm *svm = cpu->svm;

	pthread_mutex_lock(&cc->flush_lock);
	if (__atomic_load_n(&cc->flush_pending, __ATOMIC_SEQ_CST) || flush_count(cc) != seen) {
		/* Another vCPU is flushing or has flushed: wait for it like everyone else. */
		pthread_mutex_unlock(&cc->flush_lock);
		code_cache_leave_exec(cpu);
		code_cache_quiesce(cpu);
		__atomic_store_n(&cpu->exec_active, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_store_n(&cc->flush_pending, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&cc->flush_lock);
	code_cache_leave_exec(cpu);

	for (unsigned int i = 0; i < svm->nr_cpus; i++) {
		struct soft_cpu *c = svm->cpus[i];

		if (!c || c == cpu)
			continue;
		__atomic_or_fetch(c->reqs, SOFT_REQ_TB_FLUSH, __ATOMIC_SEQ_CST);
		soft_cpu_wake(c);
	}
	for (unsigned int i = 0; i < svm->nr_cpus; i++) {
		struct soft_cpu *c = svm->cpus[i];

		while (c && c != cpu && __atomic_load_n(&c->exec_active, __ATOMIC_SEQ_CST))
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
	}
	flush_everything(cc);

	pthread_mutex_lock(&cc->flush_lock);
	__atomic_store_n(&cc->flush_pending, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&cc->flush_cond);
	pthread_mutex_unlock(&cc->flush_lock);
	__atomic_store_n(&cpu->exec_active, 1, __ATOMIC_SEQ_CST);
}

static bool is_jcc(const struct insn *in)
{
	return (in->opcode >= 0x70 && in->opcode <= 0x7f) ||
	       (in->opcode >= 0x180 && in->opcode <= 0x18f);
}

/* CMP/TEST right before the block's closing Jcc run as one handler. */
static void fuse_cmp_jcc(struct insn *tmp, unsigned int n)
{
	struct insn *c, *j;
	unsigned int s;

	if (n < 2)
		return;
	c = &tmp[n - 2];
	j = &tmp[n - 1];
	if (!is_jcc(j) || (c->osize != 4 && c->osize != 8))
		return;
	s = c->osize == 8 ? 3 : 2;
	for (unsigned int test = 0; test < 2; test++) {
		const insn_fn (*forms)[4] = op_alu[test ? ALU_TEST : ALU_CMP];

		if (c->fn == forms[FORM_RR][s])
			c->fn = op_fused_cmp_jcc[test][0][s == 3][j->sub];
		else if (c->fn == forms[FORM_RI][s])
			c->fn = op_fused_cmp_jcc[test][1][s == 3][j->sub];
	}
}

/* Decodes from lin (host bytes at hva) and publishes the block. */
static struct block *translate(struct soft_cpu *cpu, u64 pc, u64 cs_base, u64 lin,
			       u64 phys, const u8 *hva, u32 mode)
{
	struct code_cache *cc = cpu->svm->cache;
	struct insn tmp[BLOCK_MAX_INSNS + 1];
	unsigned int max = (mode & BLOCK_MODE_SINGLE_STEP) ? 1 : BLOCK_MAX_INSNS;
	unsigned int n, tries = 0;
	u32 gen1, gen2 = 0;
	u64 phys2;
	struct block *b;
	u64 seen;

retry:
	seen = flush_count(cc);
	if (jit_arena_wants_flush(cpu->svm->jit)) {
		code_cache_flush(cpu, seen);
		seen = flush_count(cc);
	}
	gen1 = page_mark_code(cc, PAGE_OF(phys));
	phys2 = ~0ULL;
	n = 0;
	{
		unsigned int off = lin & 0xfff;
		u64 cur_pc = pc;

		while (n < max) {
			const u8 *src = hva + (off - (lin & 0xfff));
			size_t avail = 0x1000 - off;
			int ret;

			ret = decode_insn(src, avail >= 15 ? 15 : avail, cpu->mode, cur_pc, &tmp[n]);
			if (ret == DECODE_NEED_MORE) {
				u8 buf[15];
				u64 lin2 = (PAGE_OF(lin) + 0x1000) & cpu->lin_mask, gpa2;
				const u8 *h2;

				/* Only a block's first instruction may cross a page. */
				if (n > 0)
					break;
				h2 = mem_fetch_ptr(cpu, lin2, &gpa2);
				if (!h2)
					fatal(cpu, "instruction fetch from outside RAM");
				gen2 = page_mark_code(cc, PAGE_OF(gpa2));
				phys2 = PAGE_OF(gpa2);
				memcpy(buf, src, avail);
				memcpy(buf + avail, h2, 15 - avail);
				ret = decode_insn(buf, 15, cpu->mode, cur_pc, &tmp[n]);
			}
			if (ret < 0) {
				memset(&tmp[n], 0, sizeof(tmp[n]));
				tmp[n].fn = op_insn_too_long;
				tmp[n].dflags = DF_END;
				tmp[n].idx = n;
				tmp[n].pcoff = cur_pc - pc;
				n++;
				break;
			}
			tmp[n].idx = n;
			tmp[n].pcoff = cur_pc - pc;
			n++;
			off += ret;
			cur_pc += ret;
			if ((tmp[n - 1].dflags & DF_END) || off >= 0x1000 || phys2 != ~0ULL)
				break;
		}
	}
	fuse_cmp_jcc(tmp, n);
	/* The sentinel: falls through to whatever follows. */
	memset(&tmp[n], 0, sizeof(tmp[n]));
	tmp[n].fn = op_block_end;
	tmp[n].idx = n;
	tmp[n].pcoff = n ? tmp[n - 1].pcoff + tmp[n - 1].len : 0;

	pthread_mutex_lock(&cc->lock);
	{
		struct page_desc *pd1 = page_desc(cc, phys), *pd2 = NULL;

		if (phys2 != ~0ULL)
			pd2 = page_desc(cc, phys2);
		if (pd1->gen != gen1 || !pd1->code || (pd2 && (pd2->gen != gen2 || !pd2->code))) {
			/* A store hit the code while we decoded it. */
			pthread_mutex_unlock(&cc->lock);
			if (++tries > 100)
				fatal(cpu, "code keeps changing under translation");
			goto retry;
		}
		b = block_alloc(cc, n + 1);
		if (!b) {
			pthread_mutex_unlock(&cc->lock);
			if (block_bytes(n + 1) > cc->size)
				fatal(cpu, "translated-code cache too small");
			code_cache_flush(cpu, seen);
			if (++tries > 100)
				fatal(cpu, "translated-code cache keeps filling up");
			goto retry;
		}
		memset(b, 0, sizeof(*b));
		b->pc = pc;
		b->cs_base = cs_base;
		b->lin = lin;
		b->phys = phys;
		b->phys2 = phys2;
		b->hva = (uintptr_t)hva;
		b->mode = mode;
		b->n = n;
		b->ninsns = n + 1;
		for (unsigned int i = 0; i < n; i++)
			b->nmem += !!(tmp[i].flags & INSN_MEM);
		memcpy(b->insns, tmp, (n + 1) * sizeof(struct insn));
		b->valid = true;
		page_list_add(pd1, b, 0);
		if (pd2 && pd2 != pd1)
			page_list_add(pd2, b, 1);
		{
			struct block **head = &cc->hash[hash_of(pc, phys, mode)];

			b->hash_next = *head;
			__atomic_store_n(head, b, __ATOMIC_RELEASE);
		}
		cc->stats.blocks++;
		cc->stats.translated_insns += n;
		cc->stats.bytes_used = cc->used;
	}
	pthread_mutex_unlock(&cc->lock);
	return b;
}

/* Does the second page of b still map where it did? (No faults here.) */
static bool phys2_matches(struct soft_cpu *cpu, const struct block *b)
{
	u64 lin2 = (PAGE_OF(b->lin) + 0x1000) & cpu->lin_mask, gpa;
	unsigned int idx = (lin2 >> 12) & (TLB_SIZE - 1);
	const struct tlb_extra *x = &cpu->tlbx[cpu_user(cpu)][idx];

	if (x->vtag_x == PAGE_OF(lin2))
		return x->gpa == b->phys2;
	return mmu_probe(cpu, lin2, &gpa) && PAGE_OF(gpa) == b->phys2;
}

struct block *block_find(struct soft_cpu *cpu)
{
	u64 pc = cpu->rip, cs_base = cpu->seg_base[SEG_CS];
	u64 lin = (cs_base + pc) & cpu->lin_mask;
	u32 mode = cpu->mode |
		   (cpu->single_step || cpu->step_once || (cpu->rflags & RFLAGS_TF) ?
		    BLOCK_MODE_SINGLE_STEP : 0);
	unsigned int idx = (lin >> 12) & (TLB_SIZE - 1);
	const struct tlb_entry *e = &cpu->tlb[idx];
	unsigned int jc = jmp_cache_slot(pc);
	const u8 *hva;
	u64 phys;
	struct block *b;

	if (likely(e->tag_x == PAGE_OF(lin))) {
		phys = cpu->tlbx[cpu_user(cpu)][idx].gpa | (lin & 0xfff);
		hva = (const u8 *)(uintptr_t)(lin + e->addend);
	} else {
		hva = mem_fetch_ptr(cpu, lin, &phys);
		if (!hva)
			fatal(cpu, "instruction fetch from outside RAM");
	}
	b = cpu->jmp_cache[jc];
	if (b && b->pc == pc && b->phys == phys && b->mode == mode && b->cs_base == cs_base &&
	    b->valid && (b->phys2 == ~0ULL || phys2_matches(cpu, b))) {
		cpu->stats.jc_hits++;
		return b;
	}
	cpu->stats.jc_misses++;
	b = hash_lookup(cpu->svm->cache, pc, cs_base, phys, mode);
	if (!b || (b->phys2 != ~0ULL && !phys2_matches(cpu, b)))
		b = translate(cpu, pc, cs_base, lin, phys, hva, mode);
	cpu->jmp_cache[jc] = b;
	return b;
}

void block_hot(struct soft_cpu *cpu, struct block *b)
{
	if (cpu->jit_threshold)		/* not a count that wrapped around */
		jit_compile(cpu, b);
}

void block_chain(struct block *prev, unsigned int k, struct block *next)
{
	if ((prev->mode & BLOCK_MODE_SINGLE_STEP) ||
	    PAGE_OF(prev->lin) != PAGE_OF(next->lin) || next->phys2 != ~0ULL ||
	    prev->mode != next->mode || prev->cs_base != next->cs_base || !next->valid)
		return;
	__atomic_store_n(&prev->chain[k], next, __ATOMIC_RELAXED);
}

void code_cache_get_stats(struct code_cache *cc, struct code_cache_stats *st)
{
	pthread_mutex_lock(&cc->lock);
	*st = cc->stats;
	st->bytes_used = cc->used;
	pthread_mutex_unlock(&cc->lock);
}

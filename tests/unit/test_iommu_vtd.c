// SPDX-License-Identifier: Apache-2.0
/* The VT-d model: registers, the DMA remapping walk, faults, queued invalidation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vtd_harness.h"

#define DATA_PAGE	0x300000ULL

static void registers_and_capabilities(void **state)
{
	struct vm *vm = h_create(true, true);
	u64 cap, ecap;

	(void)state;
	assert_non_null(vm);
	assert_int_equal(reg_read(vm, VTD_REG_VER, 4), 0x10);
	cap = reg_read(vm, VTD_REG_CAP, 8);
	ecap = reg_read(vm, VTD_REG_ECAP, 8);
	/* What kvm-unit-tests checks: 39-bit AGAW and both large page sizes. */
	assert_true(cap & VTD_CAP_SAGAW_39);
	assert_true((cap & (VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G)) ==
		    (VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G));
	assert_int_equal((cap >> 16) & 0x3f, VTD_MGAW - 1);
	/* The fault record and IOTLB registers are where CAP and ECAP say. */
	assert_int_equal(((cap >> 24) & 0x3ff) * 16, VTD_REG_FRCD);
	assert_int_equal(((ecap >> 8) & 0x3ff) * 16, VTD_REG_IVA);
	assert_true(ecap & VTD_ECAP_QI);
	assert_true(ecap & VTD_ECAP_IR);
	/* The halves of a 64-bit register read as 32-bit registers. */
	assert_int_equal(reg_read(vm, VTD_REG_CAP + 4, 4), cap >> 32);
	/* Read-only registers ignore writes; GCMD reads 0. */
	reg_write(vm, VTD_REG_CAP, 0, 8);
	assert_int_equal(reg_read(vm, VTD_REG_CAP, 8), cap);
	assert_int_equal(reg_read(vm, VTD_REG_GSTS, 4), 0);
	assert_int_equal(reg_read(vm, VTD_REG_FSTS, 4), 0);
	vm_destroy(vm);

	/* Without intremap, no IR: IRTA and GCMD.IRE stay clear. */
	vm = h_create(true, false);
	assert_non_null(vm);
	assert_false(reg_read(vm, VTD_REG_ECAP, 8) & VTD_ECAP_IR);
	reg_write(vm, VTD_REG_IRTA, H_IRT | 0xf, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IRTA, 8), 0);
	gcmd_set(vm, VTD_GCMD_IRE);
	assert_int_equal(reg_read(vm, VTD_REG_GSTS, 4), 0);
	assert_null(vm->iommu->ops->remap_msi);
	vm_destroy(vm);
}

static void global_command_and_status(void **state)
{
	struct vm *vm = h_create(true, true);

	(void)state;
	/* A 64-bit register written in 32-bit halves, reserved bits dropped. */
	reg_write(vm, VTD_REG_RTADDR, (u32)H_ROOT | 0xfff, 4);
	reg_write(vm, VTD_REG_RTADDR + 4, 0x1, 4);
	assert_int_equal(reg_read(vm, VTD_REG_RTADDR, 8), 0x100000000ULL | H_ROOT);
	reg_write(vm, VTD_REG_RTADDR, H_ROOT, 8);
	gcmd_set(vm, VTD_GCMD_SRTP);
	assert_int_equal(reg_read(vm, VTD_REG_GSTS, 4), VTD_GCMD_SRTP);
	gcmd_set(vm, VTD_GCMD_QIE);
	reg_write(vm, VTD_REG_IRTA, H_IRT | 0xf, 8);
	gcmd_set(vm, VTD_GCMD_SIRTP);
	gcmd_set(vm, VTD_GCMD_TE);
	gcmd_set(vm, VTD_GCMD_IRE);
	assert_int_equal(reg_read(vm, VTD_REG_GSTS, 4),
			 VTD_GCMD_SRTP | VTD_GCMD_QIE | VTD_GCMD_SIRTP | VTD_GCMD_TE | VTD_GCMD_IRE);
	/* Clearing a bit turns its status off; the pointers stay latched. */
	reg_write(vm, VTD_REG_GCMD, (u32)reg_read(vm, VTD_REG_GSTS, 4) & ~VTD_GCMD_TE, 4);
	assert_false(reg_read(vm, VTD_REG_GSTS, 4) & VTD_GCMD_TE);
	assert_true(reg_read(vm, VTD_REG_GSTS, 4) & VTD_GCMD_SRTP);
	/* Odd sizes and misaligned writes are ignored. */
	reg_write(vm, VTD_REG_GCMD, 0, 1);
	reg_write(vm, VTD_REG_RTADDR + 2, 0, 4);
	assert_true(reg_read(vm, VTD_REG_GSTS, 4) & VTD_GCMD_IRE);
	assert_int_equal(reg_read(vm, VTD_REG_RTADDR, 8), H_ROOT);
	/* Register-based invalidation completes at once: ICC and IVT clear. */
	reg_write(vm, VTD_REG_CCMD, 1ULL << 63 | 1ULL << 61, 8);
	assert_int_equal(reg_read(vm, VTD_REG_CCMD, 8), 1ULL << 61 | 1ULL << 59);
	reg_write(vm, VTD_REG_IOTLB, 1ULL << 63 | 1ULL << 60, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IOTLB, 8), 1ULL << 60 | 1ULL << 57);
	vm_destroy(vm);
}

static void dma_through_three_and_four_levels(void **state)
{
	const u64 iovas[] = { 0, 0x12345000ULL, (1ULL << 39) - 0x1000 };
	u32 in = 0xcafef00d, out = 0;

	(void)state;
	for (unsigned int aw = 1; aw <= 2; aw++) {
		for (size_t i = 0; i < ARRAY_SIZE(iovas); i++) {
			struct vm *vm = h_create(true, false);

			h_map(vm, aw, iovas[i], DATA_PAGE, 3);
			assert_int_equal(dma_write(vm, H_SID, iovas[i] + 0x10, &in, 4), 0);
			assert_int_equal(guest_read(&vm->mem, DATA_PAGE + 0x10, &out, 4), 0);
			assert_int_equal(out, in);
			out = 0;
			assert_int_equal(dma_read(vm, H_SID, iovas[i] + 0x10, &out, 4), 0);
			assert_int_equal(out, in);
			/* The neighbouring page is not mapped: a read fault, recorded. */
			assert_int_equal(dma_read(vm, H_SID, iovas[i] ^ 0x1000, &out, 4), -1);
			assert_int_equal(h_fault_reason(vm), VTD_FR_READ);
			assert_true(reg_read(vm, VTD_REG_FSTS, 4) & VTD_FSTS_PPF);
			vm_destroy(vm);
		}
	}
}

static void a_transfer_spans_pages(void **state)
{
	struct vm *vm = h_create(true, false);
	u8 in[64], out[64];

	(void)state;
	/* iova 0 -> DATA_PAGE and iova 0x1000 -> DATA_PAGE + 0x5000. */
	h_map(vm, 1, 0, DATA_PAGE, 3);
	put64(vm, H_SL + 0x2000 + 8, (DATA_PAGE + 0x5000) | 3);
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (u8)i;
	assert_int_equal(dma_write(vm, H_SID, 0x1000 - 32, in, sizeof(in)), 0);
	assert_int_equal(guest_read(&vm->mem, DATA_PAGE + 0x1000 - 32, out, 32), 0);
	assert_memory_equal(out, in, 32);
	assert_int_equal(guest_read(&vm->mem, DATA_PAGE + 0x5000, out, 32), 0);
	assert_memory_equal(out, in + 32, 32);
	vm_destroy(vm);
}

static void large_pages_and_pass_through(void **state)
{
	struct vm *vm = h_create(true, false);
	u32 v = 0x11223344, out = 0;

	(void)state;
	h_map(vm, 1, 0, DATA_PAGE, 3);
	/* A 2 MiB page at level 2: iova 0x200000 + x -> 0x400000 + x. */
	put64(vm, H_SL + 0x1000 + 8, 0x400000ULL | 3 | 1 << 7);
	assert_int_equal(dma_write(vm, H_SID, 0x2abcd0, &v, 4), 0);
	assert_int_equal(guest_read(&vm->mem, 0x4abcd0, &out, 4), 0);
	assert_int_equal(out, v);
	/* A misaligned large page is a reserved-field fault. */
	put64(vm, H_SL + 0x1000 + 8, 0x401000ULL | 3 | 1 << 7);
	assert_int_equal(dma_write(vm, H_SID, 0x200000, &v, 4), -1);
	assert_int_equal(h_fault_reason(vm), VTD_FR_PAGING_ENTRY_RESERVED);
	h_fault_clear(vm);
	/* A 1 GiB page at level 3 maps iova 1 GiB + x to RAM at x. */
	put64(vm, H_SL + 8, 0 | 3 | 1 << 7);
	assert_int_equal(dma_read(vm, H_SID, (1ULL << 30) + 0x4abcd0, &out, 4), 0);
	assert_int_equal(out, v);
	/* Pass-through: the address is guest-physical. */
	put64(vm, H_CTX + 16 * (H_SID & 0xff), 2 << 2 | 1);
	out = 0;
	assert_int_equal(dma_read(vm, H_SID, 0x4abcd0, &out, 4), 0);
	assert_int_equal(out, v);
	/* Translation off: the same. */
	reg_write(vm, VTD_REG_GCMD, 0, 4);
	out = 0;
	assert_int_equal(dma_read(vm, H_SID, 0x4abcd0, &out, 4), 0);
	assert_int_equal(out, v);
	assert_int_equal(h_fault_reason(vm), 0);
	vm_destroy(vm);
}

/* One bad table field each; the fault names it, and nothing is transferred. */
static void walk_faults(void **state)
{
	static const struct {
		const char *what;
		u64 gpa, val;		/* the entry the case breaks */
		u64 iova;
		bool write;
		unsigned int reason;
	} cases[] = {
		{ "root not present", H_ROOT, 0, 0, false, VTD_FR_ROOT_NOT_PRESENT },
		{ "root reserved", H_ROOT, H_CTX | 1 | 0x10, 0, false, VTD_FR_ROOT_RESERVED },
		{ "context table out of RAM", H_ROOT, 0xfffff000ULL | 1, 0, false,
		  VTD_FR_CTX_TABLE_ACCESS },
		{ "context not present", H_CTX + 16 * (H_SID & 0xff), 0, 0, false,
		  VTD_FR_CTX_NOT_PRESENT },
		{ "unsupported width", H_CTX + 16 * (H_SID & 0xff) + 8, 3, 0, false,
		  VTD_FR_CTX_INVALID },
		{ "device-TLB type", H_CTX + 16 * (H_SID & 0xff), H_SL | 1 << 2 | 1, 0, false,
		  VTD_FR_CTX_INVALID },
		{ "tables out of RAM", H_CTX + 16 * (H_SID & 0xff), 0xfffff000ULL | 1, 0, false,
		  VTD_FR_CTX_INVALID },
		{ "next level out of RAM", H_SL, 0x7ffff000ULL | 3, 0, false,
		  VTD_FR_PAGING_ENTRY_ACCESS },
		{ "read-only page written", H_SL + 0x2000, DATA_PAGE | 1, 0, true, VTD_FR_WRITE },
		{ "write-only page read", H_SL + 0x2000, DATA_PAGE | 2, 0, false, VTD_FR_READ },
		{ "beyond the width", H_SL, H_SL | 0x1000 | 3, 1ULL << 39, false,
		  VTD_FR_ADDR_BEYOND_AGAW },
		{ "beyond 64 bits of any width", H_SL, H_SL | 0x1000 | 3, ~0ULL << 12, true,
		  VTD_FR_ADDR_BEYOND_AGAW },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vm *vm = h_create(true, false);
		u32 v = 0x5a5a5a5a, out = 0;

		print_message("%s\n", cases[i].what);
		h_map(vm, 1, 0, DATA_PAGE, 3);
		put64(vm, cases[i].gpa, cases[i].val);
		assert_int_equal(cases[i].write ? dma_write(vm, H_SID, cases[i].iova, &v, 4) :
				 dma_read(vm, H_SID, cases[i].iova, &out, 4), -1);
		assert_int_equal(out, 0);
		assert_int_equal(guest_read(&vm->mem, DATA_PAGE, &out, 4), 0);
		assert_int_equal(out, 0);
		assert_int_equal(h_fault_reason(vm), cases[i].reason);
		/* The record names the requester, the page and the access type. */
		u64 hi = reg_read(vm, VTD_REG_FRCD + 8, 8);
		assert_int_equal(hi & 0xffff, H_SID);
		assert_int_equal(!!(hi & VTD_FRCD_T_READ), !cases[i].write);
		assert_int_equal(reg_read(vm, VTD_REG_FRCD, 8), cases[i].iova & ~0xfffULL);
		vm_destroy(vm);
	}
}

static void root_table_out_of_ram(void **state)
{
	struct vm *vm = h_create(true, false);
	u32 out;

	(void)state;
	h_map(vm, 1, 0, DATA_PAGE, 3);
	reg_write(vm, VTD_REG_RTADDR, 0xfffff000ULL, 8);
	gcmd_set(vm, VTD_GCMD_SRTP);
	assert_int_equal(dma_read(vm, H_SID, 0, &out, 4), -1);
	assert_int_equal(h_fault_reason(vm), VTD_FR_ROOT_TABLE_ACCESS);
	/* A page mapped onto MMIO or past RAM is no DMA target either. */
	h_map(vm, 1, 0, 0xfec00000ULL, 3);
	assert_int_equal(dma_read(vm, H_SID, 0, &out, 4), -1);
	vm_destroy(vm);
}

static void fault_recording_and_events(void **state)
{
	struct vm *vm = h_create(true, false);
	u32 out;

	(void)state;
	h_map(vm, 1, 0, DATA_PAGE, 3);
	reg_write(vm, VTD_REG_FEADDR, 0xfee01000, 4);
	reg_write(vm, VTD_REG_FEDATA, 0x61, 4);
	/* Masked (the reset state): the event waits in IP. */
	assert_int_equal(dma_read(vm, H_SID, 0x1000, &out, 4), -1);
	assert_int_equal(msis.n, 0);
	assert_true(reg_read(vm, VTD_REG_FECTL, 4) & VTD_CTL_IP);
	/* A second fault while the record is held overflows. */
	assert_int_equal(dma_read(vm, H_SID, 0x2000, &out, 4), -1);
	assert_int_equal(reg_read(vm, VTD_REG_FSTS, 4), VTD_FSTS_PPF | VTD_FSTS_PFO);
	assert_int_equal(reg_read(vm, VTD_REG_FRCD, 8), 0x1000);
	/* Unmasking sends it. */
	reg_write(vm, VTD_REG_FECTL, 0, 4);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.addr, 0xfee01000);
	assert_int_equal(msis.data, 0x61);
	assert_int_equal(reg_read(vm, VTD_REG_FECTL, 4), 0);
	/* Clearing F (write 1) and PFO empties the status. */
	h_fault_clear(vm);
	assert_int_equal(reg_read(vm, VTD_REG_FSTS, 4), 0);
	/* Unmasked: the next fault sends at once. */
	assert_int_equal(dma_write(vm, H_SID, 0x3000, &out, 4), -1);
	assert_int_equal(msis.n, 2);
	assert_int_equal(h_fault_reason(vm), VTD_FR_WRITE);
	h_fault_clear(vm);
	/* A context entry with FPD set records nothing. */
	put64(vm, H_CTX + 16 * (H_SID & 0xff), H_SL | 2 | 1);
	assert_int_equal(dma_read(vm, H_SID, 0x1000, &out, 4), -1);
	assert_int_equal(h_fault_reason(vm), 0);
	assert_int_equal(msis.n, 2);
	vm_destroy(vm);
}

static void put_desc(struct vm *vm, unsigned int i, u64 lo, u64 hi)
{
	put64(vm, H_IQ + 16 * i, lo);
	put64(vm, H_IQ + 16 * i + 8, hi);
}

static void queued_invalidation(void **state)
{
	struct vm *vm = h_create(true, true);
	u32 status = 0;

	(void)state;
	reg_write(vm, VTD_REG_IQA, H_IQ, 8);	/* 256 descriptors */
	reg_write(vm, VTD_REG_IQT, 0, 8);
	gcmd_set(vm, VTD_GCMD_QIE);
	assert_true(reg_read(vm, VTD_REG_GSTS, 4) & VTD_GCMD_QIE);
	/* Context, IOTLB, interrupt entry cache, then a wait with a status write. */
	put_desc(vm, 0, 0x1 | 1ULL << 4, 0);
	put_desc(vm, 1, 0x2 | 1ULL << 4, 0);
	put_desc(vm, 2, 0x4, 0);
	put_desc(vm, 3, 0x5 | 1ULL << 5 | 1ULL << 4 | 0xabcdULL << 32, DATA_PAGE);
	reg_write(vm, VTD_REG_IEADDR, 0xfee00000, 4);
	reg_write(vm, VTD_REG_IEDATA, 0x62, 4);
	reg_write(vm, VTD_REG_IECTL, 0, 4);
	reg_write(vm, VTD_REG_IQT, 4 << 4, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IQH, 8), 4 << 4);
	assert_int_equal(guest_read(&vm->mem, DATA_PAGE, &status, 4), 0);
	assert_int_equal(status, 0xabcd);
	assert_int_equal(reg_read(vm, VTD_REG_ICS, 4), VTD_ICS_IWC);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.data, 0x62);
	/* Until software clears IWC, another wait raises no new interrupt. */
	put_desc(vm, 4, 0x5 | 1ULL << 4, 0);
	reg_write(vm, VTD_REG_IQT, 5 << 4, 8);
	assert_int_equal(msis.n, 1);
	reg_write(vm, VTD_REG_ICS, VTD_ICS_IWC, 4);
	assert_int_equal(reg_read(vm, VTD_REG_ICS, 4), 0);
	put_desc(vm, 5, 0x5 | 1ULL << 4, 0);
	reg_write(vm, VTD_REG_IQT, 6 << 4, 8);
	assert_int_equal(msis.n, 2);
	reg_write(vm, VTD_REG_ICS, VTD_ICS_IWC, 4);
	/* Back to an empty queue at 4, as the rest of the test expects. */
	reg_write(vm, VTD_REG_GCMD, 0, 4);
	reg_write(vm, VTD_REG_IQT, 0, 8);
	gcmd_set(vm, VTD_GCMD_QIE);
	put_desc(vm, 0, 0x1, 0);
	put_desc(vm, 1, 0x1, 0);
	put_desc(vm, 2, 0x1, 0);
	put_desc(vm, 3, 0x1, 0);
	reg_write(vm, VTD_REG_IQT, 4 << 4, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IQH, 8), 4 << 4);
	/* An unknown descriptor stops the queue on it with IQE. */
	put_desc(vm, 4, 0x3, 0);	/* device-TLB: ECAP.DT is clear */
	put_desc(vm, 5, 0x1, 0);
	reg_write(vm, VTD_REG_IQT, 6 << 4, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IQH, 8), 4 << 4);
	assert_true(reg_read(vm, VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
	/* Fixed and the error cleared, it goes on. */
	put_desc(vm, 4, 0x1, 0);
	reg_write(vm, VTD_REG_FSTS, VTD_FSTS_IQE, 4);
	reg_write(vm, VTD_REG_IQT, 6 << 4, 8);
	assert_int_equal(reg_read(vm, VTD_REG_IQH, 8), 6 << 4);
	/* A wait whose status address is not RAM is an error, not a crash. */
	put_desc(vm, 6, 0x5 | 1ULL << 5, 0xfffff000ULL);
	reg_write(vm, VTD_REG_IQT, 7 << 4, 8);
	assert_true(reg_read(vm, VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
	reg_write(vm, VTD_REG_FSTS, VTD_FSTS_IQE, 4);
	/* A queue outside RAM, and a tail past the queue's end. */
	reg_write(vm, VTD_REG_IQA, 0xfffff000ULL, 8);
	reg_write(vm, VTD_REG_IQT, 8 << 4, 8);
	assert_true(reg_read(vm, VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
	reg_write(vm, VTD_REG_FSTS, VTD_FSTS_IQE, 4);
	reg_write(vm, VTD_REG_IQA, H_IQ, 8);
	reg_write(vm, VTD_REG_IQT, 300 << 4, 8);
	assert_true(reg_read(vm, VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
	vm_destroy(vm);
}

/* xorshift64: the same "random" tables on every run. */
static u64 next_rand(u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Tables full of garbage, some entries pointing back into the tables so
 * that walks go deep: every access either translates inside RAM or is
 * refused, never anything else (ASan checks the rest).
 */
static void garbage_tables_stay_in_bounds(void **state)
{
	struct vm *vm = h_create(true, true);
	u64 x = 0x9e3779b97f4a7c15ULL;
	unsigned int translated = 0, refused = 0;

	(void)state;
	h_map(vm, 1, 0, DATA_PAGE, 3);
	reg_write(vm, VTD_REG_IRTA, H_IRT | 0xf, 8);
	gcmd_set(vm, VTD_GCMD_SIRTP);
	gcmd_set(vm, VTD_GCMD_IRE);
	for (unsigned int round = 0; round < 200; round++) {
		/* Scribble over the root, context and second-level tables and the IRT. */
		for (unsigned int i = 0; i < 4; i++) {
			u64 r = next_rand(&x);
			u64 gpa = H_ROOT + (next_rand(&x) % 0x5000 & ~7ULL);

			if (r & 1)
				r = (H_ROOT + (r % 0x5000)) | (r & 0x8f);	/* back into the tables */
			put64(vm, gpa, r);
			put64(vm, H_IRT + (next_rand(&x) % 0x1000 & ~7ULL), next_rand(&x));
		}
		for (unsigned int i = 0; i < 32; i++) {
			u64 iova = (x & 2) ? next_rand(&x) % 0x400000 : next_rand(&x) >> (x % 64);
			u16 sid = (x & 4) ? H_SID : (u16)next_rand(&x);
			u64 gpa, span;
			u64 len = 1 + next_rand(&x) % 0x3000, addr = 0xfee00010 | (x & 0xffffc);
			u32 data = (u32)next_rand(&x);
			bool write = x & 1;

			if (vm->iommu->ops->translate(vm->iommu->opaque, sid, iova, len,
						      write, &gpa, &span) == 0) {
				assert_true(span > 0 && span <= len);
				translated++;
			} else {
				refused++;
			}
			/* Whatever the table holds, a delivered message stays an interrupt. */
			if (iommu_remap_msi(vm, (u32)(x & 0xffff), &addr, &data) == 0)
				assert_int_equal(addr >> 20, 0xfee);
			h_fault_clear(vm);
		}
	}
	print_message("%u translated, %u refused\n", translated, refused);
	assert_true(refused > 0 && translated > 0);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registers_and_capabilities),
		cmocka_unit_test(global_command_and_status),
		cmocka_unit_test(dma_through_three_and_four_levels),
		cmocka_unit_test(a_transfer_spans_pages),
		cmocka_unit_test(large_pages_and_pass_through),
		cmocka_unit_test(walk_faults),
		cmocka_unit_test(root_table_out_of_ram),
		cmocka_unit_test(fault_recording_and_events),
		cmocka_unit_test(queued_invalidation),
		cmocka_unit_test(garbage_tables_stay_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

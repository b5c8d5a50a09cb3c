/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_UNIT_VTD_HARNESS_H
#define KILN_TESTS_UNIT_VTD_HARNESS_H

/*
 * A fake VM with 16 MiB of RAM and a VT-d unit, an engine that records the
 * MSIs it is asked to deliver, and helpers that write VT-d tables into
 * guest RAM as a driver would. Header-only, for the iommu and edu tests.
 */

#include "dev_fake_vm.h"
#include "iommu/iommu.h"
#include "iommu/vtd.h"
#include "machine/layout.h"

#define H_RAM		(16 * MiB)
#define H_ROOT		0x100000ULL	/* root table */
#define H_CTX		0x101000ULL	/* context table of bus 0 */
#define H_SL		0x102000ULL	/* second-level tables, one page per level */
#define H_IRT		0x110000ULL	/* interrupt remapping table */
#define H_IQ		0x120000ULL	/* invalidation queue */
#define H_SID		0x0018		/* 00:03.0 */

struct msi_log {
	unsigned int n;
	u64 addr;
	u32 data;
};

static struct msi_log msis;
static struct engine_ops recording_engine;

static void record_msi(struct vm *vm, u64 addr, u32 data)
{
	(void)vm;
	msis.n++;
	msis.addr = addr;
	msis.data = data;
}

/* intremap: advertise interrupt remapping. */
static inline struct vm *h_create(bool with_vtd, bool intremap)
{
	struct vm *vm = fake_vm_create(H_RAM);

	if (!vm)
		return NULL;
	recording_engine = fake_engine_ops;
	recording_engine.send_msi = record_msi;
	vm->engine = &recording_engine;
	memset(&msis, 0, sizeof(msis));
	if (with_vtd && vtd_create(vm, intremap)) {
		vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static inline u64 reg_read(struct vm *vm, u32 off, unsigned int len)
{
	u64 v = 0;

	bus_read(&vm->mmio_bus, LAYOUT_VTD_BASE + off, &v, len);
	return v;
}

static inline void reg_write(struct vm *vm, u32 off, u64 v, unsigned int len)
{
	bus_write(&vm->mmio_bus, LAYOUT_VTD_BASE + off, &v, len);
}

static inline void put64(struct vm *vm, u64 gpa, u64 v)
{
	if (guest_write(&vm->mem, gpa, &v, 8))
		abort();
}

/* Sets GCMD's bit cmd on top of what GSTS shows, as drivers do. */
static inline void gcmd_set(struct vm *vm, u32 cmd)
{
	reg_write(vm, VTD_REG_GCMD, (u32)reg_read(vm, VTD_REG_GSTS, 4) | cmd, 4);
}

/*
 * Root entry for bus 0 -> context entry for H_SID (address width aw:
 * 1 = 39 bits, 2 = 48) -> one chain of tables mapping iova's 4 KiB page to
 * gpa with rights rw (bit 0 R, bit 1 W); TE on.
 */
static inline void h_map(struct vm *vm, unsigned int aw, u64 iova, u64 gpa, u64 rw)
{
	unsigned int levels = aw + 2;

	put64(vm, H_ROOT, H_CTX | 1);
	put64(vm, H_ROOT + 8, 0);
	put64(vm, H_CTX + 16 * (H_SID & 0xff), H_SL | 1);
	put64(vm, H_CTX + 16 * (H_SID & 0xff) + 8, aw | (u64)H_SID << 8);
	for (unsigned int l = levels; l >= 1; l--) {
		u64 table = H_SL + 0x1000ULL * (levels - l);
		u64 index = (iova >> (12 + 9 * (l - 1))) & 511;

		put64(vm, table + 8 * index, l == 1 ? gpa | rw : (table + 0x1000) | 3);
	}
	reg_write(vm, VTD_REG_RTADDR, H_ROOT, 8);
	gcmd_set(vm, VTD_GCMD_SRTP);
	gcmd_set(vm, VTD_GCMD_TE);
}

/* The fault recorded last: reason, or 0 when no record is held. */
static inline unsigned int h_fault_reason(struct vm *vm)
{
	u64 hi = reg_read(vm, VTD_REG_FRCD + 8, 8);

	return (hi & VTD_FRCD_F) ? (unsigned int)((hi >> VTD_FRCD_FR_SHIFT) & 0xff) : 0;
}

/* Clears the fault record and the overflow bit, as a fault handler does. */
static inline void h_fault_clear(struct vm *vm)
{
	reg_write(vm, VTD_REG_FRCD + 12, VTD_FRCD_F >> 32, 4);
	reg_write(vm, VTD_REG_FSTS, VTD_FSTS_PFO | VTD_FSTS_IQE, 4);
}

#endif
